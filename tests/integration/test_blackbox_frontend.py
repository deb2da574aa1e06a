"""The web frontend of SPEC §3, from outside: it validates with
conf/submission.schema.json, LPUSHes the raw bytes, and then reads back
what vetd stored: the §2 application hash with exactly its fields and
formats, the first history event, the by-email index, the dead letters,
and the key names under a custom key_prefix. Only Redis and the SPEC."""

import hashlib
import json
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import SOURCE_DIR, check  # noqa: E402

import jsonschema  # noqa: E402

RFC3339_MS_UTC = re.compile(rb"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
APP_FIELDS = {b"id", b"role", b"state", b"score", b"qualified", b"name", b"email",
              b"submitted_at", b"received_at", b"scored_at", b"updated_at", b"version",
              b"digest", b"profile", b"analysis", b"reviewer", b"note"}
DEAD_FIELDS = {b"reason", b"detail", b"at", b"instance", b"digest", b"email_sha1", b"payload"}
INSTANCE = "web-front-1"
ACCEPTED = ("qualified", "not_qualified")
# What §3 says a schema cannot see (size, UTF-8 and strictness are outside
# what a parsed document shows; a frontend's parser refuses most of them).
SCHEMA_BLIND = ("unknown_role", "too_deep", "too_large")


def ascii_lower_sha1(email):
    b = email.encode("utf-8")
    return hashlib.sha1(bytes(c + 32 if 65 <= c <= 90 else c for c in b)).hexdigest()


def reject_constant(name):
    raise ValueError("%s is not JSON (a browser's JSON.parse refuses it)" % name)


def schema_valid(raw):
    with open(os.path.join(SOURCE_DIR, "conf", "submission.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
    except ValueError:
        return False
    try:
        jsonschema.Draft202012Validator(schema).validate(doc)
    except jsonschema.ValidationError:
        return False
    return True


def expected(name):
    return name.rsplit(".", 2)[1]


def app_id(raw):
    doc = json.loads(raw)
    return doc.get("id") or hashlib.sha1(raw).hexdigest()[:20]


def key_patterns(prefix, instance):
    """Every key name §2 allows (plus `P roles`, the documented index of
    role ids with applications that vetctl list reads)."""
    p = re.escape(prefix.encode())
    body = [rb"submissions", rb"processing:" + re.escape(instance.encode()), rb"deliveries",
            rb"instance:" + re.escape(instance.encode()), rb"instances", rb"app:[A-Za-z0-9._-]+",
            rb"state:[a-z0-9][a-z0-9-]*:(qualified|not_qualified|in_review|contacted|declined"
            rb"|erased)", rb"history:[A-Za-z0-9._-]+", rb"by-email:[0-9a-f]{40}",
            rb"notifications", rb"notifications:processing:[^:]+", rb"dead", rb"dead:[1-9][0-9]*",
            rb"dead:seq", rb"roles"]
    return re.compile(p + rb"(" + rb"|".join(body) + rb")$")


def wait_settled(r, prefix, total):
    def ok():
        apps = sum(1 for _ in r.scan_iter(match=prefix + "app:*"))
        return (r.llen(prefix + "submissions") == 0 and
                r.llen(prefix + "processing:" + INSTANCE) == 0 and
                apps + r.llen(prefix + "dead") >= total)
    h.wait_until(ok, 30, "%d submissions settled" % total)


def check_app(r, prefix, raw, state):
    """The stored application of raw against §2 and §3, field by field."""
    doc = json.loads(raw)
    aid = app_id(raw)
    f = r.hgetall(prefix + "app:" + aid)
    check(f, "no application %s" % aid)
    check(set(f) == APP_FIELDS, "%s: fields %r" % (aid, sorted(set(f) ^ APP_FIELDS)))
    check(f[b"id"] == aid.encode() and f[b"role"] == doc["role"].encode(), "id/role")
    check(f[b"state"] == state.encode(), "%s: state %r, sample says %s" % (aid, f[b"state"], state))
    check(f[b"version"] == b"1", "version %r" % f[b"version"])
    check(re.match(rb"^(0|[1-9][0-9]?|100)$", f[b"score"]), "score %r" % f[b"score"])
    check(f[b"qualified"] == (b"1" if state == "qualified" else b"0"), "qualified %r" %
          f[b"qualified"])
    check(f[b"name"] == doc["name"].encode() and f[b"email"] == doc["email"].encode(), "PII")
    for k in (b"received_at", b"scored_at", b"updated_at"):
        check(RFC3339_MS_UTC.match(f[k]), "%s %r" % (k, f[k]))
    check(f[b"received_at"] <= f[b"scored_at"] <= f[b"updated_at"], "time order")
    if "submitted_at" in doc:
        check(f[b"submitted_at"] == doc["submitted_at"].encode(), "submitted_at not as given")
    else:
        check(f[b"submitted_at"] == f[b"received_at"], "default submitted_at %r vs %r" %
              (f[b"submitted_at"], f[b"received_at"]))
    check(f[b"digest"] == hashlib.sha1(raw).hexdigest().encode(), "digest")
    check(f[b"profile"] == raw, "profile is not byte-for-byte")
    check(f[b"reviewer"] == b"" and f[b"note"] == b"", "reviewer/note not empty")
    an = json.loads(f[b"analysis"])
    check(an["score"] == int(f[b"score"]) and an["qualified"] == (state == "qualified") and
          an["role"] == doc["role"], "analysis disagrees with the hash")
    hist = r.lrange(prefix + "history:" + aid, 0, -1)
    check(len(hist) == 1, "history %r" % hist)
    pairs = json.loads(hist[0], object_pairs_hook=lambda p: p)
    check([k for k, _ in pairs] == ["at", "from", "to", "actor"], "history keys %r" % pairs)
    ev = dict(pairs)
    check(ev["from"] is None and ev["to"] == state and ev["actor"] == "vetd:" + INSTANCE, ev)
    check(ev["at"].encode() == f[b"updated_at"], "history time %r vs updated_at %r" %
          (ev["at"], f[b"updated_at"]))
    check(r.zscore(prefix + "state:%s:%s" % (doc["role"], state), aid) == int(f[b"score"]),
          "state set score")
    members = r.smembers(prefix + "by-email:" + ascii_lower_sha1(doc["email"]))
    check(aid.encode() in members, "by-email index misses %s" % aid)
    return f


def check_dead(r, prefix, seq, raw, reason):
    d = r.hgetall(prefix + "dead:%d" % seq)
    check(d, "no dead letter %d" % seq)
    check(d[b"reason"] == reason.encode(), "dead %d: reason %r, want %s" % (seq, d[b"reason"],
                                                                            reason))
    check(set(d) <= DEAD_FIELDS, "dead %d: unknown fields %r" % (seq, set(d) - DEAD_FIELDS))
    check(d[b"detail"], "empty detail")
    check(RFC3339_MS_UTC.match(d[b"at"]), "dead at %r" % d[b"at"])
    check(d[b"digest"] == hashlib.sha1(raw).hexdigest().encode(), "dead digest")
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for k in ("name", "email", "cv_text", "summary"):
            v = doc.get(k)
            if isinstance(v, str) and len(v) > 3:
                check(v.encode() not in d[b"detail"], "detail quotes the candidate's %s" % k)
    if reason == "no_consent":
        check(b"payload" not in d and b"email_sha1" not in d,
              "no_consent keeps personal data: %r" % sorted(d))
        check({b"reason", b"detail", b"at", b"digest"} <= set(d), "no_consent fields")
    else:
        check(d[b"payload"] == raw, "dead %d payload not byte-for-byte" % seq)
        check(d[b"instance"] == INSTANCE.encode(), "dead instance %r" % d[b"instance"])
        if b"email_sha1" in d and isinstance(doc, dict) and isinstance(doc.get("email"), str):
            check(d[b"email_sha1"] == ascii_lower_sha1(doc["email"]).encode(), "email_sha1")
    return d


def test_samples_through_a_frontend():
    with h.Redis() as R:
        r = R.client()
        prefix = "acme/careers.%s:" % uuid.uuid4().hex[:6]
        v = h.Vetd(R, prefix, instance=INSTANCE)
        try:
            names = h.sample_names()
            raws = [h.sample(n) for n in names]
            valid = [n for n, raw in zip(names, raws) if schema_valid(raw)]
            check(len(valid) >= 8, "too few schema-valid samples: %r" % valid)
            for n in valid:
                check(expected(n) in ACCEPTED + SCHEMA_BLIND,
                      "%s passes the schema but its name promises %s" % (n, expected(n)))
            for raw in raws:
                r.lpush(prefix + "submissions", raw)
            wait_settled(r, prefix, len(raws))
            dead_seqs = [int(s) for s in r.lrange(prefix + "dead", 0, -1)]
            check(dead_seqs == sorted(dead_seqs), "P dead is not oldest first")
            check(int(r.get(prefix + "dead:seq")) == len(dead_seqs), "dead:seq counter")
            by_digest = {}
            for s in dead_seqs:
                by_digest[r.hget(prefix + "dead:%d" % s, "digest")] = s
            for n, raw in zip(names, raws):
                want = expected(n)
                if want in ACCEPTED:
                    check_app(r, prefix, raw, want)
                else:
                    dg = hashlib.sha1(raw).hexdigest().encode()
                    check(dg in by_digest, "%s: no dead letter" % n)
                    check_dead(r, prefix, by_digest[dg], raw, want)
            check(len(by_digest) == len(dead_seqs), "two dead letters for one payload")
            d = r.hgetall(prefix + "dead:%d" % by_digest[hashlib.sha1(
                h.sample("role-not-loaded.unknown_role.json")).hexdigest().encode()])
            check(b"frontend-developer" in d[b"detail"], "unknown role not named: %r" %
                  d[b"detail"])
            pat = key_patterns(prefix, INSTANCE)
            for k in r.scan_iter():
                check(k.startswith(prefix.encode()), "key outside the prefix: %r" % k)
                check(pat.match(k), "key not in §2: %r" % k)
            # Every qualified app has exactly one reviewers' job, nothing else.
            jobs = [json.loads(j) for j in r.lrange(prefix + "notifications", 0, -1)]
            want_q = sorted(app_id(raw) for n, raw in zip(names, raws)
                            if expected(n) == "qualified")
            check(sorted(j["id"] for j in jobs) == want_q, "jobs %r" % jobs)
            check(r.hlen(prefix + "deliveries") == 0, "delivery counts not cleared")
        finally:
            v.cleanup()


def base_doc(**over):
    doc = json.loads(h.sample("strong-node-gcp.qualified.json"))
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def test_duplicate_conflict_defaults_and_by_email():
    with h.Redis() as R:
        r = R.client()
        prefix = h.new_prefix()
        v = h.Vetd(R, prefix, instance=INSTANCE, max_payload_bytes=4096)
        try:
            # No id, no submitted_at, a mixed-case and non-ASCII address.
            email = "Zo\u00eb.\u00c5NGSTR\u00d6M@Example.COM"
            raw1 = json.dumps(base_doc(id=None, submitted_at=None, email=email, cv_text=None),
                              ensure_ascii=False).encode("utf-8")
            raw2 = json.dumps(base_doc(id="fixed-id-1", cv_text=None)).encode()
            raw2b = raw2.replace(b'"fixed-id-1"', b'"fixed-id-1" ', 1)
            big = json.dumps(base_doc(id="big-1", cv_text="x" * 5000)).encode()
            for raw in (raw1, raw2):
                r.lpush(prefix + "submissions", raw)
            wait_settled(r, prefix, 2)
            aid = hashlib.sha1(raw1).hexdigest()[:20]
            f = check_app(r, prefix, raw1, "qualified")
            check(f[b"id"] == aid.encode(), "id without id: %r" % f[b"id"])
            members = r.smembers(prefix + "by-email:" + ascii_lower_sha1(email))
            check(members == {aid.encode()}, "by-email %r" % members)
            check(not r.exists(prefix + "by-email:" + hashlib.sha1(email.lower().encode())
                               .hexdigest()), "by-email used Unicode lower-casing")
            check_app(r, prefix, raw2, "qualified")
            before = h.keyspace(r, prefix)
            # Duplicate: the same bytes again change nothing at all.
            r.lpush(prefix + "submissions", raw1, raw2)
            h.wait_until(lambda: r.llen(prefix + "submissions") == 0 and
                         r.llen(prefix + "processing:" + INSTANCE) == 0, 15, "duplicates")
            after = h.keyspace(r, prefix)
            for k in set(before) | set(after):
                if k.endswith(b"instance:" + INSTANCE.encode()):
                    continue
                check(before.get(k) == after.get(k), "duplicate changed %r" % k)
            # id_conflict: same id, other bytes; the stored app is untouched.
            r.lpush(prefix + "submissions", raw2b, big)
            h.wait_until(lambda: r.llen(prefix + "dead") == 2, 15, "id_conflict and too_large")
            seqs = [int(s) for s in r.lrange(prefix + "dead", 0, -1)]
            reasons = {r.hget(prefix + "dead:%d" % s, "reason"): s for s in seqs}
            check(set(reasons) == {b"id_conflict", b"too_large"}, reasons)
            check_dead(r, prefix, reasons[b"id_conflict"], raw2b, "id_conflict")
            check_dead(r, prefix, reasons[b"too_large"], big, "too_large")
            check(r.hgetall(prefix + "app:fixed-id-1") == before[
                (prefix + "app:fixed-id-1").encode()][1], "id_conflict touched the app")
        finally:
            v.cleanup()


if __name__ == "__main__":
    h.run_tests([test_samples_through_a_frontend, test_duplicate_conflict_defaults_and_by_email])
