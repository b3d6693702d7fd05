-- coupon-issue: the whole first-come-first-served decision for a batch of requests to one
-- template, atomically: each request in turn, in the order given, as if each were its own script
-- run back to back. Checks first (nothing is written for a loser, except its rate-limit counter
-- and the sold-out mark), then every write of a win: stock, the user's count, the position and
-- the stream entry. Arrival order and issue time come from the Redis server: positions follow
-- the position counter, and the entry id `*` is Redis's clock in ms (the persister reads the
-- issue time from it). A won request's state is the entry itself until the persister records the
-- coupon (see lua/coupon_request.lua): a win writes no request-state field.
--
-- One stream entry carries all of a call's wins: {p = first position, w = "user:count,..."},
-- the k-th win (from 0) at position p + k. Per entry, not per win, Redis then pays the XADD, the
-- persister's read and pending entry, and the acknowledgement (docs/benchmarks.md §2, "Batching").
-- A win's request id is its entry id "ms-s" and k as ms * 10^6 + s * 1000 + k, so s and k stay
-- below 1000: a call decides at most 1000 requests (--issue-batch), and an entry that Redis
-- numbered s >= 1000 (a thousand XADDs to one stream in one ms, only possible while dead letters
-- are replayed) is added again as the first entry of the next ms.
--
-- KEYS: meta stock users seq stream won, then, only when a rate limit is set, each request's
--       rate-limit counter (KEYS[6 + i] for request i)
-- ARGV: rate limit per second ('0' = none), then one user id per request
-- Returns one answer per request, in order:
--   {1, position, remaining, entry id, backlog, k} | -1 already issued | -2 sold out
--   | -3 not active | -4 unknown template | {-5, retry after ms} rate limited
-- then one more element: the template's generation (its meta field 'restores', the count of
-- counter restores) if it was sold out when the call ended, else -1. Until the generation moves,
-- a sold-out template's answers cannot change, so the service remembers them (sold_out_memo.hpp).
--
-- Why a batch: the service sends every request one I/O thread received for a template in one
-- turn of its event loop as one call (coupon_issue_batcher.cpp). Most of what a lone request
-- costs Redis is the call itself — EVALSHA, the KEYS and ARGV tables, the reply, the I/O — and
-- the writes of a win go to the AOF as one MULTI/EXEC per call; a batch pays that once
-- (docs/benchmarks.md has the measurements). A batch of one is the single-request call.
--
-- Who holds how many, in two keys, so that a drop of millions costs about a bit per user
-- instead of a hash field (docs/benchmarks.md, "Memory per winner"): a user holding exactly one
-- coupon whose id is below the drop's bitmap bound is a 1 bit in the bitmap 'won' (at the user
-- id's offset); any other count, or any user at or above the bound, is a field of the hash
-- 'users'. The bound is min(2^27, 512 × the drop's total): the bitmap never passes 16 MiB, nor
-- 64 bytes per coupon, so a small drop won by users with high ids stays small. Reads do not
-- depend on the bound: a hash field, when present, is the count whatever the bit says (a second
-- win of a per-user limit over 1 leaves the bit set; hashes written before the bitmap existed
-- stay valid), else the bit of any id below 2^27. lua/coupon_restore_counts.lua writes by the same
-- rule.
--
-- The meta field 'gate' is the per-user limit when the template is ACTIVE without an issue
-- window (written with the other fields, in the same HSET), else empty or absent: then, and only
-- then, status and window are read and checked. Once the stock is seen at zero, 'gate' holds
-- the limit negated, so sold-out losers skip the stock read; every write that can raise the
-- stock again (the restore script) turns it positive in the same script. The per-user check
-- still comes first: a user at the limit hears 409, not 410, whatever the stock.
local BITMAP_BELOW = 134217728  -- 2^27: no bit is read or written at or past it (16 MiB)
local n = #ARGV - 1
local out = {}
local head = redis.call('HMGET', KEYS[1], 'gate', 'restores', 'total')
local gate, generation = head[1], tonumber(head[2] or '0')
local bits_below = math.min(BITMAP_BELOW, (tonumber(head[3] or '0') or 0) * 512)
local meta = nil
if not gate or gate == '' then
  meta = redis.call('HMGET', KEYS[1], 'status', 'start_at', 'end_at', 'limit')
  if not meta[1] then
    for i = 1, n do out[i] = -4 end
    out[n + 1] = -1
    return out
  end
end
local rate = ARGV[1] ~= '0' and tonumber(ARGV[1])
local limit
local inactive = false
local sold_out = false
if meta then
  inactive = meta[1] ~= 'ACTIVE'
  local has_start = meta[2] and meta[2] ~= ''
  local has_end = meta[3] and meta[3] ~= ''
  if not inactive and (has_start or has_end) then  -- TIME only for a window to check
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    inactive = (has_start and now < tonumber(meta[2])) or (has_end and now >= tonumber(meta[3]))
  end
  limit = tonumber(meta[4])
else
  limit = tonumber(gate)
  if limit < 0 then
    limit = -limit
    sold_out = true
  end
end
-- Every user's count of coupons held, read at once: each redis.call has a fixed cost (~0.25 us),
-- and one HMGET plus one BITFIELD_RO for the batch replace a read per request (docs/benchmarks.md
-- §2, "Batching").
local counts = {}   -- user -> coupons held, as read, then as won in this batch
if not inactive and n > 0 then
  local held = redis.call('HMGET', KEYS[3], unpack(ARGV, 2, n + 1))
  local bit_reads = {}  -- BITFIELD_RO arguments for the users the hash does not list
  local bit_users = {}  -- those users, in the same order
  for i = 1, n do
    local user = ARGV[i + 1]
    if not counts[user] then
      if held[i] then
        counts[user] = tonumber(held[i])
      else
        counts[user] = 0
        local id = tonumber(user)
        if id < BITMAP_BELOW then
          bit_users[#bit_users + 1] = user
          bit_reads[#bit_reads + 1] = 'GET'
          bit_reads[#bit_reads + 1] = 'u1'
          bit_reads[#bit_reads + 1] = id  -- as a number: no leading zeros for Redis to refuse
        end
      end
    end
  end
  if #bit_users > 0 then
    local bits = redis.call('BITFIELD_RO', KEYS[6], unpack(bit_reads))
    for j, user in ipairs(bit_users) do counts[user] = bits[j] end
  end
end
local winners = {}  -- users who won in this batch, each once, in order
local won = {}      -- the same users, as a set
local wins = {}     -- "user:count" of every win, in position order (the entry's 'w')
local answers = {}  -- the answers of the wins, in the same order
local left, stock, seq, first_seq
local mark = false  -- this batch found the stock at zero
for i = 1, n do
  local user = ARGV[i + 1]
  local answer
  if rate then
    local key = KEYS[6 + i]
    local c = redis.call('INCR', key)
    if c == 1 then redis.call('PEXPIRE', key, 1000) end
    if c > rate then answer = {-5, redis.call('PTTL', key)} end
  end
  if not answer and inactive then answer = -3 end
  if not answer then
    local have = counts[user]
    if have >= limit then
      answer = -1
    elseif sold_out then
      answer = -2
    else
      if not stock then
        left = redis.call('GET', KEYS[2])
        stock = left and tonumber(left) or 0
        seq = tonumber(redis.call('GET', KEYS[4]) or '0')
        first_seq = seq
      end
      if stock <= 0 then
        sold_out = true
        mark = true
        answer = -2
      else
        stock = stock - 1
        seq = seq + 1
        if not won[user] then
          won[user] = true
          winners[#winners + 1] = user
        end
        have = have + 1
        counts[user] = have
        wins[#wins + 1] = user .. ':' .. have
        answer = {1, seq, stock, '', 0, #wins - 1}
        answers[#answers + 1] = answer
        if stock == 0 then
          sold_out = true
          mark = true
        end
      end
    end
  end
  out[i] = answer
end
if #winners > 0 then
  local w = table.concat(wins, ',')
  local id = redis.call('XADD', KEYS[5], '*', 'p', first_seq + 1, 'w', w)
  local dash = string.find(id, '-', 1, true)
  if tonumber(string.sub(id, dash + 1)) >= 1000 then
    redis.call('XDEL', KEYS[5], id)
    id = redis.call('XADD', KEYS[5], (tonumber(string.sub(id, 1, dash - 1)) + 1) .. '-0',
                    'p', first_seq + 1, 'w', w)
  end
  redis.call('DECRBY', KEYS[2], seq - first_seq)
  redis.call('INCRBY', KEYS[4], seq - first_seq)
  local fields = {}  -- HSET: the counts the bitmap cannot hold
  local bits = {}    -- BITFIELD SET: first coupons of users below the bound (bits_below)
  for _, user in ipairs(winners) do
    local id = tonumber(user)
    if counts[user] == 1 and id < bits_below then
      bits[#bits + 1] = 'SET'
      bits[#bits + 1] = 'u1'
      bits[#bits + 1] = id
      bits[#bits + 1] = 1
    else
      fields[#fields + 1] = user
      fields[#fields + 1] = counts[user]
    end
  end
  if #bits > 0 then redis.call('BITFIELD', KEYS[6], unpack(bits)) end
  if #fields > 0 then redis.call('HSET', KEYS[3], unpack(fields)) end
  local persisted = tonumber(redis.call('HGET', KEYS[1], 'persisted') or '0')
  for _, a in ipairs(answers) do
    a[4] = id
    a[5] = a[2] - persisted
  end
end
-- Marked only on the gate path and for a stock that exists: publishing sets an absent one
-- (SET NX) afterwards.
if mark and left and not meta then redis.call('HSET', KEYS[1], 'gate', '-' .. limit) end
out[n + 1] = sold_out and generation or -1
return out
