-- The review side of the vetd Functions library: transitions, notes,
-- erasure, dead-letter retry and drop. (Concatenated with src/lua/intake.lua.)
--
-- Each Function checks everything first and writes only after the last
-- check: Redis does not roll a Function back, so a failed check must leave
-- nothing half-written. All JSON (history events, notification envelopes)
-- is built by vetctl in C and stored as given; times come from C too.

-- The transition table arrives from C as state_table_lua() renders it,
-- {qualified={in_review=true,...},...}: parsed here, never evaluated, so C
-- and Lua always agree.
local function rv_table(text)
  local t = {}
  for from, body in string.gmatch(text, '([%w_]+)={([^}]*)}') do
    local set = {}
    for to in string.gmatch(body, '([%w_]+)=true') do
      set[to] = true
    end
    t[from] = set
  end
  return t
end

local function rv_allowed(text, from, to)
  local t = rv_table(text)
  return t[from] ~= nil and t[from][to] == true
end

-- mark: KEYS app, history, state set of `from`, state set of `to`,
-- notifications, roles index. ARGV id, expected version, from, to, table,
-- updated_at, reviewer, note ('' = none), history event, envelope ('' =
-- none). Answers {status, version, state}.
local function rv_mark(keys, args)
  local id, expect, from, to = args[1], args[2], args[3], args[4]
  local cur = redis.call('HMGET', keys[1], 'state', 'version', 'score', 'role')
  if not cur[1] then
    return {'notfound', '0', ''}
  end
  if cur[1] == to then
    return {'noop', cur[2], cur[1]}
  end
  if cur[2] ~= expect or cur[1] ~= from then
    return {'conflict', cur[2], cur[1]}
  end
  if to == 'erased' or not rv_allowed(args[5], from, to) then
    return {'forbidden', cur[2], cur[1]}
  end
  local version = tostring(tonumber(cur[2]) + 1)
  redis.call('HSET', keys[1], 'state', to, 'version', version, 'updated_at', args[6],
             'reviewer', args[7])
  if args[8] ~= '' then
    redis.call('HSET', keys[1], 'note', args[8])
  end
  redis.call('ZREM', keys[3], id)
  redis.call('ZADD', keys[4], tonumber(cur[3]) or 0, id)
  redis.call('RPUSH', keys[2], args[9])
  if args[10] ~= '' then
    redis.call('LPUSH', keys[5], args[10])
  end
  if cur[4] then
    redis.call('SADD', keys[6], cur[4])
  end
  return {'ok', version, to}
end

-- note: KEYS app, history. ARGV state the event was built for, event,
-- note text. A note changes no version; an erased application takes none.
local function rv_note(keys, args)
  local state = redis.call('HGET', keys[1], 'state')
  if not state then
    return {'notfound', ''}
  end
  if state == 'erased' then
    return {'forbidden', state}
  end
  if state ~= args[1] then
    return {'conflict', state}
  end
  redis.call('HSET', keys[1], 'note', args[3])
  redis.call('RPUSH', keys[2], args[2])
  return {'ok', state}
end

-- The history's fingerprint: vetctl computes the same over what it read,
-- so a history that grew meanwhile is a conflict, not a lost note.
local function rv_fingerprint(items)
  local parts = {}
  for i, item in ipairs(items) do
    parts[i] = #item .. ':' .. item
  end
  return redis.sha1hex(table.concat(parts))
end

-- Remove every notification of application `id` from the lists
-- KEYS[first .. first+n-1]. The envelope is read, never rewritten.
local function rv_scrub_notifications(keys, first, n, id)
  local removed = 0
  for k = first, first + n - 1 do
    for _, item in ipairs(redis.call('LRANGE', keys[k], 0, -1)) do
      local ok, env = pcall(cjson.decode, item)
      if ok and type(env) == 'table' and env.id == id then
        removed = removed + redis.call('LREM', keys[k], 0, item)
      end
    end
  end
  return removed
end

-- Delete the dead letters KEYS[first .. first+n-1] whose email_sha1 is
-- sha1, and their seqs from the `P dead` list KEYS[deadlist].
local function rv_scrub_dead(keys, deadlist, first, n, sha1)
  local removed = 0
  for k = first, first + n - 1 do
    if sha1 ~= '' and redis.call('HGET', keys[k], 'email_sha1') == sha1 then
      local seq = string.match(keys[k], ':(%d+)$')
      redis.call('DEL', keys[k])
      redis.call('LREM', keys[deadlist], 0, seq)
      removed = removed + 1
    end
  end
  return removed
end

-- erase: KEYS app, history, state set of `from`, state set `erased`,
-- `P dead`, by-email set, then n notification lists, then d dead-letter
-- hashes. ARGV id, from, expected version, table, updated_at, reviewer,
-- event, history fingerprint, n, d, email_sha1, then pairs (index, text)
-- of rewritten history events (their notes replaced by "[erased]").
-- An application already erased is scrubbed again (late notifications,
-- dead letters) without a second event. Answers {status, version,
-- notifications removed, dead letters removed}.
local function rv_erase(keys, args)
  local id, from, expect = args[1], args[2], args[3]
  local n, d = tonumber(args[9]), tonumber(args[10])
  local cur = redis.call('HMGET', keys[1], 'state', 'version', 'score')
  if not cur[1] then
    return {'notfound', '0', 0, 0}
  end
  local again = cur[1] == 'erased'
  if not again then
    if cur[1] ~= from or (expect ~= '' and cur[2] ~= expect) or
       rv_fingerprint(redis.call('LRANGE', keys[2], 0, -1)) ~= args[8] then
      return {'conflict', cur[2], 0, 0}
    end
    if not rv_allowed(args[4], from, 'erased') then
      return {'forbidden', cur[2], 0, 0}
    end
  end
  local version = cur[2]
  if not again then
    version = tostring(tonumber(cur[2]) + 1)
    for i = 12, #args - 1, 2 do
      redis.call('LSET', keys[2], tonumber(args[i]), args[i + 1])
    end
    redis.call('RPUSH', keys[2], args[7])
    redis.call('HDEL', keys[1], 'profile', 'name', 'email', 'analysis', 'note')
    redis.call('HSET', keys[1], 'state', 'erased', 'version', version, 'updated_at', args[5],
               'reviewer', args[6])
    redis.call('ZREM', keys[3], id)
    redis.call('ZADD', keys[4], tonumber(cur[3]) or 0, id)
  end
  redis.call('SREM', keys[6], id)
  local nr = rv_scrub_notifications(keys, 7, n, id)
  local dr = rv_scrub_dead(keys, 5, 7 + n, d, args[11])
  return {again and 'noop' or 'ok', version, nr, dr}
end

-- dead_erase: KEYS `P dead`, then dead-letter hashes. ARGV email_sha1.
-- For an address with dead letters but no stored application.
local function rv_dead_erase(keys, args)
  return rv_scrub_dead(keys, 1, 2, #keys - 1, args[1])
end

-- dead_retry: KEYS dead-letter hash, `P dead`, `P deliveries`,
-- `P submissions`. ARGV seq. The raw payload goes back to the taking end
-- (the right) of the queue byte-for-byte, its delivery count is reset and
-- the dead letter is gone, all at once.
local function rv_dead_retry(keys, args)
  local f = redis.call('HMGET', keys[1], 'payload', 'digest')
  if redis.call('EXISTS', keys[1]) == 0 then
    return 'notfound'
  end
  if not f[1] then
    return 'nopayload'
  end
  local digest = f[2]
  if not digest or digest == '' then
    digest = redis.sha1hex(f[1])
  end
  redis.call('HDEL', keys[3], digest)
  redis.call('RPUSH', keys[4], f[1])
  redis.call('DEL', keys[1])
  redis.call('LREM', keys[2], 0, args[1])
  return 'ok'
end

-- dead_drop: KEYS dead-letter hash, `P dead`. ARGV seq.
local function rv_dead_drop(keys, args)
  local existed = redis.call('DEL', keys[1])
  local listed = redis.call('LREM', keys[2], 0, args[1])
  if existed == 0 and listed == 0 then
    return 'notfound'
  end
  return 'ok'
end

redis.register_function('@LIB@_mark', rv_mark)
redis.register_function('@LIB@_note', rv_note)
redis.register_function('@LIB@_erase', rv_erase)
redis.register_function('@LIB@_dead_erase', rv_dead_erase)
redis.register_function('@LIB@_dead_retry', rv_dead_retry)
redis.register_function('@LIB@_dead_drop', rv_dead_drop)
