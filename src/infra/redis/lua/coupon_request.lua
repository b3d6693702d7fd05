-- coupon-request: the state of a request, from the request-state hash: its own field (request id →
-- "I:user:pos:coupon" once persisted, "F:user:pos" once dead-lettered, "R:user:pos" when
-- replayed), else its entry's field (entry id → "p;user:coupon,user:coupon,..." once the
-- entry's wins are persisted: the k-th item is the k-th win, at position p + k, and an empty
-- item a win recorded on its own), else, while the win is waiting in the stream, "R:user:pos"
-- read from its entry (the issue script writes no state of its own): the k-th win of an entry
-- {p, w = "user:count,..."} is w's k-th item; an entry of one win (replayed) is {u, s, p, ...}.
-- One script, so no persist or dead-lettering can pass between the reads; both write the state
-- before the entry leaves the stream. KEYS: requests stream; ARGV: request id, its entry id, k.
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state then return state end
local k = tonumber(ARGV[3])
local function kth(list)
  local i = 0
  for item in string.gmatch(list .. ',', '([^,]*),') do
    if i == k then return item end
    i = i + 1
  end
  return nil
end
local persisted = redis.call('HGET', KEYS[1], ARGV[2])
if persisted then
  local semi = string.find(persisted, ';', 1, true)
  local item = semi and kth(string.sub(persisted, semi + 1))
  local user, coupon = string.match(item or '', '^(%d+):(%d+)$')
  if user then
    local pos = tonumber(string.sub(persisted, 1, semi - 1)) + k
    return 'I:' .. user .. ':' .. string.format('%d', pos) .. ':' .. coupon
  end
end
local found = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
if #found == 0 then return false end
local f = {}
local flat = found[1][2]
for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
if f.w and f.p then
  local user = string.match(kth(f.w) or '', '^(%d+):')
  if not user then return false end
  return 'R:' .. user .. ':' .. string.format('%d', tonumber(f.p) + k)
end
if k == 0 and f.u and f.p then return 'R:' .. f.u .. ':' .. f.p end
return false
