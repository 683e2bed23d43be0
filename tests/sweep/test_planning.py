"""Planning (scripts/tunsim_sweep/planning.py): which points a sweep has, in which order,
with which --set lists and ids.

The ready-made sweeps must plan exactly the points the single-file scripts/sweep planned
(fixtures/ready-made-plans.json, written by that driver at git c0dded6 with a stand-in for
the binary's hash): the same ids mean the same summaries, file for file.
"""

import glob
import json
import os
import unittest

from support import HERE, REPO, TempCase
from tunsim_sweep.errors import SweepError
from tunsim_sweep.planning import make_points
from tunsim_sweep.sweepfile import count_points, load_sweep

with open(os.path.join(HERE, "fixtures", "ready-made-plans.json")) as f:
    FIXTURE = json.load(f)


class ReadyMade(unittest.TestCase):
    def test_every_ready_made_sweep_plans_what_it_planned_before(self):
        files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "configs", "sweeps", "*.json")))
        self.assertEqual(files, sorted(FIXTURE["sweeps"]), "a ready-made sweep without a fixture (or the reverse)")
        for name in files:
            with self.subTest(sweep=name):
                want = FIXTURE["sweeps"][name]
                sw = load_sweep(os.path.join(REPO, "configs", "sweeps", name))
                # The ids hash the base scenario's bytes: use the fixture's, so that this test
                # checks the planning, and test_base_bytes below the hash of today's file.
                sw["base_sha"] = want["base_sha256"]
                axes, points = make_points(sw, FIXTURE["tunsim_sha256"])
                self.assertEqual([{k: a[k] for k in ("name", "path", "label", "values")} for a in axes], want["axes"])
                got = [{"id": p["id"], "values": p["values"], "seed": p["seed"], "sets": p["sets"]} for p in points]
                self.assertEqual(got, want["points"])
                self.assertEqual(count_points(sw), len(points))

    def test_base_bytes(self):
        # configs/default.json unchanged since the fixture: same ids with today's file.  (If
        # this fails, the base scenario changed and every ready-made sweep reruns.)
        for name, want in FIXTURE["sweeps"].items():
            with self.subTest(sweep=name):
                self.assertEqual(load_sweep(os.path.join(REPO, "configs", "sweeps", name))["base_sha"],
                                 want["base_sha256"])


class Order(TempCase):
    def plan(self, doc, sha="s"):
        sw = load_sweep(self.write("p.json", doc))
        axes, points = make_points(sw, sha)
        self.assertEqual(count_points(sw), len(points))
        return axes, points

    def test_grid_order(self):
        # designs outermost, then the axes (first outermost), then the seeds; the fixed
        # settings come first in every --set list, in the file's order.
        axes, pts = self.plan({"name": "g", "set": {"duration_ms": 2, "kernel.x": True}, "designs": ["d1", "d2"],
                               "seeds": [5, 6], "axes": [{"path": "a", "values": [1, 2]},
                                                         {"path": "b", "values": ["u", "v"]}]})
        self.assertEqual([a["name"] for a in axes], ["design", "a", "b"])
        self.assertEqual(len(pts), 16)
        self.assertEqual([(p["values"]["design"], p["values"]["a"], p["values"]["b"], p["seed"]) for p in pts[:5]],
                         [("d1", 1, "u", 5), ("d1", 1, "u", 6), ("d1", 1, "v", 5), ("d1", 1, "v", 6),
                          ("d1", 2, "u", 5)])
        self.assertEqual(pts[0]["sets"], ["duration_ms=2", "kernel.x=true", 'design="d1"', "a=1", 'b="u"'])
        self.assertEqual([p["index"] for p in pts], list(range(16)))

    def test_zip_pairs_by_position_and_designs_multiply(self):
        axes, pts = self.plan({"name": "z", "combine": "zip", "designs": ["d1", "d2"],
                               "axes": [{"path": "a", "values": [0, 8, 16]}, {"path": "b", "values": [16, 32, 64]}]})
        self.assertEqual([(p["values"]["design"], p["values"]["a"], p["values"]["b"]) for p in pts],
                         [("d1", 0, 16), ("d1", 8, 32), ("d1", 16, 64), ("d2", 0, 16), ("d2", 8, 32), ("d2", 16, 64)])

    def test_label_only_axis_is_not_set(self):
        axes, pts = self.plan({"name": "l", "combine": "zip", "axes": [
            {"name": "pct", "values": [50, 100]}, {"path": "rate", "values": [0.5, 1.0]}]})
        self.assertEqual(pts[1]["values"], {"pct": 100, "rate": 1.0})
        self.assertEqual(pts[1]["sets"], ["rate=1.0"])

    def test_ids(self):
        # The id is the first 12 hex digits of a SHA-256 over base bytes, --set list, seed and
        # the binary's hash: the same for the same inputs, different when any of them changes.
        doc = {"name": "i", "axes": [{"path": "a", "values": [1, 2]}]}
        _, p1 = self.plan(doc, "bin1")
        _, p1b = self.plan(doc, "bin1")
        _, p2 = self.plan(doc, "bin2")
        self.assertEqual([p["id"] for p in p1], [p["id"] for p in p1b])
        self.assertTrue(all(len(p["id"]) == 12 and int(p["id"], 16) >= 0 for p in p1))
        self.assertNotEqual(p1[0]["id"], p1[1]["id"])
        self.assertFalse({p["id"] for p in p1} & {p["id"] for p in p2})
        _, p3 = self.plan(dict(doc, base={"duration_ms": 3}), "bin1")
        self.assertFalse({p["id"] for p in p1} & {p["id"] for p in p3})

    def test_repeated_values_are_refused(self):
        with self.assertRaisesRegex(SweepError, r"two points have the same settings a=1 \(seed 1\)"):
            self.plan({"name": "r", "axes": [{"path": "a", "values": [1, 1]}]})


if __name__ == "__main__":
    unittest.main()
