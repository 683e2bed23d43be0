#!/usr/bin/env bash
# CI after the README's test command (docs/fuzzing.md): one build with
# Debian 12's clang 14 and -DTUNSIM_FUZZ=ON (ASan + UBSan + libFuzzer
# coverage), so that
#   1. clang 14 keeps building the whole tree (issue 14 item 9),
#   2. the test suite runs clean under ASan and UBSan (issue 13),
#   3. each fuzz harness runs FUZZ_SECONDS (default 30) and finds nothing.
# The build goes to BUILD_DIR (default build-clang-ci).  .ci/run runs all
# three (measured 2026-12-02: the build 1036 s user + 96 s system CPU, about
# 10 minutes on two idle cores; the suite and the fuzzers below).
# --build-only: only item 1, as an unoptimised build (a quick local check).
# Needs clang-14 and
# its libFuzzer (Debian: clang-14 libclang-rt-14-dev), installed here when
# missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${BUILD_DIR:-build-clang-ci}"
seconds="${FUZZ_SECONDS:-30}"
if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends clang-14 libclang-rt-14-dev
  else
    echo "clang-checks: clang-14 and libclang-rt-14-dev are not installed (apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 2
  fi
fi
if [ "${1:-}" = "--build-only" ]; then
  # What .ci/run does: clang 14 compiles the simulator, its tests and the
  # benchmark limit, unoptimised and without sanitizers (the quick check of
  # item 1); the sanitizer suite and the fuzzers are the full run below.
  CXX=clang++-14 CC=clang-14 cmake -S . -B "$build-O0" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O0 >/dev/null
  nice cmake --build "$build-O0" -j2
  echo "clang-checks: clang 14 builds the tree ($build-O0)"
  exit 0
fi
CXX=clang++-14 CC=clang-14 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNSIM_FUZZ=ON >/dev/null
nice cmake --build "$build" -j2
# The long end-to-end captures, the qemu module run and the machine
# measurements time the machine: left out here (they run in the README's
# command above).  So is sweep_interrupt: its resume simulates 2 x 60 s
# (about 8 s of CPU each in the release build), which under ASan exceeds
# its 180 s timeout on two shared cores.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$build" -j2 --output-on-failure -E "e2e|kmod_qemu|machine_|sweep_interrupt"
fuzz/run "$build" "$seconds"
