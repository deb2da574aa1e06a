#!/usr/bin/python3
"""End-to-end benchmark of vetd (issue 3): N generated ~3 KB submissions
(deterministic, mostly valid) are pushed into a private redis-server (unix
socket, appendonly no, save ""), a Release vetd at log_level notice runs
until the queue is drained and every item is settled, and the script
prints profiles/s, vetd's CPU seconds and peak RSS (/proc), redis-server's
CPU seconds and its CPU microseconds per settled application.

In the same run it measures the ceiling: the same take, staging and settle
calls, with the same arguments, issued by a minimal pipelined C client
(tests/bench/bench_e2e_ceiling.c) whose analyses were computed before its
clock started, against a fresh server holding the same queue. vetd's
throughput is printed as a fraction of that ceiling, and Redis's call
counts per command for both (they must match). Both runs first touch and
free WARM_MB of memory (see warm_pages). Medians of --runs.

Also in the same run, the floor: the same client with --floor takes the
items off the queue (RPOP) and stores only what the contract makes Redis
keep per application (one HSET of the app hash with profile and analysis,
one LPUSH of the candidate.qualified job), with no Function, fence,
delivery count, history or index. No implementation of SPEC can cost
Redis less; the ceiling is printed as a fraction of it too.

Targets (issue 3): ratio >= 0.7, peak RSS < 64 MB, ceiling well above
19,400/s. Exits 1 when a target is missed (--no-check: report only).

With --idle it instead checks the idle claim: over a 10 s window an idle
vetd uses < 0.1 CPU s, and Redis sees only its blocking waits (BLMOVE)
and heartbeats (MONITOR).

Usage: bench_e2e.py [--count N] [--runs N] [--batch N] [--no-build]
                    [--no-check] [--idle]   (run by `scripts/bench e2e`)"""

import argparse
import json
import os
import random
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import harness as h  # noqa: E402

SOURCE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.join(SOURCE, "build-bench")
ROLES = os.path.join(SOURCE, "conf", "roles")
ROLE = "backend-developer"
PREFIX = "bench:"
INSTANCE = "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------- corpus

FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustavo", "Hana", "Ivan", "Jana",
         "Kwame", "Lucía", "Mehmet", "Nora", "Oskar", "Priya", "Quentin", "Rosa", "Søren",
         "Tariq"]
LAST = ["Novak", "García", "Okafor", "Schmidt", "Tanaka", "Rossi", "Kowalski", "Haddad",
        "Jensen", "Moreau", "Silva", "Ivanova", "Nakamura", "Dubois", "Adeyemi", "Lindqvist",
        "Müller"]
SKILLS = ["Python", "Node.js", "TypeScript", "Go", "Java", "Kotlin", "SQL", "PostgreSQL",
          "MySQL", "MongoDB", "Redis", "Kafka", "RabbitMQ", "Docker", "Kubernetes", "Terraform",
          "AWS", "GCP", "Azure", "REST APIs", "GraphQL", "gRPC", "Django", "FastAPI",
          "Express.js", "Spring Boot", "Datadog", "Prometheus", "Grafana", "CI/CD",
          "GitHub Actions", "Jenkins", "Linux", "Bash", "React", "Vue.js", "HTML", "CSS",
          "Scrum", "Jira", "Elasticsearch", "DynamoDB", "Cassandra", "Celery", "OAuth2",
          "Microservices", "Git", "Agile"]
OTHER_SKILLS = ["Figma", "Photoshop", "InDesign", "Excel", "PowerPoint", "Salesforce", "SAP",
                "Tableau", "Copywriting", "SEO", "Customer service", "Scrum", "Jira",
                "Team leadership", "Budgeting", "Menu planning", "Negotiation", "HTML", "CSS",
                "WordPress"]
SENTENCES = [
    "Designed and maintained {s} services handling {n}K requests/second at peak.",
    "Migrated the main database to {s} and cut p99 latency by {n}%.",
    "Built the REST API for the mobile app in {s}, with OpenAPI docs and contract tests.",
    "Introduced {s} to the team and wrote the onboarding guide for it.",
    "Ran the on-call rotation and the incident reviews for the {s} platform.",
    "Split a monolith into {n} microservices communicating over Kafka.",
    "Automated deployments with {s}; releases went from weekly to daily.",
    "Worked with product and design on the checkout flow of a shop serving {n}0K users.",
    "Mentored {n} junior engineers and ran the weekly architecture review.",
    "Improved test coverage of the {s} codebase from 40% to 85%.",
    "Reduced cloud costs by {n}% by right-sizing instances and caching with Redis.",
    "Implemented authentication with OAuth 2.0 and JWT, reviewed against the OWASP Top 10.",
    "Set up dashboards and alerts in {s} for {n} services.",
]
OTHER_SENTENCES = [
    "Managed a team of {n} people across two sites and cut overtime by a third.",
    "Ran the {s} rollout for the sales department and trained the staff.",
    "Designed the brand identity and packaging for {n} product lines.",
    "Prepared the monthly reports in {s} for the board.",
    "Handled supplier negotiations and stock planning with {s}.",
    "Answered customer questions by phone and e-mail and kept the knowledge base current.",
]
TITLES = ["Backend Developer", "Senior Backend Engineer", "Software Engineer",
          "Full-stack Developer", "Platform Engineer", "Data Engineer", "DevOps Engineer",
          "Frontend Developer", "Junior Developer", "Staff Engineer", "Team Lead", "QA Engineer"]
COMPANIES = ["Northwind Labs", "Bluefin Payments", "Cargoline", "Mediqo", "Parcelwise",
             "Tiendas Digitales", "Ledgerline", "Streamly", "Viajero", "Kodra", "Nordvers",
             "Pixelbrook"]
# One in INVALID_EVERY submissions is broken in one of these ways.
INVALID_EVERY = 50
BREAKAGES = ["no_consent", "missing_field", "bad_field", "unknown_role"]


def make_profile(rng, i):
    """One submission of about 3 KB shaped like conf/samples/*.qualified.json."""
    other = rng.randrange(3) == 0
    pool = OTHER_SKILLS if other else SKILLS
    sentences = OTHER_SENTENCES if other else SENTENCES

    def text(k, sep=" "):
        out = []
        for j in range(k):
            out.append(rng.choice(sentences).format(s=rng.choice(pool), n=2 + rng.randrange(30)))
            if sep != " " and j % 4 == 3:
                out.append(sep)
        return " ".join(out)

    p = {"id": "e2e-%06d" % i, "role": ROLE,
         "submitted_at": "2026-11-28T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60),
         "name": "%s %s" % (rng.choice(FIRST), rng.choice(LAST)),
         "email": "user%d@example.com" % i, "consent": True,
         "headline": "%s - %s, %s and %s" % (rng.choice(TITLES), rng.choice(pool),
                                              rng.choice(pool), rng.choice(pool)),
         "summary": text(4 + rng.randrange(4))}
    if rng.randrange(5):
        p["years_experience"] = rng.randrange(15)
    p["skills"] = [rng.choice(pool) for _ in range(5 + rng.randrange(12))]
    if rng.randrange(3) == 0:
        p["certifications"] = ["AWS Certified Solutions Architect - Associate (2024)"]
    p["experience"] = [{"title": rng.choice(TITLES), "company": rng.choice(COMPANIES),
                        "years": 1 + rng.randrange(5), "description": text(3 + rng.randrange(3))}
                       for _ in range(1 + rng.randrange(4))]
    p["cv_text"] = text(8 + rng.randrange(10), "\n\n")
    if rng.randrange(2):
        p["links"] = {"github": "https://github.com/user%d" % i}
    if i % INVALID_EVERY == INVALID_EVERY - 1:
        broken = BREAKAGES[(i // INVALID_EVERY) % len(BREAKAGES)]
        if broken == "no_consent":
            p["consent"] = False
        elif broken == "missing_field":
            del p["email"]
        elif broken == "bad_field":
            p["email"] = "user%d@@example.com" % i
        else:
            p["role"] = "astronaut"
    return json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def make_corpus(n, seed=20261128):
    rng = random.Random(seed)
    return [make_profile(rng, i) for i in range(n)]


# ---------------------------------------------------------------- processes

def wait_for(fn, timeout, what):
    """harness.wait_until, polling often: the bench times what it waits for."""
    return h.wait_until(fn, timeout, what, interval=0.005)


def proc_cpu_s(pid):
    """utime + stime of a process, in seconds, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Redis(h.Redis):
    """The tests' private redis-server (unix socket, no persistence), with
    what the bench reads from it."""

    def __init__(self):
        super().__init__()
        self.r = self.client()

    def cpu_s(self):
        info = self.r.info("cpu")
        return info["used_cpu_sys"] + info["used_cpu_user"]

    def sys_s(self):
        return self.r.info("cpu")["used_cpu_sys"]

    def commandstats(self):
        return {k.split("_", 1)[1]: v for k, v in self.r.info("commandstats").items()}

    def push(self, corpus, chunk=500):
        """LPUSH in chunks, pipelined: the list ends up in corpus order."""
        p = self.r.pipeline(transaction=False)
        for i in range(0, len(corpus), chunk):
            p.lpush(PREFIX + "submissions", *corpus[i:i + chunk])
            if i // chunk % 20 == 19:
                p.execute()
        p.execute()

    def settled(self):
        p = self.r.pipeline(transaction=False)
        p.zcard(PREFIX + "state:%s:qualified" % ROLE)
        p.zcard(PREFIX + "state:%s:not_qualified" % ROLE)
        p.llen(PREFIX + "dead")
        return sum(p.execute())


def start_vetd(vetd, redis, batch):
    """The tests' vetd process, with the bench's build and settings."""
    return h.Vetd(redis, PREFIX, instance=INSTANCE, binary=vetd, roles_dir=ROLES,
                  metrics_listen="", log_level="notice", batch_size=batch,
                  heartbeat_interval_ms=1000, instance_ttl_ms=10000, block_timeout_ms=2000,
                  reconnect_max_ms=5000)


# ---------------------------------------------------------------- runs

def build():
    subprocess.run(["cmake", "-S", SOURCE, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j%d" % (os.cpu_count() or 2), "--target",
                    "vetd", "bench_e2e_ceiling"], check=True, stdout=subprocess.DEVNULL)


def program(name):
    for p in (os.path.join(BUILD, name), os.path.join(BUILD, "tests", name)):
        if os.access(p, os.X_OK):
            return p
    sys.exit("bench_e2e: %s was not built" % name)


# As bench_e2e_ceiling.c does before its clock: touch and free this much
# memory so that the pages Redis grows into are backed by the host (in a VM
# with free page reporting a first touch is a host fault, charged to Redis
# as system time, and which run paid more depended on the run order).
WARM_MB = 2048


def warm_pages(mb=WARM_MB):
    b = bytearray(mb << 20)
    for i in range(0, len(b), 4096):
        b[i] = 1
    del b


def run_vetd(vetd, corpus, batch):
    redis = Redis()
    v = None
    try:
        redis.push(corpus)
        warm_pages()
        redis.r.config_resetstat()
        cpu0, sys0 = redis.cpu_s(), redis.sys_s()
        t0 = time.monotonic()
        v = start_vetd(vetd, redis, batch)
        n = len(corpus)
        wait_for(lambda: v.proc.poll() is not None or redis.settled() >= n, 600,
                 "vetd to settle %d submissions" % n)
        secs = time.monotonic() - t0
        if v.proc.poll() is not None:
            raise RuntimeError("vetd exited with %s:\n%s" % (v.proc.returncode, v.logtext()))
        out = {"seconds": secs, "settled": redis.settled(),
               "vetd_cpu": proc_cpu_s(v.proc.pid), "vetd_rss_mb": proc_hwm_mb(v.proc.pid),
               "redis_cpu": redis.cpu_s() - cpu0, "redis_sys": redis.sys_s() - sys0,
               "stats": redis.commandstats()}
        out["per_second"] = n / secs
        left = redis.r.llen(PREFIX + "submissions") + redis.r.llen(PREFIX + "processing:" +
                                                                    INSTANCE)
        if left:
            raise RuntimeError("%d item(s) left in the queue or processing" % left)
        rc = v.stop()
        if rc != 0:
            raise RuntimeError("vetd exited %s" % rc)
        return out
    finally:
        if v:
            v.cleanup()
        redis.stop()


def run_ceiling(ceiling, corpus_path, corpus, batch, floor=False):
    """The ceiling client against a fresh server holding the queue; with
    floor=True its --floor mode (take and store only)."""
    redis = Redis()
    try:
        redis.push(corpus)
        redis.r.config_resetstat()
        cpu0, sys0 = redis.cpu_s(), redis.sys_s()
        res = subprocess.run([ceiling] + (["--floor"] if floor else []) +
                             [redis.sock, PREFIX, corpus_path, ROLES, str(batch)],
                             check=True, stdout=subprocess.PIPE)
        out = json.loads(res.stdout)
        out["redis_cpu"] = redis.cpu_s() - cpu0
        out["redis_sys"] = redis.sys_s() - sys0
        out["stats"] = redis.commandstats()
        # The floor keeps no state sets: count its app and dead hashes.
        done = redis.r.dbsize() - 1 if floor else redis.settled()
        if redis.r.llen(PREFIX + "submissions") or done != len(corpus):
            raise RuntimeError("%s settled %d of %d"
                               % ("floor" if floor else "ceiling", done, len(corpus)))
        return out
    finally:
        redis.stop()


def fcall_usec(stats):
    return stats.get("fcall", {}).get("usec", 0)


def bench(args):
    vetd, ceiling = program("vetd"), program("bench_e2e_ceiling")
    t = time.monotonic()
    corpus = make_corpus(args.count)
    size = sum(len(x) for x in corpus)
    print("== scripts/bench e2e: %d submissions, %.0f bytes on average (generated in %.1f s), "
          "batch_size %d, %d run(s), %d cores"
          % (len(corpus), size / len(corpus), time.monotonic() - t, args.batch, args.runs,
             os.cpu_count() or 0))
    tmp = tempfile.mkdtemp(prefix="vetd-bench-corpus-")
    corpus_path = os.path.join(tmp, "corpus.jsonl")
    with open(corpus_path, "wb") as f:
        for doc in corpus:
            f.write(doc + b"\n")
    vruns, cruns, fruns = [], [], []
    try:
        for i in range(args.runs):
            c = run_ceiling(ceiling, corpus_path, corpus, args.batch)
            v = run_vetd(vetd, corpus, args.batch)
            f = run_ceiling(ceiling, corpus_path, corpus, args.batch, floor=True)
            n = len(corpus)
            print("run %d: vetd %.0f/s (%.2f s, vetd cpu %.2f s, rss %.1f MB, redis cpu %.2f s, "
                  "%.1f us/app); ceiling %.0f/s (redis cpu %.2f s, %.1f us/app); "
                  "floor %.0f/s (%.1f us/app)"
                  % (i + 1, v["per_second"], v["seconds"], v["vetd_cpu"], v["vetd_rss_mb"],
                     v["redis_cpu"], v["redis_cpu"] * 1e6 / n, c["per_second"], c["redis_cpu"],
                     c["redis_cpu"] * 1e6 / n, f["per_second"], f["redis_cpu"] * 1e6 / n),
                  flush=True)
            vruns.append(v)
            cruns.append(c)
            fruns.append(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    n = len(corpus)
    rate, ceil = med(vruns, "per_second"), med(cruns, "per_second")
    rss = max(r["vetd_rss_mb"] for r in vruns)
    us_app = med(vruns, "redis_cpu") * 1e6 / n
    print("vetd: %.0f profiles/s (median), vetd CPU %.2f s, peak RSS %.1f MB"
          % (rate, med(vruns, "vetd_cpu"), rss))
    print("redis-server under vetd: CPU %.2f s, %.1f us per settled application "
          "(FCALL alone %.1f us)" % (med(vruns, "redis_cpu"), us_app,
                                     statistics.median(fcall_usec(r["stats"]) for r in vruns) / n))
    print("ceiling (pipelined client, precomputed analyses): %.0f profiles/s, redis CPU %.2f s, "
          "%.1f us per application (FCALL alone %.1f us)"
          % (ceil, med(cruns, "redis_cpu"), med(cruns, "redis_cpu") * 1e6 / n,
             statistics.median(fcall_usec(r["stats"]) for r in cruns) / n))
    print("redis system CPU (of the above): vetd %.2f s, ceiling %.2f s"
          % (med(vruns, "redis_sys"), med(cruns, "redis_sys")))
    # Both must issue the same calls: compare what Redis counted (vetd's
    # extra FCALLs are its start-up, heartbeats and stop; its ZCARD/LLEN
    # are this script's polling and the heartbeat).
    names = ["fcall", "hset", "pexpire", "lrem", "rename", "rpop", "lpush", "zadd"]

    def calls(runs, name):
        return statistics.median(r["stats"].get(name, {}).get("calls", 0) for r in runs)

    print("redis calls (vetd / ceiling): " + ", ".join(
        "%s %d/%d" % (x.upper(), calls(vruns, x), calls(cruns, x)) for x in names))
    floor = med(fruns, "per_second")
    print("floor (take + store only what the contract stores, no Function): %.0f profiles/s, "
          "redis CPU %.1f us per application (system %.1f)"
          % (floor, med(fruns, "redis_cpu") * 1e6 / n, med(fruns, "redis_sys") * 1e6 / n))
    ratio = rate / ceil
    print("vetd / ceiling: %.2f; ceiling / floor: %.2f" % (ratio, ceil / floor))
    misses = []
    if ratio < 0.7:
        misses.append("ratio %.2f < 0.7" % ratio)
    if rss >= 64:
        misses.append("peak RSS %.1f MB >= 64 MB" % rss)
    if ceil < 19400 * 1.25:
        why = ""
        if floor < 19400 * 1.25:
            why = " (nor is the floor, %.0f/s: storing what the contract stores costs more)" % floor
        misses.append("ceiling %.0f/s is not well above 19,400/s%s" % (ceil, why))
    print("targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    return 1 if misses and args.check else 0


# ---------------------------------------------------------------- idle

def monitor(sock_path, seconds):
    """The commands clients send to Redis during `seconds` (MONITOR), each
    as its quoted argument list."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b"MONITOR\r\n")
    buf = b""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([s], [], [], left)
        if ready:
            data = s.recv(65536)
            if not data:
                break
            buf += data
    s.close()
    lines = [x for x in buf.decode("utf-8", "replace").split("\r\n") if x.startswith("+")]
    out = []
    for line in lines[1:]:  # the first is MONITOR's own +OK
        # "+<time> [<db> <client>] "CMD" ...": commands run inside a
        # Function show as client "lua" and are part of their FCALL.
        q = line.find('"')
        if q >= 0 and "lua]" not in line[:q]:
            out.append(line[q:])
    return out


def idle(args):
    vetd = program("vetd")
    redis = Redis()
    v = start_vetd(vetd, redis, args.batch)
    try:
        wait_for(lambda: redis.r.exists(PREFIX + "instance:" + INSTANCE), 20, "vetd's heartbeat")
        # Let the start-up work (requeue, first waits) pass: one full wait.
        wait_for(lambda: redis.commandstats().get("blmove", {}).get("calls", 0) >= 1, 20,
                 "the first blocking wait")
        cpu0 = proc_cpu_s(v.proc.pid)
        window = 10.0
        cmds = monitor(redis.sock, window)
        cpu = proc_cpu_s(v.proc.pid) - cpu0
        counts = {}
        foreign = []
        for c in cmds:
            words = c.split('" "')
            name = words[0].strip('"').upper()
            if name == "FCALL" and len(words) > 1:
                name = "FCALL " + words[1].rsplit("_", 1)[-1]
            counts[name] = counts.get(name, 0) + 1
            if name not in ("BLMOVE", "FCALL heartbeat"):
                foreign.append(c)
        print("== scripts/bench e2e --idle: %.0f s window" % window)
        print("idle vetd CPU: %.3f s (target < 0.1 s)" % cpu)
        print("redis commands: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
        ok = cpu < 0.1 and not foreign
        if foreign:
            print("unexpected commands: %r" % foreign[:5])
        print("idle: " + ("ok" if ok else "FAILED"))
        rc = v.stop()
        return 0 if ok and rc == 0 else 1
    finally:
        v.cleanup()
        redis.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64, help="vetd's batch_size (default 64)")
    ap.add_argument("--no-build", dest="build", action="store_false")
    ap.add_argument("--no-check", dest="check", action="store_false",
                    help="report only; do not exit 1 when a target is missed")
    ap.add_argument("--idle", action="store_true", help="check the idle claim instead")
    args = ap.parse_args()
    if args.build:
        build()
    sys.exit(idle(args) if args.idle else bench(args))


if __name__ == "__main__":
    main()
