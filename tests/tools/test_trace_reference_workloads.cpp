// `trace stats` and `trace config` on the committed captures of the workloads
// that batch on a stock kernel (issue 12 item 8; results/reference/, commands
// in docs/traces.md): four writers on two CPUs, and threaded NAPI with its
// kthread on the writer's CPU or on the other.  Each assertion follows from
// what the 6.18 kernel does for the workload in the sidecar, not from the
// numbers of one run.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "models/trace/metrics.hpp"
#include "sim/io/files.hpp"
#include "sim/tools/trace/stats.hpp"
#include "tests/cli/cli_util.hpp"

using namespace tunsim;
using namespace tunsim::trace;
using nlohmann::json;

namespace {

struct Ref {
  json side;
  TraceMetrics m;
};

Ref load(const std::string& name) {
  std::string dir = "results/reference/";
  json side = json::parse(read_file(dir + name + ".json"));
  REQUIRE(side["format"] == "tunsim-capture/1");
  ParseReport rep;
  TraceMetrics m = metrics_from_trace_file(dir + side["trace_file"].get<std::string>(), {}, false, &rep);
  CHECK(m.dev() == side["dev"].get<std::string>());
  CHECK(rep.skipped == 0);  // the sched_switch/sched_wakeup lines parse too
  CHECK(rep.lost_events == 0);
  CHECK(side["lost_events"] == 0);
  // Every write() returned the full frame (capture-trace fails otherwise).
  CHECK(side["frames_written"].get<uint64_t>() ==
        side["count_per_thread"].get<uint64_t>() * side["threads"].size());
  return Ref{side, m};
}

// Threaded NAPI: ____napi_schedule wakes the kthread instead of raising
// NET_RX, and napi_threaded_poll calls the poll with the NAPI weight, 64
// (tun's netif_napi_add_tx: NAPI_POLL_WEIGHT), from the kthread's own CPU.
void check_threaded(const Ref& r, int napi_cpu) {
  uint64_t n = r.side["frames_written"].get<uint64_t>();
  REQUIRE(r.side["threaded"] == true);
  CHECK(r.side["napi_thread"]["cpu"] == napi_cpu);
  CHECK(r.side["napi_thread"]["comm"].get<std::string>().rfind("napi/" + r.side["dev"].get<std::string>(), 0) == 0);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
  CHECK(r.m.softirq_net_rx_ns().count() == 0);  // no NET_RX softirq at all
  CHECK(r.m.packets_per_softirq().count() == 0);
  CHECK(r.m.napi_poll_work().sum() == doctest::Approx(static_cast<double>(n)));
  CHECK(r.m.napi_poll_work().max() <= 64);
  // Every packet is delivered on the kthread's CPU, every write() is on CPU 0.
  CHECK(r.m.per_cpu().at(napi_cpu).packets == n);
  CHECK(r.m.per_cpu().at(0).writes == n);
}

}  // namespace

TEST_CASE("reference napi 60-byte, 4 writers on CPUs 0 and 1 sharing one queue") {
  Ref r = load("napi-60-4w");
  uint64_t n = r.side["frames_written"].get<uint64_t>();
  REQUIRE(r.side["threads"].size() == 4);
  // capture-trace --threads 4 --cpus 0,1: thread i on CPU i mod 2.
  for (size_t i = 0; i < 4; ++i) CHECK(r.side["threads"][i]["cpu"] == static_cast<int>(i % 2));
  CHECK(r.side["threaded"] == false);
  CHECK(r.m.packets() == n);
  CHECK(r.m.write_ns().count() == n);
  // Two writers on each CPU, each its own count.
  uint64_t per = r.side["count_per_thread"].get<uint64_t>();
  CHECK(r.m.per_cpu().at(0).writes == 2 * per);
  CHECK(r.m.per_cpu().at(1).writes == 2 * per);
  CHECK(r.m.napi_poll_work().sum() == doctest::Approx(static_cast<double>(n)));
  CHECK(r.m.per_cpu().at(0).packets + r.m.per_cpu().at(1).packets == n);
  // Polled in NET_RX (not threaded): softirqs exist, and a poll never
  // exceeds the NAPI weight.
  CHECK(r.m.softirq_net_rx_ns().count() > 0);
  CHECK(r.m.napi_poll_work().max() <= 64);
  CHECK(r.m.drops().at("UNHANDLED_PROTO") == n);
}

TEST_CASE("reference threaded NAPI, kthread on the writer's CPU 0") {
  Ref r = load("napi-60-threaded-same");
  check_threaded(r, 0);
}

TEST_CASE("reference threaded NAPI, writer on CPU 0, kthread on CPU 1") {
  Ref r = load("napi-60-threaded-other");
  check_threaded(r, 1);
  CHECK(r.m.per_cpu().at(0).packets == 0);  // CPU 0 only writes
}

TEST_CASE("trace config: the scenarios of the batching workloads validate and match the capture") {
  std::string d = testutil::tmpdir();
  for (const char* name : {"napi-60-4w", "napi-60-threaded-same", "napi-60-threaded-other"}) {
    std::string out = d + "/" + name + ".scenario.json";
    testutil::Run r =
        testutil::run_cli(std::string("trace config results/reference/") + name + ".json --calibration reference -o " + out);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    testutil::Run v = testutil::run_cli("validate " + out);
    CHECK_MESSAGE(v.status == 0, name, v.err);
    json s = json::parse(read_file(out));
    json side = json::parse(read_file(std::string("results/reference/") + name + ".json"));
    CHECK(s["design"] == "napi_gro");
    REQUIRE(s["senders"].size() == side["threads"].size());
    if (side["threaded"] == true) {
      CHECK(s["tun"]["threaded"] == true);
      CHECK(s["tun"]["napi_thread_cpu"] == side["napi_thread"]["cpu"]);
    } else {
      CHECK_FALSE(s.contains("tun"));
    }
    // Two CPUs in use and a trusted line transfer: the capture's own value,
    // half of linexfer's handoff (these captures predate remotermw's
    // line_move_ns).
    bool two = std::string(name) != "napi-60-threaded-same";
    CHECK_FALSE(side.contains("line_move_ns"));
    if (two && side.contains("line_transfer_ns"))
      CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() ==
            doctest::Approx(side["line_transfer_ns"].get<double>() / 2).epsilon(1e-3));
    if (!two) CHECK_FALSE(s.contains("costs"));
  }
}
