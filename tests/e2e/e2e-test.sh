#!/bin/bash
# End-to-end check of the calibrated simulator against this machine's kernel
# (issue 3 part 6, issue 12 item 8, issue 13 item 2; docs/validation.md).
#
#   1. capture the two single-writer workloads (scripts/capture-trace):
#        plain     one writer, plain tap          --mode plain
#        napi      one writer, IFF_NAPI tap       --mode napi
#      with FIT_COUNT frames and perf samples of each cost's path
#      (--perf-paths, when perf works here), which split the sums of costs
#      the fit identifies (docs/traces.md, "The split measured")
#   2. calibrate on those two only (tunsim calibrate)
#   3. capture the workloads the fit never saw, which batch on a stock kernel:
#        napi-2w          two writers on CPUs 0,1     --mode napi --threads 2 --cpus 0,1
#        napi-4w          four writers on CPUs 0,1    --mode napi --threads 4 --cpus 0,1
#        threaded-same    threaded NAPI, its kthread on the writer's CPU 0
#                                                    --mode napi --threaded --napi-cpu 0
#        threaded-other   threaded NAPI, writer on CPU 0, kthread on CPU 1
#                                                    --mode napi --threaded --napi-cpu 1
#   4. simulate each with the calibration (tunsim trace config, which also
#      takes the capture's CPU speeds and measured line transfer, + run --trace)
#      and assert with tunsim diff, kernel trace (A) against simulated (B).
#
# Bounds.
#   Single writers: steady_mpps (1 / median netif_receive_skb inter-arrival)
#   within 10 % (issue 3's bound).  throughput_mpps divides by the whole span,
#   which preemption stalls dominate on a shared machine; a median-based rate
#   is what one capture can tell (docs/validation.md).
#   Workloads never fitted (issue 12's goals): steady_mpps within 5 %, and
#   the kernel's and the model's distributions within KS 0.05 of napi_poll
#   work and, where there is a NET_RX softirq (2 and 4 writers), of packets
#   per softirq; with threaded NAPI the kthread polls outside any softirq,
#   so napi_poll work is the packets per poll.  The goal is the bound unless
#   two kernel captures of the same workload, both trusted by the checks
#   below, differ by more; then that spread is the bound:
#   - napi-2w poll work: 0.07, the largest KS between two kernel captures
#     (2026-11-25 ~03:40 UTC: 0.069 and 0.070; the captures of that session
#     gave 0.000-0.030 among themselves).
#   - everything else: the goal (5 %, 0.05).  On 2026-12-02 02:24-03:50 UTC
#     no capture passed the host checks below (the machine ran two other
#     builds: load average 5-12, the writers preempted 25-80 % of each
#     capture), so no trusted kernel-to-kernel spread was measured that could
#     widen a bound; the spreads of the untrusted ones are in
#     docs/validation.md and are not bounds.
#   steady_mpps is the median of a log-binned histogram (about 2.2 % per
#   bin): 5 % is two bins.
#   threaded-same is the exception: 120000 frames (COUNT_THREADED_SAME) and
#   throughput_mpps, the rate over the span, within 5 %.  Its kthread and
#   writer share CPU 0 in two regimes, the writer's turn while the woken
#   kthread waits, and a kthread that preempts the writer at every wake-up
#   and polls one frame; the tick switches them (each turn of both ends on
#   a 4 ms tick; turns of 2-14 ms).  3000 frames (about 12 ms) hold one or
#   two turns, so their rate is the luck of where the capture fell: four
#   trusted kernel captures of 2026-12-06 06:21 UTC ran at 0.26, 0.58,
#   0.28 and 0.28 Mpps over the span, and their steady_mpps (the median
#   inter-arrival, which falls in one regime or the other) at 0.56, 3.86,
#   0.20 and 3.47.  At 120000 frames three captures agreed within 3.4 % on
#   the rate over the span and within KS 0.002 on poll work, while their
#   steady_mpps still differed by 53 % (docs/validation.md, "threaded-same
#   needs a longer capture").
#
# Known gaps (issue 12 is open): every workload the fit never saw.  On the
# first captures the host trusted (2026-12-02 ~04:40 UTC, load average 0.9)
# the model missed the threaded-NAPI ones: threaded-same steady_mpps outside
# 5 %, threaded-other steady_mpps and napi_poll_work (KS 0.39: the kernel's
# kthread polled 1.39 packets on average, the model's 1.00).  The two and
# four writers were not trusted then (CPU 1 ran at 1.23-1.31 x the
# calibration's speed) and the model was 24 % fast on them; its two-writer
# throughput is 1.58 x its one writer's where the kernel's was 1.0-1.3 x, so
# they are expected to miss too.  On five quiet rounds (2026-12-02 08:37-08:40,
# docs/validation.md) with the model of that day (the skb's lines as one
# measured burst) two writers were +0 to +38 % and four +14 to +33 %
# (poll-work KS 0.06-0.15), threaded-other polled 1.0 frames against the
# kernel's 1.7-2.3, and threaded-same's steady_mpps was bimodal in both: all
# four still miss.  With the tun socket's two lines moving between the CPUs
# (same rounds, 12:10 UTC) two writers were -14 to +30 %, four +2 to +22 %
# (poll-work KS 0.031-0.059), threaded-other -23 to -4 % polling 1.0-1.47
# frames; with the measured wake-up of a halted vCPU (ipi_ns 3286,
# ipi_latency_ns 5321) threaded-other polls 1.70-2.22 frames (KS 0.13-0.42)
# and its steady_mpps is bimodal like threaded-same's: all four still miss.
# With a line move priced at one move (remotermw, 2026-12-03) the committed
# quiet round gives two writers +30 % (poll-work KS 0.050), four +30 % (KS
# 0.075) and threaded-other's poll work KS 0.362: still misses.  With the NET_RX
# softirq's sum split as perf sampled it (2e7dfbc, 2026-12-03) the same round
# gives two writers +33 % (KS 0.036), four +24 % (KS 0.031) and
# threaded-other -2 % steady but poll-work KS 0.207: all four still miss.
# With the remote wake-up's latency counted from the start of the send
# (2026-12-04; it came 3286 ns late) the four 30,000-frame rounds of that
# morning give threaded-other 1.40-1.73 frames a poll against the kernel's
# 1.36-1.40 (KS 0.023-0.169) but a steady rate 16-21 % low: still a miss.
# threaded-same over 120000 frames (2026-12-06 06:26-06:29, two runs, each
# with its own calibration): poll-work KS 0.001 and 0.002, rate over the
# span +10.3 % and +2.5 %; with the shipped defaults instead of the test's
# calibration, three captures gave -1.0, +3.0 and +2.4 %: a pass and a
# miss, so it stays a known gap.
# Their comparison is still run and
# printed, and a miss is reported as KNOWN GAP; the test then exits 77
# (skipped, naming it), never 0, so it does not claim what the model cannot
# do.  A pass of them counts as a pass.  Remove a name from KNOWN_GAPS when the
# model reproduces it.
#
# Honesty (issue 13 item 2): a comparison is asserted only when every
# measurement it relies on says the host ran the capture as the calibration
# saw it.  Otherwise the workload is recaptured (up to ATTEMPTS times) and,
# failing that, printed as NOT ASSERTED with the measurement that refused it;
# the test then exits 77 (skipped), never 0 and never 1 for it.  Checks, from
# the capture's sidecar and scenario:
#   - the CPU (the sidecar's cpu_signature: vendor, family, model) must be
#     the one the shipped cache model was measured on (trust.py cpu; checked
#     on the first capture, the test skips at once otherwise).  The VM named
#     "AMD EPYC" was a Zen 5 (family 26) until 2026-12-04 and a Zen 1
#     (family 23, other cache geometry, kernel paths 1.4-1.8x slower) from
#     2026-12-05, and nothing in the captures told them apart;
#   - lost trace events (ring-buffer overruns): the metrics miss events;
#   - preempted_ns: the time another task ran on a workload CPU while a
#     writer or the NAPI kthread was ready to run there (capture-trace, from
#     the workload tasks' sched_switch / sched_wakeup).  At most 2 % of the
#     capture: a distribution can move by at most the fraction of its samples
#     taken while disturbed, and 2 % keeps that below half the KS bound;
#   - line transfer refused by scripts/linexfer.c (line_transfer_refused):
#     the model charges each shared-line access the capture's measured
#     transfer (trace config), which the host switches between 54 and
#     200-228 ns within minutes (2026-12-02); without a trusted value the
#     comparison would rest on the calibration's, from another placement.
#     Whether the placement also changes how fast kernel code runs is not
#     established (plain-60 ran at 0.43-0.47 Mpps in both placements and at
#     0.31 in both, all heavily preempted), so the value itself is no check;
#   - for threaded NAPI with the kthread on another CPU: the wake-up of that
#     CPU refused by scripts/machine/wakeup.c (wakeup_refused): the writer
#     pays it once a kthread sleep, and the host's cost of it moved from 3.3
#     to 4.5-7.8 us between days (docs/calibration.md);
#   - writer CPU speeds (cpus.speed from trace config: the calibration's
#     writer user time over the capture's) within [0.93, 1.07]: on
#     2026-11-25, with a vCPU at 0.75-0.81, the model was 4-32 % too fast
#     (user-space time understates how much kernel code slowed);
#   - the calibration's write() spread (costs.spread.process, measured from
#     the plain capture's writes): its mean at most SPREAD_MEAN_MAX (1.02) x
#     its median.  The committed 60-byte plain capture's table has a mean
#     of 1.007 (results/reference/plain-60-1w, 2026-11-25; the shipped
#     calibrations pool it with 1500-byte or bridge writes, whose paths vary:
#     1.036, 1.048); in a CI run of 2026-12-03
#     06:12 UTC beside two niced fuzzers (no capture preempted over 2 %,
#     speeds 0.99-1.01) half the writes took 1.10-1.74 x the median (mean
#     1.181): the host ran the writer at two speeds, in stretches of time.
#     The model draws one factor per write from the table, independently
#     (docs/model.md, cost spread), so it has the distribution of a write's
#     cost but not those stretches, and the steady throughput of a capture
#     made of them is not what it predicts.  Then the model still drew a
#     factor per path run, which also moved its medians toward the table's
#     mean: IFF_NAPI write() p50 came out 11 % above the kernel's,
#     steady_mpps 10.3 % low against the 10 % bound.  One draw per write
#     keeps the medians (since fd76262, 2026-12-03); the check stays for the
#     stretches.  Its mirror, a fast mode, is refused too (mean at least
#     SPREAD_MEAN_MIN, 0.98): a CI run of 2026-12-06 trusted both captures
#     with 3 of the 16 quantiles at 0.55-0.57 x the median (mean 0.949) and
#     failed (docs/validation.md, "The end-to-end test and its bounds");
#   - calibrate's own refusals of disturbed captures (status 2, one line): a
#     spread quantile beyond the [0.05, 20] a scenario accepts (CI of
#     2026-12-04 on 9b91739: 22.1 x the median at the quantile 15.5/16 of
#     the plain capture's writes, which failed the test before calibrate
#     refused it), or a cost the traces identify coming out negative.
#   The single-writer captures the calibration comes from must pass the same
#   checks, else the whole test skips; their speeds are those of the
#   calibration fitted to both, so they must agree on it: on 2026-12-02, with
#   two fuzzers running niced, the IFF_NAPI capture's writer ran at 0.77 of
#   the fit's user time while the plain one ran at 1.02, and the IFF_NAPI
#   single writer missed its bound by 14 %: that is a host that changed speed
#   between the captures, and the test skips naming it.  Steal time is not a check: this VM's /proc/stat reports 0 steal
#   throughout; the load average is recorded in the sidecar but the
#   preemption record measures what it only suggests.
#
# Time: each capture takes 7-25 s here; new captures stop after BUDGET_S
# seconds (what is then not asserted makes the test skip), so the whole test
# stays under about 6 minutes on this 2-core machine.
#
# usage: tests/e2e/e2e-test.sh TUNSIM_BIN       (from the repository root)
# exit: 0 pass (every workload asserted and within its bounds), 1 a bound
#       violated on a trusted capture or a step failed, 77 skipped (printed why)
set -u -o pipefail

bin="${1:-${TUNSIM:-build/tunsim}}"
STEADY_TOL_1W=0.10
STEADY_TOL=0.05
POLL_KS=0.05
POLL_KS_2W=0.07
PPS_KS=0.05
# PREEMPT_MAX 0.02, SPEED_MIN 0.93, SPEED_MAX 1.07, SPREAD_MEAN_MIN 0.98 and SPREAD_MEAN_MAX 1.02
# (the host checks above) are scripts/machine/trust.py's.
COUNT="${TUNSIM_E2E_COUNT:-3000}"
# threaded-same: its regimes last 2-14 ms (the header), so 3000 frames (about
# 12 ms) hold one or two of them; 120000 (about 0.5 s, 10 s to capture)
# hold about 40.
COUNT_THREADED_SAME="${TUNSIM_E2E_COUNT_THREADED_SAME:-120000}"
# The calibration's captures: ten times as many frames, so that perf's
# samples (one per 100 us) give each path of the split about 100 or more.
FIT_COUNT="${TUNSIM_E2E_FIT_COUNT:-30000}"
ATTEMPTS="${TUNSIM_E2E_ATTEMPTS:-3}"
BUDGET_S="${TUNSIM_E2E_BUDGET_S:-200}"
py=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: no tunsim binary at $bin"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "not root: capturing kernel traces needs root (tracefs, netns, tap devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun: the tun driver is not available"
if ! { [ -e /sys/kernel/tracing/trace ] || [ -e /sys/kernel/debug/tracing/trace ] ||
       grep -qw tracefs /proc/filesystems 2>/dev/null; }; then
  skip "no tracefs: the kernel has no tracing support"
fi
[ -x "$py" ] || skip "no $py to read the capture sidecars"
[ "$(nproc --all)" -ge 2 ] || skip "this machine has one CPU: the workloads run writers and the NAPI kthread on CPUs 0 and 1"

tmp=$(mktemp -d /tmp/tunsim-e2e-XXXXXX)
# What the steps print in full (calibrate's report, trace config, each diff's
# tables) goes to files in $tmp, listed in $tmp/steps in order; the test
# prints a few lines a step (the rows with a bound, the verdicts), so that a
# CI log's excerpt of a failure holds the row that failed, and on a failure
# (status 1) the full texts follow.
: >"$tmp/steps"
details() {
  local f
  echo
  echo "---- e2e: the steps in full ----"
  # A recaptured workload's files are listed once per attempt: shown once.
  awk '!seen[$0]++' "$tmp/steps" | while read -r f; do echo "---- $f"; cat "$f"; done
}
trap 'st=$?; [ $st -eq 1 ] && details; rm -rf "$tmp"' EXIT
echo "e2e: working in $tmp; tunsim $bin; $COUNT frames per writer; load average $(cut -d' ' -f1-3 /proc/loadavg)"

capture() {  # NAME ARGS...: 0 captured, 2 not possible here (printed), exits 1 on failure
  local name="$1"; shift
  scripts/capture-trace --count "$COUNT" "$@" --gzip -o "$tmp/$name" >"$tmp/$name.log" 2>&1
  local rc=$?
  case $rc in
    0) echo "captured $name: $(gzip -dc "$tmp/$name.trace.gz" | grep -c .) lines"; return 0 ;;
    3|4|5|6|7|8|9|10)
      echo "capture of $name not possible here (capture-trace status $rc, docs/traces.md):"
      tail -3 "$tmp/$name.log"
      return 2 ;;
    *) echo "FAIL: capture of $name failed (status $rc):"; tail -5 "$tmp/$name.log"; exit 1 ;;
  esac
}

simulate() {  # NAME: trace config (cpus.speed, line transfer) + run --trace
  local log="$tmp/$1.config.log"
  echo "$log" >>"$tmp/steps"
  "$bin" trace config "$tmp/$1.json" --calibration "$tmp/cal.json" -o "$tmp/$1.scenario.json" >"$log" 2>&1 || {
    echo "FAIL: trace config $1:"; tail -3 "$log"; exit 1; }
  # The CPU speeds it took from the capture, on one line.
  awk '/^cpu [0-9]+: writer user time/ && !seen[$2]++ {s = s sep "cpu " $2 " " $NF; sep = ", "} END {if (s != "") print "  speeds: " s}' "$log" | tr -d :
  "$bin" run "$tmp/$1.scenario.json" --trace "$tmp/$1.sim.trace" -o "$tmp/$1.summary.json" -q 2>"$tmp/$1.run.log" || {
    echo "FAIL: simulation of $1:"; tail -3 "$tmp/$1.run.log"; exit 1; }
}

# compare NAME TOL-ARGS...: tunsim diff of the kernel trace (A) against the
# simulated one (B), in full to $tmp/NAME.diff; prints the rows that have a
# bound and diff's verdict, returns diff's status.
compare() {
  local w=$1 rc; shift
  "$bin" diff "$tmp/$w.trace.gz" "$tmp/$w.sim.trace" "$@" >"$tmp/$w.diff" 2>&1; rc=$?
  echo "$tmp/$w.diff" >>"$tmp/steps"
  awk '/^metric / {print "  " $0; next}
       / (ok|FAIL)$/ && !/^ / {print "  " $0; next}
       /^[a-z_]+ +A +B +rel.err/ {m = $1}
       /^  KS .* tol / {sub(/^  /, ""); print "  " m ": " $0; next}
       /^(PASS|FAIL|error|tunsim)/ {print "  " $0}' "$tmp/$w.diff"
  return $rc
}

# untrusted NAME [SCENARIO]: "" when the capture passes the host checks
# of the header, else the measurements that refuse it, on one line
# (scripts/machine/trust.py, which scripts/validation-table uses too).
untrusted() {
  "$py" scripts/machine/trust.py capture "$tmp/$1.json" ${2:+"$2"}
}

fail=0
KNOWN_GAPS=" napi-2w napi-4w threaded-same threaded-other "
declare -a not_asserted=() known_gaps=()
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

# ---- the calibration's captures ----------------------------------------------
# With perf samples of each path when perf can sample here (capture-trace
# status 8 otherwise: the fit then splits by the defaults, and says so).
fit_opts=(--count "$FIT_COUNT" --perf-paths)
for w in plain napi; do
  why=""
  for attempt in $(seq "$ATTEMPTS"); do
    capture "$w" --mode "$w" "${fit_opts[@]}"; rc=$?
    if [ $rc -eq 2 ] && [ ${#fit_opts[@]} -gt 2 ] && grep -q "perf" "$tmp/$w.log"; then
      echo "perf cannot sample here: the fit splits the sums of costs by the defaults' proportions"
      fit_opts=(--count "$FIT_COUNT")
      capture "$w" --mode "$w" "${fit_opts[@]}"; rc=$?
    fi
    [ $rc -eq 0 ] || skip "tracing the $w workload is not possible on this machine (see above)"
    # The calibration below fits the costs under the shipped cache model:
    # measured on one CPU (family, model), it describes no other.
    cpu_why=$("$py" scripts/machine/trust.py cpu "$tmp/$w.json") || { echo "FAIL: reading the sidecar of $w"; exit 1; }
    [ -n "$cpu_why" ] && skip "the shipped cache model does not describe this CPU: $cpu_why"
    why=$(untrusted "$w") || { echo "FAIL: reading the sidecar of $w"; exit 1; }
    [ -z "$why" ] && break
    echo "$w, capture $attempt: not trusted: $why"
    [ "$SECONDS" -ge "$BUDGET_S" ] && break
  done
  [ -n "$why" ] && skip "the calibration's $w capture cannot be trusted: $why"
done

echo
echo "== calibrate on the single-writer traces only"
"$bin" calibrate "$tmp/plain.trace.gz" "$tmp/napi.trace.gz" -o "$tmp/cal.json" --name e2e >"$tmp/cal.err" 2>&1; rc=$?
echo "$tmp/cal.err" >>"$tmp/steps"
# Its report in full is among the details; here the fit's quality, the
# writer's own time and the write() spread the checks below read.
grep -E "^rank |costs.writer_user_ns|costs.spread.process|^calibrate|^tunsim" "$tmp/cal.err" | sed 's/^ */  /'
if [ $rc -ne 0 ]; then
  # calibrate refuses captures the host disturbed (one line, status 2): a
  # write() spread quantile beyond what a scenario accepts (stretched
  # writes), or a cost the traces identify that came out negative (the
  # captures ran at different speeds).  Those are the host's: skip.
  if [ $rc -eq 2 ] && grep -q -e "too disturbed to calibrate on" -e "the captures contradict each other" "$tmp/cal.err"; then
    skip "the calibration cannot be trusted: $(head -n1 "$tmp/cal.err")"
  fi
  echo "FAIL: calibrate (status $rc)"; exit 1
fi
# The write() spread check of the header: "" when the table's mean is within
# [SPREAD_MEAN_MIN, SPREAD_MEAN_MAX] x its median (scripts/machine/trust.py).
spread_why=$("$py" scripts/machine/trust.py spread "$tmp/cal.json") || { echo "FAIL: reading costs.spread.process of the calibration"; exit 1; }

for w in plain napi; do
  echo
  echo "== $w: simulate with the calibration, diff kernel (A) vs simulated (B)"
  simulate "$w"
  # The two captures must agree on the host's speed: the fit has one
  # writer_user_ns for both, so a capture whose writer ran slower or faster
  # than that (the host slowed the vCPU during one of them) is one the
  # calibration does not describe.
  why=$(untrusted "$w" "$tmp/$w.scenario.json") || { echo "FAIL: reading the sidecar or scenario of $w"; exit 1; }
  if [ -n "$why" ]; then
    why="the calibration's captures disagree on the host's speed: $w: $why"
  elif [ -n "$spread_why" ]; then
    why="the calibration cannot be trusted: $spread_why"
  fi
  if [ -n "$why" ]; then
    compare "$w" --tol "steady_mpps=$STEADY_TOL_1W"
    skip "$why"
  fi
  compare "$w" --tol "steady_mpps=$STEADY_TOL_1W"
  verdict "$w" $?
done

# ---- the workloads the fit never saw --------------------------------------------
workload() {  # NAME POLL_KS PPS(yes|no) RATE(steady_mpps|throughput_mpps) CAPTURE-ARGS...
  local w=$1 pks=$2 pps=$3 rate=$4; shift 4
  local why="not captured: the time budget ($BUDGET_S s) was spent" attempt rc
  for attempt in $(seq "$ATTEMPTS"); do
    [ "$SECONDS" -ge "$BUDGET_S" ] && break
    echo
    echo "== $w, capture $attempt: simulate with the calibration and the capture's CPU speeds"
    capture "$w" "$@"; rc=$?
    if [ $rc -eq 2 ]; then why="capture not possible on this machine (above)"; break; fi
    simulate "$w"
    why=$(untrusted "$w" "$tmp/$w.scenario.json") || {
      echo "FAIL: reading the sidecar or scenario of $w"; exit 1; }
    [ -z "$why" ] && break
    echo "$w, capture $attempt: not trusted: $why"
  done
  local tols=(--tol "$rate=$STEADY_TOL" --tol "napi_poll_work.ks=$pks")
  [ "$pps" = yes ] && tols+=(--tol "packets_per_softirq.ks=$PPS_KS")
  if [ -z "$why" ]; then
    compare "$w" "${tols[@]}"; rc=$?
    if [ $rc -eq 1 ] && [[ "$KNOWN_GAPS" == *" $w "* ]]; then
      echo "KNOWN GAP: $w outside its bounds (rows marked FAIL above; issue 12 open, see the header)"
      known_gaps+=("$w")
    else
      verdict "$w" $rc
    fi
  else
    if [ -e "$tmp/$w.sim.trace" ]; then
      compare "$w" "${tols[@]}"
    fi
    echo "NOT ASSERTED: $w: $why (printed above, not asserted; see the header)"
    not_asserted+=("$w: $why")
  fi
}

workload napi-2w "$POLL_KS_2W" yes steady_mpps --mode napi --threads 2 --cpus 0,1
workload napi-4w "$POLL_KS" yes steady_mpps --mode napi --threads 4 --cpus 0,1
workload threaded-same "$POLL_KS" no throughput_mpps --mode napi --threaded --napi-cpu 0 --count "$COUNT_THREADED_SAME"
workload threaded-other "$POLL_KS" no steady_mpps --mode napi --threaded --napi-cpu 1

echo
echo "e2e: $SECONDS s"
if [ $fail -ne 0 ]; then
  echo "e2e: the simulator disagrees with this kernel (see FAIL rows; docs/validation.md)"
  exit 1
fi
# Not everything asked for was asserted: reported as skipped, never as passed.
if [ ${#known_gaps[@]} -gt 0 ]; then
  printf '  known gap: %s\n' "${known_gaps[@]}"
  [ ${#not_asserted[@]} -gt 0 ] && printf '  not asserted: %s\n' "${not_asserted[@]}"
  skip "the model misses ${#known_gaps[@]} workload(s) it is known not to reproduce yet (${known_gaps[*]}; issue 12); the asserted rest are within their bounds"
fi
if [ ${#not_asserted[@]} -gt 0 ]; then
  printf '  not asserted: %s\n' "${not_asserted[@]}"
  skip "${#not_asserted[@]} workload(s) not asserted, each for the measurement listed above; the rest are within their bounds"
fi
echo "e2e: all workloads within their bounds"
exit 0
