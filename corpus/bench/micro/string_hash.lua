-- Strings: 50000 strings built with .. and tostring, then a polynomial hash of every character
-- read with string.byte(s, j). Checksum: 87581451 733333 (hash, characters; every round must
-- reproduce it). Size: ITERATIONS = 6 rounds.

local function round_once(count)
  local hash = 0
  local chars = 0
  for i = 0, count - 1 do
    local s = "key" .. tostring(i) .. "=" .. tostring(i * 7919 % 100003) .. ";"
    for j = 1, #s do hash = (hash * 31 + string.byte(s, j)) % 1000000007 end
    chars = chars + #s
  end
  return {hash, chars}
end

local ITERATIONS = 6
local first = round_once(50000)
for _ = 1, ITERATIONS - 1 do
  local r = round_once(50000)
  if r[1] ~= first[1] or r[2] ~= first[2] then error("string_hash: rounds disagree") end
end
print(first[1] .. " " .. first[2])
