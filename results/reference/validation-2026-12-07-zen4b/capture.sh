set -x
cd /work/main
scripts/capture-trace --mode plain --count 30000 --perf-paths --gzip -o results/reference/validation-2026-12-07-zen4b/plain-60
scripts/capture-trace --mode plain --frame-bytes 1500 --count 30000 --gzip -o results/reference/validation-2026-12-07-zen4b/plain-1500
scripts/capture-trace --mode napi --count 30000 --perf-paths --gzip -o results/reference/validation-2026-12-07-zen4b/napi-60
scripts/capture-trace --mode napi --threads 2 --cpus 0,1 --count 3000 --gzip -o results/reference/validation-2026-12-07-zen4b/napi-2w
scripts/capture-trace --mode napi --threads 4 --cpus 0,1 --count 3000 --gzip -o results/reference/validation-2026-12-07-zen4b/napi-4w
scripts/capture-trace --mode napi --threaded --napi-cpu 0 --count 30000 --gzip -o results/reference/validation-2026-12-07-zen4b/threaded-same
scripts/capture-trace --mode napi --threaded --napi-cpu 1 --count 30000 --gzip -o results/reference/validation-2026-12-07-zen4b/threaded-other
scripts/capture-trace --mode plain --bridge --count 30000 --gzip -o results/reference/validation-2026-12-07-zen4b/bridge-60
echo done
