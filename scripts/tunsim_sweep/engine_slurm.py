"""The Slurm engine: a job array whose tasks each run `tunsim batch` on a chunk of points, and a
job that depends on the array (afterany) and merges points.csv (and plots with --plot).

Slurm refuses arrays whose largest index reaches MaxArraySize (1001 by default; read from
`scontrol show config` when scontrol is there), so the points are chunked: task i (0-based)
runs slurm-tasks/task-i.jsonl, at most --slurm-throttle tasks at a time (the %N of --array).
Files in results/NAME/: slurm.sh (the array), slurm-merge.sh (the dependent job),
slurm-submit.sh (submits both), slurm-tasks/, slurm-logs/.
"""

import glob
import math
import os
import re
import shlex
import shutil

from . import procs
from .errors import SweepError, ToolError
from .tunsim import batch_env_prefix, point_line, write_points
from .util import REPO, write_atomic

DEFAULT_MAX_ARRAY_SIZE = 1001  # Slurm's default MaxArraySize (slurm.conf(5))

ARRAY = r"""#!/bin/bash
# Slurm job array for the tunsim sweep %(name)s, written by scripts/sweep.
# Submit with slurm-submit.sh (the array, then slurm-merge.sh after it).  Task i runs the
# points of slurm-tasks/task-i.jsonl with one tunsim batch process, %(cpus)d at a time, and
# each point writes points/<id>.json atomically.  The nodes must see this folder, tunsim and
# the base scenario at the same paths (a shared file system).
#SBATCH --job-name=tunsim-%(name)s
#SBATCH --array=0-%(last)d%(throttle)s
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=%(cpus)d
#SBATCH --time=%(time)s
#SBATCH --output=%(logs)s/%%A_%%a.out
set -euo pipefail
task=${SLURM_ARRAY_TASK_ID:?run me with sbatch (or set SLURM_ARRAY_TASK_ID)}
exec %(env)s %(tunsim)s batch %(tasks)s/task-"$task".jsonl -j "${SLURM_CPUS_PER_TASK:-%(cpus)d}"
"""

MERGE = r"""#!/bin/bash
# Runs after the array of slurm.sh has ended (afterany: also when tasks failed):
# rebuilds points.csv from the finished points%(and_plot)s.
#SBATCH --job-name=tunsim-%(name)s-merge
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=%(logs)s/merge-%%j.out
set -euo pipefail
exec /usr/bin/python3 %(sweep)s --results-dir %(results)s %(what)s %(root)s
"""

SUBMIT = r"""#!/bin/bash
# Submits the array (slurm.sh) and the merge job (slurm-merge.sh) that runs after it.
set -euo pipefail
array=$(sbatch --parsable %(array)s)
array=${array%%%%;*}
merge=$(sbatch --parsable --dependency=afterany:"$array" %(merge)s)
merge=${merge%%%%;*}
echo "array job $array, merge job $merge"
"""


def max_array_size():
    """(MaxArraySize, where it comes from)."""
    if not shutil.which("scontrol"):
        return DEFAULT_MAX_ARRAY_SIZE, "Slurm's default; scontrol not found"
    try:
        rc, out, err = procs.run(["scontrol", "show", "config"], timeout=60)
    except OSError as e:
        return DEFAULT_MAX_ARRAY_SIZE, "Slurm's default; scontrol: %s" % (e.strerror or e)
    m = re.search(r"^MaxArraySize\s*=\s*(\d+)", out, re.M)
    if rc == 0 and m and int(m.group(1)) > 0:
        return int(m.group(1)), "scontrol show config"
    return DEFAULT_MAX_ARRAY_SIZE, "Slurm's default; scontrol show config did not say"


def plan_tasks(n, limit, per_task=None):
    """Points per task and number of tasks for n points under MaxArraySize limit."""
    least = math.ceil(n / limit)
    if per_task is None:
        per_task = max(1, least)
    elif per_task < least:
        raise SweepError("--points-per-task %d: %d points make %d array tasks, above MaxArraySize %d; "
                         "expected at least %d" % (per_task, n, math.ceil(n / per_task), limit, least))
    return per_task, math.ceil(n / per_task)


def write_slurm(tunsim, base, lay, name, todo, opts, sweep_cmd):
    """Write the scripts; returns (submit script, points per task, tasks, MaxArraySize, its source)."""
    limit, source = max_array_size()
    per_task, ntasks = plan_tasks(len(todo), limit, opts.points_per_task)
    tasks = os.path.join(lay.root, "slurm-tasks")
    logs = os.path.join(lay.root, "slurm-logs")
    os.makedirs(tasks, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    for old in glob.glob(os.path.join(glob.escape(tasks), "task-*.jsonl")):
        os.unlink(old)
    for t in range(ntasks):
        chunk = todo[t * per_task:(t + 1) * per_task]
        write_points(os.path.join(tasks, "task-%d.jsonl" % t),
                     [point_line(pt["id"], base, pt["sets"], pt["seed"], lay.point_file(pt)) for pt in chunk])
    q = shlex.quote
    array = os.path.join(lay.root, "slurm.sh")
    merge = os.path.join(lay.root, "slurm-merge.sh")
    submit = os.path.join(lay.root, "slurm-submit.sh")
    files = {
        array: ARRAY % {"name": name, "last": ntasks - 1, "throttle": "%%%d" % opts.slurm_throttle
                        if opts.slurm_throttle else "", "cpus": opts.slurm_cpus, "time": opts.slurm_time,
                        "logs": logs, "env": batch_env_prefix(), "tunsim": q(tunsim), "tasks": q(tasks)},
        merge: MERGE % {"name": name, "logs": logs, "sweep": q(os.path.join(REPO, "scripts", "sweep")),
                        "results": q(os.path.dirname(lay.root)), "what": "plot" if opts.plot else "merge",
                        "root": q(lay.root), "and_plot": ", then draws the figures and report.md" if opts.plot else ""},
        submit: SUBMIT % {"array": q(array), "merge": q(merge)},
    }
    for path, text in files.items():
        write_atomic(path, text)
        os.chmod(path, 0o755)
    return submit, per_task, ntasks, limit, source


def submit(script):
    """Run slurm-submit.sh; returns (array job id, merge job id)."""
    if not shutil.which("sbatch"):
        raise ToolError("sbatch not found: this machine cannot submit to Slurm; --no-submit writes the "
                        "scripts only")
    try:
        rc, out, err = procs.run(["bash", script], timeout=300)
    except OSError as e:
        raise ToolError("cannot run %s: %s" % (script, e.strerror or e))
    m = re.search(r"array job (\S+), merge job (\S+)", out)
    if rc != 0 or not m:
        lines = [l for l in (err + out).splitlines() if l.strip()]
        raise ToolError("submitting with %s failed (status %d): %s" % (script, rc, lines[-1] if lines else "no message"))
    return m.group(1), m.group(2)
