-- wrk script: POST /api/v1/coupon-templates/<id>/issue with a random user among `users`.
-- Usage: wrk -t1 -c256 -d10s --latency -s coupon_issue.lua http://127.0.0.1:8080 -- <template id> <users>
local template, users = 1, 50000

function init(args)
  template = tonumber(args[1] or "1")
  users = tonumber(args[2] or "50000")
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

function request()
  local body = '{"userId":' .. math.random(1, users) .. '}'
  return wrk.format("POST", "/api/v1/coupon-templates/" .. template .. "/issue",
                    {["Content-Type"] = "application/json"}, body)
end
