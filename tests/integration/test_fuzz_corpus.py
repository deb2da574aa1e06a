"""Regression test of the fuzz corpora: every seed of tests/fuzz/corpus and every
reproducer saved under tests/fuzz/regressions goes through the shipped binaries
(`vetctl score`, role loading via --roles-dir, `vetd --check-config`), which must
answer with an exit status of SPEC §8, never die of a signal or a sanitizer."""

import os
import shutil
import subprocess
import tempfile

from harness import ROLES, SAMPLES, SOURCE_DIR, VETD, SkipTest, TestFailure, check, run_tests, \
    vetctl

FUZZ = os.path.join(SOURCE_DIR, "tests", "fuzz")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def files(*parts):
    """The regular files of tests/fuzz/<parts...>, sorted; none when it is absent."""
    d = os.path.join(FUZZ, *parts)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if os.path.isfile(os.path.join(d, n)))


def check_outcome(what, p, allowed):
    """p ended normally with an allowed status and no sanitizer report."""
    stderr = p.stderr.decode("utf-8", "replace") if isinstance(p.stderr, bytes) else p.stderr
    if p.returncode < 0:
        raise TestFailure("%s: killed by signal %d\n%s" % (what, -p.returncode, stderr))
    check(p.returncode in allowed,
          "%s: exit %d, expected one of %s\n%s" % (what, p.returncode, allowed, stderr))
    for mark in SANITIZER_MARKS:
        check(mark not in stderr, "%s: %s report\n%s" % (what, mark, stderr))


def test_corpora_exist():
    for target in ("submission", "jsoncheck", "roles", "cfg"):
        check(len(files("corpus", target)) >= 3, "tests/fuzz/corpus/%s has seeds" % target)


def test_every_input_scores_or_is_rejected():
    """Any byte string handed to `vetctl score` is scored (0) or rejected (65)."""
    inputs = []
    for target in ("submission", "jsoncheck", "roles", "cfg"):
        inputs += files("corpus", target) + files("regressions", target)
    for path in inputs:
        p = vetctl("score", "--roles-dir", ROLES, path, "--json")
        check_outcome("vetctl score %s" % os.path.relpath(path, SOURCE_DIR), p, (0, 65))
        if p.returncode == 0:
            check(p.stdout_text.startswith("{\"role\":"), "%s: analysis printed" % path)


def test_valid_seeds_are_accepted():
    """The seeds derived from conf/samples keep the verdict of their name."""
    for path in files("corpus", "submission"):
        name = os.path.basename(path)
        if not os.path.exists(os.path.join(SAMPLES, name)):
            continue
        kind = name.split(".")[-2]
        p = vetctl("score", "--roles-dir", ROLES, path, "--json")
        want = 0 if kind in ("qualified", "not_qualified") else 65
        check(p.returncode == want, "%s: exit %d, expected %d" % (name, p.returncode, want))


def test_every_role_file_loads_or_is_refused():
    """Each role seed or reproducer, alone in a roles directory under its own
    file name, either loads (the sample then scores against it: 0) or is
    refused as a configuration error (78)."""
    sample = os.path.join(SAMPLES, "strong-node-gcp.qualified.json")
    for path in files("corpus", "roles") + files("regressions", "roles"):
        name = os.path.basename(path)
        with tempfile.TemporaryDirectory() as d:
            shutil.copyfile(path, os.path.join(d, name))
            role = name[:-len(".json")] if name.endswith(".json") else name
            p = vetctl("score", "--roles-dir", d, "--role", role, sample, "--json")
            check_outcome("role %s" % name, p, (0, 78))


def test_every_config_loads_or_is_refused():
    """Each config seed or reproducer passes `vetd --check-config` (0) or is
    refused as a configuration error (78)."""
    if not os.path.exists(VETD):
        raise SkipTest("no vetd binary at %s" % VETD)
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    for path in files("corpus", "cfg") + files("regressions", "cfg"):
        p = subprocess.run([VETD, "--check-config", "-c", path], capture_output=True, env=env,
                           timeout=60)
        check_outcome("vetd --check-config -c %s" % os.path.basename(path), p, (0, 78))


if __name__ == "__main__":
    run_tests([
        test_corpora_exist,
        test_every_input_scores_or_is_rejected,
        test_valid_seeds_are_accepted,
        test_every_role_file_loads_or_is_refused,
        test_every_config_loads_or_is_refused,
    ])
