#!/usr/bin/env bash
# Integration test of kmod/tunsim_calib.ko in a real kernel: boots Debian's
# linux-image-amd64 in qemu-system-x86_64 under TCG (software emulation, no
# KVM), with an initramfs of busybox-static plus the module, and checks that
#   - an out-of-range parameter is rejected (insmod fails, pr_err in the log);
#   - the module loads with small iteration counts, exports one JSON document
#     in debugfs that is a valid tunsim-calibration/1 file with the expected
#     measurements, and frees its netdev once measured;
#   - it unloads, loads again on the other vCPU with pollute_bytes=0 and
#     unloads again;
#   - with far more work than max_ms allows, the run is cut at max_ms and the
#     JSON says so, and the memory it took (16 MiB) is free again after rmmod;
#   - `tunsim run` accepts the JSON as a calibration;
#   - `tunsim calibrate --kmod` fits it;
#   - the kernel log has no WARNING, BUG, Oops or Call Trace; the kernel runs
#     with slub_debug=FZP, so a slab overflow, use after free or double free
#     (of an skb, say) is reported as a BUG.
# Emulated timings are not a calibration: only the mechanics are checked.
#
# usage: tests/kmod/qemu-test.sh [TUNSIM_BIN]     (run from the source root)
# env:   TUNSIM_KMOD_KVER     kernel version to boot (default: the one the
#                             linux-image-amd64 package installs)
#        TUNSIM_QEMU_TIMEOUT  hard limit on the qemu run in s (default 300)
#        TUNSIM_KMOD_SAVE     copy the module's JSON there (to refresh
#                             results/reference/kmod-qemu.json)
# exit:  0 pass, 1 fail, 77 skipped (qemu, kernel image, headers or
#        busybox-static missing; the reason is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
TUNSIM=${1:-${TUNSIM_BIN:-build/tunsim}}
# The kernel linux-image-amd64 installs (a metapackage depending on
# linux-image-<version>-amd64); its headers must be installed too.
KVER=${TUNSIM_KMOD_KVER:-$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
  grep -o 'linux-image-[0-9][^ ,]*-amd64' | head -n1 | sed 's/^linux-image-//' || true)}
KVER=${KVER:-6.1.0-56-amd64}
KERNEL=/boot/vmlinuz-$KVER
HEADERS=/usr/src/linux-headers-$KVER
BUSYBOX=/bin/busybox
TIMEOUT=${TUNSIM_QEMU_TIMEOUT:-300}
# Small enough to finish in a few minutes under TCG; max_ms bounds it anyway.
PARAMS="iterations=5 batch_max=64 pollute_bytes=1048576 napi_iterations=200 alloc_batch=8 frame_sizes=60,256,1024,1514,4096,9000 max_ms=240000"
# On the second vCPU, without pollution.
PARAMS2="iterations=1 batch_max=4 pollute_bytes=0 napi_iterations=2 alloc_batch=1 frame_sizes=60,1514 max_ms=60000 cpu=1"
# Far more work than max_ms allows: the bound must cut it.  Its 16 MiB
# polluting set must come back to the page allocator at unload.
PARAMS3="iterations=10000 napi_iterations=100000 pollute_bytes=16777216 max_ms=300"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
[ -r "$KERNEL" ] || skip "$KERNEL not readable (apt-get install linux-image-amd64, or set TUNSIM_KMOD_KVER)"
[ -f "$HEADERS/Makefile" ] || skip "$HEADERS missing (apt-get install linux-headers-amd64, the same version as linux-image-amd64)"
[ -x "$BUSYBOX" ] || skip "$BUSYBOX missing (apt-get install busybox-static)"
if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
  skip "$BUSYBOX is dynamically linked (apt-get install busybox-static)"
fi
command -v cpio >/dev/null || skip "cpio not found (apt-get install cpio)"
[ -x "$TUNSIM" ] || fail "tunsim binary $TUNSIM not found (build first, or pass its path)"
PY=/usr/bin/python3

start=$(date +%s)
tmp=$(mktemp -d /tmp/tunsim-kmod-qemu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1. Build the module against the headers of the image we boot.
mkdir "$tmp/kmod"
cp kmod/tunsim_calib.c kmod/Kbuild kmod/Makefile "$tmp/kmod/"
if ! make -C "$HEADERS" M="$tmp/kmod" WERROR=1 modules >"$tmp/build.log" 2>&1; then
  tail -n 40 "$tmp/build.log" >&2
  fail "module build against $HEADERS failed"
fi
ko=$tmp/kmod/tunsim_calib.ko
vermagic=$(modinfo -F vermagic "$ko" | awk '{print $1}')
[ "$vermagic" = "$KVER" ] || fail "module vermagic $vermagic does not match the image $KVER"
deps=$(modinfo -F depends "$ko")
# Everything the module uses (netdev, NAPI, debugfs) is built into Debian's
# kernel; a dependency would have to be put into the initramfs and loaded first.
[ -z "$deps" ] || fail "module now depends on modules ($deps) that the initramfs does not provide"

# 2. A minimal initramfs: static busybox, the module, an /init script.
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$BUSYBOX" "$root/bin/busybox"
for a in sh mount insmod rmmod cat echo dmesg poweroff ls sleep; do
  ln -s busybox "$root/bin/$a"
done
cp "$ko" "$root/tunsim_calib.ko"
cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/bin
# Without a /dev/console node in the archive the kernel starts init with no
# stdio; devtmpfs provides the node.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
insmod /tunsim_calib.ko iterations=0
echo "@@TUNSIM badparam rc=\$?"
insmod /tunsim_calib.ko $PARAMS
echo "@@TUNSIM insmod rc=\$?"
echo "@@TUNSIM netdevs: \$(ls /sys/class/net)"
echo "@@TUNSIM json begin"
cat /sys/kernel/debug/tunsim_calib/result.json
echo "@@TUNSIM json end"
rmmod tunsim_calib
echo "@@TUNSIM rmmod rc=\$?"
[ -e /sys/module/tunsim_calib ] && echo "@@TUNSIM module still loaded"
[ -e /sys/kernel/debug/tunsim_calib ] && echo "@@TUNSIM debugfs dir left behind"
insmod /tunsim_calib.ko $PARAMS2
echo "@@TUNSIM insmod2 rc=\$?"
echo "@@TUNSIM json2 begin"
cat /sys/kernel/debug/tunsim_calib/result.json
echo "@@TUNSIM json2 end"
rmmod tunsim_calib
echo "@@TUNSIM rmmod2 rc=\$?"
free_before=\$(sed -n 's/^nr_free_pages //p' /proc/vmstat)
insmod /tunsim_calib.ko $PARAMS3
echo "@@TUNSIM insmod3 rc=\$?"
echo "@@TUNSIM json3 begin"
cat /sys/kernel/debug/tunsim_calib/result.json
echo "@@TUNSIM json3 end"
rmmod tunsim_calib
echo "@@TUNSIM rmmod3 rc=\$?"
echo "@@TUNSIM free pages before=\$free_before after=\$(sed -n 's/^nr_free_pages //p' /proc/vmstat)"
echo "@@TUNSIM dmesg begin"
dmesg
echo "@@TUNSIM dmesg end"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$tmp/initramfs.cpio"

# 3. Boot.  No network device at all; the console is the serial port.
echo "booting $KERNEL under TCG (timeout ${TIMEOUT}s)"
boot_start=$(date +%s)
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -nographic -no-reboot -m 512 -smp 2 \
  -nic none -kernel "$KERNEL" -initrd "$tmp/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 slub_debug=FZP" \
  </dev/null >"$tmp/console.raw" 2>&1
qrc=$?
set -e
boot_s=$(( $(date +%s) - boot_start ))
tr -d '\r' <"$tmp/console.raw" >"$tmp/console.log"
echo "qemu exited with $qrc after ${boot_s}s"
show_console() { echo "---- console (last 60 lines) ----" >&2; tail -n 60 "$tmp/console.log" >&2; }
[ "$qrc" -ne 124 ] || { show_console; fail "qemu did not power off within ${TIMEOUT}s"; }
grep -q "@@TUNSIM dmesg end" "$tmp/console.log" || { show_console; fail "the guest did not finish its script (qemu status $qrc)"; }

section() { sed -n "/^@@TUNSIM $1 begin\$/,/^@@TUNSIM $1 end\$/p" "$tmp/console.log" | sed '1d;$d'; }
value() { sed -n "s/^@@TUNSIM $1 rc=\\([0-9]*\\)\$/\\1/p" "$tmp/console.log"; }
section json >"$tmp/kmod-qemu.json"
section json2 >"$tmp/kmod-qemu-2.json"
section json3 >"$tmp/kmod-qemu-3.json"
section dmesg >"$tmp/dmesg.log"

# 4. Checks on what the guest reported.
[ "$(value badparam)" != "0" ] && [ -n "$(value badparam)" ] || fail "insmod iterations=0 was accepted (expected -EINVAL)"
grep -q "tunsim_calib: iterations=0 out of range" "$tmp/dmesg.log" || fail "no pr_err for iterations=0 in the kernel log"
[ "$(value insmod)" = "0" ] || { show_console; fail "insmod $PARAMS failed (rc=$(value insmod))"; }
[ "$(value rmmod)" = "0" ] || fail "rmmod failed (rc=$(value rmmod))"
[ "$(value insmod2)" = "0" ] || fail "second insmod ($PARAMS2) failed"
[ "$(value rmmod2)" = "0" ] || fail "second rmmod failed"
[ "$(value insmod3)" = "0" ] || fail "third insmod ($PARAMS3) failed"
[ "$(value rmmod3)" = "0" ] || fail "third rmmod failed"
grep -q "^@@TUNSIM module still loaded" "$tmp/console.log" && fail "module still loaded after rmmod"
grep -q "^@@TUNSIM debugfs dir left behind" "$tmp/console.log" && fail "debugfs directory left after rmmod"
grep "^@@TUNSIM netdevs:" "$tmp/console.log" | grep -q tunsim_cal && fail "the module's netdev was not freed after the measurement"
# 4 KiB pages; the 16 MiB set is 4096 pages.  Allow 1024 pages (4 MiB) of
# unrelated drift; a leaked polluting set would be four times that.
read -r before after < <(sed -n 's/^@@TUNSIM free pages before=\([0-9]*\) after=\([0-9]*\)$/\1 \2/p' "$tmp/console.log")
[ -n "${before:-}" ] && [ -n "${after:-}" ] || fail "the guest did not report its free pages"
echo "free pages before the 16 MiB run: $before, after rmmod: $after"
[ $((before - after)) -lt 1024 ] || fail "$((before - after)) pages (of 4 KiB) not free again after rmmod: the module leaks"

$PY - "$tmp/kmod-qemu.json" 64 true "$KVER" <<'EOF' || fail "the module's JSON is not a valid calibration (above)"
import json, sys
path, bmax, polluted, kver = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true", sys.argv[4]
d = json.load(open(path))
def need(cond, what):
    if not cond:
        sys.exit(f"{path}: {what}")
need(d.get("format") == "tunsim-calibration/1", "format is not tunsim-calibration/1")
need(d["provenance"]["source"] == "kmod", "provenance.source is not kmod")
need(d["provenance"]["kernel"] == kver, f"provenance.kernel is not {kver}")
p = d["parameters"]
need(isinstance(p, dict) and p, "parameters empty")
for k, v in p.items():
    need(k.startswith(("costs.", "cache.")) or k == "cpus.hz", f"parameter {k} outside costs./cache./cpus.hz")
    need(isinstance(v.get("value"), (int, float)) and v["value"] >= 0, f"{k}.value not a non-negative number")
    need(isinstance(v.get("unit"), str), f"{k}.unit missing")
for k in ["costs.netif_receive_skb_ns", "costs.stack_drop_ns", "costs.skb_alloc_ns",
          "costs.napi_schedule_ns"]:
    need(k in p, f"parameter {k} missing (unidentified: {d['unidentified']})")
need(all(isinstance(u, str) for u in d["unidentified"]), "unidentified is not a list of keys")
m = d["measurements"]
need(m["truncated"] is False, f"measurement cut by max_ms in {m['truncated_in']}")
need(m["errors"] == {"napi": 0, "skb_alloc": 0, "batches": 0}, f"errors: {m['errors']}")
for s in ["netif_receive_skb", "kfree_skb"]:
    need(m[s]["batch"] == list(range(1, bmax + 1)), f"measurements.{s}.batch is not 1..{bmax}")
    keys = ["warm_median_ns", "warm_min_ns"] + (["polluted_median_ns", "polluted_min_ns"] if polluted else [])
    for k in keys:
        a = m[s][k]
        need(len(a) == bmax and all(x > 0 for x in a), f"measurements.{s}.{k} not {bmax} positive values")
        if k.endswith("median_ns"):
            mins = m[s][k.replace("median", "min")]
            need(all(lo <= med for lo, med in zip(mins, a)), f"measurements.{s}: a min exceeds its median")
    need(polluted or "polluted_median_ns" not in m[s], f"measurements.{s} has a polluted series with pollute_bytes=0")
need(m["napi"]["complete"] is True and m["napi"]["round_trip_1"]["samples"] > 0, "napi round trip missing")
need(len(m["skb_alloc"]["frame_bytes"]) == len(m["skb_alloc"]["copy_median_ns"]) >= 2, "skb_alloc series incomplete")
need((m["miss_latency"]["complete"] is True) == polluted, "miss_latency.complete does not match pollute_bytes")
print(f"{path}: valid; {len(p)} parameters, unidentified {d['unidentified']}, "
      f"elapsed {m['elapsed_ms']} ms, hypervisor={m['hypervisor']}")
EOF
$PY - "$tmp/kmod-qemu-2.json" 4 false <<'EOF' || fail "the second load's JSON (pollute_bytes=0) is not valid (above)"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["measurements"]
assert d["format"] == "tunsim-calibration/1", "format"
assert m["netif_receive_skb"]["batch"] == [1, 2, 3, 4], m["netif_receive_skb"]["batch"]
assert "polluted_median_ns" not in m["netif_receive_skb"], "polluted series present with pollute_bytes=0"
assert "cache.l2.miss_penalty_cycles" not in d["parameters"], "the penalty is a measurement, not a parameter"
assert m["cpu"] == 1, f"measured on CPU {m['cpu']}, not on cpu=1"
print(f"{sys.argv[1]}: valid (pollute_bytes=0 run)")
EOF

$PY - "$tmp/kmod-qemu-3.json" <<'EOF' || fail "the max_ms bound did not hold (above)"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["measurements"]
# 10000 iterations x 64 batch sizes cannot finish in 300 ms: the run must be
# cut, and end within one timed section (well under 1 s) of the bound.
assert m["truncated"] is True, "not truncated"
assert 300 <= m["elapsed_ms"] < 1300, f"elapsed_ms {m['elapsed_ms']} not within 300..1300"
assert d["format"] == "tunsim-calibration/1"
print(f"{sys.argv[1]}: cut by max_ms=300 in {m['truncated_in']} after {m['elapsed_ms']} ms")
EOF

if [ -n "${TUNSIM_KMOD_SAVE:-}" ]; then
  cp "$tmp/kmod-qemu.json" "$TUNSIM_KMOD_SAVE"
  echo "saved the module's JSON to $TUNSIM_KMOD_SAVE"
fi

# 5. The simulator must accept it as a calibration and fit it.
if ! "$TUNSIM" run configs/default.json --set "calibration=$tmp/kmod-qemu.json" -o "$tmp/run.json" >"$tmp/run.log" 2>&1; then
  cat "$tmp/run.log" >&2
  fail "tunsim run did not accept the module's JSON as a calibration"
fi
echo "tunsim run accepted the calibration"
if ! "$TUNSIM" calibrate --kmod "$tmp/kmod-qemu.json" -o "$tmp/fit.json" >"$tmp/fit.log" 2>&1; then
  cat "$tmp/fit.log" >&2
  fail "tunsim calibrate --kmod failed on the module's JSON"
fi
echo "tunsim calibrate --kmod fitted it"

# 6. The kernel log must be clean (taint notes for an unsigned out-of-tree
# module are expected and are not warnings).
if grep -nE "WARNING|BUG|Oops|Call Trace" "$tmp/dmesg.log"; then
  fail "kernel log has the warnings above"
fi
grep -q "tunsim_calib: done in" "$tmp/dmesg.log" || fail "the module did not log its completion"
grep "tunsim_calib" "$tmp/dmesg.log" | sed 's/^/  dmesg: /'

echo "PASS in $(( $(date +%s) - start ))s (qemu ${boot_s}s)"
