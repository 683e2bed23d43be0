// `trace stats` on the committed reference traces (results/reference/,
// captured on a 6.18 kernel by scripts/capture-trace; commands in
// docs/traces.md).  Each assertion follows from what the kernel does for the
// workload in the sidecar (design notes: kernel-mechanisms.md
// sections 4 and 6), not from the numbers of one run.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/io/files.hpp"
#include "models/trace/metrics.hpp"
#include "sim/tools/trace/stats.hpp"

using namespace tunsim;
using namespace tunsim::trace;

namespace {

struct Ref {
  nlohmann::json side;
  TraceMetrics m;
  ParseReport rep;
};

Ref load(const std::string& name) {
  std::string dir = "results/reference/";
  nlohmann::json side = nlohmann::json::parse(read_file(dir + name + ".json"));
  REQUIRE(side["format"] == "tunsim-capture/1");
  ParseReport rep;
  // Default device selection (busiest) must find the sidecar's tap.
  TraceMetrics m = metrics_from_trace_file(dir + side["trace_file"].get<std::string>(), {}, false, &rep);
  CHECK(m.dev() == side["dev"].get<std::string>());
  CHECK(rep.skipped == 0);
  CHECK(rep.lost_events == 0);
  CHECK(side["lost_events"] == 0);
  return Ref{side, m, rep};
}

uint64_t frames(const Ref& r) {
  // Every write() returned the full frame (capture-trace fails otherwise), so
  // frames_written = count_per_thread * threads, and each was one write().
  uint64_t n = r.side["frames_written"].get<uint64_t>();
  CHECK(n == r.side["count_per_thread"].get<uint64_t>() * r.side["threads"].size());
  return n;
}

// Plain tap: tun_get_user delivers with netif_receive_skb in a bh-disabled
// section (tun_rx_batched, rx_batched = 0): no NAPI, no NET_RX softirq.
void check_plain_unhandled(const Ref& r) {
  uint64_t n = frames(r);
  CHECK(r.m.packets() == n);            // each frame received once on the tap
  CHECK(r.m.write_ns().count() == n);   // each frame one traced write()
  CHECK(r.m.napi_poll_work().count() == 0);
  CHECK(r.m.softirq_net_rx_ns().count() == 0);
  CHECK(r.m.packets_per_softirq().count() == 0);
  // EtherType 0x88B5 has no protocol handler: every frame is dropped so.
  REQUIRE(r.m.drops().size() == 1);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
  CHECK(r.m.interarrival_ns().count() == n - 1);
  CHECK(r.m.throughput_mpps() > 0);
}

}  // namespace

TEST_CASE("reference plain 60-byte, 1 writer (trace-cmd report, ns)") {
  Ref r = load("plain-60-1w");
  CHECK(r.side["trace_format"] == "trace-cmd report");
  check_plain_unhandled(r);
}

TEST_CASE("reference plain 1500-byte, 1 writer") {
  Ref r = load("plain-1500-1w");
  CHECK(r.side["frame_bytes"] == 1500);
  check_plain_unhandled(r);
}

TEST_CASE("reference plain 60-byte, tracefs text with microsecond timestamps") {
  Ref r = load("plain-60-1w-text");
  CHECK(r.side["trace_format"] == "ftrace trace");
  check_plain_unhandled(r);
  // Microsecond timestamps: every duration is a whole number of microseconds.
  for (auto& [i, c] : r.m.write_ns().bins()) {
    if (i == Dist::kZeroBin) continue;
    double lo = r.m.write_ns().bin_lo(i), hi = r.m.write_ns().bin_hi(i);
    // Each non-empty log bin holds a multiple of 1000 ns: some k*1000 in [lo, hi).
    CHECK(std::ceil(lo / 1000) * 1000 < hi);
  }
}

TEST_CASE("reference napi 60-byte, 1 writer: one poll of work 1 per write") {
  Ref r = load("napi-60-1w");
  uint64_t n = frames(r);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  // IFF_NAPI with plain write(): napi_schedule on every write, and the poll runs
  // in local_bh_enable before write() returns, so it finds exactly that frame.
  REQUIRE(r.m.napi_poll_work().count() == n);
  CHECK(r.m.napi_poll_work().min() == 1);
  CHECK(r.m.napi_poll_work().max() == 1);
  CHECK(r.m.softirq_net_rx_ns().count() == n);
  CHECK(r.m.packets_per_softirq().min() == 1);
  CHECK(r.m.packets_per_softirq().max() == 1);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
  // The softirq runs inside the write(): its median is below write()'s.
  CHECK(r.m.softirq_net_rx_ns().quantile(0.5) < r.m.write_ns().quantile(0.5));
}

TEST_CASE("reference napi 60-byte, 1 writer, perf script") {
  Ref r = load("napi-60-1w-perf");
  CHECK(r.side["trace_format"] == "perf script");
  uint64_t n = frames(r);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  CHECK(r.m.napi_poll_work().count() == n);
  CHECK(r.m.napi_poll_work().max() == 1);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
}

TEST_CASE("reference napi 60-byte, 2 writers on CPUs 0 and 1 sharing one queue") {
  Ref r = load("napi-60-2w");
  uint64_t n = frames(r);
  REQUIRE(r.side["threads"].size() == 2);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  // Each CPU's writer did its own count of write() calls.
  for (const auto& t : r.side["threads"]) {
    int cpu = t["cpu"].get<int>();
    CHECK(r.m.per_cpu().at(cpu).writes == r.side["count_per_thread"].get<uint64_t>());
  }
  // Every frame is delivered by some napi poll on the tap: the works add up.
  CHECK(r.m.napi_poll_work().sum() == doctest::Approx(static_cast<double>(n)));
  // Shared queue: while one CPU polls, the other's napi_schedule is a no-op and
  // its frame is taken by that poll, so some softirqs deliver more than one
  // frame, and there are fewer polls than frames.
  CHECK(r.m.packets_per_softirq().max() > 1);
  CHECK(r.m.napi_poll_work().count() < n);
  CHECK(r.m.per_cpu().at(0).packets + r.m.per_cpu().at(1).packets == n);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
}

TEST_CASE("reference bridge forwarding, plain tap, 1 writer") {
  Ref r = load("bridge-plain-60-1w");
  CHECK(r.side["bridge"] == true);
  uint64_t n = frames(r);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  // Forwarded to the peer tap, whose queue (txqueuelen sized above the count)
  // holds them: nothing is dropped, and the plain tap runs no softirq.
  CHECK(r.m.drops().empty());
  CHECK(r.m.softirq_net_rx_ns().count() == 0);
  CHECK(r.m.napi_poll_work().count() == 0);
}
