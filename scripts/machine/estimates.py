#!/usr/bin/python3
"""estimates.py: the data footprints from the kernel's types (BTF), and the
estimates for the paths this machine cannot run (vhost, forwarding to a
NIC), for footprint.py and scripts/calibrate-machine.
"""
import os
import sys

from attribution import LINE, span
from symbols import elf_function_sizes

HERE = os.path.dirname(os.path.abspath(__file__))

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
