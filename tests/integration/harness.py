"""Integration test harness: a private redis-server on a unix socket, vetd
and vetctl processes, and waiting on conditions with deadlines.

Every test file imports this module, uses `Redis()` as a context manager
(the server is stopped afterwards, also on failure) and a fresh key prefix
per test. Binaries come from $VETD_BIN / $VETCTL_BIN (set by ctest)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import redis as redis_py

SOURCE_DIR = os.environ.get("VETD_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD_DIR = os.environ.get("VETD_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
VETD = os.environ.get("VETD_BIN", os.path.join(BUILD_DIR, "vetd"))
VETCTL = os.environ.get("VETCTL_BIN", os.path.join(BUILD_DIR, "vetctl"))
FAILPOINTS = os.environ.get("VETD_FAILPOINTS", "0") == "1"
SANITIZE = os.environ.get("VETD_SANITIZE", "0") == "1"
SAMPLES = os.path.join(SOURCE_DIR, "conf", "samples")
ROLES = os.path.join(SOURCE_DIR, "conf", "roles")

# Under ASan a leak or error must fail the test: make the process exit 99.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:exitcode=99")
os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:exitcode=99")


class TestFailure(Exception):
    pass


def check(cond, msg="check failed"):
    """assert that survives python -O and carries a message."""
    if not cond:
        raise TestFailure(msg)


def wait_until(fn, timeout=15.0, msg="condition", interval=0.02):
    """Poll fn until it returns a truthy value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out waiting for " + msg)
        time.sleep(interval)


def new_prefix():
    return "t%s:" % uuid.uuid4().hex[:10]


class Redis:
    """A private redis-server on a unix socket in a temp directory."""

    def __init__(self, appendonly=False, extra=""):
        self.dir = tempfile.mkdtemp(prefix="vetd-redis-")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.conf = os.path.join(self.dir, "redis.conf")
        with open(self.conf, "w") as f:
            f.write("port 0\nunixsocket %s\nunixsocketperm 700\n" % self.sock)
            f.write("dir %s\nsave \"\"\nmaxmemory-policy noeviction\n" % self.dir)
            f.write("daemonize no\nlogfile %s/redis.log\n" % self.dir)
            if appendonly:
                f.write("appendonly yes\nappendfsync always\n")
            f.write(extra)
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["redis-server", self.conf])
        wait_until(self._ping, 10, "redis-server to answer PING")

    def _ping(self):
        if self.proc.poll() is not None:
            raise TestFailure("redis-server exited with %s" % self.proc.returncode)
        try:
            return self.client().ping()
        except redis_py.exceptions.RedisError:
            return False

    def client(self, decode=False):
        return redis_py.Redis(unix_socket_path=self.sock, decode_responses=decode)

    @property
    def url(self):
        return "unix://" + self.sock

    def crash(self):
        """SHUTDOWN NOSAVE: with appendonly+fsync always nothing acknowledged is lost."""
        try:
            self.client().shutdown(nosave=True)
        except redis_py.exceptions.ConnectionError:
            pass
        self.proc.wait(10)

    def restart(self):
        self.crash()
        self.start()

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def load_functions(r):
    """Load the Functions library exactly as vetd embeds it (the generated
    lualib_gen.c of the build under test) into r; returns its name."""
    with open(os.path.join(BUILD_DIR, "lualib_gen.c")) as f:
        text = f.read()
    name = text.split('lualib_name[] = "')[1].split('"')[0]
    body = text.split("lualib_source[] = {")[1].split("}")[0]
    source = bytes(int(x, 16) for x in body.replace(" ", "").split(",") if x)
    try:
        r.function_load(source.rstrip(b"\0").decode())
    except redis_py.exceptions.ResponseError as e:
        if "already exists" not in str(e):
            raise
    return name


def write_conf(path, redis_url, prefix, instance="t1", roles_dir=ROLES, **keys):
    """A vetd.conf for one test; keys override the defaults given here."""
    conf = {
        "redis": redis_url,
        "key_prefix": prefix,
        "instance": instance,
        "roles_dir": roles_dir,
        "heartbeat_interval_ms": 200,
        "instance_ttl_ms": 1000,
        "block_timeout_ms": 500,
        "reconnect_max_ms": 500,
        "metrics_listen": "",
        "log_level": "debug",
    }
    conf.update(keys)
    with open(path, "w") as f:
        for k, v in conf.items():
            f.write('%s = "%s"\n' % (k, v) if isinstance(v, str) else "%s = %s\n" % (k, v))
    return path


class Vetd:
    """One vetd process with its own config file; stderr goes to a log file."""

    def __init__(self, redis, prefix, instance="t1", env=None, args=(), wrapper=(), binary=None,
                 **keys):
        self.dir = tempfile.mkdtemp(prefix="vetd-daemon-")
        self.conf = write_conf(os.path.join(self.dir, "vetd.conf"), redis.url, prefix,
                               instance, **keys)
        self.log_path = os.path.join(self.dir, "vetd.log")
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("JOURNAL_STREAM", None)
        self.env.update(env or {})
        self.args = list(args)
        self.wrapper = list(wrapper)  # e.g. ["valgrind", ...] in front of vetd
        self.binary = binary or VETD  # another build's vetd (the benchmark's)
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.wrapper + [self.binary, "-c", self.conf] + self.args,
                                     stdout=self.log,
                                     stderr=self.log, env=self.env)

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, timeout=15):
        return wait_until(lambda: needle in self.logtext(), timeout, "log line %r" % needle)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("vetd did not exit within %ss" % timeout)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        self.log.close()
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def vetctl(*args, conf=None, input=None, env=None, check_rc=None):
    """Run vetctl; returns CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    e.pop("VETCTL_CONFIG", None)
    e["NO_COLOR"] = "1"
    e.update(env or {})
    cmd = [VETCTL] + (["-c", conf] if conf else []) + list(args)
    p = subprocess.run(cmd, input=input, capture_output=True, env=e, timeout=60)
    p.stdout_text = p.stdout.decode("utf-8", "replace")
    p.stderr_text = p.stderr.decode("utf-8", "replace")
    if check_rc is not None and p.returncode != check_rc:
        raise TestFailure("vetctl %s: exit %d, expected %d\nstdout: %s\nstderr: %s" %
                          (" ".join(args), p.returncode, check_rc, p.stdout_text, p.stderr_text))
    return p


def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as f:
        return f.read()


def sample_names():
    return sorted(n for n in os.listdir(SAMPLES) if n.endswith(".json"))


def run_tests(tests):
    """Run a list of test functions; print a line each; exit 1 on any failure."""
    failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        start = time.monotonic()
        try:
            t()
            print("ok   %s (%.2fs)" % (t.__name__, time.monotonic() - start), flush=True)
        except SkipTest as e:
            print("skip %s: %s" % (t.__name__, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    sys.exit(1 if failed else 0)


class SkipTest(Exception):
    pass


# --- Seeding applications directly (the layout of SPEC §2 as vetd's
# finalize writes it), for vetctl tests that need no daemon. ---

def email_sha1(email):
    import hashlib
    return hashlib.sha1(email.encode("utf-8").lower()).hexdigest() if email.isascii() else \
        hashlib.sha1(bytes(c + 32 if 65 <= c <= 90 else c for c in email.encode("utf-8"))).hexdigest()


def sample_analysis(role="backend-developer", score=72, threshold=60, qualified=True):
    return json.dumps({
        "role": role, "role_title": "Backend Developer", "role_version": "2026-11-28.1",
        "role_sha1": "0" * 40, "score": score, "threshold": threshold, "qualified": qualified,
        "met": [{"id": "nodejs", "label": "Node.js", "group": "skills", "weight": 10,
                 "evidence": [{"field": "skills[0]", "text": "Node.js"}]}],
        "missing": [{"id": "cloud", "label": "Cloud (AWS/GCP)", "group": "skills", "weight": 10,
                     "advice": "Deploy a small service on AWS or GCP and write about it."}],
        "plan": [{"group": "skills", "advice": "Deploy a small service on AWS or GCP."}],
        "scored_by": "vetd test"}, separators=(",", ":"))


def seed_app(r, prefix, app_id, role="backend-developer", state="qualified", score=72,
             name="Ada Lovelace", email="ada@example.org", links=None, cv_text="CV text",
             notify=True, instance="t1"):
    """Store one application as vetd's finalize would: hash, state set,
    first history event, by-email entry and (qualified) the reviewers' job.
    r is a redis-py client (bytes). Returns the profile bytes."""
    import hashlib
    profile = {"role": role, "name": name, "email": email, "consent": True, "id": app_id,
               "skills": ["Node.js"], "cv_text": cv_text,
               "links": links if links is not None else {"github": "https://github.com/ada"}}
    raw = json.dumps(profile, ensure_ascii=False).encode("utf-8")
    now = "2026-11-28T14:16:16.123Z"
    analysis = sample_analysis(role, score, 60, state == "qualified")
    p = r.pipeline(transaction=True)
    p.hset(prefix + "app:" + app_id, mapping={
        "id": app_id, "role": role, "state": state, "score": score,
        "qualified": "1" if state == "qualified" else "0", "name": name, "email": email,
        "submitted_at": now, "received_at": now, "scored_at": now, "updated_at": now,
        "version": 1, "digest": hashlib.sha1(raw).hexdigest(), "profile": raw,
        "analysis": analysis, "reviewer": "", "note": ""})
    p.zadd(prefix + "state:%s:%s" % (role, state), {app_id: score})
    p.rpush(prefix + "history:" + app_id, json.dumps(
        {"at": now, "from": None, "to": state, "actor": "vetd:" + instance},
        separators=(",", ":")))
    p.sadd(prefix + "by-email:" + email_sha1(email), app_id)
    if notify and state == "qualified":
        p.lpush(prefix + "notifications", '{"event":"candidate.qualified","audience":"reviewers",'
                '"event_id":"%s:1","id":"%s","at":"%s","application":{"id":"%s","role":"%s",'
                '"name":%s,"email":%s,"score":%d,"analysis":%s}}' % (
                    app_id, app_id, now, app_id, role, json.dumps(name), json.dumps(email),
                    score, analysis))
    p.execute()
    return raw


def seed_dead(r, prefix, reason, payload, email=None, digest=None):
    """A dead letter as vetd writes it; returns its seq."""
    import hashlib
    seq = r.incr(prefix + "dead:seq")
    fields = {"reason": reason, "detail": "test", "at": "2026-11-28T14:16:16.123Z",
              "instance": "t1", "digest": digest or hashlib.sha1(payload or b"").hexdigest(),
              "email_sha1": email_sha1(email) if email else ""}
    if payload is not None:
        fields["payload"] = payload
    r.hset(prefix + "dead:%d" % seq, mapping=fields)
    r.rpush(prefix + "dead", seq)
    return seq


def keyspace(r, prefix):
    """Every key of the prefix with its type and its whole value, comparable
    with == (DUMP is not: a hash's internal order may change on reads)."""
    out = {}
    for k in r.scan_iter(match=prefix + "*"):
        t = r.type(k)
        if t == b"string":
            v = r.get(k)
        elif t == b"hash":
            v = r.hgetall(k)
        elif t == b"list":
            v = r.lrange(k, 0, -1)
        elif t == b"set":
            v = r.smembers(k)
        elif t == b"zset":
            v = r.zrange(k, 0, -1, withscores=True)
        else:
            v = None
        out[k] = (t, v)
    return out


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (for metrics_listen)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def valid_samples():
    """The samples that must be stored (qualified or not), not dead-lettered."""
    return [n for n in sample_names()
            if n.endswith(".qualified.json") or n.endswith(".not_qualified.json")]


def outcome_total(port, outcome):
    """vetd_submissions_total{outcome=...} from vetd's /metrics, or None."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode("utf-8")
    finally:
        c.close()
    line = 'vetd_submissions_total{outcome="%s"} ' % outcome
    for x in text.splitlines():
        if x.startswith(line):
            return int(x[len(line):])
    return None
