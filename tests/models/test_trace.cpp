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
