"""Read and check a sweep file (docs/sweeps.md, "The sweep file").

Nothing here runs tunsim: the values of the axes are checked for shape only,
and tunsim checks them against the scenario schema later (tunsim.validate).
Ranges are counted before they are expanded, and the number of points is
counted before any point exists, so that a sweep of a billion points is refused
in milliseconds instead of filling the memory (issue 14).
"""

import hashlib
import json
import math
import os

from .errors import SweepError
from .util import MAX_SWEEP_BYTES, REPO, read_json, set_value, shorten

# Default bound on the points of one plan; --max-points changes it.  The largest
# ready-made sweep has 108 points; a 100000-point sweep of 50 ms each is about a
# day of CPU time on this machine's two cores.
DEFAULT_MAX_POINTS = 100000
# A base scenario is a small JSON file (configs/*.json are below 2 kB).
MAX_BASE_BYTES = 16 << 20

KNOWN_KEYS = {"name", "description", "base", "set", "axes", "combine", "seeds", "designs", "plot", "capacity_mpps"}
AXIS_KEYS = ("path", "name", "label", "values", "range")


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


PLOT_XSCALES = ("linear", "log", "log2", "symlog")


def check_plot(plot, path):
    """The figure settings (docs/sweeps.md, `plot` keys), checked before any point runs: each was
    used only by `plot`, after every point had run, where a wrong type or scale ended in an
    internal error."""
    if not isinstance(plot, dict):
        raise SweepError("%s: plot: expected an object" % path)

    def bad(key, what):
        raise SweepError("%s: plot.%s: expected %s, found %s" % (path, key, what, shorten(json.dumps(plot[key]))))

    def is_col(v):
        return isinstance(v, str) and v != ""

    for key in plot:
        if key in ("x", "latency_x", "at_column"):
            if not is_col(plot[key]):
                bad(key, "a column name")
        elif key in ("series", "capacity_on"):
            if not isinstance(plot[key], list) or not all(is_col(v) for v in plot[key]):
                bad(key, "a list of column names")
        elif key == "xscale":
            if plot[key] not in PLOT_XSCALES:
                bad(key, "one of " + ", ".join('"%s"' % x for x in PLOT_XSCALES))
        elif key == "linthresh":
            if not _num(plot[key]) or not math.isfinite(plot[key]) or plot[key] <= 0:
                bad(key, "a number > 0 (symlog's linear range around 0)")
        elif key == "cpus":
            if (not isinstance(plot[key], list)
                    or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in plot[key])):
                bad(key, "a list of CPU numbers >= 0")
        elif key == "at":
            if not isinstance(plot[key], list) or not all(_num(v) or isinstance(v, str) for v in plot[key]):
                bad(key, "a list of values (numbers or strings)")
        else:
            raise SweepError("%s: plot: unknown key \"%s\" (expected one of x, series, xscale, linthresh, latency_x, "
                             "cpus, at, at_column, capacity_on)" % (path, key))
    return plot


def range_count(lo, hi, step):
    """How many values [lo, hi, step] has (inclusive), without making them.  Exact for integers;
    for floats an estimate within one of what expand_range makes (it counts exactly)."""
    if all(isinstance(x, int) for x in (lo, hi, step)):
        return (hi - lo) // step + 1
    q = (hi - lo) / step
    if not math.isfinite(q):
        return math.inf
    return math.floor(q + 1e-9) + 1


def expand_range(lo, hi, step, where, limit):
    """The values of an inclusive range; integers stay integers, floats are rounded to 12 digits."""
    for x in (lo, hi, step):
        if not _num(x):
            raise SweepError("%s.range: expected [lo, hi, step] numbers, found %s" % (where, json.dumps([lo, hi, step])))
    if step <= 0:
        raise SweepError("%s.range: expected a positive step, found %s" % (where, json.dumps(step)))
    if hi < lo:
        raise SweepError("%s.range: expected lo <= hi, found [%s, %s]" % (where, lo, hi))
    ints = all(isinstance(x, int) for x in (lo, hi, step))
    n = range_count(lo, hi, step)
    if n > limit:
        raise SweepError("%s.range: [%s, %s, %s] has %s values; a plan may have at most %d points "
                         "(--max-points)" % (where, lo, hi, step, ("%d" if ints else "about %d") % n
                                             if n != math.inf else "too many", limit))
    out = []
    i = 0
    while True:
        v = lo + i * step
        if v > hi + (0 if ints else abs(step) * 1e-9):
            break
        out.append(v if ints else round(v, 12))
        i += 1
        if i > limit:  # the estimate was one short of the limit: never more than limit + 1 values
            raise SweepError("%s.range: more than %d values (--max-points)" % (where, limit))
    return out


def check_name(path, name):
    if (not isinstance(name, str) or not name or "/" in name or name.startswith(".") or len(name) > 100
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in name)):
        raise SweepError("%s: name: expected a folder name of 1 to 100 characters without '/', spaces or "
                         "control characters, not starting with '.', found %s" % (path, shorten(json.dumps(name))))


def _base(path, base):
    """(base as written, path of the scenario file or None, inline scenario or None, sha256 of its bytes)."""
    if isinstance(base, str):
        bpath = base if os.path.isabs(base) else os.path.join(REPO, base)
        if not os.path.isfile(bpath):
            raise SweepError("%s: base: expected a scenario file (relative to the repository root), found %s"
                             % (path, shorten(json.dumps(base))))
        try:
            with open(bpath, "rb") as f:
                data = f.read(MAX_BASE_BYTES + 1)
        except OSError as e:
            raise SweepError("%s: base: cannot read %s: %s" % (path, base, e.strerror))
        if len(data) > MAX_BASE_BYTES:
            raise SweepError("%s: base: %s is larger than %d MiB; expected a scenario file"
                             % (path, base, MAX_BASE_BYTES >> 20))
        return bpath, None, hashlib.sha256(data).hexdigest()
    if isinstance(base, dict):
        data = (json.dumps(base, indent=2, sort_keys=True) + "\n").encode()
        return None, base, hashlib.sha256(data).hexdigest()
    raise SweepError("%s: base: expected a scenario path or an inline scenario object, found %s"
                     % (path, shorten(json.dumps(base))))


def _axis(path, i, a, limit):
    where = "%s: axes.%d" % (path, i)
    if not isinstance(a, dict):
        raise SweepError("%s: expected an object {\"path\", \"values\" | \"range\"}, found %s"
                         % (where, shorten(json.dumps(a))))
    for k in a:
        if k not in AXIS_KEYS:
            raise SweepError("%s.%s: unknown key (expected path, name, label, values or range)" % (where, shorten(k)))
    p = a.get("path")
    if p is not None and (not isinstance(p, str) or not p or "=" in p or " " in p):
        raise SweepError("%s.path: expected a dotted key path such as tun.rx_frames, found %s"
                         % (where, shorten(json.dumps(p))))
    col = a.get("name", p)
    if not isinstance(col, str) or not col:
        raise SweepError("%s: expected \"path\" (a config key) or \"name\" (a label-only column)" % where)
    # A column name is a CSV header and a word of the progress lines: a control character (a
    # newline split the progress lines) or a comma has no place in it.
    if any(ord(c) < 32 or ord(c) == 127 for c in col) or "," in col:
        raise SweepError("%s.name: expected a column name without control characters or commas, found %s"
                         % (where, shorten(json.dumps(col))))
    if ("values" in a) == ("range" in a):
        raise SweepError("%s: expected exactly one of \"values\" and \"range\"" % where)
    if "values" in a:
        vals = a["values"]
        if not isinstance(vals, list) or not vals:
            raise SweepError("%s.values: expected a non-empty list, found %s" % (where, shorten(json.dumps(vals))))
        for v in vals:
            if isinstance(v, (dict, list)):
                raise SweepError("%s.values: expected scalars, found %s" % (where, shorten(json.dumps(v))))
    else:
        r = a["range"]
        if not isinstance(r, list) or len(r) != 3:
            raise SweepError("%s.range: expected [lo, hi, step], found %s" % (where, shorten(json.dumps(r))))
        vals = expand_range(r[0], r[1], r[2], where, limit)
    label = a.get("label", col)
    return {"path": p, "name": col, "label": label, "values": vals}


def count_points(sw):
    """The number of points a checked sweep plans, computed without making them."""
    axes = sw["axes"]
    if not axes:
        combos = 1
    elif sw["combine"] == "zip":
        combos = len(axes[0]["values"])
    else:
        combos = 1
        for a in axes:
            combos *= len(a["values"])
    return combos * len(sw["designs"] or [None]) * len(sw["seeds"])


def shape(sw):
    """The plan's shape for messages: "grid of a[3] x b[2]" or "zip of a, b[3]"."""
    axes = sw["axes"]
    if sw["combine"] == "zip" and axes:
        s = "zip of %s[%d]" % (", ".join(a["name"] for a in axes), len(axes[0]["values"]))
        return ("design[%d] x " % len(sw["designs"]) + s) if sw["designs"] else s
    dims = (["design[%d]" % len(sw["designs"])] if sw["designs"] else []) + \
        ["%s[%d]" % (a["name"], len(a["values"])) for a in axes]
    return "grid of " + (" x ".join(dims) or "no axes")


def load_sweep(path, max_points=DEFAULT_MAX_POINTS):
    """Parse and check a sweep file; returns a dict with the resolved fields (no points yet)."""
    doc = read_json(path, MAX_SWEEP_BYTES, "a sweep file", unique_keys=True)
    if not isinstance(doc, dict):
        raise SweepError("%s: expected a JSON object at the top level" % path)
    for k in doc:
        if k not in KNOWN_KEYS:
            raise SweepError("%s: %s: unknown key (expected one of %s)" % (path, shorten(k), ", ".join(sorted(KNOWN_KEYS))))
    name = doc.get("name")
    check_name(path, name)
    base = doc.get("base", "configs/default.json")
    bpath, base_inline, base_sha = _base(path, base)

    fixed = doc.get("set", {})
    if not isinstance(fixed, dict):
        raise SweepError("%s: set: expected an object {\"path.to.key\": value}, found %s"
                         % (path, shorten(json.dumps(fixed))))
    fixed_sets = ["%s=%s" % (k, set_value(v)) for k, v in fixed.items()]

    raw_axes = doc.get("axes", [])
    if not isinstance(raw_axes, list):
        raise SweepError("%s: axes: expected a list of {\"path\", \"values\" | \"range\"}" % path)
    axes = [_axis(path, i, a, max_points) for i, a in enumerate(raw_axes)]

    combine = doc.get("combine", "grid")
    if combine not in ("grid", "zip"):
        raise SweepError("%s: combine: expected \"grid\" or \"zip\", found %s" % (path, shorten(json.dumps(combine))))
    if combine == "zip" and axes:
        n = {len(a["values"]) for a in axes}
        if len(n) != 1:
            raise SweepError("%s: combine zip: expected axes of equal length, found %s" % (
                path, ", ".join("%s: %d" % (a["name"], len(a["values"])) for a in axes)))

    designs = doc.get("designs")
    if designs is not None:
        if not isinstance(designs, list) or not designs or not all(isinstance(d, str) for d in designs):
            raise SweepError("%s: designs: expected a non-empty list of design names, found %s"
                             % (path, shorten(json.dumps(designs))))
        if any(a["path"] == "design" for a in axes):
            raise SweepError("%s: designs: \"design\" is already an axis" % path)

    seeds = doc.get("seeds", [1])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise SweepError("%s: seeds: expected a non-empty list of integers >= 0, found %s"
                         % (path, shorten(json.dumps(seeds))))
    if len(set(seeds)) != len(seeds):
        raise SweepError("%s: seeds: expected distinct seeds, found %s" % (path, shorten(json.dumps(seeds))))

    names = [a["name"] for a in axes] + (["design"] if designs else [])
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SweepError("%s: axes: column %s appears twice (give one axis a \"name\")" % (path, sorted(dup)[0]))
    if "seed" in names or "id" in names:
        raise SweepError("%s: axes: \"seed\" and \"id\" are reserved column names" % path)

    plot = check_plot(doc.get("plot", {}), path)
    cap = doc.get("capacity_mpps")
    if cap is not None and (not isinstance(cap, dict) or not all(_num(v) and v > 0 for v in cap.values())):
        raise SweepError("%s: capacity_mpps: expected an object {design: Mpps > 0}, found %s"
                         % (path, shorten(json.dumps(cap))))

    sw = {
        "file": os.path.abspath(path),
        "name": name,
        "description": doc.get("description", ""),
        "base": base,
        "base_path": bpath,
        "base_inline": base_inline,
        "base_sha": base_sha,
        "fixed": fixed,
        "fixed_sets": fixed_sets,
        "axes": axes,
        "combine": combine,
        "designs": designs,
        "seeds": seeds,
        "plot": plot,
        "capacity_mpps": cap,
    }
    n = count_points(sw)
    if n > max_points:
        raise SweepError("%s: %d points (%s; %d seed(s)), above the limit of %d; pass --max-points %d "
                         "if you mean it" % (path, n, shape(sw), len(seeds), max_points, n))
    return sw
