"""vetctl over applications stored by a real vetd: submit the samples,
let vetd settle them, then list, show, mark, retry a dead letter and
erase a candidate, checking the layout both programs share (SPEC §2)."""

import glob
import json
import os

import harness as h
from harness import check


def settled(r, prefix, n):
    apps = sum(1 for _ in r.scan_iter(match=prefix + "app:*"))
    return apps + r.llen(prefix + "dead") >= n and r.llen(prefix + "submissions") == 0


def test_review_what_vetd_stored():
    files = sorted(glob.glob(os.path.join(h.SAMPLES, "*.json")))
    expect_q = [f for f in files if f.endswith(".qualified.json")]
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        d = h.Vetd(R, prefix)
        try:
            conf = d.conf
            h.vetctl("submit", *files, conf=conf, check_rc=0)
            h.wait_until(lambda: settled(r, prefix, len(files)), 30, "vetd to settle")
            rows = json.loads(h.vetctl("--json", "list", conf=conf, check_rc=0).stdout)
            check(len(rows) == len(expect_q), "qualified rows %r vs %r" % (rows, expect_q))
            check([x["score"] for x in rows] == sorted((x["score"] for x in rows), reverse=True),
                  "not ranked: %r" % rows)
            for row in rows:
                out = h.vetctl("show", row["id"], conf=conf, check_rc=0).stdout_text
                check("threshold" in out and "History (1)" in out, out)
            top = rows[0]["id"]
            before = r.llen(prefix + "notifications")
            h.vetctl("mark", top, "contacted", "--expect-version", "1", conf=conf, check_rc=0)
            job = json.loads(r.lindex(prefix + "notifications", 0))
            check(job["event"] == "candidate.contacted" and job["event_id"] == top + ":2", job)
            check(job["application"]["analysis"]["role"] == "backend-developer", job)
            check(r.llen(prefix + "notifications") == before + 1, "one job")
            # A retried dead letter goes through vetd again and comes back.
            dead = json.loads(h.vetctl("--json", "dead", "list", conf=conf, check_rc=0).stdout)
            nj = [x for x in dead if x["reason"] == "not_json"][0]
            h.vetctl("dead", "retry", str(nj["seq"]), conf=conf, check_rc=0)
            h.wait_until(lambda: any(
                x["reason"] == "not_json" and x["digest"] == nj["digest"] and x["seq"] > nj["seq"]
                for x in json.loads(h.vetctl("--json", "dead", "list", conf=conf).stdout)),
                30, "the retried letter to be dead-lettered again")
            # Erase the contacted candidate by address.
            email = json.loads(h.vetctl("--json", "show", top, conf=conf).stdout)["email"]
            h.vetctl("erase", "--email", email, "--yes", conf=conf, check_rc=0)
            for k in r.scan_iter(match=prefix + "*"):
                t = r.type(k)
                blob = repr(h.keyspace(r, k.decode()).get(k)) if t != b"none" else ""
                check(email.lower() not in blob.lower(), "%r still holds the address" % k)
        finally:
            rc = d.stop()
            d.cleanup()
        check(rc == 0, "vetd exit %s" % rc)


if __name__ == "__main__":
    h.run_tests([test_review_what_vetd_stored])
