"""Figures and the one-page report of a tunsim sweep (called by `scripts/sweep plot`).

Needs matplotlib (Debian's python3-matplotlib, run with /usr/bin/python3).
Input: the sweep plan (results/NAME/plan.json) and the finished point summaries.
Output: results/NAME/figures/*.png and *.svg, figures/meta.json, report.md.
Points that differ only in the seed are averaged; error bars span the seeds'
minimum and maximum.
"""

import datetime
import json
import os
import platform
import socket
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

CPU_PARTS = [("process", "process (sender / app)", "#4c72b0"), ("softirq", "softirq (inline)", "#dd8452"),
             ("ksoftirqd", "ksoftirqd", "#c44e52"), ("idle", "idle", "#d9d9d9")]

# Readable axis labels for the usual key paths (a sweep's axis "label" wins).
KNOWN_LABELS = {
    "tun.rx_frames": "tun rx_frames (ethtool -C rx-frames), packets",
    "kernel.netdev_budget": "net.core.netdev_budget, packets",
    "kernel.napi_weight": "NAPI weight, packets",
    "kernel.dev_weight": "net.core.dev_weight, packets",
    "senders.0.guest.rate_mpps": "offered load, Mpps",
    "senders.0.frame_bytes": "frame size, bytes",
    "senders.0.vhost.msg_more": "MSG_MORE",
    "throughput_mpps": "throughput, Mpps",
    "throughput_gbps": "throughput, Gbit/s",
    "design": "design",
    "seed": "seed",
}


def num(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def fmt_val(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "%g" % v
    return str(v)


def get(summary, dotted):
    cur = summary
    for part in dotted.split("."):
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(cur, dict):
            if part not in cur:
                return None
            cur = cur[part]
        else:
            return None
    return cur


class Groups:
    """Points grouped by (series key, x value), seeds pooled."""

    def __init__(self, plan, rows):
        axes = [a["name"] for a in plan["axes"]]
        pcfg = plan.get("plot", {}) or {}
        self.axes = axes
        self.labels = {a["name"]: a.get("label") or a["name"] for a in plan["axes"]}
        numeric_axes = [a["name"] for a in plan["axes"]
                        if all(num(v) is not None for v in a["values"]) and len(a["values"]) > 1]
        # Without axes the seeds are the only thing that varies: plot against them.
        self.x = pcfg.get("x") or (numeric_axes[0] if numeric_axes else (axes[0] if axes else "seed"))
        if "series" in pcfg:
            self.series = list(pcfg["series"])
        else:
            self.series = [a for a in axes if a != self.x and len(set(map(fmt_val, plan_values(plan, a)))) > 1]
        self.rows = rows
        self.cfg = pcfg

    def xval(self, pt, s, col=None):
        col = col or self.x
        if col == "seed":
            return pt["seed"]
        if col in pt["values"]:
            return pt["values"][col]
        return get(s, col)

    def skey(self, pt):
        return tuple(pt["values"].get(c) for c in self.series)

    def slabel(self, key):
        if not self.series:
            return "all points"
        parts = []
        for c, v in zip(self.series, key):
            if c == "design":
                parts.append(fmt_val(v))
            else:
                parts.append("%s=%s" % (self.short(c), fmt_val(v)))
        return ", ".join(parts)

    def grouped(self):
        """{series key: {x: [summary, ...]}} keeping first-seen order."""
        out = {}
        for pt, s in self.rows:
            x = self.xval(pt, s)
            out.setdefault(self.skey(pt), {}).setdefault(x if num(x) is None else num(x), []).append((pt, s))
        return out

    def style(self, key):
        """Colour by the first series column; marker and dash by the second, so that lines that
        coincide stay distinguishable."""
        if not hasattr(self, "_firsts"):
            self._firsts, self._seconds = [], []
        a = key[0] if key else None
        b = key[1:] if len(key) > 1 else None
        if a not in self._firsts:
            self._firsts.append(a)
        if b not in self._seconds:
            self._seconds.append(b)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        if b is None:
            return {"color": colors[self._firsts.index(a) % len(colors)], "marker": "o", "markersize": 4}
        j = self._seconds.index(b)
        return {"color": colors[self._firsts.index(a) % len(colors)], "marker": "osD^v<>"[j % 7],
                "linestyle": ["-", "--", ":", "-."][j % 4], "markersize": 7 - 1.5 * (j % 3), "mfc": "none" if j else None}

    def short(self, col):
        """A short name for legends: the last component of the key path."""
        return {"senders.0.vhost.msg_more": "MSG_MORE", "throughput_mpps": "Mpps",
                "senders.0.guest.rate_mpps": "offered Mpps"}.get(col, col.split(".")[-1])

    def label(self, col):
        if col in self.labels and self.labels[col] != col:
            return self.labels[col]
        return KNOWN_LABELS.get(col, col)


def plan_values(plan, name):
    for a in plan["axes"]:
        if a["name"] == name:
            return a["values"]
    return []


def stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return sum(vals) / len(vals), min(vals), max(vals)


def x_positions(xs):
    """Numeric x values stay numeric; other values are placed at 0..n-1 with tick labels."""
    if all(num(x) is not None for x in xs):
        return [num(x) for x in xs], None
    return list(range(len(xs))), [fmt_val(x) for x in xs]


def auto_log(ax, axis, label):
    """Log scale with plain-number tick labels when the data span a decade or more, else linear."""
    vals = []
    for l in ax.lines:
        vals += [v for v in (l.get_xdata() if axis == "x" else l.get_ydata()) if v is not None and v > 0]
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    target = ax.xaxis if axis == "x" else ax.yaxis
    setlab = ax.set_xlabel if axis == "x" else ax.set_ylabel
    if vals and max(vals) / min(vals) >= 10:
        setter("log")
        fmt = matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v)
        target.set_major_formatter(fmt)
        decades = __import__("math").log10(max(vals) / min(vals))
        if decades < 2.5:
            target.set_minor_formatter(matplotlib.ticker.FuncFormatter(
                lambda v, _: ("%g" % v) if round(v / 10 ** __import__("math").floor(
                    __import__("math").log10(v) + 1e-9)) in (2, 5) else ""))
        setlab(label + " (log)")
    else:
        setlab(label)
        if axis == "y":
            ax.set_ylim(bottom=0)


def finish(fig, plan, versions, top=1.0):
    """Lay the figure out above a provenance footer (tunsim version, sweep file, base, fixed settings)."""
    fixed = ", ".join("%s=%s" % (k, fmt_val(v)) for k, v in (plan.get("set") or {}).items())
    text = "tunsim %s | sweep %s | base %s%s | %d seed(s) per point" % (
        "/".join(versions) or "?", plan["sweep_file"], plan["base"], (" | set " + fixed) if fixed else "",
        len(plan.get("seeds", [1])))
    width = int(fig.get_figwidth() * 17)  # characters of 6.5 pt text per inch, with a margin
    lines = textwrap.wrap(text, width)
    fig.text(0.005, 0.005, "\n".join(lines), fontsize=6.5, color="#555555", ha="left", va="bottom")
    bottom = (0.05 + 0.12 * len(lines)) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, top))


def save(fig, figdir, stem, plan, versions, title, files):
    desc = "tunsim %s; sweep %s; base %s" % ("/".join(versions), plan["sweep_file"], plan["base"])
    png = os.path.join(figdir, stem + ".png")
    svg = os.path.join(figdir, stem + ".svg")
    fig.savefig(png + ".tmp.png", dpi=120, metadata={"Title": title, "Description": desc, "Software": "scripts/sweep"})
    os.replace(png + ".tmp.png", png)
    fig.savefig(svg + ".tmp.svg", metadata={"Title": title, "Description": desc, "Date": None})
    os.replace(svg + ".tmp.svg", svg)
    plt.close(fig)
    files += [png, svg]


def line_plot(ax, g, groups, metric, xcol=None, marker="o", scale=1.0, label_fn=None):
    xcol = xcol or g.x
    any_cat = None
    for key, byx in groups.items():
        pts = []
        for x, lst in byx.items():
            xs = [g.xval(pt, s, xcol) for pt, s in lst]
            ys = [get(s, metric) for pt, s in lst]
            xm = stats([num(v) for v in xs])[0] if all(num(v) is not None for v in xs) else xs[0]
            m, lo, hi = stats([num(y) for y in ys])
            if m is None:
                continue
            pts.append((xm, m * scale, lo * scale, hi * scale, x))
        if not pts:
            continue
        # Connect the points in the order of the sweep's x axis (also when plotting against a
        # metric such as the throughput, which can turn back at overload).
        if all(num(p[4]) is not None for p in pts):
            pts.sort(key=lambda p: num(p[4]))
        xp, cats = x_positions([p[0] for p in pts])
        if cats:
            any_cat = cats
        ys = [p[1] for p in pts]
        err = [[max(0.0, p[1] - p[2]) for p in pts], [max(0.0, p[3] - p[1]) for p in pts]]
        lab = label_fn(key) if label_fn else g.slabel(key)
        style = g.style(key)
        if cats:  # categories (e.g. designs) on x: points, no connecting line
            style = dict(style, linestyle="none", markersize=7)
        # Always an errorbar container (empty bars when the seeds agree), so that
        # legends list the series in the same order in every figure.
        ax.errorbar(xp, ys, yerr=err if any(e > 0 for e in err[0] + err[1]) else None, capsize=2, label=lab,
                    **style)
    if any_cat:
        ax.set_xticks(range(len(any_cat)))
        ax.set_xticklabels(any_cat, rotation=30, ha="right")


def apply_xscale(ax, g, xcol=None):
    sc = g.cfg.get("xscale")
    if sc and (xcol is None or xcol == g.x):
        if sc == "log2":
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        elif sc == "symlog":
            ax.set_xscale("symlog", linthresh=g.cfg.get("linthresh", 1))
        else:
            ax.set_xscale(sc)


def fig_throughput(g, groups, plan, versions, figdir, files):
    fig, axs = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, metric, unit in ((axs[0], "throughput_mpps", "Mpps"), (axs[1], "throughput_gbps", "Gbit/s")):
        line_plot(ax, g, groups, metric)
        apply_xscale(ax, g)
        ax.set_xlabel(g.label(g.x))
        ax.set_ylabel("throughput delivered, %s" % unit)
        top = max([max(l.get_ydata(), default=0) for l in ax.lines] + [0])
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        ax.grid(True, alpha=0.3)
    axs[0].set_title("packets", fontsize=10)
    axs[1].set_title("bits (frame bytes x 8)", fontsize=10)
    if len(groups) > 1 or g.series:
        axs[0].legend(fontsize=8)
    fig.suptitle("%s: throughput" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "throughput", plan, versions, "throughput", files)


def fig_latency(g, groups, plan, versions, figdir, files):
    xcol = g.cfg.get("latency_x", g.x)
    qs = [("latency_us.p50", "median (p50)"), ("latency_us.p99", "p99"), ("latency_us.p999", "p99.9")]
    fig, axs = plt.subplots(1, 3, figsize=(13, 4.4), sharey=True)
    for ax, (metric, name) in zip(axs, qs):
        line_plot(ax, g, groups, metric, xcol=xcol)
        apply_xscale(ax, g, xcol)
        ax.set_xlabel(g.label(xcol))
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title("latency %s" % name, fontsize=10)
    auto_log(axs[0], "y", "latency from guest TX to netif_receive_skb done, us")
    handles, labels = axs[0].get_legend_handles_labels()
    if handles and (len(groups) > 1 or g.series):
        axs[-1].legend(handles, labels, fontsize=8, loc="best")
    fig.suptitle("%s: latency percentiles" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "latency", plan, versions, "latency percentiles", files)


def fig_softirq(g, groups, plan, versions, figdir, files):
    fig, axs = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, metric, name in ((axs[0], "softirq.time_squeeze", "time_squeeze (budget or time limit hit)"),
                             (axs[1], "softirq.ksoftirqd_wakeups", "ksoftirqd wake-ups"),
                             (axs[2], "napi.budget_exhausted", "NAPI polls that used their whole weight")):
        line_plot(ax, g, groups, metric)
        apply_xscale(ax, g)
        ax.set_xlabel(g.label(g.x))
        ax.set_ylabel("count in the run")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.set_title(name, fontsize=10)
    if len(groups) > 1 or g.series:
        axs[-1].legend(fontsize=8)
    fig.suptitle("%s: softirq hand-off counters" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "softirq", plan, versions, "softirq counters", files)


def chosen_x(g, groups):
    """x values shown in the per-point figures (CDF, histograms): plot.at, else first, middle, last."""
    allx = []
    for byx in groups.values():
        for x in byx:
            if x not in allx:
                allx.append(x)
    if all(num(x) is not None for x in allx):
        allx.sort()
    want = g.cfg.get("at")
    if want:
        sel = [x for x in allx if any(fmt_val(x) == fmt_val(w) or num(x) == num(w) for w in want)]
        if sel:
            return sel
    if len(allx) <= 3:
        return allx
    return [allx[0], allx[len(allx) // 2], allx[-1]]


def panels(n, w=4.4, h=3.4, maxcols=3):
    cols = min(n, maxcols)
    rows = (n + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(w * cols + 0.6, h * rows + 0.8), squeeze=False)
    flat = [a for r in axs for a in r]
    for a in flat[n:]:
        a.set_visible(False)
    return fig, flat[:n]


def fig_latency_cdf(g, groups, plan, versions, figdir, files):
    xs = chosen_x(g, groups)
    quant = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]
    fig, axs = panels(len(groups))
    for ax, (key, byx) in zip(axs, groups.items()):
        for x in xs:
            if x not in byx:
                continue
            lat = []
            for q, p in quant:
                m = stats([num(get(s, "latency_us." + q)) for pt, s in byx[x]])[0]
                if m is not None and m > 0:
                    lat.append((m, 1 - p))
            if lat:
                ax.plot([l for l, _ in lat], [p for _, p in lat], marker="o", ms=4,
                        label="%s = %s" % (g.short(g.x), fmt_val(x)))
                mx = stats([num(get(s, "latency_us.max")) for pt, s in byx[x]])[0]
                if mx:
                    ax.plot([mx], [lat[-1][1] / 10], marker="x", color=ax.lines[-1].get_color(), ms=6)
        auto_log(ax, "x", "latency, us")
        ax.set_yscale("log")
        ax.set_ylim(0.7e-4, 0.7)
        ax.set_yticks([0.5, 0.1, 0.01, 0.001, 1e-4])
        ax.set_yticklabels(["0.5", "0.1", "0.01", "0.001", "max"])
        ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(g.slabel(key), fontsize=10)
        ax.set_ylabel("fraction of packets slower (log)")
        ax.legend(fontsize=7)
    fig.suptitle("%s: latency tail (CCDF) from each point's p50, p90, p99, p99.9; crosses mark the maximum" % plan["name"],
                 fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "latency_cdf", plan, versions, "latency CCDF", files)


def fig_cpu(g, groups, plan, versions, figdir, files):
    ncpu = max(len(s.get("cpu", [])) for pt, s in g.rows)
    idle = [c for c in range(ncpu)
            if all((num(get(s, "cpu.%d.idle_frac" % c)) or 0) >= 0.999 for pt, s in g.rows)]
    # By default leave out the CPUs that are idle in every point (and say so).
    cpus = g.cfg.get("cpus") or [c for c in range(ncpu) if c not in idle] or list(range(ncpu))
    hidden = [c for c in range(ncpu) if c not in cpus]
    cells = [(key, byx, cpu) for key, byx in groups.items() for cpu in cpus]
    ncols = len(cpus) if len(cpus) > 1 else min(3, len(cells))
    nrows = (len(cells) + ncols - 1) // ncols
    fig, axs = plt.subplots(nrows, ncols, figsize=(4.6 * ncols + 0.8, 2.7 * nrows + 1.3), squeeze=False,
                            sharey=True)
    flat = [a for r in axs for a in r]
    for a in flat[len(cells):]:
        a.set_visible(False)
    for i, (key, byx, cpu) in enumerate(cells):
        ax = flat[i]
        xs = list(byx.keys())
        if all(num(x) is not None for x in xs):
            xs.sort()
        bottom = [0.0] * len(xs)
        for part, name, color in CPU_PARTS:
            vals = []
            for x in xs:
                m = stats([num(get(s, "cpu.%d.%s_frac" % (cpu, part))) for pt, s in byx[x]])[0]
                vals.append(100 * (m or 0))
            ax.bar(range(len(xs)), vals, bottom=bottom, color=color, label=name, width=0.8)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels([fmt_val(x) for x in xs], fontsize=7, rotation=45 if len(xs) > 8 else 0)
        ax.set_ylim(0, 100)
        ax.set_title("cpu%d, %s" % (cpu, g.slabel(key)), fontsize=9)
        if i % ncols == 0:
            ax.set_ylabel("share of CPU time, %")
        if i + ncols >= len(cells):
            ax.set_xlabel(g.label(g.x))
    handles, labels = flat[0].get_legend_handles_labels()
    top_in = 0.75  # inches above the panels for the title and the legend
    note = ""
    if hidden:
        note = "; not shown: %s (%s)" % (", ".join("cpu%d" % c for c in hidden),
                                        "idle throughout" if all(c in idle for c in hidden) else "plot.cpus")
    fig.suptitle("%s: CPU time split per CPU (the senders run on %s%s)" % (plan["name"], senders_cpus(g), note),
                 fontsize=11, y=1 - 0.12 / fig.get_figheight())
    fig.legend(handles, labels, loc="upper center", fontsize=8, ncol=4,
               bbox_to_anchor=(0.5, 1 - 0.38 / fig.get_figheight()))
    finish(fig, plan, versions, 1 - top_in / fig.get_figheight())
    save(fig, figdir, "cpu_split", plan, versions, "CPU time split", files)


def senders_cpus(g):
    s = g.rows[0][1]
    cpus = sorted({snd.get("cpu") for snd in (s.get("config_resolved", {}).get("senders") or [])
                   if snd.get("cpu") is not None})
    return ", ".join("cpu%d" % c for c in cpus) or "?"


def fig_batch(g, groups, plan, versions, figdir, files):
    xs = chosen_x(g, groups)
    fig, axs = panels(len(groups))
    kinds = set()
    for ax, (key, byx) in zip(axs, groups.items()):
        for x in xs:
            if x not in byx:
                continue
            bins = {}
            total = 0
            for pt, s in byx[x]:
                for lo, hi, n in s.get("batch", {}).get("bins", []):
                    bins[(lo, hi)] = bins.get((lo, hi), 0) + n
                    total += n
            kinds.add(s.get("batch", {}).get("kind", ""))
            if not total:
                continue
            edges = sorted(bins)
            ax.bar([lo for lo, hi in edges], [bins[e] / total for e in edges], width=[hi - lo for lo, hi in edges],
                   align="edge", alpha=0.55, edgecolor="black", linewidth=0.4,
                   label="%s = %s (%d batches)" % (g.short(g.x), fmt_val(x), total))
        his = [p.get_x() + p.get_width() for c in ax.containers for p in c]
        ax.set_xlim(0, max(his + [8]) * 1.05)
        ax.set_xlabel("packets per NAPI poll / rx_batched flush")
        ax.set_ylabel("fraction of polls / flushes")
        ax.set_ylim(0, 1.05)
        ax.grid(True, alpha=0.3)
        ax.set_title(g.slabel(key), fontsize=10)
        if ax.containers:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no polls or flushes\n(design without batching)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9, color="#555555")
    fig.suptitle("%s: packets per poll" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "batch_hist", plan, versions, "packets per poll", files)


TABLE = [("throughput_mpps", "Mpps", "%.4f"), ("packets.delivered", "delivered", "%d"),
         ("packets.dropped_total", "dropped", "%d"), ("latency_us.p50", "lat p50 us", "%.1f"),
         ("latency_us.p99", "lat p99 us", "%.1f"), ("latency_us.p999", "lat p99.9 us", "%.1f"),
         ("batch.mean", "pkts/poll", "%.2f"), ("napi.polls", "polls", "%d"),
         ("napi.budget_exhausted", "budget exh.", "%d"), ("softirq.time_squeeze", "squeeze", "%d"),
         ("softirq.ksoftirqd_wakeups", "ksoftirqd wakeups", "%d")]


def report(plan, root, rows, g, groups, versions, figs, meta):
    ncpu = max(len(s.get("cpu", [])) for pt, s in rows)
    cols = list(TABLE)
    for c in range(ncpu):
        for part in ("process", "softirq", "ksoftirqd", "idle"):
            cols.append(("cpu.%d.%s_frac" % (c, part), "cpu%d %s %%" % (c, part), "%.1f"))
    axis_names = [a["name"] for a in plan["axes"]]
    # One row per distinct axis combination, seeds averaged, in plan order.
    combos = {}
    for pt, s in rows:
        k = tuple(fmt_val(pt["values"].get(a)) for a in axis_names)
        combos.setdefault(k, []).append(s)
    out = []
    out.append("# Sweep %s\n" % plan["name"])
    if plan.get("description"):
        out.append(plan["description"] + "\n")
    out.append("| | |\n|---|---|")
    out.append("| sweep file | `%s` |" % plan["sweep_file"])
    out.append("| base scenario | `%s` (sha256 %s...) |" % (plan["base"], plan.get("base_sha256", "")[:12]))
    fixed = ", ".join("`%s=%s`" % (k, fmt_val(v)) for k, v in (plan.get("set") or {}).items())
    out.append("| fixed settings | %s |" % (fixed or "none"))
    out.append("| axes (%s) | %s |" % (plan["combine"], "; ".join(
        "`%s`%s: %s" % (a["name"], "" if a.get("path") else " (label only)", ", ".join(fmt_val(v) for v in a["values"]))
        for a in plan["axes"]) or "none"))
    out.append("| seeds | %s |" % ", ".join(str(s) for s in plan.get("seeds", [])))
    out.append("| points finished | %d of %d |" % (len(rows), len(plan["points"])))
    out.append("| tunsim version | %s (binary sha256 %s...) |" % (", ".join(versions), (plan.get("tunsim_sha256") or "?")[:12]))
    out.append("| generated | %s on %s (%s) |" % (meta["generated_utc"], meta["host"]["name"], meta["host"]["machine"]))
    out.append("")
    out.append("Simulated results: every number comes from the summaries in `points/` "
               "(one per point and seed; `points.csv` has every metric). Error bars span the seeds.\n")
    titles = {"throughput": "Throughput", "latency": "Latency percentiles", "latency_cdf": "Latency tail",
              "cpu_split": "CPU time split", "softirq": "Softirq hand-off to ksoftirqd",
              "batch_hist": "Packets per poll"}
    for stem in ["throughput", "latency", "latency_cdf", "cpu_split", "softirq", "batch_hist"]:
        if os.path.join(root, "figures", stem + ".png") in figs:
            out.append("## %s\n" % titles[stem])
            out.append("![%s](figures/%s.png)\n" % (titles[stem], stem))
            out.append("([SVG](figures/%s.svg))\n" % stem)
    out.append("## Numbers (mean over seeds)\n")
    head = [a for a in axis_names] + [c[1] for c in cols]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" for _ in head) + "|")
    for k, ss in combos.items():
        cells = list(k)
        for key, name, f in cols:
            m = stats([num(get(s, key)) for s in ss])[0]
            if m is None:
                cells.append("")
            else:
                if key.startswith("cpu."):
                    m *= 100
                cells.append(f % (round(m) if f == "%d" else m))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)


def plot_sweep(plan, root, rows):
    figdir = os.path.join(root, "figures")
    os.makedirs(figdir, exist_ok=True)
    versions = sorted({str(s.get("tunsim_version", "?")) for pt, s in rows})
    g = Groups(plan, rows)
    groups = g.grouped()
    files = []
    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "tunsim-sweep"})
    fig_throughput(g, groups, plan, versions, figdir, files)
    fig_latency(g, groups, plan, versions, figdir, files)
    fig_latency_cdf(g, groups, plan, versions, figdir, files)
    fig_cpu(g, groups, plan, versions, figdir, files)
    fig_softirq(g, groups, plan, versions, figdir, files)
    fig_batch(g, groups, plan, versions, figdir, files)

    base_cfg = None
    bpath = plan["base"] if os.path.isabs(plan["base"]) else os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), plan["base"])
    try:
        with open(bpath, encoding="utf-8") as f:
            base_cfg = json.load(f)
    except (OSError, ValueError):
        pass
    meta = {
        "sweep_file": plan["sweep_file"],
        "sweep_name": plan["name"],
        "description": plan.get("description", ""),
        "base": plan["base"],
        "base_sha256": plan.get("base_sha256"),
        "base_config": base_cfg,
        "set": plan.get("set"),
        "combine": plan["combine"],
        "axes": plan["axes"],
        "seeds": plan.get("seeds"),
        "plot": plan.get("plot", {}),
        "tunsim_version": versions,
        "tunsim_sha256": plan.get("tunsim_sha256"),
        "points_finished": len(rows),
        "points_total": len(plan["points"]),
        "x": g.x,
        "series": g.series,
        "generated_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": {"name": socket.gethostname(), "machine": "%s, %d CPUs" % (platform.machine(), os.cpu_count() or 0)},
        "matplotlib": matplotlib.__version__,
        "figures": sorted(os.path.basename(f) for f in files),
    }
    text = report(plan, root, rows, g, groups, versions, files, meta)
    for path, content in ((os.path.join(figdir, "meta.json"), json.dumps(meta, indent=2) + "\n"),
                          (os.path.join(root, "report.md"), text)):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(content)
        os.replace(path + ".tmp", path)
    return files
