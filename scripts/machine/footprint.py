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
import bisect
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = 64
PATHS = ["syscall", "tun_get_user", "softirq", "netif_receive_skb", "stack", "vhost", "receiver"]

# Innermost anchor on a call chain decides the path.  Names as this kernel
# (6.18) spells them; inlined functions (tun_alloc_skb, tun_rx_batched,
# tun_napi_receive, gro_normal_list) are part of their callers.
ANCHORS = {
    # stack: protocol work after __netif_receive_skb_core; for 0x88B5 on a
    # plain tap the drop (kfree_skb_reason -> sk_skb_reason_drop), on a
    # bridge the forward (br_handle_frame .. dev_queue_xmit .. the peer).
    "sk_skb_reason_drop": "stack", "kfree_skb_reason": "stack", "__kfree_skb": "stack",
    "kfree_skb_list_reason": "stack",
    # ... and what they tail-call.  A tail call leaves no frame of the caller
    # (kmem_cache_free's chain goes straight to __netif_receive_skb_core), so
    # the return addresses of calls into anchors, learnt from the tracepoint
    # chains (call_sites), also decide the path.
    "kfree_skbmem": "stack", "skb_release_all": "stack", "skb_release_data": "stack",
    "skb_release_head_state": "stack", "skb_free_head": "stack", "br_handle_frame": "stack", "ip_rcv": "stack",
    "ipv6_rcv": "stack", "packet_rcv": "stack", "tpacket_rcv": "stack",
    # netif_receive_skb: the core receive and GRO, before the protocol.
    "netif_receive_skb": "netif_receive_skb", "__netif_receive_skb": "netif_receive_skb",
    "__netif_receive_skb_one_core": "netif_receive_skb", "netif_receive_skb_list_internal": "netif_receive_skb",
    "__netif_receive_skb_list_core": "netif_receive_skb", "gro_receive_skb": "netif_receive_skb",
    "napi_gro_receive": "netif_receive_skb", "dev_gro_receive": "netif_receive_skb",
    "napi_gro_flush": "netif_receive_skb", "__napi_gro_flush_chain": "netif_receive_skb",
    "gro_flush": "netif_receive_skb", "netif_receive_skb_core": "netif_receive_skb",
    # softirq: net_rx_action / napi_poll bookkeeping, and scheduling the NAPI
    # (__do_softirq's own code: SOFTIRQ_CORE below).
    "net_rx_action": "softirq", "__napi_poll": "softirq", "napi_poll": "softirq",
    "tun_napi_poll": "softirq", "napi_complete_done": "softirq", "__napi_schedule": "softirq",
    "napi_schedule_prep": "softirq", "raise_softirq_irqoff": "softirq",
    # tun_get_user: the tun driver's copy and skb build up to the hand-off.
    "tun_get_user": "tun_get_user",
}
ANCHOR_PREFIXES = [("__netif_receive_skb_core", "netif_receive_skb")]
# The softirq loop itself: a sample in its own code is the softirq round's
# bookkeeping; a chain that passes through it with no anchor below ran
# another softirq (timers, RCU): "irq".
SOFTIRQ_CORE = {"handle_softirqs", "__do_softirq", "do_softirq", "do_softirq.part.0"}
IRQ_PREFIXES = ("asm_sysvec_", "sysvec_", "__sysvec_", "asm_common_interrupt", "common_interrupt",
                "asm_exc_", "exc_", "irq_exit_rcu")
SYSCALL_ROOTS = ("do_syscall_64", "x64_sys_call", "entry_SYSCALL_64", "entry_SYSCALL_64_after_hwframe")
# Every TP_PERIOD-th hit of each tracepoint is recorded, with its call chain
# (every hit with a chain slowed the writer 100-fold).
TP_PERIOD = 97
TRACEPOINTS = [("net:netif_receive_skb", None), ("skb:kfree_skb", "protocol == 34997"),
               ("irq:softirq_entry", "vec == 3"), ("napi:napi_poll", None), ("raw_syscalls:sys_enter", None)]


class InputError(Exception):
    pass


# ---- symbols ------------------------------------------------------------------

class Kallsyms:
    """Kernel symbols sorted by address; size = next symbol's address - this."""

    def __init__(self, path="/proc/kallsyms"):
        self.path = path
        syms = []
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) < 3:
                    raise InputError(f"{path}:{n}: expected 'ADDRESS TYPE NAME', found '{line.strip()}'")
                try:
                    addr = int(parts[0], 16)
                except ValueError:
                    raise InputError(f"{path}:{n}: expected a hex address, found '{parts[0]}'") from None
                syms.append((addr, parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
        if not syms or all(a == 0 for a, _, _, _ in syms):
            raise InputError(f"{path}: every address is 0: kernel.kptr_restrict hides them (run as root, "
                             "or sysctl kernel.kptr_restrict=0)")
        syms.sort(key=lambda s: s[0])
        addrs = sorted({a for a, _, _, _ in syms})
        self.funcs = []  # (addr, name, size or None, module)
        for addr, typ, name, mod in syms:
            if typ not in "tTwW":
                continue
            i = bisect.bisect_right(addrs, addr)
            size = addrs[i] - addr if i < len(addrs) else None
            self.funcs.append((addr, name, size, mod))
        self.starts = [f[0] for f in self.funcs]
        self.by_name = {}
        for f in self.funcs:
            self.by_name.setdefault(f[1], f)

    def resolve(self, ip):
        """(start, name, size) of the function holding ip, or None."""
        i = bisect.bisect_right(self.starts, ip) - 1
        if i < 0:
            return None
        addr, name, size, _mod = self.funcs[i]
        # Several names at one address: the last one wins in bisect; prefer
        # the one that is not a __pfx_ padding symbol.
        j = i
        while j > 0 and self.funcs[j - 1][0] == addr:
            j -= 1
        for k in range(j, i + 1):
            if not self.funcs[k][1].startswith("__pfx_"):
                addr, name, size, _mod = self.funcs[k]
                break
        if size is not None and ip >= addr + size:
            return None
        return addr, name, size


def elf_function_sizes(path):
    """{name: size} of the FUNC symbols of an ELF file (exact st_size)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
        raise InputError(f"{path}: offset 0: expected a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]
    out = {}
    for s in secs:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        stroff = strtab[4]
        for k in range(s[5] // 24):
            name_off, info, _other, _shndx, _value, size = struct.unpack_from("<IBBHQQ", d, s[4] + 24 * k)
            if info & 0xF != 2:  # STT_FUNC
                continue
            end = d.index(b"\0", stroff + name_off)
            out[d[stroff + name_off:end].decode()] = size
    return out


# ---- attribution -----------------------------------------------------------------

def anchor_of(name):
    if name in ANCHORS:
        return ANCHORS[name]
    base = name.split(".")[0]
    if base in ANCHORS:
        return ANCHORS[base]
    for prefix, path in ANCHOR_PREFIXES:
        if name.startswith(prefix):
            return path
    return None


def attribute(names, ips=None, callsites=None):
    """Path of a call chain given as function names, leaf first (None: user).

    callsites: {return address: path} of calls into anchor functions, learnt
    from the tracepoint chains (call_sites()): a frame whose return address
    is one of them was called from that call, even when the anchor's own
    frame is gone (it tail-called the code the sample is in)."""
    if not names or names[0] is None:
        return "user"
    for i, n in enumerate(names):
        if n is None:
            break
        if i > 0 and callsites and ips[i] in callsites:
            return callsites[ips[i]]
        a = anchor_of(n)
        if a:
            return a
        if n in SOFTIRQ_CORE:
            return "softirq" if i == 0 else "irq"
        if n.startswith(IRQ_PREFIXES):
            return "irq"
    for n in names:
        if n in SYSCALL_ROOTS:
            return "syscall"
    return "other"


def parse_perf_script(text, origin="perf script"):
    """[(event, tid, [ip, ...])] from `perf script -F event,tid,ip` text."""
    out = []
    cur = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if cur:
                out.append(cur)
            cur = None
            continue
        if line[0] in " \t" and cur is not None and line.strip()[0] in "0123456789abcdef":
            tok = line.split()[0]
            try:
                cur[2].append(int(tok, 16))
            except ValueError:
                raise InputError(f"{origin}:{n}: expected a hex address, found '{tok}'") from None
            continue
        m = re.match(r"\s*(\d+)\s+(\S+?):?\s*$", line)
        if not m:
            raise InputError(f"{origin}:{n}: expected 'TID EVENT:' or a call-chain address, found '{line.strip()}'")
        if cur:
            out.append(cur)
        ev = m.group(2).rstrip(":")
        cur = (ev, int(m.group(1)), [])
    if cur:
        out.append(cur)
    return out


def call_sites(ks, chains):
    """{return address: path} of the calls into anchor functions seen on chains."""
    sites = {}
    for _ev, _tid, chain in chains:
        res = resolve_chain(ks, chain)
        for i in range(len(chain) - 1):
            a = anchor_of(res[i][1]) if res[i] else None
            if a and res[i + 1]:
                sites.setdefault(chain[i + 1], a)
    return sites


def resolve_chain(ks, chain):
    is_kernel = lambda ip: ip >= 0xFFFF800000000000
    return [ks.resolve(ip) if is_kernel(ip) else None for ip in chain]


def span(funcs):
    """Distinct 64-byte lines covered by [(addr, size)]."""
    lines = set()
    for addr, size in funcs:
        a = addr & ~(LINE - 1)
        while a < addr + size:
            lines.add(a)
            a += LINE
    return lines


def chapman(a, b):
    """Chapman's capture-recapture estimate of a population seen as sets a, b."""
    both = len(a & b)
    return round((len(a) + 1) * (len(b) + 1) / (both + 1) - 1, 1)


def analyze(samples, ks, frames, period_ns, chains=(), chain_frames=None, min_ns_per_packet=1.0):
    """Per-path footprints from parsed cpu-clock samples (see the module docstring).

    samples: [(event, tid, [ip, ...])] of the cpu-clock event over FRAMES
    frames; chains: the same for tracepoint hits, every hit recorded, over
    CHAIN_FRAMES frames of a separate run."""
    if frames <= 0:
        raise InputError("frames: expected a positive number of packets")
    # A function or line "runs per packet" when it has at least half the
    # samples that min_ns_per_packet of time per frame would give (Poisson:
    # a function really taking that long is missed with probability 6% at
    # 7.5 expected samples, and much less above).
    expected = min_ns_per_packet * frames / period_ns
    threshold = max(1, round(0.5 * expected))
    sites = call_sites(ks, chains)
    paths = {}
    total = 0
    for k, (_ev, _tid, chain) in enumerate(samples):
        res = resolve_chain(ks, chain)
        total += 1
        path = attribute([r[1] if r else None for r in res], chain, sites)
        p = paths.setdefault(path, {"samples": 0, "funcs": {}, "lines": {}, "halves": (set(), set())})
        p["samples"] += 1
        if not chain or not res[0]:
            continue
        addr, name, size = res[0]
        f = p["funcs"].setdefault(name, {"addr": addr, "size": size, "samples": 0})
        f["samples"] += 1
        line = chain[0] & ~(LINE - 1)
        p["lines"][line] = p["lines"].get(line, 0) + 1
        p["halves"][k % 2].add(line)
    chain_funcs, nchains = {}, {}
    for ev, _tid, chain in chains:
        nchains[ev] = nchains.get(ev, 0) + 1
        for r in {r for r in resolve_chain(ks, chain) if r}:
            chain_funcs.setdefault(ev, {})[r[1]] = chain_funcs.setdefault(ev, {}).get(r[1], 0) + 1
    on_every = set()
    for ev, fs in chain_funcs.items():
        on_every |= {n for n, c in fs.items() if c >= 0.9 * nchains[ev]}
    result = {"samples": total, "frames": frames, "period_ns": period_ns, "anchor_call_sites": len(sites),
              "per_packet_rule": f"at least half the samples {min_ns_per_packet} ns per frame would give "
                                 f"({expected:.1f}): >= {threshold} samples",
              "threshold_samples": threshold, "paths": {}, "tracepoints": {}}
    for path, p in sorted(paths.items()):
        sized = {n: f for n, f in p["funcs"].items() if f["size"] is not None}
        pp = {n: f for n, f in sized.items() if f["samples"] >= threshold}
        lines_pp = {l for l, c in p["lines"].items() if c >= threshold}
        result["paths"][path] = {
            "samples": p["samples"],
            "share": round(p["samples"] / total, 5) if total else None,
            "ns_per_packet_sampled": round(p["samples"] * period_ns / frames, 2),
            "functions_seen": len(sized),
            "functions_per_packet": len(pp),
            "function_bytes_seen": sum(f["size"] for f in sized.values()),
            "function_bytes_per_packet": sum(f["size"] for f in pp.values()),
            "lines_spanned_seen": len(span((f["addr"], f["size"]) for f in sized.values())),
            "lines_spanned_per_packet": len(span((f["addr"], f["size"]) for f in pp.values())),
            "lines_sampled_seen": len(p["lines"]),
            "lines_sampled_per_packet": len(lines_pp),
            "lines_sampled_estimate": chapman(*p["halves"]),
            "functions": [
                {"name": n, "size": f["size"], "samples": f["samples"], "per_packet": n in pp,
                 "on_every_tracepoint_chain": n in on_every}
                for n, f in sorted(p["funcs"].items(), key=lambda kv: (-kv[1]["samples"], kv[0]))
            ],
        }
    for ev in sorted(nchains):
        result["tracepoints"][ev.split("/")[0]] = {
            "hits": nchains[ev],
            "per_frame": round(nchains[ev] / chain_frames, 4) if chain_frames else None,
            "on_every_chain": sorted(n for n, c in chain_funcs[ev].items() if c >= 0.9 * nchains[ev]),
        }
    return result


# ---- capture ----------------------------------------------------------------------

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


# ---- estimates for paths this machine cannot run ---------------------------------------

VHOST_MODULES = ["drivers/vhost/vhost_net.ko", "drivers/vhost/vhost.ko"]
# handle_tx_copy's per-packet loop with one sendmsg per packet (the 4.11 design
# the model replays; sock_can_batch false), as in Linux 6.1 drivers/vhost/net.c,
# and what it calls per packet; per VHOST_NET_BATCH (64) packets vhost_tx_batch
# flushes the used ring and signals the guest.
VHOST_PER_PACKET = ["handle_tx_copy", "get_tx_bufs.constprop.0", "vhost_get_vq_desc", "translate_desc",
                    "vhost_exceeds_weight", "tun_sendmsg"]
VHOST_PER_BATCH = ["vhost_tx_batch.constprop.0", "vhost_add_used_and_signal_n", "vhost_add_used_n",
                   "__vhost_add_used_n", "vhost_signal", "vhost_notify.constprop.0", "eventfd_signal_mask"]
# Forwarding to a NIC instead of the peer tap: the bridge path measured above
# up to __dev_queue_xmit, then a qdisc and virtio_net's start_xmit (this
# kernel's driver) instead of tun_net_xmit.
NIC_XMIT = ["sch_direct_xmit", "dev_hard_start_xmit", "start_xmit", "virtqueue_add_outbuf", "vring_map_one_sg",
            "skb_to_sgvec", "__skb_to_sgvec", "sg_init_table", "virtqueue_kick_prepare", "virtqueue_notify",
            "vp_notify", "free_old_xmit", "__free_old_xmit", "virtqueue_get_buf_ctx", "detach_buf_split",
            "pfifo_fast_enqueue", "pfifo_fast_dequeue", "__qdisc_run"]


def vhost_module_dir(root="/lib/modules"):
    """The kernel/ directory of an installed kernel with vhost_net.ko: the
    running kernel's if it has one, else the newest other."""
    cands = []
    try:
        for v in os.listdir(root):
            d = os.path.join(root, v, "kernel")
            if os.path.exists(os.path.join(d, VHOST_MODULES[0])):
                cands.append((v == os.uname().release, v, d))
    except OSError:
        return None, None
    if not cands:
        return None, None
    cands.sort()
    return cands[-1][1], cands[-1][2]


def estimates(ks, measured, modules_root="/lib/modules"):
    """vhost and NIC-forward estimates (marked "estimate")."""
    est = {}
    sizes, sources = {}, []
    version, modules_dir = vhost_module_dir(modules_root)
    for rel in VHOST_MODULES if modules_dir else []:
        p = os.path.join(modules_dir, rel)
        if os.path.exists(p):
            sizes.update(elf_function_sizes(p))
            sources.append(p)
    if sources:
        def fsize(n):
            if n in sizes:
                return sizes[n], "module ELF st_size"
            f = ks.by_name.get(n)
            return (f[2], "this kernel's kallsyms") if f and f[2] else (None, "not found")
        pp = [{"name": n, "size": fsize(n)[0], "from": fsize(n)[1]} for n in VHOST_PER_PACKET]
        pb = [{"name": n, "size": fsize(n)[0], "from": fsize(n)[1]} for n in VHOST_PER_BATCH]
        b_pp = sum(f["size"] or 0 for f in pp)
        b_pb = sum(f["size"] or 0 for f in pb)
        est["vhost"] = {
            "kind": "estimate",
            "why": "this kernel is built without CONFIG_VHOST_NET, so vhost cannot run here",
            "method": "the functions handle_tx_copy runs per packet and per VHOST_NET_BATCH=64 packets with one "
                      "sendmsg per packet (Linux 6.1 drivers/vhost/net.c, the design the model replays), sized "
                      "from the ELF symbol tables of Debian's 6.1 modules (exact st_size, another kernel version) "
                      "and, for tun_sendmsg, from this kernel's kallsyms; whole functions, so an upper bound",
            "sources": sources, "modules_version": version,
            "per_packet": pp, "per_batch_of_64": pb,
            "function_bytes_per_packet": b_pp,
            "function_bytes_per_batch": b_pb,
            "lines_per_packet_upper": sum(((f["size"] or 0) + LINE - 1) // LINE + 1 for f in pp),
        }
    else:
        est["vhost"] = {"kind": "estimate", "missing": f"no kernel under {modules_root} has {VHOST_MODULES[0]}"}
    br = measured.get("bridge", {}).get("paths", {}).get("stack")
    if br:
        # The peer tap's receive side: the enqueue on its ring and waking its reader.
        tap_side = {"tun_net_xmit", "sock_def_readable", "__wake_up_sync_key", "__wake_up_common",
                    "ep_poll_callback", "pollwake", "try_to_wake_up"}
        kept = [f for f in br["functions"] if f["per_packet"] and f["name"] not in tap_side]
        nic = []
        for n in NIC_XMIT:
            f = ks.by_name.get(n)
            nic.append({"name": n, "size": f[2] if f else None})
        funcs = [(ks.by_name[f["name"]][0], f["size"]) for f in kept if f["name"] in ks.by_name and f["size"]]
        funcs += [(ks.by_name[f["name"]][0], f["size"]) for f in nic if f["size"]]
        est["nic_forward"] = {
            "kind": "estimate",
            "why": "no NIC can be forwarded to inside a private namespace; the bridged workload forwards to a tap",
            "method": "the bridged workload's per-packet stack functions without the peer tap's receive side "
                      "(tun_net_xmit and waking its reader), plus a qdisc and virtio_net's transmit and completion "
                      "functions of this kernel (sizes from kallsyms); whole functions, an upper bound",
            "bridge_functions_kept": [f["name"] for f in kept],
            "nic_functions": nic,
            "function_bytes": sum(s for _, s in funcs),
            "lines_spanned": len(span(funcs)),
        }
    return est


# Kernel types each path's functions touch per packet (from the functions the
# samples found and what they do in the kernel source); sizes from BTF.  The
# whole type's lines are an upper bound: a path reads or writes some fields.
PATH_TYPES = {
    "syscall": ["file"],
    "tun_get_user": ["sk_buff", "skb_shared_info", "tun_file", "tun_struct"],
    "softirq": ["softnet_data", "napi_struct"],
    "netif_receive_skb": ["sk_buff", "net_device"],
    "stack": ["sk_buff", "skb_shared_info", "sock"],
    "stack_bridge": ["sk_buff", "net_bridge_port", "net_bridge_port", "net_bridge_fdb_entry", "net_device",
                     "tun_file", "ptr_ring"],
}
TYPES = ["sk_buff", "skb_shared_info", "napi_struct", "sock", "tun_struct", "tun_file", "softnet_data",
         "net_device", "file", "net_bridge_port", "net_bridge_fdb_entry", "ptr_ring"]


def data_footprints(frame_bytes=60, btf_path="/sys/kernel/btf/vmlinux"):
    sys.path.insert(0, HERE)
    import btf as btfmod
    b = btfmod.BTF(btf_path)
    sizes, hot, big = {}, {}, {}
    for t in TYPES:
        tid = b.find("struct " + t)
        sizes[t] = None if tid is None else b.size(tid)
        if tid is None:
            continue
        # Arrays of 1 KiB or more (tun_struct's tfiles[] and flows[]) are
        # per-queue or per-flow tables: a packet touches one element, so
        # they count as one line each in the estimate.
        arrays = [(n, sz) for _off, n, sz, k in b.members(tid) if k == btfmod.ARRAY and sz >= 1024]
        big[t] = {n: sz for n, sz in arrays}
        hot[t] = sizes[t] - sum(sz for _, sz in arrays) + LINE * len(arrays)
    frame_lines = (frame_bytes + LINE - 1) // LINE
    paths = {}
    for path, types in PATH_TYPES.items():
        known = [t for t in types if sizes.get(t)]
        rec = {"types": types,
               "type_lines_upper": sum((sizes[t] + LINE - 1) // LINE for t in known),
               "type_lines_without_tables": sum((hot[t] + LINE - 1) // LINE for t in known),
               "missing_types": [t for t in types if not sizes.get(t)]}
        if path == "tun_get_user":
            rec["frame_lines"] = frame_lines  # copied from user space
        if path in ("netif_receive_skb", "stack_bridge"):
            rec["frame_lines"] = min(frame_lines, 2)  # headers read (Ethernet, at most 128 bytes)
        paths[path] = rec
    return {"source": btf_path, "sizes_bytes": sizes,
            "lines_64": {t: (v + LINE - 1) // LINE if v else None for t, v in sizes.items()},
            "tables_counted_as_one_line": {t: a for t, a in big.items() if a},
            "frame_bytes": frame_bytes, "frame_lines": frame_lines, "paths": paths,
            "note": "type sizes are the running kernel's (BTF); which types a path touches is read from the "
                    "source of the functions the samples found; whole types are an upper bound, and "
                    "type_lines_without_tables counts an array of 1 KiB or more (a per-queue or per-flow table) "
                    "as the one line a packet touches"}


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
            text = sys.stdin.read() if args.text == "-" else open(args.text).read()
            rec = analyze(parse_perf_script(text, args.text), ks, args.frames, args.period_ns)
            json.dump(rec, sys.stdout, indent=1)
            print()
            return 0
        rec = capture(args.frames, args.period_ns, args.cpu, args.tracefs)
        with open(args.o + ".tmp", "w") as f:
            json.dump(rec, f, indent=1)
        os.replace(args.o + ".tmp", args.o)
        return 0
    except InputError as ex:
        print(f"footprint.py: {ex}", file=sys.stderr)
        return 2
    except OSError as ex:
        print(f"footprint.py: {ex.filename}: {ex.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
