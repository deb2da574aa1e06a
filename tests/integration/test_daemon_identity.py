"""vetd identity: instance names are unique (a live holder makes a second
process exit 78; a foreign token stops a running one), and instances that
share a queue reclaim a dead one's items once its heartbeat expires."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import valid_samples  # noqa: E402



def test_second_live_process_exits_78():
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        a = h.Vetd(redis, p)
        b = None
        try:
            h.wait_until(lambda: "ready" in a.logtext(), 15, "a ready")
            token = json.loads(r.get(p + "instance:t1"))["token"]
            b = h.Vetd(redis, p)
            h.check(b.wait(30) == 78, "second process exit %s" % b.proc.returncode)
            h.check("watching its heartbeat" in b.logtext(), "did not watch")
            h.check(a.proc.poll() is None, "first process died")
            h.check(json.loads(r.get(p + "instance:t1"))["token"] == token, "token changed")
            h.check(a.stop() == 0, "exit status")
        finally:
            a.cleanup()
            if b:
                b.cleanup()


def test_foreign_token_stops_running_vetd():
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            hb = json.loads(r.get(p + "instance:t1"))
            hb["token"] = "0" * 32
            hb["pid"] = 1
            r.set(p + "instance:t1", json.dumps(hb), px=60000)
            h.check(d.wait(15) == 78, "exit status %s" % d.proc.returncode)
            h.check(json.loads(r.get(p + "instance:t1"))["token"] == "0" * 32,
                    "foreign heartbeat overwritten")
        finally:
            d.cleanup()


def test_holder_stops_refreshing():
    """A heartbeat from another host that nobody refreshes: the newcomer
    watches two intervals, then takes the name over (before the TTL)."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        hb = {"pid": 1, "host": "elsewhere", "boot_id": "x", "token": "1" * 32,
              "started": "2030-01-01T00:00:00.000Z", "version": "0"}
        r.set(p + "instance:t1", json.dumps(hb), px=60000)
        d = h.Vetd(redis, p)
        try:
            d.wait_log("holder stopped refreshing; taking over")
            d.wait_log("ready: ")
            h.check(json.loads(r.get(p + "instance:t1"))["pid"] == d.proc.pid, "not ours")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_reclaim_after_expiry_not_before():
    """Two instances share the queue; one is killed holding items. The
    other returns them to the queue once the heartbeat expires, not before,
    and every item is settled once."""
    if not h.FAILPOINTS:
        raise h.SkipTest("vetd built without VETD_FAILPOINTS")
    names = valid_samples()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        a = h.Vetd(redis, p, instance="a", env={"VETD_FAILPOINT": "stall_before_settle:60000"},
                   instance_ttl_ms=3000)
        b = None
        try:
            h.wait_until(lambda: "ready" in a.logtext(), 15, "a ready")
            r.lpush(p + "submissions", *[h.sample(n) for n in names])
            a.wait_log("failpoint stall_before_settle")
            b = h.Vetd(redis, p, instance="b")
            h.wait_until(lambda: "ready" in b.logtext(), 15, "b ready")
            h.check(r.llen(p + "processing:a") == len(names), "a holds the items")
            a.kill9()
            # While a's heartbeat lives, its items stay where they are. The
            # order of the two reads matters: length first, then the key.
            def expired():
                held = r.llen(p + "processing:a")
                if r.exists(p + "instance:a"):
                    h.check(held == len(names), "reclaimed before the heartbeat expired")
                    return False
                return True
            h.wait_until(expired, 15, "a's heartbeat to expire")
            h.wait_until(lambda: len(r.keys(p + "app:*")) == len(names), 30, "b settled them")
            h.check("reclaimed dead instance a" in b.logtext(), "reclaim not logged")
            h.check(r.llen(p + "notifications") ==
                    len([n for n in names if n.endswith(".qualified.json")]), "notifications")
            h.check(b"a" not in r.smembers(p + "instances"), "a not pruned")
            h.check(b.stop() == 0, "exit status")
        finally:
            a.cleanup()
            if b:
                b.cleanup()


def test_sigint_is_a_stop():
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: r.exists(p + "instance:t1"), 15, "heartbeat")
            d.signal(signal.SIGINT)
            h.check(d.wait(15) == 0, "exit status")
            h.check(not r.exists(p + "instance:t1"), "heartbeat left")
        finally:
            d.cleanup()


if __name__ == "__main__":
    h.run_tests([test_second_live_process_exits_78, test_foreign_token_stops_running_vetd,
                 test_holder_stops_refreshing, test_reclaim_after_expiry_not_before,
                 test_sigint_is_a_stop])
