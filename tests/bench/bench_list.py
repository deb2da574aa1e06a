#!/usr/bin/python3
"""Benchmark of `vetctl list` (issue 4): it must never load every
application, so listing over 100,000 stored applications may cost at
most twice as much as over 1,000. Seeds both sizes into a private
redis-server (pipelined), times `vetctl list` over each (median of
several runs) and prints both medians and their ratio; exits 1 when the
ratio is above 2.

Usage: bench_list.py [--vetctl PATH] [--runs N] [--small N] [--large N]
(run by `scripts/bench list`)."""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as h  # noqa: E402

ROLES = ["backend-developer", "frontend-developer", "data-engineer"]
STATES = ["qualified", "not_qualified", "in_review", "contacted", "declined"]


def seed(r, prefix, n):
    """n applications in the §2 layout, spread over roles and states."""
    now = "2026-11-28T14:16:16.123Z"
    analysis = h.sample_analysis()
    p = r.pipeline(transaction=False)
    for i in range(n):
        app_id = "%s-%07d" % (prefix[:-1], i)
        role, state = ROLES[i % len(ROLES)], STATES[(i // 3) % len(STATES)]
        score = (i * 37) % 101
        email = "c%d@example.org" % i
        raw = json.dumps({"role": role, "name": "Candidate %d" % i, "email": email,
                          "consent": True, "id": app_id})
        p.hset(prefix + "app:" + app_id, mapping={
            "id": app_id, "role": role, "state": state, "score": score, "qualified": "1",
            "name": "Candidate %d" % i, "email": email, "submitted_at": now,
            "received_at": now, "scored_at": now, "updated_at": now, "version": 1,
            "digest": hashlib.sha1(raw.encode()).hexdigest(), "profile": raw,
            "analysis": analysis, "reviewer": "", "note": ""})
        p.zadd(prefix + "state:%s:%s" % (role, state), {app_id: score})
        p.rpush(prefix + "history:" + app_id,
                '{"at":"%s","from":null,"to":"%s","actor":"vetd:bench"}' % (now, state))
        p.sadd(prefix + "by-email:" + hashlib.sha1(email.encode()).hexdigest(), app_id)
        if i % 5000 == 4999:
            p.execute()
    p.execute()


def time_list(vetctl, conf, runs):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("VETCTL_CONFIG", None)
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        p = subprocess.run([vetctl, "-c", conf, "list"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0 or p.stdout.count(b"\n") != 21:
            sys.exit("vetctl list failed: %r %r" % (p.returncode, p.stderr))
    return statistics.median(times[1:])  # the first run warms caches


def main():
    ap = argparse.ArgumentParser()
    build = os.environ.get("VETD_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--vetctl", default=os.environ.get("VETCTL_BIN",
                                                       os.path.join(build, "vetctl")))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100000)
    a = ap.parse_args()
    with h.Redis() as R:
        r = R.client()
        confs = {}
        for n in (a.small, a.large):
            prefix = h.new_prefix()
            t0 = time.perf_counter()
            seed(r, prefix, n)
            confs[n] = h.write_conf(os.path.join(tempfile.mkdtemp(prefix="bench-"),
                                                 "vetd.conf"), R.url, prefix)
            # The roles index that vetctl keeps (stats repairs it; do it once).
            subprocess.run([a.vetctl, "-c", confs[n], "stats"], stdout=subprocess.DEVNULL,
                           check=True)
            print("seeded %d applications in %.1fs" % (n, time.perf_counter() - t0), flush=True)
        print("%d keys in redis; timing %d runs each, interleaved" % (r.dbsize(), a.runs))
        # Both data sets live in the same server while timing, interleaved,
        # so that only the size of the listed data set differs.
        samples = {a.small: [], a.large: []}
        for _ in range(a.runs):
            for n in (a.small, a.large):
                samples[n].append(time_list(a.vetctl, confs[n], 1))
        results = {n: statistics.median(v) for n, v in samples.items()}
        small, large = results[a.small], results[a.large]
        ratio = large / small
        print("vetctl list over %d applications: median %.2f ms" % (a.small, small * 1000))
        print("vetctl list over %d applications: median %.2f ms" % (a.large, large * 1000))
        print("ratio: %.2f (limit 2.00) %s" % (ratio, "ok" if ratio <= 2 else "TOO SLOW"))
        return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
