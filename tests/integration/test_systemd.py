"""vetd's sd_notify protocol (SPEC §7) as systemd would see it: the test
binds the NOTIFY_SOCKET datagram socket itself and checks the messages --
EXTEND_TIMEOUT_USEC but no READY=1 while Redis is absent, then READY=1,
STATUS=, WATCHDOG=1, RELOADING=1 with MONOTONIC_USEC and READY=1 on SIGHUP,
STOPPING=1 and exit 0 on SIGTERM, and no WATCHDOG=1 while deaf."""

import os
import shutil
import signal
import socket
import tempfile
import time

from harness import (FAILPOINTS, Redis, SkipTest, Vetd, check, new_prefix, run_tests, sample,
                     sample_names, wait_until)

WATCHDOG_USEC = 400000


class Notifier:
    """A bound AF_UNIX datagram socket collecting sd_notify messages."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vetd-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.msgs = []  # (monotonic time received, {key: value})

    def env(self):
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    def drain(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            fields = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            self.msgs.append((time.monotonic(), fields))

    def index(self, key, value=None, start=0):
        """Index of the first message from start on carrying key (=value)."""
        self.drain()
        for i in range(start, len(self.msgs)):
            f = self.msgs[i][1]
            if key in f and (value is None or f[key] == value):
                return i
        return None

    def wait(self, key, value=None, start=0, timeout=20):
        """Wait for such a message; returns its index."""
        found = []

        def seen():
            i = self.index(key, value, start)
            if i is not None:
                found.append(i)
            return i is not None

        wait_until(seen, timeout, "%s=%s from vetd" % (key, value or "*"))
        return found[0]

    def count(self, key, start=0):
        self.drain()
        return sum(1 for _, f in self.msgs[start:] if key in f)

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_notify_lifecycle():
    n = Notifier()
    r = Redis()
    r.crash()  # the socket path exists in the config but nobody listens yet
    v = Vetd(r, new_prefix(), env=n.env())
    try:
        # Waiting for Redis: the start timeout is extended, READY never sent.
        i = n.wait("EXTEND_TIMEOUT_USEC")
        check(int(n.msgs[i][1]["EXTEND_TIMEOUT_USEC"]) > 0, "EXTEND_TIMEOUT_USEC is 0")
        n.wait("EXTEND_TIMEOUT_USEC", start=i + 1)
        check(n.index("READY") is None, "READY=1 before Redis was reachable")
        check(v.proc.poll() is None, "vetd exited while Redis was absent")
        # A reload before READY=1 is silent: it must not make vetd look ready.
        v.signal(signal.SIGHUP)
        v.wait_log("reloaded")
        mark = len(n.msgs)
        n.wait("EXTEND_TIMEOUT_USEC", start=mark)  # a tick after the reload
        check(n.index("READY") is None and n.index("RELOADING") is None,
              "a reload while starting sent READY=1 or RELOADING=1")

        r.start()
        ready = n.wait("READY", "1")
        status = n.wait("STATUS", start=ready)
        check(len(n.msgs[status][1]["STATUS"]) > 0, "empty STATUS=")
        first = n.wait("WATCHDOG", "1", start=ready)
        wait_until(lambda: n.count("WATCHDOG", first) >= 3, 10, "WATCHDOG=1 repeatedly")

        # Reload: RELOADING=1 with the monotonic clock, then READY=1 again.
        mark = len(n.msgs)
        v.signal(signal.SIGHUP)
        rel = n.wait("RELOADING", "1", start=mark)
        fields = n.msgs[rel][1]
        check("MONOTONIC_USEC" in fields, "RELOADING=1 without MONOTONIC_USEC: %r" % fields)
        usec = int(fields["MONOTONIC_USEC"])
        # CLOCK_MONOTONIC is the clock of time.monotonic(): same order of time.
        check(abs(usec / 1e6 - n.msgs[rel][0]) < 60, "MONOTONIC_USEC is not CLOCK_MONOTONIC")
        n.wait("READY", "1", start=rel + 1)
        check(v.proc.poll() is None, "vetd exited on SIGHUP")

        # Stop: STOPPING=1, exit 0.
        mark = len(n.msgs)
        rc = v.stop()
        n.drain()
        check(n.index("STOPPING", "1", mark) is not None, "no STOPPING=1 on SIGTERM")
        check(rc == 0, "vetd exited %s on SIGTERM" % rc)
    finally:
        v.cleanup()
        r.stop()
        n.close()


def test_status_counts_work():
    """STATUS= carries live counts: it changes once submissions are settled."""
    names = sample_names()
    if not names:
        raise SkipTest("no conf/samples to push")
    n = Notifier()
    prefix = new_prefix()
    with Redis() as r:
        v = Vetd(r, prefix, env=n.env())
        try:
            ready = n.wait("READY", "1")
            before = n.msgs[n.wait("STATUS", start=ready)][1]["STATUS"]
            c = r.client()
            for name in names:
                c.lpush(prefix + "submissions", sample(name))
            mark = len(n.msgs)
            wait_until(lambda: c.llen(prefix + "submissions") == 0 and
                       c.llen(prefix + "processing:t1") == 0, 30, "the samples settled")

            def status_changed():
                n.drain()
                return any("STATUS" in f and f["STATUS"] != before for _, f in n.msgs[mark:])

            wait_until(status_changed, 10, "STATUS= to reflect the settled samples")
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()
            n.close()


def test_watchdog_stops_while_deaf():
    """With the blocking connection silent and vetd made unable to notice
    (failpoint no_deadline: requests past their deadline are not dropped),
    WATCHDOG=1 stops, so systemd would restart the process; it resumes when
    Redis answers again."""
    if not FAILPOINTS:
        raise SkipTest("needs a build with -DVETD_FAILPOINTS=ON")
    n = Notifier()
    with Redis() as r:
        env = n.env()
        env["VETD_FAILPOINT"] = "no_deadline"
        v = Vetd(r, new_prefix(), env=env)
        try:
            ready = n.wait("READY", "1")
            n.wait("WATCHDOG", "1", start=ready)
            r.pause()
            quiet = 5 * WATCHDOG_USEC / 1e6  # the tick runs every WATCHDOG_USEC/2 at most

            def silent():
                n.drain()
                last = max((t for t, f in n.msgs if "WATCHDOG" in f), default=0)
                return time.monotonic() - last > quiet

            wait_until(silent, 30, "WATCHDOG=1 to stop while Redis is silent")
            check(v.proc.poll() is None, "vetd exited while deaf")
            mark = len(n.msgs)
            r.resume()
            n.wait("WATCHDOG", "1", start=mark, timeout=30)
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            r.resume()
            v.cleanup()
            n.close()


def test_watchdog_stops_when_not_consuming():
    """The worker that is alive but silently stopped consuming (failpoint
    no_wait: it never waits on the queue again) with both connections up:
    WATCHDOG=1 stops after two ticks, so systemd would restart it; STATUS=
    says why."""
    if not FAILPOINTS:
        raise SkipTest("needs a build with -DVETD_FAILPOINTS=ON")
    n = Notifier()
    with Redis() as r:
        env = n.env()
        env["VETD_FAILPOINT"] = "no_wait"
        v = Vetd(r, new_prefix(), env=env)
        try:
            n.wait("READY", "1")
            v.wait_log("stopped consuming")
            n.drain()  # what was sent before the log line
            mark = len(n.msgs)
            n.wait("STATUS", start=mark)
            quiet = 5 * WATCHDOG_USEC / 1e6
            time.sleep(quiet)  # a window to observe: the assertion is on absence
            n.drain()
            check(n.count("WATCHDOG", mark) == 0, "WATCHDOG=1 while not consuming")
            check(any(f.get("STATUS", "").startswith("not consuming")
                      for _, f in n.msgs[mark:]), "STATUS= does not say it")
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()
            n.close()


def test_no_notify_socket_is_fine():
    """Without NOTIFY_SOCKET every notification is a no-op: vetd runs and
    stops cleanly (the harness removes NOTIFY_SOCKET from the environment)."""
    prefix = new_prefix()
    with Redis() as r:
        v = Vetd(r, prefix, env={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
        try:
            c = r.client()
            wait_until(lambda: c.exists(prefix + "instance:t1"), 20, "the heartbeat")
            check(v.proc.poll() is None, "vetd exited without NOTIFY_SOCKET")
            check(v.stop() == 0, "vetd did not exit 0")
        finally:
            v.cleanup()


if __name__ == "__main__":
    run_tests([test_notify_lifecycle, test_status_counts_work, test_watchdog_stops_while_deaf,
               test_watchdog_stops_when_not_consuming, test_no_notify_socket_is_fine])
