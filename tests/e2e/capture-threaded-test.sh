#!/bin/bash
# scripts/capture-trace --threaded on this machine's kernel (issue 12 item 8;
# docs/traces.md): the tap's NAPI is polled by its own kthread, pinned where
# asked, and the sidecar says so; bad combinations are refused before
# anything is created.
#
#   1. --threaded without --mode napi: exit 10 (a plain tap has no NAPI);
#      --napi-cpu without --threaded, or a CPU that does not exist: exit 2.
#   2. --mode napi --threaded --napi-cpu LAST (the last CPU; the writer on
#      CPU 0), 300 frames: exit 0; the sidecar has "threaded": true and
#      "napi_thread" with that CPU and a comm napi/<dev>-...; every napi_poll
#      line in the trace is that kthread's (its pid) on that CPU, and the
#      polls' work adds up to the 300 frames (netif_receive_skb per frame);
#      there is no NET_RX softirq event; preempted_ns has an entry for the
#      writer's CPU and the kthread's.
#   3. nothing is left behind: no namespace, tap or tracing instance of the
#      capture's pid.
#
# usage: tests/e2e/capture-threaded-test.sh     (from the repository root)
# exit: 0 pass, 1 fail, 77 skipped (printed why: not root, no tun, no tracefs,
#       a kernel without threaded NAPI, capture-trace statuses 3-10)
set -u -o pipefail

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
py=/usr/bin/python3
[ -x "$py" ] || skip "no $py to read the sidecar"
tmp=$(mktemp -d /tmp/tunsim-threaded-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1. Refusals.
scripts/capture-trace --threaded --count 10 -o "$tmp/p" >"$tmp/p.log" 2>&1
st=$?
[ $st -eq 10 ] || fail "--threaded on a plain tap: expected exit 10, got $st: $(tail -n1 "$tmp/p.log")"
grep -q "needs an IFF_NAPI tap" "$tmp/p.log" || fail "--threaded on a plain tap: no reason given: $(cat "$tmp/p.log")"
scripts/capture-trace --mode napi --napi-cpu 0 --count 10 -o "$tmp/q" >"$tmp/q.log" 2>&1
st=$?
[ $st -eq 2 ] || fail "--napi-cpu without --threaded: expected exit 2, got $st"
nr=$(nproc --all)
scripts/capture-trace --mode napi --threaded --napi-cpu "$nr" --count 10 -o "$tmp/r" >"$tmp/r.log" 2>&1
st=$?
[ $st -eq 2 ] || fail "--napi-cpu $nr (does not exist): expected exit 2, got $st"
ls "$tmp"/p.json "$tmp"/q.json "$tmp"/r.json >/dev/null 2>&1 && fail "a refused capture wrote a sidecar"

# 2. A threaded capture.
cpu=$((nr - 1))
scripts/capture-trace --mode napi --threaded --napi-cpu "$cpu" --count 300 -o "$tmp/t" >"$tmp/t.log" 2>&1
st=$?
case $st in
  0) ;;
  3|4|5|6|7|8|9|10) skip "capture-trace cannot run here (status $st): $(tail -n1 "$tmp/t.log")" ;;
  *) fail "capture-trace --threaded exited $st: $(tail -n3 "$tmp/t.log")" ;;
esac
"$py" - "$tmp/t.json" "$tmp/t.trace" "$cpu" <<'PY' || exit 1
import json, re, sys
side, trace, cpu = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = json.load(open(side))
def fail(m):
    print("FAIL: " + m); sys.exit(1)
if s.get("threaded") is not True: fail("sidecar: threaded is %r, expected true" % s.get("threaded"))
t = s.get("napi_thread") or {}
if t.get("cpu") != cpu: fail("sidecar: napi_thread.cpu %r, expected %d" % (t.get("cpu"), cpu))
if not str(t.get("comm", "")).startswith("napi/" + s["dev"][:10]): fail("sidecar: napi_thread.comm %r" % t.get("comm"))
pid = t["pid"]
polls = work = rx = softirq = 0
for line in open(trace):
    if " napi_poll: " in line:
        polls += 1
        m = re.search(r"-(\d+)\s+(?:\([^)]*\)\s+)?\[(\d+)\]", line)
        if not m or int(m.group(1)) != pid or int(m.group(2)) != cpu:
            fail("a napi_poll not by the kthread %d on CPU %d: %s" % (pid, cpu, line.strip()))
        work += int(re.search(r" work (\d+) ", line).group(1))
    elif " netif_receive_skb: " in line:
        rx += 1
    elif re.search(r" softirq_(raise|entry|exit): ", line):
        softirq += 1
n = s["frames_written"]
if n != 300 or rx != n: fail("%d frames written, %d netif_receive_skb; expected 300 each" % (n, rx))
if polls == 0 or work != n: fail("%d polls of total work %d, expected the %d frames" % (polls, work, n))
if softirq: fail("%d NET_RX softirq events: threaded NAPI raises none" % softirq)
pre = s.get("preempted_ns", {})
if not {"0", str(cpu)} <= set(pre): fail("preempted_ns %r lacks CPU 0 or %d" % (pre, cpu))
print("threaded capture: %d polls by %s (pid %d) on CPU %d, %d frames, preempted_ns %s" % (polls, t["comm"], pid, cpu, n, pre))
PY

# 3. Nothing left behind (names from scripts/capture-trace: tunsim-PID).
cap_pid=$(sed -n 's/.*"dev": "tstap\([0-9]*\)".*/\1/p' "$tmp/t.json")
[ -n "$cap_pid" ] || fail "no dev in the sidecar"
ip netns list | grep -qw "tunsim-$cap_pid" && fail "namespace tunsim-$cap_pid left behind"
for d in /sys/kernel/tracing/instances /sys/kernel/debug/tracing/instances; do
  [ -e "$d/tunsim-$cap_pid" ] && fail "tracing instance $d/tunsim-$cap_pid left behind"
done
echo "PASS: capture-trace --threaded"
exit 0
