-- Lists: push, indexed reads and writes, iteration, len and pop over a 100000-element list.
-- Checksum: 274725000 39246284 174825000 50000 (every round must reproduce it).
-- Size: ITERATIONS = 30 rounds. (Lua tables count from 1; Echo lists from 0.)

local function round_once()
  local xs = {}
  for i = 0, 100000 - 1 do xs[#xs + 1] = i % 1000 end
  -- Indexed read-modify-write.
  local n = #xs
  for i = 1, n do xs[i] = xs[i] * 3 + xs[n + 1 - i] end
  -- Iteration.
  local sum = 0
  for _, x in ipairs(xs) do sum = sum + x end
  -- Strided reads with a while loop.
  local strided = 0
  local i = 1
  while i <= #xs do
    strided = strided + xs[i]
    i = i + 7
  end
  -- Pop half of the list back off.
  local popped = 0
  while #xs > 50000 do popped = popped + table.remove(xs) end
  return {sum, strided, popped, #xs}
end

local ITERATIONS = 30
local first = round_once()
for _ = 1, ITERATIONS - 1 do
  local r = round_once()
  for k = 1, 4 do
    if r[k] ~= first[k] then error("list_ops: rounds disagree") end
  end
end
print(table.concat(first, " "))
