"""scripts/setup (issue 13 item 23): it installs what the README's next commands use
(python3-matplotlib also without --tests), and it waits while another process holds the
package manager's lock instead of failing.

apt-get and dpkg-query are stand-ins on PATH (the test must not install anything): the fake
dpkg-query reports every package missing, the fake apt-get logs its arguments and answers
with apt 2.6's own lock message as many times as the test says.
"""

import os
import subprocess
import unittest

from support import REPO, TempCase

LOCK = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)"


class Setup(TempCase):
    def run_setup(self, *args, lock_failures=0, other_failure=False):
        log = os.path.join(self.tmp, "apt.log")
        count = os.path.join(self.tmp, "count")
        with open(count, "w") as f:
            f.write("0")
        self.tool("dpkg-query", "#!/bin/sh\necho 'unknown ok not-installed'\n")
        bindir = self.tool("apt-get", """#!/bin/bash
echo "$*" >> %(log)s
n=$(cat %(count)s); echo $((n + 1)) > %(count)s
if [ %(other)d = 1 ]; then echo 'E: Unable to locate package nope' >&2; exit 100; fi
if [ "$n" -lt %(fails)d ]; then
  echo '%(lock)s' >&2
  echo 'E: Unable to lock directory /var/lib/apt/lists/' >&2
  exit 100
fi
exit 0
""" % {"log": log, "count": count, "fails": lock_failures, "other": other_failure, "lock": LOCK})
        self.tool("sudo", '#!/bin/sh\nexec "$@"\n')
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup"), "--no-build"] + list(args),
                           env=self.env(path_prefix=bindir), capture_output=True, text=True, timeout=120)
        calls = []
        if os.path.exists(log):
            with open(log) as f:
                calls = f.read().splitlines()
        return r, calls

    def test_matplotlib_without_tests(self):
        r, calls = self.run_setup()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(calls), 2)
        self.assertTrue(calls[0].endswith("update -q"), calls[0])
        install = calls[1].split()
        self.assertIn("python3-matplotlib", install)
        self.assertIn("libsimgrid-dev", install)
        self.assertNotIn("parallel", install)

    def test_tests_add_the_sweep_engines(self):
        r, calls = self.run_setup("--tests")
        self.assertEqual(r.returncode, 0, r.stderr)
        install = calls[1].split()
        for p in ("python3-matplotlib", "parallel", "slurmctld", "slurmd", "slurm-client", "munge", "trace-cmd"):
            self.assertIn(p, install)

    def test_waits_for_the_lock(self):
        # The lists lock is held for two tries of `apt-get update` (DPkg::Lock::Timeout does
        # not cover it): setup says once what it waits for, tries again, and succeeds.
        r, calls = self.run_setup(lock_failures=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([c.split()[-2:] for c in calls[:3]], [["update", "-q"]] * 3)
        self.assertIn("install", calls[3].split())
        self.assertTrue(all(c.startswith("-o DPkg::Lock::Timeout=1800 ") for c in calls), calls)
        self.assertEqual(r.stderr.count("waiting for the package manager's lock"), 1, r.stderr)
        self.assertIn("scripts/setup: waiting for the package manager's lock (Could not get lock "
                      "/var/lib/apt/lists/lock. It is held by process 4242 (apt-get))", r.stderr)

    def test_other_failures_are_not_retried(self):
        r, calls = self.run_setup(other_failure=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(calls), 1)
        self.assertIn("Unable to locate package nope", r.stderr)

    def test_usage(self):
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup"), "--nope"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "usage: scripts/setup [--tests] [--no-build]\n")


if __name__ == "__main__":
    unittest.main()
