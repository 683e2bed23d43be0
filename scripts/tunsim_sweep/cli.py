"""The command line: plan, run, merge, plot, capacity (docs/sweeps.md, "Commands")."""

import argparse
import os
import shlex
import sys
import time

from . import PROG, engine_local, engine_parallel, engine_slurm
from .capacity import cmd_capacity
from .errors import SweepError, ToolError
from .merging import merge, read_points
from .planning import Layout, base_file, load_plan, make_points, write_plan
from .progress import Progress, end_line, say
from .sweepfile import DEFAULT_MAX_POINTS, load_sweep, shape
from .tunsim import find_tunsim, validate, version
from .util import REPO, file_sha, fmt_duration, rel


def results_root(args):
    return args.results_dir or os.path.join(REPO, "results")


def merge_command(args):
    """The merge command to print for later: the user's own spelling, --results-dir kept."""
    cmd = ["scripts/sweep"]
    if args.results_dir:
        cmd += ["--results-dir", args.results_dir]
    return " ".join(shlex.quote(c) for c in cmd + ["merge", args.sweep])


def cmd_plan(args):
    sw = load_sweep(args.sweep, args.max_points)
    all_axes, points = make_points(sw, file_sha(find_tunsim(args.tunsim)))
    lay = Layout(sw["name"], results_root(args))
    done = sum(1 for p in points if lay.done(p))
    print("sweep %s: %d points (%s; %d seed(s)), %d finished, results in %s" % (
        sw["name"], len(points), shape(sw), len(sw["seeds"]), done, rel(lay.root)))
    if args.verbose:
        for p in points:
            print("%s  %s  seed=%d  %s" % (p["id"], "done" if lay.done(p) else "todo", p["seed"], " ".join(p["sets"])))
    return 0


def check_run_options(args):
    if args.jobs < 0:
        raise SweepError("--jobs: expected a positive number, found %d" % args.jobs)
    only = {"parallel": ["sshloginfile", "chunk_size"],
            "slurm": ["points_per_task", "slurm_throttle", "slurm_cpus", "slurm_time", "no_submit"]}
    for engine, opts in only.items():
        for o in opts:
            v = getattr(args, o)
            if v not in (None, False) and args.engine != engine:
                raise SweepError("--%s: only with --engine %s" % (o.replace("_", "-"), engine))
    for o in ("chunk_size", "points_per_task", "slurm_throttle", "slurm_cpus"):
        v = getattr(args, o)
        if v is not None and v < 1:
            raise SweepError("--%s: expected a positive number, found %d" % (o.replace("_", "-"), v))
    if args.sshloginfile and not os.path.isfile(args.sshloginfile):
        raise SweepError("--sshloginfile: cannot read %s" % args.sshloginfile)


def cmd_run(args):
    check_run_options(args)
    sw = load_sweep(args.sweep, args.max_points)
    tunsim = find_tunsim(args.tunsim)
    tunsim_sha = file_sha(tunsim)
    all_axes, points = make_points(sw, tunsim_sha)
    jobs = args.jobs or os.cpu_count() or 1
    lay = Layout(sw["name"], results_root(args))
    lay.check_owner(sw["file"], sw["name"])
    try:
        os.makedirs(lay.points, exist_ok=True)
    except OSError as e:  # a parent that is a file, no permission: the user's path
        raise SweepError("%s: cannot create the results folder: %s" % (lay.points, e.strerror))
    engine_parallel.adopt(lay)  # summaries an interrupted GNU parallel run left behind
    base = base_file(sw, lay)
    ver = version(tunsim)
    validate(sw, tunsim, base, all_axes, points, lay)
    write_plan(sw, lay, all_axes, points, base, ver, tunsim, tunsim_sha)

    todo = [p for p in points if not lay.done(p)]
    done_before = len(points) - len(todo)
    how = {"local": "%d job(s)" % jobs, "parallel": "%d job(s) per host" % jobs,
           "slurm": "%d CPU(s) per array task" % (args.slurm_cpus or 1)}[args.engine]
    say("%s: %s: %d points (%d finished, %d to run), engine %s, %s, results in %s" % (
        PROG, sw["name"], len(points), done_before, len(todo), args.engine, how, rel(lay.root)))

    if args.engine == "slurm":
        return run_slurm(args, sw, tunsim, base, lay, todo, len(points))

    t0 = time.monotonic()
    progress = Progress(len(points), done_before, jobs)
    if args.engine == "parallel":
        failures = engine_parallel.run_parallel(tunsim, base, lay, todo, jobs, progress, args.sshloginfile,
                                                args.chunk_size)
    else:
        failures = engine_local.run_local(tunsim, base, lay, todo, jobs, progress)
    wall = time.monotonic() - t0
    plan, root = load_plan(lay.root, results_root(args), args.max_points)
    # The figures need the whole summaries: read once for the CSV and them.
    rows = read_points(plan, root) if args.plot and not failures else None
    n, total, ncols = merge(plan, root, rows)
    end_line()
    say("%s: %s: ran %d point(s) in %s; %s has %d of %d rows, %d columns" % (
        PROG, sw["name"], len(todo) - len(failures), fmt_duration(wall), rel(lay.csv), n, total, ncols))
    if failures:
        say("%s: %d point(s) failed; rerun to retry them" % (PROG, len(failures)))
        return 1
    if args.plot:
        return plot_root(plan, root, rows)
    return 0


def run_slurm(args, sw, tunsim, base, lay, todo, npoints):
    if not todo:
        merge(*load_plan(lay.root, results_root(args), args.max_points))
        print("all %d points are finished; nothing to submit" % npoints)
        return 0
    args.slurm_cpus = args.slurm_cpus or 1
    args.slurm_time = args.slurm_time or "00:30:00"
    script, per_task, ntasks, limit, source = engine_slurm.write_slurm(tunsim, base, lay, sw["name"], todo, args,
                                                                       merge_command(args))
    merge(*load_plan(lay.root, results_root(args), args.max_points))
    what = "%d array task(s) of up to %d point(s)%s; MaxArraySize %d (%s)" % (
        ntasks, per_task, ", at most %d at a time" % args.slurm_throttle if args.slurm_throttle else "", limit, source)
    if args.no_submit:
        print("wrote %s (%s), %s and %s; submit both with: bash %s; merge by hand with: %s" % (
            rel(os.path.join(lay.root, "slurm.sh")), what, rel(os.path.join(lay.root, "slurm-merge.sh")),
            rel(script), rel(script), merge_command(args)))
        return 0
    array, merge_job = engine_slurm.submit(script)
    print("submitted array job %s (%s) and merge job %s (after the array: %s); watch with: squeue -j %s,%s; "
          "merge by hand with: %s" % (array, what, merge_job, "merge and plot" if args.plot else "merge",
                                      array, merge_job, merge_command(args)))
    return 0


def cmd_merge(args):
    plan, root = load_plan(args.target, results_root(args), args.max_points)
    n, total, ncols = merge(plan, root)
    print("%s: %d of %d points finished, %d columns" % (rel(os.path.join(root, "points.csv")), n, total, ncols))
    return 0


def cmd_plot(args):
    plan, root = load_plan(args.target, results_root(args), args.max_points)
    return plot_root(plan, root)


def plot_root(plan, root, rows=None):
    """The figures and report of root's finished points; rows: those points as read_points
    gives them, points.csv already merged from them (run --plot), else read and merged here."""
    try:
        from . import report  # needs matplotlib
    except ImportError as e:
        raise ToolError("plot needs matplotlib for %s (apt-get install -y python3-matplotlib): %s"
                        % (sys.executable, e))
    if rows is None:
        rows = read_points(plan, root)
        merge(plan, root, rows)
    if not rows:
        raise SweepError("%s: no finished points to plot" % rel(root))
    files = report.plot_sweep(plan, root, rows)
    print("%s: %d figure file(s) in %s, report %s" % (
        plan["name"], len(files), rel(os.path.join(root, "figures")), rel(os.path.join(root, "report.md"))))
    return 0


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("%s: %s (see scripts/sweep --help)\n" % (PROG, message))
        sys.exit(2)


def positive_or_zero(s):
    try:
        return int(s)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer, found %r" % s)


def positive(s):
    n = positive_or_zero(s)
    if n < 1:
        raise argparse.ArgumentTypeError("expected a positive integer, found %r" % s)
    return n


def parser():
    ap = Parser(prog="scripts/sweep", description="Run tunsim over a grid of parameters (docs/sweeps.md).")
    ap.add_argument("--results-dir", help="folder holding NAME/ (default: the repository's results/)")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    limit = argparse.ArgumentParser(add_help=False)
    limit.add_argument("--max-points", type=positive, default=DEFAULT_MAX_POINTS,
                       help="refuse a plan of more points (default %d)" % DEFAULT_MAX_POINTS)
    tun = argparse.ArgumentParser(add_help=False)
    tun.add_argument("--tunsim", help="tunsim binary (default: $TUNSIM, else build/tunsim); part of each point's id")

    p = sub.add_parser("plan", parents=[limit, tun], help="list the points of a sweep without running anything")
    p.add_argument("sweep")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per point")
    p.set_defaults(fn=cmd_plan)

    p = sub.add_parser("run", parents=[limit, tun], help="validate, then run the unfinished points and merge points.csv")
    p.add_argument("sweep")
    p.add_argument("-j", "--jobs", type=positive_or_zero, default=0,
                   help="points at a time (default: number of cores); GNU parallel: jobs per host")
    p.add_argument("--engine", choices=["local", "parallel", "slurm"], default="local")
    p.add_argument("--sshloginfile", help="GNU parallel --sshloginfile (engine parallel)")
    p.add_argument("--chunk-size", type=positive_or_zero, help="points per GNU parallel job (engine parallel; "
                   "default: about 4 jobs per job slot, at most %d points each)" % engine_parallel.MAX_CHUNK)
    p.add_argument("--points-per-task", type=positive_or_zero,
                   help="points per Slurm array task (default: as few as MaxArraySize allows, at least 1)")
    p.add_argument("--slurm-throttle", type=positive_or_zero, help="at most N array tasks at a time (--array=...%%N)")
    p.add_argument("--slurm-cpus", type=positive_or_zero, help="#SBATCH --cpus-per-task, the points each task runs "
                   "at a time (default 1)")
    p.add_argument("--slurm-time", help="#SBATCH --time per array task (default 00:30:00)")
    p.add_argument("--no-submit", action="store_true", help="engine slurm: write the scripts, do not submit them")
    p.add_argument("--plot", action="store_true", help="plot and write the report afterwards")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("capacity", parents=[tun], help="closed-loop throughput per design; optionally write an "
                       "offered-load sweep")
    p.add_argument("base", nargs="?", default="configs/default.json", help="scenario (default configs/default.json)")
    p.add_argument("--set", action="append", default=[], help="override path.to.key=VALUE (repeatable)")
    p.add_argument("--designs", help="comma-separated designs (default: every design of `tunsim designs`)")
    p.add_argument("--seed", type=positive_or_zero, default=1)
    p.add_argument("-j", "--jobs", type=positive_or_zero, default=0, help="designs at a time (default: cores)")
    p.add_argument("--percent", default="10,25,50,75,90,100,125,150", help="load points, %% of capacity")
    p.add_argument("--load-sweep", metavar="OUT.json", help="write the offered-load sweep here")
    p.add_argument("--source-note", help="what the tunsim binary was built from, for the sweep's description "
                   "(default: the repository's git HEAD and whether sim/ or models/ have uncommitted changes)")
    p.set_defaults(fn=lambda a: cmd_capacity(a, find_tunsim))

    p = sub.add_parser("merge", parents=[limit], help="rebuild points.csv from the finished points")
    p.add_argument("target", help="sweep file or results/NAME folder")
    p.set_defaults(fn=cmd_merge)

    p = sub.add_parser("plot", parents=[limit], help="figures (PNG, SVG) and report.md from the finished points")
    p.add_argument("target", help="sweep file or results/NAME folder")
    p.set_defaults(fn=cmd_plot)
    return ap


class _StdoutError(Exception):
    pass


class _GuardedStdout:
    """sys.stdout whose write errors (a full disk) are _StdoutError, told from the OSErrors of
    the files a command reads and writes; a closed pipe stays BrokenPipeError."""

    def __init__(self, stream):
        self._s = stream

    def _guard(self, fn, *a):
        try:
            return fn(*a)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise _StdoutError(e.strerror or str(e)) from None

    def write(self, data):
        return self._guard(self._s.write, data)

    def flush(self):
        return self._guard(self._s.flush)

    def __getattr__(self, name):
        return getattr(self._s, name)


def main(argv):
    """Run a command; returns the exit status.  KeyboardInterrupt (SIGINT, SIGTERM) is left to
    scripts/sweep, which reports it in one line with status 130."""
    args = parser().parse_args(argv)
    sys.stdout = _GuardedStdout(sys.stdout)
    try:
        # A file there was an internal error (NotADirectoryError) in run, and
        # plan and merge read it as a folder without points.
        if args.results_dir and os.path.exists(args.results_dir) and not os.path.isdir(args.results_dir):
            raise SweepError("--results-dir %s: expected a folder, found a file" % args.results_dir)
        status = args.fn(args)
        sys.stdout.flush()
        return status
    except _StdoutError as e:
        # (A full disk under standard output was an internal error, exit 3.)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
        end_line()
        sys.stderr.write("%s: standard output: write failed: %s\n" % (PROG, e))
        return 2
    except SweepError as e:
        end_line()
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 2
    except ToolError as e:
        end_line()
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 3
    except BrokenPipeError:
        # stdout went away (| head): nothing more to say there.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug here, not bad input: one line, and where
        import traceback
        tb = traceback.extract_tb(e.__traceback__)[-1]
        end_line()
        sys.stderr.write("%s: internal error: %s: %s (%s:%d); please report it\n" % (
            PROG, type(e).__name__, e, os.path.basename(tb.filename), tb.lineno))
        return 3
