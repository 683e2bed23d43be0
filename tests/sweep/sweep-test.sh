#!/bin/bash
# End-to-end tests of scripts/sweep with the real tunsim (`tunsim batch`), one CTest test
# per case:  sweep-test.sh CASE
# Needs $TUNSIM (the tunsim binary; tests/sweep.cmake passes it).  Exit 0 pass,
# 1 fail, 77 skipped (a prerequisite such as GNU parallel or matplotlib is missing).
# The driver's own logic is tested without tunsim in tests/sweep/test_*.py.
set -u
cd "$(dirname "$0")/../.." || exit 1
CASE=${1:?usage: sweep-test.sh CASE}
: "${TUNSIM:?set TUNSIM to the tunsim binary}"
export TUNSIM
PY=/usr/bin/python3
SWEEP=scripts/sweep  # as a user runs it: its #! line blocks SIGINT until the handler is in place
TMP=$(mktemp -d /tmp/sweep-test-"$CASE".XXXXXX)
trap 'rm -rf "$TMP"' EXIT
R=$TMP/results

fail() { echo "FAIL ($CASE): $*" >&2; exit 1; }
# Count the data rows of a CSV (header excluded; no field holds a newline).
rows() { echo $(( $(wc -l < "$1") - 1 )); }
npoints() { find "$1" -maxdepth 1 -name '*.json' | wc -l; }

# The tiny sweep: 2 rx_frames values x 2 MSG_MORE values, one seed, 2 ms.
cat > "$TMP/tiny.json" <<'EOF'
{"name": "tiny", "base": "configs/default.json",
 "set": {"design": "rx_batched", "duration_ms": 2, "warmup_ms": 0.5},
 "axes": [{"path": "tun.rx_frames", "values": [0, 8]},
          {"path": "senders.0.vhost.msg_more", "values": [true, false]}],
 "seeds": [1]}
EOF

case "$CASE" in
run_and_resume)
  $SWEEP --results-dir "$R" run "$TMP/tiny.json" -j 2 2> "$TMP/err" || { cat "$TMP/err"; fail "run exited $?"; }
  # 2 x 2 grid, 1 seed: 4 points, one summary each.
  [ "$(npoints "$R/tiny/points")" -eq 4 ] || fail "expected 4 point summaries, found $(npoints "$R/tiny/points")"
  [ "$(rows "$R/tiny/points.csv")" -eq 4 ] || fail "expected 4 CSV rows, found $(rows "$R/tiny/points.csv")"
  grep -q 'ETA' "$TMP/err" || fail "no progress line with an ETA on stderr"
  # Columns: id, the two axes, seed, then the metrics (throughput first).
  head -1 "$R/tiny/points.csv" | grep -q '^id,tun.rx_frames,senders.0.vhost.msg_more,seed,design,throughput_mpps,' \
    || fail "unexpected header: $(head -1 "$R/tiny/points.csv" | cut -c1-120)"
  # Every row has as many fields as the header, and every axis value in the CSV
  # is what tunsim actually ran (config_resolved of the point's summary).
  $PY - "$R/tiny" <<'EOF' || fail "CSV rows do not match the summaries"
import csv, json, os, sys
root = sys.argv[1]
rows = list(csv.reader(open(os.path.join(root, "points.csv"))))
head, body = rows[0], rows[1:]
assert all(len(r) == len(head) for r in body), "ragged rows"
seen = set()
for r in body:
    d = dict(zip(head, r))
    s = json.load(open(os.path.join(root, "points", d["id"] + ".json")))
    c = s["config_resolved"]
    assert str(c["tun"]["rx_frames"]) == d["tun.rx_frames"], (d, c["tun"])
    assert str(c["senders"][0]["vhost"]["msg_more"]).lower() == d["senders.0.vhost.msg_more"]
    assert float(d["throughput_mpps"]) == s["throughput_mpps"]
    seen.add((d["tun.rx_frames"], d["senders.0.vhost.msg_more"]))
assert seen == {("0", "true"), ("0", "false"), ("8", "true"), ("8", "false")}, seen
EOF
  # MSG_MORE with rx_frames 8 batches 9 packets per flush (tun_rx_batched flushes
  # when the queue held rx_frames before the new packet); rx_frames 0 does not batch.
  # A check that the axes reach the simulation, not only the CSV.
  $PY - "$R/tiny/points.csv" <<'EOF' || fail "batch sizes do not follow rx_frames"
import csv, sys
for d in csv.DictReader(open(sys.argv[1])):
    want = 9.0 if (d["tun.rx_frames"], d["senders.0.vhost.msg_more"]) == ("8", "true") else 1.0
    assert abs(float(d["batch.p50"]) - want) < 1e-9, (d["tun.rx_frames"], d["senders.0.vhost.msg_more"], d["batch.p50"])
EOF
  stat -c '%n %Y %s' "$R"/tiny/points/*.json > "$TMP/before"
  sleep 1.1
  $SWEEP --results-dir "$R" run "$TMP/tiny.json" 2> "$TMP/err2" || fail "rerun exited $?"
  grep -q '4 points (4 finished, 0 to run)' "$TMP/err2" || { cat "$TMP/err2"; fail "rerun did not skip the 4 finished points"; }
  stat -c '%n %Y %s' "$R"/tiny/points/*.json > "$TMP/after"
  cmp -s "$TMP/before" "$TMP/after" || fail "rerun rewrote point summaries"
  ;;

bad_input)
  # A misspelt key path: tunsim's own one-line message, exit 2, nothing run.
  sed 's/tun.rx_frames/tun.rx_framez/' "$TMP/tiny.json" > "$TMP/bad.json"
  $SWEEP --results-dir "$R" run "$TMP/bad.json" > "$TMP/out" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] || fail "bad path: expected exit 2, got $rc"
  [ "$(wc -l < "$TMP/err")" -eq 1 ] || { cat "$TMP/err"; fail "bad path: expected one line on stderr"; }
  grep -q 'axis tun.rx_framez value 0: tunsim: --set tun.rx_framez=0: unknown key "rx_framez"' "$TMP/err" \
    || fail "bad path: message lacks the axis and tunsim's message: $(cat "$TMP/err")"
  [ ! -d "$R/tiny/points" ] || [ "$(npoints "$R/tiny/points")" -eq 0 ] || fail "bad path: points were run"
  # An out-of-range value of a valid path, found before any run.
  sed 's/"values": \[0, 8\]/"values": [0, -1]/' "$TMP/tiny.json" > "$TMP/bad2.json"
  $SWEEP --results-dir "$R" run "$TMP/bad2.json" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] || fail "bad value: expected exit 2, got $rc"
  grep -q 'axis tun.rx_frames value -1: tunsim: .*expected an integer' "$TMP/err" || fail "bad value: $(cat "$TMP/err")"
  [ ! -d "$R/tiny/points" ] || [ "$(npoints "$R/tiny/points")" -eq 0 ] || fail "bad value: points were run"
  # Sweep-file errors: zip of unequal axes, a range with a zero step, invalid JSON.
  cat > "$TMP/bad3.json" <<'EOF'
{"name": "z", "combine": "zip", "axes": [{"path": "tun.rx_frames", "values": [0, 8]},
 {"path": "kernel.napi_weight", "values": [64]}]}
EOF
  $SWEEP --results-dir "$R" run "$TMP/bad3.json" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q 'combine zip: expected axes of equal length, found tun.rx_frames: 2, kernel.napi_weight: 1' "$TMP/err" \
    || fail "zip lengths: rc $rc: $(cat "$TMP/err")"
  echo '{"name": "r", "axes": [{"path": "tun.rx_frames", "range": [0, 8, 0]}]}' > "$TMP/bad4.json"
  $SWEEP --results-dir "$R" run "$TMP/bad4.json" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q 'axes.0.range: expected a positive step' "$TMP/err" || fail "zero step: rc $rc: $(cat "$TMP/err")"
  printf '{"name": "j",\n "axes": [}\n' > "$TMP/bad5.json"
  $SWEEP --results-dir "$R" run "$TMP/bad5.json" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q 'bad5.json:2:.*invalid JSON' "$TMP/err" || fail "invalid JSON: rc $rc: $(cat "$TMP/err")"
  # A name whose folder holds something else (here: a file) is refused, not written into.
  mkdir -p "$R/other" && echo keep > "$R/other/data.txt"
  sed 's/"name": "tiny"/"name": "other"/' "$TMP/tiny.json" > "$TMP/bad6.json"
  $SWEEP --results-dir "$R" run "$TMP/bad6.json" 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q 'name other: .*other exists and is not a sweep.s folder' "$TMP/err" || fail "foreign folder: rc $rc: $(cat "$TMP/err")"
  [ "$(ls -A "$R/other")" = data.txt ] || fail "foreign folder was written into"
  for f in "$TMP"/err; do ! grep -q Traceback "$f" || fail "traceback on bad input"; done
  ;;

zip_grid)
  # 3 x 2 axes: grid = 6 combinations, zip would need equal lengths; with 2 seeds
  # the grid has 12 points.  Zip of two 3-value axes = 3 combinations, 6 points;
  # "designs" (2) multiplies the zip: 12 points.  A range [0, 64, 16] = 0,16,32,48,64.
  cat > "$TMP/g.json" <<'EOF'
{"name": "g", "set": {"duration_ms": 2}, "seeds": [1, 2],
 "axes": [{"path": "tun.rx_frames", "values": [0, 8, 16]}, {"path": "senders.0.vhost.msg_more", "values": [true, false]}]}
EOF
  cat > "$TMP/z.json" <<'EOF'
{"name": "z", "set": {"duration_ms": 2}, "seeds": [1, 2], "combine": "zip",
 "axes": [{"path": "tun.rx_frames", "values": [0, 8, 16]}, {"path": "kernel.napi_weight", "values": [16, 32, 64]}]}
EOF
  cat > "$TMP/zd.json" <<'EOF'
{"name": "zd", "set": {"duration_ms": 2}, "seeds": [1, 2], "combine": "zip", "designs": ["v1_napi", "napi_gro"],
 "axes": [{"path": "tun.rx_frames", "values": [0, 8, 16]}, {"path": "kernel.napi_weight", "values": [16, 32, 64]}]}
EOF
  echo '{"name": "rg", "axes": [{"path": "tun.rx_frames", "range": [0, 64, 16]}]}' > "$TMP/rg.json"
  for spec in g:12 z:6 zd:12 rg:5; do
    n=${spec%%:*}; want=${spec#*:}
    got=$($SWEEP --results-dir "$R" plan "$TMP/$n.json" | sed -n 's/^sweep [a-z]*: \([0-9]*\) points.*/\1/p')
    [ "$got" = "$want" ] || fail "$n: expected $want points, got '$got'"
  done
  $SWEEP --results-dir "$R" plan -v "$TMP/rg.json" | grep -c 'tun.rx_frames=' | grep -qx 5 || fail "range values"
  for v in 0 16 32 48 64; do
    $SWEEP --results-dir "$R" plan -v "$TMP/rg.json" | grep -q "tun.rx_frames=$v\$" || fail "range lacks $v"
  done
  # Zip pairs values by position: rx_frames 8 runs with napi_weight 32, never 16.
  $SWEEP --results-dir "$R" plan -v "$TMP/z.json" | grep -q 'tun.rx_frames=8 kernel.napi_weight=32$' || fail "zip pairing"
  ! $SWEEP --results-dir "$R" plan -v "$TMP/z.json" | grep -q 'tun.rx_frames=8 kernel.napi_weight=16$' || fail "zip made a grid"
  ;;

parallel_engine)
  command -v parallel > /dev/null || { echo "SKIP: GNU parallel not installed"; exit 77; }
  $SWEEP --results-dir "$R/local" run "$TMP/tiny.json" -j 2 2> "$TMP/err" || { cat "$TMP/err"; fail "local engine"; }
  $SWEEP --results-dir "$R/par" run "$TMP/tiny.json" -j 2 --engine parallel > "$TMP/out" 2> "$TMP/err" \
    || { cat "$TMP/err"; fail "parallel engine exited $?"; }
  # 4 points, -j 2: chunks of one point (about 4 chunks per job slot), 4 GNU parallel jobs.
  [ -s "$R/par/tiny/parallel/parallel.joblog" ] || fail "no GNU parallel joblog"
  [ "$(tail -n +2 "$R/par/tiny/parallel/parallel.joblog" | wc -l)" -eq 4 ] || fail "GNU parallel did not run 4 jobs"
  # Same seeds, same settings: byte-identical summaries, hence an identical CSV.
  cmp "$R/local/tiny/points.csv" "$R/par/tiny/points.csv" || fail "CSVs differ"
  for f in "$R"/local/tiny/points/*.json; do
    cmp -s "$f" "$R/par/tiny/points/$(basename "$f")" || fail "summary $(basename "$f") differs"
  done
  # --sshloginfile is passed through to GNU parallel (':' is the local machine; ssh-test.sh
  # runs a remote host).
  rm -rf "$R/ssh"; echo '2/:' > "$TMP/logins"
  $SWEEP --results-dir "$R/ssh" run "$TMP/tiny.json" --engine parallel --sshloginfile "$TMP/logins" > /dev/null 2>&1 \
    || fail "parallel engine with --sshloginfile"
  cmp "$R/local/tiny/points.csv" "$R/ssh/tiny/points.csv" || fail "CSV with --sshloginfile differs"
  ;;

merge_slurm)
  $SWEEP --results-dir "$R" run "$TMP/tiny.json" -j 2 2> /dev/null || fail "run"
  cp "$R/tiny/points.csv" "$TMP/full.csv"
  victim=$(ls "$R"/tiny/points/*.json | head -1)
  rm "$victim"
  $SWEEP --results-dir "$R" merge "$R/tiny" > "$TMP/out" || fail "merge exited $?"
  grep -q '3 of 4 points finished' "$TMP/out" || fail "merge message: $(cat "$TMP/out")"
  [ "$(rows "$R/tiny/points.csv")" -eq 3 ] || fail "after deleting one point: expected 3 rows, found $(rows "$R/tiny/points.csv")"
  ! grep -q "^$(basename "$victim" .json)," "$R/tiny/points.csv" || fail "the deleted point is still in the CSV"
  # The Slurm engine writes an array script over the one missing point; running its
  # task 0 by hand (as sbatch would) restores the point, and merge gives the full CSV.
  # (tests/sweep/slurm-test.sh runs the engine against real Slurm daemons.)
  $SWEEP --results-dir "$R" run "$TMP/tiny.json" --engine slurm --no-submit > "$TMP/out" 2>&1 \
    || fail "slurm engine: $(cat "$TMP/out")"
  grep -q '^#SBATCH --array=0-0$' "$R/tiny/slurm.sh" || fail "slurm.sh: expected an array of 1 task"
  [ "$(wc -l < "$R/tiny/slurm-tasks/task-0.jsonl")" -eq 1 ] || fail "slurm-tasks/task-0.jsonl: expected one point"
  SLURM_ARRAY_TASK_ID=0 bash "$R/tiny/slurm.sh" > /dev/null || fail "slurm task 0 exited $?"
  [ -f "$victim" ] || fail "slurm task did not write $(basename "$victim")"
  $SWEEP --results-dir "$R" merge "$TMP/tiny.json" > /dev/null || fail "merge by sweep file"
  cmp "$TMP/full.csv" "$R/tiny/points.csv" || fail "CSV after the Slurm task differs from the local run"
  ;;

interrupt)
  # Two quick points, then two slow ones (60 s simulated, about 8 s of CPU each on
  # the development VM), terminated as soon as the quick ones are finished: exit 130,
  # every summary left behind is complete JSON, no temporary files; a rerun finishes
  # the rest and counts the kept ones as finished.
  cat > "$TMP/slow.json" <<'EOF'
{"name": "slow", "set": {"senders.0.guest.rate_mpps": 1.0},
 "axes": [{"path": "duration_ms", "values": [100, 100.5, 60000, 60000.5]}]}
EOF
  $SWEEP --results-dir "$R" run "$TMP/slow.json" -j 2 2> "$TMP/err" &
  pid=$!
  for _ in $(seq 600); do [ "$(npoints "$R/slow/points" 2> /dev/null)" = 2 ] && break; sleep 0.1; done
  kill -TERM $pid  # (a background job of a script ignores SIGINT; the driver treats TERM like Ctrl-C)
  wait $pid; rc=$?
  [ $rc -eq 130 ] || fail "interrupted run: expected exit 130, got $rc"
  grep -q 'interrupted; finished points are kept' "$TMP/err" || fail "no interruption message"
  kept=$(npoints "$R/slow/points")
  for f in "$R"/slow/points/*.json; do
    [ -e "$f" ] || continue
    $PY -c 'import json,sys; json.load(open(sys.argv[1]))["tunsim_version"]' "$f" || fail "half-written $f"
  done
  [ -z "$(ls -A "$R/slow/points" | grep -v '\.json$')" ] || fail "leftovers: $(ls -A "$R/slow/points")"
  $SWEEP --results-dir "$R" run "$TMP/slow.json" -j 2 2> "$TMP/err" || fail "resume exited $?"
  [ "$kept" -lt 4 ] || fail "all points finished before the interruption: nothing was tested"
  grep -q "4 points ($kept finished, $((4 - kept)) to run)" "$TMP/err" || fail "resume: $(head -1 "$TMP/err")"
  [ "$(rows "$R/slow/points.csv")" -eq 4 ] || fail "resume: expected 4 rows"
  ;;

plot)
  $PY -c 'import matplotlib' 2> /dev/null || { echo "SKIP: matplotlib missing for $PY"; exit 77; }
  $SWEEP --results-dir "$R" run "$TMP/tiny.json" -j 2 2> /dev/null || fail "run"
  $SWEEP --results-dir "$R" plot "$R/tiny" > "$TMP/out" 2> "$TMP/err" || { cat "$TMP/err"; fail "plot exited $?"; }
  for f in throughput latency latency_cdf cpu_split softirq batch_hist; do
    head -c 8 "$R/tiny/figures/$f.png" | od -An -tx1 | tr -d ' \n' | grep -qx '89504e470d0a1a0a' || fail "$f.png is not a PNG"
    grep -q '<svg' "$R/tiny/figures/$f.svg" || fail "$f.svg is not an SVG"
    grep -q "figures/$f.png" "$R/tiny/report.md" || fail "report.md does not embed $f.png"
  done
  $PY - "$R/tiny" "$($TUNSIM --version | awk '{print $NF}')" <<'EOF' || fail "meta.json"
import json, sys
m = json.load(open(sys.argv[1] + "/figures/meta.json"))
assert m["tunsim_version"] == [sys.argv[2]], m["tunsim_version"]
assert m["base"] == "configs/default.json" and m["base_config"]["name"] == "default", m["base"]
assert m["points_finished"] == 4 and m["points_total"] == 4
EOF
  # The table: one row per axis combination (4), each starting with its axis values.
  [ "$(grep -c '^| [08] | \(true\|false\) |' "$R/tiny/report.md")" -eq 4 ] || fail "report.md table rows"
  grep -q "tunsim version | $($TUNSIM --version | awk '{print $NF}')" "$R/tiny/report.md" || fail "report.md version"
  ;;

capacity)
  # Closed-loop capacity of two designs, then the load sweep at 50% and 100% of it:
  # 2 designs x 2 loads = 4 zipped points whose rates are capacity x percent / 100.
  $SWEEP capacity --set duration_ms=2 --set warmup_ms=0.5 --designs rx_batched,napi_gro --percent 50,100 \
    --load-sweep "$TMP/load.json" > "$TMP/out" || fail "capacity exited $?"
  $PY - "$TMP/load.json" "$TMP/out" <<'EOF' || fail "load sweep"
import json, sys
sw = json.load(open(sys.argv[1]))
cap = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[2]) if l.endswith("Mpps\n")}
assert set(cap) == {"rx_batched", "napi_gro"} and all(c > 0 for c in cap.values()), cap
d, l, r = (a["values"] for a in sw["axes"])
assert d == ["rx_batched"] * 2 + ["napi_gro"] * 2 and l == [50, 100, 50, 100], (d, l)
for di, li, ri in zip(d, l, r):
    assert abs(ri - round(cap[di], 4) * li / 100) < 1e-4, (di, li, ri, cap)
assert sw["combine"] == "zip" and sw["set"]["senders.0.guest.mode"] == "open"
EOF
  [ "$($SWEEP plan "$TMP/load.json" | sed -n 's/^sweep load: \([0-9]*\) points.*/\1/p')" = 4 ] || fail "load sweep points"
  $SWEEP capacity --designs nope 2> "$TMP/err"; rc=$?
  [ $rc -eq 2 ] && grep -q 'capacity of nope: tunsim: --set design="nope": expected one of' "$TMP/err" || fail "bad design: rc $rc"
  ;;

kill9)
  # The driver killed with SIGKILL while two slow points run: tunsim batch and the children
  # it forked end too (PR_SET_PDEATHSIG), within 10 s.
  echo '{"name": "slow", "axes": [{"path": "duration_ms", "values": [60000, 60000.5]}]}' > "$TMP/slow.json"
  $SWEEP --results-dir "$R" run "$TMP/slow.json" -j 2 > /dev/null 2>&1 &
  pid=$!
  # The processes whose command line names a file of the sweep's folder (its points file, a
  # summary): tunsim batch and its two children.  [s]: grep's own command line does not match.
  ours() { grep -l -s -a -E "$TMP/result[s]/slow/" /proc/[0-9]*/cmdline 2> /dev/null | cut -d/ -f3; }
  for _ in $(seq 300); do [ "$(ours | wc -l)" -ge 3 ] && break; sleep 0.1; done
  [ "$(ours | wc -l)" -ge 3 ] || { kill -9 $pid; fail "the batch and its two points did not start"; }
  kill -9 $pid
  wait $pid 2> /dev/null
  for _ in $(seq 100); do [ -z "$(ours)" ] && break; sleep 0.1; done
  left=$(ours)
  [ -z "$left" ] || { kill -9 $left 2> /dev/null; fail "still running after the driver was killed: $left"; }
  ;;

*) echo "unknown case $CASE" >&2; exit 1 ;;
esac
echo "PASS ($CASE)"
