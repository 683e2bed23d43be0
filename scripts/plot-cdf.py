#!/usr/bin/python3
"""Overlaid CDFs of two sets of tunsim distributions (used by `tunsim diff --plot`).

usage: plot-cdf.py IN.json OUT.png|OUT.svg

IN.json: {"a_label": str, "b_label": str,
          "metrics": {NAME: {"a": DIST, "b": DIST, "ks": x, "wasserstein": x}}}
where DIST is tunsim::Dist::to_json() ({"kind", "count", "bins": [[lo, hi, n], ...], ...}).
The CDF is drawn at bin edges, linear inside a bin, as Dist::cdf evaluates it.
Errors: one line on stderr, exit 2 (bad input) or 3 (matplotlib missing).
"""
import json
import sys


def fail(msg, status=2):
    sys.stderr.write("plot-cdf.py: %s\n" % msg)
    sys.exit(status)


def cdf_points(dist):
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


def main():
    if len(sys.argv) != 3:
        fail("usage: plot-cdf.py IN.json OUT.png|OUT.svg")
    src, out = sys.argv[1], sys.argv[2]
    if not (out.endswith(".png") or out.endswith(".svg")):
        fail("%s: expected an output name ending in .png or .svg" % out)
    try:
        with open(src) as f:
            data = json.load(f)
        metrics = data["metrics"]
    except (OSError, ValueError, KeyError) as e:
        fail("%s: expected a JSON object with \"metrics\": %s" % (src, e))
    if not metrics:
        fail("%s: no distribution to plot" % src)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is not installed for /usr/bin/python3 (apt-get install python3-matplotlib)", 3)

    names = list(metrics)
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.8 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        m = metrics[name]
        for side, label, style in (("a", data.get("a_label", "A"), "-"), ("b", data.get("b_label", "B"), "--")):
            xs, ys = cdf_points(m[side])
            ax.plot(xs, ys, style, label="%s (n=%d)" % (label, m[side].get("count", 0)))
        if m["a"].get("kind") == "log" and min(cdf_points(m["a"])[0] + cdf_points(m["b"])[0]) > 0:
            ax.set_xscale("log")
        ax.set_title("%s   KS %.3g   W %.3g" % (name, m.get("ks", float("nan")), m.get("wasserstein", float("nan"))),
                     fontsize=9)
        ax.set_ylabel("CDF")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    try:
        fig.savefig(out)
    except OSError as e:
        fail("%s: cannot write: %s" % (out, e))


if __name__ == "__main__":
    main()
