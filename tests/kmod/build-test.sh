#!/usr/bin/env bash
# Builds kmod/tunsim_calib.ko with warnings as errors against the installed
# Debian linux-headers-amd64 (what CI does), and checks what was built.
# usage: tests/kmod/build-test.sh            (run from anywhere)
# env:   TUNSIM_KMOD_HEADERS  headers directory to use instead
# exit:  0 pass, 1 fail, 77 skipped (no headers installed; the reason is printed)
set -euo pipefail
cd "$(dirname "$0")/../.."

headers=${TUNSIM_KMOD_HEADERS:-}
if [ -z "$headers" ]; then
  # linux-headers-amd64 is a metapackage depending on linux-headers-<version>-amd64.
  dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | grep -o 'linux-headers-[^ ,]*-amd64' | head -n1 || true)
  [ -n "$dep" ] || { echo "SKIP: linux-headers-amd64 is not installed (apt-get install linux-headers-amd64)"; exit 77; }
  headers=/usr/src/$dep
fi
[ -f "$headers/Makefile" ] || { echo "SKIP: no kernel headers at $headers"; exit 77; }
kver=${headers##*/linux-headers-}

tmp=$(mktemp -d /tmp/tunsim-kmod-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp kmod/tunsim_calib.c kmod/Kbuild kmod/Makefile "$tmp/"
start=$(date +%s)
# Through kmod/Makefile, as a user would: KDIR and WERROR are its interface.
if ! make -C "$tmp" KDIR="$headers" WERROR=1 >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log" >&2
  echo "FAIL: the module does not build with -Werror against $headers" >&2
  exit 1
fi
# -Werror covers the compiler; modpost and the linker only warn.
if grep -i "warning" "$tmp/build.log" | grep -v "Skipping BTF generation"; then
  echo "FAIL: the build printed the warnings above" >&2
  exit 1
fi
grep -q -- "-Werror" "$tmp/.tunsim_calib.o.cmd" || { echo "FAIL: WERROR=1 did not reach the compiler" >&2; exit 1; }
ko=$tmp/tunsim_calib.ko
[ -f "$ko" ] || { echo "FAIL: no tunsim_calib.ko produced" >&2; exit 1; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(modinfo -F license "$ko")" = "GPL" ] || fail "license is not GPL (needed for the GPL-only symbols it uses)"
[ "$(modinfo -F vermagic "$ko" | awk '{print $1}')" = "$kver" ] || fail "vermagic is not $kver"
[ -z "$(modinfo -F depends "$ko")" ] || fail "depends on other modules: $(modinfo -F depends "$ko")"
for p in iterations batch_max pollute_bytes frame_sizes alloc_batch napi_iterations max_ms cpu; do
  modinfo -F parm "$ko" | grep -q "^$p:" || fail "module parameter $p missing"
done
echo "PASS: built against $headers with -Werror in $(( $(date +%s) - start ))s"
