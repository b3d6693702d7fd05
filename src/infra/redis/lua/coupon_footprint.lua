-- coupon-footprint: what each key of one drop costs Redis, for operators (memory per winner, TTLs).
-- KEYS: the drop's keys. Returns per key {type, bytes, ttl ms (-1 none, -2 absent), length}; an
-- absent key is {"none", 0, -2, 0}. MEMORY USAGE samples big hashes (its default), so the call
-- stays O(1) at millions of winners.
local out = {}
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then
    out[i] = {kind, 0, -2, 0}
  else
    local length = 0
    if kind == 'hash' then length = redis.call('HLEN', key)
    elseif kind == 'stream' then length = redis.call('XLEN', key)
    elseif kind == 'set' then length = redis.call('SCARD', key)
    elseif kind == 'string' then length = redis.call('STRLEN', key) end
    out[i] = {kind, redis.call('MEMORY', 'USAGE', key) or 0, redis.call('PTTL', key), length}
  end
end
return out
