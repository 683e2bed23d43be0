#!/usr/bin/python3
"""Benchmark of the simulator's speed and memory (not a test: it asserts nothing).

For every design on the default scenario and every scenario in configs/ it
reports:
  - instructions per simulated packet, counted by callgrind (exact, whatever
    else the machine runs): the instructions of a long run minus a short one,
    over the packets delivered between them, so that start-up cancels out,
    and the same instructions over the packets handed to the kernel (sent
    by the guest or a writer, less those the guest's full ring dropped: a
    delivered packet, one still in flight or one the kernel dropped).  The
    two differ where the IFF_NAPI queue grows without bound (four and eight
    writers): there the writers hand over far more than the poller delivers;
  - the ratio of that to the hand-written limit (bench/limit/limit.cpp: the
    default scenario as a minimal discrete-event loop without SimGrid, whose
    results equal the simulator's with the cache model off);
  - one more row, `limit-model/rx_batched`: the default scenario run with
    the limit's own model (cache model off, constant costs, no stolen time:
    tests/integration/test_limit.cpp's sets), so that its ratio is the
    engine's and the model's structure alone, the same arithmetic in both;
  - simulated packets per CPU-second of the engine's loop and of the whole
    process, medians of --runs runs (CPU time, user + system);
  - peak resident memory at the short and the long simulated duration (it
    must not grow with the duration).

    bench/bench.py [--tunsim build/tunsim] [--limit build/bench/tunsim_limit] [--runs 5]
                   [--short-ms 20] [--long-ms 100] [--only NAME,...] [-o bench/results.json]
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "machine"))
from outfile import write_output  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


LIMIT_MODEL_ARGS = ["configs/default.json", "--set", "cache.enabled=false", "--set", "senders.0.guest.burst_phase=0",
                    "--set", "costs.spread.process=[]", "--set", "costs.spread.softirq=[]", "--set", "cpus.stall.ns=[]"]


def designs(tunsim):
    """The design registry, as tunsim prints it."""
    out = subprocess.run([tunsim, "designs", "--json"], capture_output=True, text=True, check=True).stdout
    return [d["name"] for d in json.loads(out)["designs"]]


def callgrind_instructions(cmd):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bench: %s failed under callgrind:\n%s" % (" ".join(cmd), r.stderr[-2000:]))
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    sys.exit("bench: no callgrind total for " + " ".join(cmd))


def run_once(tunsim, args, ms):
    """One run: packets delivered, engine wall, process CPU and peak RSS."""
    with tempfile.TemporaryDirectory() as d:
        stats, summary = os.path.join(d, "stats.json"), os.path.join(d, "summary.json")
        cmd = [tunsim, "run"] + args + ["--set", "duration_ms=%g" % ms, "-q", "-o", summary, "--engine-stats", stats]
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(tunsim, cmd)
        _, status, usage = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("bench: %s failed" % " ".join(cmd))
        with open(stats) as f:
            st = json.load(f)
    return {"packets": st["packets_delivered"], "engine_wall_s": st["wall_s"],
            "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}


def instructions_per_packet(tunsim, args, short_ms, long_ms):
    """Instructions per packet delivered and per packet handed to the kernel
    between the two durations."""
    counts, packets, handed = [], [], []
    for ms in (short_ms, long_ms):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "s.json")
            counts.append(callgrind_instructions([tunsim, "run"] + args + ["--set", "duration_ms=%g" % ms, "-q",
                                                                          "-o", out]))
            with open(out) as f:
                p = json.load(f)["packets"]
                packets.append(p["delivered"])
                handed.append(p["sent"] - p["dropped"].get("guest_ring_full", 0))
    d = counts[1] - counts[0]
    return d / max(1, packets[1] - packets[0]), d / max(1, handed[1] - handed[0])


def limit_instructions_per_packet(limit, short_ms, long_ms):
    counts, packets = [], []
    for ms in (short_ms, long_ms):
        counts.append(callgrind_instructions([limit, "%g" % ms]))
        packets.append(json.loads(subprocess.run([limit, "%g" % ms], capture_output=True, text=True,
                                                 check=True).stdout)["delivered"])
    return (counts[1] - counts[0]) / max(1, packets[1] - packets[0])


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
    ap.add_argument("--limit", default="build/bench/tunsim_limit")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--short-ms", type=float, default=20)
    ap.add_argument("--long-ms", type=float, default=100)
    ap.add_argument("--only", default="", help="comma-separated scenario names (default: all)")
    ap.add_argument("-o", "--output", default=None)
    a = ap.parse_args()
    os.chdir(REPO)
    for exe in (a.tunsim, a.limit):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s: not an executable (build first: bash scripts/setup)" % exe)
    version = subprocess.run([a.tunsim, "--version"], capture_output=True, text=True).stdout.strip()
    limit_ipp = limit_instructions_per_packet(a.limit, a.short_ms, a.long_ms)
    print("limit (bench/limit/limit.cpp, default scenario): %.0f instructions per packet" % limit_ipp, flush=True)
    cases = [("default/" + d, ["configs/default.json", "--set", "design=" + d]) for d in designs(a.tunsim)]
    # The default scenario with the limit's model (cache model off, constant
    # costs, no stolen time: the sets of tests/integration/test_limit.cpp,
    # whose results equal the limit's): what the engine and the model's
    # structure cost against the same arithmetic in a plain loop, apart from
    # the cache model, the cost spread and the stolen time.
    cases.append(("limit-model/rx_batched", LIMIT_MODEL_ARGS))
    for c in sorted(glob.glob("configs/*.json")):
        name = os.path.splitext(os.path.basename(c))[0]
        if name != "default":
            cases.append((name, [c]))
    only = set(x for x in a.only.split(",") if x)
    rows = []
    for name, args in cases:
        if only and name not in only:
            continue
        ipp, ipp_handed = instructions_per_packet(a.tunsim, args, a.short_ms, a.long_ms)
        runs = [run_once(a.tunsim, args, a.long_ms) for _ in range(a.runs)]
        short = [run_once(a.tunsim, args, a.short_ms) for _ in range(max(1, a.runs // 2))]
        row = {
            "scenario": name,
            "instructions_per_packet": round(ipp),
            "ratio_to_limit": round(ipp / limit_ipp, 2),
            "instructions_per_packet_handed": round(ipp_handed),
            "packets": runs[0]["packets"],
            "engine_mpps_per_cpu_s": round(statistics.median(r["packets"] / r["engine_wall_s"] / 1e6 for r in runs), 2),
            "process_mpps_per_cpu_s": round(statistics.median(r["packets"] / r["cpu_s"] / 1e6 for r in runs), 2),
            "maxrss_mib_short": round(statistics.median(r["maxrss_kib"] / 1024 for r in short), 1),
            "maxrss_mib_long": round(statistics.median(r["maxrss_kib"] / 1024 for r in runs), 1),
        }
        rows.append(row)
        print("%-26s %6d instr/pkt  x%-5.2f  (%6d per pkt handed over)  %6.2f M pkt/s (engine)  %6.2f (process)  RSS %5.1f / %5.1f MiB" % (
            name, row["instructions_per_packet"], row["ratio_to_limit"], row["instructions_per_packet_handed"],
            row["engine_mpps_per_cpu_s"],
            row["process_mpps_per_cpu_s"], row["maxrss_mib_short"], row["maxrss_mib_long"]), flush=True)
    result = {"tool": version, "runs": a.runs, "short_ms": a.short_ms, "long_ms": a.long_ms,
              "cpu_model": cpu_model(), "nproc": os.cpu_count(), "kernel": platform.release(),
              "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "limit_instructions_per_packet": round(limit_ipp), "scenarios": rows}
    if a.output:
        # scripts/machine/outfile.py: a regular file is replaced atomically; a link,
        # device or pipe is written through, never renamed over.
        write_output(a.output, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
