"""conf/submission.schema.json against vetd's own validator: the schema is a
valid 2020-12 schema, every valid sample passes it, and whatever it rejects
vetd rejects too (`vetctl score` exits 65). Each generated mutation also
states the verdict it should get, so a schema that silently stopped
expressing a rule fails here as well."""

import copy
import glob
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROLES, SAMPLES, SOURCE_DIR, check, run_tests, vetctl  # noqa: E402

import jsonschema  # noqa: E402

SCHEMA_PATH = os.path.join(SOURCE_DIR, "conf", "submission.schema.json")
EX_OK, EX_DATAERR = 0, 65

REJECT, ACCEPT, VETD_ONLY = "reject", "accept", "vetd-only"
DELETE = object()


def load_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def valid_sample_paths():
    paths = sorted(glob.glob(os.path.join(SAMPLES, "*.qualified.json")) +
                   glob.glob(os.path.join(SAMPLES, "*.not_qualified.json")))
    check(paths, "no valid samples in " + SAMPLES)
    return paths


def base_document():
    with open(os.path.join(SAMPLES, "strong-node-gcp.qualified.json"), encoding="utf-8") as f:
        return json.load(f)


def links(n):
    return {"l%02d" % i: "https://x.example/%d" % i for i in range(n)}


# (field, value, expected): value DELETE removes the field. `reject` means
# both the schema and vetd must refuse it; `accept` means both take it;
# `vetd-only` is what a schema cannot see (the schema accepts, vetd refuses).
FIELD_CASES = [
    ("role", DELETE, REJECT), ("name", DELETE, REJECT), ("email", DELETE, REJECT),
    ("consent", DELETE, REJECT),
    ("role", 5, REJECT), ("role", None, REJECT), ("role", "", REJECT),
    ("role", "Backend-developer", REJECT), ("role", "-backend", REJECT),
    ("role", "a" * 65, REJECT), ("role", "backend developer", REJECT),
    ("role", "backend-developer\n", REJECT), ("role", "backend-developer", ACCEPT),
    ("role", "chef", VETD_ONLY), ("role", "a" * 64, VETD_ONLY),
    ("name", "", REJECT), ("name", " ", REJECT), ("name", " \t\r\n", REJECT),
    ("name", "a" * 201, REJECT), ("name", "\u00e9" * 201, REJECT), ("name", "A\u0001", REJECT),
    ("name", "A\n", REJECT), ("name", "A\u007f", REJECT), ("name", 5, REJECT),
    ("name", None, REJECT), ("name", ["A"], REJECT),
    ("name", "\u00e9" * 200, ACCEPT), ("name", " Ada  L. ", ACCEPT), ("name", "\u00a0", ACCEPT),
    ("name", "\U0001f600", ACCEPT),
    ("email", "", REJECT), ("email", "a", REJECT), ("email", "a@b", REJECT),
    ("email", "@b.c", REJECT), ("email", "a@b.c.", REJECT), ("email", "a@.b.c", REJECT),
    ("email", "a@b..c", REJECT), ("email", "a b@c.d", REJECT), ("email", "a@b@c.d", REJECT),
    ("email", "a\u0001@b.c", REJECT), ("email", "a@b.c\n", REJECT), ("email", "a\t@b.c", REJECT),
    ("email", "a" * 250 + "@b.co", REJECT), ("email", 5, REJECT), ("email", None, REJECT),
    ("email", "a" * 249 + "@b.co", ACCEPT), ("email", "x.y+z@sub.example.co.uk", ACCEPT),
    ("email", "\u00e9@b\u00fccher.de", ACCEPT),
    ("consent", False, REJECT), ("consent", "true", REJECT), ("consent", 1, REJECT),
    ("consent", None, REJECT), ("consent", True, ACCEPT),
    ("id", "", REJECT), ("id", "a" * 65, REJECT), ("id", "a b", REJECT), ("id", "a/b", REJECT),
    ("id", "\u00e9", REJECT), ("id", 5, REJECT), ("id", "abc\n", REJECT),
    ("id", "abc-DEF_1.2", ACCEPT), ("id", "a" * 64, ACCEPT), ("id", None, ACCEPT),
    ("id", "0f8fad5b-d9cb-469f-a165-70867728950e", ACCEPT),
    ("submitted_at", "2026-11-28", REJECT), ("submitted_at", "2026-11-28 10:00:00Z", REJECT),
    ("submitted_at", "2026-11-28t10:00:00Z", REJECT),
    ("submitted_at", "2026-11-28T10:00:00z", REJECT),
    ("submitted_at", "2026-13-01T00:00:00Z", REJECT),
    ("submitted_at", "2026-11-28T24:00:00Z", REJECT),
    ("submitted_at", "2026-11-28T10:00:00+0100", REJECT),
    ("submitted_at", "2026-11-28T10:00:00", REJECT), ("submitted_at", 5, REJECT),
    ("submitted_at", "2026-11-28T10:00:00Z\n", REJECT),
    ("submitted_at", "2026-11-28T10:00:00.123Z", ACCEPT),
    ("submitted_at", "2026-11-28T10:00:00+05:30", ACCEPT), ("submitted_at", None, ACCEPT),
    ("submitted_at", "2026-02-30T10:00:00Z", VETD_ONLY),
    ("headline", "h" * 301, REJECT), ("headline", "a\tb", REJECT), ("headline", 5, REJECT),
    ("headline", "h" * 300, ACCEPT), ("headline", "", ACCEPT), ("headline", None, ACCEPT),
    ("summary", "s" * 5001, REJECT), ("summary", "a\u0000", REJECT),
    ("summary", "a\u001b[1m", REJECT), ("summary", "a\u007f", REJECT), ("summary", 5, REJECT),
    ("summary", "a\tb\nc\r\n", ACCEPT), ("summary", "s" * 5000, ACCEPT),
    ("years_experience", -1, REJECT), ("years_experience", 60.5, REJECT),
    ("years_experience", 61, REJECT), ("years_experience", "5", REJECT),
    ("years_experience", True, REJECT), ("years_experience", [], REJECT),
    ("years_experience", 0, ACCEPT), ("years_experience", 60, ACCEPT),
    ("years_experience", 2.5, ACCEPT), ("years_experience", None, ACCEPT),
    ("skills", "Go", REJECT), ("skills", {}, REJECT), ("skills", [""], REJECT),
    ("skills", ["a" * 101], REJECT), ("skills", [1], REJECT), ("skills", [None], REJECT),
    ("skills", ["a\tb"], REJECT), ("skills", ["a"] * 101, REJECT),
    ("skills", ["Go", "Rust\n"], REJECT),
    ("skills", ["a"] * 100, ACCEPT), ("skills", [], ACCEPT), ("skills", None, ACCEPT),
    ("skills", ["k" * 100], ACCEPT),
    ("certifications", ["a"] * 51, REJECT), ("certifications", [""], REJECT),
    ("certifications", ["c" * 201], REJECT), ("certifications", "x", REJECT),
    ("certifications", ["c" * 200], ACCEPT), ("certifications", ["a"] * 50, ACCEPT),
    ("experience", 5, REJECT), ("experience", {}, REJECT), ("experience", [1], REJECT),
    ("experience", [None], REJECT), ("experience", [{}] * 51, REJECT),
    ("experience", [{"years": -1}], REJECT), ("experience", [{"years": 61}], REJECT),
    ("experience", [{"years": "3"}], REJECT), ("experience", [{"title": "t" * 201}], REJECT),
    ("experience", [{"title": "a\nb"}], REJECT), ("experience", [{"company": "c" * 201}], REJECT),
    ("experience", [{"company": 5}], REJECT),
    ("experience", [{"description": "d" * 5001}], REJECT),
    ("experience", [{"description": "\u0007"}], REJECT),
    ("experience", [{}], ACCEPT), ("experience", [{"other": [1, {"x": None}]}], ACCEPT),
    ("experience", [{"title": None, "years": None}], ACCEPT), ("experience", [{}] * 50, ACCEPT),
    ("experience", [{"description": "a\nb\tc\r", "years": 0.5}], ACCEPT),
    ("cv_text", "v" * 100001, REJECT), ("cv_text", "\u0000", REJECT), ("cv_text", 5, REJECT),
    ("cv_text", "v" * 100000, ACCEPT), ("cv_text", "a\r\nb\tc", ACCEPT),
    ("links", [], REJECT), ("links", "x", REJECT), ("links", {"GitHub": "https://x.y"}, REJECT),
    ("links", {"1a": "https://x.y"}, REJECT), ("links", {"a" * 33: "https://x.y"}, REJECT),
    ("links", {"": "https://x.y"}, REJECT), ("links", {"blog\n": "https://x.y"}, REJECT),
    ("links", links(21), REJECT),
    ("links", {"blog": 5}, REJECT), ("links", {"blog": None}, REJECT),
    ("links", {"blog": "ftp://x.y"}, REJECT), ("links", {"blog": "https://"}, REJECT),
    ("links", {"blog": "https:///p"}, REJECT), ("links", {"blog": "https://x_y.z"}, REJECT),
    ("links", {"blog": "https://u@x.y"}, REJECT), ("links", {"blog": "https://x.y:/"}, REJECT),
    ("links", {"blog": "https://x.y:123456"}, REJECT), ("links", {"blog": "https://x.y?q"}, REJECT),
    ("links", {"blog": "HTTPS://x.y"}, REJECT), ("links", {"blog": "https://x.y/a b"}, REJECT),
    ("links", {"blog": "https://x.y/\u0001"}, REJECT), ("links", {"blog": "https://x.y\n"}, REJECT),
    ("links", {"blog": "javascript:alert(1)"}, REJECT),
    ("links", {"blog": "https://x.y/" + "p" * 2037}, REJECT),
    ("links", {}, ACCEPT), ("links", {"github": "https://github.com/ada"}, ACCEPT),
    ("links", {"blog": "http://x.example:8080/p?q=1#f"}, ACCEPT),
    ("links", {"a" * 32: "https://x.y"}, ACCEPT), ("links", links(20), ACCEPT),
    ("links", {"blog": "https://x.y/" + "p" * 2036}, ACCEPT), ("links", None, ACCEPT),
    ("links", {"my_site-2": "https://localhost/\u00e9t\u00e9"}, ACCEPT),
    ("extra_field", {"kept": ["as", "is"]}, ACCEPT),
]


def cases():
    """Yield (label, document, expected) for every generated case."""
    base = base_document()
    for field, value, expected in FIELD_CASES:
        doc = copy.deepcopy(base)
        if value is DELETE:
            del doc[field]
            label = "%s deleted" % field
        else:
            doc[field] = value
            label = "%s = %.60r" % (field, value)
        yield label, doc, expected
    yield "top-level array", [base], REJECT
    yield "top-level string", "x", REJECT
    yield "top-level null", None, REJECT
    for path in valid_sample_paths():
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path), json.load(f), ACCEPT


def score_exit(tmp, i, doc):
    path = os.path.join(tmp, "case-%03d.json" % i)
    with open(path, "wb") as f:
        f.write(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return vetctl("score", "--roles-dir", ROLES, path)


def test_schema_is_valid_2020_12():
    schema = load_schema()
    check(schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
          "schema must declare draft 2020-12")
    jsonschema.Draft202012Validator.check_schema(schema)
    text = json.dumps(schema)
    check("\\\\s" not in text and "\\\\S" not in text, "schema uses \\s or \\S")
    check('"format"' not in text, "schema uses format")


def test_valid_samples_pass_schema():
    validator = jsonschema.Draft202012Validator(load_schema())
    for path in valid_sample_paths():
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errors = [e.message for e in validator.iter_errors(doc)]
        check(not errors, "%s: schema rejects a valid sample: %s" % (path, errors[:3]))


def test_schema_rejections_are_vetd_rejections():
    validator = jsonschema.Draft202012Validator(load_schema())
    problems = []
    counts = {REJECT: 0, ACCEPT: 0, VETD_ONLY: 0}
    with tempfile.TemporaryDirectory(prefix="vetd-schema-") as tmp:
        for i, (label, doc, expected) in enumerate(cases()):
            counts[expected] += 1
            schema_ok = validator.is_valid(doc)
            if schema_ok != (expected != REJECT):
                problems.append("%s: schema %s, expected %s" %
                                (label, "accepts" if schema_ok else "rejects", expected))
            p = score_exit(tmp, i, doc)
            want = EX_OK if expected == ACCEPT else EX_DATAERR
            if p.returncode != want:
                problems.append("%s: vetctl score exit %d, want %d (%s)" %
                                (label, p.returncode, want, p.stderr_text.strip()[-200:]))
            if not schema_ok and p.returncode != EX_DATAERR:
                problems.append("%s: the schema rejects it but vetd does not" % label)
    print("cases: %d reject, %d accept, %d vetd-only" %
          (counts[REJECT], counts[ACCEPT], counts[VETD_ONLY]))
    check(counts[REJECT] >= 100, "too few rejecting cases")
    check(not problems, "\n".join(problems))


def test_vetd_rejects_what_schema_cannot_see():
    """Byte-level faults are invisible to a schema (a JSON parser either
    refuses them or hides them); vetd must refuse every one."""
    base = json.dumps(base_document(), ensure_ascii=False).encode("utf-8")
    raw = [
        ("NaN", base[:-1] + b',"years_experience":NaN}'),
        ("trailing comma", base[:-1] + b",}"),
        ("overlong UTF-8", base[:-1] + b',"headline":"\xc0\xaf"}'),
        ("escaped lone surrogate", base[:-1] + b',"headline":"\\ud800"}'),
        ("1e999", base[:-1] + b',"x":1e999}'),
        ("byte-order mark", b"\xef\xbb\xbf" + base),
        ("65 deep", base[:-1] + b',"x":' + b"[" * 64 + b"]" * 64 + b"}"),
        ("NUL in a key", base[:-1] + b',"role\\u0000x":1}'),
    ]
    with tempfile.TemporaryDirectory(prefix="vetd-schema-") as tmp:
        for label, data in raw:
            path = os.path.join(tmp, "raw.json")
            with open(path, "wb") as f:
                f.write(data)
            p = vetctl("score", "--roles-dir", ROLES, path)
            check(p.returncode == EX_DATAERR,
                  "%s: vetctl score exit %d, want 65" % (label, p.returncode))


if __name__ == "__main__":
    run_tests([
        test_schema_is_valid_2020_12,
        test_valid_samples_pass_schema,
        test_schema_rejections_are_vetd_rejections,
        test_vetd_rejects_what_schema_cannot_see,
    ])
