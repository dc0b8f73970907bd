-- AWFY Towers: the towers of Hanoi with 13 disks on three piles of linked disks.
-- Verification: 8191 moves per run. Size: ITERATIONS = 300 runs, as towers.echo.
-- (Lua tables count from 1: pile p is piles[p + 1].)

local Towers = {}
Towers.__index = Towers

local function new_disk(size) return {size = size, next = nil} end

function Towers.new() return setmetatable({}, Towers) end

function Towers:run()
  self.piles = {false, false, false}
  self:build_tower_at(0, 13)
  self.moves_done = 0
  self:move_disks(13, 0, 1)
  return self.moves_done
end

function Towers:push_disk(disk, pile)
  local top = self.piles[pile + 1]
  if top and disk.size >= top.size then
    error("Cannot put a big disk on a smaller one")
  end
  disk.next = top
  self.piles[pile + 1] = disk
end

function Towers:pop_disk_from(pile)
  local top = self.piles[pile + 1]
  if not top then error("Attempting to remove a disk from an empty pile") end
  self.piles[pile + 1] = top.next or false
  top.next = nil
  return top
end

function Towers:move_top_disk(from_pile, to_pile)
  self:push_disk(self:pop_disk_from(from_pile), to_pile)
  self.moves_done = self.moves_done + 1
end

function Towers:build_tower_at(pile, disks)
  local i = disks
  while i >= 0 do
    self:push_disk(new_disk(i), pile)
    i = i - 1
  end
end

function Towers:move_disks(disks, from_pile, to_pile)
  if disks == 1 then
    self:move_top_disk(from_pile, to_pile)
  else
    local other_pile = 3 - from_pile - to_pile
    self:move_disks(disks - 1, from_pile, other_pile)
    self:move_top_disk(from_pile, to_pile)
    self:move_disks(disks - 1, other_pile, to_pile)
  end
end

local ITERATIONS = 300
local result
for _ = 1, ITERATIONS do
  result = Towers.new():run()
  if result ~= 8191 then error("Towers: unexpected result " .. tostring(result)) end
end
print("Towers " .. result)
