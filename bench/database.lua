-- wrk script for bench/database.py: alternate POST /items and GET /items/{id}.
-- The ids (items created before the run) come after `--` on wrk's command line.
local ids = {}
local n = 0

function init(args)
  for _, id in ipairs(args) do
    ids[#ids + 1] = id
  end
end

function request()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/items", { ["Content-Type"] = "application/json" },
      '{"name": "bench item"}')
  end
  return wrk.format("GET", "/items/" .. ids[math.floor(n / 2) % #ids + 1])
end
