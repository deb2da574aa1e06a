"""`vetctl score` against conf/samples and conf/roles: every sample gives the
verdict or the rejection code its file name promises, the JSON analysis is
byte-identical across runs and locales, the exit codes of SPEC §8 hold, text
from submissions is escaped for the terminal, and valgrind finds no leaks."""

import json
import os
import shutil
import subprocess
import tempfile

from harness import (ROLES, SAMPLES, SANITIZE, VETCTL, SkipTest, TestFailure, check, run_tests,
                     sample_names, vetctl)

VERDICTS = ("qualified", "not_qualified")
CODES = ("too_large", "bad_utf8", "not_json", "too_deep", "not_object", "missing_field",
         "bad_field", "no_consent", "unknown_role")


def expected(name):
    """`<description>.<expected>.json` -> expected."""
    return name.split(".")[-2]


def path(name):
    return os.path.join(SAMPLES, name)


def score(name, *args, env=None, check_rc=None):
    return vetctl("score", path(name), "--roles-dir", ROLES, *args, env=env, check_rc=check_rc)


def valid_samples():
    return [n for n in sample_names() if expected(n) in VERDICTS]


def test_names_are_well_formed():
    names = sample_names()
    check(len(names) >= 12, "at least 12 samples, found %d" % len(names))
    kinds = set(expected(n) for n in names)
    for n in names:
        check(expected(n) in VERDICTS + CODES, "%s: unknown expectation" % n)
    for k in VERDICTS + ("no_consent", "missing_field", "bad_field", "unknown_role", "not_json",
                         "bad_utf8", "not_object"):
        check(k in kinds, "no sample for %s" % k)


def test_valid_samples_have_distinct_ids():
    seen = {}
    for n in valid_samples():
        with open(path(n), "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        check("id" in doc, "%s has no id" % n)
        check(doc["id"] not in seen, "%s and %s share the id %s" % (n, seen.get(doc["id"]),
                                                                  doc["id"]))
        seen[doc["id"]] = n


def test_every_sample_gives_its_verdict():
    for n in sample_names():
        want = expected(n)
        p = score(n, "--json")
        if want in VERDICTS:
            check(p.returncode == 0, "%s: exit %d: %s" % (n, p.returncode, p.stderr_text))
            a = json.loads(p.stdout)
            check(a["qualified"] == (want == "qualified"),
                  "%s: qualified=%s score=%s" % (n, a["qualified"], a["score"]))
            check(a["role"] == "backend-developer", "%s: role %r" % (n, a["role"]))
        else:
            check(p.returncode == 65, "%s: exit %d, expected 65" % (n, p.returncode))
            check(p.stdout == b"", "%s: printed on stdout when rejected" % n)
            prefix = "vetctl: score %s: %s: " % (path(n), want)
            check(p.stderr_text.startswith(prefix),
                  "%s: stderr %r does not start with %r" % (n, p.stderr_text, prefix))


def test_analysis_shape():
    p = score("strong-python-aws.qualified.json", "--json", check_rc=0)
    check(p.stdout.endswith(b"}\n") and p.stdout.count(b"\n") == 1,
          "one line of JSON and a newline")
    a = json.loads(p.stdout)
    keys = ["role", "role_title", "role_version", "role_sha1", "score", "threshold", "qualified",
            "met", "missing", "plan", "scored_by"]
    check(list(a.keys()) == keys, "analysis keys %r" % list(a.keys()))
    check(a["scored_by"].startswith("vetd "), "scored_by %r" % a["scored_by"])
    check(a["threshold"] == 60 and 0 <= a["score"] <= 100, "score/threshold")
    with open(os.path.join(ROLES, "backend-developer.json")) as f:
        role = json.load(f)
    check(a["role_version"] == role["version"], "role_version")
    total = sum(c["weight"] for c in role["criteria"])
    met = sum(c["weight"] for c in a["met"])
    check(a["score"] == (200 * met + total) // (2 * total), "score is the rounded weight share")
    ids = [c["id"] for c in a["met"]] + [c["id"] for c in a["missing"]]
    check(sorted(ids) == sorted(c["id"] for c in role["criteria"]), "met + missing = criteria")
    check(len(a["plan"]) == len(a["missing"]) + len(role["next_steps"]), "plan length")


def test_json_is_byte_identical_across_runs_and_locales():
    locales = ["C", "C.UTF-8", "POSIX"]
    available = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    others = [l for l in available if l not in ("C", "POSIX", "C.utf8", "C.UTF-8")]
    for pick in ("tr_TR.utf8", "de_DE.utf8", "en_US.utf8"):
        if pick in others:
            locales.append(pick)
            break
    else:
        locales += others[:1]
    for n in valid_samples():
        first = score(n, "--json", check_rc=0).stdout
        check(score(n, "--json", check_rc=0).stdout == first, "%s: second run differs" % n)
        for loc in locales:
            out = score(n, "--json", env={"LC_ALL": loc, "LANG": loc}, check_rc=0).stdout
            check(out == first, "%s: output differs under LC_ALL=%s" % (n, loc))


def test_stdin_and_global_json_give_the_same_bytes():
    n = "strong-node-gcp.qualified.json"
    ref = score(n, "--json", check_rc=0).stdout
    with open(path(n), "rb") as f:
        data = f.read()
    p = vetctl("score", "-", "--roles-dir", ROLES, "--json", input=data, check_rc=0)
    check(p.stdout == ref, "stdin gives other bytes")
    p = vetctl("--json", "score", "--roles-dir=" + ROLES, path(n), check_rc=0)
    check(p.stdout == ref, "global --json gives other bytes")


def test_roles_dir_from_environment():
    n = "borderline-java.qualified.json"
    ref = score(n, "--json", check_rc=0).stdout
    p = vetctl("score", path(n), "--json", env={"VETD_ROLES_DIR": ROLES}, check_rc=0)
    check(p.stdout == ref, "VETD_ROLES_DIR gives other bytes")


def test_role_option_overrides_the_submission_role():
    n = "role-not-loaded.unknown_role.json"
    p = score(n, "--role", "backend-developer", "--json", check_rc=0)
    a = json.loads(p.stdout)
    check(a["role"] == "backend-developer", "scored against --role")
    p = score("strong-python-aws.qualified.json", "--role", "no-such-role")
    check(p.returncode == 64, "unknown --role: exit %d" % p.returncode)
    check("no-such-role" in p.stderr_text, "the unknown role is named")


def test_human_output():
    p = score("strong-python-aws.qualified.json", check_rc=0)
    out = p.stdout_text
    check("verdict qualified" in out, "verdict line")
    check("score 94 / 100   threshold 60" in out, "score line: " + out[:300])
    check("Optimization plan" in out and "  1. [" in out, "numbered plan")
    check("\x1b" not in out, "no colour with NO_COLOR / off a terminal")
    p = score("unrelated-chef.not_qualified.json", check_rc=0)
    check("verdict not qualified" in p.stdout_text, "not qualified verdict")
    p = score("sre-without-language.not_qualified.json", check_rc=0)
    check("required criterion is missing" in p.stdout_text, "required criterion note")


def test_hostile_text_is_escaped():
    p = score("terminal-escapes.not_qualified.json", check_rc=0)
    raw = p.stdout
    for bad in ("\u202e", "\u2066", "\u2069", "\u200f", "\u061c", "\u0085", "\u009b"):
        check(bad.encode() not in raw, "raw %r reached the terminal" % bad)
    for esc in ("\\u202e", "\\u2066", "\\u2069", "\\u200f", "\\u061c", "\\u0085", "\\u009b"):
        check(esc in p.stdout_text, "escape %s missing" % esc)
    check(b"\r" not in raw and b"\t" not in raw, "CR and TAB from the CV are not printed raw")
    # --json is the analysis as stored: raw text, unescaped for the terminal
    a = json.loads(score("terminal-escapes.not_qualified.json", "--json", check_rc=0).stdout)
    texts = [e["text"] for c in a["met"] for e in c["evidence"]]
    check(any("\u2066" in t for t in texts), "JSON keeps the text as written")


def test_usage_errors():
    for args in ([], [path("strong-python-aws.qualified.json"), "extra"],
                 [path("strong-python-aws.qualified.json"), "--bogus"], ["--role"]):
        p = vetctl("score", "--roles-dir", ROLES, *args)
        check(p.returncode == 64, "score %s: exit %d" % (args, p.returncode))
        check(p.stderr_text.startswith("vetctl: "), "an error message on stderr")
    p = vetctl("score", "--help", check_rc=0)
    check("VETD_ROLES_DIR" in p.stdout_text and "--roles-dir" in p.stdout_text, "help text")


def test_unreadable_file():
    p = vetctl("score", "--roles-dir", ROLES, "/nonexistent/sample.json")
    check(p.returncode == 66, "missing file: exit %d" % p.returncode)
    check("/nonexistent/sample.json" in p.stderr_text, "the file is named")
    p = vetctl("score", "--roles-dir", ROLES, SAMPLES)
    check(p.returncode == 66, "a directory: exit %d" % p.returncode)


def test_broken_roles_dir():
    d = tempfile.mkdtemp(prefix="vetd-roles-")
    try:
        n = "strong-python-aws.qualified.json"
        p = vetctl("score", "--roles-dir", d, path(n))
        check(p.returncode == 78, "empty roles dir: exit %d" % p.returncode)
        shutil.copy(os.path.join(ROLES, "backend-developer.json"), d)
        with open(os.path.join(d, "broken.json"), "w") as f:
            f.write('{"id": "broken", "version": "1",\n "threshold": 50,,}\n')
        p = vetctl("score", "--roles-dir", d, path(n))
        check(p.returncode == 78, "broken role file: exit %d" % p.returncode)
        check("broken.json" in p.stderr_text, "the broken file is named: " + p.stderr_text)
        p = vetctl("score", "--roles-dir", os.path.join(d, "missing"), path(n))
        check(p.returncode == 78, "missing roles dir: exit %d" % p.returncode)
    finally:
        shutil.rmtree(d)


def test_no_roles_dir_is_assumed():
    if os.path.isdir("/etc/vetd/roles"):
        raise SkipTest("/etc/vetd/roles exists here")
    p = vetctl("score", path("strong-python-aws.qualified.json"),
               env={"VETD_ROLES_DIR": ""})
    check(p.returncode == 78, "no roles dir: exit %d" % p.returncode)
    check("--roles-dir" in p.stderr_text, "the message says how to give one")


def test_valgrind_no_leaks():
    if SANITIZE:
        raise SkipTest("ASan build: the sanitizer checks leaks")
    vg = shutil.which("valgrind")
    if vg is None:
        raise SkipTest("valgrind is not installed")
    env = dict(os.environ, NO_COLOR="1")
    for n in sample_names():
        # the human output of every valid sample, the JSON path of all
        for extra in (([], ["--json"]) if expected(n) in VERDICTS else (["--json"],)):
            cmd = [vg, "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                   "--error-exitcode=99", VETCTL, "score", path(n), "--roles-dir", ROLES] + extra
            p = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
            if p.returncode == 99:
                raise TestFailure("valgrind on %s %s:\n%s" % (n, extra, p.stderr.decode()))
            want = 65 if expected(n) in CODES else 0
            check(p.returncode == want, "%s under valgrind: exit %d" % (n, p.returncode))


if __name__ == "__main__":
    run_tests([
        test_names_are_well_formed,
        test_valid_samples_have_distinct_ids,
        test_every_sample_gives_its_verdict,
        test_analysis_shape,
        test_json_is_byte_identical_across_runs_and_locales,
        test_stdin_and_global_json_give_the_same_bytes,
        test_roles_dir_from_environment,
        test_role_option_overrides_the_submission_role,
        test_human_output,
        test_hostile_text_is_escaped,
        test_usage_errors,
        test_unreadable_file,
        test_broken_roles_dir,
        test_no_roles_dir_is_assumed,
        test_valgrind_no_leaks,
    ])
