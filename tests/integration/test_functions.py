"""The take and settle Functions called directly, on the cases a daemon
rarely produces: one batch holding the same payload twice, an id reused
within the batch, delivery counts of repeated digests, a stale item among
fresh ones. Each batch-wide step (one HMGET/HSET of the counts, one ZADD
per state set, one LPUSH of the jobs) must leave exactly what the
one-command-per-item version of SPEC §2 would."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ROLE = "backend-developer"
NOW = "2030-01-01T00:00:00.000Z"


def doc(app_id, extra=""):
    return json.dumps({"id": app_id, "x": extra}).encode()


def digest(raw):
    return hashlib.sha1(raw).hexdigest()


def take(r, lib, p, n, maxb=100000, maxd=3):
    keys = [p + "submissions", p + "processing:i", p + "deliveries", p + "dead", p + "dead:seq"]
    return r.fcall(lib + "_take", len(keys), *keys, n, maxb, maxd, NOW, "i")


def dead_reasons(r, p):
    """The reasons of the dead letters under p, sorted."""
    return sorted(r.hget(p + "dead:" + s.decode(), "reason") for s in r.lrange(p + "dead", 0, -1))


def items(out):
    """The (item, digest) pairs of a take's answer (after its 3 counts)."""
    return [(out[i], out[i + 1].decode()) for i in range(3, len(out), 2)]


def stage(r, p, raw, app_id):
    """What vetd writes before the call: the whole application."""
    r.hset(p + "stage:i:" + digest(raw), mapping={
        "id": app_id, "role": ROLE, "state": "qualified", "score": "80", "qualified": "1",
        "digest": digest(raw), "profile": raw, "analysis": "{}", "version": "1"})
    r.pexpire(p + "stage:i:" + digest(raw), 300000)


def settle(r, lib, p, items):
    """items: ('A', raw, id) or ('D', raw); returns the answers."""
    keys = [p + "processing:i", p + "deliveries", p + "dead", p + "dead:seq",
            p + "notifications", p + "roles"]
    args = [NOW, "i"]
    for it in items:
        raw = it[1]
        if it[0] == "A":
            app_id = it[2]
            keys += [p + "app:" + app_id, p + "history:" + app_id,
                     p + "state:%s:qualified" % ROLE, p + "by-email:e",
                     p + "stage:i:" + digest(raw)]
            args += ["A", raw, digest(raw), app_id, ROLE, "qualified", "80",
                     '{"at":"%s"}' % NOW, "e", '{"event":"%s"}' % app_id]
        else:
            args += ["D", raw, digest(raw), "bad_field", "x: bad", "", "1"]
    return [a.decode() for a in r.fcall(lib + "_settle", len(keys), *(keys + args))]


def test_take_counts_once_per_take():
    """Copies in one take are one delivery; every copy of a poison item is
    poison; an oversized item is a dead letter wherever it stands."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        a, b, big = doc("a"), doc("b"), doc("big", "x" * 300)
        r.hset(p + "deliveries", digest(a), 3)  # the next take of a is its 4th
        for x in (a, a, b, big, b):  # taken in this order (RPOP)
            r.lpush(p + "submissions", x)
        out = take(r, lib, p, 10, maxb=200, maxd=3)
        h.check(out[:3] == [1, 2, 0], "too_large/poison/deferred %r" % out[:3])
        h.check(items(out) == [(b, digest(b)), (b, digest(b))], "items %r" % items(out))
        counts = r.hgetall(p + "deliveries")
        h.check(counts == {digest(b).encode(): b"1"}, "counts %r" % counts)
        h.check(r.lrange(p + "processing:i", 0, -1) == [b, b], "processing")
        reasons = dead_reasons(r, p)
        h.check(reasons == [b"poison", b"poison", b"too_large"], "dead letters %r" % reasons)
        h.check(take(r, lib, p, 10) == [0, 0, 0], "an empty queue takes nothing")


def test_take_isolates_redeliveries():
    """An item taken before and never settled (vetd may have died on it)
    is taken alone: a take stops before it, and the next takes it with
    nothing after it; the rest go back to the taking end in order."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        x, y, z = doc("x"), doc("y"), doc("z")
        r.hset(p + "deliveries", digest(x), 1)
        for v in (y, x, z):
            r.lpush(p + "submissions", v)
        out = take(r, lib, p, 10)
        h.check(out[:3] == [0, 0, 2] and items(out) == [(y, digest(y))], "first take %r" % out)
        out = take(r, lib, p, 10)
        h.check(out[:3] == [0, 0, 1] and items(out) == [(x, digest(x))], "second take %r" % out)
        h.check(r.hget(p + "deliveries", digest(x)) == b"2", "x counted again")
        out = take(r, lib, p, 10)
        h.check(out[:3] == [0, 0, 0] and items(out) == [(z, digest(z))], "third take %r" % out)
        h.check(r.llen(p + "submissions") == 0, "queue")


def test_leave_returns_items_uncounted():
    """A clean stop is not a crash: the items go back with the delivery
    their take counted taken back."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        a, b = doc("a"), doc("b")
        r.rpush(p + "processing:i", b, a)
        r.hset(p + "deliveries", mapping={digest(a): 1, digest(b): 2})
        keys = [p + "processing:i", p + "submissions", p + "instance:i", p + "instances",
                p + "deliveries"]
        n = r.fcall(lib + "_leave", len(keys), *keys, "token", "i")
        h.check(n == 2, "moved %r" % n)
        h.check(r.lrange(p + "submissions", 0, -1) == [b, a], "queue order")
        h.check(r.hgetall(p + "deliveries") == {digest(b).encode(): b"1"}, "counts")


def test_take_large_batch():
    """A batch larger than one chunk of arguments: every item comes back in
    FIFO order, counted once, held in the processing list."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        raws = [doc("a%d" % i) for i in range(600)]
        r.lpush(p + "submissions", *raws)
        out = take(r, lib, p, 1000)
        h.check(out[:3] == [0, 0, 0], "diverted %r" % out[:3])
        h.check(out[3::2] == raws, "items or order")
        h.check(r.hlen(p + "deliveries") == 600 and
                set(r.hvals(p + "deliveries")) == {b"1"}, "counts")
        h.check(r.lrange(p + "processing:i", 0, -1) == raws[::-1], "processing")


def test_settle_batch_duplicate_and_conflict():
    """One batch: a new application, the same payload again, the same id
    with other content, a stale item and a rejected one."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        a, other, ghost, bad = doc("a"), doc("a", "other"), doc("g"), doc("bad")
        for x in (a, a, other, bad):
            r.lpush(p + "processing:i", x)
        stage(r, p, a, "a")
        stage(r, p, other, "a")
        stage(r, p, ghost, "g")
        out = settle(r, lib, p, [("A", a, "a"), ("A", a, "a"), ("A", other, "a"),
                                 ("A", ghost, "g"), ("D", bad)])
        h.check(out == ["accepted", "duplicate", "id_conflict", "stale", "dead"], "answers %r" % out)
        app = r.hgetall(p + "app:a")
        h.check(app[b"digest"] == digest(a).encode() and app[b"profile"] == a, "app:a")
        h.check(r.ttl(p + "app:a") == -1, "the application kept the staging TTL")
        h.check(not r.exists(p + "app:g"), "a stale item was stored")
        h.check(not r.keys(p + "stage:*"), "staging left: %r" % r.keys(p + "stage:*"))
        h.check(r.llen(p + "processing:i") == 0, "processing not empty")
        h.check(r.llen(p + "notifications") == 1, "notifications %d" % r.llen(p + "notifications"))
        h.check(r.zrange(p + "state:%s:qualified" % ROLE, 0, -1, withscores=True) == [(b"a", 80.0)],
                "state set")
        h.check(r.llen(p + "history:a") == 1 and r.smembers(p + "by-email:e") == {b"a"}, "indexes")
        h.check(r.smembers(p + "roles") == {ROLE.encode()}, "roles")
        reasons = dead_reasons(r, p)
        h.check(reasons == [b"bad_field", b"id_conflict"], "dead letters %r" % reasons)


def test_settle_jobs_keep_item_order():
    """Several qualified items in one call: the jobs land as one LPUSH per
    item would leave them, so the mailer (taking from the right) gets
    them in settlement order; the state set holds every id."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        ids = ["a%d" % i for i in range(300)]  # more than one chunk of arguments
        raws = [doc(i) for i in ids]
        for x in raws:
            r.lpush(p + "processing:i", x)
            stage(r, p, x, json.loads(x)["id"])
        out = settle(r, lib, p, [("A", x, i) for x, i in zip(raws, ids)])
        h.check(out == ["accepted"] * len(ids), "answers")
        jobs = [json.loads(x)["event"] for x in reversed(r.lrange(p + "notifications", 0, -1))]
        h.check(jobs == ids, "job order")
        h.check(r.zcard(p + "state:%s:qualified" % ROLE) == len(ids), "state set")


def test_settle_restage_only_the_unstaged():
    """An item whose staging hash is missing answers restage and writes
    nothing; the others in the call settle."""
    with h.Redis() as redis:
        r = redis.client()
        lib = h.load_functions(r)
        p = h.new_prefix()
        a, b = doc("a"), doc("b")
        for x in (a, b):
            r.lpush(p + "processing:i", x)
            r.hset(p + "deliveries", digest(x), 1)
        stage(r, p, b, "b")
        out = settle(r, lib, p, [("A", a, "a"), ("A", b, "b")])
        h.check(out == ["restage", "accepted"], "answers %r" % out)
        h.check(r.lrange(p + "processing:i", 0, -1) == [a], "the unstaged item left hand")
        h.check(r.hgetall(p + "deliveries") == {digest(a).encode(): b"1"}, "counts")
        h.check(not r.exists(p + "app:a") and r.exists(p + "app:b"), "apps")


if __name__ == "__main__":
    h.run_tests([test_take_counts_once_per_take, test_take_isolates_redeliveries,
                 test_leave_returns_items_uncounted, test_take_large_batch,
                 test_settle_batch_duplicate_and_conflict, test_settle_jobs_keep_item_order,
                 test_settle_restage_only_the_unstaged])
