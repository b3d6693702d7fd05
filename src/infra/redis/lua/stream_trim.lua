-- stream-trim: trims a stream of what every consumer group is done with: the entries before each
-- group's oldest pending one, or, when a group has nothing pending, up to its last delivered
-- one (entries after it are unread). XTRIM MINID drops whole listpack nodes; XDEL of a batch's
-- 500 ids took Redis ~2 ms per call, a stall every issue request in flight waited through
-- (docs/benchmarks.md §3). KEYS: stream. Returns how many entries were removed.
-- Starts with xinfo_fields.lua (prepended in C++): fields(flat).
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) ~= 'table' or groups.err or #groups == 0 then return 0 end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local min_ms, min_seq
for _, flat in ipairs(groups) do
  local g = fields(flat)
  local ms, seq
  if g.pending > 0 then
    ms, seq = parse(redis.call('XPENDING', KEYS[1], g.name)[2])
  else
    ms, seq = parse(g['last-delivered-id'])
    seq = seq + 1
  end
  if not min_ms or ms < min_ms or (ms == min_ms and seq < min_seq) then
    min_ms, min_seq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', min_ms, min_seq))
