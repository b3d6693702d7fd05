-- coupon-restore-counts: gives users back the coupon counts the database holds, where Redis
-- remembers fewer (it lost them: the reconciliation job's repair). A count Redis already has at or
-- above the database's is left alone — it may include a win still waiting in the stream.
-- Counts are kept by the rule of lua/coupon_issue.lua: a user holding exactly one, with an id
-- below the drop's bound min(2^27, 512 × total), is a 1 bit in 'won'; any other count is a field
-- of 'users', which wins over the bit.
-- KEYS: users won; ARGV: the drop's total, then user, count, user, count, ...
-- Returns how many users' counts it raised.
local BITMAP_BELOW = 134217728  -- 2^27, as in lua/coupon_issue.lua
local bits_below = math.min(BITMAP_BELOW, tonumber(ARGV[1]) * 512)
local raised = 0
for i = 2, #ARGV, 2 do
  local user, count = ARGV[i], tonumber(ARGV[i + 1])
  local id = tonumber(user)
  local have = tonumber(redis.call('HGET', KEYS[1], user) or '')
  if not have then
    have = (id < BITMAP_BELOW) and redis.call('GETBIT', KEYS[2], id) or 0
  end
  if count > have then
    if count == 1 and id < bits_below then
      redis.call('SETBIT', KEYS[2], id, 1)
    else
      redis.call('HSET', KEYS[1], user, count)
    end
    raised = raised + 1
  end
end
return raised
