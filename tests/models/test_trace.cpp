// The trace metrics (models/trace/metrics): one definition for kernel traces,
// simulated traces and the summary.
#include <doctest/doctest.h>

#include "models/trace/metrics.hpp"

using namespace tunsim;

namespace {
TraceEvent rx(int64_t ts, int cpu, uint64_t skb) {
  TraceEvent e;
  e.type = EventType::NetifReceiveSkb;
  e.ts_ns = ts;
  e.cpu = cpu;
  e.dev = "tap0";
  e.skbaddr = skb;
  e.len = 46;
  return e;
}
}  // namespace

TEST_CASE("TraceMetrics: inter-arrivals of events that arrive out of order are those of the sorted times") {
  // Two CPUs' receives at 100, 150, 200, 260 ns, added CPU by CPU (100, 200
  // then 150, 260) as per-CPU buffers would give them: the gaps are those of
  // the merged order, 50, 50, 60.
  TraceMetrics m(MetricsOptions{"tap0", {}, {}, 1});
  m.add(rx(100, 0, 1));
  m.add(rx(200, 0, 2));
  m.add(rx(150, 1, 3));
  m.add(rx(260, 1, 4));
  m.finish();
  CHECK(m.packets() == 4);
  CHECK(m.interarrival_ns().count() == 3);
  CHECK(m.interarrival_ns().sum() == 160);
  CHECK(m.duration_s() == doctest::Approx(160e-9));
  CHECK(m.out_of_order() == 0);
}

TEST_CASE("TraceMetrics: the reorder window releases its oldest time once full, a time older than a released one counts as out of order") {
  // W = kReorderWindow receives at 1000, 2000, ..., (W + 1) * 1000 ns: the
  // (W + 1)-th fills the window past W and releases 1000.  A late 1500 still
  // sorts before everything held (2000 on) and is released at once (gap
  // 500).  A later 1200 is older than the released 1500: out of order, taken
  // as 1500 (gap 0).  finish() releases the W held: 2000 (gap 500), then W - 1
  // gaps of 1000.  Gaps: W + 2 of them, summing to 1000 W.
  const int64_t w = static_cast<int64_t>(TraceMetrics::kReorderWindow);
  TraceMetrics m(MetricsOptions{"tap0", {}, {}, 1});
  for (int64_t i = 1; i <= w + 1; ++i) m.add(rx(1000 * i, 0, static_cast<uint64_t>(i)));
  CHECK(m.interarrival_ns().count() == 0);
  m.add(rx(1500, 1, 1));
  CHECK(m.interarrival_ns().count() == 1);
  CHECK(m.interarrival_ns().sum() == 500);
  m.add(rx(1200, 1, 2));
  CHECK(m.out_of_order() == 1);
  m.finish();
  CHECK(m.packets() == static_cast<uint64_t>(w + 3));
  CHECK(m.interarrival_ns().count() == static_cast<uint64_t>(w + 2));
  CHECK(m.interarrival_ns().sum() == doctest::Approx(1000.0 * static_cast<double>(w)));
  CHECK(m.interarrival_ns().min() == 0);
}

namespace {
double g_mark_s = 0;
double mark() { return g_mark_s; }
}  // namespace

TEST_CASE("TraceMetrics: a watermark (the simulator's engine clock) releases the window's times before it") {
  // 3000 receives at 1, 2, ..., 3000 us with the mark at 1.5 ms: asked at
  // the 1024th and 2048th receive, it releases the times strictly before
  // 1500 us, 1499 of them: 1498 gaps of 1000 ns.  Nothing is released
  // without a mark until the window (kReorderWindow) fills.  After finish()
  // both have the same 2999 gaps: the same times leave in the same order.
  TraceMetrics with(MetricsOptions{"tap0", {}, {}, 1}), without(MetricsOptions{"tap0", {}, {}, 1});
  g_mark_s = 1.5e-3;
  with.set_watermark(mark);
  for (int64_t i = 1; i <= 3000; ++i) {
    with.add(rx(1000 * i, 0, static_cast<uint64_t>(i)));
    without.add(rx(1000 * i, 0, static_cast<uint64_t>(i)));
  }
  CHECK(with.interarrival_ns().count() == 1498);
  CHECK(with.interarrival_ns().sum() == 1498000);
  CHECK(without.interarrival_ns().count() == 0);
  // A receive at the mark itself is not late: the mark is a bound, not a time passed.
  with.add(rx(1500000, 1, 9999));
  without.add(rx(1500000, 1, 9999));
  CHECK(with.out_of_order() == 0);
  with.finish();
  without.finish();
  CHECK(with.interarrival_ns().count() == 3000);
  CHECK(with.interarrival_ns().to_json() == without.interarrival_ns().to_json());
}

TEST_CASE("TraceMetrics: a kfree_skb counts as a drop of the workload when its skb was received") {
  // skb 7 received then freed: ours.  skb 9 never received and freed outside
  // any write(): another task's.  Addresses are reused, as slab memory is:
  // skb 7 received and freed again counts again.
  TraceMetrics m(MetricsOptions{"tap0", {}, {}, 1});
  TraceEvent f;
  f.type = EventType::KfreeSkb;
  f.cpu = 0;
  f.reason = "UNHANDLED_PROTO";
  m.add(rx(10, 0, 7));
  f.skbaddr = 7;
  m.add(f);
  f.skbaddr = 9;
  m.add(f);
  m.add(rx(20, 0, 7));
  f.skbaddr = 7;
  m.add(f);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 2);
  // Many distinct live skbs (a bridge never frees them on the tap): the set
  // grows and still finds each one.
  for (uint64_t a = 100; a < 5000; ++a) m.add(rx(static_cast<int64_t>(a), 0, a));
  f.skbaddr = 4321;
  m.add(f);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 3);
}

TEST_CASE("TraceMetrics: drops by reason stay apart when reasons alternate, and in a copy") {
  // kfree_skb remembers the reason it counted last (most frees share one);
  // a different reason must still go to its own entry, and a copy of the
  // metrics must count into its own map, not the original's.  Expected:
  // the counts of the frees each object saw, by hand.
  TraceMetrics m(MetricsOptions{"tap0", {}, {}, 1});
  TraceEvent f;
  f.type = EventType::KfreeSkb;
  f.cpu = 0;
  const char* reasons[] = {"UNHANDLED_PROTO", "UNHANDLED_PROTO", "SOCKET_RCVBUFF", "UNHANDLED_PROTO"};
  uint64_t a = 1;
  for (const char* r : reasons) {
    m.add(rx(static_cast<int64_t>(a), 0, a));
    f.skbaddr = a++;
    f.reason = r;
    m.add(f);
  }
  CHECK(m.drops().at("UNHANDLED_PROTO") == 3);
  CHECK(m.drops().at("SOCKET_RCVBUFF") == 1);
  TraceMetrics copy = m;
  m.add(rx(static_cast<int64_t>(a), 0, a));
  copy.add(rx(static_cast<int64_t>(a), 0, a));
  f.skbaddr = a;
  f.reason = "UNHANDLED_PROTO";
  copy.add(f);
  CHECK(copy.drops().at("UNHANDLED_PROTO") == 4);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 3);
  m.add(f);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 4);
  CHECK(copy.drops().at("UNHANDLED_PROTO") == 4);
}

TEST_CASE("TraceMetrics: the simulator's received flag per skb slot counts drops as the address set does") {
  // models/trace/metrics.hpp, netif_receive_skb/kfree_skb with `bool& live`:
  // the simulator keeps, in each pool slot (one address for life), whether
  // that address is in the set of skbs received on the device and not freed
  // since.  The same events through the address set (add()) and through the
  // flags must count the same.  By hand: skb 7 received and freed (ours, 1);
  // 9 never received, freed outside a write() (not ours); 7 received again
  // and consumed without kfree_skb (stays in the set), then freed (ours
  // again, 2); 11 received on another device and freed (not ours); 12 freed
  // inside pid 5's write() (ours, 3).
  TraceMetrics by_addr(MetricsOptions{"tap0", {}, {}, 1});
  TraceMetrics by_flag(MetricsOptions{"tap0", {}, {}, 1});
  bool live[16] = {};  // the slots of addresses 0..15
  auto receive = [&](int64_t ts, uint64_t skb, const char* dev) {
    TraceEvent e = rx(ts, 0, skb);
    e.dev = dev;
    by_addr.add(e);
    by_flag.netif_receive_skb(0, by_flag.on_dev(dev), ts, live[skb]);
  };
  auto free_skb = [&](uint64_t skb, int pid) {
    TraceEvent f;
    f.type = EventType::KfreeSkb;
    f.cpu = 0;
    f.pid = pid;
    f.skbaddr = skb;
    f.reason = "UNHANDLED_PROTO";
    by_addr.add(f);
    by_flag.kfree_skb(0, pid, live[skb], "UNHANDLED_PROTO");
  };
  receive(10, 7, "tap0");
  free_skb(7, 1);
  free_skb(9, 1);
  receive(20, 7, "tap0");
  receive(30, 7, "tap0");  // the same address again, after a consume
  free_skb(7, 1);
  receive(40, 11, "tap1");
  free_skb(11, 1);
  TraceEvent enter;
  enter.type = EventType::SysEnter;
  enter.cpu = 0;
  enter.pid = 5;
  enter.comm = "writer";
  enter.nr = 1;
  enter.ts_ns = 50;
  by_addr.add(enter);
  by_flag.sys_enter(5, "writer", 1, 50);
  free_skb(12, 5);
  CHECK(by_addr.drops().at("UNHANDLED_PROTO") == 3);
  CHECK(by_flag.drops().at("UNHANDLED_PROTO") == 3);
  CHECK(by_flag.packets() == by_addr.packets());
  CHECK(by_flag.per_cpu().at(0).drops == 3);
  CHECK(live[7] == false);
  CHECK(live[11] == false);
}
