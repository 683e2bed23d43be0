set -x
cd /work/main
scripts/capture-trace --mode plain --count 30000 --perf-paths --gzip -o /work/captures/zen4r2/plain-60
scripts/capture-trace --mode plain --frame-bytes 1500 --count 30000 --gzip -o /work/captures/zen4r2/plain-1500
scripts/capture-trace --mode napi --count 30000 --perf-paths --gzip -o /work/captures/zen4r2/napi-60
scripts/capture-trace --mode napi --threads 2 --cpus 0,1 --count 3000 --gzip -o /work/captures/zen4r2/napi-2w
scripts/capture-trace --mode napi --threads 4 --cpus 0,1 --count 3000 --gzip -o /work/captures/zen4r2/napi-4w
scripts/capture-trace --mode napi --threaded --napi-cpu 0 --count 30000 --gzip -o /work/captures/zen4r2/threaded-same
scripts/capture-trace --mode napi --threaded --napi-cpu 1 --count 30000 --gzip -o /work/captures/zen4r2/threaded-other
scripts/capture-trace --mode plain --bridge --count 30000 --gzip -o /work/captures/zen4r2/bridge-60
echo done
