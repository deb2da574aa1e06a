"""vetctl as a command-line tool: dead letters (retry byte-for-byte, show,
drop), submit, list/show/stats output, escaping of hostile names, --json
for every command, the exit codes of SPEC §8 and the config lookup."""

import base64
import json
import os
import tempfile

import harness as h
from harness import check


def setup(R, **keys):
    prefix = h.new_prefix()
    d = tempfile.mkdtemp(prefix="vetctl-")
    conf = h.write_conf(os.path.join(d, "vetctl.conf"), R.url, prefix, **keys)
    return prefix, conf


def test_dead_retry_is_byte_for_byte_and_resets_deliveries():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        payload = b'{"name":"\xc3\xa9\xff not utf8",\r\n"x":1}\x00tail'
        seq = h.seed_dead(r, prefix, "poison", payload)
        digest = r.hget(prefix + "dead:%d" % seq, "digest")
        r.hset(prefix + "deliveries", digest, 6)
        r.lpush(prefix + "submissions", b"newer item")
        shown = h.vetctl("--json", "dead", "show", str(seq), conf=conf, check_rc=0)
        d = json.loads(shown.stdout)
        check(d["payload_encoding"] == "base64" and base64.b64decode(d["payload"]) == payload, d)
        text = h.vetctl("dead", "show", str(seq), conf=conf, check_rc=0).stdout_text
        check(base64.b64encode(payload).decode() in text, text)
        h.vetctl("dead", "retry", str(seq), conf=conf, check_rc=0)
        check(r.lindex(prefix + "submissions", -1) == payload, "not at the taking end")
        check(r.llen(prefix + "submissions") == 2, "queue length")
        check(r.hget(prefix + "deliveries", digest) is None, "delivery count kept")
        check(not r.exists(prefix + "dead:%d" % seq) and r.llen(prefix + "dead") == 0,
              "dead letter kept")
        h.vetctl("dead", "retry", str(seq), conf=conf, check_rc=66)


def test_dead_list_show_drop_and_retry_all():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        s1 = h.seed_dead(r, prefix, "bad_field", b'{"name":"\x1b[2J\xe2\x80\xae"}',
                         email="a@example.org")
        s2 = h.seed_dead(r, prefix, "no_consent", None, email="b@example.org")
        s3 = h.seed_dead(r, prefix, "not_json", b"{{{")
        rows = json.loads(h.vetctl("--json", "dead", "list", conf=conf, check_rc=0).stdout)
        check([x["seq"] for x in rows] == [s1, s2, s3], rows)
        check(rows[1]["payload_bytes"] == 0 and rows[0]["reason"] == "bad_field", rows)
        text = h.vetctl("dead", "show", str(s1), conf=conf, check_rc=0).stdout
        check(b"\x1b" not in text and "\u202e".encode() not in text, text)
        check(b"\\x1b[2J" in text, text)
        js = json.loads(h.vetctl("--json", "dead", "show", str(s1), conf=conf, check_rc=0).stdout)
        check(js["payload"] == '{"name":"\x1b[2J\u202e"}', "json keeps raw text: %r" % js)
        h.vetctl("dead", "retry", str(s2), conf=conf, check_rc=65)
        h.vetctl("dead", "drop", str(s3), conf=conf, check_rc=0)
        h.vetctl("dead", "drop", str(s3), conf=conf, check_rc=66)
        out = json.loads(h.vetctl("--json", "dead", "retry", "--all", conf=conf,
                                  check_rc=0).stdout)
        check(out == {"retried": 1, "kept_without_payload": 1}, out)
        check(r.lrange(prefix + "dead", 0, -1) == [str(s2).encode()], "dead list")
        h.vetctl("dead", "show", "999", conf=conf, check_rc=66)
        h.vetctl("dead", "show", conf=conf, check_rc=64)
        h.vetctl("dead", "frob", conf=conf, check_rc=64)


def test_submit_pushes_raw_bytes():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        d = tempfile.mkdtemp(prefix="vetctl-")
        files = []
        for i, body in enumerate([b'{"a":1}\n', b"\xff raw \x00 bytes"]):
            files.append(os.path.join(d, "s%d.json" % i))
            with open(files[-1], "wb") as f:
                f.write(body)
        out = json.loads(h.vetctl("--json", "submit", *files, conf=conf, check_rc=0).stdout)
        check(out["submitted"] == 2, out)
        check(r.lrange(prefix + "submissions", 0, -1) == [b"\xff raw \x00 bytes", b'{"a":1}\n'],
              "queue %r" % r.lrange(prefix + "submissions", 0, -1))
        h.vetctl("submit", os.path.join(d, "missing.json"), conf=conf, check_rc=66)


def test_hostile_names_are_escaped_in_show_and_list():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        name = "Eve \x1b[31mRED\x1b[0m \u202egnp.exe \u200f"
        h.seed_app(r, prefix, "e1", name=name, links={"github": "https://github.com/eve"})
        h.seed_app(r, prefix, "w1", name="\u5f20\u4f1f Wide", email="w@example.org", score=90)
        for args in (["list"], ["show", "e1"], ["history", "e1"]):
            out = h.vetctl(*args, conf=conf, check_rc=0).stdout
            check(b"\x1b" not in out, "%s: raw ESC in %r" % (args, out))
            check("\u202e".encode() not in out and "\u200f".encode() not in out,
                  "%s: raw bidi in %r" % (args, out))
        out = h.vetctl("list", conf=conf, check_rc=0).stdout_text
        check("\\x1b[31mRED" in out and "\\u202e" in out, out)
        lines = out.splitlines()
        # Columns after the name line up although one name is wide (CJK).
        starts = [l.index("2026-11-28") for l in lines[1:]]
        widths = [len(l[:s].encode("utf-16-le")) // 2 +
                  sum(1 for c in l[:s] if "\u4e00" <= c <= "\u9fff") for l, s in
                  zip(lines[1:], starts)]
        check(len(set(widths)) == 1, "misaligned: %r" % lines)
        out = h.vetctl("show", "e1", conf=conf, check_rc=0).stdout_text
        check("\\x1b[31mRED" in out and "threshold 60" in out and "github" in out, out)
        # --json carries the raw text, unescaped.
        rows = json.loads(h.vetctl("--json", "list", conf=conf, check_rc=0).stdout)
        check(any(x["name"] == name for x in rows), rows)


def test_list_ranks_across_roles_and_filters():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        for i, score in enumerate([55, 91, 73, 60, 88]):
            role = "backend-developer" if i % 2 else "data-engineer"
            h.seed_app(r, prefix, "r%d" % i, role=role, score=score, notify=False,
                       email="r%d@example.org" % i)
        r.sadd(prefix + "roles", "data-engineer")  # the index vetctl keeps
        rows = json.loads(h.vetctl("--json", "list", conf=conf, check_rc=0).stdout)
        check([x["score"] for x in rows] == [91, 88, 73, 60, 55], rows)
        rows = json.loads(h.vetctl("--json", "list", "--limit", "2", conf=conf).stdout)
        check([x["id"] for x in rows] == ["r1", "r4"], rows)
        rows = json.loads(h.vetctl("--json", "list", "--role", "backend-developer",
                                   "--min-score", "61", conf=conf).stdout)
        check([x["id"] for x in rows] == ["r1"], rows)
        h.vetctl("mark", "r1", "in_review", conf=conf, check_rc=0)
        rows = json.loads(h.vetctl("--json", "list", "--state", "in_review", conf=conf).stdout)
        check([(x["id"], x["version"]) for x in rows] == [("r1", 2)], rows)
        h.vetctl("list", "--state", "maybe", conf=conf, check_rc=64)
        # stats finds a role's sets even when the index does not know it.
        r.srem(prefix + "roles", "data-engineer")
        st = json.loads(h.vetctl("--json", "stats", conf=conf, check_rc=0).stdout)
        check(st["funnel"]["qualified"] == 4 and st["funnel"]["in_review"] == 1, st)
        check(sum(b["count"] for b in st["histogram"]) == 5, st["histogram"])
        check(st["histogram"][9]["count"] == 1, st["histogram"])
        check(r.sismember(prefix + "roles", "data-engineer"), "index not repaired")


def test_stats_queues_and_dead_reasons():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        r.lpush(prefix + "submissions", "a", "b")
        r.sadd(prefix + "instances", "t1")
        r.lpush(prefix + "processing:t1", "x")
        r.lpush(prefix + "notifications:processing:m1", "{}")
        h.seed_dead(r, prefix, "poison", b"p1")
        h.seed_dead(r, prefix, "poison", b"p2")
        h.seed_dead(r, prefix, "too_large", b"p3")
        st = json.loads(h.vetctl("--json", "stats", conf=conf, check_rc=0).stdout)
        q = st["queues"]
        check(q["submissions"] == 2 and q["processing"] == {"t1": 1} and q["dead"] == 3, q)
        check(q["notifications_processing"] == {"m1": 1}, q)
        check(st["dead_by_reason"] == {"poison": 2, "too_large": 1}, st)
        text = h.vetctl("stats", conf=conf, check_rc=0).stdout_text
        check("Funnel" in text and "poison" in text and "processing t1" in text, text)


def test_json_output_parses_for_every_command():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "j1")
        h.seed_app(r, prefix, "j2", email="j2@example.org")
        seq = h.seed_dead(r, prefix, "bad_field", b'{"x":1}', email="j2@example.org")
        seq2 = h.seed_dead(r, prefix, "bad_field", b'{"x":2}')
        d = tempfile.mkdtemp(prefix="vetctl-")
        sub = os.path.join(d, "s.json")
        with open(sub, "wb") as f:
            f.write(b'{"x":1}')
        cmds = [["list"], ["show", "j1"], ["history", "j1"], ["mark", "j1", "in_review"],
                ["mark", "j1", "in_review"], ["note", "j1", "hi"], ["stats"], ["dead", "list"],
                ["dead", "show", str(seq)], ["dead", "retry", str(seq2)], ["submit", sub],
                ["export", "j2"], ["erase", "j2", "--yes"], ["dead", "list"]]
        for c in cmds:
            for where in ("before", "after"):
                args = ["--json"] + c if where == "before" else c + ["--json"]
                if c[0] in ("mark", "note", "erase", "submit", "dead") and where == "after" \
                        and c[-1] not in ("list",) and c[:2] != ["dead", "show"]:
                    continue  # commands that change data run once
                p = h.vetctl(*args, conf=conf, check_rc=0)
                try:
                    v = json.loads(p.stdout)
                except ValueError:
                    raise h.TestFailure("%s: not JSON: %r" % (args, p.stdout_text))
                want = list if c[0] in ("list", "history") or c[:2] == ["dead", "list"] \
                    else dict
                check(isinstance(v, want), "%s: %s is not a %s" % (args, type(v), want))
        h.vetctl("dead", "drop", str(seq), "--json", conf=conf, check_rc=66)


def test_exit_codes():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "x1", state="contacted")
        p = h.vetctl("mark", "x1", "sideways", conf=conf)
        check(p.returncode == 64 and "unknown state" in p.stderr_text, p.stderr_text)
        h.vetctl("frobnicate", conf=conf, check_rc=64)
        h.vetctl("list", "--bogus", conf=conf, check_rc=64)
        p = h.vetctl("mark", "x1", "qualified", conf=conf)
        check(p.returncode == 65, "exit %d" % p.returncode)
        check(p.stderr_text == "vetctl: mark x1: contacted -> qualified is not allowed "
              "(allowed: declined, erased)\n", repr(p.stderr_text))
        p = h.vetctl("show", "nope", conf=conf)
        check(p.returncode == 66 and p.stderr_text == "vetctl: show nope: no such application\n",
              repr(p.stderr_text))
        p = h.vetctl("--redis", "unix://" + os.path.join(tempfile.mkdtemp(), "no.sock"), "list",
                     conf=conf)
        check(p.returncode == 69 and p.stderr_text.count("\n") == 1, p.stderr_text)
        h.vetctl("mark", "x1", "declined", "--expect-version", "7", conf=conf, check_rc=75)
        bad = os.path.join(tempfile.mkdtemp(), "bad.conf")
        with open(bad, "w") as f:
            f.write('redis = "%s"\nkey_prefx = "x:"\n' % R.url)
        p = h.vetctl("list", conf=bad)
        check(p.returncode == 78 and "key_prefx" in p.stderr_text, p.stderr_text)
        h.vetctl("list", conf="/nonexistent/vetctl.conf", check_rc=78)
        h.vetctl("--help", check_rc=0)
        for c in ("list", "show", "mark", "note", "history", "stats", "dead", "submit",
                  "export", "erase"):
            out = h.vetctl(c, "--help", check_rc=0).stdout_text
            check(out.startswith("usage: vetctl") and c in out, out)


def test_reviewer_text_must_be_utf8():
    """A note or --as that is not UTF-8 would make the stored history event
    and the mailer's job invalid JSON: 65, nothing changed. Every event of
    a transition has a note member, null when none was given."""
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "u1", state="qualified", notify=False)
        before = r.lrange(prefix + "history:u1", 0, -1)
        for args in (["mark", "u1", "declined", "--note", b"caf\xe9"],
                     ["mark", "u1", "declined", "--as", b"b\xe9b"],
                     ["note", "u1", b"\xff\xfe"], ["note", "u1", "ok", "--as", b"\xc3"]):
            p = h.vetctl(*args, conf=conf)
            check(p.returncode == 65 and "not valid UTF-8" in p.stderr_text,
                  "%r: exit %d %s" % (args, p.returncode, p.stderr_text))
        check(r.lrange(prefix + "history:u1", 0, -1) == before, "history changed")
        check(r.hget(prefix + "app:u1", "state") == b"qualified", "state changed")
        check(r.llen(prefix + "notifications") == 0, "a job was queued")
        h.vetctl("mark", "u1", "in_review", conf=conf, check_rc=0)
        h.vetctl("mark", "u1", "declined", "--note", "café ✓", conf=conf, check_rc=0)
        events = [json.loads(x) for x in r.lrange(prefix + "history:u1", len(before), -1)]
        check([e["note"] for e in events] == [None, "café ✓"], events)
        job = json.loads(r.lindex(prefix + "notifications", 0))
        check(job["application"]["note"] == "café ✓", job)


def test_dead_retry_all_keeps_the_order():
    """retry --all: the oldest letter is taken again first."""
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        payloads = [b'{"n":%d}' % i for i in range(3)]
        for x in payloads:
            h.seed_dead(r, prefix, "bad_field", x)
        h.vetctl("dead", "retry", "--all", conf=conf, check_rc=0)
        taken = [r.rpop(prefix + "submissions") for _ in payloads]
        check(taken == payloads, "taken in order %r" % taken)


def test_acl_user_always_authenticates():
    """redis_user without a password file authenticates as that user (a
    nopass user) and is the actor; a user Redis does not know is refused."""
    with h.Redis() as R:
        r = R.client()
        r.execute_command("ACL", "SETUSER", "alice", "on", "nopass", "~*", "&*", "+@all")
        prefix = h.new_prefix()
        d = tempfile.mkdtemp(prefix="vetctl-")
        conf = h.write_conf(os.path.join(d, "a.conf"), R.url, prefix, redis_user="alice")
        h.seed_app(r, prefix, "a1")
        h.vetctl("note", "a1", "hello", conf=conf, check_rc=0)
        ev = json.loads(r.lindex(prefix + "history:a1", -1))
        check(ev["actor"] == "alice", ev)
        ghost = h.write_conf(os.path.join(d, "g.conf"), R.url, prefix, redis_user="ghost")
        p = h.vetctl("note", "a1", "again", conf=ghost)
        check(p.returncode == 69, "unknown user: exit %d %s" % (p.returncode, p.stderr_text))
        check(r.llen(prefix + "history:a1") == 2, "the refused note was written")


def test_score_uses_a_named_configurations_roles():
    """score needs no configuration, but one named with -c says where the
    roles are (before $VETD_ROLES_DIR); a broken named one is 78."""
    with h.Redis() as R:
        prefix, conf = setup(R)  # roles_dir = the source tree's conf/roles
        sample = os.path.join(h.SAMPLES, h.valid_samples()[0])
        env = {"VETD_ROLES_DIR": "/nonexistent-vetd-roles"}
        p = h.vetctl("--json", "score", sample, conf=conf, env=env, check_rc=0)
        check(json.loads(p.stdout)["role"] == "backend-developer", p.stdout_text)
        h.vetctl("score", sample, env=env, check_rc=78)  # no configuration named
        h.vetctl("score", sample, "--roles-dir", h.ROLES, conf="/nonexistent.conf", env=env,
                 check_rc=0)  # --roles-dir wins; the file is not read
        h.vetctl("score", sample, conf="/nonexistent.conf", env=env, check_rc=78)


def test_config_lookup_order():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "c1")
        home = tempfile.mkdtemp(prefix="vetctl-home-")
        env = {"HOME": home}
        # $VETCTL_CONFIG is used when -c is absent.
        p = h.vetctl("--json", "list", env=dict(env, VETCTL_CONFIG=conf), check_rc=0)
        check([x["id"] for x in json.loads(p.stdout)] == ["c1"], p.stdout_text)
        # Then ~/.config/vetd/vetctl.conf.
        os.makedirs(os.path.join(home, ".config", "vetd"))
        with open(conf) as src, open(os.path.join(home, ".config/vetd/vetctl.conf"), "w") as dst:
            dst.write(src.read())
        p = h.vetctl("list", "--json", env=env, check_rc=0)
        check([x["id"] for x in json.loads(p.stdout)] == ["c1"], p.stdout_text)
        # --redis overrides the configured address.
        p = h.vetctl("--redis", "unix:///nonexistent.sock", "list", env=env)
        check(p.returncode == 69, "exit %d" % p.returncode)
        p = h.vetctl("--redis", "redis://user:pw@host:1/0", "list", env=env)
        check(p.returncode == 64, "password in --redis: exit %d" % p.returncode)


if __name__ == "__main__":
    h.run_tests([test_reviewer_text_must_be_utf8, test_dead_retry_all_keeps_the_order,
                 test_acl_user_always_authenticates, test_score_uses_a_named_configurations_roles,
                 test_dead_retry_is_byte_for_byte_and_resets_deliveries,
                 test_dead_list_show_drop_and_retry_all, test_submit_pushes_raw_bytes,
                 test_hostile_names_are_escaped_in_show_and_list,
                 test_list_ranks_across_roles_and_filters, test_stats_queues_and_dead_reasons,
                 test_json_output_parses_for_every_command, test_exit_codes,
                 test_config_lookup_order])
