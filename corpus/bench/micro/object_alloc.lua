-- Objects: 100000 instances of a subclass allocated per round, one per iteration; its init
-- calls the superclass init, then inherited and own methods run on the new object.
-- Checksum: 6138521 (every round must reproduce it). Size: ITERATIONS = 16 rounds.
-- (Classes are metatables; Box's methods fall back to Shape's through __index.)

local Shape = {}
Shape.__index = Shape

function Shape:init(w, h)
  self.w = w
  self.h = h
end
function Shape:area() return self.w * self.h end
function Shape:perimeter() return 2 * (self.w + self.h) end

local Box = setmetatable({}, {__index = Shape})
Box.__index = Box

function Box.new(w, h, depth)
  local self = setmetatable({}, Box)
  self:init(w, h, depth)
  return self
end
function Box:init(w, h, depth)
  Shape.init(self, w, h)
  self.depth = depth
end
function Box:volume() return self:area() * self.depth end

local function round_once(count)
  local sum = 0
  for i = 0, count - 1 do
    local b = Box.new(i % 13 + 1, i % 7 + 1, i % 5 + 1)
    sum = sum + (b:perimeter() + b:volume() % 100)
  end
  return sum
end

local ITERATIONS = 16
local first = round_once(100000)
for _ = 1, ITERATIONS - 1 do
  if round_once(100000) ~= first then error("object_alloc: rounds disagree") end
end
print(first)
