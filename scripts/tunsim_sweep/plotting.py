"""What the sweep figures share: grouping of the points, styles, axes, saving.

Needs matplotlib (Debian's python3-matplotlib, run with /usr/bin/python3).  Points that
differ only in the seed are pooled: lines show their mean, error bars their minimum and
maximum.
"""

import io
import math
import os
import textwrap

import matplotlib

from .util import write_output

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

CPU_PARTS = [("process", "process (sender / app)", "#4c72b0"), ("softirq", "softirq (inline)", "#dd8452"),
             ("ksoftirqd", "ksoftirqd", "#c44e52"), ("idle", "idle", "#d9d9d9")]
MARKERS = "osD^v<>ph*"
# Readable axis labels for the usual key paths (a sweep's axis "label" wins).
KNOWN_LABELS = {
    "tun.rx_frames": "tun rx_frames (ethtool -C rx-frames), packets",
    "kernel.netdev_budget": "net.core.netdev_budget, packets",
    "kernel.napi_weight": "NAPI weight, packets",
    "kernel.dev_weight": "net.core.dev_weight, packets",
    "senders.0.guest.rate_mpps": "offered load, Mpps",
    "senders.0.frame_bytes": "frame size, bytes",
    "senders.0.vhost.msg_more": "MSG_MORE",
    "throughput_mpps": "throughput delivered, Mpps",
    "throughput_gbps": "throughput delivered, Gbit/s",
    "design": "design",
    "seed": "seed",
}
SHORT = {"senders.0.vhost.msg_more": "MSG_MORE", "throughput_mpps": "Mpps", "senders.0.guest.rate_mpps": "offered Mpps"}
# Two series whose values differ by less than this share of the axis' span are drawn on top of
# each other: they get hollow markers and a note (coincide()).
COINCIDE = 0.005


def num(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def norm(v):
    """A value as a grouping key: numbers as floats (8 and 8.0 are one x), others as they are."""
    return v if num(v) is None else num(v)


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


def stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return sum(vals) / len(vals), min(vals), max(vals)


def plan_values(plan, name):
    for a in plan["axes"]:
        if a["name"] == name:
            return a["values"]
    return []


def idle_cpus(rows):
    """The CPUs idle in every point (left out of the CPU figure and the report's table)."""
    ncpu = max(len(s.get("cpu", [])) for pt, s in rows)
    return [c for c in range(ncpu)
            if all((num(get(s, "cpu.%d.idle_frac" % c)) or 0) >= 0.999 for pt, s in rows)]


class Groups:
    """Points grouped by (series key, x value), seeds pooled, and the plot settings."""

    def __init__(self, plan, rows):
        axes = [a["name"] for a in plan["axes"]]
        pcfg = plan.get("plot", {}) or {}
        self.plan = plan
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
        self.at_col = pcfg.get("at_column") or self.x
        self.rows = rows
        self.cfg = pcfg
        self._firsts, self._seconds = [], []
        self.groups = self.grouped()
        for key in self.groups:  # fix every series' style in first-seen order
            self.style(key)

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
        return ", ".join(fmt_val(v) if c == "design" else "%s=%s" % (self.short(c), fmt_val(v))
                         for c, v in zip(self.series, key))

    def grouped(self):
        """{series key: {x: [(point, summary), ...]}} keeping first-seen order."""
        out = {}
        for pt, s in self.rows:
            x = self.xval(pt, s)
            out.setdefault(self.skey(pt), {}).setdefault(norm(x), []).append((pt, s))
        return out

    def style(self, key):
        """Colour and marker by the first series column, dash and hollow markers by the others,
        so that lines that coincide stay distinguishable."""
        a = key[0] if key else None
        b = key[1:] if len(key) > 1 else None
        if a not in self._firsts:
            self._firsts.append(a)
        if b not in self._seconds:
            self._seconds.append(b)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        i = self._firsts.index(a)
        if b is None:
            return {"color": colors[i % len(colors)], "marker": MARKERS[i % len(MARKERS)], "markersize": 5}
        j = self._seconds.index(b)
        return {"color": colors[i % len(colors)], "marker": MARKERS[(i + j) % len(MARKERS)],
                "linestyle": ["-", "--", ":", "-."][j % 4], "markersize": 7 - 1.5 * (j % 3),
                "mfc": "none" if j else None}

    def short(self, col):
        """A short name for legends: the last component of the key path."""
        return SHORT.get(col, col.split(".")[-1])

    def label(self, col):
        if col in self.labels and self.labels[col] != col:
            return self.labels[col]
        return KNOWN_LABELS.get(col, col)

    def design_of(self, key):
        if "design" in self.series:
            return key[self.series.index("design")]
        d = {fmt_val(v) for v in plan_values(self.plan, "design")}
        return d.pop() if len(d) == 1 else None

    def at_values(self):
        """The values of the at column shown in the per-point figures: plot.at, else the first,
        middle and last value."""
        allv = []
        for pt, s in self.rows:
            v = norm(self.xval(pt, s, self.at_col))
            if v not in allv:
                allv.append(v)
        if all(num(v) is not None for v in allv):
            allv.sort()
        want = self.cfg.get("at")
        if want:
            sel = [v for v in allv if any(fmt_val(v) == fmt_val(w) or (num(v) is not None and num(v) == num(w))
                                          for w in want)]
            if sel:
                return sel
        if len(allv) <= 3:
            return allv
        return [allv[0], allv[len(allv) // 2], allv[-1]]

    def at_rows(self, byx, v):
        """The points of one series whose at column has the value v."""
        return [(pt, s) for lst in byx.values() for pt, s in lst if norm(self.xval(pt, s, self.at_col)) == v]


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
        target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
        if math.log10(max(vals) / min(vals)) < 2.5:
            target.set_minor_formatter(matplotlib.ticker.FuncFormatter(
                lambda v, _: ("%g" % v) if round(v / 10 ** math.floor(math.log10(v) + 1e-9)) in (2, 5) else ""))
        setlab(label + " (log)")
    else:
        setlab(label)
        if axis == "y":
            ax.set_ylim(bottom=0)


def notes_text(fig):
    """The panels' notes on series drawn on top of each other (line_plot), one line per panel."""
    out = []
    for ax in fig.axes:
        notes = getattr(ax, "coincide_notes", None)
        if notes:
            out.append("%s: %s" % (ax.get_title() or "panel", "; ".join(notes)))
    if out:
        out.insert(0, "Series drawn on top of each other (hollow markers):")
    return out


def finish(fig, plan, versions, top=1.0):
    """Lay the figure out above a footer: the notes on series drawn on top of each other, then
    the provenance (tunsim version, sweep file, base, fixed settings)."""
    fixed = ", ".join("%s=%s" % (k, fmt_val(v)) for k, v in (plan.get("set") or {}).items())
    text = "tunsim %s | sweep %s | base %s%s | %d seed(s) per point" % (
        "/".join(versions) or "?", plan["sweep_file"], plan["base"], (" | set " + fixed) if fixed else "",
        len(plan.get("seeds", [1])))
    width = int(fig.get_figwidth() * 17)  # characters of 6.5 pt text per inch
    notes = [w for n in notes_text(fig) for w in textwrap.wrap(n, width)]
    lines = textwrap.wrap(text, width)
    if notes:
        fig.text(0.005, (0.05 + 0.12 * len(lines)) / fig.get_figheight(), "\n".join(notes), fontsize=6.5,
                 color="#222222", ha="left", va="bottom")
    fig.text(0.005, 0.005, "\n".join(lines), fontsize=6.5, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, (0.1 + 0.12 * (len(lines) + len(notes))) / fig.get_figheight(), 1, top))


def save(fig, figdir, stem, plan, versions, title, files):
    desc = "tunsim %s; sweep %s; base %s" % ("/".join(versions), plan["sweep_file"], plan["base"])
    png = os.path.join(figdir, stem + ".png")
    svg = os.path.join(figdir, stem + ".svg")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Title": title, "Description": desc, "Software": "scripts/sweep"})
    write_output(png, buf.getvalue())
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Title": title, "Description": desc, "Date": None})
    write_output(svg, buf.getvalue())
    plt.close(fig)
    files += [png, svg]


def coincide(series):
    """For each series (label, xs, ys), the label of an earlier one it is drawn on top of (same
    x values, y within COINCIDE of the span of all y values), or None."""
    ys_all = [y for _, _, ys in series for y in ys]
    span = (max(ys_all) - min(ys_all)) if ys_all else 0.0
    tol = COINCIDE * span if span > 0 else 1e-12 * max([abs(y) for y in ys_all] + [1.0])
    same = []
    for j, (lab, xs, ys) in enumerate(series):
        hit = None
        for i in range(j):
            li, xi, yi = series[i]
            if xi == xs and all(abs(a - b) <= tol for a, b in zip(yi, ys)):
                hit = same[i] or li
                break
        same.append(hit)
    return same


def line_plot(ax, g, metric, xcol=None, scale=1.0, label_fn=None):
    """One line per series of metric against xcol (seeds pooled: mean, min-max error bars).
    Series drawn on top of each other get larger hollow markers and a note in the panel."""
    xcol = xcol or g.x
    any_cat = None
    todo = []
    for key, byx in g.groups.items():
        pts = []
        for x, lst in byx.items():
            xs = [g.xval(pt, s, xcol) for pt, s in lst]
            xm = stats([num(v) for v in xs])[0] if all(num(v) is not None for v in xs) else xs[0]
            m, lo, hi = stats([num(get(s, metric)) for pt, s in lst])
            if m is not None:
                pts.append((xm, m * scale, lo * scale, hi * scale, x))
        if not pts:
            continue
        # Connect the points in the order of the sweep's x axis (also when plotting against a
        # metric such as the throughput, which can turn back at overload).
        if all(num(p[4]) is not None for p in pts):
            pts.sort(key=lambda p: num(p[4]))
        xp, cats = x_positions([p[0] for p in pts])
        any_cat = cats or any_cat
        todo.append((key, pts, xp, cats, label_fn(key) if label_fn else g.slabel(key)))
    same = coincide([(lab, xp, [p[1] for p in pts]) for key, pts, xp, cats, lab in todo])
    groups = {}  # the first series of a coinciding group -> the others
    for (key, pts, xp, cats, lab), other in zip(todo, same):
        err = [[max(0.0, p[1] - p[2]) for p in pts], [max(0.0, p[3] - p[1]) for p in pts]]
        style = dict(g.style(key))
        if cats:  # categories (e.g. designs) on x: points, no connecting line
            style.update(linestyle="none", markersize=7)
        if other:
            style.update(mfc="none", markersize=style.get("markersize", 5) + 4, markeredgewidth=1.5)
            style.setdefault("linestyle", "--")
            groups.setdefault(other, []).append(lab)
        # Always an errorbar container (empty bars when the seeds agree), so that
        # legends list the series in the same order in every figure.
        ax.errorbar(xp, [p[1] for p in pts], yerr=err if any(e > 0 for e in err[0] + err[1]) else None,
                    capsize=2, label=lab, **style)
    if any_cat:
        ax.set_xticks(range(len(any_cat)))
        ax.set_xticklabels(any_cat, rotation=30, ha="right")
    notes = ["%s (same as: %s)" % (first, ", ".join(_differing(first, o) for o in others))
             for first, others in groups.items()]
    ax.coincide_notes = getattr(ax, "coincide_notes", []) + notes  # in the footer (finish())
    return notes


def _differing(first, other):
    """other without the ", "-separated parts it shares with first: "v1_napi, budget=64"
    next to "v1_napi, budget=8" is "budget=64"."""
    mine = first.split(", ")
    return ", ".join(p for p in other.split(", ") if p not in mine) or other


def mark_capacity(ax, g, xcol):
    """Dotted vertical lines at each design's capacity (the sweep's capacity_mpps) when xcol is
    one of plot.capacity_on (a rate axis in Mpps)."""
    cap = g.plan.get("capacity_mpps") or {}
    if not cap or xcol not in (g.cfg.get("capacity_on") or []):
        return
    first = True
    for key in g.groups:
        d = g.design_of(key)
        if d is None or d not in cap:
            continue
        ax.axvline(cap[d], color=g.style(key)["color"], linestyle=":", linewidth=1.2, zorder=0,
                   label="capacity (closed loop), per design" if first else None)
        first = False


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


def panels(n, w=4.4, h=3.4, maxcols=3):
    cols = min(n, maxcols)
    rows = (n + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(w * cols + 0.6, h * rows + 0.8), squeeze=False)
    flat = [a for r in axs for a in r]
    for a in flat[n:]:
        a.set_visible(False)
    return fig, flat[:n]
