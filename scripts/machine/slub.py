#!/usr/bin/python3
"""slub.py: what SLUB's slow paths cost on this machine (scripts/calibrate-machine,
part "slub"; docs/calibration.md, "SLUB's slow paths").

A 60-byte frame's skb takes an sk_buff from skbuff_head_cache and its head
from skbuff_small_head (Linux 6.18).  `capture-trace --bridge --drain-every
B` has one writer write B frames (the second tap's queue holds them, so the
caches run out of free objects and take new slabs) and read them back (the
frees on the same CPU put full slabs on the CPU's partial list and drain it
when it holds cpu_partial_slabs).  Every burst starts from the same slab
state, so `trace-segments --bursts P,... --json` pools each index's call
over the bursts and gives every residue's p50 excess for the periods P: the
objects a slab of each cache (new slabs: writes; puts: reads) and those
times cpu_partial_slabs (drains: reads).

From three captures, per cache c of `pages_c` pages a slab, `objs_c`
objects and `slabs_c` = cpu_partial_slabs (slub_set_cpu_partial: the sysfs
cpu_partial objects x 2 / objs_c, rounded up):
  new_c   = the largest write residue of period objs_c (the new slab), which
            must stand out: at least twice the next largest and 100 ns
  put_c   = the read residue of the same index (the first free into that
            slab, FIFO), which must be among the 3 largest of its period
  drain_c = the largest read residue of period objs_c x slabs_c among those
            congruent to the put's modulo objs_c (the put that finds the
            partial list full drains it: the put plus slabs_c discards)
and, when each cache's new slabs agree within 1.25x over the captures (else
the host changed speed between them: all refused), over the captures'
medians (a slab of p pages costs a + (p - 1) b):
  slab_new_ns = a, slab_new_page_ns = b        from new_head, new_small
  slab_put_partial_ns = the median of all the puts
  slab_discard_ns, slab_discard_page_ns        from (drain_c - put_c) / slabs_c
Two caches of the same pages a slab cannot separate the per-page parts:
those are then refused (null), the others kept.

usage: slub.py caches                                   (this kernel's two caches, JSON)
       slub.py derive [--cpu N] CAPTURE.trace.gz ...    (the values from captures with this
                                                        kernel's caches, JSON; N: the writer's CPU)
"""
import json
import math
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
CACHES = (("head", "skbuff_head_cache"), ("small", "skbuff_small_head"))
# Bursts a capture, and the calls a burst it aims at (rounded to a multiple
# of every period): 40 x 2240 as in results/reference/slab-bursts-2026-12-05.
BURSTS, BURST_TARGET = 40, 2240
# A new slab must stand this far above the next residue of its period.
NEW_OVER_NOISE, NEW_MIN_NS = 2.0, 100.0
# The captures' new slabs of one cache must agree within this factor (the
# committed three: 1.11 and 1.13; on a host that changed speed between
# captures, 2026-12-06 04:02, 616 against 1207 ns).
CAPTURES_AGREE = 1.25


class Refused(Exception):
    pass


class BadInput(Refused):
    """A capture trace-segments refuses as bad input (exit 2): slub.py derive
    exits 2 for it, as for any bad input (it was exit 4, a refused
    measurement); calibrate-machine, which captured the traces, still
    records it as its part's refusal."""


def caches(sysfs="/sys/kernel/slab"):
    """{"head": {...}, "small": {...}}: each cache's sysfs values, its pages
    a slab and its cpu_partial_slabs."""
    out = {}
    for key, name in CACHES:
        d = os.path.join(sysfs, name)
        c = {"name": name}
        for f in ("objs_per_slab", "order", "cpu_partial", "min_partial", "object_size"):
            try:
                with open(os.path.join(d, f)) as fh:
                    c[f] = int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                raise Refused(f"{d}/{f}: expected a number (the kernel has no {name} cache: it came in 6.7, "
                              f"or SLUB's sysfs is off)") from None
        if c["objs_per_slab"] < 2:
            raise Refused(f"{d}/objs_per_slab: expected at least 2 objects a slab, found {c['objs_per_slab']}")
        if c["cpu_partial"] <= 0:
            raise Refused(f"{d}/cpu_partial: 0 (CONFIG_SLUB_CPU_PARTIAL off): no per-CPU partial list to drain")
        c["pages"] = 1 << c["order"]
        c["cpu_partial_slabs"] = -(-2 * c["cpu_partial"] // c["objs_per_slab"])
        c["from"] = f"{sysfs}/{name}/{{objs_per_slab,order,cpu_partial,min_partial,object_size}}; " \
                    "cpu_partial_slabs = ceil(2 cpu_partial / objs_per_slab) (slub_set_cpu_partial, 6.18)"
        out[key] = c
    return out


def periods(cs):
    """The --bursts periods: each cache's objects a slab and its drain period."""
    out = []
    for key, _ in CACHES:
        for p in (cs[key]["objs_per_slab"], cs[key]["objs_per_slab"] * cs[key]["cpu_partial_slabs"]):
            if p not in out:
                out.append(p)
    return out


def burst_length(cs):
    """A multiple of every period near BURST_TARGET, so that each burst starts
    where the one before it started."""
    lcm = 1
    for p in periods(cs):
        lcm = lcm * p // math.gcd(lcm, p)
    return lcm * max(1, round(BURST_TARGET / lcm))


def capture(prefix, cpu, cs, bursts=BURSTS):
    """One capture-trace --drain-every capture at prefix(.trace.gz, .json);
    returns (exit code, its stderr's last line)."""
    b = burst_length(cs)
    cmd = [os.path.join(SCRIPTS, "capture-trace"), "--mode", "plain", "--bridge", "--drain-every", str(b),
           "--count", str(b * bursts), "--cpus", str(cpu), "--gzip", "-o", prefix]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return cmd, r.returncode, (r.stderr.strip().splitlines() or [""])[-1]


def residues(traces, cpu, cs):
    """trace-segments --bursts --json of the traces: {trace: {"write P": ...}}."""
    cmd = [os.path.join(SCRIPTS, "trace-segments")] + list(traces) + [
        "--cpu", str(cpu), "--bursts", ",".join(str(p) for p in periods(cs)), "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        # (Its line starts "trace-segments: " already: it was said twice.)
        last = (r.stderr.strip().splitlines() or ["trace-segments: exit %d" % r.returncode])[-1]
        raise (BadInput if r.returncode == 2 else Refused)(last)
    return json.loads(r.stdout)


def one_capture(table, cs):
    """{cache: {"new", "put", "drain", residues, noise}} of one capture's
    residue table; raises Refused when a slow path does not stand out."""
    out = {}
    for key, _ in CACHES:
        c = cs[key]
        n, s = c["objs_per_slab"], c["objs_per_slab"] * c["cpu_partial_slabs"]
        try:
            w, r, d = (table[f"{k} {p}"]["excess_ns"] for k, p in (("write", n), ("read", n), ("read", s)))
        except KeyError as e:
            raise Refused(f"no row {e} (bursts too short for the period?)") from None
        order = sorted(range(n), key=lambda i: (w[i], i), reverse=True)
        res, new, noise = order[0], w[order[0]], w[order[1]]
        if new < NEW_MIN_NS or new < NEW_OVER_NOISE * noise:
            raise Refused(f"{c['name']}: the new slab does not stand out among the writes of period {n}: "
                          f"residue {res} {new:.0f} ns, the next {noise:.0f} ns (want at least "
                          f"{NEW_OVER_NOISE:g} x and {NEW_MIN_NS:.0f} ns)")
        put = r[res]
        rank = sorted(range(n), key=lambda i: (r[i], i), reverse=True).index(res)
        if rank >= 3 or put <= 0:
            raise Refused(f"{c['name']}: the put on the partial list (read residue {res} of {n}, {put:.0f} ns) "
                          f"is not among the 3 largest reads of that period")
        cls = [i for i in range(s) if i % n == res]
        dres = max(cls, key=lambda i: (d[i], i))
        out[key] = {"new_ns": new, "new_residue": res, "new_noise_ns": noise, "put_ns": put, "drain_ns": d[dres], "drain_residue": dres, "drain_period": s}
    if out["head"]["drain_period"] == out["small"]["drain_period"] and \
            out["head"]["drain_residue"] == out["small"]["drain_residue"]:
        raise Refused("the two caches' drains fall on the same read (residue %d of %d): they cannot be told apart"
                      % (out["head"]["drain_residue"], out["head"]["drain_period"]))
    return out


def derive(tables, cs):
    """The costs.slab_* values from the per-capture tables (those that one_capture
    refuses are listed and left out), with what they came from."""
    per, refused = [], []
    for name, table in tables:
        try:
            per.append((name, one_capture(table, cs)))
        except Refused as e:
            refused.append({"what": name, "why": str(e)})
    out = {"captures": [dict(x, trace=name) for name, x in per], "refused": refused}
    if len(per) < 2:
        out["refused"].append({"what": "costs.slab_*", "why": f"{len(per)} capture(s) with clear slow paths, "
                                                              "want at least 2"})
        return out

    for c in ("head", "small"):
        news = [x[c]["new_ns"] for _, x in per]
        if max(news) > CAPTURES_AGREE * min(news):
            out["refused"].append({"what": "costs.slab_*", "why": "%s's new slab differs between the captures, %.0f "
                                   "to %.0f ns (want within %gx): the host's speed changed between them"
                                   % (cs[c]["name"], min(news), max(news), CAPTURES_AGREE)})
            return out

    def med(key, c):
        return statistics.median(x[c][key] for _, x in per)
    h, s = cs["head"], cs["small"]
    new = {k: med("new_ns", k) for k in ("head", "small")}
    put = {k: med("put_ns", k) for k in ("head", "small")}
    slab = {k: (med("drain_ns", k) - put[k]) / cs[k]["cpu_partial_slabs"] for k in ("head", "small")}
    v = {"slab_put_partial_ns": statistics.median([x[k]["put_ns"] for _, x in per for k in ("head", "small")])}
    if h["pages"] != s["pages"]:
        dp = s["pages"] - h["pages"]
        v["slab_new_page_ns"] = (new["small"] - new["head"]) / dp
        v["slab_new_ns"] = new["head"] - (h["pages"] - 1) * v["slab_new_page_ns"]
        v["slab_discard_page_ns"] = (slab["small"] - slab["head"]) / dp
        v["slab_discard_ns"] = slab["head"] - (h["pages"] - 1) * v["slab_discard_page_ns"]
    else:
        v["slab_new_ns"] = statistics.median(list(new.values()))
        v["slab_discard_ns"] = statistics.median(list(slab.values()))
        out["refused"].append({"what": "costs.slab_new_page_ns, costs.slab_discard_page_ns",
                               "why": f"both caches take {h['pages']} page(s) a slab: no per-page part to separate"})
    for k, x in v.items():
        if x < 0:
            out["refused"].append({"what": "costs." + k, "why": f"came out negative ({x:.1f} ns)"})
    out["values"] = {k: round(x, 1) for k, x in v.items() if x >= 0}
    out["medians"] = {"new_ns": new, "put_ns": put, "drain_less_put_per_slab_ns": slab}
    out["spread"] = {k: {c: [min(x[c][k] for _, x in per), max(x[c][k] for _, x in per)] for c in ("head", "small")}
                     for k in ("new_ns", "put_ns", "drain_ns")}
    return out


def main(argv):
    if argv == ["caches"]:
        print(json.dumps(caches(), indent=1))
        return 0
    cpu = 0
    if argv[1:3] and argv[1] == "--cpu":
        if not argv[2].isdigit():
            sys.stderr.write(f"slub.py: --cpu: expected a CPU number, found '{argv[2]}'\n")
            return 2
        cpu, argv = int(argv[2]), argv[:1] + argv[3:]
    if argv[:1] == ["derive"] and len(argv) > 1:
        cs = caches()
        tables = residues(argv[1:], cpu, cs)
        print(json.dumps(derive(list(tables.items()), cs), indent=1))
        return 0
    sys.stderr.write("usage: slub.py caches | slub.py derive [--cpu N] CAPTURE.trace.gz ...\n")
    return 2


def _main(argv):
    try:
        return main(argv)
    except BadInput as e:
        sys.stderr.write("slub.py: %s\n" % e)
        return 2
    except Refused as e:
        sys.stderr.write("slub.py: %s\n" % e)
        return 4


if __name__ == "__main__":
    import stdout
    stdout.run("slub.py", _main, sys.argv[1:])
