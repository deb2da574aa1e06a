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
-- oldest last so that it is taken first again. With a deliveries hash,
-- take back the delivery each item's take counted (a clean stop is not a
-- crash). Returns the count.
local function vetd_move_all(from, to, deliveries)
    local n = 0
    while true do
        local item = redis.call('LMOVE', from, to, 'LEFT', 'RIGHT')
        if not item then
            break
        end
        if deliveries then
            local d = redis.sha1hex(item)
            if redis.call('HINCRBY', deliveries, d, -1) <= 0 then
                redis.call('HDEL', deliveries, d)
            end
        end
        n = n + 1
    end
    return n
end

-- Is the heartbeat value `cur` (false when absent) ours or absent?
local function vetd_hb_ours(cur, token)
    return (not cur) or string.find(cur, '"token":"' .. token .. '"', 1, true) ~= nil
end

-- redis.call(cmd, head..., vals...) with the values of list vals in
-- chunks (Lua can only unpack so many at once); no call when vals is
-- empty. Returns the replies, one per chunk.
local VETD_CHUNK = 256
local function vetd_chunked(cmd, head, vals)
    local replies = {}
    for first = 1, #vals, VETD_CHUNK do
        local argv = {cmd, unpack(head)}
        for j = first, math.min(#vals, first + VETD_CHUNK - 1) do
            argv[#argv + 1] = vals[j]
        end
        replies[#replies + 1] = redis.call(unpack(argv))
    end
    return replies
end

-- cmd on key with the values of vals (LPUSH, HSET, HDEL, ZADD, ...).
local function vetd_call_list(cmd, key, vals)
    vetd_chunked(cmd, {key}, vals)
end

-- HMGET of many fields: one reply per field.
local function vetd_hmget(key, fields)
    local out = {}
    for _, r in ipairs(vetd_chunked('HMGET', {key}, fields)) do
        for _, v in ipairs(r) do
            out[#out + 1] = v
        end
    end
    return out
end

-- How many of the keys in list exist (EXISTS counts a key once per
-- mention).
local function vetd_count_existing(list)
    local n = 0
    for _, r in ipairs(vetd_chunked('EXISTS', {}, list)) do
        n = n + r
    end
    return n
end

-- take: KEYS submissions, processing, deliveries, dead, dead:seq;
-- ARGV batch_size, max_payload_bytes, max_deliveries, now, instance.
-- Returns {too_large, poison, deferred, item, digest, item, digest, ...}:
-- the counts of the dead letters this call made and of the items it put
-- back, then the items taken, in FIFO order. Oversized and poison items
-- become dead letters here and never travel to vetd. A redelivery (an
-- item taken before and never settled: vetd may have died on it) is taken
-- alone, so an item that kills vetd takes no neighbour with it to poison:
-- the items after it go back to the taking end, in order. A take counts
-- one delivery per digest, however many copies it holds. One RPOP, one
-- HMGET and one HSET of the counts and one LPUSH per batch.
local function vetd_take(keys, args)
    local n, maxb, maxd = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local out = {0, 0, 0}
    local items = redis.call('RPOP', keys[1], n)
    if not items then
        return out
    end
    local kept, digests = {}, {}
    for _, item in ipairs(items) do
        local digest = redis.sha1hex(item)
        if #item > maxb then
            vetd_dead_letter(keys[4], keys[5], {
                reason = 'too_large',
                detail = 'payload: larger than max_payload_bytes (' .. maxb .. ')',
                at = args[4], instance = args[5], digest = digest, payload = item})
            out[1] = out[1] + 1
        else
            kept[#kept + 1] = item
            digests[#digests + 1] = digest
        end
    end
    if #kept == 0 then
        return out
    end
    local stored = vetd_hmget(keys[3], digests)
    local count = {} -- digest -> count after this take, or false once poison
    local why = {}   -- digest -> the poison detail, for its copies
    local order = {} -- digests counted, in first-seen order, for the writes
    local taken, back = {}, {}
    for j, item in ipairs(kept) do
        local d = digests[j]
        local prior = tonumber(stored[j]) or 0
        if #back > 0 or (prior > 0 and #taken > 0 and count[d] == nil) then
            back[#back + 1] = item -- after a redelivery, or one to take alone
        else
            if count[d] == nil then -- the first copy in this take: one delivery
                local c = prior + 1
                order[#order + 1] = d
                count[d] = c <= maxd and c
                if not count[d] then
                    why[d] = 'payload: taken ' .. prior ..
                             ' times without being settled (max_deliveries ' .. maxd .. ')'
                end
            end
            if count[d] then
                taken[#taken + 1] = item
                out[#out + 1] = item
                out[#out + 1] = d
                if prior > 0 then
                    back[#back + 1] = false -- a redelivery: nothing more this time
                end
            else -- poison, and so is every copy of it
                vetd_dead_letter(keys[4], keys[5], {
                    reason = 'poison', detail = why[d],
                    at = args[4], instance = args[5], digest = d, payload = item})
                out[2] = out[2] + 1
            end
        end
    end
    -- The marker false only closed the batch; the rest go back, the first
    -- of them last, so it is taken first.
    local push = {}
    for j = #back, 1, -1 do
        if back[j] then
            push[#push + 1] = back[j]
        end
    end
    out[3] = #push
    vetd_call_list('RPUSH', keys[1], push)
    local set, del = {}, {}
    for _, d in ipairs(order) do
        if count[d] then
            set[#set + 1] = d
            set[#set + 1] = count[d]
        else
            del[#del + 1] = d
        end
    end
    vetd_call_list('HSET', keys[3], set)
    vetd_call_list('HDEL', keys[3], del)
    vetd_call_list('LPUSH', keys[2], taken)
    return out
end

-- settle: KEYS processing, deliveries, dead, dead:seq, notifications, roles
-- (the index of role ids with applications), then 5 keys per accepted
-- item (app, history, state set, by-email, staging hash P stage:<instance>:
-- <digest>); ARGV now, instance, then one group per item:
--   'A' raw digest id role state score history_event email_sha1 envelope
--       (envelope: the whole candidate.qualified job, or '' when not
--       qualified)
--   'D' raw digest reason detail email_sha1 keep_payload
-- The application itself never enters Lua: vetd wrote the whole hash
-- (profile and analysis included) into the staging hash just before this
-- call, and a new application is that hash renamed. Returns one answer per
-- item: accepted, duplicate, id_conflict, dead, stale (the fence removed
-- nothing: settled or reclaimed already) or restage (the staging hash is
-- missing and the application absent; nothing was written for the item).
-- Per item: the fence, the rename, the history and the e-mail index; per
-- batch: the delivery counts, the state sets, the roles and the jobs.
local function vetd_settle(keys, args)
    local processing, deliveries, dead, dead_seq = keys[1], keys[2], keys[3], keys[4]
    local now, instance = args[1], args[2]
    local items = {}
    local apps, stages = {}, {}
    local i, k = 3, 7
    while i <= #args do
        local it = {kind = args[i], raw = args[i + 1], digest = args[i + 2]}
        if it.kind == 'A' then
            it.id, it.role, it.state, it.score = args[i + 3], args[i + 4], args[i + 5], args[i + 6]
            it.event, it.email_sha1, it.envelope = args[i + 7], args[i + 8], args[i + 9]
            it.app, it.history, it.zset = keys[k], keys[k + 1], keys[k + 2]
            it.by_email, it.stage = keys[k + 3], keys[k + 4]
            apps[#apps + 1] = it.app
            stages[#stages + 1] = it.stage
            i, k = i + 10, k + 5
        else
            it.reason, it.detail, it.email_sha1, it.keep = args[i + 3], args[i + 4],
                                                           args[i + 5], args[i + 6]
            i = i + 7
        end
        items[#items + 1] = it
    end
    -- Reads first, once per batch: usually no application exists yet and
    -- every staging hash does, and then no item needs a read of its own.
    local any_app = vetd_count_existing(apps) > 0
    local all_staged = vetd_count_existing(stages) == #stages
    local created, gone = {}, {} -- app -> digest stored by this call; stage -> consumed
    local hdel, zadd, zsets, notes, roles = {}, {}, {}, {}, {}
    local out = {}
    for _, it in ipairs(items) do
        local answer
        if it.kind == 'A' then
            local stored = created[it.app]
            if stored == nil and any_app then
                stored = redis.call('HGET', it.app, 'digest')
            end
            if not stored and (gone[it.stage] or
                               (not all_staged and redis.call('EXISTS', it.stage) == 0)) then
                answer = 'restage'
            elseif redis.call('LREM', processing, -1, it.raw) == 0 then
                redis.call('DEL', it.stage)
                gone[it.stage] = true
                answer = 'stale'
            else
                hdel[#hdel + 1] = it.digest
                if stored then
                    redis.call('DEL', it.stage)
                    gone[it.stage] = true
                    if stored == it.digest then
                        answer = 'duplicate'
                    else
                        vetd_dead_letter(dead, dead_seq, {
                            reason = 'id_conflict',
                            detail = 'id: already used by a different submission',
                            at = now, instance = instance, digest = it.digest,
                            email_sha1 = it.email_sha1, payload = it.raw})
                        answer = 'id_conflict'
                    end
                else
                    -- The app was checked absent, so the rename replaces
                    -- nothing; PERSIST drops the staging TTL it carried.
                    redis.call('RENAME', it.stage, it.app)
                    redis.call('PERSIST', it.app)
                    created[it.app] = it.digest
                    gone[it.stage] = true
                    if not zadd[it.zset] then
                        zadd[it.zset] = {}
                        zsets[#zsets + 1] = it.zset
                    end
                    local z = zadd[it.zset]
                    z[#z + 1] = it.score
                    z[#z + 1] = it.id
                    redis.call('RPUSH', it.history, it.event)
                    redis.call('SADD', it.by_email, it.id)
                    roles[it.role] = true
                    if it.envelope ~= '' then
                        notes[#notes + 1] = it.envelope
                    end
                    answer = 'accepted'
                end
            end
        elseif redis.call('LREM', processing, -1, it.raw) == 0 then
            answer = 'stale'
        else
            local f = {reason = it.reason, detail = it.detail, at = now, digest = it.digest,
                       email_sha1 = it.email_sha1}
            if it.keep == '1' then
                f.instance = instance
                f.payload = it.raw
            end
            hdel[#hdel + 1] = it.digest
            vetd_dead_letter(dead, dead_seq, f)
            answer = 'dead'
        end
        out[#out + 1] = answer
    end
    vetd_call_list('HDEL', deliveries, hdel)
    for _, z in ipairs(zsets) do
        vetd_call_list('ZADD', z, zadd[z])
    end
    local role_list = {}
    for role in pairs(roles) do
        role_list[#role_list + 1] = role
    end
    vetd_call_list('SADD', keys[6], role_list)
    vetd_call_list('LPUSH', keys[5], notes)
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

-- leave: KEYS processing, submissions, instance, instances, deliveries;
-- ARGV token, name. A clean stop: requeue, drop the heartbeat, leave the
-- set. The items go back uncounted: a clean stop is not a crash, so it
-- brings no item closer to poison.
local function vetd_leave(keys, args)
    if not vetd_hb_ours(redis.call('GET', keys[3]), args[1]) then
        return -1
    end
    local n = vetd_move_all(keys[1], keys[2], keys[5])
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
