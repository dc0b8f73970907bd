-- 3 * 10^6 method calls that read and write a field. Checksum: 3000000.
local Counter = {}
Counter.__index = Counter
function Counter.new() return setmetatable({n = 0}, Counter) end
function Counter:add(k) self.n = self.n + k; return self end
local function main()
  local c = Counter.new()
  for i = 0, 3000000 - 1 do c:add(1) end
  return c.n
end
print(main())
