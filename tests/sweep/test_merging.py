"""points.csv (scripts/tunsim_sweep/merging.py): one row per finished point in plan order,
the axes and the seed, then every scalar of the summary flattened with dots, headline
metrics first; a drop reason a point never saw is 0, other missing metrics empty."""

import csv
import io
import json
import os
import unittest

from support import TINY, TempCase, have_matplotlib
from tunsim_sweep.errors import SweepError
from tunsim_sweep.merging import csv_text, flatten, merge

PLAN = {"format": "tunsim-sweep-plan/1", "name": "m",
        "axes": [{"name": "design", "path": "design", "values": ["a", "b"]},
                 {"name": "load_pct", "path": None, "values": [50]}],
        "points": [{"index": 0, "id": "000000000001", "values": {"design": "a", "load_pct": 50}, "seed": 1},
                   {"index": 1, "id": "000000000002", "values": {"design": "b", "load_pct": 50}, "seed": 1},
                   {"index": 2, "id": "000000000003", "values": {"design": "b", "load_pct": 50}, "seed": 2}]}


def summary(design, mpps, dropped):
    return {"tunsim_version": "t", "schema": 1, "seed": 9, "stack": {"x": 1}, "design": design,
            "packets": {"sent": 10, "dropped": dropped}, "throughput_mpps": mpps,
            "cpu": [{"cpu": 0, "idle_frac": 0.5}], "latency_ns": {"p50": 1000.0, "bins": [[1, 2, 3]]},
            "config_resolved": {"design": design}, "notes": ["n"]}


class Flatten(unittest.TestCase):
    def test_leaves_with_dotted_names(self):
        out = {}
        flatten({"a": {"b": 1, "c": [{"d": True}, {"d": None}]}, "bins": [[1, 2, 3]], "e": "x"}, "", out)
        self.assertEqual(out, {"a.b": 1, "a.c.0.d": True, "a.c.1.d": None, "e": "x"})


class Csv(TempCase):
    def test_columns_and_rows(self):
        rows = [(PLAN["points"][0], summary("a", 0.5, {"ring_full": 3})),
                (PLAN["points"][2], summary("b", 0.25, {}))]
        text, ncols, nrows = csv_text(PLAN, iter(rows))  # an iterator, as merge passes
        table = list(csv.reader(io.StringIO(text)))
        # id, the axes in plan order, seed; then the headline groups in merging.ORDER
        # (throughput, packets.*, cpu.*, stack.*), then the rest in the summary's order
        # (tunsim_version, latency_ns).  The summary's
        # design is the design axis' column already; config_resolved, bins and notes are left
        # out; the summary's own seed is the row's seed column.
        self.assertEqual(table[0], ["id", "design", "load_pct", "seed", "throughput_mpps", "packets.sent",
                                    "packets.dropped.ring_full", "cpu.0.cpu", "cpu.0.idle_frac", "stack.x",
                                    "tunsim_version", "latency_ns.p50"])
        self.assertEqual((ncols, nrows), (12, 2))
        self.assertEqual(table[1], ["000000000001", "a", "50", "1", "0.5", "10", "3", "0", "0.5", "1", "t", "1000.0"])
        # The second row never saw ring_full drops: 0, not empty.
        self.assertEqual(table[2][:7], ["000000000003", "b", "50", "2", "0.25", "10", "0"])
        self.assertEqual(len(table), 3)

    def test_merge_reads_finished_points_in_plan_order(self):
        root = os.path.join(self.tmp, "m")
        os.makedirs(os.path.join(root, "points"))
        for pt, s in ((PLAN["points"][2], summary("b", 0.3, {})), (PLAN["points"][0], summary("a", 0.1, {}))):
            with open(os.path.join(root, "points", pt["id"] + ".json"), "w") as f:
                json.dump(s, f)
        self.assertEqual(merge(PLAN, root), (2, 3, 11))
        with open(os.path.join(root, "points.csv")) as f:
            ids = [r[0] for r in csv.reader(f)][1:]
        self.assertEqual(ids, ["000000000001", "000000000003"])

    def test_unreadable_summary_names_the_file(self):
        root = os.path.join(self.tmp, "m")
        os.makedirs(os.path.join(root, "points"))
        with open(os.path.join(root, "points", "000000000002.json"), "w") as f:
            f.write('{"throughput_mpps": 0.')
        with self.assertRaisesRegex(SweepError, r"points/000000000002.json:1:22: invalid JSON"):
            merge(PLAN, root)

    def test_json_that_is_no_summary_is_refused_naming_file_and_key(self):
        # {"x": 1} was merged as a row of empty cells with a column "x" (and plotted as a point
        # without values), exit 0: a point file must be a tunsim summary, docs/summary.md, whose
        # "schema" is 1 and which names its producer, its design and its throughput.
        root = os.path.join(self.tmp, "m")
        os.makedirs(os.path.join(root, "points"))
        f = os.path.join(root, "points", "000000000002.json")
        ok = summary("b", 0.3, {})
        for doc, msg in [({"x": 1}, "schema: expected 1 (a tunsim summary, docs/summary.md), found no such key"),
                         ([ok], "expected a tunsim summary (a JSON object)"),
                         (dict(ok, schema=2), "schema: expected 1 (a tunsim summary, docs/summary.md), found 2"),
                         (dict(ok, schema=True), "schema: expected 1 (a tunsim summary, docs/summary.md), found true"),
                         (dict(ok, tunsim_version=None), "tunsim_version: expected a string (a tunsim summary, "
                                                         "docs/summary.md), found null"),
                         ({k: v for k, v in ok.items() if k != "design"},
                          "design: expected a string (a tunsim summary, docs/summary.md), found no such key"),
                         (dict(ok, throughput_mpps="0.3"), 'throughput_mpps: expected a number (a tunsim summary, '
                                                           'docs/summary.md), found "0.3"')]:
            with self.subTest(doc=doc):
                with open(f, "w") as fh:
                    json.dump(doc, fh)
                with self.assertRaises(SweepError) as e:
                    merge(PLAN, root)
                self.assertEqual(str(e.exception), "%s: %s" % (f, msg))
        with open(f, "w") as fh:
            json.dump(ok, fh)
        self.assertEqual(merge(PLAN, root)[0], 1)

    def test_merge_and_plot_commands_refuse_a_point_that_is_no_summary(self):
        # The commands a user runs: exit 2 and one line naming the point's file, the key and
        # what was expected (both were exit 0).
        f = self.write("tiny.json", TINY)
        r = self.sweep("run", f)
        self.assertEqual(r.returncode, 0, r.stderr)
        points = os.path.join(self.results, "tiny", "points")
        bad = os.path.join(points, sorted(os.listdir(points))[0])
        with open(bad, "w") as fh:
            fh.write('{"x":1}')
        for cmd in ["merge", "plot"] if have_matplotlib() else ["merge"]:
            with self.subTest(cmd=cmd):
                r = self.sweep(cmd, f)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr, "sweep: %s: schema: expected 1 (a tunsim summary, docs/summary.md), "
                                           "found no such key\n" % bad)
                self.assertEqual(r.stdout, "")



class FastDepthCheck(unittest.TestCase):
    """parse_json's C-speed depth check (util._shallow) says True only where check_depth's token
    loop would pass; everything else goes to check_depth, which refuses with its line:column."""

    def test_agrees_with_check_depth(self):
        from tunsim_sweep import util
        cases = [('{"a": [1, 2], "b": {"c": []}}', True),
                 ("[" * 64 + "]" * 64, True),                      # 64 levels: the limit
                 ("[" * 65 + "]" * 65, False),                     # 65: check_depth refuses
                 ('{"s": "' + "[" * 100 + '"}', True),             # brackets inside a string do not count
                 ('{"s": "a\\"[[[b"}', False),                     # a backslash: check_depth reads the escapes
                 ('{"s": "unterminated [[[}', False),
                 ("[}", False),                                    # unpaired: json.loads says why
                 ('{"\u00e9": ["\u00fc", {"k": 1}]}', True)]       # UTF-8 bytes never look like brackets
        for text, fast in cases:
            with self.subTest(text=text[:30]):
                self.assertEqual(util._shallow(text, util.MAX_DEPTH), fast)
                if fast:
                    util.check_depth(text, "t")  # never raises where the fast check passed
        with self.assertRaisesRegex(SweepError, r"t:1:65: nested deeper than 64 levels"):
            util.parse_json("[" * 65 + "]" * 65, "t")


class FastNumberCheck(unittest.TestCase):
    """parse_json skips its Python number hooks (_float, _int) only where util._plain_numbers
    proves no number can be refused; the values are the same either way, and every number the
    hooks refuse is still refused with their message."""

    def test_plain_numbers(self):
        from tunsim_sweep import util
        cases = [('{"a": 1, "b": -2.5e-07, "c": 12345678901234567890}', True),   # 20 digits: allowed
                 ('{"c": 123456789012345678901}', False),                      # 21 digits
                 ('{"f": 0.123456789012345678901}', False),                    # a fraction of 21 digits
                 ('{"f": 1.5e300}', False),                                    # an exponent of 3 digits
                 ('{"f": 1.5E+300}', False),
                 ('{"f": 1.5e-300}', False),
                 ('{"s": "e000 in a string"}', False),                         # strings count too (slow path only)
                 ('{"f": 1.5e99, "g": -9.99e-99}', True)]
        for text, plain in cases:
            with self.subTest(text=text):
                self.assertEqual(util._plain_numbers(text.encode()), plain)

    def test_same_values_and_refusals(self):
        from tunsim_sweep import util
        import math
        text = '{"a": [0, -1, 12345678901234567890, 0.1, 2.5e-07, 1e99, -3.0E+12], "s": "x"}'
        hooked = json.loads(text, parse_float=util._float, parse_int=util._int)
        fast = util.parse_json(text, "t")
        self.assertEqual(fast, hooked)
        self.assertEqual([type(v) for v in fast["a"]], [int, int, int, float, float, float, float])
        self.assertTrue(all(math.isfinite(v) for v in fast["a"]))
        for text, msg in (("[1e400]", r"t: number 1e400: expected a finite number"),
                          ("[-1e309]", r"t: number -1e309: expected a finite number"),
                          ("[%s]" % ("9" * 21), r"t: integer 9{21}: expected at most 20 digits"),
                          ("[NaN]", r"t: NaN: expected a finite number")):
            with self.subTest(text=text):
                with self.assertRaisesRegex(SweepError, msg):
                    util.parse_json(text, "t")


if __name__ == "__main__":
    unittest.main()
