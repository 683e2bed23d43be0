#!/usr/bin/python3
"""Seed corpora of the fuzz harnesses (docs/fuzzing.md), made from configs/
and results/reference/ in the input layout each harness expects.

    fuzz/seeds.py TUNSIM OUTDIR

TUNSIM is a tunsim binary (it writes a summary and trace_metrics for the
diff seeds).  Writes OUTDIR/{config,trace,calibration,diff}/; the same tree
gives the same seeds.
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Trace seeds are heads of the reference traces: long enough to hold every
# event kind, short enough for libFuzzer's -max_len (fuzz/run: 64 KiB).
TRACE_HEAD_BYTES = 12000


def rel(*p):
    return os.path.join(ROOT, *p)


def put(outdir, kind, data):
    d = os.path.join(outdir, kind)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def trace_head(path):
    with gzip.open(path, "rb") as f:
        data = f.read(TRACE_HEAD_BYTES)
    return data[: data.rfind(b"\n") + 1]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: fuzz/seeds.py TUNSIM OUTDIR\n")
        return 2
    tunsim, out = sys.argv[1], sys.argv[2]
    ref = rel("results", "reference")
    traces = sorted(os.path.join(ref, f) for f in os.listdir(ref) if f.endswith(".trace.gz"))
    traces += sorted(os.path.join(ref, "validation", f) for f in os.listdir(os.path.join(ref, "validation"))
                     if f.endswith(".trace.gz"))
    sidecars = [t[: -len(".trace.gz")] + ".json" for t in traces if os.path.exists(t[: -len(".trace.gz")] + ".json")]

    # config: the config's text, then NUL-separated --set strings.
    for f in sorted(os.listdir(rel("configs"))):
        if f.endswith(".json"):
            text = open(rel("configs", f), "rb").read()
            put(out, "config", text)
            put(out, "config", text + b"\0kernel.netdev_budget=64\0senders.0.cpu=1\0calibration=reference")
    # trace: a mode byte (fuzz_trace.cpp), then the text.
    for t in traces:
        head = trace_head(t)
        for mode in (0, 1 | 8, 2 | 16, 4 | 16):
            put(out, "trace", bytes([mode]) + head)
    # calibration: a selector byte (0 calibration, 1 sidecar, 2 kmod).
    put(out, "calibration", b"\0" + open(rel("configs", "calibration", "reference.json"), "rb").read())
    for s in sidecars:
        put(out, "calibration", b"\1" + open(s, "rb").read())
    put(out, "calibration", b"\2" + open(os.path.join(ref, "kmod-qemu.json"), "rb").read())
    # diff: A, B, a tolerance file, --tol specs, NUL-separated; A and B are
    # trace heads, their trace_metrics, and a simulator summary.
    operands = [trace_head(t) for t in traces[:3]]
    for t in traces[:3]:
        m = subprocess.run([tunsim, "trace", "stats", "--json", "-"], input=trace_head(t), stdout=subprocess.PIPE,
                           check=True).stdout
        operands.append(json.dumps(json.loads(m), separators=(",", ":")).encode())
    summary = subprocess.run([tunsim, "run", rel("configs", "default.json"), "-q", "--set", "duration_ms=3", "-o", "-"],
                             stdout=subprocess.PIPE, check=True).stdout
    operands.append(json.dumps(json.loads(summary), separators=(",", ":")).encode())
    tol = json.dumps({"steady_mpps": 0.1, "write_ns": {"ks": 0.2, "p50": 0.1}}).encode()
    for i, a in enumerate(operands):
        b = operands[(i + 1) % len(operands)]
        put(out, "diff", a + b"\0" + b + b"\0" + tol + b"\0write_ns.ks=0.1\0packets=0.5")
        put(out, "diff", a + b"\0" + a + b"\0\0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
