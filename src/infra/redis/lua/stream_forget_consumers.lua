-- stream-forget-consumers: deletes the consumers of group ARGV[1] on stream KEYS[1] that hold no
-- pending entry and have not read for ARGV[2] ms, in one step: XGROUP DELCONSUMER drops a
-- consumer's pending entries, so the check and the delete must not let a read in between. Returns
-- how many were deleted. Starts with xinfo_fields.lua (prepended in C++): fields(flat).
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(consumers) ~= 'table' or consumers.err then return 0 end
local min_idle = tonumber(ARGV[2])
local forgotten = 0
for _, flat in ipairs(consumers) do
  local c = fields(flat)
  if c.name and c.pending == 0 and c.idle and c.idle >= min_idle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c.name)
    forgotten = forgotten + 1
  end
end
return forgotten
