"""vetd under Redis trouble and reloads: Redis crashed and restarted under
a running vetd, a silent (paused) Redis, Redis down at start, SIGHUP with a
broken role file."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import valid_samples, free_port  # noqa: E402



def n_apps(r, p):
    return len(r.keys(p + "app:*"))


def test_redis_restart():
    """SHUTDOWN NOSAVE + start on an appendonly server: vetd reconnects,
    reports it once, loses nothing and finishes."""
    names = valid_samples()
    half = len(names) // 2
    with h.Redis(appendonly=True) as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            r.lpush(p + "submissions", *[h.sample(n) for n in names[:half]])
            h.wait_until(lambda: n_apps(r, p) == half, 20, "first half")
            redis.crash()
            d.wait_log("redis connection lost")
            redis.start()
            r = redis.client()
            h.wait_until(lambda: d.logtext().count("redis connected conn=main") >= 2, 20,
                         "reconnected")
            r.lpush(p + "submissions", *[h.sample(n) for n in names[half:]])
            h.wait_until(lambda: n_apps(r, p) == len(names), 20, "second half")
            h.check(d.logtext().count("redis connection lost conn=main") == 1,
                    "loss reported more than once")
            h.check(r.llen(p + "processing:t1") == 0, "processing not empty")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_redis_paused():
    """A Redis that stops answering (SIGSTOP) is dropped at the request
    deadline and vetd resumes by itself once it answers again."""
    names = valid_samples()
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            redis.pause()
            try:
                d.wait_log("request timed out", 20)
            finally:
                redis.resume()
            r.lpush(p + "submissions", *[h.sample(n) for n in names])
            h.wait_until(lambda: n_apps(r, p) == len(names), 30, "settled after resume")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_redis_down_at_start():
    """Redis absent at start: vetd retries with backoff, is not ready, and
    becomes ready once Redis is there."""
    with h.Redis(appendonly=True) as redis:
        p = h.new_prefix()
        redis.crash()
        d = h.Vetd(redis, p)
        try:
            d.wait_log("cannot reach redis")
            h.check("ready" not in d.logtext(), "ready without redis")
            redis.start()
            r = redis.client()
            d.wait_log("ready: ", 20)
            r.lpush(p + "submissions", h.sample(valid_samples()[0]))
            h.wait_until(lambda: n_apps(r, p) == 1, 20, "settled")
            h.check(d.stop() == 0, "exit status")
        finally:
            d.cleanup()


def test_sighup_broken_role_keeps_old():
    """SIGHUP with a broken role file: the old roles stay in force; a
    non-reloadable change is logged as restart required."""
    roles = tempfile.mkdtemp(prefix="vetd-roles-")
    try:
        for f in os.listdir(h.ROLES):
            shutil.copy(os.path.join(h.ROLES, f), roles)
        with h.Redis() as redis:
            r = redis.client()
            p = h.new_prefix()
            d = h.Vetd(redis, p, roles_dir=roles)
            try:
                h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
                with open(os.path.join(roles, "broken.json"), "w") as f:
                    f.write('{"id": "broken", ')
                d.signal(signal.SIGHUP)
                d.wait_log("reload failed")
                r.lpush(p + "submissions", h.sample(valid_samples()[0]))
                h.wait_until(lambda: n_apps(r, p) == 1, 20, "scored with the old roles")
                os.unlink(os.path.join(roles, "broken.json"))
                with open(d.conf, "a") as f:
                    f.write("block_timeout_ms = 700\n")
                text = open(d.conf).read().replace("block_timeout_ms = 500\n", "")
                with open(d.conf, "w") as f:
                    f.write(text)
                d.signal(signal.SIGHUP)
                d.wait_log("reloaded: ")
                h.check("block_timeout_ms changed; restart required" in d.logtext(),
                        "restart required not logged")
                h.check(d.proc.poll() is None, "vetd died on reload")
                h.check(d.stop() == 0, "exit status")
            finally:
                d.cleanup()
    finally:
        shutil.rmtree(roles, ignore_errors=True)


def test_second_signal_exits_at_once():
    """A second SIGTERM while the first stop waits exits 0 at once, the
    items staying in the processing list."""
    if not h.FAILPOINTS:
        raise h.SkipTest("vetd built without VETD_FAILPOINTS")
    with h.Redis() as redis:
        r = redis.client()
        p = h.new_prefix()
        d = h.Vetd(redis, p, env={"VETD_FAILPOINT": "stall_before_settle:60000"},
                   shutdown_timeout_ms=60000)
        try:
            h.wait_until(lambda: "ready" in d.logtext(), 15, "ready")
            r.lpush(p + "submissions", h.sample(valid_samples()[0]))
            d.wait_log("failpoint stall_before_settle")
            d.signal(signal.SIGTERM)
            d.wait_log("stopping")
            d.signal(signal.SIGTERM)
            h.check(d.wait(10) == 0, "exit status")
            h.check(r.llen(p + "processing:t1") == 1, "item should stay in processing")
        finally:
            d.cleanup()



def test_sentinel():
    """redis = sentinel://...: vetd asks the Sentinel for the master and
    works against it."""
    port = free_port()
    with h.Redis(extra="port %d\nbind 127.0.0.1\n" % port) as redis:
        sport = free_port()
        conf = os.path.join(redis.dir, "sentinel.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\n" % (sport, redis.dir))
            f.write("sentinel monitor vm 127.0.0.1 %d 1\n" % port)
        sentinel = subprocess.Popen(["redis-server", conf, "--sentinel"],
                                    stdout=subprocess.DEVNULL)
        d = None
        try:
            import redis as redis_py
            sc = redis_py.Redis(host="127.0.0.1", port=sport)

            def knows():
                try:
                    return sc.execute_command("SENTINEL", "get-master-addr-by-name", "vm")
                except redis_py.exceptions.RedisError:
                    return False
            h.wait_until(knows, 15, "sentinel up")
            r = redis.client()
            p = h.new_prefix()
            via = type("Via", (), {"url": "sentinel://127.0.0.1:%d/vm" % sport})
            d = h.Vetd(via, p)
            try:
                d.wait_log("ready: ")
            except h.TestFailure:
                print(d.logtext())
                raise
            r.lpush(p + "submissions", h.sample(valid_samples()[0]))
            h.wait_until(lambda: n_apps(r, p) == 1, 20, "settled via sentinel")
            h.check(d.stop() == 0, "exit status")
        finally:
            if d:
                d.cleanup()
            sentinel.terminate()
            sentinel.wait(10)


if __name__ == "__main__":
    h.run_tests([test_redis_restart, test_redis_paused, test_redis_down_at_start,
                 test_sighup_broken_role_keeps_old, test_second_signal_exits_at_once,
                 test_sentinel])
