#!/usr/bin/python3
"""Benchmark of the simulator's speed and memory (not a test: it asserts nothing).

For the default scenario under every design it runs `tunsim run` several
times at two simulated durations and reports, as medians over the runs:
  - simulated packets per wall-second of the simulation loop (the figure
    tunsim prints on stderr: delivered packets / wall time of Engine::run),
  - the same over the whole process (start-up and JSON output included),
  - peak resident memory (ru_maxrss of the process), at both durations: it
    must not grow with the simulated duration.

    bench/bench.py [--tunsim build/tunsim] [--runs 5] [--short-ms 200] [--long-ms 2000] [-o bench/results.json]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time



def designs(tunsim):
    """The design registry, as tunsim prints it."""
    out = subprocess.run([tunsim, "designs", "--json"], capture_output=True, text=True, check=True).stdout
    return [d["name"] for d in json.loads(out)["designs"]]


def run_with_rusage(tunsim, design, duration_ms):
    stats = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tunsim-bench-%d.json" % os.getpid())
    cmd = [tunsim, "run", "configs/default.json", "--set", "design=" + design,
           "--set", "duration_ms=%g" % duration_ms, "-q", "-o", os.devnull, "--engine-stats", stats]
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(tunsim, cmd)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    err = b"".join(chunks).decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), err))
    with open(stats) as f:
        st = json.load(f)
    os.unlink(stats)
    packets, loop_wall = st["packets_delivered"], st["wall_s"]
    return {"packets": packets, "loop_wall_s": loop_wall, "process_wall_s": wall,
            "maxrss_kib": usage.ru_maxrss}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tunsim", default="build/tunsim")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--short-ms", type=float, default=200)
    ap.add_argument("--long-ms", type=float, default=2000)
    ap.add_argument("-o", "--output", default=None)
    a = ap.parse_args()
    if not os.access(a.tunsim, os.X_OK):
        sys.exit("bench: %s: not an executable (build first: bash scripts/setup)" % a.tunsim)
    version = subprocess.run([a.tunsim, "--version"], capture_output=True, text=True).stdout.strip()
    rows = []
    for d in designs(a.tunsim):
        row = {"design": d}
        for label, ms in (("short", a.short_ms), ("long", a.long_ms)):
            runs = [run_with_rusage(a.tunsim, d, ms) for _ in range(a.runs)]
            row[label] = {
                "duration_ms": ms,
                "packets": runs[0]["packets"],
                "loop_mpps_wall": statistics.median(r["packets"] / r["loop_wall_s"] / 1e6 for r in runs),
                "process_mpps_wall": statistics.median(r["packets"] / r["process_wall_s"] / 1e6 for r in runs),
                "maxrss_mib": statistics.median(r["maxrss_kib"] / 1024 for r in runs),
            }
        rows.append(row)
        s, l = row["short"], row["long"]
        print("%-16s %8.2f M pkt/wall-s (loop, %d ms sim) %8.2f (process) | peak RSS %6.1f MiB at %g ms, %6.1f MiB at %g ms"
              % (d, l["loop_mpps_wall"], a.long_ms, l["process_mpps_wall"], s["maxrss_mib"], a.short_ms,
                 l["maxrss_mib"], a.long_ms), flush=True)
    result = {"tool": version, "runs": a.runs, "cpu_model": cpu_model(), "nproc": os.cpu_count(),
              "kernel": platform.release(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "designs": rows}
    if a.output:
        tmp = a.output + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
