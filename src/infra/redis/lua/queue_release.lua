-- A completed payment frees its user's active token. KEYS[1] = queue:{queue}:users. ARGV: user.
-- Returns 1 when a token was freed.
local user = ARGV[1]
local t = redis.call('HGET', users, user)
if not t or not redis.call('ZSCORE', active, t) then return 0 end
forget(t, user)
return 1
