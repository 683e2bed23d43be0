// The cache model, CFS and the streaming distribution, on hand-computed cases.
#include <doctest/doctest.h>

#include "models/cache/cache.hpp"
#include "models/sched/cfs.hpp"
#include "sim/config.hpp"
#include "sim/stats/dist.hpp"

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

TEST_CASE("CFS: a woken thread preempts when its vruntime lags by more than the wakeup granularity") {
  LoadedConfig cfg = build_config({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}, "t", ".");
  Kernel k(cfg.params);
  // One CPU: latency 6 ms, min granularity 0.75 ms, wakeup granularity 1 ms.
  CHECK(k.p.kernel.sched_latency_ns == 6e6);
  CHECK(k.p.kernel.sched_wakeup_granularity_ns == 1e6);
  Thread* a = k.add_thread("vhost", 0, false);
  Thread* ks = k.add_thread("ksoftirqd/0", 0, true);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(cpu, a, 0);
  // a runs 0.5 ms: ksoftirqd (vruntime 0) is placed at max(0, min_vruntime -
  // 3 ms) = 0; gap 0.5 ms < 1 ms: no preemption.
  sched_wakeup(k, cpu, ks, 0.0005);
  CHECK_FALSE(cpu.need_resched);
  ks->state = Thread::State::Sleeping;
  // At 2 ms the gap is 2 ms > 1 ms: need_resched.
  sched_wakeup(k, cpu, ks, 0.002);
  CHECK(cpu.need_resched);
  CHECK(sched_pick_next(cpu) == ks);
}

TEST_CASE("CFS: the tick preempts after the slice latency / nr_running") {
  LoadedConfig cfg = build_config({{"cpus", {{"count", 1}}}, {"senders", {{{"cpu", 0}}}}}, "t", ".");
  Kernel k(cfg.params);
  Thread* a = k.add_thread("writer", 0, false);
  Thread* b = k.add_thread("ksoftirqd/0", 0, true);
  Cpu& cpu = k.cpu(0);
  sched_switch_to(cpu, a, 0);
  b->state = Thread::State::Runnable;
  b->vruntime = 0;
  // Two runnable: slice = 6 ms / 2 = 3 ms.  At 2.9 ms a's vruntime leads b's
  // by 2.9 ms < 3 ms: no; at 3.1 ms delta_exec > 3 ms: preempt.
  sched_tick(k, cpu, 0.0029);
  CHECK_FALSE(cpu.need_resched);
  sched_tick(k, cpu, 0.0031);
  CHECK(cpu.need_resched);
}

TEST_CASE("Dist: exact integer quantiles, log bins holding their values, KS and Wasserstein") {
  Dist d(Dist::Kind::Integer);
  for (int i = 1; i <= 100; ++i) d.add(i);
  CHECK(d.quantile(0.5) == 50);
  CHECK(d.quantile(0.99) == 99);
  CHECK(d.mean() == doctest::Approx(50.5));
  CHECK(ks_statistic(d, d) == 0);
  Dist ten(Dist::Kind::Integer), twenty(Dist::Kind::Integer);
  ten.add(10, 5);
  twenty.add(20, 5);
  CHECK(ks_statistic(ten, twenty) == 1.0);
  // Moving all mass by 10 costs 10.
  CHECK(wasserstein(ten, twenty) == doctest::Approx(10));
  Dist l(Dist::Kind::Log);
  for (double v : {0.3, 1.0, 1.02, 999.0, 1e9, 12345.678}) {
    l.add(v);
    auto it = l.bins().begin();
    for (auto jt = l.bins().begin(); jt != l.bins().end(); ++jt)
      if (l.bin_lo(jt->first) <= v && v < l.bin_hi(jt->first)) it = jt;
    CHECK(l.bin_lo(it->first) <= v);
    CHECK(v < l.bin_hi(it->first));
    // 32 bins per octave: relative width 2^(1/32) - 1 = 2.19%.
    CHECK(l.bin_hi(it->first) / l.bin_lo(it->first) == doctest::Approx(std::exp2(1.0 / 32)));
  }
  // JSON round trip keeps every bin and count.
  Dist back = Dist::from_json(l.to_json(), "test");
  CHECK(back.count() == l.count());
  CHECK(back.bins() == l.bins());
  CHECK(back.quantile(0.5) == l.quantile(0.5));
}
