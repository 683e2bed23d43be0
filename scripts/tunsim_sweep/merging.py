"""points.csv: one row per finished point, every axis and every scalar of its summary a column."""

import csv
import io
import json
import os

from .errors import SweepError
from .util import cell, read_json, shorten, write_atomic

SKIP_KEYS = {"config_resolved", "bins", "notes", "schema", "calibration"}
# A summary is about 100 kB (histogram bins included); this bound is never reached by tunsim's.
MAX_SUMMARY_BYTES = 64 << 20
# Headline metrics first, the rest in the summary's order.
ORDER = ["design", "throughput_mpps", "throughput_gbps", "packets.", "latency_us.", "cpu.", "batch.", "napi.",
         "softirq.", "queues.", "rx_batched.", "vhost.", "guest.", "stack."]


def flatten(obj, prefix, out):
    """{"a": {"b": 1}, "cpu": [{"x": 2}]} -> {"a.b": 1, "cpu.0.x": 2} (leaves only)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SKIP_KEYS:
                continue
            flatten(v, prefix + k + ".", out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            flatten(v, prefix + str(i) + ".", out)
    else:
        out[prefix[:-1]] = obj


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# What makes a point file a tunsim summary (docs/summary.md): its schema, its producer, and the
# headline values every row and figure has.  {"x": 1} was merged as a row of empty cells (with a
# column x) and plotted as a point without values.
SUMMARY_KEYS = (("schema", "1", lambda v: _number(v) and v == 1),
                ("tunsim_version", "a string", lambda v: isinstance(v, str)),
                ("design", "a string", lambda v: isinstance(v, str)),
                ("throughput_mpps", "a number", _number))


def check_summary(s, f):
    """SweepError naming the file, the key and what a tunsim summary has there."""
    if not isinstance(s, dict):
        raise SweepError("%s: expected a tunsim summary (a JSON object)" % f)
    for key, what, ok in SUMMARY_KEYS:
        if key not in s or not ok(s[key]):
            found = shorten(json.dumps(s[key]), 60) if key in s else "no such key"
            raise SweepError("%s: %s: expected %s (a tunsim summary, docs/summary.md), found %s"
                             % (f, key, what, found))


def iter_points(plan, root):
    """(point, summary) for every finished point of the plan, in plan order, one file read at
    a time: a merge keeps only each summary's scalars (csv_text), not the summaries, whose
    objects (about 100 kB a summary) took half of a 1000-point merge's time in the
    garbage collector's passes and would take 10 GB for 100,000 points."""
    for pt in plan["points"]:
        f = os.path.join(root, "points", pt["id"] + ".json")
        if not os.path.exists(f):
            continue
        s = read_json(f, MAX_SUMMARY_BYTES, "a tunsim summary")
        check_summary(s, f)
        yield pt, s


def read_points(plan, root):
    """(point, summary) for every finished point of the plan, in plan order (the report's
    figures need the whole summaries)."""
    return list(iter_points(plan, root))


def _rank(k):
    for i, pre in enumerate(ORDER):
        if k == pre or (pre.endswith(".") and k.startswith(pre)):
            return i
    return len(ORDER)


def csv_text(plan, rows):
    """The CSV of rows, (point, summary) pairs, a list or an iterator read once:
    (text, number of columns, number of rows)."""
    axis_cols = [a["name"] for a in plan["axes"]]
    cols = ["id"] + axis_cols + ["seed"]
    metric_cols = []
    seen = set(cols)
    flat_rows = []
    for pt, s in rows:
        flat = {}
        flatten(s, "", flat)
        flat.pop("seed", None)
        for k in flat:
            if k not in seen:
                seen.add(k)
                metric_cols.append(k)
        flat_rows.append((pt, flat))
    metric_cols = sorted(metric_cols, key=_rank)  # stable: the summary's order within a rank
    header = cols + metric_cols
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for pt, flat in flat_rows:
        row = [pt["id"]] + [cell(pt["values"].get(a)) for a in axis_cols] + [str(pt["seed"])]
        # A metric a point lacks (e.g. a drop reason it never saw) is a count of 0
        # for packets.dropped.*, otherwise empty.
        for k in metric_cols:
            if k in flat:
                row.append(cell(flat[k]))
            elif k.startswith("packets.dropped.") or k.startswith("trace_metrics.drops."):
                row.append("0")
            else:
                row.append("")
        w.writerow(row)
    return buf.getvalue(), len(header), len(flat_rows)


def merge(plan, root, rows=None):
    """Rewrite root/points.csv from rows (read_points' list, when the caller has it) or from
    the finished points read one at a time; returns (rows, points in the plan, columns)."""
    text, ncols, nrows = csv_text(plan, iter_points(plan, root) if rows is None else rows)
    write_atomic(os.path.join(root, "points.csv"), text)
    return nrows, len(plan["points"]), ncols
