-- stream-dead-letter: copies entry ARGV[1] of stream KEYS[1] to the dead-letter stream KEYS[2],
-- with the notes source = the entry id and error = ARGV[2], once: the hash KEYS[3] marks the
-- entries dead-lettered, so an entry delivered again after a crash between this and its
-- acknowledgement is not added twice (the mark goes with the acknowledgement). With a consumer
-- group in ARGV[3] the entry is also acknowledged and deleted (a malformed entry, which nothing
-- else will settle). Returns 1 if added, 0 if it was there already or is gone.
if redis.call('HSETNX', KEYS[3], ARGV[1], '1') == 0 then
  if ARGV[3] ~= '' then redis.call('XACK', KEYS[1], ARGV[3], ARGV[1]) end
  return 0
end
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  -- Gone from the stream (trimmed or deleted): nothing to copy, nothing to mark.
  redis.call('HDEL', KEYS[3], ARGV[1])
  if ARGV[3] ~= '' then redis.call('XACK', KEYS[1], ARGV[3], ARGV[1]) end
  return 0
end
local fields = found[1][2]
local out = {}
for i = 1, #fields, 2 do
  if fields[i] ~= 'source' and fields[i] ~= 'error' then
    out[#out + 1] = fields[i]
    out[#out + 1] = fields[i + 1]
  end
end
out[#out + 1] = 'source'
out[#out + 1] = ARGV[1]
out[#out + 1] = 'error'
out[#out + 1] = ARGV[2]
redis.call('XADD', KEYS[2], '*', unpack(out))
if ARGV[3] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[3], ARGV[1])
  redis.call('XDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return 1
