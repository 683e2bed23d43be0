"""Interrupts and kills of the driver (issue 14 items 5 and 6).

- SIGINT (or SIGTERM) at any moment of `scripts/sweep run`, from its first instructions on:
  exit status 130 and exactly one line on stderr, no traceback (the #! line blocks the
  signals until the handler is installed, so a signal during Python's start-up waits).
  "First instructions": between execve and GNU env blocking the signals (about a millisecond)
  no program can act, and the kernel's default action (termination by the signal, which a
  shell shows as status 130) applies; the test starts its clock when /proc shows the signals
  blocked (which must happen while Python starts), and sends its signal 0 to 600 ms later;
- the driver killed with SIGKILL: the tunsim processes it started (tunsim batch and the
  children it forked) end too, through PR_SET_PDEATHSIG.
"""

import os
import re
import signal
import subprocess
import time
import unittest

from support import FAKE, SWEEP, TINY, TempCase, proc_argv, procs_mentioning

INTERRUPTED = "sweep: interrupted; finished points are kept, rerun to resume"


def slow(doc, seconds=60):
    d = dict(doc, set=dict(doc["set"], **{"fake.sleep_s": seconds}))
    return d


def blocking(pid):
    """True while pid blocks both SIGINT and SIGTERM (/proc/PID/status SigBlk)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"^SigBlk:\s*([0-9a-fA-F]+)", f.read(), re.M)
    except OSError:
        return False
    want = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    return bool(m) and int(m.group(1), 16) & want == want


class Interrupt(TempCase):
    def start(self, sweep_file, *extra):
        return subprocess.Popen([SWEEP, "--results-dir", self.results, "run", sweep_file, "-j", "2"] + list(extra),
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def kill_if_running(p):
        if p.poll() is None:
            p.kill()
            p.communicate()

    def gone(self, text, within=10.0):
        t = time.monotonic() + within
        while time.monotonic() < t:
            left = procs_mentioning(text)
            if not left:
                return []
            time.sleep(0.05)
        return procs_mentioning(text)

    def test_sigint_at_any_time(self):
        # Offsets from the moment the process can act: inside Python's start-up (the first
        # 20-30 ms), during the imports, during validation, and while points run (the points
        # sleep 60 s, so the sweep is never done before the signal).
        f = self.write("slow.json", slow(TINY))
        for sig in (signal.SIGINT, signal.SIGTERM):
            for offset in (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.4, 0.6):
                with self.subTest(signal=sig.name, offset=offset):
                    p = self.start(f)
                    try:
                        self.interrupt(p, sig, offset)
                    finally:
                        # Killed (its tunsim processes with it: PR_SET_PDEATHSIG) when a
                        # check failed before the signal, so that the next offsets start clean.
                        self.kill_if_running(p)

    def interrupt(self, p, sig, offset):
        # Seen blocking once: a second read could find Python already past its start-up
        # (it unblocks after ~20-30 ms; on a loaded machine this test may lose the CPU
        # for that long between two reads).
        seen = False
        t = time.monotonic() + 10
        while time.monotonic() < t and p.poll() is None:
            if blocking(p.pid):
                seen = True
                break
            time.sleep(0.0002)
        self.assertTrue(seen, "SIGINT and SIGTERM not blocked while Python starts")
        time.sleep(offset)
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, "stderr: %r" % err)
        self.assertEqual(err.splitlines()[-1:], [INTERRUPTED], err)
        self.assertNotIn("Traceback", err)
        # One line, apart from the progress line a run prints before its points start.
        self.assertEqual([l for l in err.splitlines() if "points (" not in l], [INTERRUPTED])
        self.assertEqual(self.gone(self.tmp), [], "processes left running")

    def test_interrupt_keeps_finished_points_and_resumes(self):
        # Two quick points and two slow ones; after the quick ones finished, SIGINT: exit 130,
        # the two summaries are complete, no temporary is left, a rerun runs only the rest.
        doc = dict(TINY, axes=[{"path": "fake.sleep_s", "values": [0, 0.01, 30, 31]}])
        f = self.write("mixed.json", doc)
        p = self.start(f)
        points = os.path.join(self.results, "tiny", "points")
        t = time.monotonic() + 30
        while time.monotonic() < t and len([n for n in os.listdir(points) if n.endswith(".json")]
                                           if os.path.isdir(points) else []) < 2:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        kept = sorted(os.listdir(points))
        self.assertEqual(len(kept), 2, kept)
        self.assertTrue(all(n.endswith(".json") for n in kept), kept)
        self.assertEqual(self.gone(self.tmp), [])
        # Resume with the slow points made quick (another sweep file with the same name would
        # change the ids): here, check the plan counts the kept points as finished.
        r = self.sweep("plan", f)
        self.assertIn("4 points", r.stdout)
        self.assertIn("2 finished", r.stdout)


# scripts/sweep with a stand-in for tunsim_sweep.cli whose main() has SIGTERM arrive while a
# __del__ runs (Python drops an exception raised in a finalizer, with "Exception ignored in"),
# then works for WORK seconds and returns 0.
DROPPED = """
import os, runpy, signal, sys, time, types
sweep, work = sys.argv[1], float(sys.argv[2])
class Finalized:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        x = 0
        for i in range(100000):  # bytecode: the Python-level handler runs in here
            x += i
def main(argv):
    Finalized()  # collected at once
    end = time.monotonic() + work
    while time.monotonic() < end:
        time.sleep(0.01)
    return 0
pkg = types.ModuleType("tunsim_sweep")
pkg.__path__ = []
cli = types.ModuleType("tunsim_sweep.cli")
cli.main = main
sys.modules.update({"tunsim_sweep": pkg, "tunsim_sweep.cli": cli})
sys.argv = [sweep, "run", "x.json"]
runpy.run_path(sweep, run_name="__main__")
"""


class Dropped(unittest.TestCase):
    def test_interrupt_raised_inside_a_finalizer_is_not_lost(self):
        # Seen once in a full test run (2026-12-03 12:50 UTC, SIGTERM 0.1 s in): the sweep went
        # on with its 60 s points.  Raised again within RECHECK_S (0.2 s): status 130 and the
        # one line, well before the 20 s of work; without the recheck: 0 after 20 s, and
        # Python's "Exception ignored" traceback on stderr.
        t = time.monotonic()
        r = subprocess.run(["/usr/bin/python3", "-c", DROPPED, SWEEP, "20"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 130, r.stderr)
        self.assertEqual(r.stderr.splitlines(), [INTERRUPTED])
        self.assertLess(time.monotonic() - t, 10)


class Kill(TempCase):
    def batch_procs(self):
        """The running `tunsim batch` processes (the fake's; their forked children share the
        command line), not the shells and GNU parallel whose command lines only mention one:
        those come and go (a shell forks for `mkdir` and the `setpriv` probe) and made the count
        drop between the wait and the check (CI, 2026-12-02 21:50 UTC)."""
        out = []
        for pid in procs_mentioning(self.tmp):
            argv = proc_argv(pid)
            if argv is None:
                continue
            if any(a == FAKE and argv[i + 1:i + 2] == ["batch"] for i, a in enumerate(argv)) \
                    and "--validate-only" not in argv:
                out.append(pid)
        return out

    def run_and_kill(self, want, *extra):
        f = self.write("slow.json", slow(TINY))
        p = subprocess.Popen([SWEEP, "--results-dir", self.results, "run", f, "-j", "2"] + list(extra),
                             env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until both points run: two forked children of tunsim batch (whose command lines,
        # like their parent's, name a points file under self.tmp).
        t = time.monotonic() + 30
        while time.monotonic() < t and len(self.batch_procs()) < want:
            time.sleep(0.05)
        self.assertGreaterEqual(len(self.batch_procs()), want, "the points did not start")
        p.kill()
        p.wait()
        t = time.monotonic() + 10
        while time.monotonic() < t and procs_mentioning(self.tmp):
            time.sleep(0.05)
        left = procs_mentioning(self.tmp)
        for pid in left:  # clean up what the test started, by pid
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.assertEqual(left, [], "still running after the driver was killed")

    def test_sigkill_local_engine(self):
        self.run_and_kill(3)  # tunsim batch and its two children

    @unittest.skipUnless(__import__("shutil").which("parallel"), "GNU parallel not installed")
    def test_sigkill_parallel_engine(self):
        self.run_and_kill(4, "--engine", "parallel")  # two batches, a child each


if __name__ == "__main__":
    unittest.main()
