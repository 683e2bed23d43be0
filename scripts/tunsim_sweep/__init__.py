"""tunsim sweeps: run a base scenario over a grid (or zip) of parameter values.

The package behind scripts/sweep (docs/sweeps.md).  One module per job:

    sweepfile   read and check a sweep file (size, nesting and number bounds)
    planning    count, then expand the points; ids; results/NAME/ layout; plan.json
    tunsim      find the binary, `tunsim designs --json`, the batch points file,
                validation of a whole sweep with one `tunsim batch --validate-only`
    procs       child processes that end with the driver (PR_SET_PDEATHSIG)
    progress    [done/total] ETA lines on stderr
    engine_local, engine_parallel, engine_slurm
                run the points: `tunsim batch` here, through GNU parallel (one
                batch per chunk of points and host), or as a Slurm job array
                (one batch per array task and chunk)
    merging     points.csv from the finished summaries
    capacity    closed-loop capacity per design and the offered-load sweep
    cli         the command line (plan, run, merge, plot, capacity)
    plotting, figures, report
                figures and report.md (need matplotlib; imported only by plot)

The driver uses the Python 3 standard library only; plot needs matplotlib.
"""

PROG = "sweep"
