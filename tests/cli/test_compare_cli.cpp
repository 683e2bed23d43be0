// tunsim compare's table (issue 13 item 21): it says what "dropped" counts
// (the guest's full TX ring, not the kernel; kernel drops apart), shows what
// is in flight, counts everything over the window Mpps is measured in, fits
// 100 columns, and is also CSV and JSON with the same values as the
// summaries.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using testutil::Run;
using testutil::run_cli;
using testutil::tmpdir;

namespace {
// 5 ms of the default scenario: netif_rx_ni overloads the guest's ring
// (970 guest_ring_full drops in the summary), rx_batched does not.
const std::string kCmp = "compare configs/default.json --set duration_ms=5";

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}
}  // namespace

TEST_CASE("compare: the table fits 100 columns and its counts are the summaries' over the window") {
  std::string out = tmpdir() + "/cmp.json";
  Run r = run_cli(kCmp + " -o " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (auto& l : lines(r.out)) {
    INFO(l);
    CHECK(l.size() <= 100);
  }
  CHECK(r.out.find("All in the 3 ms window: Mpps = in-win / window; ring full = guest TX ring full") !=
        std::string::npos);
  CHECK(r.out.find("inflt = queued at its\nend") != std::string::npos);
  json all = json::parse(tunsim::read_file(out));
  Run tj = run_cli(kCmp + " --json");
  REQUIRE(tj.status == 0);
  json t = json::parse(tj.out);
  REQUIRE(t.contains("rows"));
  REQUIRE(t["rows"].size() == all["designs"].size());
  for (size_t i = 0; i < all["designs"].size(); ++i) {
    const json& s = all["designs"][i];
    const json& row = t["rows"][i];
    INFO(s["design"]);
    CHECK(row["design"] == s["design"]);
    const json& p = s["packets"];
    // Mpps counts the deliveries in the window, which the table shows.
    CHECK(row["in_window"] == p["delivered_in_window"]);
    CHECK(row["mpps"].get<double>() ==
          doctest::Approx(p["delivered_in_window"].get<double>() / s["window_s"].get<double>() / 1e6).epsilon(1e-5));
    // Every count is the window's (packets.window), drops split by where they
    // happen; with what is in flight at the window's start and end they close
    // the window's books.
    const json& w = p["window"];
    uint64_t ring = w["guest_ring_full"];
    CHECK(row["sent"] == w["sent"]);
    CHECK(row["ring_full"] == ring);
    CHECK(row["kernel_drops"] == w["kernel_drops"]);
    CHECK(row["in_flight"] == w["in_flight_end"]);
    CHECK(row["in_flight_start"] == w["in_flight_start"]);
    CHECK(row["in_flight_start"].get<int64_t>() >= 0);
    CHECK(row["in_flight_start"].get<int64_t>() + row["sent"].get<int64_t>() ==
          row["in_window"].get<int64_t>() + row["ring_full"].get<int64_t>() + row["kernel_drops"].get<int64_t>() +
              row["in_flight"].get<int64_t>());
    // The window's drops are part of the run's.
    CHECK(ring <= p["dropped"].value("guest_ring_full", uint64_t(0)));
    // The whole run's books still close too.
    CHECK(p["sent"].get<uint64_t>() ==
          p["delivered"].get<uint64_t>() + p["dropped_total"].get<uint64_t>() + p["in_flight"].get<uint64_t>());
    // The text row shows the same numbers.
    std::string design = s["design"];
    for (auto& l : lines(r.out))
      if (l.rfind(design + " ", 0) == 0) {
        std::istringstream f(l.substr(design.size()));
        double mpps;
        uint64_t in_win, ring_full, kdrop, inflt;
        f >> mpps >> in_win >> ring_full >> kdrop >> inflt;
        CHECK(in_win == row["in_window"].get<uint64_t>());
        CHECK(ring_full == ring);
        CHECK(inflt == row["in_flight"].get<uint64_t>());
      }
  }
  // netif_rx_ni overloads the ring in this scenario: the column is not all 0.
  CHECK(t["rows"][0]["design"] == "netif_rx_ni");
  CHECK(t["rows"][0]["ring_full"].get<uint64_t>() > 0);
  // Every column is explained.
  for (auto& [k, v] : t["rows"][0].items()) CHECK(t["columns"].contains(k));
}

TEST_CASE("compare: --csv has a header and one row per design with the JSON's values, --csv --json is refused") {
  Run c = run_cli(kCmp + " --designs netif_rx_ni,rx_batched --csv");
  INFO(c.err);
  REQUIRE(c.status == 0);
  auto l = lines(c.out);
  REQUIRE(l.size() == 3);
  CHECK(l[0].rfind("design,mpps,window_s,in_window,sent,ring_full,kernel_drops,in_flight,", 0) == 0);
  CHECK(l[1].rfind("\"netif_rx_ni\",", 0) == 0);
  CHECK(l[2].rfind("\"rx_batched\",", 0) == 0);
  json j = json::parse(run_cli(kCmp + " --designs netif_rx_ni,rx_batched --json").out);
  // The ring_full column (6th) of netif_rx_ni.
  std::vector<std::string> f;
  std::istringstream in(l[1]);
  for (std::string x; std::getline(in, x, ',');) f.push_back(x);
  CHECK(f[5] == std::to_string(j["rows"][0]["ring_full"].get<uint64_t>()));
  Run both = run_cli(kCmp + " --csv --json");
  CHECK(both.status == 2);
}

TEST_CASE("compare: --designs empty, with an empty name or a name twice is refused before any run") {
  // "" ran every design, "rx_batched,," skipped the empty names, and
  // "rx_batched,rx_batched" ran it twice (two identical rows).
  const std::string list = "expected a comma-separated list of netif_rx_ni, v1_napi, deferred_signal, rx_batched, "
                           "napi_gro, xdp_batch; found \"\"";
  for (std::string d : {"''", "rx_batched,,v1_napi", "rx_batched,"}) {
    Run r = run_cli(kCmp + " --designs " + d);
    INFO(d, ": ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == "tunsim: --designs: " + list + "\n");
    CHECK(r.out.empty());
  }
  Run twice = run_cli(kCmp + " --designs rx_batched,v1_napi,rx_batched");
  CHECK(twice.status == 2);
  CHECK(twice.err == "tunsim: --designs: expected each design once, found rx_batched twice\n");
  CHECK(twice.out.empty());
  // Distinct names run, one row each, in the order given.
  Run ok = run_cli(kCmp + " --designs v1_napi,rx_batched --json");
  INFO(ok.err);
  REQUIRE(ok.status == 0);
  json j = json::parse(ok.out);
  REQUIRE(j["rows"].size() == 2);
  CHECK(j["rows"][0]["design"] == "v1_napi");
  CHECK(j["rows"][1]["design"] == "rx_batched");
}

// The window's counts worked out by hand.  A constant-rate guest sends packet
// k at k / rate (models/guest/guest.cpp): at 2 Mpps, 0.5 us apart.  The window
// is [warmup, duration] = [1.0002, 4.0002] ms: packets k = 2001 (1.0005 ms)
// to 8000 (4.0000 ms) are sent in it, 6000 packets; 2000 (1.0000 ms) before
// it.  2 Mpps is about twice what one vhost thread and one CPU deliver here,
// so the guest's ring stays full: once full it drops what vhost has not made
// room for, in the window about sent - delivered = 6000 - in-win, give or take
// the change of what is queued (at most the ring, the socket queue and the
// backlog, a few hundred).  Counted over the whole run instead, the ring's
// drops would also hold those of the first millisecond.
TEST_CASE("compare: counts over the window, worked out by hand for a constant-rate guest") {
  Run r = run_cli("compare configs/default.json --designs rx_batched --json --set senders.0.guest.mode=open "
                  "--set senders.0.guest.arrival=constant --set senders.0.guest.rate_mpps=2 "
                  "--set warmup_ms=1.0002 --set duration_ms=4.0002 -o " + tmpdir() + "/hand.json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  json row = json::parse(r.out)["rows"][0];
  json s = json::parse(tunsim::read_file(tmpdir() + "/hand.json"))["designs"][0];
  CHECK(row["sent"] == 6000);
  CHECK(row["kernel_drops"] == 0);
  int64_t delivered = row["in_window"], ring = row["ring_full"];
  int64_t queued_change = row["in_flight"].get<int64_t>() - row["in_flight_start"].get<int64_t>();
  CHECK(delivered > 2000);  // the design delivers, less than the 6000 sent
  CHECK(delivered < 4500);
  CHECK(ring == 6000 - delivered - queued_change);
  CHECK(std::llabs(queued_change) <= 512);
  // The whole run's ring drops are more: the first millisecond's are not the window's.
  CHECK(s["packets"]["dropped"]["guest_ring_full"].get<int64_t>() > ring);
  CHECK(s["packets"]["sent"].get<int64_t>() == 8001);  // k = 0 .. 8000 by 4.0002 ms
  // What was queued at the window's start (derived from the books) is what a
  // run of the same scenario that ends there leaves queued: nothing before
  // 1.0002 ms depends on the duration.
  Run upto = run_cli("compare configs/default.json --designs rx_batched --json --set senders.0.guest.mode=open "
                     "--set senders.0.guest.arrival=constant --set senders.0.guest.rate_mpps=2 "
                     "--set warmup_ms=0.5 --set duration_ms=1.0002");
  REQUIRE(upto.status == 0);
  CHECK(json::parse(upto.out)["rows"][0]["in_flight"] == row["in_flight_start"]);
}

TEST_CASE("compare: a scenario name with control bytes is shown as a JSON string in the header") {
  // The header printed the scenario's "name" raw: a newline split it, an
  // escape sequence (here: red) reached the terminal.  A name that JSON
  // writes unchanged is shown as it is; any other as its JSON string, with
  // DEL and C1 controls (0x9b is a terminal's CSI) escaped too.  A name that
  // is no UTF-8 failed the run ("invalid UTF-8 byte", exit 3) when the
  // worker handed its summary back; it is replaced, as in the summary.
  struct Case {
    std::string name, shown;
  };
  for (const Case& c : std::vector<Case>{{"a\nb\x1b[31mX", "\"a\\nb\\u001b[31mX\""},
                                         {"tab\there", "\"tab\\there\""},
                                         {"del\x7f", "\"del\\u007f\""},
                                         {"c1\xc2\x9bx", "\"c1\\u009bx\""},
                                         {"q\"uote", "\"q\\\"uote\""},
                                         {"bad\xff", "\"bad\xef\xbf\xbd\""},
                                         {"", "\"\""},
                                         {"plain name", "plain name"},
                                         {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"}}) {
    // --set takes a string parameter's text as it is: every byte, read by the shell from a file.
    std::string arg = testutil::write_tmp("name.arg", c.name);
    Run r = testutil::run_sh("v=$(cat " + arg + "; printf x); \"$TUNSIM\" " + kCmp + " --designs rx_batched " +
                             "--set \"name=${v%x}\"");
    INFO(c.shown, ": ", r.err);
    REQUIRE(r.status == 0);
    CHECK(lines(r.out)[0] == "scenario: " + c.shown + " (configs/default.json), 5 ms simulated, seed 1");
    CHECK(lines(r.out)[1].rfind("design ", 0) == 0);
  }
  // run's table has no scenario line: its header is the columns' (and its
  // rows name designs, which are the registry's names).
  std::string arg = testutil::write_tmp("name.arg", "a\nb\x1b[31mX");
  Run r = testutil::run_sh("\"$TUNSIM\" run configs/default.json --set duration_ms=3 --set \"name=$(cat " + arg +
                           ")\"");
  INFO("stderr: ", r.err);
  REQUIRE(r.status == 0);
  CHECK(lines(r.out)[0].rfind("design ", 0) == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
}
