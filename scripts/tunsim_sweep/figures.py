"""The figures of a sweep, one function each (drawn by report.plot_sweep)."""

import matplotlib.ticker

from .plotting import (CPU_PARTS, apply_xscale, auto_log, finish, fmt_val, get, idle_cpus, line_plot,
                       mark_capacity, num, panels, plt, save, stats)


def _legend(ax, g, source=None):
    """The series legend of a row of panels, right of its last panel (ax), taken from source
    (default ax): outside the data, whatever their shape."""
    handles, labels = (source or ax).get_legend_handles_labels()
    if handles and (len(g.groups) > 1 or g.series or len(handles) > 1):
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)


def fig_throughput(g, plan, versions, figdir, files):
    fig, axs = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, metric, unit in ((axs[0], "throughput_mpps", "Mpps"), (axs[1], "throughput_gbps", "Gbit/s")):
        line_plot(ax, g, metric)
        if metric == "throughput_mpps":
            mark_capacity(ax, g, g.x)
        apply_xscale(ax, g)
        ax.set_xlabel(g.label(g.x))
        ax.set_ylabel("throughput delivered, %s" % unit)
        top = max([max(l.get_ydata(), default=0) for l in ax.lines] + [0])
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        ax.grid(True, alpha=0.3)
    axs[0].set_title("packets", fontsize=10)
    axs[1].set_title("bits (frame bytes x 8)", fontsize=10)
    _legend(axs[1], g, source=axs[0])
    fig.suptitle("%s: throughput" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "throughput", plan, versions, "throughput", files)


def fig_latency(g, plan, versions, figdir, files):
    xcol = g.cfg.get("latency_x", g.x)
    qs = [("latency_us.p50", "median (p50)"), ("latency_us.p99", "p99"), ("latency_us.p999", "p99.9")]
    fig, axs = plt.subplots(1, 3, figsize=(13, 4.4), sharey=True)
    for ax, (metric, name) in zip(axs, qs):
        line_plot(ax, g, metric, xcol=xcol)
        mark_capacity(ax, g, xcol)
        apply_xscale(ax, g, xcol)
        ax.set_xlabel(g.label(xcol))
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title("latency %s" % name, fontsize=10)
    auto_log(axs[0], "y", "latency from guest TX to netif_receive_skb done, us")
    _legend(axs[-1], g, source=axs[0])
    fig.suptitle("%s: latency percentiles" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "latency", plan, versions, "latency percentiles", files)


def fig_softirq(g, plan, versions, figdir, files):
    fig, axs = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, metric, name in ((axs[0], "softirq.time_squeeze", "time_squeeze (budget or time limit hit)"),
                             (axs[1], "softirq.ksoftirqd_wakeups", "ksoftirqd wake-ups"),
                             (axs[2], "napi.budget_exhausted", "NAPI polls that used their whole weight")):
        line_plot(ax, g, metric)
        mark_capacity(ax, g, g.x)
        apply_xscale(ax, g)
        ax.set_xlabel(g.label(g.x))
        ax.set_ylabel("count in the run")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.set_title(name, fontsize=10)
    _legend(axs[-1], g, source=axs[0])
    fig.suptitle("%s: softirq hand-off counters" % plan["name"], fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "softirq", plan, versions, "softirq counters", files)


def ccdf(summaries):
    """(latency us, fraction of packets slower) at the upper edge of every bin of the summaries'
    latency distributions (latency_ns, seeds pooled), or None when a summary lacks it."""
    bins = {}
    for s in summaries:
        b = get(s, "latency_ns.bins")
        if not isinstance(b, list):
            return None
        for lo, hi, n in b:
            bins[(lo, hi)] = bins.get((lo, hi), 0) + n
    total = sum(bins.values())
    if not total:
        return None
    xs, ys, above = [], [], total
    for lo, hi in sorted(bins):
        above -= bins[(lo, hi)]
        if above <= 0:
            break
        xs.append(hi / 1000.0)
        ys.append(above / total)
    return xs, ys, total


def fig_latency_cdf(g, plan, versions, figdir, files):
    at = g.at_values()
    quant = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]
    fig, axs = panels(len(g.groups))
    exact = True
    for ax, (key, byx) in zip(axs, g.groups.items()):
        floor = 1.0
        for v in at:
            rows = g.at_rows(byx, v)
            if not rows:
                continue
            lab = "%s = %s" % (g.short(g.at_col), fmt_val(v))
            c = ccdf([s for pt, s in rows])
            mx = stats([num(get(s, "latency_us.max")) for pt, s in rows])[0]
            if c:
                xs, ys, total = c
                ax.step(xs, ys, where="post", label=lab)
                floor = min(floor, 0.5 / total)
                if mx:
                    ax.plot([mx], [1.0 / total], marker="x", color=ax.lines[-1].get_color(), ms=6)
                continue
            exact = False
            lat = [(m, 1 - p) for m, p in ((stats([num(get(s, "latency_us." + q)) for pt, s in rows])[0], p)
                                           for q, p in quant) if m]
            if lat:
                ax.plot([l for l, _ in lat], [p for _, p in lat], marker="o", ms=4, label=lab)
                floor = min(floor, 1e-4)
                if mx:
                    ax.plot([mx], [lat[-1][1] / 10], marker="x", color=ax.lines[-1].get_color(), ms=6)
        auto_log(ax, "x", "latency, us")
        ax.set_yscale("log")
        ax.set_ylim(floor * 0.7, 1.3)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(g.slabel(key), fontsize=10)
        ax.set_ylabel("fraction of packets slower (log)")
        if ax.lines:
            ax.legend(fontsize=7)
    how = ("each point's latency distribution, seeds pooled; a cross marks the maximum" if exact else
           "each point's p50, p90, p99, p99.9; crosses mark the maximum")
    fig.suptitle("%s: latency tail (CCDF) from %s" % (plan["name"], how), fontsize=11)
    finish(fig, plan, versions, 1)
    save(fig, figdir, "latency_cdf", plan, versions, "latency CCDF", files)


def fig_cpu(g, plan, versions, figdir, files):
    ncpu = max(len(s.get("cpu", [])) for pt, s in g.rows)
    idle = idle_cpus(g.rows)
    # By default leave out the CPUs that are idle in every point (and say so).
    cpus = g.cfg.get("cpus") or [c for c in range(ncpu) if c not in idle] or list(range(ncpu))
    hidden = [c for c in range(ncpu) if c not in cpus]
    cells = [(key, byx, cpu) for key, byx in g.groups.items() for cpu in cpus]
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
            vals = [100 * (stats([num(get(s, "cpu.%d.%s_frac" % (cpu, part))) for pt, s in byx[x]])[0] or 0)
                    for x in xs]
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


def fig_batch(g, plan, versions, figdir, files):
    at = g.at_values()
    fig, axs = panels(len(g.groups))
    for ax, (key, byx) in zip(axs, g.groups.items()):
        for v in at:
            bins = {}
            total = 0
            for pt, s in g.at_rows(byx, v):
                for lo, hi, n in s.get("batch", {}).get("bins", []):
                    bins[(lo, hi)] = bins.get((lo, hi), 0) + n
                    total += n
            if not total:
                continue
            edges = sorted(bins)
            ax.bar([lo for lo, hi in edges], [bins[e] / total for e in edges], width=[hi - lo for lo, hi in edges],
                   align="edge", alpha=0.55, edgecolor="black", linewidth=0.4,
                   label="%s = %s (%d batches)" % (g.short(g.at_col), fmt_val(v), total))
        his = [p.get_x() + p.get_width() for c in ax.containers for p in c]
        ax.set_xlim(0, max(his + [8]) * 1.05)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
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
