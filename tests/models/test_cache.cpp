// The cache cost model (models/cache/): set-associative levels with random
// placement, a line surviving while fewer than `ways` distinct lines landed
// in its set since its last use: miss fraction 1 - PoissonCDF(ways-1; D/S).
#include <doctest/doctest.h>

#include <cmath>

#include "models/cache/cache.hpp"

using namespace tunsim;

namespace {
// L1i 32 KiB 8-way, L1d 48 KiB 12-way (64 sets each), L2 1 MiB 8-way (2048
// sets), LLC 8 MiB 16-way; latencies in round numbers.
CacheParams params() {
  CacheParams p{};
  p.enabled = true;
  p.l1i = {32768, 8, 64, 0};
  p.l1d = {49152, 12, 64, 1};
  p.l2 = {1048576, 8, 64, 4};
  p.llc = {8388608, 16, 64, 15};
  p.memory_ns = 100;
  p.ifetch_l2_ns = 0.5;
  p.ifetch_llc_ns = 10;
  p.ifetch_memory_ns = 50;
  p.skb_bytes = 0;
  p.icache_bytes.fill(0);
  p.dcache_bytes.fill(0);
  p.icache_bytes[static_cast<size_t>(Path::Syscall)] = 1024;    // A: 16 lines
  p.icache_bytes[static_cast<size_t>(Path::Vhost)] = 16384;     // B: 256 lines
  p.icache_bytes[static_cast<size_t>(Path::TunGetUser)] = 8192;  // C: 128 lines
  return p;
}
}  // namespace

TEST_CASE("cache: the miss curve is 1 - PoissonCDF(ways - 1, x)") {
  // ways 1: 1 - e^-x; ways 2: 1 - e^-x (1 + x); at x = 1: 0.63212, 0.26424.
  MissCurve one, two;
  one.init(1);
  two.init(2);
  CHECK(one(1.0) == doctest::Approx(1 - std::exp(-1.0)).epsilon(1e-4));
  CHECK(two(1.0) == doctest::Approx(1 - 2 / std::exp(1.0)).epsilon(1e-4));
  CHECK(one(0) == 0);
  CHECK(one(1e6) == 1);
}

TEST_CASE("cache: a path's lines miss in proportion to the distinct lines since it last ran") {
  CacheParams p = params();
  CacheModel c(&p);
  CacheMisses m;
  const Path A = Path::Syscall, B = Path::Vhost;
  // First run: cold everywhere, each of A's 16 lines costs the memory fetch
  // (50 ns): 800 ns.
  CHECK(c.run_path(A, m) == doctest::Approx(16 * 50));
  // Back to back: each line has seen only half of A's own lines (8) since:
  // x = 8 / 64 sets; P[Poisson(0.125) >= 8] ~ 1e-13: nothing.
  CacheMisses m0;
  CHECK(c.run_path(A, m0) == doctest::Approx(0).epsilon(1e-9));
  // B (256 lines) ran in between: x = (256 + 8) / 64 = 4.125 in L1i (8
  // ways): P[Poisson(4.125) >= 8] = 0.058927, 16 lines -> 0.94284 misses
  // of 0.5 ns; L2 (x = 272/2048) keeps them.
  c.run_path(B, m);
  CacheMisses ma;
  double ns = c.run_path(A, ma);
  CHECK(ma.l1i == doctest::Approx(16 * 0.058927).epsilon(1e-3));
  CHECK(ma.l2 < 1e-9);
  CHECK(ns == doctest::Approx(ma.l1i * 0.5).epsilon(1e-6));
}

TEST_CASE("cache: misses grow smoothly with the footprint in between, no cliff") {
  // A 16-line path after another path of 0..64 KiB: the miss count rises
  // continuously; no 1 KiB step adds more than 0.6 of its 16 lines.
  double prev = 0, worst_step = 0;
  for (int kib = 0; kib <= 64; ++kib) {
    CacheParams p = params();
    p.icache_bytes[static_cast<size_t>(Path::Vhost)] = kib * 1024;
    CacheModel c(&p);
    CacheMisses m;
    c.run_path(Path::Syscall, m);
    c.run_path(Path::Vhost, m);
    CacheMisses ma;
    c.run_path(Path::Syscall, ma);
    CHECK(ma.l1i >= prev - 1e-12);
    worst_step = std::max(worst_step, ma.l1i - prev);
    prev = ma.l1i;
  }
  CHECK(worst_step < 0.6);
  CHECK(prev > 15);  // 64 KiB (two L1is) in between: almost every line misses
}

TEST_CASE("cache: an skb read again after more data than L1d holds is mostly cold") {
  // An skb of 576 bytes (9 lines) written, then 40 KiB (640 lines) of other
  // skbs: each of its lines saw 640 + 4.5 lines, x = 644.5 / 64 = 10.07 in
  // L1d (12 ways): P[Poisson(10.07) >= 12] = 0.31125 -> 2.8012 lines miss
  // L1d, 1 ns each extra (L2 hit 4 ns - L1d hit 1 ns = 3 ns).
  CacheParams p = params();
  CacheModel c(&p);
  auto mark = c.touch_data(576);
  CacheMisses m;
  CHECK(c.reread_data(mark, 576, m) == doctest::Approx(0).epsilon(1e-9));
  c.touch_data(40 * 1024);
  CacheMisses m2;
  double ns = c.reread_data(mark, 576, m2);
  CHECK(m2.l1d == doctest::Approx(2.8012).epsilon(1e-3));
  CHECK(ns == doctest::Approx(m2.l1d * 3).epsilon(1e-3));
  // Built on another CPU: every line comes from the LLC: 9 x (15 - 1) ns.
  CacheMisses m3;
  CHECK(c.reread_cold(576, m3) == doctest::Approx(9 * (15 - 1)));
}

TEST_CASE("cache model off: every path costs nothing extra") {
  CacheParams p = params();
  p.enabled = false;
  CacheModel c(&p);
  CacheMisses m;
  CHECK(c.run_path(Path::Syscall, m) == 0);
  CHECK(m.l1i == 0);
}
