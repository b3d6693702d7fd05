-- Joins the line (SPEC §6): the user's live token if it has one, else ARGV[2] at the end of the
-- line, in the order the joins reach Redis (an arrival number, never a tie). KEYS[1] =
-- queue:{queue}:users. ARGV: user, fresh token, waiting TTL (ms).
-- Returns {token, state, position, expires at, created (1|0)}. O(log N).
local user, fresh, wttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('HGET', users, user)
if t then
  local state, position, expires = state_of(t, user, wttl, true)
  if state then return {t, state, position, expires, 0} end
end
local seq = redis.call('INCR', q .. 'seq')
redis.call('ZADD', line, seq, fresh)
redis.call('ZADD', seen, now, fresh)
redis.call('HSET', users, user, fresh)
redis.call('HSET', owner, fresh, user)
return {fresh, 'WAITING', redis.call('ZRANK', line, fresh) + 1, now + wttl, 1}
