-- A token as a caller sees it. KEYS[1] = queue:{queue}:owner. ARGV: token, user ('0': the admin,
-- who may read anyone's and whose read keeps nobody in line), waiting TTL (ms).
-- Returns {} when the token is unknown or ran out, {owner, 'OTHER'} when it is someone else's,
-- else {owner, state, position, expires at}.
local t, user, wttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local who = redis.call('HGET', owner, t)
if not who then return {} end
if user ~= '0' and who ~= user then return {who, 'OTHER'} end
local state, position, expires = state_of(t, who, wttl, user ~= '0')
if not state then return {} end
return {who, state, position, expires}
