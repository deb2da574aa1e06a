"""Checks of the shipped systemd units, sysusers file and install layout:
systemd-analyze verify (on copies that run the built binary), the security
exposure (at most 2.0), and `cmake --install` into a temporary root."""

import os
import re
import shutil
import subprocess
import tempfile

from harness import BUILD_DIR, SOURCE_DIR, VETD, SkipTest, check, run_tests

UNITS = os.path.join(SOURCE_DIR, "systemd")
MAX_EXPOSURE = 2.0


def need(tool):
    path = shutil.which(tool)
    if path is None:
        raise SkipTest("%s is not installed" % tool)
    return path


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    return p.returncode, p.stdout + p.stderr


def unit_copy(tmp, unit, name):
    """The unit with ExecStart/ExecStartPre on the built binary, saved as name."""
    with open(os.path.join(UNITS, unit)) as f:
        text = f.read()
    check("/usr/bin/vetd " in text, "%s does not run /usr/bin/vetd" % unit)
    text = text.replace("/usr/bin/vetd ", os.path.abspath(VETD) + " ")
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def exposure(path):
    need("systemd-analyze")
    rc, out = run(["systemd-analyze", "security", "--offline=yes", path])
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    check(m is not None, "no exposure figure in:\n" + out)
    return float(m.group(1))


def test_verify_units():
    need("systemd-analyze")
    tmp = tempfile.mkdtemp(prefix="vetd-units-")
    try:
        paths = [unit_copy(tmp, "vetd.service", "vetd.service"),
                 unit_copy(tmp, "vetd@.service", "vetd@t1.service")]
        # verify loads the units offline; it does not resolve User=, so the
        # vetd user need not exist here. --man=no: the man pages named in
        # Documentation= are not installed in a build tree.
        rc, out = run(["systemd-analyze", "verify", "--man=no"] + paths, cwd=tmp)
        check(rc == 0, "systemd-analyze verify failed:\n" + out)
        for name in ("vetd.service", "vetd@t1.service"):
            check(name not in out, "verify complained about %s:\n%s" % (name, out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_verify_catches_a_broken_unit():
    """The verify step is not vacuous: a missing binary fails it."""
    need("systemd-analyze")
    tmp = tempfile.mkdtemp(prefix="vetd-units-")
    try:
        path = unit_copy(tmp, "vetd.service", "vetd.service")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(os.path.abspath(VETD) + " ", "/nonexistent/vetd "))
        rc, out = run(["systemd-analyze", "verify", "--man=no", path], cwd=tmp)
        check(rc != 0 and "/nonexistent/vetd" in out, "verify accepted a missing binary:\n" + out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_exposure():
    for unit in ("vetd.service", "vetd@.service"):
        level = exposure(os.path.join(UNITS, unit))
        print("     %s exposure %.1f" % (unit, level))
        check(level <= MAX_EXPOSURE, "%s exposure %.1f > %.1f" % (unit, level, MAX_EXPOSURE))


def test_exposure_measures_hardening():
    """The figure reacts to the unit: without its hardening it is high."""
    tmp = tempfile.mkdtemp(prefix="vetd-units-")
    try:
        with open(os.path.join(UNITS, "vetd.service")) as f:
            text = f.read()
        bare = text.split("# Hardening:")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
        path = os.path.join(tmp, "bare.service")
        with open(path, "w") as f:
            f.write(bare)
        check(exposure(path) > 5.0, "exposure did not rise without the hardening")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def settings(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def test_template_matches_main_unit():
    """vetd@.service differs from vetd.service only in name and config."""
    with open(os.path.join(UNITS, "vetd.service")) as f:
        main = settings(f.read())
    with open(os.path.join(UNITS, "vetd@.service")) as f:
        tmpl = settings(f.read())
    differ = [(a, b) for a, b in zip(main, tmpl) if a != b]
    check(len(main) == len(tmpl), "the units have different settings")
    check(len(differ) == 3, "unexpected differences: %r" % differ)
    check("ExecStart=/usr/bin/vetd -c /etc/vetd/%i.conf --instance %i" in tmpl, "template ExecStart")
    check("ExecStartPre=/usr/bin/vetd --check-config -c /etc/vetd/%i.conf --instance %i" in tmpl,
          "template ExecStartPre")
    for key in ("Type=notify", "NotifyAccess=main", "RestartPreventExitStatus=78", "User=vetd",
                "ExecReload=/bin/kill -HUP $MAINPID"):
        check(key in main, "vetd.service lacks " + key)


def test_sysusers_creates_vetd():
    tool = need("systemd-sysusers")
    root = tempfile.mkdtemp(prefix="vetd-sysusers-")
    try:
        os.makedirs(os.path.join(root, "etc"))
        rc, out = run([tool, "--root=" + root, os.path.join(UNITS, "vetd.sysusers")])
        check(rc == 0, "systemd-sysusers failed:\n" + out)
        with open(os.path.join(root, "etc", "passwd")) as f:
            passwd = [l.split(":") for l in f.read().splitlines()]
        vetd = [p for p in passwd if p[0] == "vetd"]
        check(len(vetd) == 1, "no vetd user created: %r" % passwd)
        check(int(vetd[0][2]) < 1000, "vetd is not a system user: %r" % vetd)
        check(vetd[0][6].endswith("nologin"), "vetd has a login shell: %r" % vetd)
        with open(os.path.join(root, "etc", "group")) as f:
            check(any(l.startswith("vetd:") for l in f), "no vetd group")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_install_layout():
    """cmake --install into a temporary root puts every file where SPEC §9
    says, and the installed units run the installed binary."""
    cmake = need("cmake")
    root = tempfile.mkdtemp(prefix="vetd-install-")
    try:
        env = dict(os.environ, DESTDIR=root)
        rc, out = run([cmake, "--install", BUILD_DIR, "--prefix", "/usr"], env=env)
        check(rc == 0, "cmake --install failed:\n" + out)
        for rel in ("usr/bin/vetd", "usr/bin/vetctl", "etc/vetd/vetd.conf",
                    "lib/systemd/system/vetd.service", "lib/systemd/system/vetd@.service",
                    "usr/lib/sysusers.d/vetd.conf", "usr/share/vetd/samples"):
            check(os.path.exists(os.path.join(root, rel)), "not installed: /" + rel)
        roles = os.listdir(os.path.join(root, "etc/vetd/roles"))
        check(roles and all(r.endswith(".json") for r in roles), "roles: %r" % roles)
        with open(os.path.join(root, "lib/systemd/system/vetd.service")) as f:
            unit = f.read()
        check("ExecStart=/usr/bin/vetd -c /etc/vetd/vetd.conf" in unit, "installed ExecStart")
        # A prefix other than /usr moves the binaries and the units, not /etc.
        root2 = os.path.join(root, "local")
        env = dict(os.environ, DESTDIR=root2)
        rc, out = run([cmake, "--install", BUILD_DIR, "--prefix", "/opt/vetd"], env=env)
        check(rc == 0, "cmake --install --prefix /opt/vetd failed:\n" + out)
        with open(os.path.join(root2, "opt/vetd/lib/systemd/system/vetd.service")) as f:
            check("ExecStart=/opt/vetd/bin/vetd -c /etc/vetd/vetd.conf" in f.read(),
                  "the unit does not run the installed binary")
        check(os.path.exists(os.path.join(root2, "etc/vetd/vetd.conf")), "/etc/vetd moved")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    run_tests([test_verify_units, test_verify_catches_a_broken_unit, test_exposure,
               test_exposure_measures_hardening, test_template_matches_main_unit,
               test_sysusers_creates_vetd, test_install_layout])
