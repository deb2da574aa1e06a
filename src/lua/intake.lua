-- The intake side of the vetd Functions library (SPEC §2, §3, §7): take,
-- settle, requeue, leave, heartbeat, claim and reclaim. Every key comes in
-- KEYS (the one exception is a dead letter's hash, named by the counter);
-- times and JSON come from C as ready text; every check precedes the
-- first write; every settlement starts with the LREM fence.

-- Append one dead letter P dead:<seq> and its seq to P dead. f is the
-- field list after `reason`; a nil payload or email_sha1 is left out.
local function vetd_dead_letter(dead, dead_seq, f)
    local seq = redis.call('INCR', dead_seq)
    local h = {'reason', f.reason, 'detail', f.detail, 'at', f.at,
               'instance', f.instance, 'digest', f.digest}
    if f.email_sha1 and f.email_sha1 ~= '' then
        h[#h + 1] = 'email_sha1'
        h[#h + 1] = f.email_sha1
    end
    if f.payload then
        h[#h + 1] = 'payload'
        h[#h + 1] = f.payload
    end
    redis.call('HSET', dead .. ':' .. seq, unpack(h))
    redis.call('RPUSH', dead, seq)
    return seq
end

-- Move every item of list `from` to the taking (right) end of `to`,
-- oldest last so that it is taken first again. Returns the count.
local function vetd_move_all(from, to)
    local n = 0
    while redis.call('LMOVE', from, to, 'LEFT', 'RIGHT') do
        n = n + 1
    end
    return n
end

-- Is the heartbeat value `cur` (false when absent) ours or absent?
local function vetd_hb_ours(cur, token)
    return (not cur) or string.find(cur, '"token":"' .. token .. '"', 1, true) ~= nil
end

-- take: KEYS submissions, processing, deliveries, dead, dead:seq;
-- ARGV batch_size, max_payload_bytes, max_deliveries, now, instance.
-- Returns {item, digest, item, digest, ...} in FIFO order; oversized and
-- poison items become dead letters here and never travel to vetd.
local function vetd_take(keys, args)
    local n, maxb, maxd = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local out = {}
    for _ = 1, n do
        local item = redis.call('RPOP', keys[1])
        if not item then break end
        local digest = redis.sha1hex(item)
        local f = {at = args[4], instance = args[5], digest = digest, payload = item}
        if #item > maxb then
            f.reason = 'too_large'
            f.detail = 'payload: larger than max_payload_bytes (' .. maxb .. ')'
            vetd_dead_letter(keys[4], keys[5], f)
        else
            local count = redis.call('HINCRBY', keys[3], digest, 1)
            if count > maxd then
                f.reason = 'poison'
                f.detail = 'payload: taken ' .. (count - 1) ..
                           ' times without being settled (max_deliveries ' .. maxd .. ')'
                redis.call('HDEL', keys[3], digest)
                vetd_dead_letter(keys[4], keys[5], f)
            else
                redis.call('LPUSH', keys[2], item)
                out[#out + 1] = item
                out[#out + 1] = digest
            end
        end
    end
    return out
end

-- One accepted item of settle: args from position i (17 of them), keys
-- from position k (app, history, state set, by-email).
local function vetd_settle_accept(keys, args, i, k, ctx)
    local raw, digest, id = args[i + 1], args[i + 2], args[i + 3]
    local app = keys[k]
    local stored = redis.call('HGET', app, 'digest')
    if stored then
        if stored == digest then
            redis.call('HDEL', ctx.deliveries, digest)
            return 'duplicate'
        end
        redis.call('HDEL', ctx.deliveries, digest)
        vetd_dead_letter(ctx.dead, ctx.dead_seq, {
            reason = 'id_conflict', detail = 'id: already used by a different submission',
            at = ctx.now, instance = ctx.instance, digest = digest,
            email_sha1 = args[i + 15], payload = raw})
        return 'id_conflict'
    end
    local state, score = args[i + 5], args[i + 6]
    redis.call('HSET', app, 'id', id, 'role', args[i + 4], 'state', state, 'score', score,
               'qualified', args[i + 7], 'name', args[i + 8], 'email', args[i + 9],
               'submitted_at', args[i + 10], 'received_at', args[i + 11],
               'scored_at', args[i + 12], 'updated_at', args[i + 12], 'version', 1,
               'digest', digest, 'profile', raw, 'analysis', args[i + 13],
               'reviewer', '', 'note', '')
    redis.call('ZADD', keys[k + 2], score, id)
    redis.call('RPUSH', keys[k + 1], args[i + 14])
    redis.call('SADD', keys[k + 3], id)
    if not ctx.roles_added[args[i + 4]] then
        redis.call('SADD', ctx.roles, args[i + 4])
        ctx.roles_added[args[i + 4]] = true
    end
    if args[i + 16] ~= '' then
        -- The envelope's head ends in `"analysis":`; the analysis text
        -- itself travels once and is spliced in as it is.
        redis.call('LPUSH', ctx.notifications, args[i + 16] .. args[i + 13] .. '}}')
    end
    redis.call('HDEL', ctx.deliveries, digest)
    return 'accepted'
end

-- settle: KEYS processing, deliveries, dead, dead:seq, notifications, roles
-- (the index of role ids with applications), then 4 keys per accepted item; ARGV now, instance, then one group per item:
--   'A' raw digest id role state score qualified name email submitted_at
--       received_at scored_at analysis history_event email_sha1 envelope_head
--       (envelope_head: the candidate.qualified job up to `"analysis":`, or
--       '' when not qualified)
--   'D' raw digest reason detail email_sha1 keep_payload
-- Returns one answer per item: accepted, duplicate, id_conflict, dead or
-- stale (the fence removed nothing: settled or reclaimed already).
local function vetd_settle(keys, args)
    local ctx = {processing = keys[1], deliveries = keys[2], dead = keys[3],
                 dead_seq = keys[4], notifications = keys[5], roles = keys[6],
                 now = args[1], instance = args[2], roles_added = {}}
    local out = {}
    local i, k = 3, 7
    while i <= #args do
        local kind, raw = args[i], args[i + 1]
        local fenced = redis.call('LREM', ctx.processing, 1, raw) == 0
        if kind == 'A' then
            if fenced then
                out[#out + 1] = 'stale'
            else
                out[#out + 1] = vetd_settle_accept(keys, args, i, k, ctx)
            end
            i, k = i + 17, k + 4
        else
            if fenced then
                out[#out + 1] = 'stale'
            else
                local digest = args[i + 2]
                local f = {reason = args[i + 3], detail = args[i + 4], at = ctx.now,
                           instance = ctx.instance, digest = digest,
                           email_sha1 = args[i + 5]}
                if args[i + 6] == '1' then f.payload = raw end
                redis.call('HDEL', ctx.deliveries, digest)
                vetd_dead_letter(ctx.dead, ctx.dead_seq, f)
                out[#out + 1] = 'dead'
            end
            i = i + 7
        end
    end
    return out
end

-- requeue: KEYS processing, submissions, instance; ARGV token. Puts this
-- instance's unsettled items back at the taking end, unless another
-- process holds the name. Returns the count, or -1 for a foreign holder.
local function vetd_requeue(keys, args)
    if not vetd_hb_ours(redis.call('GET', keys[3]), args[1]) then
        return -1
    end
    return vetd_move_all(keys[1], keys[2])
end

-- leave: KEYS processing, submissions, instance, instances; ARGV token,
-- name. A clean stop: requeue, drop the heartbeat, leave the set.
local function vetd_leave(keys, args)
    if not vetd_hb_ours(redis.call('GET', keys[3]), args[1]) then
        return -1
    end
    local n = vetd_move_all(keys[1], keys[2])
    redis.call('DEL', keys[3])
    redis.call('SREM', keys[4], args[2])
    return n
end

-- heartbeat: KEYS instance, instances, submissions, processing, dead,
-- notifications; ARGV token, heartbeat JSON, ttl_ms, name. Refreshes our
-- heartbeat unless a foreign token holds it; returns {'ok', depths of the
-- four lists, members of P instances...} or {'foreign'}.
local function vetd_heartbeat(keys, args)
    if not vetd_hb_ours(redis.call('GET', keys[1]), args[1]) then
        return {'foreign'}
    end
    redis.call('SET', keys[1], args[2], 'PX', args[3])
    redis.call('SADD', keys[2], args[4])
    local out = {'ok', redis.call('LLEN', keys[3]), redis.call('LLEN', keys[4]),
                 redis.call('LLEN', keys[5]), redis.call('LLEN', keys[6])}
    for _, m in ipairs(redis.call('SMEMBERS', keys[2])) do
        out[#out + 1] = m
    end
    return out
end

-- claim: KEYS instance, instances; ARGV heartbeat JSON, ttl_ms, name,
-- expected ('' = absent, else the exact value last seen). A compare-and-
-- set that takes the name over; answers 'ok' or 'changed'.
local function vetd_claim(keys, args)
    local cur = redis.call('GET', keys[1])
    if (args[4] == '' and cur) or (args[4] ~= '' and cur ~= args[4]) then
        return 'changed'
    end
    redis.call('SET', keys[1], args[1], 'PX', args[2])
    redis.call('SADD', keys[2], args[3])
    return 'ok'
end

-- reclaim: KEYS submissions, instances, then (instance, processing) per
-- candidate; ARGV the candidates' names. Moves the processing list of
-- every candidate whose heartbeat is gone back to the taking end and
-- prunes it from P instances. Returns {name, count, ...} of those moved.
local function vetd_reclaim(keys, args)
    local out = {}
    for j, name in ipairs(args) do
        local hb, proc = keys[1 + 2 * j], keys[2 + 2 * j]
        if redis.call('EXISTS', hb) == 0 then
            out[#out + 1] = name
            out[#out + 1] = vetd_move_all(proc, keys[1])
            redis.call('SREM', keys[2], name)
        end
    end
    return out
end

redis.register_function('@LIB@_take', vetd_take)
redis.register_function('@LIB@_settle', vetd_settle)
redis.register_function('@LIB@_requeue', vetd_requeue)
redis.register_function('@LIB@_leave', vetd_leave)
redis.register_function('@LIB@_heartbeat', vetd_heartbeat)
redis.register_function('@LIB@_claim', vetd_claim)
redis.register_function('@LIB@_reclaim', vetd_reclaim)
