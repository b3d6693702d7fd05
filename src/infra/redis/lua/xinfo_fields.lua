-- xinfo-fields: a fragment the XINFO-reading scripts start with (prepended in C++ to stream-forget-
-- consumers, stream-stale-holders and stream-trim). XINFO answers each group or consumer as a flat
-- list of field, value, field, value...; fields(flat) turns one into a table by field name.
local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
