"""Reading and checking a sweep file (scripts/tunsim_sweep/sweepfile.py), and its bounds
(issue 14 item 4): sizes, nesting, numbers, and plans counted before they are made.

The huge plans below (10^9 to 10^18 points) would take minutes and gigabytes if anything
expanded them before counting; CTest's timeout (tests/sweep.cmake) turns that into a failure.
"""

import json
import os
import re
import unittest

from support import TempCase
from tunsim_sweep import sweepfile
from tunsim_sweep.errors import SweepError
from tunsim_sweep.sweepfile import count_points, expand_range, load_sweep


class Ranges(unittest.TestCase):
    def test_inclusive_integer_range(self):
        # [0, 64, 16]: 0, 16, 32, 48 and 64 (hi is included), integers stay integers.
        self.assertEqual(expand_range(0, 64, 16, "w", 100), [0, 16, 32, 48, 64])
        self.assertTrue(all(isinstance(v, int) for v in expand_range(0, 64, 16, "w", 100)))

    def test_float_range_reaches_hi_despite_rounding(self):
        # 0.1 steps accumulate rounding error; the last value 1.0 is kept (tolerance 1e-9 step)
        # and values are rounded to 12 digits, so 0.30000000000000004 is 0.3.
        self.assertEqual(expand_range(0, 1, 0.1, "w", 100),
                         [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])

    def test_bad_ranges(self):
        for r, msg in (([0, 8, 0], "expected a positive step"), ([8, 0, 1], "expected lo <= hi"),
                       ([0, "8", 1], "expected [lo, hi, step] numbers"),
                       ([0, True, 1], "expected [lo, hi, step] numbers, found [0, true, 1]")):
            with self.subTest(r=r), self.assertRaisesRegex(SweepError, "w.range: " + re.escape(msg)):
                expand_range(*r, "w", 100)

    def test_range_above_the_limit_is_refused_before_expansion(self):
        # 10^18 + 1 values: counted, not made.
        with self.assertRaisesRegex(SweepError, r"has 1000000000000000001 values; a plan may have at most 100 "):
            expand_range(0, 10 ** 18, 1, "w", 100)
        # A step of 1e-9 over [0, 1]: about 10^9 values.
        with self.assertRaisesRegex(SweepError, r"has about 1000000000 values"):
            expand_range(0, 1, 1e-9, "w", 100)
        # A span beyond double range: inf / step.
        with self.assertRaisesRegex(SweepError, r"has too many values"):
            expand_range(-1e308, 1e308, 1.0, "w", 100)

    def test_limit_is_inclusive(self):
        self.assertEqual(len(expand_range(1, 100, 1, "w", 100)), 100)
        with self.assertRaises(SweepError):
            expand_range(0, 100, 1, "w", 100)  # 101 values


class Files(TempCase):
    def load(self, doc, **kw):
        return load_sweep(self.write("s.json", doc), **kw)

    def assertRefused(self, doc, pattern, **kw):
        with self.assertRaisesRegex(SweepError, pattern):
            self.load(doc, **kw)

    def test_counts_without_making_points(self):
        # 9 axes of 10 values: 10^9 points, refused by count (an expansion would not finish).
        doc = {"name": "n", "axes": [{"path": "k%d" % i, "values": list(range(10))} for i in range(9)]}
        self.assertRefused(doc, r"1000000000 points \(grid of k0\[10\] x .* x k8\[10\]; 1 seed\(s\)\), above the "
                                r"limit of 100000; pass --max-points 1000000000")
        # The bound is the plan's: 3 axes of 10 x 2 designs x 3 seeds = 6000 points.
        doc = {"name": "n", "designs": ["a", "b"], "seeds": [1, 2, 3],
               "axes": [{"path": "k%d" % i, "values": list(range(10))} for i in range(3)]}
        self.assertEqual(count_points(self.load(doc)), 6000)
        self.assertRefused(doc, r"6000 points \(grid of design\[2\] x k0\[10\] x k1\[10\] x k2\[10\]; 3 seed",
                           max_points=5999)
        # A zip counts its length once: 3 values zipped x 2 seeds = 6.
        doc = {"name": "z", "combine": "zip", "seeds": [1, 2],
               "axes": [{"path": "a", "values": [1, 2, 3]}, {"path": "b", "range": [10, 30, 10]}]}
        self.assertEqual(count_points(self.load(doc)), 6)

    def test_huge_range_in_a_small_file(self):
        # The 90-byte file of issue 14: refused, not expanded (it reached 4 GB before).
        self.assertRefused({"name": "r", "axes": [{"path": "tun.rx_frames", "range": [0, 1e9, 1]}]},
                           r"axes.0.range: \[0, 1000000000.0, 1\] has about 1000000001 values")
        # --max-points raises the bound.
        sw = self.load({"name": "r", "axes": [{"path": "x", "range": [1, 2000, 1]}]}, max_points=2000)
        self.assertEqual(len(sw["axes"][0]["values"]), 2000)

    def test_nesting_is_bounded(self):
        # 64 levels are accepted (an inline base scenario needs about 6), 65 refused with the
        # place of the bracket that opens level 65 (the object's brace is level 1); 100000 levels (beyond Python's recursion limit) the same.
        ok = {"name": "d", "description": "", "base": {"a": json.loads("[" * 62 + "]" * 62)}}
        self.assertEqual(self.load(ok)["name"], "d")
        for depth in (65, 100000):
            text = '{"name": "d",\n "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
            with self.subTest(depth=depth), self.assertRaisesRegex(SweepError, r"s.json:2:70: nested deeper than "
                                                                               r"64 levels; expected at most 64"):
                self.load(text)
        # Brackets inside strings do not count.
        self.assertEqual(self.load({"name": "d", "description": "[" * 100})["description"], "[" * 100)

    def test_size_is_bounded(self):
        path = os.path.join(self.tmp, "big.json")
        with open(path, "w") as f:
            f.write('{"name": "b", "description": "' + "x" * (sweepfile.MAX_SWEEP_BYTES) + '"}')
        with self.assertRaisesRegex(SweepError, r"big.json: larger than 4 MiB; expected a sweep file of at most 4 MiB"):
            load_sweep(path)
        with self.assertRaisesRegex(SweepError, r"/dev/zero: larger than 4 MiB"):
            load_sweep("/dev/zero")

    def test_numbers(self):
        for text, msg in (('{"name": "n", "seeds": [1e400]}', r"number 1e400: expected a finite number"),
                          ('{"name": "n", "seeds": [NaN]}', r"NaN: expected a finite number \(JSON has no NaN\)"),
                          ('{"name": "n", "seeds": [-Infinity]}', r"-Infinity: expected a finite number"),
                          ('{"name": "n", "seeds": [%s]}' % ("9" * 5000), r"integer 9999.*: expected at most 20 digits"),
                          ('{"name": "n", "seeds": [-1]}', r"seeds: expected a non-empty list of integers >= 0")):
            with self.subTest(text=text[:40]):
                self.assertRefused(text, msg)

    def test_a_key_twice_in_one_object_is_refused_naming_both(self):
        # json.loads kept the last silently: this file swept seed 2 alone.
        self.assertRefused('{"name": "d", "seeds": [1],\n "seeds": [2]}',
                           r"s.json:2:2: expected each key once in an object, found \"seeds\" again \(first at 1:15\)$")
        # Nested, and spelt with an escape ("\u0070" is "p").
        self.assertRefused('{"name": "d", "axes": [{"path": "a", "values": [1], "\\u0070ath": "b"}]}',
                           r"s.json:1:53: expected each key once in an object, found \"path\" again \(first at 1:25\)$")
        # One key in two objects, and a key-like string value, are no repeat.
        sw = self.load('{"name": "d", "set": {"name": "name"}, "axes": [{"path": "a", "values": [1]}, '
                       '{"path": "b", "values": ["path"]}]}')
        self.assertEqual([a["path"] for a in sw["axes"]], ["a", "b"])

    def test_messages_name_the_place(self):
        cases = [
            ('{"name": "j",\n "axes": [}\n', r"s.json:2:11: invalid JSON: Expecting value"),
            ({"name": "z", "combine": "zip", "axes": [{"path": "a", "values": [0, 8]}, {"path": "b", "values": [1]}]},
             r"combine zip: expected axes of equal length, found a: 2, b: 1"),
            ({"name": "u", "axis": []}, r"s.json: axis: unknown key \(expected one of"),
            ({"name": "a b"}, r"name: expected a folder name"),
            ({"name": "x" * 101}, r"name: expected a folder name of 1 to 100 characters"),
            ({"name": "c\u0007"}, r"name: expected a folder name"),
            ({"name": "v", "axes": [{"path": "a", "values": []}]}, r"axes.0.values: expected a non-empty list"),
            ({"name": "v", "axes": [{"path": "a", "values": [[1]]}]}, r"axes.0.values: expected scalars"),
            ({"name": "v", "axes": [{"path": "a=b", "values": [1]}]}, r"axes.0.path: expected a dotted key path"),
            ({"name": "v", "designs": ["x"], "axes": [{"path": "design", "values": ["y"]}]},
             r"designs: \"design\" is already an axis"),
            ({"name": "v", "axes": [{"path": "a", "values": [1]}, {"path": "a", "values": [2]}]},
             r"axes: column a appears twice"),
            ({"name": "v", "base": "configs/nope.json"}, r"base: expected a scenario file"),
            ({"name": "v", "capacity_mpps": {"a": -1}}, r"capacity_mpps: expected an object \{design: Mpps > 0\}"),
            # The figure settings: each was read only by `plot`, after every
            # point had run, and a wrong one ended there in an internal error.
            ({"name": "v", "axes": [{"name": "a\nb", "values": [1]}]},
             r"axes.0.name: expected a column name without control characters or commas, found \"a\\nb\"$"),
            ({"name": "v", "axes": [{"name": "a,b", "values": [1]}]}, r"axes.0.name: expected a column name"),
            ({"name": "v", "plot": []}, r"s.json: plot: expected an object$"),
            ({"name": "v", "plot": {"xscale": "foo"}},
             r"plot.xscale: expected one of \"linear\", \"log\", \"log2\", \"symlog\", found \"foo\"$"),
            ({"name": "v", "plot": {"xscale": 5}}, r"plot.xscale: expected one of .*, found 5$"),
            ({"name": "v", "plot": {"cpus": "x"}}, r"plot.cpus: expected a list of CPU numbers >= 0, found \"x\"$"),
            ({"name": "v", "plot": {"cpus": [1, -1]}}, r"plot.cpus: expected a list of CPU numbers >= 0"),
            ({"name": "v", "plot": {"linthresh": -1, "xscale": "symlog"}}, r"plot.linthresh: expected a number > 0"),
            ({"name": "v", "plot": {"x": 3}}, r"plot.x: expected a column name, found 3$"),
            ({"name": "v", "plot": {"series": ["design", 2]}}, r"plot.series: expected a list of column names"),
            ({"name": "v", "plot": {"at": [{}]}}, r"plot.at: expected a list of values"),
            ({"name": "v", "plot": {"bogus": 1}}, r"plot: unknown key \"bogus\" \(expected one of x, series,"),
        ]
        for doc, msg in cases:
            with self.subTest(msg=msg):
                self.assertRefused(doc, msg)


if __name__ == "__main__":
    unittest.main()
