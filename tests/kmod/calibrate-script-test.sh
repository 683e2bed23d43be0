#!/usr/bin/env bash
# Checks that scripts/kmod-calibrate names each missing prerequisite and exits
# with the status its --help documents.  The checks' input paths are pointed
# at stand-ins so that every diagnosis is reached on any machine; nothing is
# loaded or mounted (the script mounts debugfs only after a successful build).
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
fi
[ "$failures" -eq 0 ] || { echo "FAIL: $failures check(s) failed" >&2; exit 1; }
echo PASS
