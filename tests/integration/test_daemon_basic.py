"""vetd end to end: every sample settles to the right outcome, duplicates and
id conflicts, oversized items, a clean stop, usage and config errors."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import outcome_total, free_port  # noqa: E402




def expected(name):
    return name.split(".")[-2]


def settled(r, p, n):
    """Number of applications plus dead letters under prefix p >= n."""
    apps = len(r.keys(p + "app:*"))
    return apps + r.llen(p + "dead") >= n


def dead_letters(r, p):
    out = []
    for seq in r.lrange(p + "dead", 0, -1):
        out.append(r.hgetall(p + "dead:" + seq.decode()))
    return out


def push(r, p, payload):
    r.lpush(p + "submissions", payload)


def test_samples():
    """Each sample ends as its file name says: state, analysis, history,
    one candidate.qualified per qualified app, dead letters byte-exact."""
    names = h.sample_names()
    h.check(len(names) > 0, "no samples")
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        for n in names:
            push(r, p, h.sample(n))
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: settled(r, p, len(names)), 30, "all samples settled")
            dead = dead_letters(r, p)
            by_digest = {x[b"digest"].decode(): x for x in dead}
            qualified = 0
            for n in names:
                raw = h.sample(n)
                exp = expected(n)
                digest = __import__("hashlib").sha1(raw).hexdigest()
                if exp in ("qualified", "not_qualified"):
                    obj = json.loads(raw)
                    app_id = obj.get("id") or digest[:20]
                    app = r.hgetall(p + "app:" + app_id)
                    h.check(app, "%s: no app %s" % (n, app_id))
                    h.check(app[b"state"].decode() == exp,
                            "%s: state %s, expected %s" % (n, app[b"state"], exp))
                    h.check(app[b"profile"] == raw, "%s: profile not byte-exact" % n)
                    h.check(app[b"version"] == b"1" and app[b"digest"].decode() == digest, n)
                    h.check(app[b"qualified"] == (b"1" if exp == "qualified" else b"0"), n)
                    analysis = json.loads(app[b"analysis"])
                    h.check(analysis["score"] == int(app[b"score"]), n)
                    for f in ("received_at", "scored_at", "updated_at"):
                        h.check(app[f.encode()].endswith(b"Z") and len(app[f.encode()]) == 24,
                                "%s: %s %r" % (n, f, app[f.encode()]))
                    hist = r.lrange(p + "history:" + app_id, 0, -1)
                    h.check(len(hist) == 1, "%s: history %r" % (n, hist))
                    ev = json.loads(hist[0])
                    h.check(ev["from"] is None and ev["to"] == exp and ev["actor"] == "vetd:t1",
                            "%s: event %r" % (n, ev))
                    h.check(list(ev.keys()) == ["at", "from", "to", "actor"], "event key order")
                    h.check(r.zscore(p + "state:%s:%s" % (obj["role"], exp), app_id) ==
                            float(app[b"score"]), n)
                    h.check(app_id.encode() in r.smembers(
                        p + "by-email:" + __import__("hashlib").sha1(
                            obj["email"].lower().encode()).hexdigest()), n)
                    qualified += exp == "qualified"
                else:
                    x = by_digest.get(digest)
                    h.check(x is not None, "%s: no dead letter" % n)
                    h.check(x[b"reason"].decode() == exp,
                            "%s: reason %s, expected %s" % (n, x[b"reason"], exp))
                    h.check(x[b"at"].endswith(b"Z"), n)
                    h.check(x[b"detail"], "%s: no detail" % n)
                    if exp == "no_consent":
                        # SPEC §3: only reason, detail, time and digest.
                        h.check(set(x) == {b"reason", b"detail", b"at", b"digest"},
                                "%s: no_consent kept more: %r" % (n, sorted(x)))
                    else:
                        h.check(x[b"instance"] == b"t1", n)
                        h.check(x[b"payload"] == raw, "%s: payload not byte-exact" % n)
            notes = [json.loads(x) for x in r.lrange(p + "notifications", 0, -1)]
            h.check(len(notes) == qualified, "%d notifications for %d qualified" %
                    (len(notes), qualified))
            for e in notes:
                h.check(e["event"] == "candidate.qualified" and e["audience"] == "reviewers", e)
                h.check(e["event_id"] == e["id"] + ":1", e)
                h.check(isinstance(e["application"]["analysis"], dict), "analysis spliced")
                h.check(list(e.keys()) == ["event", "audience", "event_id", "id", "at",
                                           "application"], "envelope key order")
            h.check(r.llen(p + "processing:t1") == 0, "processing list not empty")
            h.check(r.hlen(p + "deliveries") == 0, "deliveries not cleared")
            h.check(r.llen(p + "submissions") == 0, "queue not empty")
            # The roles index (vetctl list reads it instead of scanning) holds
            # exactly the roles of the stored applications.
            stored_roles = {json.loads(h.sample(n))["role"].encode() for n in names
                            if expected(n) in ("qualified", "not_qualified")}
            h.check(r.smembers(p + "roles") == stored_roles,
                    "roles index %r, expected %r" % (r.smembers(p + "roles"), stored_roles))
            log = d.logtext()
            for n in names:
                obj = None
                try:
                    obj = json.loads(h.sample(n))
                except ValueError:
                    pass
                if isinstance(obj, dict) and isinstance(obj.get("email"), str) and obj["email"]:
                    for line in log.splitlines():
                        if "level=debug" not in line:
                            h.check(obj["email"] not in line, "e-mail logged above debug")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def strong_sample():
    for n in h.sample_names():
        if n.endswith(".qualified.json"):
            return n
    raise h.TestFailure("no qualified sample")


def test_duplicate_and_conflict():
    """The same payload again changes nothing; the same id with other bytes
    is id_conflict and the stored application stays as it was."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        raw = h.sample(strong_sample())
        obj = json.loads(raw)
        obj["id"] = "dup-1"
        raw = json.dumps(obj).encode()
        d = h.Vetd(redis, p)
        try:
            push(r, p, raw)
            h.wait_until(lambda: r.exists(p + "app:dup-1"), 15, "app stored")
            before = r.hgetall(p + "app:dup-1")
            push(r, p, raw)
            h.wait_until(lambda: "outcome=duplicate" in d.logtext(), 15, "duplicate logged")
            other = dict(obj, headline="something else entirely")
            push(r, p, json.dumps(other).encode())
            h.wait_until(lambda: r.llen(p + "dead") == 1, 15, "id_conflict dead letter")
            x = r.hgetall(p + "dead:" + r.lindex(p + "dead", 0).decode())
            h.check(x[b"reason"] == b"id_conflict", x[b"reason"])
            h.check(x[b"payload"] == json.dumps(other).encode(), "conflict payload")
            h.check(r.hgetall(p + "app:dup-1") == before, "app changed")
            h.check(r.llen(p + "history:dup-1") == 1, "history grew")
            h.check(r.llen(p + "notifications") == 1, "notification count")
            h.check(r.hlen(p + "deliveries") == 0, "deliveries not cleared")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_too_large():
    """An item over max_payload_bytes is diverted inside Redis: dead letter
    too_large with the bytes kept; vetd never processes it."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        big = b'{"role":"backend-developer","pad":"' + b"x" * 5000 + b'"}'
        port = free_port()
        d = h.Vetd(redis, p, max_payload_bytes=1024, metrics_listen="127.0.0.1:%d" % port)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            push(r, p, big)
            h.wait_until(lambda: r.llen(p + "dead") == 1, 15, "too_large dead letter")
            x = r.hgetall(p + "dead:" + r.lindex(p + "dead", 0).decode())
            h.check(x[b"reason"] == b"too_large" and x[b"payload"] == big, x.get(b"reason"))
            h.check(b"email_sha1" not in x, "too_large has no email_sha1")
            # Never scored: no settle outcome line for it in vetd's own log.
            h.check("outcome=too_large" not in d.logtext(), "vetd processed the oversized item")
            # ... but counted from the take's answer.
            h.wait_until(lambda: outcome_total(port, "too_large") == 1, 10,
                         "too_large counted in /metrics")
            h.check("take diverted 1 too_large item(s)" in d.logtext(), "diversion not logged")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_clean_stop_idle():
    """SIGTERM on an idle vetd: exit 0, heartbeat gone, left P instances."""
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: r.exists(p + "instance:t1"), 15, "heartbeat")
            h.check(b"t1" in r.smembers(p + "instances"), "instances set")
            hb = json.loads(r.get(p + "instance:t1"))
            h.check(set(hb) == {"pid", "host", "boot_id", "token", "started", "version"}, hb)
            h.check(hb["pid"] == d.proc.pid, "pid")
            h.check(d.stop() == 0, "exit status")
            h.check(not r.exists(p + "instance:t1"), "heartbeat left behind")
            h.check(b"t1" not in r.smembers(p + "instances"), "still in instances")
        finally:
            d.cleanup()


def test_signal_during_start_is_kept():
    """A stop (and a reload) that arrives before vetd's handlers are in
    place is not lost and does not kill it: it is acted on once the loop
    runs. Made deterministic by starting vetd with both signals already
    pending (a wrapper blocks them, raises them, then execs vetd)."""
    with h.Redis() as redis:
        p = h.new_prefix()
        wrapper = ["/usr/bin/python3", "-c",
                   "import os, signal, sys\n"
                   "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM})\n"
                   "os.kill(os.getpid(), signal.SIGHUP)\n"
                   "os.kill(os.getpid(), signal.SIGTERM)\n"
                   "os.execv(sys.argv[1], sys.argv[1:])\n"]
        d = h.Vetd(redis, p, wrapper=wrapper)
        try:
            rc = d.wait(20)
            h.check(rc == 0, "exit %r (a negative status is death by signal)" % rc)
            h.check("stopping" in d.logtext(), "the stop was not logged")
        finally:
            d.cleanup()


def test_status_counts():
    """STATUS= carries live counts (issue 5): applications stored, dead
    letters made by this process, and the queue depth from the tick."""
    from test_systemd import Notifier
    names = h.sample_names()
    accepted = sum(expected(n) in ("qualified", "not_qualified") for n in names)
    want = "connected; %d scored, %d dead, queue 0" % (accepted, len(names) - accepted)
    n = Notifier()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p, env=n.env())
        try:
            n.wait("READY", "1")
            n.wait("STATUS", "connected; 0 scored, 0 dead, queue 0")
            for name in names:
                push(r, p, h.sample(name))
            n.wait("STATUS", want)
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()
            n.close()


def test_usage_and_config():
    """Exit statuses: 64 usage, 78 bad config, 0 --version/--check-config."""
    p = subprocess.run([h.VETD, "--bogus"], capture_output=True)
    h.check(p.returncode == 64, "usage exit %d" % p.returncode)
    p = subprocess.run([h.VETD, "--version"], capture_output=True)
    h.check(p.returncode == 0 and b"vetd" in p.stdout, "version")
    with h.Redis() as redis:
        d = h.Vetd(redis, h.new_prefix(), batch_size=0)
        try:
            h.check(d.wait(15) == 78, "bad config exit")
        finally:
            d.cleanup()
        d = h.Vetd(redis, h.new_prefix(), args=["--check-config"])
        try:
            h.check(d.wait(15) == 0, "check-config exit")
        finally:
            d.cleanup()
        d = h.Vetd(redis, h.new_prefix(), roles_dir="/nonexistent-vetd-roles")
        try:
            h.check(d.wait(15) == 78, "missing roles exit")
            # The configuration's own line names the key to fix.
            h.check(re.search(r"vetd\.conf:\d+: roles_dir: /nonexistent-vetd-roles: ",
                              d.logtext()), d.logtext())
        finally:
            d.cleanup()


if __name__ == "__main__":
    h.run_tests([test_samples, test_duplicate_and_conflict, test_too_large,
                 test_clean_stop_idle, test_signal_during_start_is_kept, test_status_counts,
                 test_usage_and_config])
