#!/usr/bin/python3
"""A stand-in for the tunsim binary in the sweep driver's unit tests: the commands the driver
uses (--version, designs --json, config-reference --json, batch [--validate-only]) with the
interface of the real ones (docs/sweeps.md, scripts/tunsim_sweep/tunsim.py), and summaries that
are a deterministic function of the point (a hash of its config, --set list and seed), so that two engines that
run the same points must produce byte-identical summaries.

What the fake checks in a point (its "schema"): the config file exists and is a JSON object;
each --set path starts with a known prefix; design is one of the fake registry's names;
tun.rx_frames is an integer >= 0; the seed is an integer >= 0.  Test hooks, accepted as --set
keys: fake.sleep_s=X (the point sleeps X seconds), fake.fail=true (the point fails, exit 3);
environment: FAKE_TUNSIM_LOG=FILE appends one JSON line per call (its arguments and, for
batch, the points it read and its LD_BIND_NOW), FAKE_VALIDATE_DELAY=S sleeps S seconds per validated point.
"""
import ctypes
import hashlib
import json
import os
import signal
import sys
import time

VERSION = "0.0.0-fake"
DESIGNS = [
    {"name": "alpha", "kernel_version": "4.9", "napi": False, "description": "fake design without a NAPI poll"},
    {"name": "beta", "kernel_version": "4.11", "napi": False, "description": "fake design, batched"},
    {"name": "gamma", "kernel_version": "4.15", "napi": True, "description": "fake design with a NAPI poll"},
]
PREFIXES = ("duration_ms", "warmup_ms", "design", "tun.", "kernel.", "senders.", "fake.")
# `config-reference --json`: the declarations the driver reads (the real range of the offered rate).
PARAMETERS = [{"path": "tun.rx_frames", "type": "integer", "min": 0, "max": 1000000000, "default": 0},
              {"path": "senders.*.guest.rate_mpps", "type": "number", "min": 1e-06, "max": 10000, "default": 1.0}]


class Bad(Exception):
    pass


def check(point, base_dir):
    cfg = point.get("config")
    if cfg is not None:
        path = cfg if os.path.isabs(cfg) else os.path.join(base_dir, cfg)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise Bad("%s: cannot read a scenario: %s" % (cfg, e))
        if not isinstance(doc, dict):
            raise Bad("%s: expected a JSON object" % cfg)
    where = cfg or "(built-in default)"
    sets = {}
    for s in point.get("sets", []):
        if "=" not in s:
            raise Bad("--set %s: expected path=VALUE" % s)
        k, v = s.split("=", 1)
        if not k.startswith(PREFIXES):
            raise Bad("%s: %s: unknown key \"%s\"" % (where, k, k.split(".")[-1]))
        try:
            v = json.loads(v)
        except ValueError:
            pass
        if k == "design" and v not in [d["name"] for d in DESIGNS]:
            raise Bad("%s: design: expected one of %s, found %s" % (where, ", ".join(d["name"] for d in DESIGNS),
                                                                    json.dumps(v)))
        if k == "tun.rx_frames" and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            raise Bad("%s: tun.rx_frames: expected an integer >= 0, found %s" % (where, json.dumps(v)))
        sets[k] = v
    seed = point.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise Bad("seed: expected an integer >= 0, found %s" % json.dumps(seed))
    if not isinstance(point.get("id"), str) or not isinstance(point.get("out"), str):
        raise Bad("expected \"id\" and \"out\" strings")
    return sets, seed


def summary(point, sets, seed):
    # The config's file name, not its path: the tests write configs under a
    # random temporary folder, and a path in the hash made the summaries'
    # keys (dropped.ring_full only when h is odd) differ from run to run, so
    # a 4-point sweep had 34 CSV columns once in 16 runs instead of 35.
    config = os.path.basename(point["config"]) if point.get("config") else point.get("config")
    h = int(hashlib.sha256(json.dumps([config, point.get("sets", []), seed]).encode()).hexdigest(), 16)
    mpps = round(0.2 + (h % 10007) / 10007.0, 6)
    lat = 10 + (h >> 20) % 400
    bins = [[i - 0.5, i + 0.5, 1 + (h >> (8 * i)) % 50] for i in range(1, 5)]
    return {
        "tunsim_version": VERSION,
        "schema": 1,
        "design": sets.get("design", "alpha"),
        "seed": seed,
        "throughput_mpps": mpps,
        "throughput_gbps": round(mpps * 0.48, 6),
        "packets": {"sent": 1000, "delivered": 900, "dropped": {"ring_full": 100} if h % 2 else {},
                    "dropped_total": 100 if h % 2 else 0},
        "latency_us": {"p50": float(lat), "p99": lat * 1.5, "p999": lat * 2.0, "max": lat * 3.0},
        "latency_ns": {"kind": "log", "count": 3, "bins": [[lat * 900.0, lat * 1100.0, 2], [lat * 2900.0, lat * 3000.0, 1]]},
        "cpu": [{"cpu": 0, "process_frac": 0.0, "softirq_frac": 0.0, "ksoftirqd_frac": 0.0, "idle_frac": 1.0},
                {"cpu": 1, "process_frac": 0.5, "softirq_frac": 0.3, "ksoftirqd_frac": 0.1, "idle_frac": 0.1}],
        "batch": {"kind": "integer", "mean": 2.5, "p50": 2.0, "bins": bins},
        "napi": {"polls": h % 97, "budget_exhausted": h % 7},
        "softirq": {"time_squeeze": h % 5, "ksoftirqd_wakeups": h % 11},
        "config_resolved": {"design": sets.get("design", "alpha"), "senders": [{"cpu": 1}], "sets": sets},
    }


def write_atomic(path, text):
    """As tunsim does (sim/io/files.cpp): a temporary .NAME.tmp.XXXXXX beside it, then rename."""
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp.", dir=os.path.dirname(path) or ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run_point(point, sets, seed):
    """In the forked child: returns (exit status, error)."""
    if sets.get("fake.sleep_s"):
        time.sleep(float(sets["fake.sleep_s"]))
    if sets.get("fake.fail"):
        return 3, "fake failure of point %s" % point["id"]
    write_atomic(point["out"], json.dumps(summary(point, sets, seed), indent=2) + "\n")
    return 0, ""


def batch(args):
    validate_only = "--validate-only" in args
    args = [a for a in args if a != "--validate-only"]
    jobs = os.cpu_count() or 1
    if "-j" in args:
        i = args.index("-j")
        jobs = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write("tunsim: batch: expected POINTS.jsonl\n")
        return 2
    name = args[0]
    text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
    points = []
    lines = [(n + 1, l) for n, l in enumerate(text.splitlines()) if l.strip()]
    log({"argv": ["batch"] + sys.argv[2:], "points": [l for _, l in lines], "ld_bind_now": os.environ.get("LD_BIND_NOW"),
         "glibc_tunables": os.environ.get("GLIBC_TUNABLES")})
    delay = float(os.environ.get("FAKE_VALIDATE_DELAY", "0"))
    for k, (n, l) in enumerate(lines):
        try:
            p = json.loads(l)
            sets, seed = check(p, os.getcwd())
        except ValueError as e:
            sys.stderr.write("tunsim: %s:%d: invalid JSON: %s\n" % (name, n, e))
            return 2
        except Bad as e:
            sys.stderr.write("tunsim: %s:%d: point %s: %s\n" % (name, n, p.get("id"), e))
            return 2
        points.append((p, sets, seed))
        time.sleep(delay)
        if (k + 1) % 100 == 0 or k + 1 == len(lines):
            sys.stderr.write("batch: validated %d/%d\n" % (k + 1, len(lines)))
            sys.stderr.flush()
    if validate_only:
        return 0
    libc = ctypes.CDLL(None)
    running = {}  # pid -> (point, start, read end of its error pipe)
    failed = 0

    def on_int(signum, frame):
        for pid in running:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        sys.exit(130)
    signal.signal(signal.SIGINT, on_int)
    queue = list(points)
    while queue or running:
        while queue and len(running) < jobs:
            p, sets, seed = queue.pop(0)
            r, w = os.pipe()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: end with the batch
                if os.getppid() != parent:  # the batch ended before prctl took effect
                    os._exit(143)
                os.close(r)
                code, err = run_point(p, sets, seed)
                os.write(w, err.encode())
                os._exit(code)
            os.close(w)
            running[pid] = (p, time.monotonic(), r)
        pid, st = os.wait()
        p, t0, r = running.pop(pid)
        err = os.read(r, 65536).decode()
        os.close(r)
        code = os.waitstatus_to_exitcode(st)
        failed += code != 0
        print(json.dumps({"id": p["id"], "status": "ok" if code == 0 else "failed", "exit": code, "error": err,
                          "wall_s": round(time.monotonic() - t0, 3)}), flush=True)
    return 1 if failed else 0


def log(entry):
    if os.environ.get("FAKE_TUNSIM_LOG"):
        with open(os.environ["FAKE_TUNSIM_LOG"], "a") as f:
            f.write(json.dumps(entry) + "\n")


def main(argv):
    if argv[:1] != ["batch"]:
        log({"argv": argv})
    if argv == ["--version"]:
        print("tunsim " + VERSION)
        return 0
    if argv[:1] == ["designs"]:
        if argv[1:] != ["--json"]:
            sys.stderr.write("tunsim: designs: expected --json\n")
            return 2
        print(json.dumps({"designs": DESIGNS}))
        return 0
    if argv == ["config-reference", "--json"]:
        print(json.dumps({"parameters": PARAMETERS}))
        return 0
    if argv[:1] == ["batch"]:
        return batch(argv[1:])
    sys.stderr.write("tunsim: fake: unknown command %s\n" % " ".join(argv))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
