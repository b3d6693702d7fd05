-- Reads the top of one window's sums for one scope, for the refresh job to publish
-- (docs/architecture.md, "Rankings"). ARGV: family, scope (`all` or c<category>), limit.
-- Per metric (sales, revenue, views, score): the `limit` members with the highest values above
-- zero, ties by the lower product id (members are zero-padded ids, so the lexicographic order
-- of ZRANGE among equal scores is the numeric one), each with its value in all four sums.
-- O(log N + limit) per metric, whatever the catalog's size.
-- Returns: landmark, then per metric: count, then count × (member, sales, revenue, views, score).
local p = 'rank:{rank}:'
local fam, scope, k = ARGV[1], ARGV[2], tonumber(ARGV[3])
local metrics = {'sales', 'revenue', 'views', 'score'}
local function sum_key(m) return p .. 'w:' .. fam .. ':' .. m .. ':' .. scope end

local out = {redis.call('GET', p .. 'landmark') or '0'}
for _, m in ipairs(metrics) do
  local top = redis.call('ZRANGE', sum_key(m), '+inf', '(0', 'BYSCORE', 'REV', 'LIMIT', 0, k,
                         'WITHSCORES')
  local members = {}
  if #top / 2 == k and k > 0 then
    -- Members tied with the last one may have lower ids than those REV returned.
    local last = tonumber(top[#top])
    for j = 1, #top, 2 do
      if tonumber(top[j + 1]) > last then members[#members + 1] = top[j] end
    end
    local ties = redis.call('ZRANGE', sum_key(m), top[#top], top[#top], 'BYSCORE', 'LIMIT', 0,
                            k - #members)
    for _, member in ipairs(ties) do members[#members + 1] = member end
  else
    for j = 1, #top, 2 do members[#members + 1] = top[j] end
  end
  out[#out + 1] = #members
  if #members > 0 then
    local values = {}
    for _, other in ipairs(metrics) do
      values[other] = redis.call('ZMSCORE', sum_key(other), unpack(members))
    end
    for j, member in ipairs(members) do
      out[#out + 1] = member
      for _, other in ipairs(metrics) do out[#out + 1] = values[other][j] or '0' end
    end
  end
end
return out
