-- Applies order events and view batches to the rankings (docs/architecture.md, "Rankings").
-- Every key carries the hash tag {rank}; KEYS[1] is the set of applied ids (rank:{rank}:applied).
-- ARGV: now, half-life (ms), weight of sales, of revenue (per currency unit), of views, then the
-- window families as count + (name, bucket ms, buckets, ttl ms) each, then the events as count +
-- (applied id, sign, at, line count, then per line: product, category, quantity, amount cents,
-- views).
-- Per event not applied before, per line, per family, per scope (all products, the category):
-- the bucket of `at` gains the line's sales, revenue (cents), views and score, and so does the
-- family's window sum when the bucket is not older than the window's edge. A sum back to nothing
-- leaves its set. Members are product ids zero-padded to 19 digits, so that equal scores order
-- by id. Each changed family and scope is noted in rank:{rank}:changed for the refresh job.
-- Returns the events applied.
local p = 'rank:{rank}:'
local now = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local ws, wr, wv = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local i = 6
local fams = {}
for f = 1, tonumber(ARGV[i]) do
  local fam = {name = ARGV[i + 1], size = tonumber(ARGV[i + 2]), n = tonumber(ARGV[i + 3]),
               ttl = tonumber(ARGV[i + 4])}
  local edge = redis.call('HGET', p .. 'edge', fam.name)
  if not edge then
    edge = math.floor(now / fam.size) - fam.n + 1
    redis.call('HSET', p .. 'edge', fam.name, edge)
  end
  fam.edge = tonumber(edge)
  fams[f] = fam
  i = i + 4
end
i = i + 1
-- Forward decay: weights grow with the bucket's time from a landmark, so nothing already summed
-- ever needs rescaling; readers divide by the weight of "now".
local landmark = redis.call('GET', p .. 'landmark')
if not landmark then
  landmark = math.floor(now / 604800000) * 604800000
  redis.call('SET', p .. 'landmark', landmark)
end
landmark = tonumber(landmark)

-- Adds `delta` to `member` in `key`; a value back to nothing (integers exactly, the score within
-- rounding of the change) leaves the set.
local function add(key, delta, member, metric)
  local left = tonumber(redis.call('ZINCRBY', key, delta, member))
  if left == 0 or (metric == 'score' and math.abs(left) <= 1e-9 * math.abs(delta)) then
    redis.call('ZREM', key, member)
  end
end

local changed = {}
local applied = 0
local events = tonumber(ARGV[i])
i = i + 1
for _ = 1, events do
  local id, sign, at, lines = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]),
      tonumber(ARGV[i + 3])
  i = i + 4
  local fresh = redis.call('ZADD', KEYS[1], 'NX', now, id) == 1
  if fresh then applied = applied + 1 end
  for _ = 1, lines do
    local product, category = ARGV[i], ARGV[i + 1]
    local qty, cents = sign * tonumber(ARGV[i + 2]), sign * tonumber(ARGV[i + 3])
    local views = sign * tonumber(ARGV[i + 4])
    i = i + 5
    if fresh then
      local member = string.rep('0', 19 - #product) .. product
      local scopes = {'all'}
      if category ~= '0' then
        scopes[2] = 'c' .. category
        redis.call('SADD', p .. 'scopes', scopes[2])
      end
      for _, fam in ipairs(fams) do
        local b = math.floor(at / fam.size)
        local score = (ws * qty + wr * cents / 100 + wv * views) *
            2 ^ ((b * fam.size - landmark) / half)
        local in_window = b >= fam.edge
        local deltas = {sales = qty, revenue = cents, views = views, score = score}
        for _, s in ipairs(scopes) do
          for metric, delta in pairs(deltas) do
            if delta ~= 0 then
              local bk = p .. 'b:' .. fam.name .. ':' .. b .. ':' .. metric .. ':' .. s
              add(bk, delta, member, metric)
              redis.call('PEXPIRE', bk, fam.ttl)
              if in_window then
                add(p .. 'w:' .. fam.name .. ':' .. metric .. ':' .. s, delta, member, metric)
              end
            end
          end
          if in_window then changed[fam.name .. ':' .. s] = true end
        end
      end
    end
  end
end
for k in pairs(changed) do redis.call('SADD', p .. 'changed', k) end
return applied
