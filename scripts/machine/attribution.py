#!/usr/bin/python3
"""attribution.py: which modelled path a sampled kernel call chain belongs to,
and the per-path footprints of a set of samples, for footprint.py (the
method: docs/calibration.md, "Kernel footprints").
"""
import re
import sys

from symbols import InputError

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


# The costs the trace fit splits (costs.*, scripts/perf-paths): a finer cut
# of the same chains, one path per cost the model spends.  Innermost anchor
# decides, as above; a tracepoint, the ring buffer or a helper counts for
# the path that called it (a traced kernel's path pays its events, and the
# fitted trace intervals contain them).  Anchors in COST_INSIDE count only
# when the next anchor outside them is one of the listed paths: a spin lock
# is the tun queue's lock (costs.lock_ns) only inside tun_get_user or the
# NAPI poll, an skb drop is the stack's only inside netif_receive_skb.
COST_ANCHORS = {}
for _path, _funcs in {
    "costs.syscall_ns": ["entry_SYSCALL_64", "entry_SYSCALL_64_after_hwframe", "do_syscall_64"],
    "costs.tun_get_user_ns": ["tun_chr_write_iter", "tun_get_user"],
    "costs.skb_alloc_ns": ["tun_alloc_skb", "sock_alloc_send_pskb"],
    "costs.copy_ns_per_byte": ["skb_copy_datagram_from_iter", "zerocopy_sg_from_iter"],
    "costs.lock_ns": ["_raw_spin_lock", "_raw_spin_lock_bh", "_raw_spin_unlock", "_raw_spin_unlock_bh"],
    "costs.napi_schedule_ns": ["napi_schedule_prep", "__napi_schedule", "__napi_schedule_irqoff"],
    # __do_softirq's own code and its softirq_entry/exit events (SOFTIRQ_CORE
    # at the leaf, as for the footprints), net_rx_action's.
    "costs.softirq_ns": ["net_rx_action", "trace_event_raw_event_softirq"],
    "costs.napi_poll_ns": ["napi_poll", "__napi_poll", "tun_napi_poll", "tun_napi_receive", "napi_complete_done"],
    "costs.gro_ns": ["napi_gro_receive", "gro_receive_skb", "dev_gro_receive"],
    "costs.netif_receive_skb_ns": ["netif_receive_skb", "netif_receive_skb_internal",
                                   "netif_receive_skb_list_internal", "__netif_receive_skb",
                                   "__netif_receive_skb_one_core", "__netif_receive_skb_list_core",
                                   "__netif_receive_skb_core"],
    "costs.stack_drop_ns": ["kfree_skb", "kfree_skb_reason", "sk_skb_reason_drop", "kfree_skb_list_reason"],
    "costs.bridge_forward_ns": ["br_handle_frame"],
    # not costed separately by the model
    "napi_thread_loop": ["napi_threaded_poll", "napi_threaded_poll_loop"],
    "scheduler": ["schedule", "__schedule", "preempt_schedule", "preempt_schedule_irq", "schedule_idle"],
}.items():
    COST_ANCHORS.update({f: _path for f in _funcs})
COST_INSIDE = {
    "costs.lock_ns": {"costs.tun_get_user_ns", "costs.napi_poll_ns"},
    "costs.stack_drop_ns": {"costs.netif_receive_skb_ns"},
}
COST_PATHS = sorted({p for p in COST_ANCHORS.values() if p.startswith("costs.")})


def cost_anchor(name):
    if name in COST_ANCHORS:
        return COST_ANCHORS[name]
    return COST_ANCHORS.get(name.split(".")[0])


def attribute_cost(names):
    """Cost path of a call chain given as function names, leaf first: a
    COST_PATHS key, "napi_thread_loop", "scheduler", "irq" (an interrupt, or
    another softirq than NET_RX), "other" (kernel code outside them) or
    "user"."""
    if not names or names[0] is None:
        return "user"
    found = []  # (index, path) of the anchors, innermost first
    for i, n in enumerate(names):
        if n is None:
            break
        a = cost_anchor(n)
        if a:
            found.append(a)
            continue
        if not found and n in SOFTIRQ_CORE:
            if i > 0:
                return "irq"
            found.append("costs.softirq_ns")
        elif not found and n.startswith(IRQ_PREFIXES):
            return "irq"
    for j, a in enumerate(found):
        parents = COST_INSIDE.get(a)
        if parents is None:
            return a
        outer = next((p for p in found[j + 1:] if p not in COST_INSIDE), None)
        if outer in parents:
            return a
    for n in names:
        if n in SYSCALL_ROOTS:
            return "costs.syscall_ns"
    return "other"


# A line of `perf script` text is a sample's header or one frame of its
# call chain: far below this bound (tunsim's bound on a trace line).
MAX_LINE = 65536


def read_perf_text(path):
    """The text of a `perf script` output file ("-": standard input), read
    line by line with each line bounded: /dev/zero or a binary file was read
    whole into memory (and never ended).  InputError naming the line."""
    lines = []
    f = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")
    try:
        for n, line in enumerate(iter(lambda: f.readline(MAX_LINE + 1), ""), 1):
            if len(line) > MAX_LINE:
                raise InputError(f"{path}:{n}: expected a line of at most {MAX_LINE} characters, found a longer one "
                                 "(not perf script text?)")
            lines.append(line)
    finally:
        if f is not sys.stdin:
            f.close()
    return "".join(lines)


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
