"""The GNU parallel engine: the unfinished points in chunks, one `tunsim batch CHUNK -j 1` per
GNU parallel job, on this machine or on the hosts of --sshloginfile.

results/NAME/parallel/ holds chunk-NNNN.jsonl (the points of each job), chunks.txt (their
list, GNU parallel's input), parallel.joblog, and out/chunk-NNNN/ where each job writes its
summaries; the driver moves them into points/ (os.replace, atomic; a link, device or pipe found
there is written through instead, never renamed over) when GNU parallel ends, and
at the start of the next run if an interrupted run left some.  With --sshloginfile each chunk
file is sent to its host (--transferfile), its out/ folder comes back (--return), and an
inline base scenario is sent once per host (--basefile).
"""

import glob
import math
import os
import shlex
import shutil
import signal
import stat

from . import procs
from .engine_local import Results
from .errors import ToolError
from .tunsim import batch_env_prefix, point_line, write_points
from .util import write_atomic

CHUNKS_PER_JOB = 4  # chunks per GNU parallel job slot: a slow chunk does not hold up the end much
MAX_CHUNK = 100  # points per chunk: a batch start-up (about 0.1 s) is then < 1% of a chunk


def chunk_size(n, jobs, given=None):
    if given:
        return given
    return max(1, min(MAX_CHUNK, math.ceil(n / (CHUNKS_PER_JOB * jobs))))


def adopt(lay):
    """Move the summaries GNU parallel jobs wrote under parallel/out/ into points/."""
    out = os.path.join(lay.root, "parallel", "out")
    if not os.path.isdir(out):
        return 0
    n = 0
    os.makedirs(lay.points, exist_ok=True)
    for f in glob.glob(os.path.join(glob.escape(out), "*", "*.json")):
        dest = os.path.join(lay.points, os.path.basename(f))
        if os.path.lexists(dest) and not stat.S_ISREG(os.lstat(dest).st_mode):
            # Never renamed over: a link, device or pipe a user put there is written
            # through (write_atomic, as every output of the tool), then the job's file goes.
            with open(f, "rb") as fh:
                write_atomic(dest, fh.read())
            os.unlink(f)
        else:
            os.replace(f, dest)
        n += 1
    for f in glob.glob(os.path.join(glob.escape(out), "*", ".*.json.tmp.*")):  # a job killed while writing
        try:
            os.unlink(f)
        except OSError:
            pass
    for d in glob.glob(os.path.join(glob.escape(out), "*")):
        try:
            os.rmdir(d)
        except OSError:
            pass
    return n


def run_parallel(tunsim, base, lay, todo, jobs, progress, sshloginfile=None, chunk=None):
    if not shutil.which("parallel"):
        raise ToolError("GNU parallel not found (apt-get install -y parallel)")
    if not todo:
        return []
    pdir = os.path.join(lay.root, "parallel")
    outroot = os.path.join(pdir, "out")
    os.makedirs(pdir, exist_ok=True)
    for old in glob.glob(os.path.join(glob.escape(pdir), "chunk-*.jsonl")):
        os.unlink(old)
    size = chunk_size(len(todo), jobs, chunk)
    files = []
    for i in range(0, len(todo), size):
        name = "chunk-%04d" % (len(files) + 1)
        f = os.path.join(pdir, name + ".jsonl")
        write_points(f, [point_line(pt["id"], base, pt["sets"], pt["seed"], os.path.join(outroot, name, pt["id"] + ".json"))
                         for pt in todo[i:i + size]])
        files.append(f)
    listfile = os.path.join(pdir, "chunks.txt")
    write_atomic(listfile, "".join(f + "\n" for f in files))
    # {} is the chunk file, {/.} its name without .jsonl; GNU parallel quotes them for the shell.
    # exec: tunsim batch is GNU parallel's own child, which GNU parallel stops when it is stopped
    # itself (SIGTERM, which the driver's death sends it); setpriv --pdeathsig (util-linux 2.33+,
    # where there is one) also ends a batch that GNU parallel started while it was being stopped.
    batch = "%s %s batch {} -j 1" % (batch_env_prefix(), shlex.quote(tunsim))
    template = ("mkdir -p %s/{/.} && if setpriv --pdeathsig TERM -- true 2>/dev/null; "
                "then exec setpriv --pdeathsig TERM -- %s; else exec %s; fi" % (shlex.quote(outroot), batch, batch))
    cmd = ["parallel", "--will-cite", "--line-buffer", "--jobs", str(jobs),
           "--joblog", os.path.join(pdir, "parallel.joblog"), "--arg-file", listfile]
    if sshloginfile:
        # Remote hosts run the same absolute paths of tunsim and the base scenario.
        cmd += ["--sshloginfile", os.path.abspath(sshloginfile), "--transferfile", "{}", "--return",
                outroot + "/{/.}"]
        if base.startswith(lay.root + os.sep):  # an inline base written into results/NAME/
            cmd += ["--basefile", base]
    cmd.append(template)
    results = Results(todo, progress, lay.done)
    try:
        child = procs.Child(cmd, stop_signal=signal.SIGTERM)
    except OSError as e:
        raise ToolError("cannot run GNU parallel: %s" % (e.strerror or e))
    try:
        for line in child.lines():
            results.line(line)
        rc = child.wait()
    except BaseException:
        child.stop()  # GNU parallel stops its jobs (TERM, then KILL: --termseq)
        adopt(lay)
        lay.remove_temporaries(todo)
        raise
    adopt(lay)
    why = "no summary came back (GNU parallel exit status %d; see %s)" % (rc, os.path.join(pdir, "parallel.joblog"))
    if rc != 0 and child.last_error():
        why += ": " + child.last_error()
    return results.finish(why)
