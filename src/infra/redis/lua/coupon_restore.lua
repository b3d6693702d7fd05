-- coupon-restore: compare-and-set of the position counter and stock: applies only if the counter
-- still reads ARGV[1] ('' = absent). KEYS: seq stock meta; ARGV: expected, new seq, new stock. The
-- stock may rise, so a sold-out mark in 'gate' (the limit negated; see coupon_issue.lua) is lifted
-- with it. The template's generation ('restores') moves either way: user counts were restored just
-- before (see Restore), and every process's memory of sold-out answers must forget them.
redis.call('HINCRBY', KEYS[3], 'restores', 1)
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
local gate = tonumber(redis.call('HGET', KEYS[3], 'gate') or '')
if gate and gate < 0 then redis.call('HSET', KEYS[3], 'gate', tostring(-gate)) end
return 1
