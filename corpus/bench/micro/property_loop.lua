-- 10^7 reads and writes of instance fields in a loop. Checksum: 49999995000000.
local function main()
  local p = {x = 0, y = 0}
  for i = 0, 10000000 - 1 do
    p.x = p.x + i
    p.y = p.x
  end
  return p.y
end
print(main())
