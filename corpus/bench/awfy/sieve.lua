-- AWFY Sieve: the sieve of Eratosthenes over 5000 flags; counts the primes.
-- Verification: 669 primes per run. Size: ITERATIONS = 1500 runs, as sieve.echo.
-- (Lua tables count from 1: flag i is flags[i].)

local function sieve(flags, size)
  local prime_count = 0
  for i = 2, size do
    if flags[i] then
      prime_count = prime_count + 1
      local k = i + i
      while k <= size do
        flags[k] = false
        k = k + i
      end
    end
  end
  return prime_count
end

local function benchmark()
  local flags = {}
  for i = 1, 5000 do flags[i] = true end
  return sieve(flags, 5000)
end

local ITERATIONS = 1500
local result
for _ = 1, ITERATIONS do
  result = benchmark()
  if result ~= 669 then error("Sieve: unexpected result " .. tostring(result)) end
end
print("Sieve " .. result)
