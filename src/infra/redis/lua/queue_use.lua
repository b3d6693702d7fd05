-- A protected route's check: is ARGV[1] an active token of user ARGV[2]? If so its active time
-- starts again (ARGV[3] ms). KEYS[1] = queue:{queue}:owner. Returns 1 or 0. O(log N).
local t, user, attl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HGET', owner, t) ~= user then return 0 end
local e = redis.call('ZSCORE', active, t)
if not e or tonumber(e) <= now then return 0 end
redis.call('ZADD', active, 'XX', now + attl, t)
return 1
