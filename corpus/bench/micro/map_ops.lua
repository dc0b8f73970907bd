-- Maps: inserts, updates, lookups, has, remove and iteration; 20000 int keys, 2000 string keys.
-- Checksum: 200080000 190006333 19000 2000 (every round must reproduce it).
-- Size: ITERATIONS = 80 rounds. (Lua tables do not count their entries: the counts are kept.)

-- The string keys are made once, so that the rounds time the map, not string building.
local NAMES = {}
for i = 0, 2000 - 1 do NAMES[#NAMES + 1] = "key" .. tostring(i) end

local function round_once()
  local by_int = {}
  local int_count = 0
  for i = 0, 20000 - 1 do
    local k = i * 7919 % 20000
    if by_int[k] == nil then int_count = int_count + 1 end
    by_int[k] = i
  end
  local sum = 0
  for i = 0, 20000 - 1 do sum = sum + by_int[i] end
  for i = 0, 20000 - 1 do
    if i % 3 == 0 then by_int[i] = by_int[i] + 1 end
  end
  local by_name = {}
  local name_count = 0
  for round = 0, 10 - 1 do
    for _, name in ipairs(NAMES) do
      if by_name[name] ~= nil then
        by_name[name] = by_name[name] + round
      else
        by_name[name] = round
        name_count = name_count + 1
      end
    end
  end
  for _, name in ipairs(NAMES) do sum = sum + by_name[name] end
  -- Remove 1000 int keys, then sum what is left by iterating.
  for i = 0, 1000 - 1 do
    by_int[i * 20] = nil
    int_count = int_count - 1
  end
  local rest = 0
  for _, v in pairs(by_int) do rest = rest + v end
  return {sum, rest, int_count, name_count}
end

local ITERATIONS = 80
local first = round_once()
for _ = 1, ITERATIONS - 1 do
  local r = round_once()
  for k = 1, 4 do
    if r[k] ~= first[k] then error("map_ops: rounds disagree") end
  end
end
print(table.concat(first, " "))
