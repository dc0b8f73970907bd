-- AWFY Queens: solves the eight queens problem by backtracking, ten times per run.
-- Verification: true per run. Size: ITERATIONS = 700 runs, as queens.echo.
-- (Lua tables count from 1: every board index is shifted by one.)

local Queens = {}
Queens.__index = Queens

local function filled(n, v)
  local t = {}
  for i = 1, n do t[i] = v end
  return t
end

function Queens.new() return setmetatable({}, Queens) end

function Queens:queens()
  self.free_rows = filled(8, true)
  self.free_maxs = filled(16, true)
  self.free_mins = filled(16, true)
  self.queen_rows = filled(8, -1)
  return self:place_queen(0)
end

function Queens:place_queen(c)
  for r = 0, 7 do
    if self:get_row_column(r, c) then
      self.queen_rows[r + 1] = c
      self:set_row_column(r, c, false)
      if c == 7 then return true end
      if self:place_queen(c + 1) then return true end
      self:set_row_column(r, c, true)
    end
  end
  return false
end

function Queens:get_row_column(r, c)
  return self.free_rows[r + 1] and self.free_maxs[c + r + 1] and self.free_mins[c - r + 8]
end

function Queens:set_row_column(r, c, v)
  self.free_rows[r + 1] = v
  self.free_maxs[c + r + 1] = v
  self.free_mins[c - r + 8] = v
end

local function benchmark()
  local result = true
  for _ = 1, 10 do result = result and Queens.new():queens() end
  return result
end

local ITERATIONS = 700
local result
for _ = 1, ITERATIONS do
  result = benchmark()
  if result ~= true then error("Queens: unexpected result " .. tostring(result)) end
end
print("Queens " .. tostring(result))
