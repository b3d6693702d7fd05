-- One sign-in attempt for a subject. KEYS[1] = its counter; ARGV[1] = attempts allowed per
-- window, ARGV[2] = window (ms). The window starts with the first attempt since the last
-- success (the counter's TTL); attempts beyond the limit are refused until it ends.
-- Returns {1, 0} when allowed, {0, ms until the window ends} when refused.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    -- A counter without a TTL would refuse forever: give it the window.
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {0, ttl}
end
return {1, 0}
