"""Child processes of the driver.

Every child is started through Child (or run()), which
- sets PR_SET_PDEATHSIG in the child before exec, so that the child gets a
  signal when the driver ends, even by SIGKILL (issue 14: no tunsim left
  running after its driver was killed); the child checks that its parent is
  still the driver after setting it, closing the race with a driver that dies
  in between;
- puts the child in its own session, so that Ctrl-C on the terminal reaches the
  driver only, which then stops the child with stop() and cleans up;
- reads the child's stdout line by line in the calling thread and its stderr in
  a thread of its own (its last lines are kept for error messages).

PR_SET_PDEATHSIG belongs to the thread that forked: children are started from
the main thread only, which lives as long as the driver.
"""

import collections
import ctypes
import os
import signal
import subprocess
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_libc = None


def _load_libc():
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.prctl  # noqa: B018  (fails on a libc without prctl)
        except (OSError, AttributeError):
            _libc = False
    return _libc


def _child_setup(sig):
    libc = _load_libc()  # loaded before the fork: the child only calls into it
    parent = os.getpid()

    def setup():
        if libc:
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the driver died before prctl took effect
            os._exit(128 + int(sig))
    return setup


def popen(cmd, death_signal=signal.SIGTERM, **kw):
    """subprocess.Popen in a new session with the parent-death signal set."""
    return subprocess.Popen(cmd, start_new_session=True, preexec_fn=_child_setup(death_signal), **kw)


def run(cmd, timeout=None, stdin=subprocess.DEVNULL, env=None):
    """Run cmd to its end; returns (status, stdout, stderr) as text.  Ctrl-C stops it."""
    p = popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
              env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        _kill(p)
        raise
    return p.returncode, out, err


def _kill(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    p.wait()


class Child:
    """A long-running child whose stdout lines the caller reads and whose stderr lines go to
    on_stderr (from a reader thread) and into a tail kept for messages."""

    def __init__(self, cmd, on_stderr=None, stop_signal=signal.SIGINT, tail=50, env=None):
        self.cmd = cmd
        self.stop_signal = stop_signal
        self.tail = collections.deque(maxlen=tail)
        self._on_stderr = on_stderr
        self.p = popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    @property
    def pid(self):
        return self.p.pid

    def _read_stderr(self):
        buf = b""
        f = self.p.stderr
        while True:
            chunk = f.read1(65536)
            if not chunk:
                break
            buf += chunk
            # A progress line may be refreshed with \r: each piece is a line here.
            parts = buf.replace(b"\r", b"\n").split(b"\n")
            buf = parts.pop()
            for part in parts:
                self._line(part)
        if buf:
            self._line(buf)

    def _line(self, raw):
        line = raw.decode("utf-8", "replace").rstrip()
        if not line:
            return
        self.tail.append(line)
        if self._on_stderr:
            self._on_stderr(line)

    def lines(self):
        """stdout, line by line, as text (blocks; Ctrl-C interrupts it)."""
        for raw in self.p.stdout:
            yield raw.decode("utf-8", "replace").rstrip("\n")

    def wait(self):
        rc = self.p.wait()
        self._reader.join()
        return rc

    def last_error(self):
        """The last line the child wrote on stderr that is not a progress line."""
        for line in reversed(self.tail):
            if not line.startswith("batch: validated") and "ETA" not in line:
                return line
        return ""

    def stop(self, grace=10.0):
        """Ask the child to stop (stop_signal), then kill its process group after grace seconds."""
        if self.p.poll() is None:
            try:
                self.p.send_signal(self.stop_signal)
                self.p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill(self.p)
            except OSError:
                pass
        self.p.wait()
        self._reader.join(timeout=grace)
