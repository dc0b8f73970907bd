-- AWFY NBody: simulates the sun and the Jovian planets (time step 0.01) and checks the energy.
-- Verification: -0.1690859889909308 after 250000 steps (prints ok when reached).
-- Size: STEPS = 250000, as nbody.echo. (Lua tables count from 1: body i is bodies[i + 1].)

local PI = 3.141592653589793
local SOLAR_MASS = 4 * PI * PI
local DAYS_PER_YEAR = 365.24

local Body = {}
Body.__index = Body

function Body.new(x, y, z, vx, vy, vz, mass)
  local self = setmetatable({}, Body)
  self.x = x
  self.y = y
  self.z = z
  self.vx = vx * DAYS_PER_YEAR
  self.vy = vy * DAYS_PER_YEAR
  self.vz = vz * DAYS_PER_YEAR
  self.mass = mass * SOLAR_MASS
  return self
end

function Body:offset_momentum(px, py, pz)
  self.vx = 0.0 - px / SOLAR_MASS
  self.vy = 0.0 - py / SOLAR_MASS
  self.vz = 0.0 - pz / SOLAR_MASS
end

local function jupiter()
  return Body.new(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
                  1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
                  9.54791938424326609e-04)
end

local function saturn()
  return Body.new(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
                  -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
                  2.85885980666130812e-04)
end

local function uranus()
  return Body.new(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
                  2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
                  4.36624404335156298e-05)
end

local function neptune()
  return Body.new(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
                  2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
                  5.15138902046611451e-05)
end

local function sun() return Body.new(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0) end

local NBodySystem = {}
NBodySystem.__index = NBodySystem

function NBodySystem.new()
  local self = setmetatable({}, NBodySystem)
  self.bodies = self:create_bodies()
  return self
end

function NBodySystem:create_bodies()
  local bodies = {sun(), jupiter(), saturn(), uranus(), neptune()}
  local px = 0.0
  local py = 0.0
  local pz = 0.0
  for _, b in ipairs(bodies) do
    px = px + b.vx * b.mass
    py = py + b.vy * b.mass
    pz = pz + b.vz * b.mass
  end
  bodies[1]:offset_momentum(px, py, pz)
  return bodies
end

function NBodySystem:advance(dt)
  local bodies = self.bodies
  local n = #bodies
  for i = 1, n do
    local i_body = bodies[i]
    for j = i + 1, n do
      local j_body = bodies[j]
      local dx = i_body.x - j_body.x
      local dy = i_body.y - j_body.y
      local dz = i_body.z - j_body.z
      local d_squared = dx * dx + dy * dy + dz * dz
      local distance = math.sqrt(d_squared)
      local mag = dt / (d_squared * distance)
      i_body.vx = i_body.vx - dx * j_body.mass * mag
      i_body.vy = i_body.vy - dy * j_body.mass * mag
      i_body.vz = i_body.vz - dz * j_body.mass * mag
      j_body.vx = j_body.vx + dx * i_body.mass * mag
      j_body.vy = j_body.vy + dy * i_body.mass * mag
      j_body.vz = j_body.vz + dz * i_body.mass * mag
    end
  end
  for _, body in ipairs(bodies) do
    body.x = body.x + dt * body.vx
    body.y = body.y + dt * body.vy
    body.z = body.z + dt * body.vz
  end
end

function NBodySystem:energy()
  local e = 0.0
  local bodies = self.bodies
  local n = #bodies
  for i = 1, n do
    local i_body = bodies[i]
    e = e + 0.5 * i_body.mass *
      (i_body.vx * i_body.vx + i_body.vy * i_body.vy + i_body.vz * i_body.vz)
    for j = i + 1, n do
      local j_body = bodies[j]
      local dx = i_body.x - j_body.x
      local dy = i_body.y - j_body.y
      local dz = i_body.z - j_body.z
      local distance = math.sqrt(dx * dx + dy * dy + dz * dz)
      e = e - i_body.mass * j_body.mass / distance
    end
  end
  return e
end

local function benchmark(steps)
  local system = NBodySystem.new()
  for _ = 1, steps do system:advance(0.01) end
  return system:energy()
end

-- The suite's published results, by number of steps.
local function verify_result(result, steps)
  if steps == 250000 then return result == -0.1690859889909308 end
  if steps == 1 then return result == -0.16907495402506745 end
  return false
end

-- Echo's printed form of a float (for the error message, as str(result) in nbody.echo): the
-- shortest digits that read back as the same number, positional for exponents -5 to 15,
-- otherwise d.ddde-x.
local function echo_float(f)
  if f ~= f then return "nan" end
  if f == math.huge then return "inf" end
  if f == -math.huge then return "-inf" end
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

-- The harness: one run with STEPS, verified as the suite does; prints ok, as nbody.echo.
local STEPS = 250000
local result = benchmark(STEPS)
if not verify_result(result, STEPS) then
  error("NBody: unexpected result " .. echo_float(result))
end
print("NBody ok")
