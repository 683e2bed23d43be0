"""Progress lines on stderr: one refreshing line on a terminal, a line every 2 s otherwise."""

import sys
import threading
import time

from . import PROG
from .util import fmt_duration

_lock = threading.Lock()
_partial = [False]  # a refreshing line without its newline is on the terminal


def _write(line, refresh):
    tty = sys.stderr.isatty()
    with _lock:
        if tty and refresh:
            sys.stderr.write("\r\033[K" + line)
            _partial[0] = True
        else:
            if _partial[0]:
                sys.stderr.write("\r\033[K")
                _partial[0] = False
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def say(line):
    """A line of its own (a message), after clearing a refreshing progress line."""
    _write(line, False)


def end_line():
    """Leave the terminal at the start of an empty line (before the last message)."""
    with _lock:
        if _partial[0]:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            _partial[0] = False


class Ticker:
    """Throttles a changing progress line: on a terminal at most 10 times a second, otherwise
    every 2 s, never within the first first_after seconds (a quick phase prints nothing)."""

    def __init__(self, first_after=2.0):
        self.t0 = time.monotonic()
        self.first_after = first_after
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def show(self, line, final=False):
        now = time.monotonic()
        if now - self.t0 < self.first_after and not (final and self.last):
            return
        if final or now - self.last >= (0.1 if self.tty else 2.0):
            self.last = now
            _write(line, self.tty and not final)


class Progress:
    """[done/total] percent elapsed ETA, one update per finished point."""

    def __init__(self, total, done_before, jobs):
        self.total = total
        self.skipped = done_before
        self.done = 0
        self.failed = 0
        self.jobs = jobs
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.lock = threading.Lock()
        self.last_print = 0.0

    def todo(self):
        return self.total - self.skipped

    def update(self, what, failed=False):
        with self.lock:
            self.done += 1
            self.failed += bool(failed)
            el = time.monotonic() - self.t0
            left = self.todo() - self.done
            eta = el / self.done * left if self.done else 0
            line = "%s: [%d/%d] %3.0f%%  elapsed %s  ETA %s  %s" % (
                PROG, self.done + self.skipped, self.total,
                100.0 * (self.done + self.skipped) / max(1, self.total), fmt_duration(el), fmt_duration(eta), what)
            now = time.monotonic()
            if self.tty:
                _write(line, left > 0)
            elif left <= 0 or now - self.last_print >= 2 or failed:
                _write(line, False)
                self.last_print = now

    def note(self, msg):
        say(msg)
