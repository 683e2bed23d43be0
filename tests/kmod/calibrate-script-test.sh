#!/usr/bin/env bash
# Checks that scripts/kmod-calibrate names each missing prerequisite and exits
# with the status its --help documents.  The checks' input paths are pointed
# at stand-ins so that every diagnosis is reached on any machine, and insmod,
# rmmod and dmesg are replaced by stand-ins to check how the script maps each
# insmod failure and how it writes a result; nothing is loaded or mounted.
# exit: 0 pass, 1 fail
set -uo pipefail
cd "$(dirname "$0")/../.."
script=scripts/kmod-calibrate
tmp=$(mktemp -d /tmp/tunsim-kmod-script.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS TEXT -- ENV... COMMAND-ARGS: runs the script, checks the status
# and that its output contains TEXT.
expect() {
  local want=$1 text=$2; shift 3
  local envs=()
  while [ "$#" -gt 0 ] && [[ "$1" == TUNSIM_* ]]; do envs+=("$1"); shift; done
  env "${envs[@]}" "$script" "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ] || ! grep -qF -- "$text" "$tmp/out"; then
    echo "FAIL: ${envs[*]} $script $* -> status $got (want $want), output:" >&2
    sed 's/^/  | /' "$tmp/out" >&2
    echo "  (wanted the text: $text)" >&2
    failures=$((failures + 1))
  else
    echo "ok: status $want: $text"
  fi
}

expect 0 "exit status:" -- --help
for s in 3 4 5 6 7; do
  grep -qE "^  $s  " <("$script" --help) || { echo "FAIL: --help does not document status $s" >&2; failures=$((failures + 1)); }
done
expect 2 "unknown argument '--bogus'" -- --bogus
expect 2 "may only use" -- --name 'a/b'
# Without /proc/modules the kernel cannot load modules: 4, before anything else.
expect 4 "has no loadable module support" -- TUNSIM_KMOD_PROC_MODULES=/nonexistent
echo 1 >"$tmp/disabled"
expect 5 "kernel.modules_disabled=1" -- TUNSIM_KMOD_PROC_MODULES=/dev/null TUNSIM_KMOD_MODULES_DISABLED="$tmp/disabled"
if [ "$(id -u)" -ne 0 ]; then
  expect 5 "needs root" -- TUNSIM_KMOD_PROC_MODULES=/dev/null TUNSIM_KMOD_MODULES_DISABLED=/dev/null
else
  expect 3 "no kernel build directory at $tmp/nokdir" -- TUNSIM_KMOD_PROC_MODULES=/dev/null \
    TUNSIM_KMOD_MODULES_DISABLED=/dev/null --kdir "$tmp/nokdir"
  mkdir "$tmp/kdir"
  printf 'modules:\n\t@echo "this kernel tree cannot build modules" >&2; exit 2\n' >"$tmp/kdir/Makefile"
  expect 6 "has no debugfs" -- TUNSIM_KMOD_PROC_MODULES=/dev/null TUNSIM_KMOD_MODULES_DISABLED=/dev/null \
    TUNSIM_KMOD_PROC_FILESYSTEMS=/dev/null --kdir "$tmp/kdir"
  printf 'nodev\tdebugfs\n' >"$tmp/filesystems"
  expect 7 "does not build against $tmp/kdir" -- TUNSIM_KMOD_PROC_MODULES=/dev/null \
    TUNSIM_KMOD_MODULES_DISABLED=/dev/null TUNSIM_KMOD_PROC_FILESYSTEMS="$tmp/filesystems" --kdir "$tmp/kdir"

  # From here the module "loads": a stand-in kernel tree whose build makes an
  # empty tunsim_calib.ko, and stand-in insmod/rmmod/dmesg first in PATH that
  # publish a result in a stand-in debugfs or fail as the kernel would.
  mkdir -p "$tmp/fakekdir" "$tmp/bin" "$tmp/debugfs"
  printf 'modules:\n\t@touch $(M)/tunsim_calib.ko\n' >"$tmp/fakekdir/Makefile"
  cat >"$tmp/bin/insmod" <<'FAKE'
#!/bin/sh
echo "$*" >>"$FAKE_LOG.insmod"
case "$FAKE_INSMOD" in
  ok) mkdir -p "$TUNSIM_KMOD_DEBUGFS/tunsim_calib" && cp "$FAKE_RESULT" "$TUNSIM_KMOD_DEBUGFS/tunsim_calib/result.json" ;;
  enosys) echo "insmod: ERROR: could not insert module $1: Function not implemented" >&2; exit 1 ;;
  eperm) echo "insmod: ERROR: could not insert module $1: Operation not permitted" >&2; exit 1 ;;
  ekey) echo "insmod: ERROR: could not insert module $1: Key was rejected by service" >&2; exit 1 ;;
  einval) echo "insmod: ERROR: could not insert module $1: Invalid parameters" >&2; exit 1 ;;
  enodev) echo "insmod: ERROR: could not insert module $1: No such device" >&2; exit 1 ;;
  enoexec) echo "insmod: ERROR: could not insert module $1: Invalid module format" >&2; exit 1 ;;
esac
FAKE
  cat >"$tmp/bin/rmmod" <<'FAKE'
#!/bin/sh
echo "$*" >>"$FAKE_LOG.rmmod"
rm -rf "$TUNSIM_KMOD_DEBUGFS/tunsim_calib"
FAKE
  printf '#!/bin/sh\necho "[ 1.0] tunsim_calib: iterations=0 out of range 1..10000"\n' >"$tmp/bin/dmesg"
  printf '#!/bin/sh\necho "$*" >"$FAKE_LOG.tunsim"\n' >"$tmp/bin/tunsim"
  chmod +x "$tmp/bin/"*
  export FAKE_LOG=$tmp/log PATH="$tmp/bin:$PATH" FAKE_RESULT=$tmp/result.json
  cp results/reference/kmod-qemu.json "$tmp/result.json"
  loaded=(TUNSIM_KMOD_PROC_MODULES=/dev/null TUNSIM_KMOD_MODULES_DISABLED=/dev/null
          TUNSIM_KMOD_PROC_FILESYSTEMS="$tmp/filesystems" TUNSIM_KMOD_DEBUGFS="$tmp/debugfs")
  for c in "enosys 4 Function not implemented" "eperm 5 module signature enforcement or lockdown" \
           "ekey 5 Key was rejected" "einval 2 iterations=0 out of range" \
           "enodev 6 could not create its debugfs directory" "enoexec 1 Invalid module format"; do
    set -- $c
    FAKE_INSMOD=$1 expect "$2" "${c#* * }" -- "${loaded[@]}" --kdir "$tmp/fakekdir" -o "$tmp/out.json"
  done
  [ ! -e "$tmp/out.json" ] || { echo "FAIL: output written although insmod failed" >&2; failures=$((failures + 1)); }

  # Success: parameters passed through, the result copied with the chosen
  # name, the module unloaded, and --fit runs tunsim calibrate --kmod.
  rm -f "$tmp/log".*
  FAKE_INSMOD=ok expect 0 "wrote $tmp/out.json" -- "${loaded[@]}" --kdir "$tmp/fakekdir" \
    -o "$tmp/out.json" --name lab1 iterations=7
  if ! /usr/bin/python3 - "$tmp/out.json" "$tmp/result.json" <<'PY'
import json, sys
out, ref = (json.load(open(p)) for p in sys.argv[1:])
assert out["name"] == "lab1", out["name"]
ref["name"] = "lab1"
assert out == ref, "the written calibration differs from the module's output beyond the name"
PY
  then echo "FAIL: $tmp/out.json is not the module's output renamed to lab1" >&2; failures=$((failures + 1)); fi
  grep -q "tunsim_calib.ko iterations=7$" "$tmp/log.insmod" || { echo "FAIL: insmod did not get iterations=7" >&2; failures=$((failures + 1)); }
  [ "$(cat "$tmp/log.rmmod" 2>/dev/null)" = "tunsim_calib" ] || { echo "FAIL: the module was not unloaded exactly once" >&2; failures=$((failures + 1)); }
  [ ! -e "$tmp/debugfs/tunsim_calib" ] || { echo "FAIL: result left in debugfs" >&2; failures=$((failures + 1)); }
  grep -q "hypervisor" "$tmp/out" || { echo "FAIL: no warning that the result was measured under a hypervisor" >&2; failures=$((failures + 1)); }

  FAKE_INSMOD=ok TUNSIM="$tmp/bin/tunsim" expect 0 "wrote $tmp/out.json" -- "${loaded[@]}" \
    --kdir "$tmp/fakekdir" -o "$tmp/out.json" --fit
  [ "$(cat "$tmp/log.tunsim" 2>/dev/null)" = "calibrate --kmod $tmp/out.json -o $tmp/out-fit.json" ] ||
    { echo "FAIL: --fit did not run tunsim calibrate --kmod $tmp/out.json -o $tmp/out-fit.json" >&2; failures=$((failures + 1)); }

  # A result that is not a calibration: status 1, nothing written, unloaded.
  echo '{"format": "something else"}' >"$tmp/result.json"
  rm -f "$tmp/out.json" "$tmp/log".*
  FAKE_INSMOD=ok expect 1 "nothing written" -- "${loaded[@]}" --kdir "$tmp/fakekdir" -o "$tmp/out.json"
  [ ! -e "$tmp/out.json" ] || { echo "FAIL: an invalid result was written" >&2; failures=$((failures + 1)); }
  [ "$(cat "$tmp/log.rmmod" 2>/dev/null)" = "tunsim_calib" ] || { echo "FAIL: not unloaded after an invalid result" >&2; failures=$((failures + 1)); }
fi
[ "$failures" -eq 0 ] || { echo "FAIL: $failures check(s) failed" >&2; exit 1; }
echo PASS
