"""The mailer of SPEC §6, from outside: a real vetd intakes the samples, a
mailer takes notification jobs with BLMOVE into its own processing list,
checks every envelope field by field, drops event_ids it has already sent
and re-reads the application before writing to a candidate. Reviewers act
through vetctl. Nothing here reads vetd's code: only Redis and the SPEC."""

import hashlib
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402

RFC3339_MS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENVELOPE_KEYS = ["event", "audience", "event_id", "id", "at", "application"]
APP_KEYS = {
    "candidate.qualified": {"id", "role", "name", "email", "score", "analysis"},
    "candidate.contacted": {"id", "role", "name", "email", "score", "analysis", "reviewer",
                            "note"},
    "candidate.declined": {"id", "role", "name", "email", "reviewer", "note"},
}
AUDIENCE = {"candidate.qualified": "reviewers", "candidate.contacted": "candidate",
            "candidate.declined": "candidate"}
ANALYSIS_KEYS = {"role", "role_title", "role_version", "role_sha1", "score", "threshold",
                 "qualified", "met", "missing", "plan", "scored_by"}


def ordered(text):
    """Parse JSON keeping each object's key order (as a list of pairs)."""
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


class Mailer:
    """A mailer as §6 describes it: BLMOVE from the right of P notifications
    into P notifications:processing:<consumer>, send, LREM; an event_id it
    has sent is dropped; a candidate's application is re-read first."""

    def __init__(self, r, prefix, consumer="mailer-1"):
        self.r = r
        self.prefix = prefix
        self.queue = prefix + "notifications"
        self.processing = prefix + "notifications:processing:" + consumer
        self.sent = {}        # event_id -> envelope
        self.outbox = []      # envelopes actually sent, in order
        self.suppressed = []  # candidate jobs not sent because the app was erased
        self.duplicates = 0

    def take(self, timeout=0.2):
        return self.r.blmove(self.queue, self.processing, timeout, "RIGHT", "LEFT")

    def handle(self, raw):
        env = check_envelope(self.r, self.prefix, raw)
        if env["event_id"] in self.sent:
            self.duplicates += 1
        elif env["audience"] == "candidate" and \
                self.r.hget(self.prefix + "app:" + env["id"], "state") in (None, b"erased"):
            self.suppressed.append(env)
        else:
            self.sent[env["event_id"]] = env
            self.outbox.append(env)
        self.r.lrem(self.processing, 1, raw)
        return env

    def recover(self):
        """After a crash: what is left in the own processing list is handled
        again first (at-least-once)."""
        for raw in reversed(self.r.lrange(self.processing, 0, -1)):
            self.handle(raw)

    def drain(self):
        n = 0
        while True:
            raw = self.take()
            if raw is None:
                return n
            self.handle(raw)
            n += 1


def check_envelope(r, prefix, raw):
    """Every rule of §6 that one job can be checked against on its own."""
    check(isinstance(raw, bytes), "job is not a string")
    pairs = ordered(raw.decode("utf-8"))
    check([k for k, _ in pairs] == ENVELOPE_KEYS, "envelope keys %r" % [k for k, _ in pairs])
    env = json.loads(raw)
    ev = env["event"]
    check(ev in APP_KEYS, "unknown event %r" % ev)
    check(env["audience"] == AUDIENCE[ev], "audience of %s: %r" % (ev, env["audience"]))
    check(isinstance(env["id"], str) and env["id"], "id %r" % env["id"])
    check(RFC3339_MS_UTC.match(env["at"]), "at %r is not RFC 3339 UTC with ms" % env["at"])
    m = re.match(r"^(.*):([1-9][0-9]*)$", env["event_id"])
    check(m and m.group(1) == env["id"], "event_id %r is not <id>:<version>" % env["event_id"])
    app = env["application"]
    check(isinstance(app, dict), "application is not an object")
    check(set(app) == APP_KEYS[ev], "%s application keys %r" % (ev, sorted(app)))
    check(app["id"] == env["id"], "application.id differs from id")
    for k in ("role", "name", "email"):
        check(isinstance(app[k], str) and app[k], "%s: application.%s %r" % (ev, k, app[k]))
    if "score" in APP_KEYS[ev]:
        check(type(app["score"]) is int and 0 <= app["score"] <= 100, "score %r" % app["score"])
    if "analysis" in APP_KEYS[ev]:
        an = app["analysis"]
        check(isinstance(an, dict), "%s: analysis is %s, not an object" % (ev, type(an).__name__))
        check(set(an) == ANALYSIS_KEYS, "analysis keys %r" % sorted(an))
        check(an["score"] == app["score"] and an["role"] == app["role"], "analysis vs app")
        check(isinstance(an["plan"], list), "plan is not a list")
        stored = r.hget(prefix + "app:" + env["id"], "analysis")
        if stored is not None:
            check(stored in raw, "%s: the analysis is not the stored text spliced as-is" % ev)
    return env


def settled(r, prefix, instance, n_expected):
    """All pushed items are finalized: queue and processing empty and every
    one an application or a dead letter."""
    def ok():
        apps = sum(1 for _ in r.scan_iter(match=prefix + "app:*"))
        return (r.llen(prefix + "submissions") == 0 and
                r.llen(prefix + "processing:" + instance) == 0 and
                apps + r.llen(prefix + "dead") >= n_expected)
    return ok


def start(R, prefix, instance="mail-a"):
    v = h.Vetd(R, prefix, instance=instance)
    d = tempfile.mkdtemp(prefix="vetctl-")
    conf = h.write_conf(os.path.join(d, "vetctl.conf"), R.url, prefix, instance=instance)
    return v, conf


def push_samples(r, prefix):
    names = h.sample_names()
    for n in names:
        r.lpush(prefix + "submissions", h.sample(n))
    return names


def qualified_ids(r, prefix):
    out = set()
    for k in r.scan_iter(match=prefix + "app:*"):
        if r.hget(k, "qualified") == b"1":
            out.add(r.hget(k, "id").decode())
    return out


def test_one_qualified_job_per_qualified_app_even_after_redelivery():
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        v, _ = start(R, prefix)
        try:
            names = push_samples(r, prefix)
            h.wait_until(settled(r, prefix, "mail-a", len(names)), 30, "samples settled")
            want = qualified_ids(r, prefix)
            n_q = sum(1 for n in names if n.endswith(".qualified.json"))
            check(len(want) == n_q, "qualified apps %r, samples promise %d" % (want, n_q))
            mailer = Mailer(r, prefix)
            # A mailer that crashes after the take: the job waits in its own
            # processing list and is handled again on restart.
            first = mailer.take()
            check(first is not None, "no job at all")
            check(r.llen(mailer.processing) == 1, "BLMOVE did not park the job")
            mailer.recover()
            mailer.recover()  # nothing left: the LREM removed it
            mailer.drain()
            got = [e for e in mailer.outbox if e["event"] == "candidate.qualified"]
            check(sorted(e["id"] for e in got) == sorted(want), "jobs %r vs apps %r" %
                  ([e["id"] for e in got], want))
            check(len(mailer.outbox) == len(got), "other jobs: %r" % mailer.outbox)
            for e in got:
                check(e["event_id"] == e["id"] + ":1", "event_id %r" % e["event_id"])
                h_ = r.hgetall(prefix + "app:" + e["id"])
                a = e["application"]
                check(a["name"] == h_[b"name"].decode() and a["email"] == h_[b"email"].decode(),
                      "name/email differ from the stored application")
                check(a["score"] == int(h_[b"score"]) and a["role"] == h_[b"role"].decode(),
                      "score/role differ")
                check(a["analysis"] == json.loads(h_[b"analysis"]), "analysis differs")
                check(a["analysis"]["qualified"] is True, "a qualified job for a non-qualified")
            check(r.llen(mailer.processing) == 0, "processing list not emptied after send")
            # The frontend redelivers every payload; vetd is restarted under
            # the same name and takes them again: nothing new for the mailer.
            check(v.stop() == 0, "vetd did not stop cleanly")
            v.start()
            before = r.llen(prefix + "dead")
            push_samples(r, prefix)
            n_dead = sum(1 for n in names
                         if not n.endswith((".qualified.json", ".not_qualified.json")))
            h.wait_until(lambda: r.llen(prefix + "submissions") == 0 and
                         r.llen(prefix + "processing:mail-a") == 0 and
                         r.llen(prefix + "dead") == before + n_dead, 30, "redelivery settled")
            check(r.llen(prefix + "notifications") == 0,
                  "redelivery emitted %d job(s)" % r.llen(prefix + "notifications"))
            check(mailer.drain() == 0 and mailer.duplicates == 0, "duplicate emission")
        finally:
            v.cleanup()


def test_reviewer_jobs_carry_what_the_candidate_needs():
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        v, conf = start(R, prefix)
        try:
            names = push_samples(r, prefix)
            h.wait_until(settled(r, prefix, "mail-a", len(names)), 30, "samples settled")
            mailer = Mailer(r, prefix)
            mailer.drain()
            ids = sorted(qualified_ids(r, prefix))
            check(len(ids) >= 2, "need two qualified samples")
            nq = sorted(k.decode().split("app:", 1)[1] for k in r.scan_iter(match=prefix + "app:*")
                        if r.hget(k, "qualified") == b"0")
            to_contact, to_decline = ids[0], ids[1]

            # contacted: the plan, the reviewer and the note travel with it.
            out = h.vetctl("--json", "mark", to_contact, "contacted", "--note",
                           "Let's talk on Monday", "--as", "alice", conf=conf, check_rc=0)
            check(json.loads(out.stdout)["version"] == 2, out.stdout_text)
            check(mailer.drain() == 1, "contacted: not exactly one job")
            e = mailer.outbox[-1]
            check(e["event"] == "candidate.contacted" and e["event_id"] == to_contact + ":2", e)
            a = e["application"]
            stored = r.hgetall(prefix + "app:" + to_contact)
            check(a["note"] == "Let's talk on Monday", "note %r" % a["note"])
            check(a["reviewer"] == stored[b"reviewer"].decode() and "alice" in a["reviewer"],
                  "reviewer %r vs stored %r" % (a["reviewer"], stored[b"reviewer"]))
            check(a["analysis"] == json.loads(stored[b"analysis"]), "analysis differs")
            check(a["analysis"]["plan"] == json.loads(stored[b"analysis"])["plan"], "plan")
            check(a["name"] == stored[b"name"].decode() and a["score"] == int(stored[b"score"]),
                  "name/score")

            # declined: reviewer and note, and no analysis, no score.
            h.vetctl("mark", to_decline, "declined", conf=conf, check_rc=0)
            check(mailer.drain() == 1, "declined: not exactly one job")
            e = mailer.outbox[-1]
            check(e["event"] == "candidate.declined" and e["event_id"] == to_decline + ":2", e)
            check("analysis" not in e["application"] and "score" not in e["application"],
                  "declined carries the analysis: %r" % sorted(e["application"]))
            check(e["application"]["note"] is None, "absent note is %r" %
                  e["application"]["note"])

            # contacted -> declined later: a new event_id, version 3.
            h.vetctl("mark", to_contact, "declined", "--note", "Role filled", conf=conf,
                     check_rc=0)
            check(mailer.drain() == 1, "second decline job")
            check(mailer.outbox[-1]["event_id"] == to_contact + ":3", mailer.outbox[-1])

            # Overrides, in_review, notes and retried marks emit nothing.
            quiet = []
            if len(ids) > 2:
                quiet.append((ids[2], "not_qualified"))
                quiet.append((ids[2], "qualified"))
                quiet.append((ids[2], "in_review"))
                quiet.append((ids[2], "in_review"))
            quiet.append((nq[0], "qualified"))
            quiet.append((nq[0], "not_qualified"))
            quiet.append((nq[1], "in_review"))
            quiet.append((nq[1], "qualified"))
            quiet.append((to_decline, "declined"))
            quiet.append((to_decline, "in_review"))
            for app_id, st in quiet:
                h.vetctl("mark", app_id, st, conf=conf, check_rc=0)
                check(r.llen(prefix + "notifications") == 0,
                      "mark %s %s emitted a job: %r" % (app_id, st,
                                                        r.lrange(prefix + "notifications", 0, -1)))
            h.vetctl("note", nq[0], "checked twice", conf=conf, check_rc=0)
            check(r.llen(prefix + "notifications") == 0, "a note emitted a job")
            check(mailer.drain() == 0, "quiet transitions produced jobs")
            events = [x["event"] for x in mailer.outbox]
            check(events.count("candidate.contacted") == 1 and
                  events.count("candidate.declined") == 2, events)
        finally:
            v.cleanup()


def test_erase_removes_jobs_from_queue_and_mailer_processing():
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        v, conf = start(R, prefix)
        try:
            names = push_samples(r, prefix)
            h.wait_until(settled(r, prefix, "mail-a", len(names)), 30, "samples settled")
            ids = sorted(qualified_ids(r, prefix))
            victim, other = ids[0], ids[1]
            mailer = Mailer(r, prefix)
            # The mailer has taken the victim's candidate.qualified job (it
            # sits in its processing list); the contacted job is still queued.
            jobs = r.lrange(prefix + "notifications", 0, -1)
            mine = [j for j in jobs if json.loads(j)["id"] == victim]
            check(len(mine) == 1, "victim jobs %d" % len(mine))
            r.lrem(prefix + "notifications", 1, mine[0])
            r.lpush(mailer.processing, mine[0])
            h.vetctl("mark", victim, "contacted", "--note", "hello", conf=conf, check_rc=0)
            held = mailer.take()  # the oldest job (another app's) is in hand
            check(held is not None, "nothing to take")

            out = h.vetctl("--json", "erase", victim, "--yes", conf=conf, check_rc=0)
            rep = json.loads(out.stdout)
            check(rep["erased"] == [victim] and rep["notifications_removed"] == 2, rep)
            for key in (prefix + "notifications", mailer.processing):
                for j in r.lrange(key, 0, -1):
                    check(json.loads(j)["id"] != victim, "job of %s left in %s" % (victim, key))
            check(r.hget(prefix + "app:" + victim, "state") == b"erased", "not erased")
            # A job already in the mailer's hand at erase time: re-reading the
            # application stops it.
            env = json.loads(held)
            mailer.handle(held)
            mailer.drain()
            check(all(e["id"] != victim for e in mailer.outbox), "a job of the erased app sent")
            sent_other = [e for e in mailer.outbox if e["id"] == other]
            check(len(sent_other) == 1, "the other app's job was lost: %r" % mailer.outbox)
            check(env["id"] != victim, "held job belongs to the victim")
            # A contacted job taken just before the erase is not sent.
            h.vetctl("mark", other, "contacted", conf=conf, check_rc=0)
            raw = mailer.take()
            h.vetctl("erase", other, "--yes", conf=conf, check_rc=0)
            check(r.llen(mailer.processing) == 0, "erase left the job in processing")
            mailer.handle(raw)
            check(len(mailer.suppressed) == 1 and mailer.suppressed[0]["id"] == other,
                  "re-read did not stop the erased candidate's mail")
            # Redelivering the erased candidate's payload brings nothing back.
            raw_by_id = {}
            for n in names:
                try:
                    raw_by_id[json.loads(h.sample(n)).get("id")] = h.sample(n)
                except (ValueError, AttributeError):
                    pass
            r.lpush(prefix + "submissions", raw_by_id[victim])
            h.wait_until(lambda: r.llen(prefix + "submissions") == 0 and
                         r.llen(prefix + "processing:mail-a") == 0, 15, "redelivery")
            check(r.llen(prefix + "notifications") == 0, "redelivery re-emitted a job")
            check(r.hget(prefix + "app:" + victim, "name") is None, "redelivery restored PII")
            digest = hashlib.sha1(raw_by_id[victim]).hexdigest()
            check(r.hget(prefix + "deliveries", digest) is None, "delivery count kept")
        finally:
            v.cleanup()


if __name__ == "__main__":
    h.run_tests([
        test_one_qualified_job_per_qualified_app_even_after_redelivery,
        test_reviewer_jobs_carry_what_the_candidate_needs,
        test_erase_removes_jobs_from_queue_and_mailer_processing,
    ])
