-- wrk script: POST a different JSON body on every request, cycling through the lines of the
-- file named by WRK_BODIES_FILE (one JSON object per line); each thread starts elsewhere.
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES_FILE")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local counter = 1
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("start", threads * 997)
end

function init(args)
  counter = (start or 0) % #bodies + 1
end

local headers = {["Content-Type"] = "application/json"}

function request()
  local body = bodies[counter]
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, headers, body)
end
