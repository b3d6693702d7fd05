-- Shared by the waiting room's scripts (docs/architecture.md, "Waiting room"), placed before each
-- of them. Keys, all under the hash tag {queue}:
--   queue:{queue}:line    sorted set: waiting token -> arrival number (INCR of queue:{queue}:seq)
--   queue:{queue}:seen    sorted set: waiting token -> when its owner last read it (ms)
--   queue:{queue}:active  sorted set: active token -> when it expires unused (ms)
--   queue:{queue}:owner   hash: token -> user;  queue:{queue}:users  hash: user -> live token
--   queue:{queue}:config  hash: admitPerSecond, maxActive, paused (the operator's, else flags)
--   queue:{queue}:bucket  hash: tokens, at (the admission token bucket)
--   queue:{queue}:admits  hash: second -> tokens admitted in it (the last minute's)
-- Time is Redis's own (TIME), so that no instance's clock decides anything.
local q = 'queue:{queue}:'
local line, seen, active = q .. 'line', q .. 'seen', q .. 'active'
local owner, users = q .. 'owner', q .. 'users'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

-- Takes a token out of everything.
local function forget(t, user)
  redis.call('ZREM', line, t)
  redis.call('ZREM', seen, t)
  redis.call('ZREM', active, t)
  redis.call('HDEL', owner, t)
  if user and redis.call('HGET', users, user) == t then redis.call('HDEL', users, user) end
end

-- A waiting token's reads are recorded (in `seen`) at most once per grace period, wttl / 60 and
-- at most 5 s: a poll is then mostly reads, with nothing for Redis to write, append to its AOF or
-- send to replicas (a million users polling every 2 s would otherwise write ~40 MB/s of AOF).
-- So that no token leaves before it has gone unread for the whole waiting TTL, a token lives
-- until its recorded read + wttl + grace: it leaves between wttl and wttl + grace after its last
-- read (the sweep takes it out of the line within its own period after that).
local function grace_of(wttl)
  return math.min(5000, math.floor(wttl / 60))
end
local function waiting_until(s, wttl)
  return s + wttl + grace_of(wttl)
end

-- A live token's state: 'WAITING', position, expiry; 'ACTIVE', 0, expiry; or nil when it has
-- run out (then it is forgotten). A read by its owner (`touch`) keeps a waiting token in line.
local function state_of(t, user, wttl, touch)
  local s = redis.call('ZSCORE', seen, t)
  if s and now < waiting_until(tonumber(s), wttl) then
    s = tonumber(s)
    if touch and now - s >= grace_of(wttl) then
      redis.call('ZADD', seen, 'XX', now, t)
      s = now
    end
    return 'WAITING', redis.call('ZRANK', line, t) + 1, waiting_until(s, wttl)
  end
  local e = redis.call('ZSCORE', active, t)
  if e and tonumber(e) > now then return 'ACTIVE', 0, tonumber(e) end
  forget(t, user)
  return nil
end
