// The benchmark's hand-written limit (bench/limit/limit.cpp) is the default
// scenario without SimGrid: its results must equal the simulator's with the
// cache model off, constant costs (costs.spread.* empty) and no stolen time
// (cpus.stall.ns empty), or the ratio of their speeds would compare different work.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;

TEST_CASE("bench limit: the hand-written loop gives the simulator's results, cache model off") {
  // 20 ms (the default) and 50 ms, which passes VHOST_NET_WEIGHT (7282
  // frames of 60 bytes) several times: delivered packets, the window's
  // count and throughput, and the whole latency histogram, bin for bin.
  for (const char* ms : {"20", "50"}) {
    CAPTURE(ms);
    std::string out = testutil::tmpdir() + "/lim-sim.json";
    testutil::Run r = testutil::run_cli(std::string("run configs/default.json --set cache.enabled=false --set senders.0.guest.burst_phase=0 "
                                                    "--set costs.spread.process=[] --set costs.spread.softirq=[] --set cpus.stall.ns=[] "
                                                    "--set duration_ms=") +
                                        ms + " -q -o " + out);
    REQUIRE(r.status == 0);
    json sim = json::parse(tunsim::read_file(out));
    FILE* p = ::popen((std::string(TUNSIM_LIMIT_BIN) + " " + ms).c_str(), "r");
    REQUIRE(p != nullptr);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    REQUIRE(::pclose(p) == 0);
    json lim = json::parse(text);
    CHECK(lim["delivered"] == sim["packets"]["delivered"]);
    CHECK(lim["delivered_in_window"] == sim["packets"]["delivered_in_window"]);
    CHECK(lim["throughput_mpps"] == sim["throughput_mpps"]);
    CHECK(lim["latency_ns"] == sim["latency_ns"]);
  }
}
