"""vetctl from a reviewer's and an operator's seat (SPEC §8): global options
before and after the command (never inside an option's value or after
`--`), --json shapes, export's shape and erase's scope over data a real
vetd stored, `score` exit codes and its agreement with vetd, and vetd's
own command line (§7)."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import ROLES, SAMPLES, VETD, check  # noqa: E402

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_CONFIG = 0, 64, 65, 66, 78


def setup(R, prefix=None):
    prefix = prefix or h.new_prefix()
    d = tempfile.mkdtemp(prefix="vetctl-")
    return prefix, h.write_conf(os.path.join(d, "vetctl.conf"), R.url, prefix)


def test_global_options_never_eat_arguments():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "g1")
        # A note that looks like a global option, after `--`.
        h.vetctl("note", "g1", "--", "--json", conf=conf, check_rc=EX_OK)
        # An option's value that looks like one.
        h.vetctl("mark", "g1", "in_review", "--note", "-c", conf=conf, check_rc=EX_OK)
        notes = [json.loads(e).get("note") for e in r.lrange(prefix + "history:g1", 0, -1)]
        check(notes[1:] == ["--json", "-c"], "notes %r" % notes)
        # Global options before, after and in the = form.
        for args in (["--json", "-c", conf, "history", "g1"],
                     ["history", "g1", "--json", "-c", conf],
                     ["--config=" + conf, "history", "--json", "g1"],
                     ["history", "--config", conf, "g1", "--redis=" + R.url, "--json"]):
            p = h.vetctl(*args, check_rc=EX_OK)
            check(isinstance(json.loads(p.stdout), list), "%r: %s" % (args, p.stdout_text))
        p = h.vetctl("history", "g1", "-c", conf=None, check_rc=EX_USAGE)
        check("-c needs a value" in p.stderr_text, p.stderr_text)
        p = h.vetctl("--bogus", "list", conf=conf, check_rc=EX_USAGE)
        check("unknown option" in p.stderr_text, p.stderr_text)


def test_json_shapes_and_raw_text():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        name = "Eve \x1b[31mRed\u202e"
        h.seed_app(r, prefix, "j1", name=name)
        h.seed_dead(r, prefix, "bad_field", b'{"name":"\x1b]0;x\x07"}', email="eve@example.org")
        arrays = [("list",), ("history", "j1"), ("dead", "list")]
        objects = [("show", "j1"), ("stats",), ("dead", "show", "1"), ("export", "j1"),
                   ("note", "j1", "n"), ("mark", "j1", "in_review")]
        for args in arrays:
            v = json.loads(h.vetctl("--json", *args, conf=conf, check_rc=EX_OK).stdout)
            check(isinstance(v, list), "%r is not an array" % (args,))
        for args in objects:
            v = json.loads(h.vetctl(*args, "--json", conf=conf, check_rc=EX_OK).stdout)
            check(isinstance(v, dict), "%r is not an object" % (args,))
        show = json.loads(h.vetctl("--json", "show", "j1", conf=conf, check_rc=EX_OK).stdout)
        check(show["name"] == name, "raw text escaped in --json: %r" % show["name"])
        check(isinstance(show["analysis"], dict), "analysis is not an object")
        text = h.vetctl("show", "j1", conf=conf, check_rc=EX_OK).stdout
        check(b"\x1b" not in text and "\u202e".encode() not in text, "terminal not protected")


def flatten(val):
    """Every byte string inside a keyspace() value, joined."""
    if isinstance(val, bytes):
        return val
    if isinstance(val, dict):
        return b"\0".join(flatten(k) + b"\0" + flatten(v) for k, v in val.items())
    if isinstance(val, (list, tuple, set)):
        return b"\0".join(flatten(v) for v in val)
    return str(val).encode()


def glob_escape(s):
    return "".join("\\" + c if c in "*?[]\\" else c for c in s)


def settle_samples(R, prefix, instance="bx"):
    r = R.client()
    v = h.Vetd(R, prefix, instance=instance)
    names = h.sample_names()
    for n in names:
        r.lpush(prefix + "submissions", h.sample(n))

    def done():
        apps = sum(1 for _ in r.scan_iter(match=glob_escape(prefix) + "app:*"))
        return (r.llen(prefix + "submissions") == 0 and
                r.llen(prefix + "processing:" + instance) == 0 and
                apps + r.llen(prefix + "dead") >= len(names))
    h.wait_until(done, 30, "samples settled")
    return v


def test_export_shape_and_erase_scope_over_vetd_data():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R, "bx[*]?" + h.new_prefix())
        v = settle_samples(R, prefix)
        try:
            raw = h.sample("strong-node-gcp.qualified.json")
            doc = json.loads(raw)
            aid, email = doc["id"], doc["email"]
            # A later, updated submission and a rejected one of the same person.
            second = dict(doc, id="second-1", headline="Updated")
            r.lpush(prefix + "submissions", json.dumps(second).encode())
            bad = dict(doc, id="bad-1", email=email.upper(), links={"x": "ftp://no"})
            bad_raw = json.dumps(bad).encode()
            r.lpush(prefix + "submissions", bad_raw)
            h.wait_until(lambda: r.exists(prefix + "app:second-1") and
                         r.llen(prefix + "submissions") == 0 and
                         r.llen(prefix + "processing:bx") == 0, 15, "second submissions")
            h.vetctl("mark", aid, "contacted", "--note", "call me", conf=conf, check_rc=EX_OK)
            out = json.loads(h.vetctl("export", "--email", email.upper(), conf=conf,
                                      check_rc=EX_OK).stdout)
            check(list(out) == ["applications", "dead_letters"], "export keys %r" % list(out))
            apps = {a["id"]: a for a in out["applications"]}
            check(set(apps) == {aid, "second-1"}, "export apps %r" % sorted(apps))
            a = apps[aid]
            stored = r.hgetall(prefix + "app:" + aid)
            for k in stored:
                check(k.decode() in a, "export misses %r" % k)
            check(a["profile"] == raw.decode("utf-8"), "profile not byte-for-byte")
            check(isinstance(a["analysis"], dict), "analysis not an object")
            check([e["to"] for e in a["history"]] == ["qualified", "contacted"], a["history"])
            dl = out["dead_letters"]
            check(len(dl) == 1 and dl[0]["reason"] == "bad_field" and
                  dl[0]["payload"] == bad_raw.decode(), "dead letters %r" % dl)
            h.vetctl("export", "--email", "nobody@example.org", conf=conf, check_rc=EX_NOINPUT)
            # Erase by address: every application, job and dead letter of it.
            rep = json.loads(h.vetctl("--json", "erase", "--email", email, "--yes", conf=conf,
                                      check_rc=EX_OK).stdout)
            check(sorted(rep["erased"]) == sorted([aid, "second-1"]) and
                  rep["dead_letters_removed"] == 1, rep)
            check(rep["unattributable_dead_letters"] >= 4, "never-parsed letters: %r" % rep)
            needles = [doc["name"].encode(), email.encode(), email.upper().encode(),
                       doc["links"]["github"].encode(), b"call me"]
            space = h.keyspace(r, glob_escape(prefix))
            check(len(space) > 20 and all(k.startswith(prefix.encode()) for k in space),
                  "keyspace of the prefix: %d keys" % len(space))
            for k, (t, val) in space.items():
                blob = flatten(val)
                for n in needles:
                    check(n not in blob and n not in k, "%r still holds %r" % (k, n))
            for i in (aid, "second-1"):
                f = r.hgetall(prefix + "app:" + i)
                check(f[b"state"] == b"erased" and b"profile" not in f and b"note" not in f, f)
                hist = [json.loads(e) for e in r.lrange(prefix + "history:" + i, 0, -1)]
                check(all(e.get("note") in (None, "[erased]") for e in hist), hist)
            check(not r.exists(prefix + "by-email:" + hashlib.sha1(email.lower().encode())
                               .hexdigest()), "by-email entry kept")
        finally:
            v.cleanup()


def test_score_exit_codes_and_agreement_with_vetd():
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        v = settle_samples(R, prefix)
        try:
            for n in h.sample_names():
                want = n.rsplit(".", 2)[1]
                p = h.vetctl("score", os.path.join(SAMPLES, n), "--roles-dir", ROLES, "--json")
                if want in ("qualified", "not_qualified"):
                    check(p.returncode == EX_OK, "%s: exit %d %s" % (n, p.returncode,
                                                                     p.stderr_text))
                    an = json.loads(p.stdout)
                    check(an["qualified"] == (want == "qualified"), "%s: verdict" % n)
                    stored = r.hget(prefix + "app:" + json.loads(h.sample(n))["id"], "analysis")
                    check(p.stdout.rstrip(b"\n") == stored,
                          "%s: vetctl score and vetd disagree byte-for-byte" % n)
                else:
                    check(p.returncode == EX_DATAERR, "%s: exit %d" % (n, p.returncode))
                    check(want in p.stderr_text, "%s: code not on stderr: %s" % (n,
                                                                                p.stderr_text))
                    check(p.stdout == b"", "%s: output on a rejection" % n)
            d = tempfile.mkdtemp(prefix="score-")
            big = os.path.join(d, "big.json")
            with open(big, "wb") as f:
                f.write(b'{"cv_text":"' + b"x" * 262200 + b'"}')
            p = h.vetctl("score", big, "--roles-dir", ROLES, check_rc=EX_DATAERR)
            check("too_large" in p.stderr_text, p.stderr_text)
            good = os.path.join(SAMPLES, "strong-node-gcp.qualified.json")
            h.vetctl("score", os.path.join(d, "missing.json"), "--roles-dir", ROLES,
                     check_rc=EX_NOINPUT)
            h.vetctl("score", good, "--roles-dir", os.path.join(d, "none"), check_rc=EX_CONFIG)
            with open(os.path.join(d, "broken.json"), "w") as f:
                f.write("{")
            h.vetctl("score", good, "--roles-dir", d, check_rc=EX_CONFIG)
            h.vetctl("score", check_rc=EX_USAGE)
            h.vetctl("score", good, "--frob", "--roles-dir", ROLES, check_rc=EX_USAGE)
            # No Redis and no configuration are needed.
            h.vetctl("--redis", "unix:///nonexistent.sock", "score", good, "--roles-dir", ROLES,
                     env={"VETCTL_CONFIG": "/nonexistent"}, check_rc=EX_OK)
        finally:
            v.cleanup()


def run_vetd(*args):
    return subprocess.run([VETD] + list(args), capture_output=True, timeout=30)


def test_vetd_command_line():
    p = run_vetd("--help")
    check(p.returncode == 0 and b"usage: vetd" in p.stdout, "--help: %r" % p)
    p = run_vetd("--version")
    check(p.returncode == 0 and p.stdout.startswith(b"vetd "), "--version: %r" % p)
    check(run_vetd("--frob").returncode == EX_USAGE, "unknown option")
    check(run_vetd("stray").returncode == EX_USAGE, "stray argument")
    d = tempfile.mkdtemp(prefix="vetd-cli-")
    good = h.write_conf(os.path.join(d, "good.conf"), "unix:///nonexistent.sock", "x:")
    check(run_vetd("-c", good, "--check-config").returncode == 0, "good config")
    bad = os.path.join(d, "bad.conf")
    with open(bad, "w") as f:
        f.write('redis = "unix:///x.sock"\nroles_dir = "%s"\nbatch_sise = 3\n' % ROLES)
    p = run_vetd("-c", bad, "--check-config")
    check(p.returncode == EX_CONFIG and b"bad.conf:3" in p.stderr and b"batch_sise" in p.stderr,
          "bad key: %r" % p)
    broken_roles = tempfile.mkdtemp(prefix="roles-")
    with open(os.path.join(broken_roles, "x.json"), "w") as f:
        f.write("{")
    roles_bad = h.write_conf(os.path.join(d, "roles.conf"), "unix:///nonexistent.sock", "x:",
                             roles_dir=broken_roles)
    check(run_vetd("-c", roles_bad, "--check-config").returncode == EX_CONFIG, "broken roles")
    check(run_vetd("-c", os.path.join(d, "none.conf"), "--check-config").returncode == EX_CONFIG,
          "missing config")


if __name__ == "__main__":
    h.run_tests([
        test_global_options_never_eat_arguments,
        test_json_shapes_and_raw_text,
        test_export_shape_and_erase_scope_over_vetd_data,
        test_score_exit_codes_and_agreement_with_vetd,
        test_vetd_command_line,
    ])
