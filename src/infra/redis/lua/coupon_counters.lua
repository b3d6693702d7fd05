-- coupon-counters: the counters of one template in one atomic read (a pipeline would interleave
-- with issues). KEYS: meta stock seq. Returns {meta exists, persisted, stock, seq exists, seq}.
local m = redis.call('HMGET', KEYS[1], 'total', 'persisted')
local seq = redis.call('GET', KEYS[3])
return {m[1] and 1 or 0, tonumber(m[2] or '0'), tonumber(redis.call('GET', KEYS[2]) or '0'),
        seq and 1 or 0, tonumber(seq or '0')}
