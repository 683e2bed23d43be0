"""Points of a checked sweep, their ids, the results folder and plan.json.

A point is one tunsim run: the base scenario with the fixed settings and one
value of every axis (--set path=VALUE each), and one seed.  Its id is the first
12 hex digits of a SHA-256 over what determines its result (the base scenario's
bytes, the --set list, the seed and the tunsim binary), so that a rerun skips
the points whose summary exists, and a rebuilt binary or an edited base reruns
everything.
"""

import glob
import hashlib
import json
import os

from .errors import SweepError
from .util import read_json, rel, set_value, write_atomic

PLAN_FORMAT = "tunsim-sweep-plan/1"
# plan.json is written by the driver: about 300 bytes per point.
MAX_PLAN_BYTES = 1 << 30


def design_axis(sw):
    return {"path": "design", "name": "design", "label": "design", "values": sw["designs"]}


def make_points(sw, tunsim_sha):
    """Every (axis values, seed) combination in a fixed order: the designs (outermost), then the
    axes as a grid (first axis outermost) or zipped, then the seeds (innermost).  The caller has
    checked the number of points (sweepfile.count_points) against the limit."""
    axes = sw["axes"]
    if not axes:
        combos = [[]]
    elif sw["combine"] == "zip":
        combos = [[a["values"][i] for a in axes] for i in range(len(axes[0]["values"]))]
    else:
        combos = [[]]
        for a in axes:
            combos = [c + [v] for c in combos for v in a["values"]]
    all_axes = list(axes)
    if sw["designs"]:
        all_axes = [design_axis(sw)] + all_axes
        combos = [[d] + c for d in sw["designs"] for c in combos]
    points = []
    seen = set()
    for combo in combos:
        sets = list(sw["fixed_sets"])
        values = {}
        for a, v in zip(all_axes, combo):
            values[a["name"]] = v
            if a["path"] is not None:
                sets.append("%s=%s" % (a["path"], set_value(v)))
        for seed in sw["seeds"]:
            key = json.dumps({"base": sw["base_sha"], "sets": sets, "seed": seed, "tunsim": tunsim_sha},
                             sort_keys=True)
            pid = hashlib.sha256(key.encode()).hexdigest()[:12]
            if pid in seen:
                raise SweepError("%s: two points have the same settings %s (seed %d); check the axes"
                                 % (rel(sw["file"]), " ".join(sets), seed))
            seen.add(pid)
            points.append({"index": len(points), "id": pid, "values": values, "sets": sets, "seed": seed})
    return all_axes, points


def describe(pt):
    """The axis values of a point for messages: "tun.rx_frames=8, senders.0.vhost.msg_more=true"."""
    from .util import cell
    return ", ".join("%s=%s" % (k, cell(v)) for k, v in pt["values"].items()) or "the base"


class Layout:
    """Where a sweep's files live: RESULTS_DIR/NAME/."""

    def __init__(self, name, results_root):
        self.root = os.path.join(os.path.abspath(results_root), name)
        self.points = os.path.join(self.root, "points")
        self.plan = os.path.join(self.root, "plan.json")
        self.csv = os.path.join(self.root, "points.csv")
        self.base_copy = os.path.join(self.root, "base.json")
        self.figures = os.path.join(self.root, "figures")
        self.report = os.path.join(self.root, "report.md")

    def point_file(self, pt):
        return os.path.join(self.points, pt["id"] + ".json")

    def done(self, pt):
        return os.path.isfile(self.point_file(pt))

    def check_owner(self, sweep_file, name):
        """Refuse to write into a folder that holds something other than a sweep."""
        if (os.path.isdir(self.root) and os.listdir(self.root) and not os.path.exists(self.plan)
                and not os.path.isdir(self.points)):
            raise SweepError("%s: name %s: %s exists and is not a sweep's folder; choose another name"
                             % (rel(sweep_file), name, rel(self.root)))

    def remove_temporaries(self, pts):
        """Remove what a point killed in the middle of its atomic write leaves: the temporary
        beside points/<id>.json (tunsim names it .<id>.json.tmp.XXXXXX, created by mkstemp;
        an older tunsim <id>.json.tmp.PID)."""
        for pt in pts:
            f = self.point_file(pt)
            d, b = os.path.dirname(f), os.path.basename(f)
            for tmp in (glob.glob(os.path.join(glob.escape(d), "." + glob.escape(b) + ".tmp.*"))
                        + glob.glob(glob.escape(f) + ".tmp.*")):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def base_file(sw, lay):
    """The scenario file the points run: the base path, or the inline base written into the results folder."""
    if sw["base_path"]:
        return sw["base_path"]
    text = json.dumps(sw["base_inline"], indent=2, sort_keys=True) + "\n"
    try:
        with open(lay.base_copy, encoding="utf-8") as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:
        write_atomic(lay.base_copy, text)
    return lay.base_copy


def write_plan(sw, lay, all_axes, points, base, version, tunsim, tunsim_sha):
    plan = {
        "format": PLAN_FORMAT,
        "sweep_file": rel(sw["file"]),
        "name": sw["name"],
        "description": sw["description"],
        "base": rel(base),
        "base_sha256": sw["base_sha"],
        "set": sw["fixed"],
        "combine": sw["combine"],
        "seeds": sw["seeds"],
        "axes": [{"name": a["name"], "path": a["path"], "label": a["label"], "values": a["values"]} for a in all_axes],
        "plot": sw["plot"],
        "tunsim_version": version,
        "tunsim": tunsim,
        "tunsim_sha256": tunsim_sha,
        "points": [{"index": p["index"], "id": p["id"], "values": p["values"], "seed": p["seed"], "sets": p["sets"]}
                   for p in points],
    }
    if sw.get("capacity_mpps"):
        plan["capacity_mpps"] = sw["capacity_mpps"]
    text = json.dumps(plan, indent=2) + "\n"
    try:
        with open(lay.plan, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    write_atomic(lay.plan, text)


def load_plan(target, results_root, max_points):
    """The plan a run wrote (results/NAME/plan.json), given the results folder or the sweep file."""
    if os.path.isdir(target):
        root = os.path.abspath(target)
    else:
        from .sweepfile import load_sweep
        sw = load_sweep(target, max_points)
        root = Layout(sw["name"], results_root).root
    pf = os.path.join(root, "plan.json")
    if not os.path.exists(pf):
        raise SweepError("%s: no plan.json; run the sweep first (scripts/sweep run SWEEP.json)" % rel(root))
    plan = read_json(pf, MAX_PLAN_BYTES, "a plan written by scripts/sweep run")
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT or not isinstance(plan.get("points"), list):
        raise SweepError("%s: expected a plan written by scripts/sweep run (format %s)" % (rel(pf), PLAN_FORMAT))
    return plan, root
