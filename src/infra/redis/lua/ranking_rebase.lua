-- One bounded step of moving the score sums to a later landmark (docs/architecture.md,
-- "Rankings"). Forward decay weighs a bucket by 2^((bucket start - landmark) / half-life); left
-- alone, those weights overflow a double about 1000 half-lives after the landmark. So once
-- `due` half-lives have passed, every score key (window sums, the bucket being retired, the
-- buckets of each window) is divided by 2^shift (a whole number of half-lives, so the division
-- is exact) and the landmark moves shift half-lives on. While that runs, the apply and retire
-- scripts refuse to work (the updater backs off and its events wait in the stream), so every
-- score key is on one landmark whenever anything adds to it.
-- KEYS[1] = rank:{rank}:rebase, the state: to (new landmark), shift, scope (index into the
-- snapshot list of scopes), fam, slot (cursor over the keys), moving and pttl (the key being
-- moved and its time to live).
-- ARGV: now, half-life (ms), due (half-lives), chunk (members and key checks per call), then the
-- families as count + (name, bucket ms, buckets) each.
-- A key is moved by popping `chunk` members at a time into a scratch key, scaled, and renaming
-- the scratch key back over it once it is empty (its TTL restored): every member is scaled once
-- whatever the order of values. Returns 1 while work remains, 0 when none is due or it is done.
local p = 'rank:{rank}:'
local state = KEYS[1]
local now, half, due, chunk = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4])
local fams = {}
local i = 5
for f = 1, tonumber(ARGV[i]) do
  fams[f] = {name = ARGV[i + 1], size = tonumber(ARGV[i + 2]), n = tonumber(ARGV[i + 3])}
  i = i + 3
end
local scopes_key, scratch = p .. 'rebase:scopes', p .. 'rebase:scratch'

if redis.call('EXISTS', state) == 0 then
  local landmark = tonumber(redis.call('GET', p .. 'landmark') or '')
  if not landmark or now - landmark < due * half then return 0 end
  local shift = math.floor((now - landmark) / half)
  -- The scopes as they are now (no apply adds one until this is done), in a fixed order.
  redis.call('DEL', scopes_key, scratch)
  redis.call('RPUSH', scopes_key, 'all')
  local scopes = redis.call('SMEMBERS', p .. 'scopes')
  for j = 1, #scopes, 1000 do
    redis.call('RPUSH', scopes_key, unpack(scopes, j, math.min(j + 999, #scopes)))
  end
  redis.call('HSET', state, 'to', string.format('%d', landmark + shift * half), 'shift', shift,
             'scope', 0, 'fam', 1, 'slot', 0)
  return 1
end

local st = redis.call('HMGET', state, 'to', 'shift', 'scope', 'fam', 'slot', 'moving', 'pttl')
local to, shift = st[1], tonumber(st[2])
local scope_i, fam_i, slot = tonumber(st[3]), tonumber(st[4]), tonumber(st[5])
local moving, pttl = st[6], tonumber(st[7] or '-1')
local scope_count = redis.call('LLEN', scopes_key)
local edges = {}
for f, fam in ipairs(fams) do
  edges[f] = tonumber(redis.call('HGET', p .. 'edge', fam.name) or '')
end

-- The key at the cursor: slot 0 is the window sum, 1 the bucket being retired, 2.. the buckets
-- from the window's edge to as far ahead as a window's length (clock skew; nothing later is
-- written). nil once the family's slots are done.
local function key_at(scope)
  local fam = fams[fam_i]
  if slot == 0 then return p .. 'w:' .. fam.name .. ':score:' .. scope end
  if slot == 1 then return p .. 'x:' .. fam.name .. ':score:' .. scope end
  local edge = edges[fam_i]
  if not edge then return nil end
  local b = edge + slot - 2
  if b > math.floor(now / fam.size) + fam.n then return nil end
  return p .. 'b:' .. fam.name .. ':' .. b .. ':score:' .. scope
end

local budget = chunk
while budget > 0 do
  if moving then
    local popped = redis.call('ZPOPMAX', moving, budget)
    if #popped > 0 then
      local args = {}
      for j = 1, #popped, 2 do
        -- %.17g: Lua would print the number with 14 digits and lose the exactness of 2^-shift.
        args[#args + 1] = string.format('%.17g', math.ldexp(tonumber(popped[j + 1]), -shift))
        args[#args + 1] = popped[j]
      end
      redis.call('ZADD', scratch, unpack(args))
    end
    budget = budget - #popped / 2
    if redis.call('EXISTS', moving) == 1 then break end
    if redis.call('EXISTS', scratch) == 1 then
      redis.call('RENAME', scratch, moving)
      if pttl > 0 then redis.call('PEXPIRE', moving, pttl) end
    end
    moving = nil
    redis.call('HDEL', state, 'moving', 'pttl')
  else
    if scope_i >= scope_count then
      redis.call('SET', p .. 'landmark', to)
      redis.call('DEL', state, scopes_key)
      return 0
    end
    local key = key_at(redis.call('LINDEX', scopes_key, scope_i))
    budget = budget - 1
    if key then
      slot = slot + 1
      if redis.call('EXISTS', key) == 1 then
        moving, pttl = key, redis.call('PTTL', key)
        redis.call('HSET', state, 'moving', moving, 'pttl', pttl)
      end
    else
      slot = 0
      fam_i = fam_i + 1
      if fam_i > #fams then
        fam_i = 1
        scope_i = scope_i + 1
      end
    end
    redis.call('HSET', state, 'scope', scope_i, 'fam', fam_i, 'slot', slot)
  end
end
return 1
