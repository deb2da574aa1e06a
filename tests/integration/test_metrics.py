"""vetd's /metrics and /healthz over HTTP (SPEC §7): the exposition parses
strictly, counters match the submissions pushed, /healthz follows Redis,
only GET/HEAD are served, and idle connections cannot wedge the endpoint."""

import collections
import http.client
import math
import os
import re
import socket
import subprocess

from harness import (VETD, Redis, Vetd, check, free_port, new_prefix, run_tests, sample,
                     sample_names, wait_until)

OUTCOMES = ["qualified", "not_qualified", "duplicate", "too_large", "bad_utf8", "not_json",
            "too_deep", "not_object", "missing_field", "bad_field", "unknown_role",
            "no_consent", "id_conflict", "poison"]
QUEUES = ["submissions", "processing", "dead", "notifications"]
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
CONTENT_TYPE = "text/plain; version=0.0.4"



def request(port, method="GET", path="/metrics", body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8")
    finally:
        c.close()


def try_request(port, path):
    try:
        return request(port, path=path, timeout=5)
    except OSError:
        return None


def parse_labels(text):
    out = {}
    for m in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', text or ""):
        out[m.group(1)] = m.group(2)
    return tuple(sorted(out.items()))


def parse(text):
    """Parse the text format strictly: returns {family: type} and
    {(name, labels): value}; every violation fails the test."""
    check(text.endswith("\n"), "exposition does not end in a newline")
    types, helps, samples = {}, set(), {}
    for line in text[:-1].split("\n"):
        check(line != "", "empty line in the exposition")
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % NAME, line)
            check(m is not None, "bad comment line %r" % line)
            kind, fam, rest = m.groups()
            if kind == "HELP":
                check(fam not in helps, "HELP twice for " + fam)
                helps.add(fam)
            else:
                check(fam not in types, "TYPE twice for " + fam)
                check(rest in ("counter", "gauge", "histogram"), "bad type " + rest)
                types[fam] = rest
            continue
        m = SAMPLE.match(line)
        check(m is not None, "malformed sample line %r" % line)
        name, labels, value = m.groups()
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
                fam = name[:-len(suffix)]
        check(fam in types, "sample %s before its TYPE" % name)
        v = float(value)
        check(not math.isnan(v), "NaN in " + line)
        key = (name, parse_labels(labels))
        check(key not in samples, "duplicate sample " + line)
        samples[key] = v
    check(helps == set(types), "HELP and TYPE differ: %r %r" % (helps, set(types)))
    check_histograms(types, samples)
    return types, samples


def check_histograms(types, samples):
    for fam, t in types.items():
        if t != "histogram":
            continue
        buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in samples.items()
                          if n == fam + "_bucket"))
        check(buckets and math.isinf(buckets[-1][0]), fam + " has no +Inf bucket")
        for (_, a), (_, b) in zip(buckets, buckets[1:]):
            check(b >= a, fam + " buckets are not cumulative")
        check(buckets[-1][1] == samples[(fam + "_count", ())], fam + " +Inf != _count")
        check((fam + "_sum", ()) in samples, fam + " has no _sum")


def scrape(port):
    status, headers, body = request(port)
    check(status == 200, "/metrics answered %d" % status)
    check(headers.get("Content-Type", "").startswith(CONTENT_TYPE),
          "Content-Type %r" % headers.get("Content-Type"))
    return parse(body)[1]


def outcome_counts(samples):
    return {dict(l)["outcome"]: v for (n, l), v in samples.items()
            if n == "vetd_submissions_total"}


def start(r, prefix, port, **keys):
    vb = subprocess.run([VETD, "--version"], capture_output=True, timeout=30)
    check(vb.returncode == 0, "vetd --version failed: %r" % vb.stderr)
    v = Vetd(r, prefix, metrics_listen="127.0.0.1:%d" % port, **keys)
    wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 200, 30, "/healthz 200")
    return v


def expected_outcome(name):
    """conf/samples are named <what>.<outcome>.json."""
    return name[:-len(".json")].rsplit(".", 1)[1]


def test_counters_match_samples():
    port, prefix = free_port(), new_prefix()
    with Redis() as r:
        v = start(r, prefix, port)
        try:
            samples = scrape(port)
            types = parse(request(port)[2])[0]
            for fam, t in (("vetd_submissions_total", "counter"),
                           ("vetd_processing_seconds", "histogram"),
                           ("vetd_queue_depth", "gauge"), ("vetd_redis_connected", "gauge"),
                           ("vetd_redis_reconnects_total", "counter"),
                           ("vetd_build_info", "gauge")):
                check(types.get(fam) == t, "%s is not a %s" % (fam, t))
            check(set(outcome_counts(samples)) == set(OUTCOMES), "outcomes not all declared")
            check(all(x == 0 for x in outcome_counts(samples).values()), "counters not 0")
            check(samples[("vetd_redis_connected", ())] == 1, "not connected")
            ver = [dict(l).get("version") for (n, l), x in samples.items()
                   if n == "vetd_build_info" and x == 1]
            check(len(ver) == 1 and ver[0], "vetd_build_info{version} missing")

            names = sample_names()
            expected = collections.Counter(expected_outcome(n) for n in names)
            c = r.client()
            for n in names:
                c.lpush(prefix + "submissions", sample(n))
            for n in names:  # the same payloads again: each one a duplicate or a dead letter
                c.lpush(prefix + "submissions", sample(n))
            accepted = expected["qualified"] + expected["not_qualified"]
            expected["duplicate"] += accepted
            for outcome in list(expected):
                if outcome not in ("qualified", "not_qualified", "duplicate"):
                    expected[outcome] *= 2
            total = 2 * len(names)
            wait_until(lambda: sum(outcome_counts(scrape(port)).values()) == total, 60,
                       "%d submissions counted" % total)
            got = outcome_counts(scrape(port))
            for outcome in OUTCOMES:
                check(got[outcome] == expected.get(outcome, 0),
                      "%s: counted %d, pushed %d" % (outcome, got[outcome],
                                                    expected.get(outcome, 0)))
            samples = scrape(port)
            check(samples[("vetd_processing_seconds_count", ())] >= accepted,
                  "processing histogram did not observe the accepted items")
            dead = c.llen(prefix + "dead")
            wait_until(lambda: scrape(port).get(("vetd_queue_depth", (("queue", "dead"),)))
                       == dead, 20, "vetd_queue_depth{queue=dead} == %d" % dead)
            for q in QUEUES:
                check(("vetd_queue_depth", (("queue", q),)) in scrape(port), "no depth of " + q)
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()


def test_healthz_follows_redis():
    port = free_port()
    with Redis() as r:
        v = start(r, new_prefix(), port)
        try:
            before = scrape(port)[("vetd_redis_reconnects_total", ())]
            # Paused: connections go silent; health must say so.
            r.pause()
            st = wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 503 and
                            try_request(port, "/healthz"), 30, "/healthz 503 while paused")
            check(st[2].strip() != "", "503 without a reason")
            r.resume()
            wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 200, 30,
                       "/healthz 200 after resume")
            # Stopped: connection refused; health and the gauge say so.
            r.crash()
            wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 503, 30,
                       "/healthz 503 while redis-server is down")
            wait_until(lambda: scrape(port)[("vetd_redis_connected", ())] == 0, 10,
                       "vetd_redis_connected 0")
            r.start()
            wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 200, 30,
                       "/healthz 200 after restart")
            wait_until(lambda: scrape(port)[("vetd_redis_connected", ())] == 1, 10,
                       "vetd_redis_connected 1")
            check(scrape(port)[("vetd_redis_reconnects_total", ())] > before,
                  "vetd_redis_reconnects_total did not grow")
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            r.resume()
            v.cleanup()


def test_intake_connection_counts():
    """Losing only the wake-up (BLMOVE) connection shows: it is counted as
    a reconnect, and vetd_redis_connected is 0 while it cannot come back
    (the server is full), 1 again once it has."""
    port = free_port()
    with Redis() as r:
        v = start(r, new_prefix(), port)
        c = r.client()
        try:
            before = scrape(port)[("vetd_redis_reconnects_total", ())]
            wait_until(lambda: any(x.get("cmd") == "blmove" for x in c.client_list()), 15,
                       "the BLMOVE wait")
            c.config_set("maxclients", len(c.client_list()) - 1)  # no room to come back
            for x in c.client_list():
                if x.get("cmd") == "blmove":
                    c.client_kill_filter(_id=x["id"])
            wait_until(lambda: scrape(port)[("vetd_redis_connected", ())] == 0, 15,
                       "vetd_redis_connected 0 without the wake-up connection")
            c.config_set("maxclients", 10000)
            wait_until(lambda: scrape(port)[("vetd_redis_connected", ())] == 1, 30,
                       "vetd_redis_connected 1 again")
            check(scrape(port)[("vetd_redis_reconnects_total", ())] > before,
                  "the wake-up connection's reconnect was not counted")
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()


def test_methods_and_paths():
    port = free_port()
    with Redis() as r:
        v = start(r, new_prefix(), port)
        try:
            for method in ("POST", "PUT", "DELETE"):
                status, headers, _ = request(port, method, "/metrics")
                check(status == 405, "%s answered %d" % (method, status))
                check("GET" in headers.get("Allow", ""), "405 without Allow")
            # A small body must not hide the method check behind a 413.
            for method, body in (("POST", b"x" * 100), ("PUT", b"y" * 4096),
                                 ("POST", b"a=1")):
                status, headers, _ = request(port, method, "/healthz", body=body)
                check(status == 405, "%s with a %d-byte body answered %d"
                      % (method, len(body), status))
                check(headers.get("Allow") == "GET, HEAD",
                      "405 with Allow %r" % headers.get("Allow"))
            for body in (b"x" * 5, b"y" * 5000):  # GET takes no body, small or large
                status = request(port, "GET", "/metrics", body=body)[0]
                check(status == 413, "GET with a %d-byte body answered %d" % (len(body), status))
            check(request(port, "GET", "/nope")[0] == 404, "unknown path not 404")
            status, _, body = request(port, "HEAD", "/metrics")
            check(status == 200 and body == "", "HEAD answered %d %r" % (status, body[:40]))
            status, _, body = request(port, "GET", "/healthz")
            check(status == 200 and body == "ok\n", "healthz %d %r" % (status, body))
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()


def test_idle_connections_do_not_wedge():
    """Many idle connections (above the cap) neither stall the queue nor
    keep /healthz from answering once they are gone."""
    port, prefix = free_port(), new_prefix()
    with Redis() as r:
        v = start(r, prefix, port)
        idle = []
        try:
            for _ in range(64):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            # The queue keeps moving while the HTTP side is saturated.
            c = r.client()
            name = next(n for n in sample_names() if expected_outcome(n) == "qualified")
            c.lpush(prefix + "submissions", sample(name))
            wait_until(lambda: c.llen(prefix + "submissions") == 0 and
                       c.llen(prefix + "processing:t1") == 0, 30, "the sample settled")
            for s in idle:
                s.close()
            idle = []
            wait_until(lambda: (try_request(port, "/healthz") or (0,))[0] == 200, 60,
                       "/healthz after the idle connections closed")
            got = outcome_counts(scrape(port))
            check(got["qualified"] == 1, "qualified counted %d" % got["qualified"])
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            for s in idle:
                s.close()
            v.cleanup()


def test_metrics_off_when_empty():
    """metrics_listen = "" serves nothing (and vetd runs)."""
    port, prefix = free_port(), new_prefix()
    with Redis() as r:
        v = Vetd(r, prefix, metrics_listen="")
        try:
            c = r.client()
            wait_until(lambda: c.exists(prefix + "instance:t1"), 20, "the heartbeat")
            check(try_request(port, "/healthz") is None, "something answered on " + str(port))
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1")
    run_tests([test_counters_match_samples, test_healthz_follows_redis,
               test_intake_connection_counts, test_methods_and_paths,
               test_idle_connections_do_not_wedge, test_metrics_off_when_empty])
