-- Drops tokens that ran out: waiting ones unread for the waiting TTL and its grace (see
-- queue_common.lua; the tab was closed), so
-- that they stop counting in positions, and active ones unused past their time. At most ARGV[2]
-- per call, so that the line never blocks Redis for long. KEYS[1] = queue:{queue}:seen. ARGV:
-- waiting TTL (ms), max. Returns the tokens dropped.
local wttl, max = tonumber(ARGV[1]), tonumber(ARGV[2])
local gone = redis.call('ZRANGE', seen, '-inf', now - wttl - grace_of(wttl), 'BYSCORE', 'LIMIT', 0,
                        max)
local spent = redis.call('ZRANGE', active, '-inf', now, 'BYSCORE', 'LIMIT', 0, max - #gone)
for _, list in ipairs({gone, spent}) do
  for _, t in ipairs(list) do forget(t, redis.call('HGET', owner, t)) end
end
return #gone + #spent
