#!/bin/bash
# scripts/pipeline without root or captures: a copy of the scripts it runs in
# a checkout of its own ($tmp/repo: scripts/pipeline, scripts/machine/trust.py
# and stdout.py, a build/tunsim that runs TUNSIM_BIN and says so, and a
# scripts/capture-trace that only records its arguments), with another
# "tunsim" first on PATH that fails.
#   1. Which tunsim runs: this checkout's build/tunsim, not the one on PATH
#      (it took PATH's, and said nothing), and the output names it; $TUNSIM
#      and --tunsim before it; without a build, one line and exit 2 that
#      names PATH's as the one to pass.
#   2. The host verdict of scripts/machine/trust.py: on the committed round
#      of tests/tools/validation-table-test.sh, calibrated on the same four
#      captures as scripts/validation-table, napi-2w passes every check
#      ("yes", as that test's table says); with 5 events lost in its sidecar
#      it is "no: 5 trace events lost" (trust.py's first check).
#   3. Each capture-trace command has one --count: the IFF_NAPI calibration
#      capture ten times the frames (--perf-paths, when perf is installed),
#      which came after a --count of the default 3000 too.
# Exit 0 pass, 1 fail.
# usage: tests/tools/pipeline-test.sh TUNSIM_BIN   (from the repository root)
set -u
real=$(realpath "${1:?usage: pipeline-test.sh TUNSIM_BIN}")
ref=$PWD/results/reference/validation-2026-12-04-separate
tmp=$(mktemp -d /tmp/pipeline-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

repo=$tmp/repo
mkdir -p "$repo/scripts/machine" "$repo/build" "$tmp/path"
cp scripts/pipeline "$repo/scripts/"
cp scripts/machine/trust.py scripts/machine/stdout.py "$repo/scripts/machine/"
# tool NAME PATH: a tunsim that runs the real one after noting NAME in $tmp/ran.
tool() { printf '#!/bin/bash\necho %s >>%s/ran\nexec %s "$@"\n' "$1" "$tmp" "$real" >"$2"; chmod +x "$2"; }
tool build "$repo/build/tunsim"
tool env "$tmp/env-tunsim"
printf '#!/bin/bash\necho path >>%s/ran\nexit 1\n' "$tmp" >"$tmp/path/tunsim"
chmod +x "$tmp/path/tunsim"
printf '#!/bin/bash\necho "$*" >>%s/captures\n' "$tmp" >"$repo/scripts/capture-trace"
chmod +x "$repo/scripts/capture-trace"
export PATH="$tmp/path:$PATH"
unset TUNSIM

"$real" calibrate "$ref/plain-60.trace.gz" "$ref/plain-1500.trace.gz" "$ref/napi-60.trace.gz" "$ref/bridge-60.trace.gz" \
  -o "$tmp/cal.json" >/dev/null 2>"$tmp/err" || fail "calibrate: $(tail -n1 "$tmp/err")"
# pipe N [ARGS...]: scripts/pipeline napi-2w on the committed capture N (a
# prefix), output in $tmp/out, status in st.
pipe() {
  local n=$1; shift
  rm -f "$tmp/ran"
  "$repo/scripts/pipeline" napi-2w --trace "$n" --calibration "$tmp/cal.json" --out "$tmp/o" "$@" >"$tmp/out" 2>&1
  st=$?
}

# 1. Which tunsim.
pipe "$ref/napi-2w"
[ $st -eq 0 ] || fail "pipeline exited $st: $(tail -n3 "$tmp/out")"
grep -qx "pipeline: tunsim $repo/build/tunsim (this checkout's build)" "$tmp/out" ||
  fail "no line naming this checkout's build: $(grep '^pipeline: tunsim' "$tmp/out")"
[ "$(sort -u "$tmp/ran")" = build ] || fail "tunsims that ran: $(sort -u "$tmp/ran" | paste -sd' ')"
TUNSIM=$tmp/env-tunsim pipe "$ref/napi-2w"
[ $st -eq 0 ] && [ "$(sort -u "$tmp/ran")" = env ] && grep -qx "pipeline: tunsim $tmp/env-tunsim (\$TUNSIM)" "$tmp/out" ||
  fail "\$TUNSIM: status $st, ran $(sort -u "$tmp/ran" | paste -sd' '), $(grep '^pipeline: tunsim' "$tmp/out")"
TUNSIM=$tmp/path/tunsim pipe "$ref/napi-2w" --tunsim "$tmp/env-tunsim"
[ $st -eq 0 ] && [ "$(sort -u "$tmp/ran")" = env ] && grep -qx "pipeline: tunsim $tmp/env-tunsim (--tunsim)" "$tmp/out" ||
  fail "--tunsim: status $st, ran $(sort -u "$tmp/ran" 2>/dev/null | paste -sd' '), $(grep '^pipeline: tunsim' "$tmp/out")"
mv "$repo/build/tunsim" "$tmp/built"
pipe "$ref/napi-2w"
[ $st -eq 2 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && [ ! -e "$tmp/ran" ] &&
  grep -qx "pipeline: no tunsim binary at $repo/build/tunsim (this checkout's build): build it, or pass --tunsim BIN / set TUNSIM; the tunsim on PATH, $tmp/path/tunsim, runs only when named: --tunsim $tmp/path/tunsim" "$tmp/out" ||
  fail "no build: status $st, $(cat "$tmp/out")"
mv "$tmp/built" "$repo/build/tunsim"

# 2. The host verdict.
pipe "$ref/napi-2w"
grep -qx "pipeline: host as calibrated: yes" "$tmp/out" || fail "napi-2w: $(grep 'host as' "$tmp/out")"
grep -q "^pipeline: results in $tmp/o (diff status 0; host as calibrated: yes)$" "$tmp/out" ||
  fail "napi-2w's last line: $(tail -n1 "$tmp/out")"
mkdir "$tmp/lost"
cp "$ref/napi-2w.trace.gz" "$tmp/lost/"
/usr/bin/python3 - "$ref/napi-2w.json" "$tmp/lost/napi-2w.json" <<'PY' || fail "editing the sidecar"
import json, sys
d = json.load(open(sys.argv[1]))
d["lost_events"] = 5
json.dump(d, open(sys.argv[2], "w"))
PY
pipe "$tmp/lost/napi-2w"
grep -qx "pipeline: host as calibrated: no: 5 trace events lost" "$tmp/out" ||
  fail "5 events lost: $(grep 'host as' "$tmp/out")"
tail -n1 "$tmp/out" | grep -q "; host as calibrated: no)$" || fail "5 events lost, last line: $(tail -n1 "$tmp/out")"

# 3. One --count a capture (the fake capture-trace writes no trace, so the
# calibration step then fails: only the commands matter here).
rm -f "$tmp/captures"
"$repo/scripts/pipeline" napi-2w --trace "$ref/napi-2w" --out "$tmp/o3" >"$tmp/out" 2>&1
[ "$(wc -l <"$tmp/captures")" -eq 2 ] || fail "capture-trace ran $(wc -l <"$tmp/captures") times: $(cat "$tmp/captures")"
napi=30000
command -v perf >/dev/null || napi=3000
for c in "plain --count 3000" "napi --count $napi"; do
  line=$(grep -- "--mode ${c%% *}" "$tmp/captures")
  [ "$(grep -o -- "--count [0-9]*" <<<"$line")" = "--count ${c##* }" ] || fail "the ${c%% *} capture: $line"
  printed=$(grep "^+ .*capture-trace.* --mode ${c%% *}" "$tmp/out")
  [ "$(grep -o -- "--count [0-9]*" <<<"$printed")" = "--count ${c##* }" ] || fail "printed: $printed"
done
echo "PASS: scripts/pipeline"
