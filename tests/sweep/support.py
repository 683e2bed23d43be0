"""Shared by the sweep driver's unit tests (tests/sweep/test_*.py): paths, the fake tunsim,
temporary folders, and running scripts/sweep as a user does."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(REPO, "scripts")
SWEEP = os.path.join(SCRIPTS, "sweep")
FAKE = os.path.join(HERE, "fake_tunsim.py")
sys.path.insert(0, SCRIPTS)

# The tiny sweep of the tests: 2 x 2 grid over the fake's keys, one seed: 4 points.
TINY = {"name": "tiny", "base": "configs/default.json",
        "set": {"design": "beta", "duration_ms": 2},
        "axes": [{"path": "tun.rx_frames", "values": [0, 8]},
                 {"path": "senders.0.vhost.msg_more", "values": [True, False]}],
        "seeds": [1]}


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


class TempCase(unittest.TestCase):
    """A test with its own temporary folder (self.tmp), removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sweep-unit-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.results = os.path.join(self.tmp, "results")

    def write(self, name, doc):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def env(self, tunsim=FAKE, path_prefix=None, **extra):
        env = dict(os.environ)
        env["TUNSIM"] = tunsim
        if path_prefix:
            env["PATH"] = path_prefix + os.pathsep + env["PATH"]
        env.update(extra)
        return env

    def sweep(self, *args, env=None, timeout=120, results=True):
        """Run scripts/sweep (as its #! line says) with the fake tunsim; returns CompletedProcess."""
        cmd = [SWEEP] + (["--results-dir", self.results] if results else []) + list(args)
        return subprocess.run(cmd, env=env or self.env(), capture_output=True, text=True, timeout=timeout,
                              cwd=REPO)

    def tool(self, name, body):
        """An executable script self.tmp/bin/name (for fake sbatch, scontrol, apt-get ...)."""
        d = os.path.join(self.tmp, "bin")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(body)
        os.chmod(p, 0o755)
        return d


def proc_argv(pid):
    """The command line of process pid as a list of arguments (from /proc), or None when it is gone."""
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return None


def procs_mentioning(text):
    """pids of the processes whose command line contains text (read from /proc)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        argv = proc_argv(pid)
        if argv is not None and text in " ".join(argv):
            out.append(int(pid))
    return out
