-- lease-release: deletes the lease KEYS[1] if token ARGV[1] still holds it (only the holder
-- may give it back). Returns 1 if deleted, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
