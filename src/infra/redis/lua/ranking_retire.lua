-- One bounded step of retiring buckets that left their window (docs/architecture.md, "Rankings").
-- KEYS[1] = rank:{rank}:applied. ARGV: now, chunk (members per call), applied-id retention (ms),
-- then the families as count + (name, bucket ms, buckets) each.
-- Per family: with no bucket being retired, if the edge is behind the window's first bucket, the
-- edge moves one bucket on and that bucket's keys are RENAMEd to retiring keys, in this one call
-- (O(1); a late event for it then misses the window sum, as it should). With a bucket being
-- retired, up to `chunk` of its members are popped and taken out of the window sums. Each call
-- touches at most `chunk` members, whatever the catalog's size. A family and scope whose sums
-- changed is noted in rank:{rank}:changed for the refresh. Returns 1 while work remains. Does
-- nothing while the landmark moves (ranking_rebase.lua).
local p = 'rank:{rank}:'
if redis.call('EXISTS', p .. 'rebase') == 1 then return 0 end
local now, chunk, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local metrics = {'sales', 'revenue', 'views', 'score'}
local scopes = redis.call('SMEMBERS', p .. 'scopes')
scopes[#scopes + 1] = 'all'
local budget = chunk
local more = 0

-- The applied ids older than any redelivery (bounded per call too).
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - keep, 'LIMIT', 0, chunk)
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  if #old == chunk then more = 1 end
end

local i = 4
for _ = 1, tonumber(ARGV[i]) do
  local fam, size, n = ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 3
  local marker = p .. 'retiring:' .. fam
  local retiring = redis.call('GET', marker)
  local low = math.floor(now / size) - n + 1
  if not retiring then
    local edge = tonumber(redis.call('HGET', p .. 'edge', fam) or low)
    -- Buckets with no keys (nothing sold then) are passed over, as many as the budget of key
    -- checks allows.
    local checks = 0
    while edge < low and checks < chunk do
      local found = false
      for _, s in ipairs(scopes) do
        for _, m in ipairs(metrics) do
          local bk = p .. 'b:' .. fam .. ':' .. edge .. ':' .. m .. ':' .. s
          checks = checks + 1
          if redis.call('EXISTS', bk) == 1 then
            redis.call('RENAME', bk, p .. 'x:' .. fam .. ':' .. m .. ':' .. s)
            found = true
          end
        end
      end
      edge = edge + 1
      if found then
        redis.call('SET', marker, edge - 1)
        retiring = edge - 1
        break
      end
    end
    redis.call('HSET', p .. 'edge', fam, edge)
    if edge < low then more = 1 end
  end
  if retiring then
    local done = true
    for _, s in ipairs(scopes) do
      for _, m in ipairs(metrics) do
        local x = p .. 'x:' .. fam .. ':' .. m .. ':' .. s
        local w = p .. 'w:' .. fam .. ':' .. m .. ':' .. s
        if budget > 0 then
          local popped = redis.call('ZPOPMIN', x, budget)
          for j = 1, #popped, 2 do
            local member, score = popped[j], tonumber(popped[j + 1])
            local left = tonumber(redis.call('ZINCRBY', w, -score, member))
            -- A sum back to nothing leaves the ranking (the score's floats within rounding).
            if left == 0 or (m == 'score' and math.abs(left) <= 1e-9 * math.abs(score)) then
              redis.call('ZREM', w, member)
            end
          end
          budget = budget - #popped / 2
          if #popped > 0 then redis.call('SADD', p .. 'changed', fam .. ':' .. s) end
        end
        if redis.call('EXISTS', x) == 1 then done = false end
      end
    end
    if done then redis.call('DEL', marker) end
    more = 1  -- the next bucket may be due too
  end
end
return more
