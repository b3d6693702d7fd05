-- Joins the line (SPEC §6), for each of a batch of joins in turn (ScriptBatcher): the user's live
-- token if it has one, else the join's fresh token at the end of the line, in the order the joins
-- reach Redis (an arrival number, never a tie). KEYS[1] = queue:{queue}:users.
-- ARGV: waiting TTL (ms), then per join: user, fresh token.
-- Returns per join {token, state, position, expires at, created (1|0)}. O(log N) per join.
local wttl = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV - 1, 2 do
  local user, fresh = ARGV[i], ARGV[i + 1]
  local t = redis.call('HGET', users, user)
  local state, position, expires
  if t then state, position, expires = state_of(t, user, wttl, true) end
  if state then
    out[#out + 1] = {t, state, position, expires, 0}
  else
    local seq = redis.call('INCR', q .. 'seq')
    redis.call('ZADD', line, seq, fresh)
    redis.call('ZADD', seen, now, fresh)
    redis.call('HSET', users, user, fresh)
    redis.call('HSET', owner, fresh, user)
    out[#out + 1] = {fresh, 'WAITING', redis.call('ZRANK', line, fresh) + 1,
                     waiting_until(now, wttl), 1}
  end
end
return out
