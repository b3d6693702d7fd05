-- coupon-issue: the whole first-come-first-served decision for one request, atomically.
-- Checks first (nothing is written unless the caller wins, except the rate-limit counter and the
-- sold-out mark), then every write of a win: stock, the user's count, the position and the
-- stream entry. Arrival order and issue time come from the Redis server: the position is INCR
-- order, and the entry id `*` is Redis's clock in ms (the persister reads the issue time from
-- it). A won request's state is the entry itself until the persister records the coupon (see
-- coupon-request in redis_coupon_store.cpp): a win writes no request-state field of its own.
-- KEYS: meta stock users seq stream ratelimit   ARGV: user id, rate limit per second
-- Returns {1, position, remaining, entry id, backlog} | -1 already issued | -2 sold out
--         -3 not active | -4 unknown template | {-5, retry after ms} rate limited
--
-- Most calls of a drop are losers, so their path is kept short (docs/benchmarks.md has the
-- measurements): every redis.call and every HMGET field costs a few tenths of a microsecond of
-- the single Redis thread, and so does a table reply — losers answer with a bare integer.
-- The meta field 'gate' is the per-user limit when the template is ACTIVE without an issue
-- window (written with the other fields, in the same HSET), else empty or absent: then, and only
-- then, status and window are read and checked. Once the stock is seen at zero, 'gate' holds
-- the limit negated, so sold-out losers skip the stock read too; every write that can raise the
-- stock again (the restore script) turns it positive in the same script. The per-user check
-- still comes first: a user at the limit hears 409, not 410, whatever the stock.
local gate = redis.call('HGET', KEYS[1], 'gate')
local meta = nil
local sold_out = false
if not gate or gate == '' then
  meta = redis.call('HMGET', KEYS[1], 'status', 'start_at', 'end_at', 'limit')
  if not meta[1] then return -4 end
end
if ARGV[2] ~= '0' then
  local rl = tonumber(ARGV[2])
  local n = redis.call('INCR', KEYS[6])
  if n == 1 then redis.call('PEXPIRE', KEYS[6], 1000) end
  if n > rl then return {-5, redis.call('PTTL', KEYS[6])} end
end
-- TIME only for a window to check.
local limit
if meta then
  if meta[1] ~= 'ACTIVE' then return -3 end
  local has_start = meta[2] and meta[2] ~= ''
  local has_end = meta[3] and meta[3] ~= ''
  if has_start or has_end then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if has_start and now < tonumber(meta[2]) then return -3 end
    if has_end and now >= tonumber(meta[3]) then return -3 end
  end
  limit = tonumber(meta[4])
else
  limit = tonumber(gate)
  if limit < 0 then
    limit = -limit
    sold_out = true
  end
end
local held = redis.call('HGET', KEYS[3], ARGV[1])
local have = held and tonumber(held) or 0
if have >= limit then return -1 end
if sold_out then return -2 end
local left = redis.call('GET', KEYS[2])
local stock = left and tonumber(left) or 0
if stock <= 0 then
  -- Marked only for a stock that exists: publishing sets an absent one (SET NX) afterwards.
  if left and not meta then redis.call('HSET', KEYS[1], 'gate', '-' .. limit) end
  return -2
end
redis.call('DECR', KEYS[2])
if stock == 1 and not meta then redis.call('HSET', KEYS[1], 'gate', '-' .. limit) end
redis.call('HSET', KEYS[3], ARGV[1], have + 1)
local pos = redis.call('INCR', KEYS[4])
local id = redis.call('XADD', KEYS[5], '*', 'u', ARGV[1], 's', have + 1, 'p', pos)
local persisted = tonumber(redis.call('HGET', KEYS[1], 'persisted') or '0')
return {1, pos, stock - 1, id, pos - persisted}
