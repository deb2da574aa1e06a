"""vetctl erase and export (SPEC §5, §8): after `erase --email` no key of
the prefix holds the candidate's name, e-mail, links or CV text; export
returns everything stored; erase asks for --yes without a terminal."""

import base64
import json
import os
import tempfile

import harness as h
from harness import check

NAME = "Grace Hopper-Secret"
EMAIL = "Grace.Hopper@Example.ORG"
LINK = "https://github.com/grace-secret-link"
CV = "COBOL compiler pioneer, secret-cv-marker"


def setup(R):
    prefix = h.new_prefix()
    conf = h.write_conf(os.path.join(tempfile.mkdtemp(prefix="vetctl-"), "vetctl.conf"),
                        R.url, prefix)
    return prefix, conf


def all_bytes(r, prefix):
    """Every key name and every value of the prefix, as (key, bytes)."""
    for k, (t, v) in h.keyspace(r, prefix).items():
        yield k, k
        if t == b"hash":
            for f, x in v.items():
                yield k, f + b"=" + x
        elif t in (b"list",):
            for x in v:
                yield k, x
        elif t == b"set":
            for x in v:
                yield k, x
        elif t == b"zset":
            for x, _ in v:
                yield k, x
        elif v is not None:
            yield k, v


def seed_candidate(r, prefix, conf):
    h.seed_app(r, prefix, "g1", name=NAME, email=EMAIL, links={"github": LINK}, cv_text=CV)
    h.seed_app(r, prefix, "g2", name=NAME, email=EMAIL.lower(), links={"blog": LINK},
               cv_text=CV, state="not_qualified", score=40)
    h.seed_app(r, prefix, "other", name="Other Person", email="other@example.org")
    h.vetctl("mark", "g1", "contacted", "--note", "called %s about %s" % (NAME, LINK),
             conf=conf, check_rc=0)
    h.vetctl("note", "g2", "%s looks keen" % NAME, conf=conf, check_rc=0)
    # A mailer took one job and has not sent it yet.
    job = r.rpop(prefix + "notifications")
    r.lpush(prefix + "notifications:processing:mailer-1", job)
    payload = json.dumps({"role": "nope", "name": NAME, "email": EMAIL, "consent": True,
                          "cv_text": CV}).encode()
    h.seed_dead(r, prefix, "unknown_role", payload, email=EMAIL)
    h.seed_dead(r, prefix, "not_json", b"{not json " + NAME.encode())  # unattributable
    h.seed_dead(r, prefix, "bad_field", b'{"name":"x"}', email="other@example.org")


def test_erase_by_email_leaves_no_personal_data():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        seed_candidate(r, prefix, conf)
        p = h.vetctl("--json", "erase", "--email", EMAIL.upper(), "--yes", conf=conf,
                     check_rc=0)
        out = json.loads(p.stdout)
        check(sorted(out["erased"]) == ["g1", "g2"], "erased %r" % out)
        check(out["dead_letters_removed"] == 1, "dead %r" % out)
        check(out["unattributable_dead_letters"] == 1, "unattributable %r" % out)
        check(out["notifications_removed"] >= 2, "notifications %r" % out)
        needles = [NAME.encode(), EMAIL.encode(), EMAIL.lower().encode(), LINK.encode(),
                   CV.encode(), b"secret-cv-marker"]
        for key, blob in all_bytes(r, prefix):
            if b"not_json" in blob or key.endswith(b"dead:2"):
                continue  # the unattributable letter, reported above
            for n in needles:
                check(n not in blob, "%r still holds %r: %r" % (key, n, blob[:200]))
        for app_id in ("g1", "g2"):
            app = r.hgetall(prefix + "app:" + app_id)
            check(app[b"state"] == b"erased", "state %r" % app)
            for f in (b"name", b"email", b"profile", b"analysis", b"note"):
                check(f not in app, "%s kept %r" % (app_id, f))
            hist = [json.loads(x) for x in r.lrange(prefix + "history:" + app_id, 0, -1)]
            check(hist[-1]["to"] == "erased", "last event %r" % hist[-1])
            check(all(e.get("note") in (None, "[erased]") for e in hist), hist)
            check(r.zscore(prefix + "state:backend-developer:erased", app_id) is not None,
                  "not in the erased set")
        check(r.hget(prefix + "app:other", "name") == b"Other Person", "other candidate hit")
        check(r.exists(prefix + "dead:3") == 1, "another candidate's dead letter went")
        check(r.llen(prefix + "notifications:processing:mailer-1") == 0, "mailer job left")
        # Erasing again finds only erased applications: a no-op that succeeds.
        p = h.vetctl("--json", "erase", "g1", "--yes", conf=conf, check_rc=0)
        check(json.loads(p.stdout)["already_erased"] == ["g1"], p.stdout_text)
        # Nothing left for that address.
        h.vetctl("erase", "--email", EMAIL, "--yes", conf=conf, check_rc=66)


def test_erase_needs_yes_without_a_terminal():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "y1")
        before = h.keyspace(r, prefix)
        p = h.vetctl("erase", "y1", conf=conf, input=b"y\n")
        check(p.returncode == 64, "exit %d" % p.returncode)
        check("--yes" in p.stderr_text, p.stderr_text)
        check(h.keyspace(r, prefix) == before, "erase without --yes changed data")
        h.vetctl("erase", conf=conf, check_rc=64)
        h.vetctl("erase", "y1", "--email", "a@b.cd", "--yes", conf=conf, check_rc=64)


def test_export_returns_everything_stored():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        seed_candidate(r, prefix, conf)
        r.hset(prefix + "dead:1", "payload", b"\xff\xfe" + NAME.encode())
        p = h.vetctl("export", "--email", EMAIL.lower(), conf=conf, check_rc=0)
        out = json.loads(p.stdout)
        apps = {a["id"]: a for a in out["applications"]}
        check(sorted(apps) == ["g1", "g2"], "apps %r" % list(apps))
        check(apps["g1"]["name"] == NAME and apps["g1"]["state"] == "contacted", apps["g1"])
        check(apps["g1"]["analysis"]["threshold"] == 60, "analysis not an object")
        check(json.loads(apps["g1"]["profile"])["links"]["github"] == LINK, "profile")
        check(apps["g1"]["history"][-1]["note"].startswith("called"), apps["g1"]["history"])
        check(len(out["dead_letters"]) == 1, "dead %r" % out["dead_letters"])
        d = out["dead_letters"][0]
        check(d["payload_encoding"] == "base64" and
              base64.b64decode(d["payload"]) == b"\xff\xfe" + NAME.encode(), d)
        p = h.vetctl("export", "other", conf=conf, check_rc=0)
        out = json.loads(p.stdout)
        check([a["id"] for a in out["applications"]] == ["other"], out)
        check(len(out["dead_letters"]) == 1 and out["dead_letters"][0]["reason"] == "bad_field",
              out["dead_letters"])
        h.vetctl("export", "--email", "nobody@example.org", conf=conf, check_rc=66)
        h.vetctl("export", "nosuchid", conf=conf, check_rc=66)


def test_mark_erased_is_a_full_erase():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "m1", name=NAME, email=EMAIL, cv_text=CV)
        h.vetctl("mark", "m1", "erased", "--expect-version", "1", conf=conf, check_rc=64)
        h.vetctl("mark", "m1", "erased", "--note", "x", "--yes", conf=conf, check_rc=64)
        h.vetctl("mark", "m1", "erased", "--expect-version", "2", "--yes", conf=conf, check_rc=75)
        h.vetctl("mark", "m1", "erased", "--expect-version", "1", "--yes", conf=conf, check_rc=0)
        for key, blob in all_bytes(r, prefix):
            check(NAME.encode() not in blob and CV.encode() not in blob, "%r kept data" % key)


if __name__ == "__main__":
    h.run_tests([test_erase_by_email_leaves_no_personal_data,
                 test_erase_needs_yes_without_a_terminal, test_export_returns_everything_stored,
                 test_mark_erased_is_a_full_erase])
