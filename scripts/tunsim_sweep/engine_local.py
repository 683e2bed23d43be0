"""The local engine: one `tunsim batch` process runs the unfinished points, -j N at a time,
each in a child forked from the warm batch process (no start-up cost per point)."""

import os

from . import PROG, procs
from .errors import SweepError, ToolError
from .planning import describe
from .tunsim import batch_env, parse_result, point_error, point_line, write_points
from .util import status_text


class Results:
    """Turns `tunsim batch` result lines into progress updates and a list of failed points."""

    def __init__(self, todo, progress, done):
        self.by_id = {pt["id"]: pt for pt in todo}
        self.progress = progress
        self.done = done  # done(pt): its summary is in points/
        self.failures = []  # (point, exit status, one-line error)
        self.seen = set()

    def line(self, text):
        r = parse_result(text)
        if r is None or r["id"] not in self.by_id or r["id"] in self.seen:
            return
        self.seen.add(r["id"])
        pt = self.by_id[r["id"]]
        if r["status"] == "ok":
            self.progress.update("%s (%s seed %d)" % (pt["id"], describe(pt), pt["seed"]))
        else:
            err = str(r.get("error") or "").strip().replace("\n", " ") or "no message"
            self.failures.append((pt, r.get("exit"), err))
            self.progress.note("%s: point %s (%s, seed %d) FAILED (exit %s): %s" % (
                PROG, pt["id"], describe(pt), pt["seed"], r.get("exit"), err))
            self.progress.update("%s FAILED" % pt["id"], failed=True)

    def finish(self, why):
        """Points that neither reported nor left a summary count as failed (why: e.g. the batch died)."""
        failed = {pt["id"] for pt, _, _ in self.failures}
        for pid, pt in self.by_id.items():
            if pid not in failed and not self.done(pt):
                self.failures.append((pt, None, why))
        return self.failures


def run_local(tunsim, base, lay, todo, jobs, progress):
    """Run todo (points not finished yet) with `tunsim batch`; returns the failed points."""
    if not todo:
        return []
    pfile = os.path.join(lay.root, "batch-points.jsonl")
    write_points(pfile, [point_line(pt["id"], base, pt["sets"], pt["seed"], lay.point_file(pt)) for pt in todo])
    results = Results(todo, progress, lay.done)
    try:
        child = procs.Child([tunsim, "batch", pfile, "-j", str(jobs)], env=batch_env())
    except OSError as e:
        raise ToolError("cannot run %s: %s" % (tunsim, e.strerror or e))
    try:
        for line in child.lines():
            results.line(line)
        rc = child.wait()
    except BaseException:
        # Ctrl-C or SIGTERM: tunsim batch stops its points (its children end with it); a point
        # killed in the middle of its atomic write leaves only the temporary, removed here.
        child.stop()
        lay.remove_temporaries(todo)
        raise
    if rc == 2:
        bad = point_error(pfile, "\n".join(child.tail))
        raise SweepError("tunsim batch refused %s: %s" % (
            "point %s" % bad[1] if bad else pfile, bad[2] if bad else child.last_error()))
    if rc not in (0, 1):
        lay.remove_temporaries(todo)
        raise ToolError("%s batch exited with %s: %s" % (tunsim, status_text(rc), child.last_error() or "no message"))
    return results.finish("no result from tunsim batch (%s)" % status_text(rc))
