// The cache cost model (models/cache/): LRU at path granularity, on
// hand-computed cases.
#include <doctest/doctest.h>

#include "models/cache/cache.hpp"

using namespace tunsim;

namespace {
CacheParams small_cache() {
  CacheParams p;
  p.enabled = true;
  p.l1i = {32768, 64, 10};
  p.l1d = {32768, 64, 10};
  p.l2 = {1048576, 64, 100};
  p.skb_bytes = 0;
  p.icache_bytes.fill(0);
  p.dcache_bytes.fill(0);
  p.icache_bytes[static_cast<int>(Path::Syscall)] = 16384;    // A
  p.icache_bytes[static_cast<int>(Path::Vhost)] = 16384;      // B
  p.icache_bytes[static_cast<int>(Path::TunGetUser)] = 8192;  // C
  return p;
}
}  // namespace

TEST_CASE("cache model: LRU at path granularity, hand-computed misses") {
  CacheParams p = small_cache();
  CacheModel c(&p);
  CacheMisses m;
  const Path A = Path::Syscall, B = Path::Vhost, C = Path::TunGetUser;
  // First run: 16384/64 = 256 lines miss L1i and L2: 256*10 + 256*100.
  CHECK(c.run_path(A, m) == doctest::Approx(256 * 10 + 256 * 100));
  // Back to back: nothing touched in between, no miss.
  CHECK(c.run_path(A, m) == 0);
  // B (cold), then A: 16 KiB in between, 16 + 16 <= 32 KiB: still cached.
  c.run_path(B, m);
  CHECK(c.run_path(A, m) == 0);
  // B and C run since A: d = 16 + 8 = 24 KiB; (24 + 16 - 32) / 16 = 1/2 of
  // A's 256 lines miss L1i (128 * 10); L2 (1 MiB) keeps everything.
  c.run_path(B, m);
  c.run_path(C, m);
  CacheMisses ma;
  CHECK(c.run_path(A, ma) == doctest::Approx(128 * 10));
  CHECK(ma.l1i == doctest::Approx(128));
  CHECK(ma.l2 == 0);
  // Since B's last run, C and A ran: d = 8 + 16 = 24 KiB, half of B misses.
  CHECK(c.run_path(B, m) == doctest::Approx(128 * 10));
}

TEST_CASE("cache model: an skb queued behind more data than L1d holds is cold") {
  CacheParams p = small_cache();
  CacheModel c(&p);
  CacheMisses m;
  auto mark = c.touch_data(1024);
  // Re-read at once: warm.
  CHECK(c.reread_data(mark, 512, m) == 0);
  // 40 KiB of other skbs streamed since: (40 + 0.5 - 32) / 0.5 >= 1, all 8
  // lines miss L1d; L2 still holds them.
  c.touch_data(40 * 1024);
  CacheMisses m2;
  CHECK(c.reread_data(mark, 512, m2) == doctest::Approx(8 * 10));
  CHECK(m2.l1d == 8);
  CHECK(m2.l2 == 0);
  // Built on another CPU: every line misses both levels.
  CacheMisses m3;
  CHECK(c.reread_cold(512, m3) == doctest::Approx(8 * 10 + 8 * 100));
}

TEST_CASE("cache model off: every path costs nothing extra") {
  CacheParams p = small_cache();
  p.enabled = false;
  CacheModel c(&p);
  CacheMisses m;
  CHECK(c.run_path(Path::Syscall, m) == 0);
  CHECK(m.l1i == 0);
}
