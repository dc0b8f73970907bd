-- LuaJIT version of mandelbrot.lua (LuaJIT has Lua 5.1's syntax: no // or << operators, so
-- math.floor(a / bit) and 2 ^ k stand for them; both are exact on these small integers).
-- AWFY Mandelbrot: renders a 500x500 bitmap (at most 50 iterations a point), xoring its bytes.
-- Verification: 191 for size 500 (prints ok when reached). Size: SIZE = 500, as mandelbrot.echo.

-- As in mandelbrot.echo, which has no bitwise operators: the bytes are combined by a bit-by-bit
-- xor with floored division and %, and byte_acc << 1 | escape is byte_acc * 2 + escape.
local function xor_byte(a, b)
  local result = 0
  local bit = 1
  while bit < 256 do
    if math.floor(a / bit) % 2 ~= math.floor(b / bit) % 2 then result = result + bit end
    bit = bit * 2
  end
  return result
end

local function mandelbrot(size)
  local sum = 0
  local byte_acc = 0
  local bit_num = 0
  local y = 0
  while y < size do
    local ci = 2.0 * y / size - 1.0
    local x = 0
    while x < size do
      local zr = 0.0
      local zrzr = 0.0
      local zi = 0.0
      local zizi = 0.0
      local cr = 2.0 * x / size - 1.5
      local z = 0
      local not_done = true
      local escape = 0
      while not_done and z < 50 do
        -- As in the suite, zi is computed from the zr just updated.
        zr = zrzr - zizi + cr
        zi = 2.0 * zr * zi + ci
        zrzr = zr * zr
        zizi = zi * zi
        if zrzr + zizi > 4.0 then
          not_done = false
          escape = 1
        end
        z = z + 1
      end
      byte_acc = byte_acc * 2 + escape
      bit_num = bit_num + 1
      if bit_num == 8 then
        sum = xor_byte(sum, byte_acc)
        byte_acc = 0
        bit_num = 0
      elseif x == size - 1 then
        -- Pad the last byte of a row: byte_acc << (8 - bit_num), an int power of two as
        -- Echo's pow(2, 8 - bit_num).
        byte_acc = byte_acc * 2 ^ (8 - bit_num)
        sum = xor_byte(sum, byte_acc)
        byte_acc = 0
        bit_num = 0
      end
      x = x + 1
    end
    y = y + 1
  end
  return sum
end

-- The suite's published results, by size.
local function verify_result(result, size)
  if size == 500 then return result == 191 end
  if size == 750 then return result == 50 end
  if size == 1 then return result == 128 end
  return false
end

-- The harness: one run with SIZE, verified as the suite does; prints ok, as mandelbrot.echo.
local SIZE = 500
local result = mandelbrot(SIZE)
if not verify_result(result, SIZE) then
  error("Mandelbrot: unexpected result " .. tostring(result))
end
print("Mandelbrot ok")
