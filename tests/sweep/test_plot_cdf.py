"""scripts/plot-cdf.py, which `tunsim diff --plot` runs (issue 13 item 22): an x label with the
quantity and its unit, integer distributions drawn as staircases, a log x axis when a tail
spans a decade beyond the median, and one-line errors."""

import importlib.util
import os
import subprocess
import unittest

from support import SCRIPTS, TempCase, have_matplotlib

spec = importlib.util.spec_from_file_location("plot_cdf", os.path.join(SCRIPTS, "plot-cdf.py"))
plot_cdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_cdf)


def log_dist(p50, mx, count=10):
    # Two bins: most samples around p50, one at the maximum (as Dist::to_json writes them).
    return {"kind": "log", "count": count, "p50": p50, "max": mx,
            "bins": [[p50 * 0.98, p50 * 1.02, count - 1], [mx * 0.98, mx * 1.02, 1]]}


def int_dist(values, p50):
    return {"kind": "integer", "count": sum(values.values()), "p50": p50, "max": max(values),
            "bins": [[v - 0.5, v + 0.5, n] for v, n in sorted(values.items())]}


DATA = {"a_label": "kernel", "b_label": "model", "metrics": {
    "write_ns": {"a": log_dist(900, 50000), "b": log_dist(950, 2000), "ks": 0.1, "wasserstein": 3.0},
    "softirq_net_rx_ns": {"a": log_dist(1000, 1900), "b": log_dist(1100, 2000), "ks": 0.2, "wasserstein": 4.0},
    "napi_poll_work": {"a": int_dist({1: 90, 2: 10}, 1), "b": int_dist({1: 100}, 1), "ks": 0.1, "wasserstein": 0.1},
    # 0 to 64 packets, median 1: the tail spans more than a decade.
    "packets_per_softirq": {"a": int_dist({0: 5, 1: 90, 64: 5}, 1), "b": int_dist({1: 100}, 1), "ks": 0.1,
                            "wasserstein": 0.1},
}}


class Pure(unittest.TestCase):
    def test_labels_name_quantity_and_unit(self):
        self.assertEqual(plot_cdf.x_label("write_ns", {}), "write() duration (sys_enter to sys_exit), ns")
        self.assertEqual(plot_cdf.x_label("napi_poll_work", {"kind": "integer"}), "packets per napi_poll (work), packets")
        self.assertEqual(plot_cdf.x_label("other_us", {}), "other_us, us")
        self.assertEqual(plot_cdf.x_label("events", {"kind": "integer"}), "events, count")

    def test_integer_staircase(self):
        # Values 1 (90 samples) and 2 (10): 0 below 1, 0.9 from 1, 1.0 from 2.
        self.assertEqual(plot_cdf.int_steps(int_dist({1: 90, 2: 10}, 1)), ([0.0, 1.0, 2.0, 3.0], [0.0, 0.9, 1.0, 1.0]))

    def test_log_axis_when_the_tail_spans_a_decade(self):
        # max / p50 = 55.6 (>= 10): log; 1.9 and 2.1: linear.
        self.assertTrue(plot_cdf.use_log(log_dist(900, 50000), log_dist(950, 2000)))
        self.assertFalse(plot_cdf.use_log(log_dist(1000, 1900), log_dist(1100, 2000)))
        self.assertFalse(plot_cdf.use_log(log_dist(0, 1000)))  # a median of 0: no log axis


@unittest.skipUnless(have_matplotlib(), "matplotlib missing for /usr/bin/python3")
class Figure(TempCase):
    def test_axes(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig = plot_cdf.draw(DATA, plt)
        ax = {a.get_title().split()[0]: a for a in fig.axes}
        self.assertEqual(ax["write_ns"].get_xscale(), "log")
        self.assertEqual(ax["write_ns"].get_xlabel(), "write() duration (sys_enter to sys_exit), ns (log scale)")
        self.assertEqual(ax["softirq_net_rx_ns"].get_xscale(), "linear")
        self.assertEqual(ax["softirq_net_rx_ns"].get_xlabel(), "NET_RX softirq duration, ns")
        self.assertEqual([l.get_drawstyle() for l in ax["napi_poll_work"].lines], ["steps-post", "steps-post"])
        self.assertEqual(ax["napi_poll_work"].get_xscale(), "linear")
        self.assertEqual(ax["napi_poll_work"].get_xlabel(), "packets per napi_poll (work), packets")
        # Counts that include 0 and reach 64: linear to 1, logarithmic above, from -0.5.
        self.assertEqual(ax["packets_per_softirq"].get_xscale(), "symlog")
        self.assertEqual(ax["packets_per_softirq"].get_xlim()[0], -0.5)
        self.assertEqual([l.get_drawstyle() for l in ax["write_ns"].lines], ["default", "default"])
        plt.close(fig)

    def test_command_line(self):
        src = self.write("in.json", DATA)
        out = os.path.join(self.tmp, "cdf.png")
        r = subprocess.run([os.path.join(SCRIPTS, "plot-cdf.py"), src, out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        bad = self.write("bad.json", {"metrics": {"write_ns": {"a": {"bins": [[1, 2, "x"]]}, "b": log_dist(1, 2)}}})
        r = subprocess.run([os.path.join(SCRIPTS, "plot-cdf.py"), bad, out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "plot-cdf.py: %s: metrics.write_ns.a: expected a distribution with bins "
                                   "[[lo, hi, n], ...] and samples\n" % bad)


if __name__ == "__main__":
    unittest.main()
