-- Applies order events and view batches to the rankings (docs/architecture.md, "Rankings").
-- Every key carries the hash tag {rank}; KEYS[1] is the set of applied ids (rank:{rank}:applied).
-- ARGV: now, half-life (ms), weight of sales, of revenue (per currency unit), of views, the
-- half-lives after which the landmark must move (see ranking_rebase.lua), then the window
-- families as count + (name, bucket ms, buckets, ttl ms) each, then the events as count +
-- (applied id, sign, at, line count, then per line: product, category, quantity, amount cents,
-- views).
-- Per event not applied before, per line, per family, per scope (all products, the category):
-- the bucket of `at` gains the line's sales, revenue (cents), views and score, and so does the
-- family's window sum when the bucket is not older than the window's edge. A sum back to nothing
-- leaves its set. Members are product ids zero-padded to 19 digits, so that equal scores order
-- by id. Changes are summed per key and member before they are written (one ZINCRBY each).
-- Each changed family and scope is noted in rank:{rank}:changed for the refresh job.
-- Returns the events applied, or -1 (nothing done) while the landmark is due to move or moving.
local p = 'rank:{rank}:'
local now = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local ws, wr, wv, due = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('EXISTS', p .. 'rebase') == 1 then return -1 end
local i = 7
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
-- needs rescaling as time passes; readers divide by the weight of "now". Only once the weights
-- near a double's range does the landmark move on (ranking_rebase.lua), seldom and in steps.
local landmark = redis.call('GET', p .. 'landmark')
if not landmark then
  landmark = string.format('%d', now - now % half)
  redis.call('SET', p .. 'landmark', landmark)
end
landmark = tonumber(landmark)
if now - landmark >= due * half then return -1 end

-- Changes are summed per key and member first, then written once each: a batch's events mostly
-- fall in the same buckets, and popular products come again and again.
local sums, metric_of, ttl_of, changed, scope_set = {}, {}, {}, {}, {}
local function add(key, metric, member, delta)
  local t = sums[key]
  if not t then
    t = {}
    sums[key] = t
    metric_of[key] = metric
  end
  t[member] = (t[member] or 0) + delta
end

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
        scope_set[scopes[2]] = true
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
              add(bk, metric, member, delta)
              ttl_of[bk] = fam.ttl
              if in_window then
                add(p .. 'w:' .. fam.name .. ':' .. metric .. ':' .. s, metric, member, delta)
              end
            end
          end
          if in_window then changed[fam.name .. ':' .. s] = true end
        end
      end
    end
  end
end

-- A value back to nothing (integers exactly, the score within rounding of the change) leaves the
-- set.
for key, members in pairs(sums) do
  local is_score = metric_of[key] == 'score'
  for member, delta in pairs(members) do
    if delta ~= 0 then
      local left = tonumber(redis.call('ZINCRBY', key, delta, member))
      if left == 0 or (is_score and math.abs(left) <= 1e-9 * math.abs(delta)) then
        redis.call('ZREM', key, member)
      end
    end
  end
  if ttl_of[key] then redis.call('PEXPIRE', key, ttl_of[key]) end
end
for s in pairs(scope_set) do redis.call('SADD', p .. 'scopes', s) end
for k in pairs(changed) do redis.call('SADD', p .. 'changed', k) end
return applied
