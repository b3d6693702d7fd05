-- coupon-request: the state of a request while Redis still answers for it: its own field in the
-- request-state hash ("F:user:pos" once dead-lettered, "R:user:pos" when replayed; "I:…" from
-- versions that kept persisted requests here), else, while the win waits in the stream — its
-- entry not yet delivered to the persister, or delivered and not acknowledged — "R:user:pos" read
-- from its entry (the issue script writes no state of its own): the k-th win of an entry
-- {p, w = "user:count,..."} is w's k-th item; an entry of one win (replayed) is {u, s, p, ...}.
-- Nothing once the entry is acknowledged, even while it stays in the stream until the trim:
-- the win is then in the database, which the service asks next (the row is written before the
-- acknowledgement). One script, so no dead-lettering can pass between the reads: it writes the
-- state before the entry leaves the stream.
-- KEYS: requests stream; ARGV: request id, its entry id, k, the persister's consumer group.
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state then return state end
local k = tonumber(ARGV[3])
local found = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
if #found == 0 then return false end
-- Acknowledged: delivered to the group (at or before its last-delivered id) and not pending.
local function id_parts(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local delivered = nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  if f['name'] == ARGV[4] then delivered = f['last-delivered-id'] end
end
if delivered then
  local ems, eseq = id_parts(ARGV[2])
  local dms, dseq = id_parts(delivered)
  if ems < dms or (ems == dms and eseq <= dseq) then
    local pending = redis.call('XPENDING', KEYS[2], ARGV[4], ARGV[2], ARGV[2], 1)
    if #pending == 0 then return false end
  end
end
local f = {}
local flat = found[1][2]
for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
if f.w and f.p then
  local i = 0
  for item in string.gmatch(f.w .. ',', '([^,]*),') do
    if i == k then
      local user = string.match(item, '^(%d+):')
      if not user then return false end
      return 'R:' .. user .. ':' .. string.format('%d', tonumber(f.p) + k)
    end
    i = i + 1
  end
  return false
end
if k == 0 and f.u and f.p then return 'R:' .. f.u .. ':' .. f.p end
return false
