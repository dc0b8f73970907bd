-- AWFY Permute: generates all permutations of a 6-element array by recursive swaps.
-- Verification: 8660 calls per run. Size: ITERATIONS = 500 runs, as permute.echo.
-- (Lua tables count from 1: element i is v[i + 1].)

local Permute = {}
Permute.__index = Permute

function Permute.new() return setmetatable({}, Permute) end

function Permute:run()
  self.count = 0
  self.v = {0, 0, 0, 0, 0, 0}
  self:permute(6)
  return self.count
end

function Permute:permute(n)
  self.count = self.count + 1
  if n ~= 0 then
    local n1 = n - 1
    self:permute(n1)
    local i = n1
    while i >= 0 do
      self:swap(n1, i)
      self:permute(n1)
      self:swap(n1, i)
      i = i - 1
    end
  end
end

function Permute:swap(i, j)
  local tmp = self.v[i + 1]
  self.v[i + 1] = self.v[j + 1]
  self.v[j + 1] = tmp
end

local ITERATIONS = 500
local result
for _ = 1, ITERATIONS do
  result = Permute.new():run()
  if result ~= 8660 then error("Permute: unexpected result " .. tostring(result)) end
end
print("Permute " .. result)
