"""vetd under valgrind: every sample through a real daemon, then a clean
stop, with no leak and no memory error (the scripts/run --once path)."""

import os
import shutil
import signal

from harness import (Redis, SkipTest, Vetd, check, new_prefix, run_tests, sample,
                     sample_names, wait_until, SANITIZE)


def settled(r, prefix, want):
    apps = len(r.keys(prefix + "app:*"))
    dead = r.llen(prefix + "dead")
    return apps + dead >= want and r.llen(prefix + "processing:vg") == 0


def test_samples_under_valgrind():
    if SANITIZE:
        raise SkipTest("an ASan build cannot run under valgrind")
    if shutil.which("valgrind") is None:
        raise SkipTest("valgrind is not installed")
    names = sample_names()
    with Redis() as redis:
        prefix = new_prefix()
        log = os.path.join(redis.dir, "valgrind.log")
        wrapper = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                   "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                   "--log-file=" + log]
        d = Vetd(redis, prefix, instance="vg", wrapper=wrapper, log_level="info",
                 block_timeout_ms=1000, heartbeat_interval_ms=500, instance_ttl_ms=5000)
        try:
            r = redis.client()
            wait_until(lambda: "ready" in d.logtext(), 60, "vetd under valgrind to be ready")
            for n in names:
                r.lpush(prefix + "submissions", sample(n))
            wait_until(lambda: settled(r, prefix, len(names)), 120, "every sample settled")
            d.signal(signal.SIGTERM)
            rc = d.wait(120)
            with open(log) as f:
                report = f.read()
            check(rc == 0, "vetd under valgrind exited %s:\n%s" % (rc, report))
            check("ERROR SUMMARY: 0 errors" in report, report)
            check("definitely lost: 0 bytes" in report or "definitely lost" not in report, report)
        finally:
            d.cleanup()


if __name__ == "__main__":
    run_tests([test_samples_under_valgrind])
