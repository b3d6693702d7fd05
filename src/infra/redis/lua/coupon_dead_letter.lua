-- coupon-dead-letter: moves one win to the dead-letter stream, once: a win whose request is FAILED
-- already (its entry redelivered after a crash between this and the acknowledgement) is not added
-- again. The failure count is kept, so such a redelivery dead-letters at its first failure; replay
-- removes it. KEYS: requests dlq meta; ARGV: request id, FAILED state, then the dead letter's
-- fields. Returns 1 if added, 0 if it was there.
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state and string.sub(state, 1, 2) == 'F:' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[3], 'dead', 1)
return 1
