"""The Python scripts' standard output is an output like any other (tunsim's
rule, sim/io/files.hpp; tunsim's own: tests/cli "--help and --version into
a full disk are exit 2"): a write error is one line and exit 2, a reader that
went away ends the script quietly (exit 0).  Each was a Python traceback
(exit 1), through scripts/machine/stdout.py now.

    /usr/bin/python3 tests/tools/test_script_stdout.py -v
"""
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def script(*parts):
    return os.path.join(ROOT, "scripts", *parts)


class ScriptStdout(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        # A trace-segments trace, a derive.py curve, a perf-paths script, a trust.py calibration.
        self.trace = os.path.join(d, "k.trace")
        with open(self.trace, "w") as f:
            for i, (ev, rest) in enumerate([("softirq_entry", "vec=3 [action=NET_RX]"),
                                            ("netif_receive_skb", "dev=tap0 skbaddr=ff len=46"),
                                            ("softirq_exit", "vec=3 [action=NET_RX]")]):
                f.write("  w-1000  [001] ..s1.  1.%09d: %s: %s\n" % (1000 * i, ev, rest))
        self.curve = os.path.join(d, "curve.json")
        with open(self.curve, "w") as f:
            json.dump([{"bytes": 4096 << i, "ns_per_load": {"trusted": True, "value": 1 + i}} for i in range(6)], f)
        self.perf = os.path.join(d, "perf.txt")
        with open(self.perf, "w") as f:
            f.write("   77   1000\n\tffffffff81000010 tun_get_user+0x10\n\n")
        self.cal = os.path.join(d, "cal.json")
        with open(self.cal, "w") as f:
            json.dump({"parameters": {"costs.spread.process": {"value": [1.0] * 16}}}, f)
        self.cases = [("trace-segments", [script("trace-segments"), self.trace, "--min-count", "1"]),
                      ("trace-segments", [script("trace-segments"), "--help"]),
                      ("validation-table", [script("validation-table"), "--help"]),
                      ("perf-paths", [script("perf-paths"), self.perf, "--tids", "77", "--frames", "1"]),
                      ("derive.py", [script("machine", "derive.py"), self.curve, "ns_per_load", "8192", "32768"]),
                      ("trust.py", [script("machine", "trust.py"), "spread", self.cal])]

    def tearDown(self):
        self.dir.cleanup()

    def test_a_full_disk_is_one_line_and_exit_2(self):
        for name, argv in self.cases:
            with self.subTest(argv=argv):
                with open("/dev/full", "w") as full:
                    r = subprocess.run(["/usr/bin/python3"] + argv, stdout=full, stderr=subprocess.PIPE, text=True)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr, "%s: standard output: write failed: No space left on device\n" % name)

    def test_a_closed_pipe_ends_quietly(self):
        for name, argv in self.cases:
            with self.subTest(argv=argv):
                p = subprocess.Popen(["/usr/bin/python3"] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                p.stdout.close()  # the reader went away before the first byte
                err = p.stderr.read().decode()
                p.stderr.close()
                self.assertEqual(p.wait(), 0, err)
                self.assertEqual(err, "")


if __name__ == "__main__":
    unittest.main()
