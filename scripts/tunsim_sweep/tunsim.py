"""What the driver asks of tunsim: its version, its designs, and `tunsim batch`.

`tunsim batch POINTS.jsonl -j N` reads one point per line,
    {"id": ..., "config": BASE, "sets": ["path=VALUE", ...], "seed": N, "out": SUMMARY.json}
validates all of them in one process ("batch: validated N/M" on stderr; the first
bad one ends it with exit 2 and "POINTS.jsonl:LINE: point ID: <error>"), then runs
each in a child forked from the warm parent, at most N at a time, writes each
summary atomically to its "out" and prints one JSON line per finished point:
    {"id": ..., "status": "ok"|"failed", "exit": N, "error": "...", "wall_s": x}
Exit 0 all ok, 1 some failed, 2 bad input, 130 on SIGINT.  `--validate-only`
validates and runs nothing.
"""

import json
import os
import re

from . import procs
from .errors import SweepError, ToolError
from .planning import describe
from .progress import Ticker
from .util import REPO, cell, rel, set_value, shorten, status_text, write_atomic
from . import PROG


def find_tunsim(opt):
    if opt:
        src, p = "--tunsim", opt
    elif os.environ.get("TUNSIM"):
        src, p = "$TUNSIM", os.environ["TUNSIM"]
    else:
        src, p = "default", os.path.join(REPO, "build", "tunsim")
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise ToolError("tunsim binary not found at %s (from %s); build it or pass --tunsim PATH" % (p, src))
    return os.path.abspath(p)


def _run(tunsim, args, timeout=120):
    try:
        return procs.run([tunsim] + args, timeout=timeout)
    except OSError as e:
        raise ToolError("cannot run %s: %s" % (tunsim, e.strerror or e))


def version(tunsim):
    rc, out, err = _run(tunsim, ["--version"], 30)
    out = out.strip()
    return out.split()[-1] if rc == 0 and out else "unknown"


def _json_of(tunsim, args, expected, take):
    """take(document) of the JSON that `tunsim ARGS` prints; ToolError when it fails or prints
    something else (take raises ValueError, KeyError, TypeError or AttributeError)."""
    rc, out, err = _run(tunsim, args, 60)
    what = " ".join([tunsim] + args)
    if rc != 0:
        raise ToolError("%s exited with status %d: %s" % (what, rc, shorten(err.strip().splitlines()[-1]
                                                                         if err.strip() else "", 200)))
    try:
        return take(json.loads(out))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ToolError("%s: expected %s: %s" % (what, expected, shorten(str(e), 200)))


def designs(tunsim):
    """The designs tunsim knows, in its registry's order: [{"name", "kernel_version", "napi",
    "description"}, ...] from `tunsim designs --json`."""
    def take(doc):
        ds = doc["designs"]
        if not isinstance(ds, list) or not ds:
            raise ValueError("an empty list")
        for d in ds:
            if not isinstance(d.get("name"), str) or not isinstance(d.get("napi"), bool):
                raise ValueError("an entry without a name or napi flag: %s" % shorten(json.dumps(d)))
        return ds
    return _json_of(tunsim, ["designs", "--json"],
                    '{"designs": [{"name", "kernel_version", "napi", "description"}, ...]}', take)


def param_range(tunsim, path):
    """(min, max) of the scenario parameter `path` ("senders.*.guest.rate_mpps"), as tunsim
    declares it (`tunsim config-reference --json`): the driver keeps no copy of a range."""
    def take(doc):
        for p in doc["parameters"]:
            if p["path"] == path:
                lo, hi = p["min"], p["max"]
                if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lo, hi)):
                    raise ValueError("%s: a range that is no pair of numbers" % path)
                return lo, hi
        raise ValueError("no parameter %s" % path)
    return _json_of(tunsim, ["config-reference", "--json"],
                    '{"parameters": [{"path", "min", "max", ...}, ...]}', take)


# The environment `tunsim batch` runs in: every library's symbols bound when the batch starts
# (LD_BIND_NOW), once, instead of lazily in each forked point, where a first call through the
# PLT looks the symbol up and writes the GOT page (a copy-on-write fault in every child).
# Measured 2026-12-05 on the 2-core VM: 100 points of bench/sweep-1000.json, -j 2, three pairs
# alternated: 1.47-1.52 s wall against 1.58-1.62, 345-349 page faults a point against 386-388.
# And glibc's malloc asked for transparent huge pages (glibc.malloc.hugetlb=1: madvise on the
# memory it takes from the kernel; it matters where /sys/kernel/mm/transparent_hugepage/enabled
# is "madvise" or "always") with the heap grown 4 MiB at a time (top_pad), so that a forked
# point's new heap is one huge page fault, not one fault per 4 KiB page it touches.  Measured
# 2026-12-06 09:45 on the 2-core VM (Zen 5, THP "madvise"): 200 points of
# bench/sweep-1000.json, -j 1, two pairs alternated: 3.66-3.74 s wall against 4.16-4.20,
# 208-210 page faults a point against 348; docs/sweeps.md has the whole sweep.
BATCH_ENV = {"LD_BIND_NOW": "1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=4194304"}


def batch_env():
    """os.environ with BATCH_ENV, for a `tunsim batch` child; a GLIBC_TUNABLES of the user's
    comes after ours, so that its settings win."""
    env = dict(os.environ, **BATCH_ENV)
    mine = os.environ.get("GLIBC_TUNABLES")
    if mine:
        env["GLIBC_TUNABLES"] = BATCH_ENV["GLIBC_TUNABLES"] + ":" + mine
    return env


def batch_env_prefix():
    """BATCH_ENV as `env NAME=VALUE ...` for a shell command line (GNU parallel, Slurm)."""
    return "env " + " ".join("%s=%s" % kv for kv in sorted(BATCH_ENV.items()))


def point_line(pid, config, sets, seed, out):
    """One line of a points file for `tunsim batch`."""
    return json.dumps({"id": pid, "config": config, "sets": sets, "seed": seed, "out": out})


def write_points(path, lines):
    write_atomic(path, "".join(l + "\n" for l in lines))


def parse_result(line):
    """A result line of `tunsim batch` as a dict, or None for anything else."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        r = json.loads(line)
    except ValueError:
        return None
    if not isinstance(r, dict) or not isinstance(r.get("id"), str) or r.get("status") not in ("ok", "failed"):
        return None
    return r


def point_error(file, text):
    """(line number, point id, message) from "FILE:LINE: point ID: MESSAGE" (tunsim's first bad
    point), or None when text is not that.  tunsim may shorten a long FILE, so the line is found
    by its ":LINE: point ID: " when FILE itself is not in it."""
    for line in reversed(text.splitlines()):
        i = line.find(file + ":")
        rest = line[i + len(file):] if i >= 0 else line
        m = re.search(r":(\d+): point (\S+?): (.*)$", rest)
        if m:
            return int(m.group(1)), m.group(2), m.group(3)
    return None


class _ValidationProgress:
    def __init__(self):
        self.ticker = Ticker(first_after=2.0)
        self.seen = None

    def __call__(self, line):
        m = re.search(r"validated (\d+)/(\d+)", line)
        if m:
            self.seen = (int(m.group(1)), int(m.group(2)))
            n, total = self.seen
            self.ticker.show("%s: validating: %d/%d" % (PROG, n, total), final=n == total)


def validate(sw, tunsim, base, all_axes, points, lay):
    """Check every axis value on its own (so that an error names its axis), then every point, in
    one `tunsim batch --validate-only` process.  The first bad one: SweepError, one line."""
    checks = []  # (what, sets, seed, id, out)
    seed0 = sw["seeds"][0]
    for i, a in enumerate(all_axes):
        if a["path"] is None:
            continue
        for j, v in enumerate(a["values"]):
            sets = list(sw["fixed_sets"]) + ["%s=%s" % (a["path"], set_value(v))]
            checks.append(("axis %s value %s" % (a["path"], cell(v)), sets, seed0, "axis%d-value%d" % (i, j),
                           os.path.join(lay.points, "axis%d-value%d.json" % (i, j))))
    for pt in points:
        checks.append(("point %s (seed %d)" % (describe(pt), pt["seed"]), pt["sets"], pt["seed"], pt["id"],
                       lay.point_file(pt)))
    if not checks:
        checks.append(("the base", list(sw["fixed_sets"]), seed0, "base", os.path.join(lay.points, "base.json")))
    pfile = os.path.join(lay.root, "validate-points.jsonl")
    write_points(pfile, [point_line(pid, base, sets, seed, out) for _, sets, seed, pid, out in checks])
    try:
        child = procs.Child([tunsim, "batch", "--validate-only", pfile], on_stderr=_ValidationProgress())
        try:
            for _ in child.lines():
                pass
            rc = child.wait()
        except BaseException:
            child.stop()
            raise
    except OSError as e:
        raise ToolError("cannot run %s: %s" % (tunsim, e.strerror or e))
    finally:
        try:
            os.unlink(pfile)
        except OSError:
            pass
    if rc == 0:
        return len(checks)
    err = "\n".join(child.tail)
    bad = point_error(pfile, err)
    if rc == 2 and bad and 1 <= bad[0] <= len(checks):
        what = checks[bad[0] - 1][0]
        msg = bad[2]
        raise SweepError("%s: %s: tunsim: %s" % (rel(sw["file"]), what, msg[len("tunsim: "):]
                                                 if msg.startswith("tunsim: ") else msg))
    raise ToolError("%s batch --validate-only exited with %s: %s"
                    % (tunsim, status_text(rc), child.last_error() or "no message"))
