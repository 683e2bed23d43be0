#!/usr/bin/python3
"""derive.py: cache levels and their edges from a latency curve.

A curve is the list of points a microbenchmark printed (chase: ns per load,
icache: ns per line), each {"bytes": working set, "<unit key>": {"trusted",
"value", ...}}.  Only trusted points are used.  Given the capacities the CPU
reports (cpuid or sysfs) for the first cache (L1d or L1i) and L2:

  first level  = median of the points at or below first/2
  L2           = median of the points in [2 * first, L2 / 2]
  memory       = median of the two points with the largest working sets
  rise         = the geometric middle of the steepest segment of the curve
                 (largest d log(value) / d log(size)) above 2 * L2 among
                 those ending at least at the geometric mean of the value at
                 2 * L2 and memory: where the LLC runs out; found in the data
                 because the share of a shared LLC a VM gets is not what
                 cpuid reports
  LLC          = median of the points in [2 * L2, rise / sqrt(2)]
  LLC edge     = where the curve, above 2 * L2, crosses the geometric mean
                 of LLC and memory
  edge k       = where the curve crosses the geometric mean of the plateaus
                 on either side (interpolated in log(size), log(value)),
                 compared with the reported capacity as edge / capacity

A level with fewer than two trusted points in its window is refused (null,
with the reason); so is an edge whose plateaus are refused.  With
min_memory_over_llc (the chase uses 4: an LLC hit is 10-20 ns and memory
60 ns or more on x86 servers, 14-17 and 200-360 ns here), an LLC level
within that factor of memory is refused too: the VM then had no LLC share of
its own (seen once here under load average 9: 95 ns from 2.3 MiB on).

usage: derive.py CURVE.json KEY FIRST_BYTES L2_BYTES   (prints the levels as JSON)
  KEY: ns_per_load or ns_per_line
"""
import json
import math
import sys


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def crossing(points, level, lo_bytes=0):
    """Smallest size >= lo_bytes where the curve crosses LEVEL upwards (log-log interpolation)."""
    pts = [(b, v) for b, v in points if b >= lo_bytes]
    for (b0, v0), (b1, v1) in zip(pts, pts[1:]):
        if v0 <= level < v1:
            t = (math.log(level) - math.log(v0)) / (math.log(v1) - math.log(v0))
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
        if v0 > level:
            return b0
    return None


def level(points, lo, hi, name):
    vals = [v for b, v in points if lo <= b <= hi]
    if len(vals) < 2:
        return {"value": None, "refused": f"{name}: only {len(vals)} trusted point(s) in [{int(lo)}, {int(hi)}] "
                                          "bytes, at least 2 needed"}
    return {"value": round(median(vals), 4), "points": len(vals), "min": round(min(vals), 4),
            "max": round(max(vals), 4), "window_bytes": [int(lo), int(hi)]}


def derive(curve, key, first_bytes, l2_bytes, names=("l1", "l2", "llc", "memory"), min_memory_over_llc=None):
    pts = sorted((p["bytes"], p[key]["value"]) for p in curve if p[key].get("trusted") and p[key]["value"])
    untrusted = [p["bytes"] for p in curve if not p[key].get("trusted")]
    out = {"trusted_points": len(pts), "untrusted_points_bytes": untrusted, "levels": {}, "edges": {}}
    if len(pts) < 4:
        out["refused"] = f"only {len(pts)} trusted points"
        return out
    lv = out["levels"]
    lv[names[0]] = level(pts, 0, first_bytes / 2, names[0])
    lv[names[1]] = level(pts, 2 * first_bytes, l2_bytes / 2, names[1])
    mem = [v for _, v in pts[-2:]]
    lv[names[3]] = {"value": round(median(mem), 4), "points": 2, "min": round(min(mem), 4),
                    "max": round(max(mem), 4), "window_bytes": [pts[-2][0], pts[-1][0]]}
    above = [(b, v) for b, v in pts if b >= 2 * l2_bytes]
    llc_edge = None
    slopes = []
    if len(above) >= 3:
        # Only segments that end at least halfway (in log) from the value at
        # 2 x L2 to memory: the rise out of the LLC, not the end of the rise
        # out of L2 (steep too when the LLC share is small).
        half = math.sqrt(above[0][1] * lv[names[3]]["value"])
        slopes = [((math.log(v1) - math.log(v0)) / (math.log(b1) - math.log(b0)), math.sqrt(b0 * b1))
                  for (b0, v0), (b1, v1) in zip(above, above[1:]) if v1 >= half]
    if slopes:
        rise = max(slopes)[1]
        out["llc_rise_bytes"] = round(rise)
        lv[names[2]] = level(pts, 2 * l2_bytes, rise / math.sqrt(2), names[2])
        llc = lv[names[2]].get("value")
        if llc and min_memory_over_llc and lv[names[3]]["value"] < min_memory_over_llc * llc:
            lv[names[2]] = {"value": None, "candidate": llc, "refused": (
                f"{names[2]}: the level found, {llc:.4g}, is within {min_memory_over_llc}x of memory "
                f"({lv[names[3]]['value']:.4g}): no LLC share distinct from memory at the time of this run")}
        if lv[names[2]].get("value"):
            llc_edge = crossing(pts, math.sqrt(lv[names[2]]["value"] * lv[names[3]]["value"]), 2 * l2_bytes)
    elif len(above) >= 3:
        # A curve falling towards memory (max() of no slope was a traceback).
        lv[names[2]] = {"value": None, "refused": f"{names[2]}: no segment above 2 x L2 rises halfway from the "
                                                  f"value at 2 x L2 ({above[0][1]:.4g}) to memory"}
    else:
        lv[names[2]] = {"value": None, "refused": f"{names[2]}: only {len(above)} trusted points above 2 x L2, "
                                                  "at least 3 needed"}
    caps = {names[0]: first_bytes, names[1]: l2_bytes, names[2]: None}
    for a, b in zip(names, names[1:]):
        va, vb = lv[a].get("value"), lv[b].get("value")
        if not va or not vb:
            out["edges"][a] = {"bytes": None, "refused": f"the {a} or {b} level is refused"}
            continue
        lo = 0 if a == names[0] else (first_bytes if a == names[1] else 2 * l2_bytes)
        e = llc_edge if a == names[2] else crossing(pts, math.sqrt(va * vb), lo)
        rec = {"bytes": round(e) if e else None, "between": [a, b], "crossing_ns": round(math.sqrt(va * vb), 4)}
        if caps[a] and e:
            rec["reported_bytes"] = caps[a]
            rec["edge_over_reported"] = round(e / caps[a], 3)
        out["edges"][a] = rec
    return out


def check_curve(curve, key):
    """A ValueError naming the first point derive() cannot take: each an object
    with "bytes" (a positive number, each trusted point's its own) and KEY an
    object whose "value", where "trusted", is a positive number (derive
    takes logarithms of both, and divides by the log of a size ratio)."""
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0
    if not isinstance(curve, list):
        raise ValueError("points: expected a list of points, found %s" % type(curve).__name__)
    seen = {}
    for i, p in enumerate(curve):
        if not isinstance(p, dict) or not number(p.get("bytes")):
            raise ValueError("points[%d]: expected an object with \"bytes\" a positive number" % i)
        m = p.get(key)
        if not isinstance(m, dict):
            raise ValueError("points[%d].%s: expected an object {\"trusted\", \"value\"}" % (i, key))
        if m.get("trusted") and m.get("value") and not number(m["value"]):
            raise ValueError("points[%d].%s.value: expected a positive number, found %s"
                             % (i, key, json.dumps(m["value"])[:40]))
        if m.get("trusted") and m.get("value"):
            if p["bytes"] in seen:
                raise ValueError("points[%d].bytes: expected each trusted point's own size, found %s again "
                                 "(points[%d])" % (i, json.dumps(p["bytes"]), seen[p["bytes"]]))
            seen[p["bytes"]] = i


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    try:
        curve = json.load(open(argv[0]))
        pts = curve["points"] if isinstance(curve, dict) else curve
        check_curve(pts, argv[1])
        first, l2 = int(argv[2]), int(argv[3])
        if first <= 0 or l2 <= 0:
            raise ValueError("the byte sizes: expected positive numbers, found %d and %d" % (first, l2))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"derive.py: {argv[0]}: expected a curve JSON with \"points\" and two byte sizes: {e}", file=sys.stderr)
        return 2
    json.dump(derive(pts, argv[1], first, l2), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    import stdout
    stdout.run("derive.py", main, sys.argv[1:])
