"""vetd recovery: a crash right after a take, the stale fence, poison items,
and a clean stop that returns what it holds."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import outcome_total, free_port, valid_samples  # noqa: E402




def need_failpoints():
    if not h.FAILPOINTS:
        raise h.SkipTest("vetd built without VETD_FAILPOINTS")



def n_qualified():
    return len([n for n in h.sample_names() if n.endswith(".qualified.json")])


def snapshot(r, p, skip=None):
    """Every key under p with its content, by type. Not DUMP: a hash's
    DUMP bytes follow the order of its table, which an incremental rehash
    (any lookup) may change without changing the hash."""
    out = {}
    for k in r.keys(p + "*"):
        if skip and skip in k:
            continue
        t = r.type(k)
        if t == b"hash":
            out[k] = r.hgetall(k)
        elif t == b"list":
            out[k] = r.lrange(k, 0, -1)
        elif t == b"set":
            out[k] = r.smembers(k)
        elif t == b"zset":
            out[k] = r.zrange(k, 0, -1, withscores=True)
        else:
            out[k] = r.get(k)
    return out


def all_settled(r, p, n):
    return len(r.keys(p + "app:*")) + r.llen(p + "dead") >= n


def test_crash_after_take_and_restart():
    """kill -9 right after a take, restart under the same name: every item
    settles once, one notification per qualified application."""
    need_failpoints()
    names = h.sample_names()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        for n in names:
            r.lpush(p + "submissions", h.sample(n))
        d = h.Vetd(redis, p, env={"VETD_FAILPOINT": "crash_after_take"}, batch_size=5)
        try:
            d.wait(30)
            h.check(d.proc.returncode != 0, "vetd did not crash")
            d.log.close()
            held = r.llen(p + "processing:t1")
            h.check(held == 5, "processing list holds %d, expected 5" % held)
            h.check(r.llen(p + "submissions") == len(names) - 5, "queue")
            del d.env["VETD_FAILPOINT"]
            d.start()
            h.wait_until(lambda: all_settled(r, p, len(names)), 30, "all settled")
            h.check(r.llen(p + "notifications") == n_qualified(), "notifications")
            h.check(len(r.keys(p + "app:*")) == len(valid_samples()), "apps")
            h.check(r.llen(p + "processing:t1") == 0 and r.hlen(p + "deliveries") == 0,
                    "leftovers")
            h.check("predecessor is dead; taking over" in d.logtext(), "no immediate takeover")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def settle_args(p, instance, raw, app_id):
    """A settle call for an accepted item, built the way vetd builds it."""
    digest = hashlib.sha1(raw).hexdigest()
    keys = [p + "processing:" + instance, p + "deliveries", p + "dead", p + "dead:seq",
            p + "notifications", p + "roles", p + "app:" + app_id, p + "history:" + app_id,
            p + "state:backend-developer:qualified", p + "by-email:x",
            p + "stage:%s:%s" % (instance, digest)]
    now = "2030-01-01T00:00:00.000Z"
    args = [now, instance, "A", raw, digest, app_id, "backend-developer", "qualified", "99",
            '{"at":"%s"}' % now, "x", '{"e":1}']
    return keys, args


def test_stale_after_reclaim():
    """Items of a dead instance are reclaimed and settled by another; the
    dead one's late settlement is answered stale and changes nothing."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        raw = [h.sample(n) for n in valid_samples()]
        for x in raw:
            r.lpush(p + "processing:ghost", x)
        r.sadd(p + "instances", "ghost")
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: all_settled(r, p, len(raw)), 30, "reclaimed and settled")
            h.check("reclaimed dead instance ghost" in d.logtext(), "reclaim not logged")
            h.check(not r.exists(p + "processing:ghost"), "ghost list remains")
            h.check(b"ghost" not in r.smembers(p + "instances"), "ghost not pruned")
            lib = h.load_functions(r)  # the library vetd loaded (same build)
            first = json.loads(raw[0])
            before = snapshot(r, p)
            keys, args = settle_args(p, "ghost", raw[0], first["id"])
            out = r.fcall(lib + "_settle", len(keys), *(keys + args))
            h.check(out == [b"stale"], "late settlement answered %r" % out)
            after = snapshot(r, p)
            h.check(before == after, "a stale settlement changed something")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_stall_then_stale():
    """A stalled (SIGSTOPped) instance loses its items to another once its
    heartbeat expires; when it wakes its settlement is stale."""
    need_failpoints()
    import signal
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        names = valid_samples()
        a = h.Vetd(redis, p, instance="a", env={"VETD_FAILPOINT": "stall_before_settle:3000"})
        b = None
        try:
            h.wait_until(lambda: "ready" in a.logtext(), 15, "a ready")
            for n in names:
                r.lpush(p + "submissions", h.sample(n))
            a.wait_log("failpoint stall_before_settle")
            a.signal(signal.SIGSTOP)
            b = h.Vetd(redis, p, instance="b")
            h.wait_until(lambda: all_settled(r, p, len(names)), 30, "b settled a's items")
            notes = r.llen(p + "notifications")
            before = snapshot(r, p, b":instance")
            a.signal(signal.SIGCONT)
            a.wait_log("settlement was stale", 20)
            h.check(r.llen(p + "notifications") == notes, "duplicate notification")
            after = snapshot(r, p, b":instance")
            h.check(before == after, "a stale settlement changed something: %r" %
                    sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
            h.check(a.stop() == 0 and b.stop() == 0, "exit status")
        finally:
            a.cleanup()
            if b:
                b.cleanup()


def test_lost_staging():
    """A settle call whose staging hashes are gone (failpoint lose_stage:
    the first send of each batch skips them) writes nothing for those
    items and answers restage; vetd stages them again and settles them,
    each exactly once, leaving no staging key behind."""
    need_failpoints()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        names = valid_samples()
        d = h.Vetd(redis, p, env={"VETD_FAILPOINT": "lose_stage"})
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            r.lpush(p + "submissions", *[h.sample(n) for n in names])
            h.wait_until(lambda: all_settled(r, p, len(names)), 30, "settled")
            h.check("lost their staging hash; staging them again" in d.logtext(),
                    "no restage")
            h.check(r.llen(p + "notifications") == n_qualified(), "notifications")
            h.check(not r.keys(p + "stage:*"), "staging keys left")
            for k in r.keys(p + "app:*"):
                h.check(r.ttl(k) == -1, "%r kept the staging TTL" % k)
                h.check(r.hget(k, "analysis"), "%r has no analysis" % k)
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_restage_writes_nothing():
    """The settle Function itself: an accepted item without its staging
    hash (and no application yet) answers restage and changes nothing."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            lib = h.load_functions(r)  # the library vetd loaded (same build)
            raw = h.sample(valid_samples()[0])
            r.lpush(p + "processing:ghost", raw)
            before = snapshot(r, p, b":instance")
            keys, args = settle_args(p, "ghost", raw, json.loads(raw)["id"])
            out = r.fcall(lib + "_settle", len(keys), *(keys + args))
            h.check(out == [b"restage"], "answered %r" % out)
            h.check(snapshot(r, p, b":instance") == before, "restage changed something")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_poison():
    """An item that crashes vetd on every take ends as poison after
    max_deliveries takes, and vetd then runs on. The items that shared its
    batch are not poisoned with it: after a crash each redelivery is taken
    alone, so only the item that kills vetd keeps counting."""
    need_failpoints()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        obj = json.loads(h.sample(valid_samples()[0]))
        obj["id"] = "POISON-MARKER-1"
        raw = json.dumps(obj).encode()
        neighbours = [h.sample(n) for n in valid_samples()[1:5]]
        for x in neighbours[:2] + [raw] + neighbours[2:]:  # one batch, taken in this order
            r.lpush(p + "submissions", x)
        port = free_port()
        d = h.Vetd(redis, p, env={"VETD_FAILPOINT": "crash_on_item:POISON-MARKER"},
                   max_deliveries=3, metrics_listen="127.0.0.1:%d" % port)
        try:
            crashes = 0
            while crashes < 3:
                d.wait(30)
                h.check(d.proc.returncode != 0, "expected a crash")
                d.log.close()
                crashes += 1
                h.check(r.llen(p + "dead") == 0, "poison too early (after %d)" % crashes)
                d.start()
            h.wait_until(lambda: r.llen(p + "dead") == 1, 30, "poison dead letter")
            x = r.hgetall(p + "dead:" + r.lindex(p + "dead", 0).decode())
            h.check(x[b"reason"] == b"poison", x[b"reason"])
            h.check(x[b"payload"] == raw, "payload not intact")
            h.check(not r.exists(p + "app:POISON-MARKER-1"), "poison stored")
            # The neighbours behind it are taken one by one after the poison
            # letter; each settle clears its count in the same call.
            h.wait_until(lambda: all(r.exists(p + "app:" + json.loads(x)["id"])
                                     for x in neighbours), 30, "the neighbours stored")
            h.check(r.llen(p + "dead") == 1, "a neighbour was dead-lettered")
            h.check(r.hlen(p + "deliveries") == 0, "delivery count left")
            h.check(d.proc.poll() is None, "vetd died after poison")
            # The take made the letter; vetd counts it from the take's answer.
            h.wait_until(lambda: outcome_total(port, "poison") == 1, 10,
                         "poison counted in /metrics")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_sigterm_returns_items():
    """SIGTERM with items in hand that cannot be settled within
    shutdown_timeout_ms: they go back to the queue; exit 0."""
    need_failpoints()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        names = valid_samples()
        d = h.Vetd(redis, p, env={"VETD_FAILPOINT": "stall_before_settle:60000"},
                   shutdown_timeout_ms=300)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            r.lpush(p + "submissions", *[h.sample(n) for n in names])
            d.wait_log("failpoint stall_before_settle")
            held = r.llen(p + "processing:t1")
            h.check(held == len(names), "held %d" % held)
            h.check(d.stop() == 0, "exit status")
            h.check(r.llen(p + "submissions") == len(names), "items not returned")
            h.check(r.llen(p + "processing:t1") == 0, "processing not empty")
            h.check(not r.exists(p + "instance:t1"), "heartbeat left")
            # FIFO kept: the oldest is at the taking (right) end again.
            h.check(r.lindex(p + "submissions", -1) == h.sample(names[0]), "order")
        finally:
            d.cleanup()


if __name__ == "__main__":
    h.run_tests([test_crash_after_take_and_restart, test_stale_after_reclaim,
                 test_stall_then_stale, test_lost_staging, test_restage_writes_nothing,
                 test_poison, test_sigterm_returns_items])
