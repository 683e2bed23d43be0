#!/bin/bash
# End-to-end check of the calibrated simulator against this machine's kernel
# (issue 3, part 6; docs/validation.md).
#
#   1. capture short traces of three workloads (scripts/capture-trace):
#        plain    one writer, plain tap          --mode plain
#        napi     one writer, IFF_NAPI tap       --mode napi
#        napi-2w  two writers on CPUs 0 and 1    --mode napi --threads 2 --cpus 0,1
#   2. calibrate on the two single-writer traces only (tunsim calibrate)
#   3. simulate each workload with that calibration (tunsim trace config + run --trace)
#   4. assert with tunsim diff, kernel trace (A) against simulated trace (B):
#        - plain and napi: throughput within 10 % (the issue's bound), as
#          steady_mpps: 1 / median inter-arrival.  throughput_mpps divides by
#          the whole span, which on a shared machine is dominated by
#          preemption stalls (seven kernel captures of one workload differed
#          by 2-77 %), and a mean-based rate moved by up to 20 % with the
#          interference tail of one capture (docs/validation.md);
#      napi-2w, which the fit never saw: steady throughput within 10 % and
#        the napi_poll work histogram within KS 0.07 (why 0.07: below),
#        asserted when the host ran both writer CPUs at the speed the fit
#        saw.  `trace config` measures each writer CPU's speed during the
#        capture (cpus.speed: the calibration's writer user time over the
#        capture's, docs/traces.md).  This shared VM runs one vCPU 20-25 %
#        slower for seconds to minutes at a time; the user-space gap then
#        understates how much its kernel code slowed (35-50 %), and the
#        model stays 4-32 % too fast with poll-work KS 0.11-0.18 (thirteen such
#        captures, 2026-11-25 ~03:40 UTC; docs/validation.md).  With both
#        speeds within 7 % of 1 (the spread of the single-writer captures'
#        own speeds around their calibration) ten captures gave -6 to +7 %
#        (KS, nine of them: 0.002-0.048).  So: up to four two-writer captures are taken
#        until one has both speeds within [0.93, 1.07]; that one is asserted.
#        If none has, the comparison of the last is printed and NOT
#        asserted, saying which CPU the host slowed: a host state, like
#        missing tracefs, not a verdict on the model.  The test then exits
#        77 (skipped) unless a single writer failed (1): it passes only
#        when it asserted all three workloads.
#
# Why KS 0.07: the model is accepted when its poll-work histogram is no
# further from the kernel's than two kernel captures of the same workload
# on this machine are from each other.  Session 1's seven captures
# (2026-11-25 ~02:50 UTC) gave pairwise KS 0.000-0.030; the next hour's
# captures, when the host slowed one vCPU in some of them, differed from the
# others by up to 0.070 (tunsim diff of two kernel traces: 0.069 and 0.070).
# The bound is that largest kernel-to-kernel value, rounded.  (It was 0.05,
# the then largest 0.030 plus the two-sample critical value at these sizes;
# at calibrated speed the model measured 0.002-0.048 over nine captures:
# that close to 0.05 the kernel's capture-to-capture variation, not the
# model, would decide the verdict.)
#
# usage: tests/e2e/e2e-test.sh TUNSIM_BIN       (from the repository root)
# exit: 0 pass, 1 a bound violated or a step failed, 77 skipped (printed why)
set -u -o pipefail

bin="${1:-${TUNSIM:-build/tunsim}}"
THROUGHPUT_TOL=0.10
POLL_WORK_KS=0.07
COUNT="${TUNSIM_E2E_COUNT:-3000}"

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: no tunsim binary at $bin"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "not root: capturing kernel traces needs root (tracefs, netns, tap devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun: the tun driver is not available"
if ! { [ -e /sys/kernel/tracing/trace ] || [ -e /sys/kernel/debug/tracing/trace ] ||
       grep -qw tracefs /proc/filesystems 2>/dev/null; }; then
  skip "no tracefs: the kernel has no tracing support"
fi

tmp=$(mktemp -d /tmp/tunsim-e2e-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "e2e: working in $tmp; tunsim $bin; $COUNT frames per writer"

capture() {  # NAME ARGS...
  local name="$1"; shift
  scripts/capture-trace "$@" --count "$COUNT" --gzip -o "$tmp/$name" >"$tmp/$name.log" 2>&1
  local rc=$?
  case $rc in
    0) echo "captured $name: $(grep -c . <(gzip -dc "$tmp/$name.trace.gz")) lines" ;;
    3|4|5|6|7|8|9|10)
      echo "capture of $name not possible here (capture-trace status $rc):"
      tail -3 "$tmp/$name.log"
      skip "tracing is not permitted on this machine (see docs/traces.md, exit statuses)" ;;
    *) echo "FAIL: capture of $name failed (status $rc):"; tail -5 "$tmp/$name.log"; exit 1 ;;
  esac
}

capture plain --mode plain
capture napi --mode napi

echo
echo "== calibrate on the single-writer traces only"
"$bin" calibrate "$tmp/plain.trace.gz" "$tmp/napi.trace.gz" -o "$tmp/cal.json" --name e2e || {
  echo "FAIL: calibrate"; exit 1; }

simulate() {  # NAME: trace config (cpus.speed) + run --trace
  "$bin" trace config "$tmp/$1.json" --calibration "$tmp/cal.json" -o "$tmp/$1.scenario.json" || {
    echo "FAIL: trace config $1"; exit 1; }
  "$bin" run "$tmp/$1.scenario.json" --trace "$tmp/$1.sim.trace" -o "$tmp/$1.summary.json" -q 2>/dev/null || {
    echo "FAIL: simulation of $1"; exit 1; }
}

# "" when every writer CPU's speed is within [0.93, 1.07], else the speeds.
off_speed() {
  /usr/bin/python3 - "$tmp/$1.scenario.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
cpus = sorted({x["cpu"] for x in s["senders"]})
sp = s["cpus"].get("speed", [])
off = ["CPU %d at %.3f" % (c, sp[c]) for c in cpus if c < len(sp) and not 0.93 <= sp[c] <= 1.07]
print(", ".join(off))
PY
}

fail=0
verdict() {  # NAME RC
  if [ "$2" -eq 0 ]; then
    echo "PASS: $1 within its bounds"
  elif [ "$2" -eq 1 ]; then
    echo "FAIL: $1 outside its bounds (rows marked FAIL above)"
    fail=1
  else
    echo "FAIL: diff of $1 could not run (status $2)"
    exit 1
  fi
}

for w in plain napi; do
  echo
  echo "== $w: simulate with the calibration, diff kernel (A) vs simulated (B)"
  simulate "$w"
  "$bin" diff "$tmp/$w.trace.gz" "$tmp/$w.sim.trace" --tol "steady_mpps=$THROUGHPUT_TOL"
  verdict "$w" $?
done

w=napi-2w
for attempt in 1 2 3 4; do
  echo
  echo "== $w, capture $attempt: simulate with the calibration and the capture's CPU speeds"
  capture "$w" --mode napi --threads 2 --cpus 0,1
  simulate "$w"
  off=$(off_speed "$w")
  [ -z "$off" ] && break
  echo "the host ran $off during this capture (the fit saw 1)"
done
tols=(--tol "steady_mpps=$THROUGHPUT_TOL" --tol "napi_poll_work.ks=$POLL_WORK_KS")
if [ -z "$off" ]; then
  "$bin" diff "$tmp/$w.trace.gz" "$tmp/$w.sim.trace" "${tols[@]}"
  verdict "$w" $?
else
  "$bin" diff "$tmp/$w.trace.gz" "$tmp/$w.sim.trace" "${tols[@]}"
  echo "NOT ASSERTED: napi-2w: in all four captures the host ran a writer CPU away from the speed"
  echo "  the fit saw ($off in the last); the comparison above is printed, not asserted (see the header)"
fi
echo
if [ $fail -ne 0 ]; then
  echo "e2e: the simulator disagrees with this kernel (see FAIL rows; docs/validation.md)"
  exit 1
fi
# Not everything asked for was asserted: reported as skipped, never as passed.
[ -n "$off" ] && skip "the single writers are within their bounds, but the two-writer workload could not be asserted: the host ran $off"
echo "e2e: all workloads within their bounds"
exit 0
