"""`scripts/sweep capacity`: the closed-loop throughput of each design (the guest keeps its TX
ring full), and optionally the offered-load sweep at given percentages of it (load.json)."""

import datetime
import json
import math
import os
import shlex
import subprocess
import tempfile

from . import procs
from .errors import SweepError, ToolError
from .sweepfile import check_name
from .tunsim import (batch_env, designs as tunsim_designs, param_range, parse_result, point_error, point_line, version,
                     write_points)
from .util import REPO, rel, set_value, status_text, write_atomic


def parse_set(a):
    if "=" not in a or a.startswith("="):
        raise SweepError("--set %s: expected path.to.key=VALUE" % a)
    k, v = a.split("=", 1)
    try:
        return k, json.loads(v)
    except json.JSONDecodeError:
        return k, v


def git_state():
    try:
        rc, head, _ = procs.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], timeout=60)
        _, dirty, _ = procs.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "sim",
                                 "models"], timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if rc != 0:
        return "unknown"
    return head.strip() + (" with uncommitted changes to sim/ or models/" if dirty.strip() else "")


def measure(tunsim, base, sets, designs, seed, jobs):
    """{design: closed-loop throughput_mpps}, one `tunsim batch` for all designs."""
    with tempfile.TemporaryDirectory(prefix="tunsim-capacity.") as tmp:
        pfile = os.path.join(tmp, "points.jsonl")
        lines = []
        for i, d in enumerate(designs):
            s = sets + ["design=%s" % set_value(d), "senders.0.guest.mode=\"closed\""]
            lines.append(point_line("design%d" % i, base, s, seed, os.path.join(tmp, "design%d.json" % i)))
        write_points(pfile, lines)
        cmd = [tunsim, "batch", pfile, "-j", str(jobs)]
        try:
            rc, out, err = procs.run(cmd, env=batch_env())
        except OSError as e:
            raise ToolError("cannot run %s: %s" % (tunsim, e.strerror or e))
        if rc == 2:
            bad = point_error(pfile, err)
            if bad and 1 <= bad[0] <= len(designs):
                msg = bad[2][len("tunsim: "):] if bad[2].startswith("tunsim: ") else bad[2]
                raise SweepError("capacity of %s: tunsim: %s" % (designs[bad[0] - 1], msg))
        results = {r["id"]: r for r in map(parse_result, out.splitlines()) if r}
        cap = {}
        for i, d in enumerate(designs):
            r = results.get("design%d" % i)
            if not r or r["status"] != "ok":
                why = (r or {}).get("error") or (err.strip().splitlines() or ["tunsim batch exited with %s"
                                                                              % status_text(rc)])[-1]
                raise SweepError("capacity of %s: %s" % (d, why))
            with open(os.path.join(tmp, "design%d.json" % i), encoding="utf-8") as f:
                cap[d] = json.load(f)["throughput_mpps"]
    return cap


def fmt_num(x):
    return "%g" % x


def load_rate(c, p):
    """The offered rate of the load sweep's point at p % of capacity c, in Mpps."""
    return round(c * p / 100.0, 6)


def check_load_rates(cap, pcts, rate_range, percent):
    """Each rate the load sweep would hold within senders.*.guest.rate_mpps's range, or a
    SweepError naming --percent and the percentages each design allows: --percent 1000000000
    wrote rates of millions of Mpps, refused only when `sweep run` validated the sweep."""
    lo, hi = rate_range
    for d, c in cap.items():
        for p in pcts:
            if not lo <= load_rate(c, p) <= hi:
                raise SweepError("--percent %s: expected percentages of %s's capacity (%.4f Mpps) in [%s, %s], "
                                 "which give an offered rate in senders.0.guest.rate_mpps's range [%s, %s] Mpps, "
                                 "found %s" % (percent, d, c, fmt_num(lo * 100.0 / c), fmt_num(hi * 100.0 / c),
                                               fmt_num(lo), fmt_num(hi), "%.12g" % p))


def load_sweep_doc(name, base, fixed, cap, pcts, how, version_, source):
    """The offered-load sweep: design x percent zipped, the rate = capacity x percent / 100."""
    designs = list(cap)
    dv, lv, rv = [], [], []
    for d in designs:
        for p in pcts:
            dv.append(d)
            lv.append(p)
            rv.append(load_rate(cap[d], p))
    load_set = dict(fixed)
    load_set["senders.0.guest.mode"] = "open"
    load_set.setdefault("senders.0.guest.arrival", "poisson")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rate = "senders.0.guest.rate_mpps"
    return {
        "name": name,
        "description": ("Offered load from %s%% to %s%% of each design's capacity: latency against throughput. "
                        "Open loop, %s arrivals. Capacity = throughput of a closed-loop run (the guest keeps its "
                        "TX ring full): %s; measured %s with tunsim %s (git %s) by: %s. Regenerate this file "
                        "with that command plus --load-sweep when the model changes."
                        % (fmt_num(min(pcts)), fmt_num(max(pcts)), load_set["senders.0.guest.arrival"],
                           ", ".join("%s %.4f Mpps" % kv for kv in cap.items()), when, version_, source, how)),
        "base": rel(base),
        "set": load_set,
        "axes": [
            {"path": "design", "values": dv},
            {"name": "load_pct", "values": lv, "label": "offered load, % of the design's capacity"},
            {"path": rate, "values": rv, "label": "offered load, Mpps"},
        ],
        "combine": "zip",
        "seeds": [1],
        "capacity_mpps": cap,
        # x: the offered rate, with each design's capacity marked on it and on the throughput
        # axis of the latency figure; the per-point figures at the given percentages.
        "plot": {"x": rate, "series": ["design"], "latency_x": "throughput_mpps",
                 "capacity_on": [rate, "throughput_mpps"], "at_column": "load_pct",
                 "at": [pcts[len(pcts) // 2], pcts[-1]] if len(pcts) > 1 else pcts},
    }


def check_load_sweep_path(path):
    """--load-sweep names a file in a folder that exists, checked before the capacity runs (an
    empty name wrote nothing, a folder or a device ended in an internal error after them, and a
    missing folder was made)."""
    if not path:
        raise SweepError("--load-sweep: expected a file name, found nothing")
    if os.path.isdir(path):
        raise SweepError("--load-sweep %s: expected a file, found a folder" % path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SweepError("--load-sweep %s: expected a file in a folder that exists, found no folder %s"
                         % (path, folder))
    if os.path.exists(path) and not os.path.isfile(path):
        raise SweepError("--load-sweep %s: expected a regular file (a sweep file to run later), found a "
                         "device or a pipe" % path)


def cmd_capacity(args, find_tunsim):
    tunsim = find_tunsim(args.tunsim)
    base = args.base if os.path.isabs(args.base) else os.path.join(REPO, args.base)
    if not os.path.isfile(base):
        raise SweepError("%s: no such scenario file" % args.base)
    fixed = dict(parse_set(a) for a in args.set)
    # --designs "" (given, empty) was every design.
    if args.designs is not None:
        designs = [d for d in args.designs.split(",") if d]
    else:
        designs = [d["name"] for d in tunsim_designs(tunsim)]
    if not designs:
        raise SweepError("--designs: expected comma-separated design names, found %r" % args.designs)
    try:
        # (1e9 was "expected comma-separated numbers": only a number with a '.' was a float.)
        pcts = [int(x) if x.strip().isdigit() else float(x) for x in args.percent.split(",") if x]
    except ValueError:
        raise SweepError("--percent: expected comma-separated numbers, found %s" % args.percent)
    if not pcts or any(p <= 0 for p in pcts):
        raise SweepError("--percent: expected positive numbers, found %s" % args.percent)
    # What the sweep file of --load-sweep would hold, checked as scripts/sweep checks it, before the
    # capacity runs: 1.5e400 wrote Infinity (no JSON), 50,50 two points of the same settings, and
    # a file name with a space or a leading '.' a sweep name; each was written (exit 0), then refused.
    if any(not math.isfinite(p) for p in pcts):
        raise SweepError("--percent: expected finite numbers, found %s" % args.percent)
    if len(set(pcts)) != len(pcts):
        raise SweepError("--percent: expected each percentage once, found %s" % args.percent)
    if len(set(designs)) != len(designs):
        raise SweepError("--designs: expected each design once, found %s" % args.designs)
    if args.seed < 0:
        raise SweepError("--seed: expected an integer >= 0, found %d" % args.seed)
    # As run's: a negative count went on to tunsim batch -j, whose message then named no sweep option.
    if args.jobs < 0:
        raise SweepError("--jobs: expected a positive number, found %d" % args.jobs)
    if args.load_sweep is not None:
        check_load_sweep_path(args.load_sweep)
        check_name("--load-sweep %s" % args.load_sweep, os.path.splitext(os.path.basename(args.load_sweep))[0])
    # The range the offered rates must fall in, from tunsim's own declaration (asked before
    # the capacity runs), checked when the capacities are known, before anything is printed.
    rate_range = param_range(tunsim, "senders.*.guest.rate_mpps") if args.load_sweep else None
    sets = ["%s=%s" % (k, set_value(v)) for k, v in fixed.items()]
    cap = measure(tunsim, base, sets, designs, args.seed, args.jobs or os.cpu_count() or 1)
    if rate_range:
        check_load_rates(cap, pcts, rate_range, args.percent)
    for d in designs:
        print("%-16s %.4f Mpps" % (d, cap[d]))
    if not args.load_sweep:
        return 0
    how = "scripts/sweep capacity %s%s --designs %s --seed %d" % (
        rel(base), "".join(" --set %s" % shlex.quote(x) for x in args.set), ",".join(designs), args.seed)
    doc = load_sweep_doc(os.path.splitext(os.path.basename(args.load_sweep))[0], base, fixed, cap, pcts, how,
                         version(tunsim), args.source_note or git_state())
    try:
        write_atomic(args.load_sweep, json.dumps(doc, indent=2) + "\n")
    except OSError as e:
        where = " (%s)" % e.filename if e.filename and e.filename != args.load_sweep else ""
        raise SweepError("--load-sweep %s: cannot write: %s%s" % (args.load_sweep, e.strerror or e, where))
    print("wrote %s (%d points)" % (rel(args.load_sweep), len(doc["axes"][0]["values"])))
    return 0
