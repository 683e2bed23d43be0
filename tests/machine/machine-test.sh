#!/bin/bash
# Tests of the machine measurements (scripts/machine/, scripts/linexfer.c,
# scripts/calibrate-machine, the line-transfer part of scripts/capture-trace),
# one CTest test per case:  machine-test.sh CASE
# Exit 0 pass, 1 fail, 77 skipped (printed why: a prerequisite is missing, or
# the machine could not give a trustworthy measurement).
#
# Deterministic cases (synthetic input, no measurement):
#   robust_rule        the trust rule of robust.h on synthetic sample sets
#   robust_bad_input   robust-check's bad-input line and exit 2
#   linexfer_refuses   linexfer with 50 samples refuses whatever the machine
#   cachegeom_decode   cpuid decoding (AMD legacy, AMD 0x8000001D, Intel 4) and sysfs
#   derive_levels      plateaus and edges of a synthetic latency curve
#   derive_bad_input   derive.py: a curve it cannot take is one line and exit 2; a falling one refuses the LLC
#   footprint_attrib   path attribution, sizes and lines on a synthetic perf script
#   perf_paths         scripts/perf-paths: cost paths of a synthetic perf script, and its bad input
#   btf_sizes          the BTF reader against the kernel's slab object sizes and pahole
#   calibrate_usage    calibrate-machine's usage errors (also --capture-traces'), and --only geometry
#   calibrate_refused  calibrate-machine --calibration whose tunsim calibrate refuses: exit 4, machine file kept
#   btb_sites          icache --jumps-per-line: more taken jumps a line cost more; bad J is a usage error
#   calibrate_btb      calibrate-machine --only btb --quick: the branch-site curves at 1, 2, 4 a line, and their summary
#   calibrate_slub     calibrate-machine --only slub --quick: three --drain-every captures, summary.slab_ns from their residues
#   btb_summary        calibrate-machine's summary of the btb part: medians of trusted runs, none when all refused
#   trust_rules        trust.py: a capture the host ran as calibrated, or why not, on synthetic sidecars
#   outfile_rule       outfile.py replaces only a regular file; capture-trace refuses to rename over a link
#   own_events_rules   own_events.py keeps a capture's own skbs' events of a synthetic trace with other traffic
# Cases that measure this machine (skip 77 when it refuses to trust them):
#   linexfer_measures  a trusted value is p10, between 5 ns and 5 us (also with --lines 6)
#   chase_curve        L1d hits are faster than L2 hits
#   capture_sidecar    capture-trace records line_transfer_ns (and line_burst_ns, line_move_ns, skb_remote_walk_ns) only when trusted
#   capture_perf_paths capture-trace --perf-paths records the writer's samples by cost path
#   capture_rps        capture-trace --rps-cpus steers every frame to the other CPU
#   capture_slab_events capture-trace --slab-events: one allocation and one free of each sk_buff, split by builder
#   capture_drain      capture-trace --drain-every: the writer reads its frames back in bursts; trace-segments --bursts
#   capture_foreign    capture-trace beside another tap's traffic: the trace holds exactly the capture's own events
#   wakeup_measures    wakeup.c (the IPI costs) is trusted and consistent, or skips
#   atomics_measures   trusted lock pair and atomic RMW are p10, 1..100 ns
#   remotermw_measures remotermw.c (an atomic on a line the other CPU left, keeps writing, or read; then work) is trusted and sane, or skips
#   ctxswitch_measures ctxswitch.c (a wake-up on the waker's CPU, a context switch) is trusted and consistent, or skips
#   ctxswitch_traced   ctxswitch.c --trace-instance: every sample traced with capture-trace's task events, filtered to its two threads
#   wakeup_traced      wakeup.c --trace-instance: the same for the wake-up of a sleeper on the idle CPU
#   skbwalk_measures   skbwalk.c (a batch of skbs out of L2 against hot) is trusted and ordered, or skips
#   skb_truesize_measures the truesize of a tap write()'s skb (napi_gro_receive_entry) is the model's
#   sndbuf_wait_measures sndbufwait.c: a tap writer asleep at sndbuf is not woken by freed space (6.18), or skips
#   stall_measures     stall.c (time a CPU loses to what no trace shows): usage errors; trusted and consistent, or skips
set -u
cd "$(dirname "$0")/../.." || exit 1
CASE=${1:?usage: machine-test.sh CASE}
PY=/usr/bin/python3
M=scripts/machine
TMP=$(mktemp -d /tmp/machine-test-"$CASE".XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL ($CASE): $*" >&2; exit 1; }
skip() { echo "SKIP ($CASE): $*"; exit 77; }
command -v cc >/dev/null || skip "no C compiler 'cc'"
build() {  # NAME SRC [LIBS]
  cc -O2 -Wall -Werror -pthread -o "$TMP/$1" "$2" "${@:3}" 2>"$TMP/cc.log" || { cat "$TMP/cc.log"; fail "building $2"; }
}
# json FILE EXPR: evaluate a Python expression over the JSON document d.
json() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# traced_run WHAT PROGRAM ARGS...: PROGRAM ARGS --trace-instance I in a
# tracing instance of our own (tracefs mounted under $TMP when it is not
# mounted; both removed on exit), as calibrate-machine runs it; its output
# in $TMP/out.json, the instance's buffer in $TMP/trace, its pid in $pid.
# Skips without root or tracefs, and when the program refuses its samples
# (exit 4: the machine too busy to trust WHAT).
traced_run() {
  local what=$1
  shift
  [ "$(id -u)" -eq 0 ] || skip "tracing needs root"
  T=$(awk '$3 == "tracefs" {print $2; exit}' /proc/mounts)
  if [ -z "$T" ]; then
    mkdir "$TMP/tracefs" && mount -t tracefs nodev "$TMP/tracefs" 2>/dev/null || skip "tracefs cannot be mounted"
    T=$TMP/tracefs
    trap 'umount "$TMP/tracefs"; rm -rf "$TMP"' EXIT
  fi
  I=$T/instances/tunsim-machine-test-$$
  mkdir "$I" || skip "cannot create a tracing instance in $T"
  trap 'echo 0 > "$I/tracing_on"; rmdir "$I"; [ "$T" = "$TMP/tracefs" ] && umount "$T"; rm -rf "$TMP"' EXIT
  echo 8192 >"$I/buffer_size_kb"
  "$@" --trace-instance "$I" >"$TMP/out.json" 2>"$TMP/err" &
  pid=$!
  wait $pid
  local st=$?
  [ $st -eq 4 ] && skip "the machine is too busy to trust $what: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "$1 exited $st: $(cat "$TMP/err")"
  [ "$(cat "$I/tracing_on")" = 0 ] || fail "tracing left on in $I"
  cat "$I/trace" >"$TMP/trace"
}
# trace_counts TRACE: the events of each kind in a tracefs text buffer, and
# the pids that made system calls, as JSON {"counts": {...}, "callers": [...],
# "lost": N}.
trace_counts() {
  $PY - "$1" <<'EOF2'
import collections, json, re, sys
count, callers, lost = collections.Counter(), set(), 0
for line in open(sys.argv[1]):
    if "LOST" in line:
        lost += 1
    m = re.match(r"\s*\S+-(\d+)\s+\[\d+\].*?\s(sys_enter|sys_exit|sched_switch|sched_wakeup):", line)
    if m:
        count[m.group(2)] += 1
        if m.group(2) == "sys_enter":
            callers.add(int(m.group(1)))
print(json.dumps({"counts": count, "callers": sorted(callers), "lost": lost}))
EOF2
}
# scripts/capture-trace ARGS..., its output in $TMP/log: goes on when it
# wrote its files, skips when this machine cannot capture (3-7, 9, 10: not
# root, no tun, tracefs, netns, tracepoint or compiler, or the kernel
# refused the tap setup), fails on anything else.
capture() {
  scripts/capture-trace "$@" >"$TMP/log" 2>&1
  local st=$?
  case $st in 0) ;; 3|4|5|6|7|9|10) skip "capture-trace cannot run here ($st): $(tail -n1 "$TMP/log")" ;;
    *) fail "capture-trace exited $st: $(tail -n3 "$TMP/log")" ;; esac
}

# capture_rps_200: capture-trace --rps-cpus 1 of 200 plain frames written on
# CPU 0 into $TMP/rps; skips as capture does, also when the machine was too
# busy for CPU 1 to receive them in time or the kernel has no RPS.
capture_rps_200() {
  scripts/capture-trace --mode plain --rps-cpus 1 --count 200 -o "$TMP/rps" >"$TMP/log" 2>&1
  local st=$?
  case $st in 0) ;; 3|4|5|6|7|9) skip "capture-trace cannot run here ($st): $(tail -n1 "$TMP/log")" ;;
    11) grep -q "the machine is too busy" "$TMP/log" && skip "$(tail -n1 "$TMP/log")"
        fail "capture-trace exited 11: $(tail -n3 "$TMP/log")" ;;
    10) grep -q "rps_cpus" "$TMP/log" && skip "this kernel has no RPS: $(tail -n1 "$TMP/log")"
        fail "capture-trace exited 10: $(tail -n3 "$TMP/log")" ;;
    *) fail "capture-trace exited $st: $(tail -n3 "$TMP/log")" ;; esac
}

case "$CASE" in
robust_rule)
  build robust-check $M/robust-check.c
  check() {  # RULE EXPECTED_STATUS FILE what
    "$TMP/robust-check" "$1" "$3" >"$TMP/out.json" 2>"$TMP/err"
    local st=$?
    [ "$st" -eq "$2" ] || fail "$4: rule $1 exited $st, expected $2 ($(cat "$TMP/err"))"
  }
  # 1. Clean: 900 samples 50.00, 50.01, ... 58.99 and 100 preempted ones at
  # 9000.  Nearest rank: p1 = sorted[9] = 50.09, p10 = sorted[99] = 50.99;
  # 50.99 <= 1.25 * 50.09: trusted, value 50.99.
  $PY -c "print('\n'.join(['%.2f' % (50 + i / 100) for i in range(900)] + ['9000'] * 100))" >"$TMP/clean"
  check linexfer 0 "$TMP/clean" "clean samples"
  [ "$(json "$TMP/out.json" "d['value'], d['p1'], d['trusted'], d['samples']")" = "50.99 50.09 True 1000" ] ||
    fail "clean: expected value 50.99, p1 50.09, trusted, 1000 samples: $(cat "$TMP/out.json")"
  # 2. The issue's loaded machine: only 5% of the samples undisturbed (60 ns),
  # the rest 1700-9200 ns.  p10 = sorted[99] is a disturbed sample: refused.
  $PY -c "print('\n'.join(['60'] * 50 + [str(1700 + 8 * i) for i in range(950)]))" >"$TMP/loaded"
  check linexfer 4 "$TMP/loaded" "loaded machine"
  # p10 = sorted[99] = 1700 + 8 * 49 = 2092 = 34.87 x p1 (sorted[9] = 60).
  grep -q "10th percentile 2092 is 34.87x the 1st percentile 60" "$TMP/err" ||
    fail "loaded: expected the p10/p1 reason, found: $(cat "$TMP/err")"
  [ "$(json "$TMP/out.json" "d['trusted']")" = False ] || fail "loaded: JSON says trusted"
  # 3. Too few samples: 150 clean ones (linexfer needs 200).
  head -n 150 "$TMP/clean" >"$TMP/few"
  check linexfer 4 "$TMP/few" "150 samples"
  grep -q "only 150 samples, rule linexfer needs at least 200" "$TMP/err" || fail "few: $(cat "$TMP/err")"
  # 3b. Too few samples, some of them negative (a disturbed difference, as
  # remotermw's when its local pass was preempted): the count is still the
  # reason, whatever the samples hold (CI on 984a4a9 saw the other reason).
  # Two negatives: the 1st percentile of 150 is sorted[1] = -3.5.
  { echo "-1715.12"; echo "-3.5"; head -n 148 "$TMP/clean"; } >"$TMP/fewneg"
  check linexfer 4 "$TMP/fewneg" "150 samples, two negative"
  grep -q "only 150 samples, rule linexfer needs at least 200" "$TMP/err" || fail "few, two negative: $(cat "$TMP/err")"
  # 4. Fast outliers: 5 of 1000 at 30 ns are below the 1st percentile's rank
  # (sorted[9] = 60): trusted, value 60.  20 of 1000 make p1 = 30 and
  # p10 = 60 = 2x: refused (two regimes, the value cannot be told).
  $PY -c "print('\n'.join(['30'] * 5 + ['60'] * 995))" >"$TMP/fast5"
  check linexfer 0 "$TMP/fast5" "0.5% fast outliers"
  [ "$(json "$TMP/out.json" "d['value'], d['min']")" = "60 30" ] || fail "fast5: $(cat "$TMP/out.json")"
  $PY -c "print('\n'.join(['30'] * 20 + ['60'] * 980))" >"$TMP/fast20"
  check linexfer 4 "$TMP/fast20" "2% fast outliers"
  # 5. Rule chase (40 samples, tol 0.10, 5 clean): 40 samples with exactly 4
  # within 10% of the minimum (p1 = p10's neighbour) and the rest 11% above:
  # p10 = sorted[3] = 100 is in the band, but only 4 clean samples: refused.
  $PY -c "print('\n'.join(['100'] * 4 + ['111'] * 36))" >"$TMP/four"
  check chase 4 "$TMP/four" "4 clean of 40"
  grep -q "only 4 samples within 10% of the 1st percentile 100 (rule chase needs 5)" "$TMP/err" ||
    fail "four: $(cat "$TMP/err")"
  # 6. Rule chase on 60 samples spread 1.00..1.059 ns: p1 = min = 1.00,
  # p10 = sorted[5] = 1.005: trusted.
  $PY -c "print('\n'.join('%.3f' % (1 + i / 1000) for i in range(60)))" >"$TMP/chase"
  check chase 0 "$TMP/chase" "chase spread 6%"
  [ "$(json "$TMP/out.json" "d['value']")" = "1.005" ] || fail "chase value: $(cat "$TMP/out.json")"
  # 7. Non-positive samples cannot be trusted.
  $PY -c "print('\n'.join(['0'] * 300))" >"$TMP/zero"
  check linexfer 4 "$TMP/zero" "zero samples"
  echo "PASS"
  ;;
robust_bad_input)
  build robust-check $M/robust-check.c
  printf '1.0 2.0\n3.0 abc\n' >"$TMP/bad"
  "$TMP/robust-check" linexfer "$TMP/bad" >/dev/null 2>"$TMP/err"
  st=$?
  [ $st -eq 2 ] || fail "bad number: exit $st, expected 2"
  [ "$(cat "$TMP/err")" = "robust-check: $TMP/bad:2: expected a number, found 'abc'" ] || fail "message: $(cat "$TMP/err")"
  "$TMP/robust-check" nosuchrule "$TMP/bad" >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] || fail "unknown rule: expected exit 2"
  grep -q "rule: expected linexfer, chase, icache, clock, kcold or atomics, found 'nosuchrule'" "$TMP/err" || fail "$(cat "$TMP/err")"
  echo "PASS"
  ;;
calibrate_refused)
  # --calibration whose tunsim calibrate refuses (exit 2, as on the Zen 1 of
  # 2026-12-05, whose kcold curves the cache model misses): the machine file
  # is written, the calibration is not, exit 4 with the reason, not 3.
  # --accept-cache-misfit reaches tunsim calibrate (the fake records its
  # arguments).
  [ "$(id -u)" -eq 0 ] || skip "not root: kcold needs a network namespace"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  printf '#!/bin/sh\necho "$*" >"%s"\necho "tunsim: M.json: kernel_cold: the cache model fitted to it misses 3 of 16 points" >&2\nexit 2\n' "$TMP/args" >"$TMP/fake-tunsim"
  chmod +x "$TMP/fake-tunsim"
  TUNSIM="$TMP/fake-tunsim" $PY scripts/calibrate-machine --only geometry,kcold --quick -o "$TMP/m.json" \
    --calibration "$TMP/cal.json" --accept-cache-misfit >"$TMP/out" 2>"$TMP/err"; st=$?
  [ "$(cat "$TMP/args")" = "calibrate --machine $TMP/m.json -o $TMP/cal.json --accept-cache-misfit" ] ||
    fail "tunsim calibrate got: $(cat "$TMP/args")"
  [ $st -eq 4 ] || fail "exit $st, expected 4: $(tail -n3 "$TMP/err")"
  grep -q "^tunsim: M.json: kernel_cold: the cache model fitted to it misses" "$TMP/err" || fail "tunsim's reason not shown: $(tail -n3 "$TMP/err")"
  grep -q "^calibrate-machine: refused: the calibration $TMP/cal.json: tunsim calibrate refused" "$TMP/err" ||
    fail "no refusal line: $(tail -n3 "$TMP/err")"
  [ -s "$TMP/m.json" ] && [ ! -e "$TMP/cal.json" ] || fail "machine file written: $([ -s "$TMP/m.json" ] && echo yes), calibration: $([ -e "$TMP/cal.json" ] && echo yes)"
  echo "PASS"
  ;;
btb_sites)
  # icache --jumps-per-line J (codegen.h): J more taken jumps a line.  Bad J
  # is a usage error; J = 3 makes each 4 KiB walk execute 4 taken jumps a
  # line, which costs more than 1.4x the walk with 1: 1.8 against 8.0 ns a
  # line on the Zen 1 of 2026-12-05 (results/reference/machine/btb-2026-12-05/:
  # a taken jump costs about 2 ns there), 0.27 against 0.57 on the Zen 5
  # (2026-12-06 01:28, three quiet runs; it takes about two taken jumps a
  # cycle) and 0.37 against 0.62 in a CI run of 01:20 whose two walks ran at
  # different host speeds (1.7x; the 2x this test asked until then failed
  # there).  If the extra jumps were not executed, the two would be equal.
  build icache $M/icache.c -lm
  "$TMP/icache" --jumps-per-line 17 >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^usage: icache .*\[--jumps-per-line J\]" "$TMP/err" || fail "J 17: exit $st, $(cat "$TMP/err")"
  for j in 0 3; do
    "$TMP/icache" --cpu 0 --min-bytes 4096 --max-bytes 4096 --samples 40 --jumps-per-line $j >"$TMP/j$j.json" 2>"$TMP/err"
    st=$?
    [ $st -eq 4 ] && skip "the machine was too busy for icache: $(head -n1 "$TMP/err")"
    [ $st -eq 0 ] || fail "icache --jumps-per-line $j exited $st: $(cat "$TMP/err")"
  done
  [ "$(json "$TMP/j3.json" "d['branch_sites_per_line']")" = 4 ] || fail "branch_sites_per_line: $(json "$TMP/j3.json" "d['branch_sites_per_line']")"
  [ "$(json "$TMP/j0.json" "d['branch_sites_per_line']")" = 1 ] || fail "branch_sites_per_line with J 0"
  v0=$(json "$TMP/j0.json" "d['points'][0]['ns_per_line']['value']")
  v3=$(json "$TMP/j3.json" "d['points'][0]['ns_per_line']['value']")
  $PY -c "import sys; sys.exit(0 if $v3 > 1.4 * $v0 else 1)" || fail "4 jumps a line cost $v3 ns a line, 1 jump $v0: the extra jumps did not run"
  echo "PASS"
  ;;
btb_summary)
  # The committed Zen 1 file (2026-12-05 17:02): summarize() on its raw
  # records gives the summary committed with it (per point the median of
  # its trusted runs: two runs, so the mean of the two, and their range);
  # with every kcold point refused there is no summary.branch_sites, so
  # tunsim calibrate --machine leaves the level out instead of failing.
  $PY - <<'PYEOF' || fail "summary of the btb part"
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("cm", "scripts/calibrate-machine")
spec = importlib.util.spec_from_loader("cm", loader)
cm = importlib.util.module_from_spec(spec)
loader.exec_module(cm)
d = json.load(open("results/reference/machine/zen1-kvm-2vcpu-btb.json"))
s = cm.summarize(d)["branch_sites"]
if s != d["summary"]["branch_sites"]:
    sys.exit("summary differs from the committed one")
p = next(x for x in s["kernel_cold"] if x["sites_per_line"] == 2 and x["code_bytes"] == 65536)
runs = [q["minus_warm_ns"] for r in d["branch_sites"]["kernel_cold"]["2"] for q in r["points"] if q["code_bytes"] == 65536]
if len(runs) != 2 or p["minus_warm_ns"] != sum(runs) / 2 or (p["min_ns"], p["max_ns"]) != (min(runs), max(runs)):
    sys.exit("2 a line, 64 KiB: %s from runs %s" % (p, runs))
for rs in d["branch_sites"]["kernel_cold"].values():
    for r in rs:
        for q in r["points"]:
            q["write_ns"]["trusted"] = False
if "branch_sites" in cm.summarize(d):
    sys.exit("every kcold point refused, yet a summary")
PYEOF
  echo "PASS"
  ;;
calibrate_btb)
  # Part "btb": icache.c and kcold.c with 1, 2 and 4 taken branches a line
  # (--jumps-per-line 0, 1, 3), the records kept per number a line, the
  # summary per point the median of its trusted runs (one run with --quick).
  # Its kcold runs in a private network namespace (root).
  [ "$(id -u)" -eq 0 ] || skip "not root: kcold needs a network namespace"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  $PY scripts/calibrate-machine --only btb --quick -o "$TMP/m.json" >"$TMP/out" 2>"$TMP/err"; st=$?
  [ $st -eq 0 ] || [ $st -eq 4 ] || fail "exit $st: $(tail -n3 "$TMP/err")"
  recs=$(json "$TMP/m.json" "sorted(d['branch_sites']['icache']), sorted(d['branch_sites']['kernel_cold'])")
  [ "$recs" = "['1', '2', '4'] ['1', '2', '4']" ] || fail "records of icache, kcold by sites a line: $recs"
  for sites in 1 2 4; do
    j=$((sites - 1))
    json "$TMP/m.json" "d['branch_sites']['kernel_cold']['$sites'][0]['provenance']['command']" | grep -q -- "--jumps-per-line $j " ||
      fail "kcold of $sites a line did not run --jumps-per-line $j"
    [ "$(json "$TMP/m.json" "d['branch_sites']['icache']['$sites'][0]['branch_sites_per_line']")" = "$sites" ] ||
      fail "icache of $sites a line: branch_sites_per_line $(json "$TMP/m.json" "d['branch_sites']['icache']['$sites'][0]['branch_sites_per_line']")"
  done
  # The summary: a point per trusted (sites, size), each the median of its
  # runs; with one run, the run's own value.
  n=$(json "$TMP/m.json" "len(d['summary']['branch_sites']['kernel_cold'])")
  t=$(json "$TMP/m.json" "sum(p['write_ns']['trusted'] and p['code_bytes'] > 0 for r in d['branch_sites']['kernel_cold'].values() for x in r for p in x['points'])")
  [ "$n" = "$t" ] || fail "summary has $n kcold points, the runs $t trusted code points"
  [ "$t" -gt 0 ] || skip "the machine was too busy: every kcold point refused"
  json "$TMP/m.json" "all(p['min_ns'] == p['max_ns'] == p['minus_warm_ns'] and p['runs'] == 1 for p in d['summary']['branch_sites']['kernel_cold'])" |
    grep -q True || fail "one run: a point's median, min and max are its value"
  ip netns list | grep -q "^tunsim-btb-" && fail "a tunsim-btb namespace was left behind"
  echo "PASS"
  ;;
stall_measures)
  build stall $M/stall.c -lm
  "$TMP/stall" --seconds 100 >/dev/null 2>"$TMP/err"; [ $? -eq 2 ] || fail "--seconds 100: expected exit 2"
  grep -q "^stall: --seconds: expected 0.1 to 60, found '100'$" "$TMP/err" || fail "usage line: $(cat "$TMP/err")"
  "$TMP/stall" --cpu 0 --seconds 1 >"$TMP/s.json" 2>"$TMP/err"; st=$?
  [ $st -eq 4 ] && skip "stall.c refused: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "exit $st: $(cat "$TMP/err")"
  # Consistent: 1000 ascending quantiles (the default --quantiles) of the
  # time lost a window, each at most the period (a gap's time is split
  # between the windows it spans); the mean a window (stolen fraction x
  # period) at least 999/1000 of the lowest quantile; the windows and the
  # dropped ones cover the second.  --quantiles 16 gives 16, 0 is refused.
  $PY - "$TMP/s.json" <<'PYEOF' || fail "inconsistent record: $(cat "$TMP/s.json")"
import json, sys
d = json.load(open(sys.argv[1]))
q, p = d["per_period_ns"], d["period_ns"]
assert len(q) == 1000 and q == sorted(q) and q[-1] <= p + 1, q
assert 10e3 <= p <= 1e8, p
assert 0 <= d["stolen_fraction"] < 0.5, d["stolen_fraction"]
# At least 999/1000 of the windows lose q[0] or more (the table's lowest
# quantile is window floor(n / 2000) of n, ascending): so does the mean,
# 0.999 of it.
assert d["per_period_mean_ns"] >= 0.999 * q[0] - 1, d
# A trusted period's spacings cover a fifth of the run (or there is none:
# windows of 1 ms).
assert d["period_covers"] >= 0.2 or (d["period_ns"] == 1e6 and d["period_votes"] < 10), d
assert (d["windows"] + d["windows_dropped"]) * p <= 1.0e9 + p and (d["windows"] + d["windows_dropped"] + 2) * p >= 0.99e9, d
PYEOF
  "$TMP/stall" --cpu 0 --seconds 0.2 --quantiles 16 >"$TMP/s16.json" 2>"$TMP/err"; st=$?
  [ $st -eq 4 ] && skip "stall.c refused: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "--quantiles 16: exit $st: $(cat "$TMP/err")"
  [ "$(json "$TMP/s16.json" "len(d['per_period_ns'])")" = 16 ] || fail "--quantiles 16: $(cat "$TMP/s16.json")"
  "$TMP/stall" --quantiles 0 >/dev/null 2>"$TMP/err"; [ $? -eq 2 ] || fail "--quantiles 0: expected exit 2"
  # pairgaps.c (the same loop on CPUs 0 and 1 at once) and stall_pairs.py:
  # one slot a whole window without a switch, each a rank in (0, 1), and
  # as many windows kept and left out as the second holds (a window left
  # out on both CPUs at once).  The same CPU twice is a usage error.
  build pairgaps $M/pairgaps.c
  "$TMP/pairgaps" --cpu-a 0 --cpu-b 0 >/dev/null 2>"$TMP/err"; [ $? -eq 2 ] || fail "pairgaps --cpu-a 0 --cpu-b 0: expected exit 2"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: nothing to pair"
  "$TMP/pairgaps" --cpu-a 0 --cpu-b 1 --seconds 1 >"$TMP/gaps.txt" 2>"$TMP/err" || fail "pairgaps: $(cat "$TMP/err")"
  # Windows of 1 ms (any period pairs; stall.c's estimate of it is not
  # what this checks).
  period=1000
  $PY $M/stall_pairs.py "$TMP/gaps.txt" --period-us "$period" -o "$TMP/pairs.json" 2>"$TMP/err" ||
    skip "too few windows without a switch to pair (busy): $(cat "$TMP/err")"
  $PY - "$TMP/pairs.json" "$period" "$TMP/gaps.txt" <<'PYEOF' || fail "inconsistent pairs: $(head -c 300 "$TMP/pairs.json")"
import json, sys
d = json.load(open(sys.argv[1]))
p, n, out = d["partner"], d["windows"], d["windows_switched"]
assert len(p) == n > 0 and all(0 < r < 1 for r in p), (len(p), n)
assert sorted(p) == [round((i + 0.5) / n, max(4, len(str(n)))) for i in range(n)], "not one rank a window"
# The windows kept and left out are the whole windows up to the end of the
# record's last gap (stall_pairs.py's rule, as stall.c counts), which ends
# within the second pairgaps ran (a gap that crosses its end, a little
# after).  Until 2026-12-07 this asked them to cover the second within 2
# windows, which holds only where the host takes the vCPUs every window up
# to the end: a CI run on the Zen 4 of 2026-12-07 23:10 counted 956 + 41,
# its last gap 2-3 ms before the end.
period_ns = float(sys.argv[2]) * 1e3
end = max(float(l.split()[1]) + float(l.split()[2]) for l in open(sys.argv[3]) if l.strip())
assert n + out == int(end // period_ns), (n, out, end)
assert end <= 1.1e9, end
PYEOF
  echo "PASS"
  ;;
calibrate_slub)
  # Part "slub": three capture-trace --drain-every captures of bursts whose
  # length is a multiple of every period (each cache's objects a slab and
  # its drain period), the residue tables trace-segments --bursts --json
  # gives, and summary.slab_ns = slub.py's derivation from exactly those
  # tables (tests/tools/test_slub.py checks the derivation by hand).
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs network namespaces and tracefs"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  $PY $M/slub.py caches >"$TMP/caches.json" 2>"$TMP/err" || skip "this kernel's skb caches: $(cat "$TMP/err")"
  $PY scripts/calibrate-machine --only slub --quick -o "$TMP/m.json" >"$TMP/out" 2>"$TMP/err"; st=$?
  [ $st -eq 0 ] || [ $st -eq 4 ] || fail "exit $st: $(tail -n3 "$TMP/err")"
  burst=$(json "$TMP/m.json" "d['slub']['burst']")
  json "$TMP/m.json" "all($burst % p == 0 for c in d['slub']['caches'].values() for p in (c['objs_per_slab'], c['objs_per_slab'] * c['cpu_partial_slabs']))" |
    grep -q True || fail "burst $burst is not a multiple of every period"
  [ "$(json "$TMP/m.json" "len(d['slub']['captures']), d['slub']['bursts']")" = "3 10" ] ||
    fail "expected 3 captures of 10 bursts (--quick): $(json "$TMP/m.json" "d['slub']['captures']")"
  json "$TMP/m.json" "all('--drain-every $burst --count $((burst * 10)) ' in c['command'] for c in d['slub']['captures'])" |
    grep -q True || fail "a capture did not run --drain-every $burst --count $((burst * 10))"
  ok=$(json "$TMP/m.json" "sum(c['exit'] == 0 for c in d['slub']['captures'])")
  [ "$ok" -gt 0 ] || skip "every capture refused: $(json "$TMP/m.json" "d['slub']['captures'][0].get('refused')")"
  [ "$(json "$TMP/m.json" "len(d['slub']['residues'])")" = "$ok" ] || fail "a residue table per capture taken"
  if [ "$(json "$TMP/m.json" "'slab_ns' in d['summary']")" != True ]; then
    skip "the slow paths did not stand out (a busy machine): $(json "$TMP/m.json" "[r['why'] for r in d['refused']][:1]")"
  fi
  $PY - "$TMP/m.json" <<'PYEOF' || fail "summary.slab_ns is not slub.py's derivation of the recorded residues"
import json, sys
sys.path.insert(0, "scripts/machine")
import slub
d = json.load(open(sys.argv[1]))
again = slub.derive(list(d["slub"]["residues"].items()), d["slub"]["caches"])["values"]
got = {k: v for k, v in d["summary"]["slab_ns"].items() if k.startswith("slab_")}
assert got == again, (got, again)
# A value left out was refused, and says so (a negative per-page part on a
# noisy machine).
five = {"slab_new_ns", "slab_new_page_ns", "slab_put_partial_ns", "slab_discard_ns", "slab_discard_page_ns"}
for k in five - set(got):
    assert any(k in r["what"] for r in d["refused"]), (k, d["refused"])
assert got["slab_new_ns"] > got["slab_put_partial_ns"] > 0, got
PYEOF
  echo "PASS"
  ;;
linexfer_refuses)
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no line transfer to measure"
  build linexfer scripts/linexfer.c
  # 50 samples are fewer than the 200 rule linexfer requires, on any machine.
  "$TMP/linexfer" --samples 50 0 1 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] || fail "expected exit 4 (refused), found $st: $(cat "$TMP/err")"
  grep -q "^linexfer: refused: only 50 samples, rule linexfer needs at least 200$" "$TMP/err" || fail "$(cat "$TMP/err")"
  [ "$(json "$TMP/out.json" "d['value_ns'], d['trusted'], d['samples']")" = "None False 50" ] ||
    fail "JSON: $(cat "$TMP/out.json")"
  "$TMP/linexfer" 0 0 >/dev/null 2>&1
  [ $? -eq 2 ] || fail "the same CPU twice must be a usage error (2)"
  echo "PASS"
  ;;
remotermw_measures)
  build remotermw scripts/machine/remotermw.c
  "$TMP/remotermw" 0 0 >/dev/null 2>&1
  [ $? -eq 2 ] || fail "the same CPU twice must be a usage error (2)"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no other CPU to move a line from"
  # 50 samples are below rule remotermw's 200: refused whatever the machine.
  "$TMP/remotermw" --samples 50 0 1 >"$TMP/few.json" 2>"$TMP/err"
  [ $? -eq 4 ] && grep -q "only 50 samples, rule remotermw needs at least 200" "$TMP/err" ||
    fail "50 samples must be refused (4): $(cat "$TMP/err")"
  [ "$(json "$TMP/few.json" "d['value_ns'], d['trusted']")" = "None False" ] || fail "$(cat "$TMP/few.json")"
  "$TMP/remotermw" --interval -5 0 1 >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "usage: remotermw" "$TMP/err" || fail "--interval -5 must be a usage error (2): $(cat "$TMP/err")"
  "$TMP/remotermw" --after sideways 0 1 >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "usage: remotermw" "$TMP/err" || fail "--after sideways must be a usage error (2): $(cat "$TMP/err")"
  "$TMP/remotermw" --after read --interval 100 0 1 >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "takes no --interval" "$TMP/err" || fail "--after read --interval must be a usage error (2): $(cat "$TMP/err")"
  "$TMP/remotermw" --then-work -1 0 1 >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "usage: remotermw" "$TMP/err" || fail "--then-work -1 must be a usage error (2): $(cat "$TMP/err")"
  # A refusal (exit 4) skips, with its reason.  Samples at or below zero:
  # what the move adds is within the clock's 10 ns steps, as on vCPUs that
  # share a cache (a move of 7-17 ns, hidden by work after it: 2026-12-05
  # 00:45, floor -10.1 ns; plain moves beside two `yes` at 02:35, floor
  # -15.8), not only a busy machine; any other refusal is the machine's load.
  refused() {  # WHAT
    grep -q "must be finite and positive" "$TMP/err" &&
      skip "$1 cannot resolve a move this cheap on this CPU pair, or one the load blurs: $(cat "$TMP/err")"
    skip "the machine is too busy to trust $1: $(cat "$TMP/err")"
  }
  # Two lines the other CPU left, one line it left, one line it keeps
  # writing every 200 ns (--interval), one line it read after this CPU
  # wrote it (--after read).
  for run in "2 0 write" "1 0 write" "1 200 write" "1 0 read"; do
    read -r lines interval after <<<"$run"
    "$TMP/remotermw" --samples 400 --lines "$lines" --interval "$interval" --after "$after" 0 1 \
      >"$TMP/out$lines-$interval-$after.json" 2>"$TMP/err"
    st=$?
    [ $st -eq 4 ] && refused remotermw
    [ $st -eq 0 ] || fail "remotermw --lines $lines --interval $interval --after $after exited $st: $(cat "$TMP/err")"
  done
  # Trusted: the value is its p10, and the move makes the locked operation
  # slower than the same operation on an owned line (value > 0) by less
  # than a descheduling (< 5 us).  The owned line's own cost (local_rmw_ns)
  # is its timed pass minus clock_overhead_ns, an overhead measured in the
  # clock's 10 ns steps on this VM (20 ns idle, 30 beside two `yes`), so it
  # is known only to about 10 ns: 5-9 ns idle here, -3.1 ns once beside two
  # `yes` (2026-12-03), when the test asked for 1..100 ns and failed.  What
  # holds on any machine: the timed pass itself is positive, and an owned
  # line costs at most 100 ns (atomics_measures) and at most what a move
  # adds plus that 10 ns uncertainty: with the vCPUs on one CCD a move adds
  # 7-14 ns, as much as the owned operation itself (2026-12-04 13:56 beside
  # two `yes`: two lines 6.9 ns, owned 7.2, when the test asked for
  # owned <= move and failed).
  $PY - "$TMP/out2-0-write.json" "$TMP/out1-0-write.json" "$TMP/out1-200-write.json" "$TMP/out1-0-read.json" \
    >"$TMP/check" 2>&1 <<'EOF'
import json, sys
for f, lines, interval, after in zip(sys.argv[1:], (2, 1, 1, 1), (0, 0, 200, 0), ("write",) * 3 + ("read",)):
    d = json.load(open(f))
    assert d["trusted"] and d["value"] == d["p10"] == d["value_ns"] and d["samples"] == 400, d
    assert d["lines"] == lines and d["interval_ns"] == interval and d["after"] == after and d["cpus"] == [0, 1], d
    assert 0 < d["value"] < 5000, d
    assert 0 < d["local_rmw_ns"] + d["clock_overhead_ns"] and d["local_rmw_ns"] <= min(100, d["value"] + 10), d
EOF
  [ $? -eq 0 ] || fail "$(cat "$TMP/check") $(cat "$TMP"/out*.json)"
  # --then-work 100: each timed operation is followed by 100 steps of
  # register-only work in both passes, so the local pass takes longer (the
  # work) and the value is what the core does not hide of writing a line
  # the other CPU has read (about 215 of 265 ns on two CCDs, 2026-12-04
  # 22:41: docs/calibration.md); trusted, it is positive and below a
  # descheduling.
  "$TMP/remotermw" --samples 400 --after read --then-work 100 0 1 >"$TMP/work.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] && refused "remotermw --then-work"
  [ $st -eq 0 ] || fail "remotermw --after read --then-work 100 exited $st: $(cat "$TMP/err")"
  $PY - "$TMP/work.json" "$TMP/out1-0-read.json" >"$TMP/check" 2>&1 <<'EOF'
import json, sys
w, plain = (json.load(open(f)) for f in sys.argv[1:])
assert w["trusted"] and w["then_work"] == 100 and plain["then_work"] == 0 and w["after"] == "read", w
assert 0 < w["value"] < 5000, w
assert w["local_rmw_ns"] > plain["local_rmw_ns"], (w["local_rmw_ns"], plain["local_rmw_ns"])
EOF
  [ $? -eq 0 ] || fail "$(cat "$TMP/check") $(cat "$TMP/work.json")"
  echo "PASS"
  ;;
atomics_measures)
  build atomics scripts/machine/atomics.c
  "$TMP/atomics" --cpu 0 --samples 400 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] && skip "the machine is too busy to trust the atomics: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "atomics exited $st: $(cat "$TMP/err")"
  # Trusted: each value is its p10.  A locked cmpxchg on a line the core owns
  # takes at least ~5 cycles (>= 1 ns below 5 GHz) and, uncontended, far less
  # than a line transfer (< 100 ns).  Each loop is one locked cmpxchg an
  # iteration plus at most two plain instructions (the lock pair's release
  # store; the rmw's add and move), which overlap with it, so their floors
  # (p1, the undisturbed cost) are within 25 % of each other either way:
  # quiet, 2026-12-03 18:02 UTC, lock pair p1 2.07-2.10 ns, rmw 2.25-2.30
  # (ratio 0.90-0.92).  atomics.c takes the two series' samples in turn, so
  # a host that changes the vCPU's speed changes both (the test compared two
  # series taken one after the other and failed beside two `yes` at 18:01:
  # 2.10 against 2.38).
  $PY - "$TMP/out.json" <<'EOF' || fail "$(cat "$TMP/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
lp, rmw = d["lock_pair_ns"], d["rmw_ns"]
for x in (lp, rmw):
    assert x["trusted"] and x["value"] == x["p10"] and x["samples"] == 400, x
    assert 1 <= x["value"] <= 100, x["value"]
assert 0.75 <= lp["p1"] / rmw["p1"] <= 1 / 0.75, (lp["p1"], rmw["p1"])
EOF
  echo "PASS: lock pair $(json "$TMP/out.json" "d['lock_pair_ns']['value']") ns, rmw $(json "$TMP/out.json" "d['rmw_ns']['value']") ns"
  ;;
wakeup_measures)
  # scripts/machine/wakeup.c (costs.ipi_ns, costs.ipi_latency_ns): trusted,
  # each statistic is its p10 of the 300 samples; the waker's share is
  # FUTEX_WAKE that woke the sleeper minus one that woke nobody; waking a
  # sleeper costs the waker more than a wake with nobody to wake, and the
  # sleeper runs after the waker's call began, so latency > wake call >
  # no waiter > 0 (the 6.18 try_to_wake_up -> ttwu_queue_wakelist path).
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no idle CPU to wake a thread on"
  build wakeup scripts/machine/wakeup.c -lm
  "$TMP/wakeup" --samples 300 --gap-us 10 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] && skip "the machine is too busy to trust the wake-up: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "wakeup exited $st: $(cat "$TMP/err")"
  $PY - "$TMP/out.json" <<'EOF2' || fail "$(cat "$TMP/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
lat, call, none = d["latency_ns"], d["wake_call_ns"], d["no_waiter_ns"]
# A wake that found the sleeper not yet in FUTEX_WAIT (preempted between
# saying so and sleeping: once in 300 beside two `yes`, 2026-12-03) woke
# nobody: it is missed, not timed.  The wake with no waiter never misses.
missed = d["samples_missed"]
assert 0 <= missed <= 30, missed
for x, n in ((lat, 300 - missed), (call, 300 - missed), (none, 300)):
    assert x["trusted"] and x["value"] == x["p10"] and x["samples"] == n, x
assert lat["value"] > call["value"] > none["value"] > 0, (lat["value"], call["value"], none["value"])
assert d["waker_ns"]["value"] == call["value"] - none["value"], d["waker_ns"]
EOF2
  echo "PASS: waker $(json "$TMP/out.json" "d['waker_ns']['value']") ns, latency $(json "$TMP/out.json" "d['latency_ns']['value']") ns"
  ;;
wakeup_traced)
  # wakeup.c --trace-instance DIR (calibrate-machine's traced run): every
  # sample traced.  By the program's structure (300 samples): each sample
  # wakes the sleeper on the idle CPU (a sched_wakeup the woken CPU writes,
  # a switch from idle to it) and the sleeper blocks again (a switch back to
  # idle), so at least 300 - missed wake-ups and twice as many switches; and
  # system calls of exactly two tasks, the program's (its pid) and its
  # sleeper.  Then the values as untraced: latency > wake call > no waiter.
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no idle CPU to wake a thread on"
  build wakeup scripts/machine/wakeup.c -lm
  traced_run "the wake-up" "$TMP/wakeup" --samples 300 --gap-us 10
  trace_counts "$TMP/trace" >"$TMP/counts.json"
  $PY - "$TMP/out.json" "$TMP/counts.json" "$pid" <<'EOF2' || fail "$(cat "$TMP/out.json") $(cat "$TMP/counts.json")"
import json, sys
d, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d["traced"] is True, d["traced"]
missed = d["samples_missed"]
lat, call, none = d["latency_ns"], d["wake_call_ns"], d["no_waiter_ns"]
assert lat["value"] > call["value"] > none["value"] > 0, (lat["value"], call["value"], none["value"])
count = t["counts"]
assert t["lost"] == 0, t
assert count["sched_wakeup"] >= 300 - missed, count
assert count["sched_switch"] >= 2 * (300 - missed), count
assert len(t["callers"]) == 2 and int(sys.argv[3]) in t["callers"], t["callers"]
EOF2
  echo "PASS: traced waker $(json "$TMP/out.json" "d['waker_ns']['value']") ns, latency $(json "$TMP/out.json" "d['latency_ns']['value']") ns"
  ;;
ctxswitch_measures)
  # scripts/machine/ctxswitch.c (costs.wakeup_local_ns, costs.context_switch_ns):
  # trusted, each statistic the p10 of its samples.  Waking a sleeper costs
  # more than a FUTEX_WAKE with nobody to wake; a sched_yield that switches
  # to the other thread and back (two system calls, two switches) costs more
  # than two that find nobody else runnable: both differences are positive,
  # and below 100 us (a trusted p10 is not a descheduling).  B's loop counter
  # moves in every yield with B runnable (6.18 yield_task_fair puts the
  # caller behind it), so at most a few samples are dropped.
  build ctxswitch scripts/machine/ctxswitch.c -lm
  "$TMP/ctxswitch" --cpu 0 --samples 1000 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] && skip "the machine is too busy to trust a context switch: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "ctxswitch exited $st: $(cat "$TMP/err")"
  $PY - "$TMP/out.json" <<'EOF2' || fail "$(cat "$TMP/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
nobody, noswitch = d["samples_woke_nobody"], d["samples_no_switch"]
assert 0 <= nobody <= 10 and 0 <= noswitch <= 10, (nobody, noswitch)
for k, n in (("wake_call_ns", 1000 - nobody), ("no_waiter_ns", 1000), ("yield_pair_ns", 1000 - noswitch),
             ("yield_alone_ns", 1000)):
    x = d[k]
    assert x["trusted"] and x["value"] == x["p10"] and x["samples"] == n, (k, x)
wl, cs = d["wakeup_local_ns"]["value"], d["context_switch_ns"]["value"]
assert wl == d["wake_call_ns"]["value"] - d["no_waiter_ns"]["value"], wl
assert cs == (d["yield_pair_ns"]["value"] - 2 * d["yield_alone_ns"]["value"]) / 2, cs
assert 0 < wl < 100000 and 0 < cs < 100000, (wl, cs)
EOF2
  echo "PASS: local wake-up $(json "$TMP/out.json" "d['wakeup_local_ns']['value']") ns, context switch $(json "$TMP/out.json" "d['context_switch_ns']['value']") ns"
  ;;
ctxswitch_traced)
  # ctxswitch.c --trace-instance DIR (calibrate-machine's traced runs, the
  # values a calibration takes): in an instance of our own, the program turns
  # on capture-trace's four task events filtered to its two threads before
  # its first sample and tracing off after its last.  What the buffer holds
  # then, by the program's own structure (1000 samples a phase): each
  # wake-up sample is A waking B, A's FUTEX_WAIT switching to B, B waking A
  # and blocking: 2 sched_wakeup and 2 sched_switch; each yield sample two
  # switches; so at least 2 (1000 - woke_nobody) wake-ups and
  # 2 (1000 - woke_nobody) + 2 (1000 - no_switch) switches, and system calls
  # of exactly two tasks, the program's (its pid) and one other, its B.  Then
  # the values are as untraced (trusted p10s, their differences).
  build ctxswitch scripts/machine/ctxswitch.c -lm
  traced_run "a context switch" "$TMP/ctxswitch" --cpu 0 --samples 1000
  trace_counts "$TMP/trace" >"$TMP/counts.json"
  $PY - "$TMP/out.json" "$TMP/counts.json" "$pid" <<'EOF2' || fail "$(cat "$TMP/out.json") $(cat "$TMP/counts.json")"
import json, sys
d, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d["traced"] is True, d["traced"]
nobody, noswitch = d["samples_woke_nobody"], d["samples_no_switch"]
for k in ("wake_call_ns", "no_waiter_ns", "yield_pair_ns", "yield_alone_ns"):
    assert d[k]["trusted"] and d[k]["value"] == d[k]["p10"], (k, d[k])
assert d["wakeup_local_ns"]["value"] == d["wake_call_ns"]["value"] - d["no_waiter_ns"]["value"]
assert d["context_switch_ns"]["value"] == (d["yield_pair_ns"]["value"] - 2 * d["yield_alone_ns"]["value"]) / 2
count = t["counts"]
assert t["lost"] == 0, t
assert count["sched_wakeup"] >= 2 * (1000 - nobody), count
assert count["sched_switch"] >= 2 * (1000 - nobody) + 2 * (1000 - noswitch), count
assert len(t["callers"]) == 2 and int(sys.argv[3]) in t["callers"], t["callers"]
EOF2
  echo "PASS: traced local wake-up $(json "$TMP/out.json" "d['wakeup_local_ns']['value']") ns, context switch $(json "$TMP/out.json" "d['context_switch_ns']['value']") ns"
  ;;
skbwalk_measures)
  # scripts/machine/skbwalk.c: every order trusted, each value its p10.  A
  # walk whose skbs left L2 in random order cannot be faster than the same
  # walk with them hot (each of its 6 lines a skb comes from the LLC at
  # best, where the hot walk finds them in L1d or L2), nor than its
  # slab-order twin by more than the noise band (rule skbwalk, 10 %);
  # and a trusted p10 of a few thousand loads is between 0.5 ns and 10 us a
  # skb.  The differences printed are the values' differences.
  build skbwalk $M/skbwalk.c -lm
  "$TMP/skbwalk" --cpu 0 --objects 1024 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 3 ] && skip "skbwalk cannot run here: $(cat "$TMP/err")"
  [ $st -eq 4 ] && skip "the machine is too busy to trust a walk: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "skbwalk exited $st: $(cat "$TMP/err")"
  $PY - "$TMP/out.json" <<'EOF2' || fail "$(cat "$TMP/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
o = d["orders"]
for k in ("hot", "slab", "random", "shuffled"):
    x = o[k]
    assert x["trusted"] and x["value"] == x["p10"] and 0.5 < x["value"] < 10000, (k, x)
assert o["shuffled"]["value"] > o["hot"]["value"], (o["shuffled"]["value"], o["hot"]["value"])
assert o["shuffled"]["value"] > o["slab"]["value"] / 1.1, (o["shuffled"]["value"], o["slab"]["value"])
for k in ("slab", "random", "shuffled"):
    diff = o[k]["value"] - o["hot"]["value"]  # printed to 2 and 3 decimals
    assert abs(d["over_hot_ns"][k] - diff) <= 0.0051, k
    assert abs(d["over_hot_ns_per_line"][k] - diff / 6) <= 0.00051, k
EOF2
  # --writer-cpu 1: the pairs a thread on CPU 1 wrote, walked on CPU 0.
  # Lines dirty in another core's cache come no faster than lines in this
  # core's L1d: random order over hot is positive, and the record says who
  # wrote them and that nothing was evicted.
  if [ "$(nproc)" -ge 2 ]; then
    "$TMP/skbwalk" --cpu 0 --writer-cpu 1 >"$TMP/remote.json" 2>"$TMP/err"
    st=$?
    [ $st -eq 4 ] && skip "the machine is too busy to trust a remote walk: $(cat "$TMP/err")"
    [ $st -eq 0 ] || fail "skbwalk --writer-cpu 1 exited $st: $(cat "$TMP/err")"
    [ "$(json "$TMP/remote.json" "(d['cpu'], d['writer_cpu'], d['evict_bytes']) == (0, 1, 0) and all(o['trusted'] for o in d['orders'].values()) and d['over_hot_ns_per_line']['random'] > 0 and 'thread on writer_cpu' in d['method']")" = True ] ||
      fail "remote walk: $(cat "$TMP/remote.json")"
    # The walker and the writer must be two CPUs.
    "$TMP/skbwalk" --cpu 0 --writer-cpu 0 >/dev/null 2>"$TMP/err"; st=$?
    [ $st -eq 2 ] && grep -q "^skbwalk: --writer-cpu 0 is the walking CPU: expected another one$" "$TMP/err" ||
      fail "skbwalk --cpu 0 --writer-cpu 0: status $st, $(cat "$TMP/err")"
  fi
  # calibrate-machine's part: three runs out of L1d, three out of L2 and
  # three of skbs CPU B wrote; its summary is the median of the trusted runs'
  # random order a line.
  # (exit 4: a run refused, which the file lists)
  $PY scripts/calibrate-machine --only skbwalk -o "$TMP/m.json" >/dev/null 2>"$TMP/cm.err"
  st=$?
  [ $st -eq 0 ] || [ $st -eq 4 ] || fail "calibrate-machine --only skbwalk exited $st: $(tail -n 3 "$TMP/cm.err")"
  $PY - "$TMP/m.json" >"$TMP/cm.out" 2>&1 <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
if d["refused"]:
    print("SKIP: the machine is too busy to trust the skbwalk part: " + d["refused"][0]["why"])
    sys.exit(77)
for level in ("l2", "llc"):
    runs = d["skbwalk"][level]
    assert len(runs) == 3, level
    v = sorted(r["over_hot_ns_per_line"]["random"] for r in runs)
    assert d["summary"]["skb_reread_ns_per_line"][level] == v[1], (level, v)
runs = d["skbwalk"]["remote"]
assert len(runs) == 3 and all((r["cpu"], r["writer_cpu"]) == (0, 1) for r in runs), runs
v = sorted(r["over_hot_ns_per_line"]["random"] for r in runs)
assert d["summary"]["skb_remote_walk_ns_per_line"]["value"] == v[1], v
EOF2
  st=$?
  [ $st -eq 77 ] && skip "$(sed 's/^SKIP: //' "$TMP/cm.out")"
  [ $st -eq 0 ] || fail "calibrate-machine --only skbwalk: summary: $(cat "$TMP/cm.out")"
  echo "PASS: over hot, ns a skb: $(json "$TMP/out.json" "d['over_hot_ns']"); a line from L2 and the LLC: $(json "$TMP/m.json" "[d['summary']['skb_reread_ns_per_line'][k] for k in ('l2', 'llc')]"); one CPU B wrote: $(json "$TMP/m.json" "d['summary']['skb_remote_walk_ns_per_line']['value']")"
  ;;
linexfer_measures)
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no line transfer to measure"
  build linexfer scripts/linexfer.c
  "$TMP/linexfer" 0 1 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 4 ] && skip "the machine is too busy to trust a line transfer: $(cat "$TMP/err")"
  [ $st -eq 0 ] || fail "linexfer exited $st: $(cat "$TMP/err")"
  # Trusted: value_ns is the p10, and a one-way transfer takes between 5 ns
  # (faster than any L2 hit) and 5 us (slower than any cross-socket transfer:
  # a preempted partner, which the rule must have refused).
  $PY - "$TMP/out.json" <<'EOF' || fail "$(cat "$TMP/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["trusted"] and d["value_ns"] == d["value"] == d["p10"], d
assert 5 <= d["value_ns"] <= 5000, d["value_ns"]
assert d["p1"] <= d["p10"] <= 1.25 * d["p1"], d
EOF
  # --lines 6 (costs.cacheline_burst_ns): the same rule, and the output says
  # how many payload lines each handoff carried.
  # A 6-line handoff spreads more than a bare one (a quiet VM refused one at
  # p10/p1 1.28 on 2026-12-02): a refusal is checked as a refusal (no value,
  # the reason on stderr), not a skip of what the bare run showed.
  "$TMP/linexfer" --lines 6 0 1 >"$TMP/out6.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 0 ] || [ $st -eq 4 ] || fail "linexfer --lines 6 exited $st: $(cat "$TMP/err")"
  $PY - "$TMP/out6.json" "$st" <<'EOF' || fail "$(cat "$TMP/out6.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["lines"] == 6, d
if sys.argv[2] == "0":
    assert d["trusted"] and d["value_ns"] == d["p10"], d
    assert 5 <= d["value_ns"] <= 5000, d["value_ns"]
else:
    assert not d["trusted"] and d["value_ns"] is None and d["refused"], d
EOF
  [ $st -eq 4 ] && echo "note: the 6-line handoff was refused: $(cat "$TMP/err")"
  "$TMP/linexfer" --lines 65 0 1 >/dev/null 2>&1
  [ $? -eq 2 ] || fail "linexfer --lines 65 (above the 64 it carries) was not a usage error"
  echo "PASS: $(json "$TMP/out.json" "d['value_ns']") ns, with 6 lines $(json "$TMP/out6.json" "d['value_ns'] if d['trusted'] else 'refused'")"
  ;;
cachegeom_decode)
  build cachegeom $M/cachegeom.c
  # a. This machine's AMD EPYC (family 1Ah) as its cpuid reads: no TOPOEXT,
  # so only the legacy leaves.  0x80000005 ECX 0x300c0140: L1d 0x30 = 48 KiB,
  # 0x0c = 12 ways, 64 B lines -> 64 sets; EDX 0x20080140: L1i 32 KiB,
  # 8 ways.  0x80000006 ECX 0x04006140: L2 0x400 = 1024 KiB, code 6 = 8 ways,
  # 64 B -> 2048 sets; EDX 0x0fe09140: L3 0x3f8 = 1016 x 512 KiB, code 9 =
  # "see 0x8000001D": ways unknown.
  amd="--cpuid 0.0=d,68747541,444d4163,69746e65 --cpuid 1.0=b00f21,0,fed83203,178bfbff
       --cpuid 80000000.0=80000021,0,0,0 --cpuid 80000001.0=0,0,440001f1,0
       --cpuid 80000005.0=ff60ff40,ff60ff40,300c0140,20080140 --cpuid 80000006.0=40802040,60804040,4006140,fe09140"
  # shellcheck disable=SC2086
  "$TMP/cachegeom" --sysfs none $amd >"$TMP/amd.json" || fail "cachegeom exited $?"
  got=$(json "$TMP/amd.json" "d['vendor'], d['family'], d['cpuid']['caches'], [(c['level'], c['type'], c['size_bytes'], c['ways'], c['sets']) for c in d['legacy']]")
  exp="AuthenticAMD 26 [] [(1, 'data', 49152, 12, 64), (1, 'instruction', 32768, 8, 64), (2, 'unified', 1048576, 8, 2048), (3, 'unified', 532676608, None, None)]"
  [ "$got" = "$exp" ] || fail "AMD legacy: expected $exp, found $got"
  grep -q "TOPOEXT is not advertised" "$TMP/amd.json" || fail "AMD legacy: no reason for the empty deterministic leaf"
  # b. The same CPU with TOPOEXT and a 0x8000001D L1d subleaf built from
  # AMD's field layout: EAX 0x4121 = type 1 (data), level 1, self-initialising,
  # (EAX[25:14] = 1) + 1 = 2 threads; EBX 0x02c0003f = (11 + 1) ways,
  # 1 partition, 64 B lines; ECX 0x3f = 64 sets -> 49152 bytes.
  # shellcheck disable=SC2086
  "$TMP/cachegeom" --sysfs none $amd --cpuid 80000001.0=0,0,444001f1,0 --cpuid 8000001d.0=4121,2c0003f,3f,0 \
    >"$TMP/amd2.json" || fail "cachegeom exited $?"
  got=$(json "$TMP/amd2.json" "d['cpuid']['source'], [(c['level'], c['type'], c['size_bytes'], c['ways'], c['sets'], c['sharing_threads']) for c in d['cpuid']['caches']]")
  [ "$got" = "cpuid 0x8000001D [(1, 'data', 49152, 12, 64, 2)]" ] || fail "AMD 0x8000001D: found $got"
  # c. Intel leaf 4, two subleaves built from Intel's SDM layout: L1d EAX
  # 0x4121 (data, level 1, 2 threads), EBX 0x01c0003f (8 ways, 64 B), ECX 63
  # -> 32768; L2 EAX 0x4143 (unified, level 2, 2 threads), EBX 0x03c0003f
  # (16 ways), ECX 1023 -> 1048576; subleaf 2 type 0 ends the list.
  "$TMP/cachegeom" --sysfs none --cpuid 0.0=16,756e6547,6c65746e,49656e69 --cpuid 1.0=50654,0,0,0 \
    --cpuid 4.0=4121,1c0003f,3f,0 --cpuid 4.1=4143,3c0003f,3ff,0 >"$TMP/intel.json" || fail "cachegeom exited $?"
  got=$(json "$TMP/intel.json" "d['vendor'], d['cpuid']['source'], [(c['level'], c['type'], c['size_bytes'], c['ways'], c['sets'], c['sharing_threads']) for c in d['cpuid']['caches']]")
  [ "$got" = "GenuineIntel cpuid 4 [(1, 'data', 32768, 8, 64, 2), (2, 'unified', 1048576, 16, 1024, 2)]" ] ||
    fail "Intel leaf 4: found $got"
  # d. sysfs: a directory laid out like /sys/devices/system/cpu/cpu0/cache.
  s=$TMP/sysfs
  for spec in "0 1 Data 48K 12 64 64 0-1" "1 1 Instruction 32K 8 64 64 0-1" "2 2 Unified 1024K 8 64 2048 0-1" \
              "3 3 Unified 32768K 16 64 32768 0-15"; do
    set -- $spec
    mkdir -p "$s/index$1"
    echo "$2" >"$s/index$1/level"; echo "$3" >"$s/index$1/type"; echo "$4" >"$s/index$1/size"
    echo "$5" >"$s/index$1/ways_of_associativity"; echo "$6" >"$s/index$1/coherency_line_size"
    echo "$7" >"$s/index$1/number_of_sets"; echo "$8" >"$s/index$1/shared_cpu_list"
  done
  "$TMP/cachegeom" --sysfs "$s" --cpuid 0.0=0,0,0,0 >"$TMP/sysfs.json" || fail "cachegeom exited $?"
  got=$(json "$TMP/sysfs.json" "[(c['level'], c['type'], c['size_bytes'], c['ways'], c['sets'], c['sharing_threads']) for c in d['sysfs']['caches']]")
  [ "$got" = "[(1, 'data', 49152, 12, 64, 2), (1, 'instruction', 32768, 8, 64, 2), (2, 'unified', 1048576, 8, 2048, 2), (3, 'unified', 33554432, 16, 32768, 16)]" ] ||
    fail "sysfs: found $got"
  "$TMP/cachegeom" --cpuid 4.0=zz >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] && grep -q "expected LEAF.SUB=EAX,EBX,ECX,EDX in hex, found '4.0=zz'" "$TMP/err" || fail "bad --cpuid: $(cat "$TMP/err")"
  echo "PASS"
  ;;
derive_levels)
  # A curve with plateaus 1 ns (<= 32 KiB), 4 ns (64 KiB .. 512 KiB), 14 ns
  # (2 .. 4 MiB) and 200 ns (>= 16 MiB), and transitions 7 ns at 1 MiB,
  # 30 ns at 5.66 MiB, 60 ns at 8 MiB; reported sizes L1 32 KiB, L2 1 MiB.
  # Expected by derive.py's definitions:
  #   l1 = 1 (points <= 16 KiB), l2 = 4 (64 KiB .. 512 KiB), memory = 200;
  #   rise: among the segments above 2 MiB that end at or above
  #     sqrt(14 * 200) = 52.9 (the value at 2 MiB and memory), the steepest is
  #     5.66 MiB (30) -> 8 MiB (60), slope ln 2 / ln(sqrt 2) = 2.0 (then 1.74);
  #     its middle sqrt(5931642 * 8388608) = 7053951 bytes; llc = median of the
  #     points in [2 MiB, 7053951 / sqrt 2 = 4.99 MiB]: 2, 2.83 and 4 MiB, 14;
  #   LLC edge: crossing of sqrt(14 * 200) = 52.915 between 5.66 MiB (30) and
  #     8 MiB (60): t = ln(52.915/30)/ln 2 = 0.81871, at 5931642 * 2^(t/2) =
  #     7877779 bytes (log-log interpolation);
  #   l1 edge: sqrt(1 * 4) = 2 between 32 KiB (1) and 64 KiB (4): t = 0.5,
  #     32768 * 2^0.5 = 46341 bytes = 1.414 x 32768;
  #   l2 edge: sqrt(4 * 14) = 7.483 between 1 MiB (7) and 2 MiB (14):
  #     t = ln(7.483/7)/ln 2 = 0.096323, 1048576 * 2^t = 1120975 bytes.
  $PY - <<'EOF' || fail "derive.py levels or edges differ from the hand-computed ones"
import sys
sys.path.insert(0, "scripts/machine")
import derive
pts = [(4096, 1), (8192, 1), (16384, 1), (32768, 1), (65536, 4), (131072, 4), (262144, 4), (524288, 4),
       (1048576, 7), (2097152, 14), (2965821, 14), (4194304, 14), (5931642, 30), (8388608, 60),
       (16777216, 200), (33554432, 200), (67108864, 200)]
curve = [{"bytes": b, "ns_per_load": {"trusted": True, "value": v}} for b, v in pts]
curve.append({"bytes": 100, "ns_per_load": {"trusted": False, "value": 0.1}})  # ignored
d = derive.derive(curve, "ns_per_load", 32768, 1048576)
lv, ed = d["levels"], d["edges"]
assert lv["l1"]["value"] == 1 and lv["l1"]["points"] == 3, lv["l1"]
assert lv["l2"]["value"] == 4 and lv["l2"]["points"] == 4, lv["l2"]
assert lv["memory"]["value"] == 200, lv["memory"]
assert lv["llc"]["value"] == 14 and lv["llc"]["points"] == 3, lv["llc"]
assert abs(ed["llc"]["bytes"] - 7877779) <= 1, ed["llc"]
assert abs(d["llc_rise_bytes"] - 7053951) <= 1, d["llc_rise_bytes"]
assert abs(ed["l1"]["bytes"] - 46341) <= 1 and ed["l1"]["edge_over_reported"] == 1.414, ed["l1"]
assert abs(ed["l2"]["bytes"] - 1120975) <= 1, ed["l2"]
assert d["untrusted_points_bytes"] == [100], d["untrusted_points_bytes"]
# Without trusted points in the L2 window, L2 and its edges are refused.
cut = [p for p in curve if not 65536 <= p["bytes"] <= 524288]
d2 = derive.derive(cut, "ns_per_load", 32768, 1048576)
assert d2["levels"]["l2"]["value"] is None and "only 0 trusted point(s)" in d2["levels"]["l2"]["refused"]
assert d2["edges"]["l1"]["bytes"] is None and d2["edges"]["l2"]["bytes"] is None
# No LLC share: from 2.5 MiB on the curve is at memory latency (90-300 ns).
# Segments above 2 MiB ending at or above sqrt(30 * 300) = 94.9: the steepest
# is 8 MiB (140) -> 15 MB (200), slope ln(200/140)/ln(15e6/8388608) = 0.614
# (15 -> 32 MiB: 0.503); rise sqrt(8388608 * 15e6) = 11.2 MB; window
# [2 MiB, 7.93 MB]: 30, 90, 95, 100, median 92.5; memory 300 < 4 x 92.5:
# refused with min_memory_over_llc 4, kept without it.
pts3 = pts[:9] + [(2097152, 30), (2500000, 90), (2965821, 95), (4194304, 100), (8388608, 140),
                  (15000000, 200), (33554432, 300), (67108864, 300)]
curve3 = [{"bytes": b, "ns_per_load": {"trusted": True, "value": v}} for b, v in pts3]
d3 = derive.derive(curve3, "ns_per_load", 32768, 1048576, min_memory_over_llc=4)
assert d3["levels"]["llc"]["value"] is None and d3["levels"]["llc"]["candidate"] == 92.5, d3["levels"]["llc"]
assert "within 4x of memory" in d3["levels"]["llc"]["refused"]
assert d3["edges"]["llc"]["bytes"] is None
assert derive.derive(curve3, "ns_per_load", 32768, 1048576)["levels"]["llc"]["value"] == 92.5
EOF
  echo "PASS"
  ;;
derive_bad_input)
  # derive() takes logarithms of the sizes and values and divides by the log
  # of a size ratio: a point that is no object, a value that is not a
  # positive number and two trusted points of one size were tracebacks
  # (TypeError, ValueError, ZeroDivisionError), exit 1.  Each is now one
  # line naming the point, exit 2.
  check() {  # JSON EXPECTED what
    printf '%s' "$1" >"$TMP/curve.json"
    $PY $M/derive.py "$TMP/curve.json" ns_per_load 32768 1048576 >"$TMP/out" 2>"$TMP/err"
    local st=$?
    [ "$st" -eq 2 ] || fail "$3: exit $st, expected 2 ($(cat "$TMP/err"))"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$3: expected one line on stderr, found: $(cat "$TMP/err")"
    grep -qF "$2" "$TMP/err" || fail "$3: expected '$2' in: $(cat "$TMP/err")"
  }
  check '{"points": [[4096, 1]]}' 'points[0]: expected an object with "bytes" a positive number' "a point that is a list"
  check '{"points": "x"}' 'points: expected a list of points, found str' "points a string"
  check 'NaN' 'points: expected a list of points, found float' "a bare NaN"
  check '[{"bytes": 4096, "ns_per_load": {"trusted": true, "value": -1}}]' \
    'points[0].ns_per_load.value: expected a positive number, found -1' "a negative value"
  check '[{"bytes": 4096, "ns_per_load": 1}]' 'points[0].ns_per_load: expected an object' "a bare value"
  check '[{"bytes": 4096, "ns_per_load": {"trusted": true, "value": 1}},
          {"bytes": 4096, "ns_per_load": {"trusted": true, "value": 2}}]' \
    "points[1].bytes: expected each trusted point's own size, found 4096 again (points[0])" "one size twice"
  # A curve that falls towards memory above 2 x L2 (1000 ns at 2 MiB, then
  # 10): no segment ends halfway from 1000 to memory (sqrt(1000 * 10) = 100),
  # so no rise out of the LLC: the LLC is refused, saying so (max() of no
  # slope was a ValueError traceback).
  $PY - <<'EOF' || fail "derive.py on a falling curve"
import sys
sys.path.insert(0, "scripts/machine")
import derive
pts = [(4096, 1), (8192, 1), (16384, 1), (65536, 4), (131072, 4), (262144, 4), (2097152, 1000), (4194304, 10),
       (8388608, 10)]
d = derive.derive([{"bytes": b, "ns_per_load": {"trusted": True, "value": v}} for b, v in pts], "ns_per_load",
                  32768, 1048576)
assert d["levels"]["llc"]["value"] is None, d["levels"]["llc"]
assert "no segment above 2 x L2 rises halfway" in d["levels"]["llc"]["refused"], d["levels"]["llc"]
assert d["edges"]["llc"]["bytes"] is None
EOF
  echo "PASS"
  ;;
perf_paths)
  # scripts/perf-paths on a synthetic `perf script -F tid,period,ip,sym`: ten
  # samples of task 77 (period 1000 ns) and one of task 99, for 2 frames.
  # Each sample's path follows from attribution.py's COST_ANCHORS (innermost
  # anchor; a lock counts as the queue's only inside tun_get_user or the
  # poll); each sample is worth 1000 / 2 = 500 ns a frame.
  $PY - "$TMP" <<'EOF' || fail "writing the synthetic perf script"
import sys
tmp = sys.argv[1]
k = iter(range(0x1000, 0x100000, 0x40))
def fr(*names):
    return "".join("\t%x %s+0x10\n" % (0xffffffff81000000 + next(k), n) for n in names)
wr = ["tun_get_user", "tun_chr_write_iter", "vfs_write", "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"]
sirq = ["net_rx_action", "handle_softirqs", "do_softirq.part.0", "__local_bh_enable_ip"] + wr
poll = ["tun_napi_poll", "__napi_poll"] + sirq
samples = [
    (77, fr("ring_buffer_write", "trace_event_raw_event_net_dev_rx_verbose_template", "gro_receive_skb", *poll)),  # gro
    (77, fr("rb_commit", "trace_event_raw_event_softirq", "handle_softirqs", "do_softirq.part.0",
            "__local_bh_enable_ip", *wr)),                                                                # softirq (its event)
    (77, fr("handle_softirqs", "do_softirq.part.0", "__local_bh_enable_ip", *wr)),                       # softirq (own code)
    (77, fr("_raw_spin_lock", *poll)),                                                                     # lock (the splice)
    (77, fr("_raw_spin_lock", "try_to_wake_up", "__napi_schedule", *wr)),                                # napi_schedule
    (77, fr("kmem_cache_free", "sk_skb_reason_drop", "__netif_receive_skb_core.constprop.0",
            "__netif_receive_skb_list_core", "netif_receive_skb_list_internal", "napi_complete_done", *poll)),  # stack_drop
    (77, fr("run_timer_softirq", "handle_softirqs", "irq_exit_rcu", "sysvec_apic_timer_interrupt", *wr)),  # irq
    (77, "\t7f00000012a4 [unknown]\n"),                                                                    # user
    (77, fr("__pi_memcpy", "skb_copy_datagram_from_iter", *wr)),                                          # copy
    (77, fr("__pi_memcpy", "skb_copy_datagram_from_iter", *wr)),                                          # copy
    (99, fr("gro_receive_skb", *poll)),                                                                   # another task
]
with open(f"{tmp}/script.txt", "w") as f:
    f.write("\n".join("%8d %10d \n%s" % (t, 1000, c) for t, c in samples))
EOF
  scripts/perf-paths "$TMP/script.txt" --tids 77 --frames 2 --frame-bytes 60 >"$TMP/out.json" ||
    fail "perf-paths exited $? on the synthetic script"
  $PY - "$TMP/out.json" <<'EOF' || fail "cost paths differ from the expected ones"
import json, sys
d = json.load(open(sys.argv[1]))
got = {k: v["samples"] for k, v in list(d["paths"].items()) + list(d["unmodelled"].items()) if v["samples"]}
want = {"costs.gro_ns": 1, "costs.softirq_ns": 2, "costs.lock_ns": 1, "costs.napi_schedule_ns": 1,
        "costs.stack_drop_ns": 1, "irq": 1, "user": 1, "costs.copy_ns_per_byte": 2}
assert got == want, got
assert d["samples"] == 10 and d["sampled_ns_per_frame"] == 5000, d   # 10 samples x 1000 ns / 2 frames
assert d["paths"]["costs.softirq_ns"]["ns_per_frame"] == 1000 and d["paths"]["costs.gro_ns"]["ns_per_frame"] == 500
assert d["paths"]["costs.softirq_ns"]["stderr"] == round(1000 / 2 ** 0.5, 2)   # Poisson: value / sqrt(samples)
assert d["paths"]["costs.syscall_ns"] == {"ns_per_frame": 0, "samples": 0, "stderr": None, "events_ns_per_frame": 0}
# the part under a tracepoint's handler: the gro sample and one of the two softirq ones
assert d["paths"]["costs.gro_ns"]["events_ns_per_frame"] == 500 and d["paths"]["costs.softirq_ns"]["events_ns_per_frame"] == 500
assert d["unattributed_leaves"] == [{"function": "run_timer_softirq", "samples": 1}], d["unattributed_leaves"]
EOF
  printf '   77   1000\n\tffffffff81000010 tun_get_user+0x10\n\n   77 x\n' >"$TMP/bad.txt"
  scripts/perf-paths "$TMP/bad.txt" --tids 77 --frames 2 >/dev/null 2>"$TMP/err"; st=$?
  # The file and the line (since 9c32a6f; it said only "line 4").
  [ $st -eq 2 ] && grep -qF "perf-paths: $TMP/bad.txt:4: expected 'TID PERIOD' (perf script -F tid,period,ip,sym), found '77 x'" "$TMP/err" &&
    [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
    fail "bad header line: status $st, $(cat "$TMP/err")"
  scripts/perf-paths "$TMP/script.txt" --tids 5 --frames 2 >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "no sample of tasks 5" "$TMP/err" || fail "no sample of the tasks: status $st, $(cat "$TMP/err")"
  scripts/perf-paths "$TMP/script.txt" --tids 77 --frames 0 >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^perf-paths: --frames: expected a positive integer, found '0'$" "$TMP/err" ||
    fail "--frames 0: status $st, $(cat "$TMP/err")"
  # /dev/zero (one line without end) was read whole into memory and the
  # script never ended; footprint.py analyze read its input the same way.
  # Lines are now read bounded (attribution.read_perf_text), as tunsim's.
  timeout 20 scripts/perf-paths /dev/zero --tids 77 --frames 2 >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^perf-paths: /dev/zero:1: expected a line of at most 65536 characters, found a longer one (not perf script text?)$" "$TMP/err" ||
    fail "/dev/zero: status $st, $(cat "$TMP/err")"
  timeout 20 $PY $M/footprint.py analyze /dev/zero --frames 1 --period-ns 1 >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^footprint.py: /dev/zero:1: expected a line of at most 65536 characters" "$TMP/err" ||
    fail "footprint.py analyze /dev/zero: status $st, $(cat "$TMP/err")"
  echo "PASS"
  ;;
footprint_attrib)
  # A kallsyms of 16 functions 0x100 bytes apart from 0xffffffff81000000
  # (the last one sized by a data symbol 0x100 after it), and a perf script
  # of 9 samples whose paths follow from footprint.py's anchors.
  $PY - "$TMP" <<'EOF' || fail "attribution differs from the expected one"
import sys
sys.path.insert(0, "scripts/machine")
import footprint as fp
tmp = sys.argv[1]
names = ["do_syscall_64", "ksys_write", "vfs_write", "tun_chr_write_iter", "tun_get_user", "netif_receive_skb",
         "__netif_receive_skb_core.constprop.0", "sk_skb_reason_drop", "kmem_cache_free", "handle_softirqs",
         "irq_exit_rcu", "sysvec_apic_timer_interrupt", "run_timer_softirq", "net_rx_action", "memcpy",
         "entry_SYSCALL_64_after_hwframe"]
base = 0xffffffff81000000
addr = {n: base + 0x100 * i for i, n in enumerate(names)}
with open(f"{tmp}/kallsyms", "w") as f:
    for n in names:
        f.write(f"{addr[n]:x} t {n}\n")
    f.write(f"{base + 0x100 * len(names):x} d some_data\n")
ks = fp.Kallsyms(f"{tmp}/kallsyms")
assert ks.resolve(addr["memcpy"] + 0xff)[1] == "memcpy" and ks.resolve(addr["memcpy"])[2] == 0x100
sys_tail = ["vfs_write", "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"]
# Every caller frame is the function + 0x10: the synthetic kernel calls each
# function from one call site only, as the chains below are consistent with.
def chain(leaf_off, *fns):
    ips = [addr[fns[0]] + leaf_off] + [addr[n] + 0x10 for n in fns[1:]]
    return "\n".join("\t%x" % ip for ip in ips)
samples = [
    chain(0x08, "tun_get_user", "tun_chr_write_iter", *sys_tail),                       # tun_get_user
    chain(0x48, "tun_get_user", "tun_chr_write_iter", *sys_tail),                       # tun_get_user, 2nd line
    chain(0x20, "memcpy", "__netif_receive_skb_core.constprop.0", "netif_receive_skb",
          "tun_get_user", "tun_chr_write_iter", *sys_tail),                                                   # netif_receive_skb
    chain(0x30, "kmem_cache_free", "sk_skb_reason_drop", "__netif_receive_skb_core.constprop.0",
          "tun_get_user", "tun_chr_write_iter", *sys_tail),                                                   # stack
    chain(0x10, "run_timer_softirq", "handle_softirqs", "irq_exit_rcu",
          "sysvec_apic_timer_interrupt", "tun_get_user", "tun_chr_write_iter", *sys_tail),                    # irq (timer softirq)
    chain(0x10, "memcpy", "net_rx_action", "handle_softirqs", "irq_exit_rcu"),          # softirq
    chain(0x04, "handle_softirqs", "irq_exit_rcu"),                                     # softirq (its own code)
    chain(0x00, "tun_chr_write_iter", *sys_tail),                                       # syscall
]
# The drop tail-calls its way to kmem_cache_free: no sk_skb_reason_drop
# frame, only the return address of the call into it (+0x50), which the
# kfree_skb tracepoint chain below shows: stack.  The same function from
# another call site (+0x60) stays netif_receive_skb.
core = addr["__netif_receive_skb_core.constprop.0"]
tail = "\n".join("\t%x" % (addr[n] + 0x10) for n in ["netif_receive_skb", "tun_get_user", "tun_chr_write_iter"] + sys_tail)
samples.append("\t%x\n\t%x\n" % (addr["kmem_cache_free"] + 0x30, core + 0x50) + tail)  # stack
samples.append("\t%x\n\t%x\n" % (addr["kmem_cache_free"] + 0x30, core + 0x60) + tail)  # netif_receive_skb
text = "\n\n".join("1234 cpu-clock/period=1000/:\n" + s for s in samples)
text += "\n\n1234 cpu-clock/period=1000/:\n\t7f0000001234\n"                           # user
tp = "1234 net:netif_receive_skb:\n" + chain(0x10, "__netif_receive_skb_core.constprop.0", "netif_receive_skb",
                                                "tun_get_user", "tun_chr_write_iter", *sys_tail)
tp += "\n\n1234 skb:kfree_skb:\n\t%x\n\t%x\n" % (addr["sk_skb_reason_drop"] + 0x10, core + 0x50) + tail
r = fp.analyze(fp.parse_perf_script(text), ks, frames=4, period_ns=1000, chains=fp.parse_perf_script(tp),
               chain_frames=1)
got = {p: x["samples"] for p, x in r["paths"].items()}
assert got == {"tun_get_user": 2, "netif_receive_skb": 2, "stack": 2, "irq": 1, "softirq": 2, "syscall": 1,
               "user": 1}, got
t = r["paths"]["tun_get_user"]
# one function of 0x100 bytes = 4 lines spanned; samples at +0x08 and +0x48: 2 lines sampled
assert (t["functions_seen"], t["function_bytes_seen"], t["lines_spanned_seen"], t["lines_sampled_seen"]) == (1, 256, 4, 2), t
# 4 frames, 1000 ns period, 1 ns per frame: 0.004 expected samples -> threshold 1
# calls into anchors seen on the tracepoint chains: from netif_receive_skb
# (into __netif_receive_skb_core), tun_get_user (into netif_receive_skb),
# tun_chr_write_iter (into tun_get_user), __netif_receive_skb_core + 0x50
# (into sk_skb_reason_drop)
assert r["anchor_call_sites"] == 4, r["anchor_call_sites"]
assert r["threshold_samples"] == 1 and t["functions_per_packet"] == 1
assert t["ns_per_packet_sampled"] == 500.0, t["ns_per_packet_sampled"]   # 2 samples x 1000 ns / 4 frames
assert r["tracepoints"]["net:netif_receive_skb"]["on_every_chain"] == sorted(
    ["__netif_receive_skb_core.constprop.0", "netif_receive_skb", "tun_chr_write_iter", "tun_get_user"] + sys_tail)
# Chapman estimate with the two halves {line 0} and {line 1} (samples 0 and 1 alternate): 2*2/1 - 1 = 3
assert t["lines_sampled_estimate"] == 3.0, t["lines_sampled_estimate"]
# kallsyms that hides addresses (kptr_restrict) is refused with the reason
with open(f"{tmp}/zero", "w") as f:
    f.write("0000000000000000 t a\n0000000000000000 T b\n")
try:
    fp.Kallsyms(f"{tmp}/zero")
    raise AssertionError("all-zero kallsyms accepted")
except fp.InputError as e:
    assert "kptr_restrict" in str(e), e
EOF
  printf '1234 cpu-clock:\n\tnothex\n' >"$TMP/bad.txt"
  $PY $M/footprint.py analyze "$TMP/bad.txt" --frames 1 --period-ns 1 >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] || fail "a bad perf script must exit 2"
  grep -q "footprint.py: $TMP/bad.txt:2: expected 'TID EVENT:' or a call-chain address, found 'nothex'" "$TMP/err" ||
    fail "bad perf script message: $(cat "$TMP/err")"
  # A damaged ELF (its section table beyond the file) was a struct.error
  # traceback, a device (/dev/zero) as the ELF file or as the BTF blob was
  # read until memory ran out: each is one line, exit 2.
  printf '\177ELF\002\001' >"$TMP/cut.elf"
  $PY $M/footprint.py elf-sizes "$TMP/cut.elf" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "^footprint.py: $TMP/cut.elf: expected a 64-bit little-endian ELF file, found a damaged one" "$TMP/err" ||
    fail "a damaged ELF: status $st, $(cat "$TMP/err")"
  timeout 20 $PY $M/footprint.py elf-sizes /dev/zero >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^footprint.py: /dev/zero: expected a regular file, found a device, a pipe or a socket$" "$TMP/err" ||
    fail "elf-sizes /dev/zero: status $st, $(cat "$TMP/err")"
  timeout 20 $PY $M/btf.py --file /dev/zero sizeof sk_buff >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^btf.py: /dev/zero: expected a regular file (a raw BTF blob), found a device, a pipe or a socket$" "$TMP/err" ||
    fail "btf.py --file /dev/zero: status $st, $(cat "$TMP/err")"
  echo "PASS"
  ;;
btf_sizes)
  [ -r /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux (kernel without CONFIG_DEBUG_INFO_BTF)"
  # The kernel creates its slab caches with these types' sizes:
  # skbuff_head_cache = sizeof(struct sk_buff) (net/core/skbuff.c), UDP and
  # TCP = udp_prot/tcp_prot.obj_size = sizeof(struct udp_sock/tcp_sock).
  # /sys/kernel/slab/NAME/object_size is that size, an independent source.
  checked=0
  for pair in skbuff_head_cache:sk_buff UDP:udp_sock TCP:tcp_sock; do
    cache=${pair%%:*} type=${pair#*:}
    f=/sys/kernel/slab/$cache/object_size
    [ -r "$f" ] || continue
    want=$(cat "$f")
    got=$($PY $M/btf.py sizeof "$type" | awk '{print $2}')
    [ "$got" = "$want" ] || fail "sizeof(struct $type): BTF reader says $got, slab $cache says $want"
    checked=$((checked + 1))
  done
  if command -v pahole >/dev/null; then
    for type in sk_buff skb_shared_info napi_struct net_device softnet_data tun_file; do
      want=$(pahole -C "$type" /sys/kernel/btf/vmlinux 2>/dev/null | sed -n 's/.*size: \([0-9]*\),.*/\1/p' | tail -n1)
      [ -n "$want" ] || continue
      got=$($PY $M/btf.py sizeof "$type" | awk '{print $2}')
      [ "$got" = "$want" ] || fail "sizeof(struct $type): BTF reader says $got, pahole says $want"
      checked=$((checked + 1))
    done
  fi
  [ $checked -gt 0 ] || skip "no independent source: neither /sys/kernel/slab/*/object_size nor pahole (apt-get install dwarves)"
  printf 'not btf at all, 24 bytes+\n' >"$TMP/bad.btf"
  $PY $M/btf.py --file "$TMP/bad.btf" sizeof sk_buff >/dev/null 2>"$TMP/err"
  [ $? -eq 2 ] || fail "a file that is not BTF must exit 2"
  grep -q "btf.py: $TMP/bad.btf: offset 0: expected BTF magic 0xeb9f, found 0x" "$TMP/err" || fail "$(cat "$TMP/err")"
  echo "PASS: $checked sizes agree"
  ;;
chase_curve)
  build chase $M/chase.c -lm
  "$TMP/chase" --cpu 0 --min-bytes 8192 --max-bytes 524288 --per-octave 1 >"$TMP/c.json" 2>"$TMP/err"
  st=$?
  [ $st -eq 3 ] && skip "chase cannot run here: $(cat "$TMP/err")"
  [ $st -eq 0 ] || [ $st -eq 4 ] || fail "chase exited $st: $(cat "$TMP/err")"
  # Points 8 KiB and 512 KiB: the first fits every L1d made (>= 16 KiB), the
  # second no L1d (<= 64 KiB on x86 to date) but every L2 (>= 512 KiB, the
  # set is 1/2 of it).  A hit further from the core is slower.
  $PY - "$TMP/c.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["bytes"]: x["ns_per_load"] for x in d["points"]}
a, b = p[8192], p[524288]
if not (a["trusted"] and b["trusted"]):
    print("SKIP: the machine is too busy to trust the chase: " + (a.get("refused") or b.get("refused")))
    sys.exit(77)
assert a["value"] < b["value"], (a["value"], b["value"])
assert 0.1 < a["value"] < 10, a["value"]
print(f"PASS: L1d {a['value']} ns < {b['value']} ns at 512 KiB")
EOF
  ;;
calibrate_usage)
  cm=scripts/calibrate-machine
  $PY $cm --only bogus -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "only: expected parts among geometry,clock,chase,icache,linexfer,footprints,kcold,btb,atomics,wakeup,ctxswitch,skbwalk,slub,stall, found 'bogus'" "$TMP/err" ||
    fail "--only bogus: exit $st, $(cat "$TMP/err")"
  $PY $cm --cpus 0,0 --only geometry -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "cpus: expected two different CPUs" "$TMP/err" || fail "--cpus 0,0: exit $st, $(cat "$TMP/err")"
  $PY $cm --only geometry -o /nonexistent-dir/x.json 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "directory '/nonexistent-dir' does not exist" "$TMP/err" || fail "bad -o: exit $st"
  # --capture-traces: only with --calibration, not with --traces, into a folder that exists.
  $PY $cm --only geometry --capture-traces "$TMP" -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --traces and --capture-traces go with --calibration CAL.json" "$TMP/err" ||
    fail "--capture-traces without --calibration: exit $st, $(cat "$TMP/err")"
  $PY $cm --only geometry --calibration "$TMP/c.json" --traces a.trace --capture-traces "$TMP" -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: give --traces or --capture-traces, not both$" "$TMP/err" ||
    fail "--traces and --capture-traces: exit $st, $(cat "$TMP/err")"
  $PY $cm --only geometry --calibration "$TMP/c.json" --capture-traces /nonexistent-dir -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --capture-traces: directory '/nonexistent-dir' does not exist or is not writable$" "$TMP/err" ||
    fail "--capture-traces into a missing folder: exit $st, $(cat "$TMP/err")"
  $PY $cm --only geometry --accept-cache-misfit -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --accept-cache-misfit goes with --calibration CAL.json" "$TMP/err" ||
    fail "--accept-cache-misfit without --calibration: exit $st, $(cat "$TMP/err")"
  $PY $cm --only geometry --calibration "$TMP/c.json" -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --calibration: the cache model is fitted to the kernel's cold-path curves: expected kcold among --only's parts$" "$TMP/err" ||
    fail "--calibration without kcold: exit $st, $(cat "$TMP/err")"
  # What the fit at the end reads and writes, before any measurement (found
  # by tunsim calibrate after the measurements: --only kcold measures for
  # minutes; these exit at once).
  $PY $cm --only kcold --calibration "$TMP/c.json" --traces "$TMP/none.trace.gz" -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --traces: expected a readable trace file, found nothing readable at '$TMP/none.trace.gz'$" "$TMP/err" ||
    fail "--traces of no file: exit $st, $(cat "$TMP/err")"
  $PY $cm --only kcold --calibration "$TMP/c.json" --traces "$TMP" -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --traces: expected a readable trace file, found a folder at '$TMP'$" "$TMP/err" ||
    fail "--traces of a folder: exit $st, $(cat "$TMP/err")"
  $PY $cm --only kcold --calibration /nonexistent-dir/c.json -o "$TMP/x.json" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^calibrate-machine: --calibration: directory '/nonexistent-dir' does not exist$" "$TMP/err" ||
    fail "--calibration into a missing folder: exit $st, $(cat "$TMP/err")"
  [ -e "$TMP/x.json" ] && fail "a usage error wrote the output"
  # --only geometry: no measurement to refuse, so exit 0, and the file holds
  # what cachegeom reports, under the format's keys.
  $PY $cm --only geometry -o "$TMP/g.json" 2>"$TMP/err" || fail "--only geometry exited $?: $(cat "$TMP/err")"
  build cachegeom $M/cachegeom.c
  "$TMP/cachegeom" >"$TMP/cg.json"
  [ "$(json "$TMP/g.json" "d['format'], sorted(d), d['refused']")" = \
    "tunsim-machine/1 ['cache_geometry', 'finished', 'format', 'host', 'refused', 'started', 'summary', 'tool'] []" ] ||
    fail "top-level keys: $(json "$TMP/g.json" "sorted(d)")"
  [ "$(json "$TMP/g.json" "d['cache_geometry']['raw']")" = "$(json "$TMP/cg.json" "d")" ] ||
    fail "cache_geometry.raw is not cachegeom's output"
  [ "$(json "$TMP/g.json" "[d['summary']['cache'][k]['size_bytes'] == d['cache_geometry']['levels'][k]['size_bytes'] for k in d['cache_geometry']['levels']]")" = \
    "$(json "$TMP/g.json" "[True for k in d['cache_geometry']['levels']]")" ] || fail "summary.cache differs from cache_geometry.levels"
  # host.cpu_signature: /proc/cpuinfo's vendor, family and model, which are
  # cpuid's (cachegeom reads cpuid itself).
  [ "$(json "$TMP/g.json" "d['host']['cpu_signature']")" = "$(json "$TMP/cg.json" "'%s family %d model %d' % (d['vendor'], d['family'], d['model'])")" ] ||
    fail "host.cpu_signature $(json "$TMP/g.json" "d['host'].get('cpu_signature')") is not cpuid's"
  echo "PASS"
  ;;
trust_rules)
  # scripts/machine/trust.py on synthetic sidecars and scenarios.
  # A capture of 1 s with 10 ms preempted (1 %), a trusted line transfer,
  # writer CPUs 0 and 1 at speeds 1.0 and 0.95: passes (0.93 <= 0.95).
  cat >"$TMP/side.json" <<'EOF'
{"threads": [{"cpu": 0, "tid": 1}, {"cpu": 1, "tid": 2}], "elapsed_ns": 1000000000,
 "preempted_ns": {"0": 10000000, "1": 0}, "line_transfer_ns": 200.0, "lost_events": 0}
EOF
  echo '{"cpus": {"speed": [1.0, 0.95]}, "senders": [{"cpu": 0}, {"cpu": 1}]}' >"$TMP/ok.json"
  [ -z "$($PY $M/trust.py capture "$TMP/side.json" "$TMP/ok.json")" ] || fail "a trusted capture got reasons"
  # CPU 1 at 0.817 (napi-2w of 2026-12-04 15:19): refused by its speed.
  echo '{"cpus": {"speed": [1.008, 0.817]}, "senders": [{"cpu": 0}, {"cpu": 1}]}' >"$TMP/slow.json"
  [ "$($PY $M/trust.py capture "$TMP/side.json" "$TMP/slow.json")" = "writer CPU 1 ran at speed 0.817 (the fit saw 1)" ] ||
    fail "speed 0.817: $($PY $M/trust.py capture "$TMP/side.json" "$TMP/slow.json")"
  # 30 ms preempted of 1 s is 3 % > 2 %; two reasons, in the order of the checks.
  sed 's/"0": 10000000/"0": 30000000/; s/"lost_events": 0/"lost_events": 5/' "$TMP/side.json" >"$TMP/busy.json"
  [ "$($PY $M/trust.py capture "$TMP/busy.json")" = "5 trace events lost; CPU 0 preempted 3.0 % of the capture (at most 2 %)" ] ||
    fail "busy: $($PY $M/trust.py capture "$TMP/busy.json")"
  # Threaded NAPI with the kthread on CPU 1, no writer there, no wake-up measured.
  echo '{"threads": [{"cpu": 0, "tid": 1}], "threaded": true, "napi_thread": {"cpu": 1}, "elapsed_ns": 1,
 "preempted_ns": {}, "line_transfer_ns": 200.0, "wakeup_refused": "no second CPU to wake"}' >"$TMP/thr.json"
  [ "$($PY $M/trust.py capture "$TMP/thr.json")" = "wake-up of the other CPU not measured (no second CPU to wake)" ] ||
    fail "threaded: $($PY $M/trust.py capture "$TMP/thr.json")"
  # The CPU (trust.py cpu, and capture with a scenario naming its
  # calibration): a Zen 1 capture against a calibration of Zen 1 captures
  # whose cache model is the shipped Zen 5's (calibrate without --machine).
  sed 's/"lost_events": 0/"lost_events": 0, "cpu_signature": "AuthenticAMD family 23 model 1"/' "$TMP/side.json" >"$TMP/zen1.json"
  echo '{"provenance": {"cpu_signature": "AuthenticAMD family 23 model 1", "cache_model": {"machine": "M.json",
 "cpu_signature": "AuthenticAMD family 26 model 2"}}}' >"$TMP/cal-z.json"
  want="the capture ran on AuthenticAMD family 23 model 1, the calibration's cache model was measured on AuthenticAMD family 26 model 2 (M.json): measure this machine with scripts/calibrate-machine"
  [ "$($PY $M/trust.py cpu "$TMP/zen1.json" "$TMP/cal-z.json")" = "$want" ] || fail "cpu: $($PY $M/trust.py cpu "$TMP/zen1.json" "$TMP/cal-z.json")"
  echo "{\"cpus\": {\"speed\": [1.0, 0.95]}, \"senders\": [{\"cpu\": 0}, {\"cpu\": 1}], \"calibration\": \"$TMP/cal-z.json\"}" >"$TMP/okz.json"
  [ "$($PY $M/trust.py capture "$TMP/zen1.json" "$TMP/okz.json")" = "$want" ] || fail "capture, cpu: $($PY $M/trust.py capture "$TMP/zen1.json" "$TMP/okz.json")"
  # Without a calibration: the shipped defaults' machine file, a Zen 5 (its cpuid record).
  [ "$($PY $M/trust.py cpu "$TMP/zen1.json")" = "the capture ran on AuthenticAMD family 23 model 1, the calibration's cache model was measured on AuthenticAMD family 26 model 2 (results/reference/machine/epyc-2vcpu.json, the shipped defaults): measure this machine with scripts/calibrate-machine" ] ||
    fail "cpu, defaults: $($PY $M/trust.py cpu "$TMP/zen1.json")"
  # Captures of the calibration's CPU, and sidecars that do not say: no reason.
  sed 's/family 23 model 1/family 26 model 2/' "$TMP/zen1.json" >"$TMP/zen5.json"
  [ -z "$($PY $M/trust.py cpu "$TMP/zen5.json")" ] || fail "a Zen 5 capture got a CPU reason"
  [ -z "$($PY $M/trust.py cpu "$TMP/side.json" "$TMP/cal-z.json")" ] || fail "a sidecar without cpu_signature got a CPU reason"
  # A calibration whose cache fit was kept with --accept-cache-misfit
  # (tunsim calibrate): of the capture's own CPU, and still refused.
  echo '{"provenance": {"cpu_signature": "AuthenticAMD family 26 model 2", "cache_model": {"machine": "M.json",
 "cpu_signature": "AuthenticAMD family 26 model 2", "misfit": {"missed": 3, "fitted": 16, "first": "code 98304 bytes"}}}}' >"$TMP/cal-m.json"
  want="the calibration's cache model misses the kernel cold-path curves of M.json (code 98304 bytes; kept with --accept-cache-misfit): it describes no CPU"
  [ "$($PY $M/trust.py cpu "$TMP/zen5.json" "$TMP/cal-m.json")" = "$want" ] || fail "cpu, misfit: $($PY $M/trust.py cpu "$TMP/zen5.json" "$TMP/cal-m.json")"
  # Spread: 16 quantiles, 14 at 1.0 and 2 at 1.2: mean 1.025 > 1.02.
  echo '{"parameters": {"costs.spread.process": {"value": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1.2,1.2]}}}' >"$TMP/cal.json"
  [ "$($PY $M/trust.py spread "$TMP/cal.json")" = "the single-writer writes spread to a mean of 1.025 x their median (at most 1.02; 2 of 16 quantiles above 1.05): the host ran the writer at two speeds" ] ||
    fail "spread: $($PY $M/trust.py spread "$TMP/cal.json")"
  # A fast mode: 13 at 1.0 and 3 at 0.55 (the CI capture of 2026-12-06 had
  # 0.548 0.558 0.569): mean 0.916 < 0.98.
  echo '{"parameters": {"costs.spread.process": {"value": [0.55,0.55,0.55,1,1,1,1,1,1,1,1,1,1,1,1,1]}}}' >"$TMP/cal.json"
  [ "$($PY $M/trust.py spread "$TMP/cal.json")" = "the single-writer writes spread to a mean of 0.916 x their median (at least 0.98; 3 of 16 quantiles below 0.95): the host ran the writer at two speeds" ] ||
    fail "spread, fast mode: $($PY $M/trust.py spread "$TMP/cal.json")"
  # Within both bounds (a quiet capture of this host, 2026-12-06 19:13 UTC): nothing.
  echo '{"parameters": {"costs.spread.process": {"value": [0.971,0.980,0.980,0.990,0.990,0.991,1.000,1.000,1.000,1.009,1.010,1.011,1.020,1.020,1.030,1.138]}}}' >"$TMP/cal.json"
  [ -z "$($PY $M/trust.py spread "$TMP/cal.json")" ] || fail "spread, quiet: $($PY $M/trust.py spread "$TMP/cal.json")"
  # Bad input: one line naming the file, exit 2.
  echo '{"threads": [{"tid": 1}]}' >"$TMP/bad.json"
  $PY $M/trust.py capture "$TMP/bad.json" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^trust.py: $TMP/bad.json: expected a capture-trace sidecar" "$TMP/err" ||
    fail "bad sidecar: status $st, $(cat "$TMP/err")"
  # lost_events of another type: "%d" of a string named neither the key nor the value.
  for v in '"x"' -5 '{}' true; do
    sed "s/\"lost_events\": 0/\"lost_events\": $v/" "$TMP/side.json" >"$TMP/lost.json"
    $PY $M/trust.py capture "$TMP/lost.json" >/dev/null 2>"$TMP/err"; st=$?
    [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
      grep -qF "trust.py: $TMP/lost.json: lost_events: expected a count of trace events >= 0, found $v" "$TMP/err" ||
      fail "lost_events $v: status $st, $(cat "$TMP/err")"
  done
  # A sidecar that is no JSON object: cpu read it with side.get, an
  # AttributeError traceback (exit 1); capture named it already.
  echo '[1, 2]' >"$TMP/list.json"
  for mode in cpu capture; do
    $PY $M/trust.py $mode "$TMP/list.json" >/dev/null 2>"$TMP/err"; st=$?
    [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^trust.py: $TMP/list.json: expected a capture-trace sidecar" "$TMP/err" ||
      fail "$mode, a sidecar that is a list: status $st, $(cat "$TMP/err")"
  done
  $PY $M/trust.py spread "$TMP/none.json" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^trust.py: $TMP/none.json: " "$TMP/err" || fail "missing calibration: status $st, $(cat "$TMP/err")"
  echo "PASS"
  ;;
own_events_rules)
  # scripts/machine/own_events.py on a synthetic trace-cmd text: the
  # capture's tap tstap1, its writer pid 100 on CPU 0; another tap tsfg9,
  # whose events the instance's name filters let through here too.  Each
  # line says whether it is kept (K) or dropped (D), and why.
  $PY - "$TMP" <<'EOF' || fail "own_events.py on the synthetic trace"
import json, subprocess, sys
t = sys.argv[1]
ev = [
    ("K", 100, 0, "kmem_cache_alloc: call_site=__alloc_skb+0x179 ptr=0xa0 name=skbuff_head_cache bytes_req=224"),
    # An interrupt nested in __alloc_skb allocates another sk_buff and its head.
    ("D", 100, 0, "kmem_cache_alloc: call_site=__alloc_skb+0x179 ptr=0xb0 name=skbuff_head_cache bytes_req=224"),
    ("D", 100, 0, "kmem_cache_alloc: call_site=kmalloc_reserve+0x9e ptr=0xbb name=skbuff_small_head bytes_req=576"),
    # The head of 0xa0: the sk_buff last allocated on CPU 0 still awaiting one.
    ("K", 100, 0, "kmem_cache_alloc: call_site=kmalloc_reserve+0x9e ptr=0xaa name=skbuff_small_head bytes_req=576"),
    ("K", 100, 0, "softirq_raise: vec=3 [action=NET_RX]"),
    ("K", 100, 0, "napi_gro_receive_entry: dev=tstap1 napi_id=0 queue_mapping=1 skbaddr=0xa0 protocol=0x88b5 len=46"),
    ("K", 100, 0, "napi_gro_receive_exit: ret=3"),
    # The other tap's GRO exit (its entry filtered by name): no entry of tstap1 open.
    ("D", 100, 0, "napi_gro_receive_exit: ret=3"),
    ("D", 100, 0, "napi_gro_receive_entry: dev=tsfg9 napi_id=0 queue_mapping=1 skbaddr=0xb0 protocol=0x88b5 len=46"),
    ("D", 100, 0, "napi_gro_receive_exit: ret=3"),
    ("K", 100, 0, "netif_receive_skb: dev=tstap1 skbaddr=0xa0 len=46"),
    ("D", 100, 0, "netif_receive_skb: dev=tsfg9 skbaddr=0xb0 len=46"),
    ("K", 100, 0, "kfree_skb: skbaddr=0xa0 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core+0x388 reason: UNHANDLED_PROTO"),
    ("K", 100, 0, "kmem_cache_free: call_site=__netif_receive_skb_core+0x388 ptr=0xa0 name=skbuff_head_cache"),
    ("K", 100, 0, "napi_poll: napi poll on napi struct 0xffff1 for device tstap1 work 1 budget 64"),
    ("D", 100, 0, "napi_poll: napi poll on napi struct 0xffff2 for device tsfg9 work 1 budget 64"),
    ("K", 100, 0, "softirq_exit: vec=3 [action=NET_RX]"),
    # The other skb freed on CPU 1 by whatever runs there.
    ("D", 0, 1, "kfree_skb: skbaddr=0xb0 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core+0x388 reason: UNHANDLED_PROTO"),
    ("D", 0, 1, "kmem_cache_free: call_site=__netif_receive_skb_core+0x388 ptr=0xb0 name=skbuff_head_cache"),
    # 0xa0 again, now another device's frame: its life has no event of tstap1.
    ("D", 0, 1, "kfree_skb: skbaddr=0xa0 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core+0x388 reason: UNHANDLED_PROTO"),
    # RPS's backlog full: the writer's own frame dropped in its write(),
    # before any receive; the same drop in another task is not the capture's.
    ("K", 100, 0, "kfree_skb: skbaddr=0xc0 rx_sk=(nil) protocol=34997 location=enqueue_to_backlog+0x1c2 reason: CPU_BACKLOG"),
    ("D", 555, 0, "kfree_skb: skbaddr=0xd0 rx_sk=(nil) protocol=34997 location=enqueue_to_backlog+0x1c2 reason: CPU_BACKLOG"),
    # TCP's sk_buffs are never a capture's frame.
    ("D", 555, 0, "kmem_cache_alloc: call_site=__alloc_skb+0x179 ptr=0xe0 name=skbuff_fclone_cache bytes_req=480"),
    # Receives of the capture's tap name the skb: a kfree_skb after one is its.
    ("K", 0, 1, "netif_receive_skb: dev=tstap1 skbaddr=0xf0 len=46"),
    ("K", 0, 1, "kfree_skb: skbaddr=0xf0 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core+0x388 reason: UNHANDLED_PROTO"),
    ("K", 100, 0, "sys_exit: NR 1 = 60"),
]
with open(t + "/in.trace", "w") as f:
    f.write("cpus=2\n")
    for n, (_, pid, cpu, text) in enumerate(ev):
        f.write("tunsim-1:   %s-%d [%03d] 100.%09d: %s\n" % ("tapwriter" if pid == 100 else "other", pid, cpu, 1000 * n, text))
r = subprocess.run(["/usr/bin/python3", "scripts/machine/own_events.py", "--dev", "tstap1", "--writers", "100,101",
                    t + "/in.trace", t + "/out.trace"], capture_output=True, text=True)
assert r.returncode == 0, r.stderr
kept = open(t + "/out.trace").read().splitlines()
want = ["cpus=2"] + [l for l, e in zip(open(t + "/in.trace").read().splitlines()[1:], ev) if e[0] == "K"]
assert kept == want, "\n".join("%s %s" % ("+" if l in kept else "-", l) for l in want + [k for k in kept if k not in want])
drops = {}
for k, _, _, text in ev:
    if k == "D":
        drops[text.split(":")[0]] = drops.get(text.split(":")[0], 0) + 1
assert json.loads(r.stdout) == drops, (r.stdout, drops)
# The same trace as perf script prints it (system:event, "comm PID").
with open(t + "/perf.trace", "w") as f:
    sysof = {"kmem_cache_alloc": "kmem", "kmem_cache_free": "kmem", "kfree_skb": "skb", "napi_poll": "napi",
             "softirq_raise": "irq", "softirq_exit": "irq", "sys_exit": "raw_syscalls"}
    for n, (_, pid, cpu, text) in enumerate(ev):
        name = text.split(":")[0]
        f.write("  task %d [%03d] 100.%09d: %s:%s\n" % (pid, cpu, 1000 * n, sysof.get(name, "net"), text))
r = subprocess.run(["/usr/bin/python3", "scripts/machine/own_events.py", "--dev", "tstap1", "--writers", "100",
                    t + "/perf.trace", t + "/perf.out"], capture_output=True, text=True)
assert r.returncode == 0 and json.loads(r.stdout) == drops, (r.stdout, r.stderr)
assert len(open(t + "/perf.out").read().splitlines()) == len(want) - 1
EOF
  # Bad input: one line, exit 2.
  $PY $M/own_events.py "$TMP/in.trace" "$TMP/o" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && [ "$(cat "$TMP/err")" = "own_events.py: --dev: expected the capture's tap, found none" ] ||
    fail "no --dev: status $st, $(cat "$TMP/err")"
  $PY $M/own_events.py --dev t "$TMP/none.trace" "$TMP/o" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^own_events.py: $TMP/none.trace: No such file" "$TMP/err" ||
    fail "missing trace: status $st, $(cat "$TMP/err")"
  $PY $M/own_events.py --dev t --writers 1,x "$TMP/in.trace" "$TMP/o" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^own_events.py: --writers: expected a comma separated list of tids, found '1,x'" "$TMP/err" ||
    fail "bad --writers: status $st, $(cat "$TMP/err")"
  echo "PASS"
  ;;
outfile_rule)
  # scripts/machine/outfile.py (the scripts' outputs) and capture-trace's -o.
  $PY - "$TMP" <<'EOF' || fail "outfile.py"
import os, stat, sys
sys.path.insert(0, "scripts/machine")
from outfile import write_output
t = sys.argv[1]
# A regular file is replaced: a new inode with the new content.
p = os.path.join(t, "reg.json")
open(p, "w").write("old")
ino = os.stat(p).st_ino
write_output(p, "new\n")
assert open(p).read() == "new\n" and os.stat(p).st_ino != ino, "regular file not replaced"
# A link stays a link; its regular target is rewritten in place (same inode).
target = os.path.join(t, "target.json")
open(target, "w").write("old old old")
ino = os.stat(target).st_ino
os.symlink(target, os.path.join(t, "link.json"))
write_output(os.path.join(t, "link.json"), b"new")
assert os.path.islink(os.path.join(t, "link.json")), "the link was renamed over"
assert open(target).read() == "new" and os.stat(target).st_ino == ino, "the link's target was not written in place"
# A device is written, never renamed over.
write_output("/dev/null", "x")
assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is no longer a device"
# A directory is refused, and nothing is left beside it.
os.mkdir(os.path.join(t, "dir"))
try:
    write_output(os.path.join(t, "dir"), "x")
    raise SystemExit("a directory was written")
except IsADirectoryError:
    pass
assert sorted(os.listdir(t)) == ["dir", "link.json", "reg.json", "target.json"], os.listdir(t)
# A name of 255 bytes (NAME_MAX), ASCII and UTF-8: the temporary beside it
# had 14 bytes more and was refused as too long.
for long in ("x" * 250 + ".json", "\u00e9" * 125 + ".json"):
    p = os.path.join(t, long)
    write_output(p, "long\n")
    assert open(p).read() == "long\n", "the long name was not written"
    os.unlink(p)
EOF
  # capture-trace writes PREFIX.trace and PREFIX.json beside their names and
  # renames them over: a link there is refused before anything runs (exit 2,
  # one line), whoever runs it.
  ln -s "$TMP/elsewhere" "$TMP/c.json"
  scripts/capture-trace -o "$TMP/c" >/dev/null 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "^capture-trace: -o: $TMP/c.json exists and is not a regular file" "$TMP/err" ||
    fail "capture-trace -o over a link: status $st, $(cat "$TMP/err")"
  [ -L "$TMP/c.json" ] || fail "capture-trace replaced the link"
  echo "PASS"
  ;;
capture_perf_paths)
  # capture-trace --perf-paths on a single IFF_NAPI writer: the sidecar
  # records scripts/perf-paths' split of the writer's samples.  Every write
  # runs a NET_RX softirq with one poll and one GRO receive on the writer's
  # CPU (6.18 tun_get_user -> local_bh_enable), so those three paths must
  # have samples, and the paths plus the unmodelled rest add up to all of it.
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  command -v perf >/dev/null || skip "no perf"
  TUNSIM_LINEXFER_ARGS="--samples 50" TUNSIM_REMOTERMW_ARGS="--samples 50" \
    scripts/capture-trace --mode napi --count 20000 --perf-paths -o "$TMP/p" >"$TMP/log" 2>&1
  st=$?
  case $st in 0) ;; 3|4|5|6|7|8|9|10) skip "capture-trace --perf-paths cannot run here ($st): $(tail -n1 "$TMP/log")" ;;
    *) fail "capture-trace --perf-paths exited $st: $(tail -n3 "$TMP/log")" ;; esac
  $PY - "$TMP/p.json" <<'EOF' || fail "the sidecar's perf_paths: $(grep -c . "$TMP/p.json") lines"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["perf_paths"]
assert p["format"] == "tunsim-perf-paths/1", p["format"]
assert p["tids"] == [d["threads"][0]["tid"]] and p["frames"] == d["frames_written"] == 20000, (p["tids"], p["frames"])
assert p["samples"] >= 100, "only %d samples" % p["samples"]
for k in ("costs.softirq_ns", "costs.napi_poll_ns", "costs.gro_ns", "costs.tun_get_user_ns"):
    assert p["paths"][k]["samples"] > 0, k
    assert 0 <= p["paths"][k]["events_ns_per_frame"] <= p["paths"][k]["ns_per_frame"], k
total = sum(v["ns_per_frame"] for v in p["paths"].values()) + sum(v["ns_per_frame"] for v in p["unmodelled"].values())
assert abs(total - p["sampled_ns_per_frame"]) <= 0.01 * len(p["paths"]) + 0.1, (total, p["sampled_ns_per_frame"])
# The samples come from a second round of the same writes (capture-trace:
# samples cost this machine 16-28 us each, so the traced round has none):
# one sample every 100 us of the writer's time, so its sampled time is at
# most that round's elapsed time (plus one period).
r = p["round"]
assert r["frames_written"] == p["frames"], (r, p["frames"])
assert p["sampled_ns_per_frame"] * p["frames"] <= r["elapsed_ns"] + 100000, (p["sampled_ns_per_frame"], r)
# That round runs with the traced round's tracepoints on (their cost is part
# of the paths sampled): each write() has at least its sys_enter and sys_exit
# (trace-cmd extract removes the instance; capture-trace makes it again).
assert r["trace_events"] >= 2 * p["frames"], r
EOF
  ! grep -q "No such file" "$TMP/log" || fail "capture-trace wrote to a missing file: $(grep -m1 "No such file" "$TMP/log")"
  # The trace holds the traced round only: one 60-byte write()'s exit per
  # frame written there, not the sampled round's 20000 more (capture-trace
  # empties the buffer after that round).
  n=$(grep -c 'sys_exit: *NR 1 = 60$' "$TMP/p.trace")
  [ "$n" -eq 20000 ] || fail "the trace has $n exits of 60-byte write()s, expected the traced round's 20000"
  echo "PASS"
  ;;
capture_sidecar)
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no line transfer"
  # Forced refusal (50 samples < 200; skbwalk's rule needs 100): no
  # line_transfer_ns, the reason instead.
  TUNSIM_LINEXFER_ARGS="--samples 50" TUNSIM_REMOTERMW_ARGS="--samples 50" TUNSIM_SKBWALK_ARGS="--samples 50" \
    capture --count 50 -o "$TMP/r"
  grep -q "warning: the sidecar gets no line_transfer_ns: scripts/linexfer.c refused: only 50 samples" "$TMP/log" ||
    fail "no warning naming the refusal: $(cat "$TMP/log")"
  [ "$(json "$TMP/r.json" "'line_transfer_ns' in d, d['line_transfer_refused'], d['line_transfer']['trusted']")" = \
    "False scripts/linexfer.c refused: only 50 samples, rule linexfer needs at least 200 False" ] ||
    fail "refused sidecar: $(grep line_transfer "$TMP/r.json")"
  [ "$(json "$TMP/r.json" "'line_move_ns' in d, d['line_move_refused'], d['line_move']['trusted']")" = \
    "False scripts/machine/remotermw.c refused: only 50 samples, rule remotermw needs at least 200 False" ] ||
    fail "refused move: $(grep line_move "$TMP/r.json")"
  [ "$(json "$TMP/r.json" "'skb_remote_walk_ns' in d, d['skb_remote_walk_refused'], d['skb_remote_walk']['writer_cpu'] == 0 and d['skb_remote_walk']['cpu'] == 1")" = \
    "False scripts/machine/skbwalk.c --writer-cpu refused: hot: attempt 1 of 3 refused: only 50 samples, rule skbwalk needs at least 100 True" ] ||
    fail "refused walk: $(grep skb_remote_walk "$TMP/r.json" | cut -c1-300)"
  # The burst needs the bare transfer it is measured against.
  [ "$(json "$TMP/r.json" "'line_burst_ns' in d, d['line_burst_refused'].startswith('no trusted line transfer to subtract')")" = \
    "False True" ] || fail "burst without a transfer: $(grep line_burst "$TMP/r.json")"
  # Normal run: line_transfer_ns present exactly when linexfer trusted it.
  scripts/capture-trace --count 50 -o "$TMP/t" >"$TMP/log" 2>&1 || fail "capture-trace exited $?: $(tail -n3 "$TMP/log")"
  # cpu_signature: vendor, family and model as cpuid gives them (cachegeom).
  build cachegeom $M/cachegeom.c
  [ "$(json "$TMP/t.json" "d['cpu_signature']")" = "$("$TMP/cachegeom" | $PY -c "import json, sys; d = json.load(sys.stdin); print('%s family %d model %d' % (d['vendor'], d['family'], d['model']))")" ] ||
    fail "cpu_signature $(grep cpu_signature "$TMP/t.json") is not cpuid's"
  # One writer, nothing woken on another CPU: no wake-up measured.
  [ "$(json "$TMP/t.json" "[k for k in d if k.startswith('wakeup')]")" = "[]" ] ||
    fail "a wake-up measured for a single writer: $(grep wakeup "$TMP/t.json" | cut -c1-200)"
  # skb_remote_walk_ns: skbwalk --writer-cpu's random order over hot a line
  # (walked on CPU 1, written on CPU 0), present exactly when every order
  # was trusted.
  [ "$(json "$TMP/t.json" "(lambda w, ok: (w['cpu'], w['writer_cpu']) == (1, 0) and ('skb_remote_walk_ns' in d) == ok != ('skb_remote_walk_refused' in d) and (not ok or d['skb_remote_walk_ns'] == w['over_hot_ns_per_line']['random']))(d['skb_remote_walk'], all(o['trusted'] for o in d['skb_remote_walk']['orders'].values()))")" = True ] ||
    fail "skb_remote_walk_ns is not skbwalk's trusted value: $(grep skb_remote_walk "$TMP/t.json" | cut -c1-300)"
  # line_move_ns: remotermw's value, present exactly when it trusted it.
  [ "$(json "$TMP/t.json" "('line_move_ns' in d) == d['line_move']['trusted'] and d.get('line_move_ns', d['line_move']['value']) == d['line_move']['value'] and ('line_move_ns' in d) != ('line_move_refused' in d)")" = True ] ||
    fail "line_move_ns is not remotermw's trusted value: $(grep line_move "$TMP/t.json")"
  if [ "$(json "$TMP/t.json" "d['line_transfer']['trusted']")" = True ]; then
    [ "$(json "$TMP/t.json" "d['line_transfer_ns'] == d['line_transfer']['value'] == d['line_transfer']['p10']")" = True ] ||
      fail "trusted sidecar: line_transfer_ns is not linexfer's p10: $(grep line_transfer "$TMP/t.json")"
    # line_burst_ns: (linexfer --lines 6's value - the bare one) / 6, present
    # exactly when that run was trusted and above the bare handoff.
    if [ "$(json "$TMP/t.json" "d.get('line_burst', {}).get('trusted') == True and d['line_burst']['value'] > d['line_transfer_ns']")" = True ]; then
      [ "$(json "$TMP/t.json" "d['line_burst']['lines'] == 6 and abs(d['line_burst_ns'] - (d['line_burst']['value'] - d['line_transfer_ns']) / 6) < 0.001")" = True ] ||
        fail "line_burst_ns is not (value(6) - value(0)) / 6: $(grep line_ "$TMP/t.json")"
    else
      [ "$(json "$TMP/t.json" "'line_burst_ns' not in d and 'line_burst_refused' in d")" = True ] ||
        fail "an untrusted burst was recorded: $(grep line_burst "$TMP/t.json")"
    fi
    echo "PASS"
  else
    [ "$(json "$TMP/t.json" "'line_transfer_ns' in d")" = False ] || fail "an untrusted transfer was recorded"
    skip "the machine was too busy for a trusted line transfer: $(json "$TMP/t.json" "d['line_transfer_refused']")"
  fi
  ;;
capture_rps)
  # capture-trace --rps-cpus 1: the sidecar says rps_cpus [1], and every
  # frame the writer on CPU 0 writes is received (netif_receive_skb) and
  # freed (kfree_skb) on CPU 1.
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: nothing to steer to"
  capture_rps_200
  [ "$(json "$TMP/rps.json" "d['rps_cpus'], [t['cpu'] for t in d['threads']]")" = "[1] [0]" ] ||
    fail "sidecar: $(grep -E 'rps_cpus|threads' "$TMP/rps.json")"
  # The IPI to CPU 1 is a wake-up of the other CPU: wakeup.c ran, and its
  # three values are recorded exactly when it trusted them (else the reason).
  [ "$(json "$TMP/rps.json" "('wakeup_waker_ns' in d) != ('wakeup_refused' in d) and ('wakeup_waker_ns' not in d or (d['wakeup_waker_ns'] == d['wakeup']['waker_ns']['value'] and d['wakeup_latency_ns'] == d['wakeup']['latency_ns']['value'] and d['wakeup_no_waiter_ns'] == d['wakeup']['no_waiter_ns']['value'] and d['wakeup']['latency_ns']['trusted']))")" = True ] ||
    fail "wake-up in the sidecar: $(grep -E 'wakeup' "$TMP/rps.json" | cut -c1-300)"
  f="$TMP/rps.trace"
  on=$(grep -E " netif_receive_skb:| kfree_skb:" "$f" | sed -n 's/.*\[\(00[0-9]\)\].*/\1/p' | sort | uniq -c | tr -s ' ')
  [ "$on" = " 400 001" ] || fail "netif_receive_skb and kfree_skb per CPU: '$on' (expected 400 on CPU 1)"
  # Sidecars without RPS say so.
  scripts/capture-trace --mode plain --count 20 -o "$TMP/norps" >"$TMP/log" 2>&1 || fail "capture-trace exited $?"
  [ "$(json "$TMP/norps.json" "d['rps_cpus']")" = "[]" ] || fail "no --rps-cpus: $(grep rps_cpus "$TMP/norps.json")"
  echo "PASS"
  ;;
capture_slab_events)
  # capture-trace --slab-events on two IFF_NAPI writers: the sidecar says so,
  # every frame's sk_buff is allocated (kmem_cache_alloc, skbuff_head_cache)
  # in its writer's write() and freed (kmem_cache_free) once, and
  # trace-segments --writers splits the frees by builder: own plus the
  # other's add up to every frame freed.  tunsim calibrate refuses it.
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: two writers need two"
  capture --mode napi --threads 2 --cpus 0,1 --count 300 --slab-events -o "$TMP/s"
  [ "$(json "$TMP/s.json" "d['slab_events'], d['frames_written']")" = "True 600" ] ||
    fail "sidecar: $(grep -E 'slab_events|frames_written' "$TMP/s.json")"
  a=$(grep -c "kmem_cache_alloc:.*name=skbuff_head_cache" "$TMP/s.trace")
  f=$(grep -c "kmem_cache_free:.*name=skbuff_head_cache" "$TMP/s.trace")
  [ "$a" -eq 600 ] && [ "$f" -eq 600 ] || fail "sk_buff allocations $a and frees $f, expected 600 each"
  $PY scripts/trace-segments "$TMP/s.trace" --writers 0,1 >"$TMP/w.txt" 2>"$TMP/w.err" ||
    fail "trace-segments --writers: $(cat "$TMP/w.err")"
  n=$(grep "^free of an " "$TMP/w.txt" | sed 's/.*| n *\([0-9]*\).*/\1/' | awk '{s += $1} END {print s + 0}')
  [ "$n" -eq 600 ] || fail "trace-segments' frees by builder add up to $n, expected 600: $(grep '^free' "$TMP/w.txt")"
  [ -x build/tunsim ] || skip "build/tunsim is not built (the rest passed)"
  build/tunsim calibrate "$TMP/s.trace" -o "$TMP/cal.json" >/dev/null 2>"$TMP/cal.err"
  [ $? -eq 2 ] && grep -q "captured with --slab-events" "$TMP/cal.err" ||
    fail "calibrate on a --slab-events capture: $(cat "$TMP/cal.err")"
  echo "PASS"
  ;;
capture_drain)
  # capture-trace --bridge --drain-every B: the one writer reads back, after
  # every B writes, the B frames the bridge queued on the second tap (a
  # frame read is a read() returning the frame's 60 bytes, then one EAGAIN),
  # the sidecar says so, and trace-segments --bursts pools 4 bursts of B
  # write()s and of B read()s.  Usage errors first (no root needed).
  scripts/capture-trace --drain-every 16 -o "$TMP/x" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^capture-trace: --drain-every: only with --bridge" "$TMP/err" ||
    fail "--drain-every without --bridge: exit $st, $(cat "$TMP/err")"
  scripts/capture-trace --bridge --threads 2 --drain-every 16 -o "$TMP/x" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^capture-trace: --drain-every: only with one writer thread" "$TMP/err" ||
    fail "--drain-every with two writers: exit $st, $(cat "$TMP/err")"
  scripts/capture-trace --bridge --drain-every 0 -o "$TMP/x" 2>"$TMP/err"; st=$?
  [ $st -eq 2 ] && grep -q "^capture-trace: --drain-every: expected a positive integer, found '0'" "$TMP/err" ||
    fail "--drain-every 0: exit $st, $(cat "$TMP/err")"
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  capture --mode plain --bridge --drain-every 112 --count 448 -o "$TMP/d"
  [ "$(json "$TMP/d.json" "d['drain_every'], d['frames_written']")" = "112 448" ] ||
    fail "sidecar: $(grep -E 'drain_every|frames_written' "$TMP/d.json")"
  r=$(grep -c "sys_exit: *NR 0 = 60$" "$TMP/d.trace")
  e=$(grep -c "sys_exit: *NR 0 = -11$" "$TMP/d.trace")
  [ "$r" -eq 448 ] && [ "$e" -eq 4 ] || fail "frames read back $r (expected 448), EAGAINs $e (expected 4)"
  $PY scripts/trace-segments "$TMP/d.trace" --cpu 0 --bursts 16 >"$TMP/b.txt" 2>"$TMP/b.err" ||
    fail "trace-segments --bursts: $(cat "$TMP/b.err")"
  # (A call the scheduler switched out in its middle is not counted: its
  # burst is shorter and left out, so 3 or 4 bursts.)
  [ "$(grep -cE '; [34], 112$' "$TMP/b.txt")" -eq 2 ] || fail "trace-segments --bursts: $(cat "$TMP/b.txt")"
  echo "PASS"
  ;;
capture_foreign)
  # Another process writes 0x88B5 frames to a tap of its own, in a namespace
  # of its own, all through two captures (2026-12-07: capture_rps counted
  # 15885 netif_receive_skb and kfree_skb events on CPU 1 instead of its
  # 400, another tap's frames freed on that CPU).  The tracepoints fire for
  # every packet of the machine; each capture's trace must still hold
  # exactly its own frames' events, and the readers must take it.
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  [ "$(nproc)" -ge 2 ] || skip "one CPU: no RPS target"
  command -v ip >/dev/null || skip "no ip (iproute2)"
  fns="tunsim-fg-$$" fdev="tsfg$$" fpid=""
  cleanup_foreign() {
    if [ -n "$fpid" ]; then kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; fi
    ip netns del "$fns" 2>/dev/null
    rm -rf "$TMP"
  }
  trap cleanup_foreign EXIT
  ip netns add "$fns" || skip "cannot create a network namespace"
  ip netns exec "$fns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  # The other writer: a tap (IFF_NAPI with "napi") on CPU C, 8 frames of
  # 60 bytes, EtherType 0x88B5, every 0.2 ms (about 30 000 a second, 10-20%
  # of a CPU), for at most 100 s; write() errors (the tap not up yet) retried.
  cat >"$TMP/foreign.py" <<'EOF'
import fcntl, os, struct, sys, time
name, cpu, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.sched_setaffinity(0, {cpu})
fd = os.open("/dev/net/tun", os.O_RDWR)
# TUNSETIFF; IFF_TAP | IFF_NO_PI, | IFF_NAPI
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x1002 | (0x10 if mode == "napi" else 0)))
frame = bytes.fromhex("020000000040" "020000000041" "88b5") + bytes(46)
end = time.monotonic() + 100
while time.monotonic() < end:
    for _ in range(8):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    time.sleep(0.0002)
EOF
  # foreign CPU MODE: (re)starts the other writer on CPU in MODE.
  foreign() {
    if [ -n "$fpid" ]; then kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; fpid=""; fi
    ip netns exec "$fns" $PY "$TMP/foreign.py" "$fdev" "$1" "$2" 2>"$TMP/foreign.err" &
    fpid=$!
    for _ in $(seq 100); do ip -n "$fns" link show "$fdev" >/dev/null 2>&1 && break; sleep 0.05; done
    ip -n "$fns" link set dev "$fdev" address 02:00:00:00:00:40 up 2>"$TMP/ip.err" ||
      fail "the other writer's tap: $(cat "$TMP/foreign.err" "$TMP/ip.err" | head -n1)"
    sleep 0.2
    kill -0 "$fpid" 2>/dev/null || fail "the other writer died: $(head -n1 "$TMP/foreign.err")"
  }
  # count FILE EXPR: lines of the trace matching the extended regex EXPR.
  count() { grep -cE "$2" "$1"; }
  # dropped FILE EVENT: how many EVENTs of other traffic the capture dropped.
  dropped() { json "$1" "d['foreign_events_dropped'].get('$2', 0)"; }
  # 1. RPS, as on 2026-12-07: the writer on CPU 0 steers its 200 frames to
  # CPU 1, where the other tap's plain writer runs.  CPU 1 receives and
  # frees the capture's 200 frames, no other: 400 netif_receive_skb and
  # kfree_skb events there, every netif_receive_skb of the capture's tap.
  foreign 1 plain
  capture_rps_200
  dev=$(json "$TMP/rps.json" "d['dev']")
  on=$(grep -E " netif_receive_skb:| kfree_skb:" "$TMP/rps.trace" | sed -n 's/.*\[\(00[0-9]\)\].*/\1/p' | sort | uniq -c | tr -s ' ')
  [ "$on" = " 400 001" ] || fail "RPS: netif_receive_skb and kfree_skb per CPU: '$on' (expected 400 on CPU 1)"
  n=$(count "$TMP/rps.trace" " netif_receive_skb: +dev=$dev ")
  [ "$n" -eq 200 ] || fail "RPS: $n netif_receive_skb of $dev, expected 200"
  # The other writer's frames were freed on CPU 1 while the capture traced
  # (else this proved nothing), their receives counted in the sidecar.
  [ "$(dropped "$TMP/rps.json" kfree_skb)" -gt 0 ] ||
    skip "RPS: no frame of the other writer fell in the capture (its writer: $(head -n1 "$TMP/foreign.err"))"
  [ "$(json "$TMP/rps.json" "d['foreign_rx_packets']")" -gt 0 ] ||
    fail "RPS: no foreign_rx_packets in the sidecar: $(grep foreign "$TMP/rps.json")"
  grep -q "warning: CPUs 0,1 received [0-9]* packets of other devices while tracing" "$TMP/log" ||
    fail "RPS: no warning of the other devices' packets: $(cat "$TMP/log")"
  # 2. IFF_NAPI with --slab-events, the other tap IFF_NAPI too and on the
  # capture's CPU 0: every one of the 300 frames has one GRO entry and exit,
  # one receive, one kfree_skb, one allocation of its sk_buff and of its
  # head and one free of its sk_buff (the head's free is no
  # kmem_cache_free on 6.18), and nothing else has.
  foreign 0 napi
  TUNSIM_LINEXFER_ARGS="--samples 50" TUNSIM_REMOTERMW_ARGS="--samples 50" TUNSIM_SKBWALK_ARGS="--samples 50" \
    capture --mode napi --count 300 --slab-events -o "$TMP/n"
  dev=$(json "$TMP/n.json" "d['dev']")
  for e in "napi_gro_receive_entry: +dev=$dev " "napi_gro_receive_exit:" "netif_receive_skb: +dev=$dev " " kfree_skb:" \
           "kmem_cache_alloc:.* name=skbuff_head_cache " "kmem_cache_alloc:.* name=skbuff_small_head " \
           "kmem_cache_free:.* name=skbuff_head_cache"; do
    n=$(count "$TMP/n.trace" "$e")
    [ "$n" -eq 300 ] || fail "napi: $n events matching '$e', expected 300"
  done
  n=$(count "$TMP/n.trace" "kmem_cache_|kfree_skb:|napi_gro_receive_|netif_receive_skb:")
  [ "$n" -eq $((7 * 300)) ] || fail "napi: $n skb events, expected 7 x 300"
  n=$(count "$TMP/n.trace" "napi_poll:")
  [ "$(count "$TMP/n.trace" "napi_poll: .* for device $dev work")" -eq "$n" ] && [ "$n" -gt 0 ] ||
    fail "napi: napi_poll events of other devices: $(grep napi_poll: "$TMP/n.trace" | grep -v "device $dev " | head -n1)"
  for e in napi_gro_receive_exit kfree_skb kmem_cache_alloc; do
    [ "$(dropped "$TMP/n.json" $e)" -gt 0 ] ||
      skip "napi: no $e of the other writer fell in the capture: $(grep foreign_events "$TMP/n.json")"
  done
  # The readers take the trace: tunsim's parser (trace stats) and trace-segments.
  $PY scripts/trace-segments "$TMP/n.trace" --cpu 0 >"$TMP/seg.txt" 2>"$TMP/seg.err" ||
    fail "trace-segments: $(cat "$TMP/seg.err")"
  grep -q "napi_gro_receive_exit -> netif_receive_skb" "$TMP/seg.txt" || fail "trace-segments: $(head -n5 "$TMP/seg.txt")"
  [ -x build/tunsim ] || skip "build/tunsim is not built (the rest passed)"
  build/tunsim trace stats "$TMP/n.trace" --dev "$dev" --json -o "$TMP/stats.json" 2>"$TMP/stats.err" ||
    fail "tunsim trace stats: $(cat "$TMP/stats.err")"
  [ "$(json "$TMP/stats.json" "d['per_cpu']['0']['packets']")" = 300 ] ||
    fail "tunsim trace stats: $(cut -c1-300 "$TMP/stats.json")"
  echo "PASS"
  ;;
skb_truesize_measures)
  # The truesize this kernel gives tun_alloc_skb's skbs (a blocking write()
  # to an IFF_NAPI tap), as napi_gro_receive_entry prints it, against what
  # the model computes for that kernel (models/kernel/skb.hpp
  # skb_truesize_alloc; unit test "slub: skb->truesize"): the head's
  # allocation + 256 for the sk_buff.  60 bytes: SKB_HEAD_ALIGN(64 + 60) =
  # 448, from the 576-byte skb_small_head_cache on 6.3 and later (832),
  # kmalloc-512 before (768).  1500 bytes: 1920, kmalloc-2k: 2304.
  [ "$(id -u)" -eq 0 ] || skip "not root: capture-trace needs root"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  rel=$(uname -r)
  major=${rel%%.*}; minor=${rel#*.}; minor=${minor%%[!0-9]*}
  small=768
  { [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 3 ]; }; } && small=832
  for fb in 60 1500; do
    capture --mode napi --frame-bytes "$fb" --count 50 -o "$TMP/t$fb"
    want=$small; [ "$fb" = 1500 ] && want=2304
    got=$(grep -o "napi_gro_receive_entry: .* truesize=[0-9]*" "$TMP/t$fb.trace" | grep -o "truesize=[0-9]*" | sort | uniq -c |
          awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')
    [ "$got" = "50 truesize=$want" ] ||
      fail "$fb-byte frames on $rel: expected 50 skbs of truesize $want, the trace has: ${got:-none}"
  done
  echo "PASS (kernel $rel: 60 bytes $small, 1500 bytes 2304)"
  ;;
sndbuf_wait_measures)
  # scripts/machine/sndbufwait.c: two threads write() one IFF_NAPI tap (its
  # own namespace, IPv6 off, sndbuf 16384) for 3 s.  The model's writer
  # (models/writer, 6.18 sock_alloc_send_pskb / sock_wait_for_wmem /
  # tun_sock_write_space) sleeps for the rest of the run once the charge is
  # at sndbuf, because freed space wakes only a writer that polled.  The
  # kernel agrees when a thread is still in the write() it entered at least
  # a second before the end while the other thread wrote 1000 frames or more
  # in that time (each of those found the charge below sndbuf, their skbs
  # freed all along: 2026-12-07, 6.18.44: 5 runs of 6 on a machine busy
  # with other work and 3 of 3 on the idle one, asleep 1.2-3.0 s beside
  # 0.8-1.6 M writes).  It
  # disagrees when a write() that lasted a second beside 1000 writes of the
  # other ended before the end: something woke it.  Neither (no thread
  # found the charge at sndbuf, as in the sixth run): skip.
  [ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace and a tap)"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  build sndbufwait $M/sndbufwait.c
  "$TMP/sndbufwait" --sndbuf 16384 --seconds 3 >"$TMP/out.json" 2>"$TMP/err"
  st=$?
  case $st in 0) ;; 3|5|6) skip "sndbufwait cannot run here ($st): $(cat "$TMP/err")" ;;
    *) fail "sndbufwait exited $st: $(cat "$TMP/err")" ;; esac
  $PY - "$TMP/out.json" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
asleep = [t for t in d["threads"] if t["in_write_at_end"] and t["in_write_at_end"]["for_s"] >= 1.0
          and t["in_write_at_end"]["other_wrote_since"] >= 1000]
woken = [t for t in d["threads"] if t["longest_write_s"] >= 1.0 and t["other_wrote_during_longest"] >= 1000
         and not (t["in_write_at_end"] and t["in_write_at_end"]["for_s"] >= t["longest_write_s"] - 0.01)]
if woken:
    print("FAIL: a write() asleep for %.3f s beside %d writes of the other thread was woken before the end: %s"
          % (woken[0]["longest_write_s"], woken[0]["other_wrote_during_longest"], json.dumps(d)))
    sys.exit(1)
if not asleep:
    print("SKIP: no thread found the charge at sndbuf and slept a second (longest writes %s s)"
          % ", ".join("%.3f" % t["longest_write_s"] for t in d["threads"]))
    sys.exit(77)
t = asleep[0]
print("PASS: CPU %d asleep in write() for %.3f s while CPU %d wrote %d frames"
      % (t["cpu"], t["in_write_at_end"]["for_s"], [u for u in d["threads"] if u is not t][0]["cpu"],
         t["in_write_at_end"]["other_wrote_since"]))
EOF2
  exit $?
  ;;
*)
  fail "unknown case '$CASE'"
  ;;
esac
