-- lease-hold: takes the lease KEYS[1] for token ARGV[1] for ARGV[2] ms if nobody holds it, or
-- extends it if ARGV[1] holds it already. Returns 1 when ARGV[1] holds it afterwards, else 0.
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
