#!/usr/bin/python3
"""Overlaid CDFs of two sets of tunsim distributions (used by `tunsim diff --plot`).

usage: plot-cdf.py IN.json OUT.png|OUT.svg

IN.json: {"a_label": str, "b_label": str,
          "metrics": {NAME: {"a": DIST, "b": DIST, "ks": x, "wasserstein": x}}}
where DIST is tunsim::Dist::to_json() ({"kind", "count", "p50", "max", "bins": [[lo, hi, n], ...]}).
A "log" distribution (durations) is drawn at its bin edges, linear inside a bin, as
Dist::cdf evaluates it; an "integer" one (packets per poll) as a staircase, since its values
are integers.  The x axis names the quantity and its unit, and is logarithmic when a tail
spans a decade or more beyond the median (max >= 10 x p50 on either side): for durations a
log axis (the zero bin left out), for integer counts, which can be 0, linear up to 1 and
logarithmic above (symlog).
Errors: one line on stderr, exit 2 (bad input) or 3 (matplotlib missing).
"""
import json
import sys

# What each of `tunsim trace stats`' distributions measures (sim/trace/metrics.hpp), for the x label.
QUANTITY = {
    "write_ns": "write() duration (sys_enter to sys_exit)",
    "softirq_net_rx_ns": "NET_RX softirq duration",
    "napi_poll_work": "packets per napi_poll (work)",
    "packets_per_softirq": "packets per NET_RX softirq",
    "netif_receive_skb_interarrival_ns": "time between netif_receive_skb events",
}
UNITS = (("_ns", "ns"), ("_us", "us"), ("_ms", "ms"), ("_s", "s"))
DECADE = 10.0


def fail(msg, status=2):
    sys.stderr.write("plot-cdf.py: %s\n" % msg)
    sys.exit(status)


def x_label(name, dist):
    """The quantity and its unit: "write() duration (...), ns"; integers count packets or events."""
    what = QUANTITY.get(name, name)
    for suffix, unit in UNITS:
        if name.endswith(suffix):
            return "%s, %s" % (what, unit)
    if dist.get("kind") == "integer":
        return "%s, %s" % (what, "packets" if "packet" in name or "work" in name else "count")
    return what


def cdf_points(dist):
    """(xs, ys) of a binned distribution's CDF at its bin edges (linear inside a bin)."""
    bins = dist.get("bins", [])
    total = float(sum(b[2] for b in bins))
    xs, ys = [], []
    seen = 0.0
    for lo, hi, n in bins:
        if not xs or xs[-1] != lo:
            xs.append(lo)
            ys.append(seen / total)
        seen += n
        xs.append(hi)
        ys.append(seen / total)
    return xs, ys


def int_steps(dist):
    """(xs, ys) of an integer distribution's CDF as a staircase for step(where="post"): the
    fraction of values <= v, jumping at each value v (its bin is [v - 0.5, v + 0.5]), from 0
    one below the smallest value to 1 one above the largest."""
    bins = dist.get("bins", [])
    total = float(sum(b[2] for b in bins))
    vals = [((lo + hi) / 2.0, n) for lo, hi, n in bins]
    xs, ys = [vals[0][0] - 1], [0.0]
    seen = 0.0
    for v, n in vals:
        seen += n
        xs.append(v)
        ys.append(seen / total)
    xs.append(vals[-1][0] + 1)
    ys.append(1.0)
    return xs, ys


def use_log(*dists):
    """True when a tail spans a decade or more beyond the median (and every value is > 0 or the
    zero bin, which a log axis leaves out)."""
    for d in dists:
        p50, mx = d.get("p50") or 0, d.get("max") or 0
        if p50 > 0 and mx >= DECADE * p50:
            return True
    return False


def draw(data, plt):
    metrics = data["metrics"]
    names = list(metrics)
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.9 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        m = metrics[name]
        integer = m["a"].get("kind") == "integer" and m["b"].get("kind") == "integer"
        log = use_log(m["a"], m["b"])
        for side, label, style in (("a", data.get("a_label", "A"), "-"), ("b", data.get("b_label", "B"), "--")):
            lab = "%s (n=%d)" % (label, m[side].get("count", 0))
            if integer:
                xs, ys = int_steps(m[side])
                ax.step(xs, ys, style, where="post", label=lab)
            else:
                xs, ys = cdf_points(m[side])
                if log:  # the zero bin has no place on a log axis
                    xs, ys = zip(*[(x, y) for x, y in zip(xs, ys) if x > 0]) if any(x > 0 for x in xs) else ([], [])
                ax.plot(xs, ys, style, label=lab)
        if log and integer:  # counts include 0: linear up to 1, logarithmic above
            from matplotlib.ticker import FuncFormatter
            ax.set_xscale("symlog", linthresh=1, linscale=0.5)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
        elif log:  # plain numbers at the decades (and 2, 5 between them), no 1.2x10^1
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
            ax.xaxis.set_minor_formatter(NullFormatter())
        elif integer:
            from matplotlib.ticker import MaxNLocator
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if integer:  # from half a step below the smallest value
            ax.set_xlim(left=min(d["bins"][0][0] for d in (m["a"], m["b"])))
        ax.set_xlabel(x_label(name, m["a"]) + (" (log scale)" if log else ""))
        ax.set_title("%s   KS %.3g   W %.3g" % (name, m.get("ks", float("nan")), m.get("wasserstein", float("nan"))),
                     fontsize=9)
        ax.set_ylabel("CDF")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def check(data, src):
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        fail("%s: expected a JSON object with \"metrics\"" % src)
    if not data["metrics"]:
        fail("%s: no distribution to plot" % src)
    for name, m in data["metrics"].items():
        for side in ("a", "b"):
            d = m.get(side) if isinstance(m, dict) else None
            bins = d.get("bins") if isinstance(d, dict) else None
            if (not isinstance(bins, list) or not all(isinstance(b, list) and len(b) == 3 and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) for x in b) for b in bins)
                    or sum(b[2] for b in bins) <= 0):
                fail("%s: metrics.%s.%s: expected a distribution with bins [[lo, hi, n], ...] and samples"
                     % (src, name, side))


def main():
    if len(sys.argv) != 3:
        fail("usage: plot-cdf.py IN.json OUT.png|OUT.svg")
    src, out = sys.argv[1], sys.argv[2]
    if not (out.endswith(".png") or out.endswith(".svg")):
        fail("%s: expected an output name ending in .png or .svg" % out)
    try:
        with open(src) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: expected a JSON object with \"metrics\": %s" % (src, e))
    check(data, src)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is not installed for /usr/bin/python3 (apt-get install python3-matplotlib)", 3)
    # The same input gives the same bytes (as scripts/sweep's figures): an
    # SVG carried the time it was drawn and ids from a random salt.
    plt.rcParams["svg.hashsalt"] = "tunsim-diff"
    fig = draw(data, plt)
    try:
        fig.savefig(out, metadata={"Date": None} if out.endswith(".svg") else None)
    except OSError as e:
        fail("%s: cannot write: %s" % (out, e))


if __name__ == "__main__":
    main()
