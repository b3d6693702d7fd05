-- One admission step (SPEC §6): up to admitPerSecond tokens a second leave the head of the line
-- and become active — across every instance, as the token bucket lives here and runs on Redis's
-- clock — and only while fewer than maxActive (0: no cap) are active. The bucket fills only
-- while someone waits and admission is not paused, so a line that forms, or a pause that ends,
-- starts at the rate rather than with a burst; it holds at most a second's worth. Tokens whose
-- owner stopped reading them are dropped, not admitted.
-- KEYS[1] = queue:{queue}:config. ARGV: default admitPerSecond, maxActive, paused (1|0), waiting
-- TTL (ms), active TTL (ms), most to admit in this call (0: change nothing, report only).
-- Returns {admitted, admitPerSecond, maxActive, paused, waiting, active, admitted in the last
-- minute, seconds of that minute with admissions on record}.
local cfg = redis.call('HMGET', KEYS[1], 'admitPerSecond', 'maxActive', 'paused')
local rate = tonumber(cfg[1] or ARGV[1])
local cap = tonumber(cfg[2] or ARGV[2])
local paused = (cfg[3] or ARGV[3]) == '1'
local wttl, attl, most = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local bucket, admits = q .. 'bucket', q .. 'admits'
local waiting = redis.call('ZCARD', line)
local live = redis.call('ZCOUNT', active, '(' .. now, '+inf')
local admitted = 0
if most > 0 then
  local b = redis.call('HMGET', bucket, 'tokens', 'at')
  local tokens = tonumber(b[1] or '0')
  local at = tonumber(b[2] or now)
  if paused or waiting == 0 then
    tokens = 0
  else
    tokens = math.min(rate, tokens + math.max(0, now - at) * rate / 1000)
    local n = math.min(math.floor(tokens), most)
    if cap > 0 then n = math.min(n, cap - live) end
    if n > 0 then
      local head = redis.call('ZPOPMIN', line, n)
      for j = 1, #head, 2 do
        local t = head[j]
        local s = redis.call('ZSCORE', seen, t)
        redis.call('ZREM', seen, t)
        if s and now < waiting_until(tonumber(s), wttl) then
          redis.call('ZADD', active, now + attl, t)
          admitted = admitted + 1
        else
          forget(t, redis.call('HGET', owner, t))
        end
      end
      waiting = waiting - #head / 2
      live = live + admitted
      tokens = tokens - admitted
    end
  end
  redis.call('HSET', bucket, 'tokens', string.format('%.17g', tokens), 'at', now)
end
local second = math.floor(now / 1000)
if admitted > 0 then redis.call('HINCRBY', admits, second, admitted) end
local counts = redis.call('HGETALL', admits)
local last_minute, oldest = 0, second
for j = 1, #counts, 2 do
  local s = tonumber(counts[j])
  if s > second - 60 then
    last_minute = last_minute + tonumber(counts[j + 1])
    oldest = math.min(oldest, s)
  elseif most > 0 then
    redis.call('HDEL', admits, counts[j])
  end
end
local history = 0
if last_minute > 0 then history = second - oldest + 1 end
return {admitted, rate, cap, paused and 1 or 0, waiting, live, last_minute, history}
