-- Float arithmetic: 300000 steps of a Leibniz series, a damped spring and an int/float mix.
-- Checksum: 3.141589320256464 -3.0121569233531783e-7 199998.6666666667 (every round must
-- reproduce it). Size: ITERATIONS = 20 rounds.

local function round_once()
  local quarter_pi = 0.0
  local sign = 1.0
  local x = 1.0
  local v = 0.0
  local mixed = 0.0
  for i = 0, 300000 - 1 do
    quarter_pi = quarter_pi + sign / (2 * i + 1.0)
    sign = -sign
    -- A spring with damping, integrated with semi-implicit Euler steps.
    v = v - (x * 0.01 + v * 0.0001)
    x = x + v * 0.01
    mixed = mixed * 0.5 + i / 3.0
  end
  return {quarter_pi * 4, x, mixed}
end

-- Echo's printed form of a float: the shortest digits that read back as the same number,
-- positional for exponents -5 to 15, otherwise d.ddde-x.
local function echo_float(f)
  local s
  for p = 0, 16 do
    s = string.format("%." .. p .. "e", f)
    if tonumber(s) == f then break end
  end
  local sign, int, frac, exp = s:match("^(-?)(%d)%.?(%d*)e([-+]%d+)$")
  local digits = (int .. frac):gsub("0+$", "")
  if digits == "" then digits = "0" end
  exp = tonumber(exp)
  if exp >= -5 and exp <= 15 then
    if exp < 0 then
      return sign .. "0." .. string.rep("0", -exp - 1) .. digits
    elseif #digits <= exp + 1 then
      return sign .. digits .. string.rep("0", exp + 1 - #digits) .. ".0"
    else
      return sign .. digits:sub(1, exp + 1) .. "." .. digits:sub(exp + 2)
    end
  end
  local mantissa = digits:sub(1, 1)
  if #digits > 1 then mantissa = mantissa .. "." .. digits:sub(2) end
  return sign .. mantissa .. "e" .. exp
end

local ITERATIONS = 20
local first = round_once()
for _ = 1, ITERATIONS - 1 do
  local r = round_once()
  if r[1] ~= first[1] or r[2] ~= first[2] or r[3] ~= first[3] then
    error("float_arith: rounds disagree")
  end
end
print(echo_float(first[1]) .. " " .. echo_float(first[2]) .. " " .. echo_float(first[3]))
