-- Closures: 300000 calls of closures that update captured variables, 30000 closures made in a
-- loop. Checksum: 449994150000 13 149988 (every round must reproduce it).
-- Size: ITERATIONS = 10 rounds.

local function make_accumulator()
  local total = 0
  local calls = 0
  local add = function(k)
    total = total + k
    calls = calls + 1
    return total
  end
  local read = function() return total * 1000000 + calls end
  return {add, read}
end

local function round_once()
  local acc = make_accumulator()
  local add = acc[1]
  local last = 0
  -- A closure passed to a helper and called from there.
  local twice = function(f, x) return f(f(x) % 97) end
  for i = 0, 150000 - 1 do
    last = add(i % 7)
    last = twice(function(y) return y + 1 end, last)
  end
  -- Closures made in a loop capture a fresh variable per iteration.
  local makers = {}
  for i = 0, 30000 - 1 do makers[#makers + 1] = function() return i % 11 end end
  local sum = 0
  for _, f in ipairs(makers) do sum = sum + f() end
  return {acc[2](), last, sum}
end

local ITERATIONS = 10
local first = round_once()
for _ = 1, ITERATIONS - 1 do
  local r = round_once()
  if r[1] ~= first[1] or r[2] ~= first[2] or r[3] ~= first[3] then
    error("closure_loop: rounds disagree")
  end
end
print(first[1] .. " " .. first[2] .. " " .. first[3])
