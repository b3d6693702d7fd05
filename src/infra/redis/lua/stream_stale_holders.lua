-- stream-stale-holders: 1 when a consumer of group ARGV[1] on stream KEYS[1] holds pending entries
-- and has not read for ARGV[2] ms (a stopped or dead process: live lanes read at least every 500
-- ms), else 0. Reclaim asks this first because XAUTOCLAIM itself is not cheap: on Redis 7.0 it
-- looks every pending entry it scans up in the stream (~2 µs each), so a sweep of a drop's
-- thousands of fresh pending entries held Redis, and every issue request behind it, for ~6-11 ms.
-- Starts with xinfo_fields.lua (prepended in C++): fields(flat).
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(consumers) ~= 'table' or consumers.err then return 0 end
local min_idle = tonumber(ARGV[2])
for _, flat in ipairs(consumers) do
  local c = fields(flat)
  if c.pending and c.pending > 0 and c.idle and c.idle >= min_idle then return 1 end
end
return 0
