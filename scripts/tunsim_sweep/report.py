"""report.md and figures/meta.json of a sweep, and plot_sweep, which draws everything."""

import datetime
import json
import os
import platform
import socket

import matplotlib

from . import figures
from .plotting import Groups, fmt_val, get, idle_cpus, num, plt, stats
from .util import REPO, write_atomic

TABLE = [("throughput_mpps", "Mpps", "%.4f"), ("packets.delivered", "delivered", "%d"),
         ("packets.dropped_total", "dropped", "%d"), ("latency_us.p50", "lat p50 us", "%.1f"),
         ("latency_us.p99", "lat p99 us", "%.1f"), ("latency_us.p999", "lat p99.9 us", "%.1f"),
         ("batch.mean", "pkts/poll", "%.2f"), ("napi.polls", "polls", "%d"),
         ("napi.budget_exhausted", "budget exh.", "%d"), ("softirq.time_squeeze", "squeeze", "%d"),
         ("softirq.ksoftirqd_wakeups", "ksoftirqd wakeups", "%d")]
TITLES = {"throughput": "Throughput", "latency": "Latency percentiles", "latency_cdf": "Latency tail",
          "cpu_split": "CPU time split", "softirq": "Softirq hand-off to ksoftirqd", "batch_hist": "Packets per poll"}


def report(plan, root, rows, versions, figs, meta):
    ncpu = max(len(s.get("cpu", [])) for pt, s in rows)
    idle = idle_cpus(rows)
    cols = list(TABLE)
    for c in range(ncpu):
        if c in idle:
            continue
        for part in ("process", "softirq", "ksoftirqd", "idle"):
            cols.append(("cpu.%d.%s_frac" % (c, part), "cpu%d %s %%" % (c, part), "%.1f"))
    axis_names = [a["name"] for a in plan["axes"]]
    # One row per distinct axis combination, seeds averaged, in plan order.
    combos = {}
    for pt, s in rows:
        combos.setdefault(tuple(fmt_val(pt["values"].get(a)) for a in axis_names), []).append(s)
    out = ["# Sweep %s\n" % plan["name"]]
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
    if plan.get("capacity_mpps"):
        out.append("| capacity (closed loop) | %s |" % ", ".join(
            "%s %.4f Mpps" % (d, c) for d, c in plan["capacity_mpps"].items()))
    out.append("| points finished | %d of %d |" % (len(rows), len(plan["points"])))
    out.append("| tunsim version | %s (binary sha256 %s...) |" % (", ".join(versions), (plan.get("tunsim_sha256") or "?")[:12]))
    out.append("| generated | %s on %s (%s) |" % (meta["generated_utc"], meta["host"]["name"], meta["host"]["machine"]))
    out.append("")
    out.append("Simulated results: every number comes from the summaries in `points/` "
               "(one per point and seed; `points.csv` has every metric). Error bars span the seeds.\n")
    for stem in ["throughput", "latency", "latency_cdf", "cpu_split", "softirq", "batch_hist"]:
        if os.path.join(root, "figures", stem + ".png") in figs:
            out.append("## %s\n" % TITLES[stem])
            out.append("![%s](figures/%s.png)\n" % (TITLES[stem], stem))
            out.append("([SVG](figures/%s.svg))\n" % stem)
    out.append("## Numbers (mean over seeds)\n")
    if idle:
        out.append("%s idle in every point: not shown.\n" % ", ".join("cpu%d" % c for c in idle))
    head = axis_names + [c[1] for c in cols]
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
    """Draw every figure and write figures/meta.json and report.md; returns the figure files."""
    figdir = os.path.join(root, "figures")
    os.makedirs(figdir, exist_ok=True)
    versions = sorted({str(s.get("tunsim_version", "?")) for pt, s in rows})
    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "tunsim-sweep"})
    g = Groups(plan, rows)
    files = []
    for fn in (figures.fig_throughput, figures.fig_latency, figures.fig_latency_cdf, figures.fig_cpu,
               figures.fig_softirq, figures.fig_batch):
        fn(g, plan, versions, figdir, files)

    base_cfg = None
    bpath = plan["base"] if os.path.isabs(plan["base"]) else os.path.join(REPO, plan["base"])
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
        "capacity_mpps": plan.get("capacity_mpps"),
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
    write_atomic(os.path.join(figdir, "meta.json"), json.dumps(meta, indent=2) + "\n")
    write_atomic(os.path.join(root, "report.md"), report(plan, root, rows, versions, files, meta))
    return files
