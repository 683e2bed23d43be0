"""The sweep figures and report (scripts/tunsim_sweep/plotting.py, figures.py, report.py),
issue 13 item 22: series drawn on top of each other stay visible and are named, CPUs idle in
every point are left out of the report's table as of the CPU figure, and the load sweep's x
axis is the offered rate with each design's capacity marked."""

import json
import os
import subprocess
import unittest

from support import SWEEP, TINY, TempCase, have_matplotlib

if have_matplotlib():
    from tunsim_sweep import plotting, report
    from tunsim_sweep.plotting import Groups, coincide, line_plot, mark_capacity, plt


def summary(design, mpps, cpu0_idle=1.0):
    return {"tunsim_version": "t", "design": design, "throughput_mpps": mpps, "throughput_gbps": mpps * 0.48,
            "packets": {"delivered": 10, "dropped_total": 0}, "latency_us": {"p50": 10.0, "p99": 20.0, "p999": 30.0},
            "cpu": [{"cpu": 0, "process_frac": 1 - cpu0_idle, "softirq_frac": 0.0, "ksoftirqd_frac": 0.0,
                     "idle_frac": cpu0_idle},
                    {"cpu": 1, "process_frac": 0.6, "softirq_frac": 0.3, "ksoftirqd_frac": 0.0, "idle_frac": 0.1}],
            "batch": {"mean": 1.0, "bins": [[0.5, 1.5, 5]]}, "config_resolved": {"senders": [{"cpu": 1}]}}


def load_like(mpps):
    """A load sweep: designs a and b at 50% and 100% of their capacity (0.4, 0.8 Mpps)."""
    cap = {"a": 0.4, "b": 0.8}
    plan = {"name": "load", "sweep_file": "s.json", "base": "configs/default.json", "combine": "zip", "seeds": [1],
            "capacity_mpps": cap,
            "axes": [{"name": "design", "path": "design", "values": ["a", "a", "b", "b"]},
                     {"name": "pct", "path": None, "values": [50, 100, 50, 100]},
                     {"name": "rate", "path": "rate", "values": [0.2, 0.4, 0.4, 0.8]}],
            "plot": {"x": "rate", "series": ["design"], "latency_x": "throughput_mpps", "at_column": "pct",
                     "at": [100], "capacity_on": ["rate", "throughput_mpps"]}}
    plan["points"] = [{"index": i, "id": "%012d" % i, "seed": 1,
                       "values": {"design": d, "pct": p, "rate": r}} for i, (d, p, r) in
                      enumerate(zip(*(a["values"] for a in plan["axes"])))]
    rows = [(pt, summary(pt["values"]["design"], mpps(pt))) for pt in plan["points"]]
    return plan, rows


@unittest.skipUnless(have_matplotlib(), "matplotlib missing for /usr/bin/python3")
class Figures(TempCase):
    def test_coincide(self):
        # y span 5 (1 to 6): tolerance 0.5% = 0.025; b is within it of a, c is not; d has other x.
        same = coincide([("a", [1, 2], [1, 2]), ("b", [1, 2], [1, 2.02]), ("c", [1, 2], [5, 6]),
                         ("d", [1, 3], [1, 2])])
        self.assertEqual(same, [None, "a", None, None])

    def test_coinciding_series_are_marked_and_named(self):
        # Both designs deliver the same at the same offered rate: b's line lies on a's.
        plan, rows = load_like(lambda pt: 0.3)
        plan["plot"]["x"] = "pct"
        g = Groups(plan, rows)
        fig, ax = plt.subplots()
        ax.set_title("packets")
        notes = line_plot(ax, g, "throughput_mpps")
        self.assertEqual(notes, ["a (same as: b)"])
        # The figure's footer names them, per panel.
        self.assertEqual(plotting.notes_text(fig), ["Series drawn on top of each other (hollow markers):",
                                                    "packets: a (same as: b)"])
        lines = [c.lines[0] for c in ax.containers]
        self.assertNotEqual(lines[0].get_markerfacecolor(), "none")
        self.assertEqual(lines[1].get_markerfacecolor(), "none")
        self.assertGreater(lines[1].get_markersize(), lines[0].get_markersize())
        self.assertNotEqual(lines[0].get_marker(), lines[1].get_marker())
        plt.close(fig)

    def test_notes_name_only_what_differs(self):
        self.assertEqual(plotting._differing("v1_napi, netdev_budget=8", "v1_napi, netdev_budget=64"),
                         "netdev_budget=64")
        self.assertEqual(plotting._differing("a", "b"), "b")

    def test_capacity_marked_on_the_offered_rate(self):
        plan, rows = load_like(lambda pt: pt["values"]["rate"] * 0.9)
        g = Groups(plan, rows)
        self.assertEqual(g.x, "rate")
        fig, ax = plt.subplots()
        line_plot(ax, g, "throughput_mpps")
        mark_capacity(ax, g, "rate")
        vlines = sorted(l.get_xdata()[0] for l in ax.lines if list(l.get_xdata()) == [l.get_xdata()[0]] * 2)
        self.assertEqual(vlines, [0.4, 0.8])
        fig2, ax2 = plt.subplots()
        mark_capacity(ax2, g, "pct")  # not a column in capacity_on: nothing marked
        self.assertEqual(len(ax2.lines), 0)
        plt.close(fig)
        plt.close(fig2)

    def test_at_column(self):
        plan, rows = load_like(lambda pt: 0.1)
        g = Groups(plan, rows)
        self.assertEqual(g.at_values(), [100.0])
        self.assertEqual([pt["values"]["rate"] for pt, s in g.at_rows(g.groups[("b",)], 100.0)], [0.8])

    def test_idle_cpu_left_out_of_the_table(self):
        plan, rows = load_like(lambda pt: 0.1)
        meta = {"generated_utc": "now", "host": {"name": "h", "machine": "m"}}
        text = report.report(plan, self.tmp, rows, ["t"], [], meta)
        self.assertIn("cpu0 idle in every point: not shown.", text)
        self.assertNotIn("cpu0 process %", text)
        self.assertIn("cpu1 process %", text)
        self.assertIn("| capacity (closed loop) | a 0.4000 Mpps, b 0.8000 Mpps |", text)
        # A CPU busy in one point stays.
        rows[0] = (rows[0][0], summary("a", 0.1, cpu0_idle=0.5))
        text = report.report(plan, self.tmp, rows, ["t"], [], meta)
        self.assertIn("cpu0 process %", text)
        self.assertNotIn("idle in every point", text)

    def test_plot_command(self):
        # The whole plot command on the fake's summaries: six figures, PNG and SVG each.
        env = self.env()
        f = self.write("tiny.json", TINY)
        subprocess.run([SWEEP, "--results-dir", self.results, "run", f], env=env, check=True, capture_output=True)
        r = subprocess.run([SWEEP, "--results-dir", self.results, "plot", f], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        figdir = os.path.join(self.results, "tiny", "figures")
        for stem in ("throughput", "latency", "latency_cdf", "cpu_split", "softirq", "batch_hist"):
            with open(os.path.join(figdir, stem + ".png"), "rb") as fh:
                self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")
            with open(os.path.join(figdir, stem + ".svg")) as fh:
                self.assertIn("<svg", fh.read())
        with open(os.path.join(figdir, "meta.json")) as fh:
            meta = json.load(fh)
        self.assertEqual((meta["points_finished"], meta["points_total"]), (4, 4))


if __name__ == "__main__":
    unittest.main()
