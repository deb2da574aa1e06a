-- The intake side of the vetd Functions library (SPEC §2, §3, §7): take,
-- settle, requeue, leave, heartbeat, claim and reclaim. Every key comes in
-- KEYS (the one exception is a dead letter's hash, named by the counter);
-- times and JSON come from C as ready text; every check precedes the
-- first write; every settlement starts with the LREM fence.

-- Append one dead letter P dead:<seq> and its seq to P dead. f is the
-- field list after `reason`; a nil instance, payload or email_sha1 is left
-- out (a no_consent letter keeps only reason, detail, time and digest).
local function vetd_dead_letter(dead, dead_seq, f)
    local seq = redis.call('INCR', dead_seq)
    local h = {'reason', f.reason, 'detail', f.detail, 'at', f.at, 'digest', f.digest}
    if f.instance then
        h[#h + 1] = 'instance'
        h[#h + 1] = f.instance
    end
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
-- Returns {too_large, poison, item, digest, item, digest, ...}: the counts
-- of the dead letters this call made, then the items in FIFO order;
-- oversized and poison items become dead letters here and never travel to
-- vetd (which counts them from the two numbers).
local function vetd_take(keys, args)
    local n, maxb, maxd = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local out = {0, 0}
    for _ = 1, n do
        local item = redis.call('RPOP', keys[1])
        if not item then break end
        local digest = redis.sha1hex(item)
        local f = {at = args[4], instance = args[5], digest = digest, payload = item}
        if #item > maxb then
            f.reason = 'too_large'
            f.detail = 'payload: larger than max_payload_bytes (' .. maxb .. ')'
            vetd_dead_letter(keys[4], keys[5], f)
            out[1] = out[1] + 1
        else
            local count = redis.call('HINCRBY', keys[3], digest, 1)
            if count > maxd then
                f.reason = 'poison'
                f.detail = 'payload: taken ' .. (count - 1) ..
                           ' times without being settled (max_deliveries ' .. maxd .. ')'
                redis.call('HDEL', keys[3], digest)
                vetd_dead_letter(keys[4], keys[5], f)
                out[2] = out[2] + 1
            else
                redis.call('LPUSH', keys[2], item)
                out[#out + 1] = item
                out[#out + 1] = digest
            end
        end
    end
    return out
end

-- One accepted item of settle: args from position i (16 of them), keys
-- from position k (app, history, state set, by-email, staging hash). The
-- analysis never enters Lua: vetd wrote it into the staging hash just
-- before this call, and a new application is that hash renamed. Checks
-- first (reads only), then the fence, then the writes.
local function vetd_settle_accept(keys, args, i, k, ctx)
    local raw, digest, id = args[i + 1], args[i + 2], args[i + 3]
    local app, stage = keys[k], keys[k + 4]
    local stored = redis.call('HGET', app, 'digest')
    if not stored and redis.call('EXISTS', stage) == 0 then
        -- The staging hash is gone (expired, or deleted by a fenced
        -- process of the same name): nothing written, vetd stages again.
        return 'restage'
    end
    if redis.call('LREM', ctx.processing, -1, raw) == 0 then
        redis.call('DEL', stage)
        return 'stale'
    end
    redis.call('HDEL', ctx.deliveries, digest)
    if stored then
        redis.call('DEL', stage)
        if stored == digest then
            return 'duplicate'
        end
        vetd_dead_letter(ctx.dead, ctx.dead_seq, {
            reason = 'id_conflict', detail = 'id: already used by a different submission',
            at = ctx.now, instance = ctx.instance, digest = digest,
            email_sha1 = args[i + 14], payload = raw})
        return 'id_conflict'
    end
    -- The app was checked absent, so the rename replaces nothing; it
    -- carries the staging TTL along, which PERSIST drops.
    redis.call('RENAME', stage, app)
    redis.call('PERSIST', app)
    local state, score = args[i + 5], args[i + 6]
    redis.call('HSET', app, 'id', id, 'role', args[i + 4], 'state', state, 'score', score,
               'qualified', args[i + 7], 'name', args[i + 8], 'email', args[i + 9],
               'submitted_at', args[i + 10], 'received_at', args[i + 11],
               'scored_at', args[i + 12], 'updated_at', args[i + 12], 'version', 1,
               'digest', digest, 'profile', raw, 'reviewer', '', 'note', '')
    redis.call('ZADD', keys[k + 2], score, id)
    redis.call('RPUSH', keys[k + 1], args[i + 13])
    redis.call('SADD', keys[k + 3], id)
    if not ctx.roles_added[args[i + 4]] then
        redis.call('SADD', ctx.roles, args[i + 4])
        ctx.roles_added[args[i + 4]] = true
    end
    if args[i + 15] ~= '' then
        redis.call('LPUSH', ctx.notifications, args[i + 15])
    end
    return 'accepted'
end

-- settle: KEYS processing, deliveries, dead, dead:seq, notifications, roles
-- (the index of role ids with applications), then 5 keys per accepted
-- item (app, history, state set, by-email, staging hash P stage:<instance>:
-- <digest> holding the `analysis` field); ARGV now, instance, then one
-- group per item:
--   'A' raw digest id role state score qualified name email submitted_at
--       received_at scored_at history_event email_sha1 envelope
--       (envelope: the whole candidate.qualified job, or '' when not
--       qualified)
--   'D' raw digest reason detail email_sha1 keep_payload
-- Returns one answer per item: accepted, duplicate, id_conflict, dead,
-- stale (the fence removed nothing: settled or reclaimed already) or
-- restage (the staging hash is missing; nothing was written for the item).
local function vetd_settle(keys, args)
    local ctx = {processing = keys[1], deliveries = keys[2], dead = keys[3],
                 dead_seq = keys[4], notifications = keys[5], roles = keys[6],
                 now = args[1], instance = args[2], roles_added = {}}
    local out = {}
    local i, k = 3, 7
    while i <= #args do
        if args[i] == 'A' then
            out[#out + 1] = vetd_settle_accept(keys, args, i, k, ctx)
            i, k = i + 16, k + 5
        else
            local raw, digest = args[i + 1], args[i + 2]
            if redis.call('LREM', ctx.processing, -1, raw) == 0 then
                out[#out + 1] = 'stale'
            else
                local f = {reason = args[i + 3], detail = args[i + 4], at = ctx.now,
                           digest = digest, email_sha1 = args[i + 5]}
                if args[i + 6] == '1' then
                    f.instance = ctx.instance
                    f.payload = raw
                end
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
