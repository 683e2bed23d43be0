"""The Python scripts' one-line errors show their input escaped, as tunsim's
do (models/stats/error.hpp printable): a file name, an option's value or an
input line with a newline, an escape sequence or bytes that are no UTF-8
(scripts/machine/printable.py).  Before, scripts/trace-segments and
scripts/perf-paths printed them raw: a newline in a file name split the
message in two, an escape sequence (here: clear the screen) reached the
terminal."""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "machine"))
from printable import printable  # noqa: E402

CLEAR = "\x1b[2J"


def run(script, *args):
    """The script's exit status and standard error, as bytes (what reaches the terminal)."""
    p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", script)] + [os.fsencode(a) for a in args],
                       capture_output=True)
    return p.returncode, p.stderr


class Printable(unittest.TestCase):
    def test_as_tunsim_shows_input(self):
        # Control characters and DEL as \xNN; a byte that was no UTF-8 (kept by Python as a
        # surrogate in a file name or an argument) as that byte, \xNN; valid UTF-8 as it is;
        # C1 controls (0x9b is a terminal's CSI) as \uNNNN; at most N characters, then "...".
        self.assertEqual(printable("a\nb" + CLEAR + "\x7f"), "a\\x0ab\\x1b[2J\\x7f")
        self.assertEqual(printable(os.fsdecode(b"x\xffy")), "x\\xffy")
        self.assertEqual(printable(b"x\xff\xc3\xa9"), "x\\xff\u00e9")
        self.assertEqual(printable("\u00e9t\u00e9\x9b"), "\u00e9t\u00e9\\u009b")
        self.assertEqual(printable("abcdef", 3), "abc...")
        self.assertEqual(printable("abc", 3), "abc")


class Messages(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def file(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(os.fsencode(path), "wb") as f:
            f.write(data)
        return path

    def check(self, rc, err, want):
        """Exit 2 and exactly the line `want` (bytes): nothing raw, one line."""
        self.assertEqual(rc, 2, err)
        self.assertEqual(err, want)

    def test_trace_segments(self):
        # A trace named with a newline and an escape sequence, without an event line.
        bad = self.file("k\n" + CLEAR + ".trace", b"# tracer: nop\n")
        shown = os.fsencode(self.dir.name) + b"/k\\x0a\\x1b[2J.trace"
        self.check(*run("trace-segments", bad),
                   b"trace-segments: " + shown + b": expected tracepoint event lines (CPU in brackets, then "
                   b"SECONDS.NANOSECONDS:), found none\n")
        # A file that is not there, named with a byte that is no UTF-8 (was "[Errno 2] ...: '...\udcff...'").
        missing = os.path.join(self.dir.name, os.fsdecode(b"gone\xff.trace"))
        self.check(*run("trace-segments", missing),
                   b"trace-segments: " + os.fsencode(self.dir.name) + b"/gone\\xff.trace: No such file or directory\n")
        # Option values: the script's own check, and argparse's (which quotes them with repr()).
        self.check(*run("trace-segments", bad, "--writers", "1" + CLEAR + ",2"),
                   b"trace-segments: --writers: expected two different CPU numbers A,B, found '1\\x1b[2J,2'\n")
        self.check(*run("trace-segments", bad, "--cpu", "1\n2"),
                   b"trace-segments: argument --cpu: invalid int value: '1\\n2' (see scripts/trace-segments "
                   b"--help)\n")

    def test_perf_paths(self):
        # A line of the perf script text with an escape sequence, in a file named with a newline.
        bad = self.file("p\n.txt", b"77 1000\n\tffffffff81000000 f\n\n7" + CLEAR.encode() + b" 1\n")
        self.check(*run("perf-paths", bad, "--tids", "77", "--frames", "1"),
                   b"perf-paths: " + os.fsencode(self.dir.name) + b"/p\\x0a.txt:4: expected 'TID PERIOD' (perf "
                   b"script -F tid,period,ip,sym), found '7\\x1b[2J 1'\n")
        self.check(*run("perf-paths", bad, "--tids", "7" + CLEAR, "--frames", "1"),
                   b"perf-paths: --tids: expected a comma separated list of task ids, found '7\\x1b[2J'\n")
        self.check(*run("perf-paths", os.fsdecode(b"--x\xff")), b"perf-paths: unknown option '--x\\xff' (see --help)\n")
        missing = os.path.join(self.dir.name, "gone" + CLEAR)
        self.check(*run("perf-paths", missing, "--tids", "7", "--frames", "1"),
                   b"perf-paths: " + os.fsencode(self.dir.name) + b"/gone\\x1b[2J: No such file or directory\n")


if __name__ == "__main__":
    unittest.main()
