-- Publishes rankings under their fixed keys (docs/architecture.md, "Rankings"): each value is
-- written under its temporary key with a TTL, then RENAMEd over the fixed key, so that a reader
-- sees the old ranking or the new one, never a part. KEYS: (fixed key, temporary key) pairs;
-- ARGV: TTL (ms), then one value per pair.
local ttl = ARGV[1]
for j = 1, #KEYS / 2 do
  redis.call('SET', KEYS[2 * j], ARGV[j + 1], 'PX', ttl)
  redis.call('RENAME', KEYS[2 * j], KEYS[2 * j - 1])
end
return #KEYS / 2
