-- Nested loops: for over a range, while and for, with data-dependent break and continue.
-- Checksum: 1447578 18000 59073 (every round must reproduce it). Size: ITERATIONS = 50 rounds.

local function round_once()
  local count = 0
  local skipped = 0
  local broken = 0
  for i = 0, 300 - 1 do
    local j = 0
    while j < 300 do
      j = j + 1
      if (i + j) % 5 == 0 then
        skipped = skipped + 1
        goto continue
      end
      for k = 0, 12 - 1 do
        if k * j > i * 4 then
          broken = broken + 1
          break
        end
        count = count + k
      end
      ::continue::
    end
  end
  return {count, skipped, broken}
end

local ITERATIONS = 50
local first = round_once()
for _ = 1, ITERATIONS - 1 do
  local r = round_once()
  for k = 1, 3 do
    if r[k] ~= first[k] then error("loop_nest: rounds disagree") end
  end
end
print(table.concat(first, " "))
