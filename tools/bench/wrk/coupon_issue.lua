-- wrk script: POST /api/v1/coupon-templates/<id>/issue as a random signed-in user among `users`
-- (body {"userId":<user>}); a first argument starting with '/' is the path to POST to instead
-- (e.g. /api/v1/queue/tokens, a waiting-room join).
-- Usage: wrk -t1 -c256 -d10s --latency -s coupon_issue.lua http://127.0.0.1:8080 -- <template id | path> <users> <tokens file>
-- The tokens file has one access token per line for users 1..N (joopang-bench tokens --users N).
-- Every user's request is formatted once in init(); request() only picks one. Building the
-- request per call (concatenation plus wrk.format) cost wrk ~0.8 µs of CPU per request, and wrk
-- shares the two cores with the service it measures (docs/benchmarks.md).
local users = 50000
local requests = {}

function init(args)
  local target = args[1] or "1"
  users = tonumber(args[2] or "50000")
  local tokens = {}
  if args[3] then
    for line in io.lines(args[3]) do
      tokens[#tokens + 1] = line
      if #tokens == users then break end
    end
    users = math.min(users, #tokens)
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
  local path = target
  if target:sub(1, 1) ~= "/" then path = "/api/v1/coupon-templates/" .. target .. "/issue" end
  for user = 1, users do
    local headers = {["Content-Type"] = "application/json"}
    if tokens[user] then headers["Authorization"] = "Bearer " .. tokens[user] end
    requests[user] = wrk.format("POST", path, headers, '{"userId":' .. user .. '}')
  end
end

function request()
  return requests[math.random(1, users)]
end
