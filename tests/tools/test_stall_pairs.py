"""scripts/machine/stall_pairs.py: cpus.stall.partner from a record of two
vCPUs' gaps measured at once (docs/calibration.md, "Stolen time").

    /usr/bin/python3 tests/tools/test_stall_pairs.py -v
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "machine"))
import stall_pairs  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "machine", "stall_pairs.py")
RECORD = os.path.join(ROOT, "results", "reference", "machine", "stall-2026-12-07")


class Partner(unittest.TestCase):
    def test_by_hand(self):
        # Four windows of 1000 ns.  CPU 1 loses 10, 40, 20, 30 (ranks 1/8,
        # 7/8, 3/8, 5/8); CPU 0 loses 5 and 6 (two gaps in window 0: 11),
        # 1, 30, 20 (ranks 3/8, 1/8, 7/8, 5/8).  A fifth window where CPU 0
        # was switched out is left out whole.  Ordered by CPU 1's rank the
        # windows are 0, 2, 3, 1, so K = 4 slots take CPU 0's ranks 3/8,
        # 7/8, 5/8, 1/8; K = 2 takes positions floor(0.5 * 4 / 2) = 1 and
        # floor(1.5 * 4 / 2) = 3: 7/8, 1/8.
        # (A gap of CPU 1 at 5500 makes window 4 whole; 5 is not.)  --slots 0
        # is one slot a window: the K = 4 table.
        gaps = [(1, 100, 10, 0), (1, 1100, 40, 0), (1, 2100, 20, 0), (1, 3100, 30, 0), (1, 4100, 99, 0),
                (0, 100, 5, 0), (0, 500, 6, 0), (0, 1100, 1, 0), (0, 2100, 30, 0), (0, 3100, 20, 0),
                (0, 4100, 50, 1), (1, 5500, 10, 0)]
        table, n, dropped = stall_pairs.partner(gaps, 1000, 4)
        self.assertEqual((n, dropped), (4, 1))
        self.assertEqual(table, [0.375, 0.875, 0.625, 0.125])
        self.assertEqual(stall_pairs.partner(gaps, 1000, 0)[0], table)
        self.assertEqual(stall_pairs.partner(gaps, 1000, 2)[0], [0.875, 0.125])
        with self.assertRaises(ValueError):
            stall_pairs.partner(gaps, 1000, 5)

    def test_a_gap_split_between_windows(self):
        # As stall.c counts it: CPU 0's gap of 300 ns from 900 puts 100 in
        # window 0 and 200 in window 1 (not 300 in window 0), so CPU 0's
        # ranks are 1/4 (window 0) and 3/4 (window 1); CPU 1 loses 50 and 10
        # (ranks 3/4, 1/4).  Ordered by CPU 1: windows 1, 0 -> [3/4, 1/4].
        gaps = [(0, 900, 300, 0), (1, 100, 50, 0), (1, 1100, 10, 0), (1, 2500, 5, 0)]
        self.assertEqual(stall_pairs.partner(gaps, 1000, 0), ([0.75, 0.25], 2, 0))

    def test_committed_record(self):
        # The shipped cpus.stall.partner (partner.json, which the C++ test
        # "calibrate --machine: the stall part" compares with the default)
        # is what the script gives on the committed pair record.
        with open(os.path.join(RECORD, "partner.json")) as f:
            want = json.load(f)
        gaps = stall_pairs.read_gaps(os.path.join(RECORD, "pairgaps-1153.txt.gz"))
        table, n, dropped = stall_pairs.partner(gaps, want["period_us"] * 1e3, 0)
        self.assertEqual(table, want["partner"])
        self.assertEqual((n, dropped), (want["windows"], want["windows_switched"]))

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as t:
            p = os.path.join(t, "gaps.txt")
            with open(p, "w") as f:
                f.write("0 100 5 0\n2 100 5 0\n")
            r = subprocess.run([sys.executable, SCRIPT, p, "--period-us", "1000"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr.strip(), f"stall_pairs.py: {p}:2: expected 'CPU START_NS LENGTH_NS SWITCHED' "
                                               "(CPU 0 or 1, SWITCHED 0 or 1), found '2 100 5 0'")
            self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
