"""vetctl mark and note against a real redis-server: every allowed and
every forbidden transition of the SPEC §5 table, compare-and-set on the
version, a race between two reviewers, and the notification jobs of §6."""

import json
import os
import subprocess
import tempfile

import harness as h
from harness import check

STATES = ["qualified", "not_qualified", "in_review", "contacted", "declined", "erased"]
# SPEC §5, written out independently of src/state.c so that the test is
# an oracle for the C table and the Lua Function that receives it.
ALLOWED = {
    "qualified": {"in_review", "contacted", "declined", "not_qualified", "erased"},
    "not_qualified": {"in_review", "declined", "qualified", "erased"},
    "in_review": {"contacted", "declined", "qualified", "not_qualified", "erased"},
    "contacted": {"declined", "erased"},
    "declined": {"in_review", "erased"},
    "erased": set(),
}
EVENTS = {"contacted": "candidate.contacted", "declined": "candidate.declined"}


def setup(R):
    prefix = h.new_prefix()
    conf = h.write_conf(os.path.join(tempfile.mkdtemp(prefix="vetctl-"), "vetctl.conf"),
                        R.url, prefix)
    return prefix, conf


def snapshot(r, prefix):
    return h.keyspace(r, prefix)


def notifications(r, prefix):
    return [json.loads(x) for x in r.lrange(prefix + "notifications", 0, -1)]


def test_every_transition_of_the_table():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        for frm in STATES:
            for to in STATES:
                app_id = "%s-to-%s" % (frm, to)
                h.seed_app(r, prefix, app_id, state=frm if frm != "erased" else "qualified",
                           score=70, notify=False, email="%s@example.org" % app_id)
                if frm == "erased":  # erased for real: no personal data left
                    h.vetctl("erase", app_id, "--yes", conf=conf, check_rc=0)
                before = snapshot(r, prefix)
                nbefore = len(notifications(r, prefix))
                yes = ["--yes"] if to == "erased" else []  # erase's own safeguard
                p = h.vetctl("mark", app_id, to, "--as", "Reviewer One", *yes, conf=conf)
                app = r.hgetall(prefix + "app:" + app_id)
                hist = r.lrange(prefix + "history:" + app_id, 0, -1)
                if frm == to:
                    check(p.returncode == 0, "%s: no-op must succeed: %s" % (app_id, p.stderr_text))
                    check(snapshot(r, prefix) == before, "%s: no-op changed something" % app_id)
                elif to in ALLOWED[frm]:
                    check(p.returncode == 0, "%s: exit %d %s" % (app_id, p.returncode, p.stderr_text))
                    check(app[b"state"] == to.encode(), "%s: state %r" % (app_id, app[b"state"]))
                    check(app[b"version"] == b"2", "%s: version %r" % (app_id, app[b"version"]))
                    check(len(hist) == 2, "%s: history %r" % (app_id, hist))
                    ev = json.loads(hist[-1])
                    check(ev["from"] == frm and ev["to"] == to, "event %r" % ev)
                    check(ev["actor"].endswith("(as Reviewer One)"), "%s: actor %r" % (app_id, ev["actor"]))
                    check(r.zscore(prefix + "state:backend-developer:" + to, app_id) == 70,
                          "%s: not in the %s set" % (app_id, to))
                    check(r.zscore(prefix + "state:backend-developer:" + frm, app_id) is None,
                          "%s: still in the %s set" % (app_id, frm))
                    jobs = notifications(r, prefix)
                    check(len(jobs) == nbefore + (1 if to in EVENTS else 0),
                          "%s: %d jobs after %d" % (app_id, len(jobs), nbefore))
                    if to in EVENTS:
                        job = jobs[0]
                        check(job["event"] == EVENTS[to] and job["audience"] == "candidate",
                              "job %r" % job)
                        check(job["event_id"] == app_id + ":2" and job["id"] == app_id,
                              "event_id %r" % job["event_id"])
                        check(job["application"]["email"] == "%s@example.org" % app_id,
                              "job application %r" % job["application"])
                        check(("analysis" in job["application"]) == (to == "contacted"),
                              "analysis presence %r" % job["application"].keys())
                        if to == "contacted":
                            check(job["application"]["analysis"]["threshold"] == 60,
                                  "analysis not an object")
                else:
                    check(p.returncode == 65, "%s: exit %d, expected 65" % (app_id, p.returncode))
                    check("is not allowed" in p.stderr_text or "erased" in p.stderr_text,
                          "message %r" % p.stderr_text)
                    check(p.stderr_text.count("\n") == 1, "one line: %r" % p.stderr_text)
                    check(snapshot(r, prefix) == before, "%s: forbidden changed data" % app_id)


def test_lua_checks_the_table_itself():
    """The Function refuses a forbidden transition even when its caller
    skipped the check in C: drive FCALL directly."""
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "c1", state="contacted", notify=False)
        h.seed_app(r, prefix, "q1", state="qualified", notify=False)
        h.vetctl("mark", "q1", "in_review", conf=conf, check_rc=0)  # loads the library
        names = r.execute_command("FUNCTION", "LIST")
        lib = None
        for entry in names:
            d = dict(zip(entry[::2], entry[1::2]))
            if d[b"library_name"].startswith(b"vetd_"):
                lib = d[b"library_name"].decode()
        check(lib is not None, "library not loaded: %r" % names)
        table = "{qualified={in_review=true,contacted=true,declined=true,not_qualified=true," \
                "erased=true,},not_qualified={},in_review={},contacted={declined=true,erased=true,}," \
                "declined={},erased={},}"
        before = snapshot(r, prefix)
        keys = [prefix + "app:c1", prefix + "history:c1",
                prefix + "state:backend-developer:contacted",
                prefix + "state:backend-developer:qualified", prefix + "notifications",
                prefix + "roles"]
        res = r.execute_command("FCALL", lib + "_mark", len(keys), *keys, "c1", "1",
                                "contacted", "qualified", table, "2026-11-28T14:16:16.123Z",
                                "x", "", "{}", "")
        check(res[0] == b"forbidden", "answer %r" % res)
        after = snapshot(r, prefix)
        check(after == before, "forbidden call changed data: %r" % [k for k in set(after) | set(before) if after.get(k) != before.get(k)])


def test_stale_expect_version_conflicts_and_changes_nothing():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "s1")
        h.vetctl("mark", "s1", "in_review", "--expect-version", "1", conf=conf, check_rc=0)
        before = snapshot(r, prefix)
        p = h.vetctl("mark", "s1", "contacted", "--expect-version", "1", conf=conf)
        check(p.returncode == 75, "exit %d: %s" % (p.returncode, p.stderr_text))
        check("version is 2, expected 1" in p.stderr_text, p.stderr_text)
        check(snapshot(r, prefix) == before, "a conflict changed data")
        # The version shown by list is the one to pass.
        rows = json.loads(h.vetctl("--json", "list", "--state", "in_review", conf=conf,
                                   check_rc=0).stdout)
        check(rows[0]["version"] == 2, "list version %r" % rows)
        h.vetctl("mark", "s1", "contacted", "--expect-version", "2", conf=conf, check_rc=0)
        # Retrying the same command is a no-op, not a failure.
        h.vetctl("mark", "s1", "contacted", "--expect-version", "2", conf=conf, check_rc=0)
        check(r.hget(prefix + "app:s1", "version") == b"3", "version after retry")


def test_racing_reviewers_exactly_one_wins():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        env = dict(os.environ, NO_COLOR="1")
        env.pop("VETCTL_CONFIG", None)
        for i in range(12):
            app_id = "race%d" % i
            h.seed_app(r, prefix, app_id, notify=False, email="race%d@example.org" % i)
            targets = ["contacted", "not_qualified"] if i % 2 else ["not_qualified", "contacted"]
            procs = [subprocess.Popen([h.VETCTL, "-c", conf, "mark", app_id, t,
                                       "--expect-version", "1"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for t in targets]
            codes = [p.wait(60) for p in procs]
            for p in procs:
                p.stdout.close()
                p.stderr.close()
            check(sorted(codes) == [0, 75], "%s: exit codes %r" % (app_id, codes))
            winner = targets[codes.index(0)]
            app = r.hgetall(prefix + "app:" + app_id)
            check(app[b"state"] == winner.encode() and app[b"version"] == b"2",
                  "%s: stored %r" % (app_id, app))
            hist = r.lrange(prefix + "history:" + app_id, 0, -1)
            check(len(hist) == 2 and json.loads(hist[1])["to"] == winner, "history %r" % hist)
            jobs = [j for j in notifications(r, prefix) if j["id"] == app_id]
            check(len(jobs) == (1 if winner == "contacted" else 0), "jobs %r" % jobs)
            loser = targets[1 - codes.index(0)]
            check(r.zscore(prefix + "state:backend-developer:" + loser, app_id) is None,
                  "loser's set holds the id")


def test_note_keeps_the_version_and_notifies_nobody():
    with h.Redis() as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "n1", notify=False)
        p = h.vetctl("--json", "note", "n1", "strong Node.js, ask about AWS", "--as", "Bob",
                     conf=conf, check_rc=0)
        out = json.loads(p.stdout)
        check(out["event"]["note"] == "strong Node.js, ask about AWS", "json %r" % out)
        app = r.hgetall(prefix + "app:n1")
        check(app[b"version"] == b"1", "note bumped the version")
        ev = json.loads(r.lrange(prefix + "history:n1", -1, -1)[0])
        check(ev["from"] == ev["to"] == "qualified" and ev["note"].startswith("strong"), ev)
        check(ev["actor"].endswith(" (as Bob)"), ev)
        check(r.llen(prefix + "notifications") == 0, "a note emitted a job")
        # A mark with --note records the note in the event and the hash.
        h.vetctl("mark", "n1", "declined", "--note", "not now", conf=conf, check_rc=0)
        ev = json.loads(r.lrange(prefix + "history:n1", -1, -1)[0])
        check(ev["note"] == "not now" and ev["to"] == "declined", ev)
        job = notifications(r, prefix)[0]
        check(job["event"] == "candidate.declined" and job["application"]["note"] == "not now",
              job)
        check("score" not in job["application"], "declined carries no score: %r" % job)


def test_actor_comes_from_redis_user_then_sudo_user():
    with h.Redis(extra="user reviewer1 on >pw1 ~* &* +@all\n") as R:
        r = R.client()
        prefix, conf = setup(R)
        h.seed_app(r, prefix, "u1", notify=False)
        h.vetctl("note", "u1", "hello", conf=conf, env={"SUDO_USER": "carol"}, check_rc=0)
        ev = json.loads(r.lrange(prefix + "history:u1", -1, -1)[0])
        check(ev["actor"] == "carol", "actor %r" % ev["actor"])
        d = tempfile.mkdtemp(prefix="vetctl-")
        pw = os.path.join(d, "pw")
        with open(pw, "w") as f:
            f.write("pw1\n")
        conf2 = h.write_conf(os.path.join(d, "vetctl.conf"), R.url, prefix,
                             redis_user="reviewer1", redis_password_file=pw)
        h.vetctl("note", "u1", "hi", conf=conf2, env={"SUDO_USER": "carol"}, check_rc=0)
        ev = json.loads(r.lrange(prefix + "history:u1", -1, -1)[0])
        check(ev["actor"] == "reviewer1", "actor %r" % ev["actor"])


if __name__ == "__main__":
    h.run_tests([test_every_transition_of_the_table, test_lua_checks_the_table_itself,
                 test_stale_expect_version_conflicts_and_changes_nothing,
                 test_racing_reviewers_exactly_one_wins,
                 test_note_keeps_the_version_and_notifies_nobody,
                 test_actor_comes_from_redis_user_then_sudo_user])
