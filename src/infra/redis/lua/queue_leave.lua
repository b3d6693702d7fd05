-- Leaves the line or frees the active slot. KEYS[1] = queue:{queue}:owner. ARGV: token, user
-- ('0': the admin). Returns 1 when it was left, 0 when unknown, -1 when someone else's.
local t, user = ARGV[1], ARGV[2]
local who = redis.call('HGET', owner, t)
if not who then return 0 end
if user ~= '0' and who ~= user then return -1 end
forget(t, who)
return 1
