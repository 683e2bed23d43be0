#!/usr/bin/python3
"""footprint.py: the kernel code each modelled path runs per packet, measured on
the running kernel, and its size in bytes and 64-byte lines.

Method (docs/calibration.md, "Kernel footprints"): the write()-driven tap
workloads of scripts/capture-trace (scripts/tapwriter.c in a private network
namespace, frames of EtherType 0x88B5: plain tap, IFF_NAPI tap, tap bridged to
a second tap that taprx.c drains) run while `perf record` samples the writer
thread (cpu-clock, every PERIOD ns of its CPU time) with kernel call chains.
Each sample goes to the path of the innermost "anchor" function on its call
chain (ANCHORS: tun_get_user, net_rx_action, __netif_receive_skb_core,
sk_skb_reason_drop, br_handle_frame, ...); a chain that meets an interrupt
entry, or another softirq, before any anchor is "irq"; one in the write()
system call with no anchor is "syscall"; a user-space leaf is "user".  Each
sampled address is resolved to its function with /proc/kallsyms (size = next
symbol's address - this one's: it includes the padding up to the next
symbol).  A separate short run records every hit of the tracepoints
net:netif_receive_skb, skb:kfree_skb, irq:softirq_entry, napi:napi_poll and
raw_syscalls:sys_enter with its call chain: the hits per frame, and the
functions on every chain (certainly run for every packet).

Per path it reports the functions seen, with samples and sizes; those with at
least THRESHOLD samples, the half of what 1 ns per frame would give ("per
packet"); their bytes and the 64-byte lines they span (an upper bound of the
code fetched: whole functions); the distinct lines whose instructions were
sampled (a lower bound) and Chapman's capture-recapture estimate of their
number from two halves of the samples; and the sampled CPU time per frame.

The function tracer the brief asked for (every function entry of the writer
thread in an own tracefs instance) is refused by this machine's kernel:
it is locked down ("integrity"), and writing current_tracer=function or
set_ftrace_pid, or reading available_filter_functions, gives EPERM.
capture() records that refusal (function_tracer_refusal) and samples.

usage (as root):
  footprint.py capture [--frames N] [--period-ns P] [--cpu C] --tracefs DIR -o OUT.json
  footprint.py analyze PERF_SCRIPT_TEXT --frames N --period-ns P [--kallsyms FILE]
  footprint.py elf-sizes MODULE.ko...        function sizes from ELF symbol tables
The library functions are used by scripts/calibrate-machine.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The library footprint.py's users import from it.
from attribution import PATHS, analyze, attribute, call_sites, parse_perf_script, read_perf_text, resolve_chain  # noqa: E402,F401
from estimates import data_footprints, estimates  # noqa: E402,F401
from outfile import write_output  # noqa: E402
from symbols import InputError, Kallsyms, elf_function_sizes  # noqa: E402,F401

__all__ = ["PATHS", "analyze", "attribute", "call_sites", "parse_perf_script", "resolve_chain", "data_footprints",
           "estimates", "InputError", "Kallsyms", "elf_function_sizes", "capture", "run_workload"]

# Recorded, every hit with its call chain, in a run of their own (with the
# cpu-clock samples they slowed the writer 100-fold and their handlers showed
# up in the sampled paths).
TRACEPOINTS = [("net:netif_receive_skb", None), ("skb:kfree_skb", "protocol == 34997"),
               ("irq:softirq_entry", "vec == 3"), ("napi:napi_poll", None), ("raw_syscalls:sys_enter", None)]


def function_tracer_refusal(tracefs):
    """None if this kernel lets us use the function tracer, else why not."""
    inst = os.path.join(tracefs, "instances", f"tunsim-fp-probe-{os.getpid()}")
    try:
        os.mkdir(inst)
    except OSError as e:
        return f"cannot create a tracefs instance: {e.strerror}"
    try:
        with open(os.path.join(inst, "current_tracer"), "w") as f:
            f.write("function")
        with open(os.path.join(inst, "current_tracer"), "w") as f:
            f.write("nop")
        return None
    except OSError as e:
        return (f"the kernel refuses the function tracer ({inst}/current_tracer: {e.strerror}; "
                "this kernel is locked down: see /sys/kernel/security/lockdown)")
    finally:
        try:
            os.rmdir(inst)
        except OSError:
            pass


class Cleanup:
    """Things to undo, undone in reverse order, also on error or signal."""

    def __init__(self):
        self.actions = []

    def push(self, what, fn):
        self.actions.append((what, fn))

    def run(self):
        while self.actions:
            what, fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print(f"footprint: warning: cleanup of {what} failed: {e}", file=sys.stderr)


def sh(args, what, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({' '.join(args)}): {(r.stderr or r.stdout).strip().splitlines()[:1]}")
    return r.stdout


class PerfControl:
    """A perf record/stat process started disabled, driven through its control fifo."""

    def __init__(self, args, tmp, tag, cleanup):
        self.ctl, self.ack = os.path.join(tmp, tag + ".ctl"), os.path.join(tmp, tag + ".ack")
        os.mkfifo(self.ctl)
        os.mkfifo(self.ack)
        self.log = os.path.join(tmp, tag + ".log")
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen(args[:2] + ["-D", "-1", "--control", f"fifo:{self.ctl},{self.ack}"] + args[2:],
                                         stdout=lf, stderr=lf, env=dict(os.environ, PERF_PAGER="cat"))
        cleanup.push(f"{args[1]} ({tag})", self.stop)
        self.fctl = open(self.ctl, "w")
        # The ack fifo is read without blocking: perf closes its end after
        # answering a command, and a blocking reader would then see EOF.
        self.fack = os.open(self.ack, os.O_RDONLY | os.O_NONBLOCK)

    def command(self, cmd, timeout=20):
        self.fctl.write(cmd + "\n")
        self.fctl.flush()
        got, end = b"", time.monotonic() + timeout
        while b"\n" not in got and time.monotonic() < end and self.proc.poll() is None:
            try:
                chunk = os.read(self.fack, 64)
            except BlockingIOError:
                chunk = b""
            if chunk:
                got += chunk
            else:
                time.sleep(0.01)
        if not got.startswith(b"ack"):
            raise RuntimeError(f"perf did not acknowledge '{cmd}' (status {self.proc.poll()}, got {got!r}): "
                               f"{open(self.log).read().strip()[:300]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.fctl.close()
            os.close(self.fack)
        except OSError:
            pass
        if self.proc.returncode not in (0, -signal.SIGINT, 130):
            raise RuntimeError(f"perf failed ({self.proc.returncode}): {open(self.log).read().strip()[:300]}")


def run_workload(name, mode, bridge, count, cpu, tmp, cleanup, perf_modes, period_ns=None, log=print, reader_cpu=0):
    """Runs one tapwriter workload of COUNT frames under perf.

    perf_modes: "sample" (cpu-clock every PERIOD_NS with call chains) or
    "chains" (every tracepoint hit with its call chain; not together with
    "sample": the tracepoint handlers would be sampled as part of the paths).
    Returns {"frames", "elapsed_ns", "sample_text", "chain_text"}."""
    run = len([f for f in os.listdir(tmp) if f.startswith(name + ".")])
    tag = f"tsfp{os.getpid() % 100000}{name[0]}{run}"
    ns = f"tunsim-fp-{os.getpid()}-{name}-{run}"
    dev, peer, br = tag, tag + "b", tag + "r"
    writer = os.path.join(tmp, "tapwriter")
    tap_mac, peer_mac, far_mac = "02:00:00:00:00:10", "02:00:00:00:00:20", "02:00:00:00:00:30"
    sh(["ip", "netns", "add", ns], "ip netns add")
    cleanup.push(f"namespace {ns}", lambda: sh(["ip", "netns", "del", ns], "ip netns del"))
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1"], capture_output=True)
    args = ["ip", "netns", "exec", ns, writer, "--dev", dev, "--threads", "1", "--cpus", str(cpu),
            "--frame-bytes", "60", "--count", str(count), "--dst", far_mac if bridge else tap_mac,
            "--src", "02:00:00:00:00:01"]
    if mode == "napi":
        args.append("--napi")
    wlog = os.path.join(tmp, f"{name}.{run}.writer.log")
    with open(wlog, "w") as wl:
        w = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=wl, text=True)

    def stop_writer():
        if w.poll() is None:
            try:
                w.stdin.write("EXIT\n")
                w.stdin.flush()
            except OSError:
                pass
            try:
                w.wait(5)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
    cleanup.push(f"writer of {name}", stop_writer)
    ready = w.stdout.readline().split()
    if len(ready) != 2 or ready[0] != "READY":
        raise RuntimeError(f"tapwriter ({name}) did not start: {open(wlog).read().strip()[:200]}")
    tids = ready[1]
    ipn = lambda *a: sh(["ip", "-n", ns] + list(a), "ip " + " ".join(a))
    ipn("link", "set", "dev", dev, "address", tap_mac)
    if bridge:
        # The second bridge port is a tap with the noqueue qdisc (the
        # model's "tap bridged to a noqueue device") whose frames taprx reads
        # and discards on another CPU, so that every forwarded skb is freed:
        # a steady state.  (capture-trace's peer tap, which nobody reads,
        # keeps every skb, and the allocator then takes a new slab every few
        # frames: 80% of the sampled tun_get_user time in a first try.)
        rargs = ["ip", "netns", "exec", ns, os.path.join(tmp, "taprx"), "--dev", peer,
                 "--cpu", str(reader_cpu)]
        rx = subprocess.Popen(rargs, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)

        def stop_reader():
            if rx.poll() is None:
                try:
                    rx.stdin.write("EXIT\n")
                    rx.stdin.flush()
                    rx.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    rx.kill()
                    rx.wait()
        cleanup.push(f"tap reader of {name}", stop_reader)
        if rx.stdout.readline().strip() != "READY":
            raise RuntimeError(f"taprx did not start: {rx.stderr.read().strip()[:200]}")
        ipn("link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        ipn("link", "set", "dev", peer, "address", peer_mac, "txqueuelen", "100000")
        sh(["tc", "-n", ns, "qdisc", "replace", "dev", peer, "root", "noqueue"], "tc qdisc replace noqueue")
        ipn("link", "set", "dev", dev, "master", br)
        ipn("link", "set", "dev", peer, "master", br)
        ipn("link", "set", "dev", br, "up")
        ipn("link", "set", "dev", peer, "up")
    ipn("link", "set", "dev", dev, "up")
    if bridge:
        sh(["bridge", "-n", ns, "fdb", "add", far_mac, "dev", peer, "master", "static"], "bridge fdb add")
        for _ in range(50):
            out = sh(["bridge", "-n", ns, "link", "show"], "bridge link show")
            if out.count("state forwarding") >= 2:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the bridge ports did not reach the forwarding state")
    perfs = {}
    base = f"{name}.{run}"
    if "sample" in perf_modes:
        perfs["sample"] = PerfControl(["perf", "record", "-q", "-g", "-t", tids, "-o", os.path.join(tmp, base + ".s.data"),
                                       "-e", f"cpu-clock/period={period_ns}/"], tmp, base + ".s", cleanup)
    if "chains" in perf_modes:
        pargs = ["perf", "record", "-q", "-g", "-t", tids, "-o", os.path.join(tmp, base + ".t.data")]
        for ev, filt in TRACEPOINTS:
            pargs += ["-e", ev] + (["--filter", filt] if filt else [])
        perfs["chains"] = PerfControl(pargs, tmp, base + ".t", cleanup)
    for p in perfs.values():
        p.command("enable")
    log(f"  {name}: {count} frames on CPU {cpu} (tid {tids}), perf: {', '.join(perfs)}")
    w.stdin.write("GO\n")
    w.stdin.flush()
    done = w.stdout.readline().split()
    for p in perfs.values():
        # perf ends by itself when the writer thread it follows has ended.
        if p.proc.poll() is None:
            try:
                p.command("disable")
            except RuntimeError:
                if p.proc.poll() is None:
                    raise
        p.stop()
    if len(done) != 4 or done[0] != "DONE" or done[3] != "0":
        raise RuntimeError(f"tapwriter ({name}) failed: {' '.join(done)} {open(wlog).read().strip()[:200]}")
    res = {"frames": int(done[1]), "elapsed_ns": int(done[2])}
    if "sample" in perfs:
        d = os.path.join(tmp, base + ".s.data")
        res["sample_text"] = sh(["perf", "script", "-i", d, "-F", "event,tid,ip"], "perf script")
        os.unlink(d)
    if "chains" in perfs:
        d = os.path.join(tmp, base + ".t.data")
        res["chain_text"] = sh(["perf", "script", "-i", d, "-F", "event,tid,ip"], "perf script")
        os.unlink(d)
    stop_writer()
    return res


def capture(frames_per_workload, period_ns, cpu, tracefs, log=print, workloads=None, chain_frames=2000,
            same_cpu_reader=True):
    """Runs the workloads and returns the footprint record.

    Each workload writes FRAMES_PER_WORKLOAD frames sampled every PERIOD_NS of
    the writer's CPU time; then a separate run of CHAIN_FRAMES frames records
    every tracepoint hit with its call chain."""
    for tool in ("perf", "ip", "bridge", "cc"):
        if not shutil.which(tool):
            raise RuntimeError(f"'{tool}' is missing (perf: apt-get install linux-perf; ip, bridge: iproute2; "
                               "cc: build-essential)")
    ks = Kallsyms()
    refusal = function_tracer_refusal(tracefs)
    workloads = workloads or [("plain", "plain", False), ("napi", "napi", False), ("bridge", "plain", True)]
    cleanup = Cleanup()
    tmp = tempfile.mkdtemp(prefix="tunsim-footprint-")
    cleanup.push(f"directory {tmp}", lambda: shutil.rmtree(tmp, ignore_errors=True))
    rate_file = "/proc/sys/kernel/perf_event_max_sample_rate"
    rate_before = open(rate_file).read().strip()

    def restore_rate():
        if open(rate_file).read().strip() != rate_before:
            with open(rate_file, "w") as f:
                f.write(rate_before)
    cleanup.push("kernel.perf_event_max_sample_rate", restore_rate)
    out = {"method": "perf-sampling",
           "function_tracer": "refused: " + refusal if refusal else "available (not used: sampling is the method "
                              "implemented and tested)",
           "kallsyms": "/proc/kallsyms", "kernel": os.uname().release, "frames_per_workload": frames_per_workload,
           "period_ns": period_ns, "cpu": cpu, "workloads": {}}
    try:
        sh(["cc", "-O2", "-Wall", "-pthread", "-o", os.path.join(tmp, "tapwriter"),
            os.path.join(HERE, "..", "tapwriter.c")], "building scripts/tapwriter.c")
        sh(["cc", "-O2", "-Wall", "-pthread", "-o", os.path.join(tmp, "taprx"), os.path.join(HERE, "taprx.c")],
           "building scripts/machine/taprx.c")
        ncpu = os.cpu_count() or 1
        reader_cpu = cpu if same_cpu_reader else (cpu + 1) % ncpu
        for name, mode, bridge in workloads:
            per = Cleanup()  # this run's namespace, writer and perf
            try:
                r = run_workload(name, mode, bridge, frames_per_workload, cpu, tmp, per, ("sample",), period_ns, log,
                                 reader_cpu)
            finally:
                per.run()
            frames, elapsed = r["frames"], r["elapsed_ns"]
            per = Cleanup()
            try:
                rc = run_workload(name, mode, bridge, chain_frames, cpu, tmp, per, ("chains",), None, log, reader_cpu)
            finally:
                per.run()
            rec = analyze(parse_perf_script(r["sample_text"]), ks, frames, period_ns,
                          chains=parse_perf_script(rc["chain_text"]), chain_frames=rc["frames"])
            rec.update({"mode": mode, "bridge": bridge, "elapsed_ns": elapsed, "frame_bytes": 60,
                        "us_per_frame_while_sampled": round(elapsed / frames / 1e3, 3),
                        "chain_frames": rc["frames"], "bridge_port2": f"tap, noqueue, read on CPU {reader_cpu}" if bridge else None})
            out["workloads"][name] = rec
    finally:
        cleanup.run()
    out["perf_event_max_sample_rate"] = rate_before
    return out


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="footprint.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--frames", type=int, default=1500000)
    c.add_argument("--period-ns", type=int, default=200000)
    c.add_argument("--cpu", type=int, default=0)
    c.add_argument("--tracefs", required=True)
    c.add_argument("-o", required=True)
    a = sub.add_parser("analyze")
    a.add_argument("text")
    a.add_argument("--frames", type=int, required=True)
    a.add_argument("--period-ns", type=int, required=True)
    a.add_argument("--kallsyms", default="/proc/kallsyms")
    e = sub.add_parser("elf-sizes")
    e.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "elf-sizes":
            for p in args.files:
                for n, s in sorted(elf_function_sizes(p).items()):
                    print(s, n)
            return 0
        if args.cmd == "analyze":
            ks = Kallsyms(args.kallsyms)
            text = read_perf_text(args.text)
            rec = analyze(parse_perf_script(text, args.text), ks, args.frames, args.period_ns)
            json.dump(rec, sys.stdout, indent=1)
            print()
            return 0
        rec = capture(args.frames, args.period_ns, args.cpu, args.tracefs)
        write_output(args.o, json.dumps(rec, indent=1))
        return 0
    except InputError as ex:
        print(f"footprint.py: {ex}", file=sys.stderr)
        return 2
    except OSError as ex:
        print(f"footprint.py: {ex.filename}: {ex.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    import stdout
    stdout.run("footprint.py", main, sys.argv[1:])
