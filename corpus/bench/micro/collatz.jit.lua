-- LuaJIT version of collatz.lua (LuaJIT has Lua 5.1's syntax: no // operator; its numbers are
-- doubles, so halving an even n with / is exact and n stays an integer value).
-- Integer division and remainder: the Collatz sequence of every start value 1..30000 (halve
-- when even, 3n + 1 when odd), counting steps down to 1. Checksum: 2864311 307 26623
-- (total steps, longest, its start; every round must reproduce it). Size: ITERATIONS = 9 rounds.

local function round_once(limit)
  local total = 0
  local longest = 0
  local longest_start = 0
  for start = 1, limit do
    local n = start
    local steps = 0
    while n ~= 1 do
      if n % 2 == 0 then n = n / 2 else n = 3 * n + 1 end
      steps = steps + 1
    end
    total = total + steps
    if steps > longest then
      longest = steps
      longest_start = start
    end
  end
  return {total, longest, longest_start}
end

local ITERATIONS = 9
local first = round_once(30000)
for _ = 1, ITERATIONS - 1 do
  local r = round_once(30000)
  if r[1] ~= first[1] or r[2] ~= first[2] or r[3] ~= first[3] then
    error("collatz: rounds disagree")
  end
end
print(first[1] .. " " .. first[2] .. " " .. first[3])
