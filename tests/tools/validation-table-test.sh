#!/bin/bash
# scripts/validation-table on the committed round of the README
# (results/reference/validation-2026-12-04-separate): its rows, its
# 14 columns and its "host as calibrated" verdicts, which depend only on the
# committed sidecars and on what `tunsim trace config` measures from the
# committed traces, so they are the same on every machine:
#   - threaded-other's writer CPU 0 ran at 0.918 of the fit's speed (its
#     user time between writes against the calibration's), below 0.93
#     (scripts/machine/trust.py): "no", with that reason under the table;
#   - every other row passes every check: "yes".
# Then a round whose napi-2w sidecar says 5 events were lost: that row is
# "no" for it, and the rest still "yes" (a lost event is no fitted
# capture's).  Then a round whose calibration is refused: one line, exit 2;
# a sidecar the host checks cannot read and a --tunsim that is no program:
# one line each, exit 2; --machine with another CPU's measurement (the
# verdicts, a refusal, a missing file); --seeds (the same table, then the
# seeds' ranges; a bad count); and an extra argument: one line, exit 2.
# Exit 0 pass, 1 fail.
# usage: tests/tools/validation-table-test.sh TUNSIM_BIN   (from the repository root)
set -u
bin=${1:?usage: validation-table-test.sh TUNSIM_BIN}
ref=results/reference/validation-2026-12-04-separate
tmp=$(mktemp -d /tmp/validation-table-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

scripts/validation-table "$ref" --tunsim "$bin" >"$tmp/out.md" 2>"$tmp/err" || fail "validation-table exited $?: $(cat "$tmp/err")"
rows=$(grep -c '^| .* | kernel |' "$tmp/out.md")
[ "$rows" -eq 8 ] || fail "expected 8 workloads, found $rows"
bad=$(awk -F'|' '/^\| / && NF != 16 {print NR}' "$tmp/out.md")
[ -z "$bad" ] || fail "rows without 14 cells: lines $bad"
# The frames each CPU received: in the committed two-writer capture CPU 0's
# netif_receive_skb events are 2235 of 6000 (37.25 %), four writers' 4817 of
# 12000 (40.1 %); rows where one CPU received every frame (threaded-other's
# kthread on CPU 1 in kernel and model alike) show "-".
shares=$(awk -F'|' '/ kernel / {gsub(/ +$|^ +/, "", $10); printf "%s;", $10}' "$tmp/out.md")
[ "$shares" = "–;–;–;37 / 63;40 / 60;–;–;–;" ] || fail "kernel frame shares: $shares"
model2w=$(awk -F'|' '/ model / {n++; if (n == 4) {gsub(/ +$|^ +/, "", $10); print $10}}' "$tmp/out.md")
[[ "$model2w" =~ ^[0-9]+\ /\ [0-9]+$ ]] || fail "the model's two-writer frame share: '$model2w'"
verdicts=$(awk -F'|' '/ kernel / {gsub(/ +$|^ +/, "", $15); printf "%s;", $15}' "$tmp/out.md")
[ "$verdicts" = "yes;yes;yes;yes;yes;yes;no (1);yes;" ] || fail "verdicts: $verdicts"
grep -qx '(1) threaded-other: writer CPU 0 ran at speed 0.918 (the fit saw 1)' "$tmp/out.md" ||
  fail "threaded-other's reason: $(grep '^(' "$tmp/out.md")"

mkdir "$tmp/round"
cp "$ref"/* "$tmp/round/"
/usr/bin/python3 - "$tmp/round/napi-2w.json" <<'PY' || fail "editing the sidecar"
import json, sys
d = json.load(open(sys.argv[1]))
d["lost_events"] = 5
json.dump(d, open(sys.argv[1], "w"))
PY
scripts/validation-table "$tmp/round" --tunsim "$bin" >"$tmp/out2.md" 2>"$tmp/err" || fail "validation-table exited $?: $(cat "$tmp/err")"
verdicts=$(awk -F'|' '/ kernel / {gsub(/ +$|^ +/, "", $15); printf "%s;", $15}' "$tmp/out2.md")
[ "$verdicts" = "yes;yes;yes;no (1);yes;yes;no (2);yes;" ] || fail "verdicts with 5 events lost in napi-2w: $verdicts"
grep -qx '(1) napi-2w: 5 trace events lost' "$tmp/out2.md" || fail "napi-2w's reason: $(grep '^(' "$tmp/out2.md")"
# A round whose fitted capture the calibration refuses (here a truncated
# trace; on a busy host, captures that contradict each other): one line
# naming the round and the tool's reason, exit 2, and no working files left
# (TMPDIR is the test's own, so other tests' files do not count).
mkdir "$tmp/round3" "$tmp/tmpd"
cp "$ref"/* "$tmp/round3/"
head -c 2000 "$ref/plain-1500.trace.gz" >"$tmp/round3/plain-1500.trace.gz"
TMPDIR="$tmp/tmpd" scripts/validation-table "$tmp/round3" --tunsim "$bin" >"$tmp/out3.md" 2>"$tmp/err3"
st=$?
[ "$st" -eq 2 ] || fail "a refused calibration: expected exit 2, found $st ($(cat "$tmp/err3"))"
[ "$(wc -l <"$tmp/err3")" -eq 1 ] || fail "a refused calibration: expected one line, found: $(cat "$tmp/err3")"
grep -q "^validation-table: $tmp/round3: tunsim: " "$tmp/err3" || fail "a refused calibration's line: $(cat "$tmp/err3")"
[ -z "$(ls -A "$tmp/tmpd")" ] || fail "working files left: $(ls "$tmp/tmpd")"
# A sidecar tunsim takes but the host checks cannot read (CPU 0's preemption
# a string), and a --tunsim that is no program: each was a Python traceback
# (exit 1); now one line naming the file or the option, exit 2, no working
# files left.
mkdir "$tmp/round4"
cp "$ref"/* "$tmp/round4/"
/usr/bin/python3 - "$tmp/round4/napi-2w.json" <<'PY' || fail "editing the sidecar"
import json, sys
d = json.load(open(sys.argv[1]))
d["preempted_ns"] = {"0": "x"}
json.dump(d, open(sys.argv[1], "w"))
PY
TMPDIR="$tmp/tmpd" scripts/validation-table "$tmp/round4" --tunsim "$bin" >"$tmp/out4.md" 2>"$tmp/err4"
st=$?
[ "$st" -eq 2 ] || fail "a sidecar the checks cannot read: expected exit 2, found $st ($(cat "$tmp/err4"))"
[ "$(wc -l <"$tmp/err4")" -eq 1 ] || fail "a sidecar the checks cannot read: expected one line, found: $(cat "$tmp/err4")"
grep -q "^validation-table: $tmp/round4: $tmp/round4/napi-2w.json: expected a capture-trace sidecar" "$tmp/err4" ||
  fail "a sidecar the checks cannot read: $(cat "$tmp/err4")"
[ -z "$(ls -A "$tmp/tmpd")" ] || fail "working files left: $(ls "$tmp/tmpd")"
for t in "$tmp/no-such-tunsim" "$tmp"; do
  scripts/validation-table "$ref" --tunsim "$t" >/dev/null 2>"$tmp/err5"
  st=$?
  [ "$st" -eq 2 ] || fail "--tunsim $t: expected exit 2, found $st ($(cat "$tmp/err5"))"
  [ "$(wc -l <"$tmp/err5")" -eq 1 ] || fail "--tunsim $t: expected one line, found: $(cat "$tmp/err5")"
  grep -q "^validation-table: --tunsim $t: expected the tunsim program" "$tmp/err5" || fail "--tunsim $t: $(cat "$tmp/err5")"
done
# A round that is no folder: one line saying so (it was "missing
# plain-60.trace.gz"); the default --tunsim is the repository's build from
# any directory (it was build/tunsim under the current one).
for r in "$tmp/no-such-round" "$tmp/err5"; do
  (cd / && "$OLDPWD/scripts/validation-table" "$r") >/dev/null 2>"$tmp/err7"
  st=$?
  [ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/err7")" -eq 1 ] &&
    grep -q "^validation-table: $r: expected a folder of captures, found" "$tmp/err7" ||
    fail "round $r: status $st, $(cat "$tmp/err7")"
done
# --machine: the cache model fitted to a machine measurement instead of the
# shipped one.  The Zen 5's own (results/reference/machine/epyc-2vcpu.json,
# the measurement the shipped cache model comes from, family 26 model 2 as
# the round's sidecars say) describes the round's CPU, and the shipped
# defaults are that fit: the table is the default's, byte for byte.  The Zen 1's (zen1-kvm-2vcpu.json) is refused by the fit
# itself (its cold-path curves do not fit the model's set-associative form:
# docs/calibration.md), one line naming the round, exit 2; a --machine that
# is no file: one line naming it, exit 2.
scripts/validation-table "$ref" --tunsim "$bin" --machine results/reference/machine/epyc-2vcpu.json \
  >"$tmp/out8.md" 2>"$tmp/err8" || fail "--machine epyc-2vcpu.json: exited $?: $(cat "$tmp/err8")"
cmp -s "$tmp/out.md" "$tmp/out8.md" || fail "--machine epyc-2vcpu.json: not the default's table: $(diff "$tmp/out.md" "$tmp/out8.md" | head -5)"
scripts/validation-table "$ref" --tunsim "$bin" --machine results/reference/machine/zen1-kvm-2vcpu.json \
  >/dev/null 2>"$tmp/err9"
st=$?
[ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/err9")" -eq 1 ] &&
  grep -q "^validation-table: $ref: tunsim: .*zen1-kvm-2vcpu.json: .*does not describe this CPU" "$tmp/err9" ||
  fail "--machine zen1-kvm-2vcpu.json: status $st, $(cat "$tmp/err9")"
for m in "$tmp/no-such-machine.json" "$tmp"; do
  scripts/validation-table "$ref" --tunsim "$bin" --machine "$m" >/dev/null 2>"$tmp/err10"
  st=$?
  [ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/err10")" -eq 1 ] &&
    grep -q "^validation-table: --machine $m: expected a machine measurement" "$tmp/err10" ||
    fail "--machine $m: status $st, $(cat "$tmp/err10")"
done
# --accept-cache-misfit: the Zen 4's machine file, whose fit misses 6 of its
# 23 kcold points (docs/calibration.md, "A Zen 4"), on that CPU's round of
# 2026-12-07 22:09: the table is made, and the host column refuses every row
# for that reason (trust.py cpu); without --machine the flag is one line,
# exit 2.
z4=results/reference/validation-2026-12-07-zen4b
scripts/validation-table "$z4" --tunsim "$bin" --machine results/reference/machine/zen4-2026-12-07/run1-1958.json \
  --accept-cache-misfit >"$tmp/out11.md" 2>"$tmp/err11" || fail "--accept-cache-misfit: exited $?: $(cat "$tmp/err11")"
rows=$(grep -c '^| [^|]* | kernel |' "$tmp/out11.md")
refused=$(grep '^| [^|]* | kernel |' "$tmp/out11.md" | grep -c '| no ([0-9]*) |$')
notes=$(grep -c "^([0-9]*) .*kept with --accept-cache-misfit): it describes no CPU" "$tmp/out11.md")
[ "$rows" -eq 8 ] && [ "$refused" -eq 8 ] && [ "$notes" -eq 8 ] ||
  fail "--accept-cache-misfit: $rows rows, $refused refused, $notes notes: $(grep -A3 '^(1)' "$tmp/out11.md")"
scripts/validation-table "$ref" --tunsim "$bin" --accept-cache-misfit >/dev/null 2>"$tmp/err12"
st=$?
[ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/err12")" -eq 1 ] &&
  grep -q "^validation-table: --accept-cache-misfit: expected --machine MACHINE.json" "$tmp/err12" ||
  fail "--accept-cache-misfit without --machine: status $st, $(cat "$tmp/err12")"
# --seeds N: the same table first, byte for byte, then one row a workload
# of the model's ranges under seeds 1..N beside the kernel's values.  The
# kernel's come from the committed captures (tunsim trace stats): two
# writers' steady rate 0.494 and rate over the span 0.440 Mpps, CPU 0 37 %
# of the frames (2235 of 6000); each model range is "min - max" with min <=
# max, and a single writer's share is "–".  A count of seeds that is not 1
# to 1000: one line, exit 2.
scripts/validation-table "$ref" --tunsim "$bin" --seeds 2 >"$tmp/out11.md" 2>"$tmp/err11" ||
  fail "--seeds 2: exited $?: $(cat "$tmp/err11")"
head -n "$(wc -l <"$tmp/out.md")" "$tmp/out11.md" | cmp -s - "$tmp/out.md" || fail "--seeds 2: the table changed"
seedrows=$(awk '/^The model under seeds 1-2 /{f=1} f && /^\| [^w-]/' "$tmp/out11.md")
[ "$(echo "$seedrows" | wc -l)" -eq 8 ] || fail "--seeds 2: expected 8 rows, found: $seedrows"
row2w=$(echo "$seedrows" | grep '^| IFF_NAPI, 60 B, 2 writers')
/usr/bin/python3 - "$row2w" "$seedrows" <<'PY' || fail "--seeds 2: $row2w"
import sys
c = [x.strip() for x in sys.argv[1].split("|")[1:-1]]
assert c[1] == "0.494" and c[3] == "0.440" and c[5] == "37", c
for row in sys.argv[2].splitlines():
    cells = [x.strip() for x in row.split("|")[1:-1]]
    assert len(cells) == 7, row
    for i in (2, 4):
        lo, hi = (float(v) for v in cells[i].split(" - "))
        assert 0 < lo <= hi, row
    if "1 writer" in cells[0]:
        assert cells[5] == cells[6] == "–", row
PY
for n in 0 x 1001; do
  scripts/validation-table "$ref" --tunsim "$bin" --seeds "$n" >/dev/null 2>"$tmp/err12"
  st=$?
  [ "$st" -eq 2 ] && [ "$(cat "$tmp/err12")" = "validation-table: --seeds $n: expected a number of seeds from 1 to 1000" ] ||
    fail "--seeds $n: status $st, $(cat "$tmp/err12")"
done
# A command-line error is one line too (argparse's was two: usage, error).
scripts/validation-table "$ref" extra --tunsim "$bin" >/dev/null 2>"$tmp/err6"
st=$?
[ "$st" -eq 2 ] || fail "an extra argument: expected exit 2, found $st"
[ "$(cat "$tmp/err6")" = "validation-table: unrecognized arguments: extra (see scripts/validation-table --help)" ] ||
  fail "an extra argument: $(cat "$tmp/err6")"
echo "PASS"
