// `tunsim trace config` for the workloads that batch on a stock kernel
// (issue 12 item 8): a capture-trace sidecar of threaded NAPI
// ("threaded": true, "napi_thread": {"pid", "comm", "cpu"}) becomes the
// model's tun.threaded / tun.napi_thread_cpu, and the cache-line transfer
// measured with the capture becomes costs.cacheline_transfer_ns (and the
// burst, costs.cacheline_burst_ns) where a line can move between CPUs.  Bad sidecars give one-line errors naming the field.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/tools/calibrate/scenario.hpp"
#include "sim/tools/calibrate/sidecar.hpp"
#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using testutil::Run;
using testutil::run_cli;

namespace {

// The committed single-writer IFF_NAPI sidecar with `edit` applied, written
// to the test's directory as NAME.json (its trace is not needed here).
std::string sidecar(const std::string& name, const json& edit) {
  json j = json::parse(tunsim::read_file("results/reference/napi-60-1w.json"));
  j.merge_patch(edit);
  std::string path = testutil::tmpdir() + "/" + name + ".json";
  std::ofstream(path) << j.dump(2);
  return path;
}

// Two captures for `tunsim calibrate` in a fresh directory, a and b: the
// committed napi-60-1w trace with its sidecar's `key` set to `va` and `vb`
// (a measurement capture-trace made beside the trace).  Returns the directory.
std::string capture_pair(const char* key, double va, double vb) {
  std::string d = testutil::tmpdir();
  for (auto [name, v] : {std::pair<const char*, double>{"a", va}, {"b", vb}}) {
    json j = json::parse(tunsim::read_file("results/reference/napi-60-1w.json"));
    j[key] = v;
    j.erase("trace_file");
    std::ofstream(d + "/" + name + ".json") << j.dump(2);
    std::ifstream in("results/reference/napi-60-1w.trace.gz", std::ios::binary);
    std::ofstream(d + "/" + name + ".trace.gz", std::ios::binary) << in.rdbuf();
  }
  return d;
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A sidecar with `edit` applied is refused by read_sidecar and by `trace
// config` (exit 2) with one line naming the file and containing `expect`.
void expect_bad_sidecar(const std::string& name, const json& edit, const char* expect) {
  std::string p = sidecar("bad-" + name, edit);
  CHECK_THROWS_WITH_AS(tunsim::calib::read_sidecar(p), doctest::Contains(expect), tunsim::InputError);
  Run r = run_cli("trace config " + p);
  CHECK_MESSAGE(r.status == 2, name);
  CHECK_MESSAGE(lines(r.err) == 1, name, r.err);
  CHECK_MESSAGE(r.err.find(p) != std::string::npos, name, r.err);
}

}  // namespace

TEST_CASE("trace config: a threaded-NAPI capture maps to tun.threaded and the kthread's CPU") {
  // capture-trace --mode napi --threaded --napi-cpu 1, one writer on CPU 0,
  // linexfer trusted at 63.37 ns between CPUs 0 and 1.
  std::string p = sidecar("other", {{"threaded", true},
                                    {"napi_thread", {{"pid", 4242}, {"comm", "napi/tstap1-0"}, {"cpu", 1}}},
                                    {"line_transfer_ns", 63.37}});
  tunsim::calib::Workload w = tunsim::calib::read_sidecar(p);
  CHECK(w.threaded);
  CHECK(w.napi_thread_cpu == 1);
  json s = tunsim::calib::scenario_for(w, "");
  CHECK(s["design"] == "napi_gro");
  CHECK(s["tun"]["threaded"] == true);
  CHECK(s["tun"]["napi_thread_cpu"] == 1);
  CHECK(s["name"] == "trace-" + w.label() + "-threaded");
  // The writer and the kthread are on two CPUs: the skb queue's lock and
  // head, and the NAPI state, move between them at the capture's own
  // measured cost: a capture without remotermw's line_move_ns takes half of
  // linexfer's handoff, which is two moves (docs/calibration.md).
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(63.37 / 2));
  // The machine has 2 CPUs: the scenario models both.
  CHECK(s["cpus"]["count"] == 2);

  // Through the CLI: the scenario validates.
  std::string out = testutil::tmpdir() + "/other.scenario.json";
  Run r = run_cli("trace config " + p + " -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  Run v = run_cli("validate " + out);
  CHECK_MESSAGE(v.status == 0, v.err);
  json f = json::parse(tunsim::read_file(out));
  CHECK(f["tun"]["threaded"] == true);
  CHECK(f["tun"]["napi_thread_cpu"] == 1);
}

TEST_CASE("trace config: the kthread on the writer's CPU moves no line, so the measured transfer is not applied") {
  std::string p = sidecar("same", {{"threaded", true},
                                   {"napi_thread", {{"pid", 4242}, {"comm", "napi/tstap1-0"}, {"cpu", 0}}},
                                   {"line_transfer_ns", 63.37}});
  json s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(p), "");
  CHECK(s["tun"]["threaded"] == true);
  CHECK(s["tun"]["napi_thread_cpu"] == 0);
  CHECK_FALSE(s.contains("costs"));
}

TEST_CASE("trace config: writers on two CPUs take the capture's line move, only when remotermw or linexfer trusted it") {
  json two = {{"threads", json::array({{{"cpu", 0}, {"tid", 1}}, {{"cpu", 1}, {"tid", 2}}, {{"cpu", 0}, {"tid", 3}},
                                       {{"cpu", 1}, {"tid", 4}}})},
              {"line_transfer_ns", 58.5}};
  json s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("4w", two)), "");
  CHECK(s["senders"].size() == 4);
  // No remotermw in this capture: half of linexfer's handoff, 29.25.
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(29.25));
  CHECK_FALSE(s.contains("tun"));  // IFF_NAPI, not threaded: the model's defaults
  // remotermw measured one move (line_move_ns): that is the move's cost,
  // whatever linexfer gave.
  two["line_move_ns"] = 40.5;
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("4w-move", two)), "");
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(40.5));
  two["line_transfer_ns"] = nullptr;
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("4w-move-only", two)), "");
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(40.5));
  two.erase("line_move_ns");
  two["line_move_refused"] = "p1 and p10 differ by more than 25 %";
  // Refused by both: the sidecar has "line_transfer_refused" and no
  // "line_transfer_ns"; the calibration's value (or the default) applies.
  two["line_transfer_refused"] = "p1 and p10 differ by more than 25 %";
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("4w-refused", two)), "");
  CHECK_FALSE(s.contains("costs"));
  // A sidecar from before threaded NAPI was captured: not threaded.
  tunsim::calib::Workload old = tunsim::calib::read_sidecar("results/reference/napi-60-2w.json");
  CHECK_FALSE(old.threaded);
  CHECK(old.napi_thread_cpu == -1);
}

TEST_CASE("trace config: a wrong threaded-NAPI record is a one-line error naming the field") {
  struct Case {
    const char* name;
    json edit;
    const char* expect;
  };
  json th = {{"pid", 7}, {"comm", "napi/tstap1-0"}, {"cpu", 1}};
  for (const Case& c :
       {Case{"str", {{"threaded", "yes"}, {"napi_thread", th}}, "threaded: expected true or false, found \"yes\""},
        Case{"plain", {{"mode", "plain"}, {"threaded", true}, {"napi_thread", th}},
             "threaded: expected false for a plain tap"},
        Case{"nothread", {{"threaded", true}}, "napi_thread: expected {\"pid\", \"comm\", \"cpu\": N}"},
        Case{"cpu", {{"threaded", true}, {"napi_thread", {{"pid", 7}, {"comm", "x"}, {"cpu", 2}}}},
             "with N below nr_cpus 2"},
        Case{"negative", {{"threaded", true}, {"napi_thread", {{"pid", 7}, {"comm", "x"}, {"cpu", -1}}}},
             "napi_thread: expected"},
        Case{"orphan", {{"threaded", false}, {"napi_thread", th}},
             "napi_thread: expected nothing without \"threaded\": true"}})
    expect_bad_sidecar(c.name, c.edit, c.expect);
}

TEST_CASE("trace config and calibrate: the capture's measured burst becomes costs.cacheline_burst_ns") {
  // capture-trace measures linexfer --lines 6 beside the bare handoff and
  // writes line_burst_ns = (value(6) - value(0)) / 6 (docs/calibration.md).
  // Writers on two CPUs: the scenario takes the capture's own burst, like its
  // line transfer; one CPU: neither applies.
  json two = {{"threads", json::array({{{"cpu", 0}, {"tid", 1}}, {{"cpu", 1}, {"tid", 2}}})},
              {"line_transfer_ns", 210.5}, {"line_burst_ns", 41.25}};
  json s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("2w-burst", two)), "");
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(210.5 / 2));
  CHECK(s["costs"]["cacheline_burst_ns"].get<double>() == doctest::Approx(41.25));
  json one = {{"line_transfer_ns", 210.5}, {"line_burst_ns", 41.25}};
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("1w-burst", one)), "");
  CHECK_FALSE(s.contains("costs"));
  // Refused (line_burst_refused, no line_burst_ns): only the transfer.
  two["line_burst_ns"] = nullptr;
  two["line_burst_refused"] = "scripts/linexfer.c --lines 6 refused: only 50 samples";
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("2w-burst-refused", two)), "");
  CHECK_FALSE(s["costs"].contains("cacheline_burst_ns"));
  // A negative or non-numeric value is a one-line error naming the field.
  Run bad = run_cli("trace config " + sidecar("bad-burst", {{"line_burst_ns", "fast"}}));
  CHECK(bad.status == 2);
  CHECK(lines(bad.err) == 1);
  CHECK_MESSAGE(bad.err.find("line_burst_ns") != std::string::npos, bad.err);
  bad = run_cli("trace config " + sidecar("bad-move", {{"line_move_ns", -3}}));
  CHECK(bad.status == 2);
  CHECK(lines(bad.err) == 1);
  CHECK_MESSAGE(bad.err.find("line_move_ns") != std::string::npos, bad.err);

  // tunsim calibrate: the median of the captures' bursts, half their range
  // as the uncertainty: captures at 40 and 44 ns give 42 +- 2.
  std::string d = capture_pair("line_burst_ns", 40, 44);
  Run r = run_cli("calibrate " + d + "/a.trace.gz " + d + "/b.trace.gz -o " + d + "/burst-cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json cal = json::parse(tunsim::read_file(d + "/burst-cal.json"));
  CHECK(cal["parameters"]["costs.cacheline_burst_ns"]["value"].get<double>() == doctest::Approx(42));
  CHECK(cal["parameters"]["costs.cacheline_burst_ns"]["stderr"].get<double>() == doctest::Approx(2));
  CHECK(cal["measurements"]["napi-60-1w"]["line_burst_ns"].is_number());
  // The same two captures with remotermw's moves of 100 and 110 ns: the
  // move is their median, 105 +- 5, whatever linexfer's handoff was.
  for (auto [name, move] : {std::pair<const char*, double>{"a", 100}, {"b", 110}}) {
    json j = json::parse(tunsim::read_file(d + "/" + name + ".json"));
    j["line_move_ns"] = move;
    std::ofstream(d + "/" + name + ".json") << j.dump(2);
  }
  r = run_cli("calibrate " + d + "/a.trace.gz " + d + "/b.trace.gz -o " + d + "/move-cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cal = json::parse(tunsim::read_file(d + "/move-cal.json"));
  CHECK(cal["parameters"]["costs.cacheline_transfer_ns"]["value"].get<double>() == doctest::Approx(105));
  CHECK(cal["parameters"]["costs.cacheline_transfer_ns"]["stderr"].get<double>() == doctest::Approx(5));
  CHECK(cal["measurements"]["napi-60-1w"]["line_move_ns"].is_number());
}

TEST_CASE("trace config and calibrate: the capture's measured remote walk becomes cache.skb_remote_walk_ns") {
  // capture-trace runs skbwalk.c --writer-cpu on the capture's two CPUs and
  // writes skb_remote_walk_ns (a line of a walk of skbs the other CPU wrote).
  // Writers on two CPUs: the scenario takes the capture's own value, like its
  // burst (the price cache.skb_remote_walk uses when switched on).  A capture
  // without it (before 2026-12-05 07:30, or refused) leaves the
  // calibration's or the default.  One CPU: no remote skb, no value.
  json two = {{"threads", json::array({{{"cpu", 0}, {"tid", 1}}, {{"cpu", 1}, {"tid", 2}}})},
              {"line_transfer_ns", 64.5}, {"line_burst_ns", 10.9}, {"skb_remote_walk_ns", 2.658}};
  json s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("2w-walk", two)), "");
  CHECK(s["cache"]["skb_remote_walk_ns"].get<double>() == doctest::Approx(2.658));
  two.erase("skb_remote_walk_ns");
  two["skb_remote_walk_refused"] = "scripts/machine/skbwalk.c --writer-cpu refused: only 50 samples";
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("2w-nowalk", two)), "");
  CHECK_FALSE(s.contains("cache"));
  CHECK(s["costs"]["cacheline_burst_ns"].get<double>() == doctest::Approx(10.9));
  std::string out = testutil::tmpdir() + "/nowalk.scenario.json";
  Run v = run_cli("trace config " + sidecar("2w-nowalk", two) + " -o " + out);
  REQUIRE_MESSAGE(v.status == 0, v.err);
  v = run_cli("validate " + out);
  CHECK_MESSAGE(v.status == 0, v.err);
  json one = {{"line_burst_ns", 10.9}, {"skb_remote_walk_ns", 2.658}};
  s = tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("1w-walk", one)), "");
  CHECK_FALSE(s.contains("cache"));
  Run bad = run_cli("trace config " + sidecar("bad-walk", {{"skb_remote_walk_ns", "fast"}}));
  CHECK(bad.status == 2);
  CHECK(lines(bad.err) == 1);
  CHECK_MESSAGE(bad.err.find("skb_remote_walk_ns") != std::string::npos, bad.err);
  // tunsim calibrate: the median of the captures' walks, half their range:
  // 2.5 and 3.5 give 3 +- 0.5.
  std::string d = capture_pair("skb_remote_walk_ns", 2.5, 3.5);
  Run r = run_cli("calibrate " + d + "/a.trace.gz " + d + "/b.trace.gz -o " + d + "/walk-cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json cal = json::parse(tunsim::read_file(d + "/walk-cal.json"));
  CHECK(cal["parameters"]["cache.skb_remote_walk_ns"]["value"].get<double>() == doctest::Approx(3));
  CHECK(cal["parameters"]["cache.skb_remote_walk_ns"]["stderr"].get<double>() == doctest::Approx(0.5));
  CHECK(cal["measurements"]["napi-60-1w"]["skb_remote_walk_ns"].is_number());
}

TEST_CASE("trace config: an RPS capture maps to rps.cpus, calibrate refuses it, bad rps_cpus are one-line errors") {
  // capture-trace --mode plain --rps-cpus 1: the writer on CPU 0 builds the
  // skbs, get_rps_cpu steers each to CPU 1's backlog, where it is received
  // and freed.  The scenario steers the same way (rps.cpus = [1]); lines move
  // between CPUs 0 and 1, so the capture's line transfer applies.
  std::string p = sidecar("rps", {{"mode", "plain"}, {"rps_cpus", {1}}, {"line_transfer_ns", 222.42}});
  tunsim::calib::Workload w = tunsim::calib::read_sidecar(p);
  REQUIRE(w.rps_cpus.size() == 1);
  CHECK(w.rps_cpus[0] == 1);
  json s = tunsim::calib::scenario_for(w, "");
  CHECK(s["rps"]["cpus"] == json::array({1}));
  CHECK(s["cpus"]["count"] == 2);
  CHECK(s["design"] == "rx_batched");
  CHECK(s["name"] == "trace-" + w.label() + "-rps");
  CHECK(s["costs"]["cacheline_transfer_ns"].get<double>() == doctest::Approx(222.42 / 2));  // linexfer / 2
  std::string out = testutil::tmpdir() + "/rps.scenario.json";
  Run r = run_cli("trace config " + p + " -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  Run v = run_cli("validate " + out);
  CHECK_MESSAGE(v.status == 0, v.err);
  // Absent or [] (sidecars before --rps-cpus): no RPS.
  CHECK(tunsim::calib::read_sidecar(sidecar("norps", {{"rps_cpus", json::array()}})).rps_cpus.empty());
  CHECK_FALSE(tunsim::calib::scenario_for(tunsim::calib::read_sidecar(sidecar("norps2", json::object())), "")
                  .contains("rps"));

  // calibrate fits frames received where they are written: an RPS capture is
  // refused (exit 2, one line naming the trace).
  std::string d = testutil::tmpdir();
  {
    json j = json::parse(tunsim::read_file("results/reference/napi-60-1w.json"));
    j["rps_cpus"] = {1};
    j.erase("trace_file");
    std::ofstream(d + "/rpsfit.json") << j.dump(2);
    std::ifstream in("results/reference/napi-60-1w.trace.gz", std::ios::binary);
    std::ofstream(d + "/rpsfit.trace.gz", std::ios::binary) << in.rdbuf();
  }
  Run c = run_cli("calibrate " + d + "/rpsfit.trace.gz -o " + d + "/rpsfit-cal.json");
  CHECK(c.status == 2);
  CHECK(lines(c.err) == 1);
  CHECK_MESSAGE(c.err.find("RPS steers its frames") != std::string::npos, c.err);
  // A capture with the kmem tracepoints (capture-trace --slab-events) is
  // refused too: their cost is in its intervals.
  {
    json j = json::parse(tunsim::read_file("results/reference/napi-60-1w.json"));
    j["slab_events"] = true;
    j.erase("trace_file");
    std::ofstream(d + "/slabfit.json") << j.dump(2);
    std::ifstream in("results/reference/napi-60-1w.trace.gz", std::ios::binary);
    std::ofstream(d + "/slabfit.trace.gz", std::ios::binary) << in.rdbuf();
  }
  c = run_cli("calibrate " + d + "/slabfit.trace.gz -o " + d + "/slabfit-cal.json");
  CHECK(c.status == 2);
  CHECK(lines(c.err) == 1);
  CHECK_MESSAGE(c.err.find("captured with --slab-events") != std::string::npos, c.err);
  CHECK_FALSE(std::filesystem::exists(d + "/slabfit-cal.json"));
  CHECK_FALSE(tunsim::calib::read_sidecar(sidecar("noslab", json::object())).slab_events);

  struct Case {
    const char* name;
    json edit;
    const char* expect;
  };
  for (const Case& b :
       {Case{"rps-str", {{"rps_cpus", "1"}}, "rps_cpus: expected an array of CPU numbers, found \"1\""},
        Case{"rps-big", {{"rps_cpus", {2}}}, "rps_cpus: expected CPU numbers below nr_cpus 2, found 2"},
        Case{"rps-neg", {{"rps_cpus", {-1}}}, "rps_cpus: expected CPU numbers below nr_cpus 2, found -1"},
        Case{"slab-str", {{"slab_events", "yes"}}, "slab_events: expected true or false, found \"yes\""},
        Case{"rps-threaded",
             {{"rps_cpus", {1}},
              {"threaded", true},
              {"napi_thread", {{"pid", 7}, {"comm", "napi/tstap1-0"}, {"cpu", 1}}}},
             "rps_cpus: expected [] with \"threaded\": true"}})
    expect_bad_sidecar(b.name, b.edit, b.expect);
}

TEST_CASE("the committed RPS capture: every frame written on CPU 0 is received on CPU 1") {
  // results/reference/rps-2026-12-02/rps-60 (capture-trace --mode plain
  // --rps-cpus 1 --count 3000, docs/calibration.md): the sidecar says RPS to
  // CPU 1, and the trace's 3000 netif_receive_skb are all on CPU 1 while
  // the 3000 writes are on CPU 0.
  const std::string base = "results/reference/rps-2026-12-02/rps-60";
  tunsim::calib::Workload w = tunsim::calib::read_sidecar(base + ".json");
  CHECK(w.rps_cpus == std::vector<int>{1});
  Run r = run_cli("trace stats " + base + ".trace.gz --json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json m = json::parse(r.out);
  CHECK(m["packets"] == 3000);
  CHECK(m["per_cpu"]["1"]["packets"] == 3000);
  CHECK(m["per_cpu"]["0"]["writes"] == 3000);
  CHECK(m["per_cpu"]["0"].value("packets", 0) == 0);
}

TEST_CASE("trace config: a workload that wakes the other CPU takes the wake-up measured with its capture") {
  // capture-trace ran scripts/machine/wakeup.c between the writer's CPU 0
  // and the kthread's CPU 1: the waker paid 4600 ns, the sleeper ran 9000 ns
  // after the waker's call began, and a FUTEX_WAKE that woke nobody took
  // 1000.  As calibrate --machine derives them (docs/calibration.md):
  // costs.ipi_ns 4600; costs.ipi_latency_ns 9000 - 1000 - context_switch_ns,
  // the default 786.25 with no calibration: 7213.75.
  json wake = {{"threaded", true},
               {"napi_thread", {{"pid", 4242}, {"comm", "napi/tstap1-0"}, {"cpu", 1}}},
               {"wakeup_waker_ns", 4600},
               {"wakeup_latency_ns", 9000},
               {"wakeup_no_waiter_ns", 1000}};
  tunsim::calib::Workload w = tunsim::calib::read_sidecar(sidecar("wake", wake));
  CHECK(w.wakeup_measured());
  CHECK(w.wakes_other_cpu());
  json s = tunsim::calib::scenario_for(w, "");
  CHECK(s["costs"]["ipi_ns"].get<double>() == doctest::Approx(4600));
  CHECK(s["costs"]["ipi_latency_ns"].get<double>() == doctest::Approx(7213.75));
  // A calibration with its own context switch (a machine calibration): the
  // latency is net of that one, 9000 - 1000 - 700.
  std::string cal = testutil::tmpdir() + "/cs.calibration.json";
  std::ofstream(cal) << json{{"format", "tunsim-calibration/1"},
                             {"name", "cs"},
                             {"parameters", {{"costs.context_switch_ns", {{"value", 700}}}}}}
                            .dump();
  s = tunsim::calib::scenario_for(w, cal);
  CHECK(s["costs"]["ipi_latency_ns"].get<double>() == doctest::Approx(7300));
  // The kthread on the writer's own CPU wakes no other CPU: not applied.
  json same = wake;
  same["napi_thread"]["cpu"] = 0;
  tunsim::calib::Workload ws = tunsim::calib::read_sidecar(sidecar("wake-same", same));
  CHECK_FALSE(ws.wakes_other_cpu());
  CHECK_FALSE(tunsim::calib::scenario_for(ws, "").contains("costs"));
  // An RPS target no writer uses wakes another CPU too.
  json rps = {{"mode", "plain"}, {"rps_cpus", {1}}, {"wakeup_waker_ns", 4600}, {"wakeup_latency_ns", 9000},
              {"wakeup_no_waiter_ns", 1000}};
  tunsim::calib::Workload wr = tunsim::calib::read_sidecar(sidecar("wake-rps", rps));
  CHECK(wr.wakes_other_cpu());
  CHECK(tunsim::calib::scenario_for(wr, "")["costs"]["ipi_ns"].get<double>() == doctest::Approx(4600));
  // Refused (wakeup_refused, no values) or only partly recorded: the
  // calibration's values (or the defaults) apply.
  json part = wake;
  part.erase("wakeup_latency_ns");
  tunsim::calib::Workload wp = tunsim::calib::read_sidecar(sidecar("wake-part", part));
  CHECK_FALSE(wp.wakeup_measured());
  CHECK_FALSE(tunsim::calib::scenario_for(wp, "").contains("costs"));
  // A wrong value is a one-line error naming the field.
  expect_bad_sidecar("wake-neg", {{"wakeup_waker_ns", -5}}, "wakeup_waker_ns: expected a number");
}

TEST_CASE("trace config: each writer starts when the capture released it and its CPU first ran a writer") {
  // The committed two-writer round of 2026-12-05 00:37: tapwriter's main
  // thread on CPU 1 woke the writer there, tapwriter:582, at 2374.420989174
  // (the trace's first line), and switched to it at 2374.421000967 (line 3:
  // the main thread went to sleep then); the writer on CPU 0, tapwriter:581,
  // was woken by the idle CPU 0 at 2374.421039900 (line 7) and ran at
  // 2374.421048846 (line 67, from swapper/0).  Until a CPU first runs one of
  // the capture's writers it runs something the model does not have (the
  // main thread, the capturing shell, the idle CPU's exit), so each writer
  // starts at the later of its wake-up and that first run on its CPU:
  // 582 at 421000967, 581 at 421048846, 47879 ns = 47.879 us after it.
  // (Its first sched_wakeup alone, until 2026-12-07, gave 50.726; on a
  // Zen 4 capture of 2026-12-07 22:09 the shell held CPU 0 for 180 us after
  // its writer was woken.)
  tunsim::calib::Workload w =
      tunsim::calib::read_sidecar("results/reference/validation-2026-12-05-batching/napi-2w.json");
  REQUIRE(w.tids == std::vector<int>{581, 582});
  REQUIRE(w.cpus == std::vector<int>{0, 1});
  std::ostringstream why;
  std::vector<double> start = tunsim::calib::writer_starts_for(w, tunsim::calib::capture_intervals(w), why);
  REQUIRE(start.size() == 2);
  CHECK(start[0] == doctest::Approx(47.879));
  CHECK(start[1] == 0);
  INFO(why.str());
  CHECK(why.str().find("writer 581 on cpu 0: first seen 50.726 us after the first writer, its CPU's first writer ran "
                       "at 59.672: starts 47.879 us after the first to start") != std::string::npos);
  CHECK(why.str().find("writer 582 on cpu 1: first seen 0.000 us after the first writer, its CPU's first writer ran "
                       "at 11.793: starts 0.000 us after the first to start") != std::string::npos);
  // The command puts them into the scenario, and the simulated writer on
  // CPU 0 writes first at that time.
  std::string out = testutil::tmpdir() + "/starts.scenario.json";
  Run r = run_cli("trace config results/reference/validation-2026-12-05-batching/napi-2w.json -o " + out);
  REQUIRE(r.status == 0);
  json s = json::parse(tunsim::read_file(out));
  CHECK(s["senders"][0]["writer"]["start_us"].get<double>() == doctest::Approx(47.879));
  CHECK_FALSE(s["senders"][1]["writer"].contains("start_us"));
  // A single writer starts at 0: nothing to set.
  tunsim::calib::Workload one = tunsim::calib::read_sidecar("results/reference/napi-60-1w.json");
  CHECK(tunsim::calib::writer_starts_for(one, tunsim::calib::capture_intervals(one), why).empty());
}

TEST_CASE("trace config: the stolen time measured with the capture becomes cpus.stall, bad records are one-line errors") {
  // capture-trace runs scripts/machine/stall.c on the writer CPUs and
  // writes stall_period_us and stall_ns (the quantiles of the time lost a
  // window: 1000 since 2026-12-07, 16 before; any number from 1 to 1000 is
  // read): `trace config` copies them into cpus.stall as they are; a
  // sidecar without them leaves cpus.stall at its default (none).
  std::vector<double> tab = {15114, 15936, 16392, 16828, 17294, 17754, 18240, 18751,
                             19358, 20073, 22674, 26792, 35894, 37632, 39492, 46745};
  std::string out = testutil::tmpdir() + "/stall.scenario.json";
  Run r = run_cli("trace config " + sidecar("stall", {{"stall_period_us", 1000.1}, {"stall_ns", tab}}) + " -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json s = json::parse(tunsim::read_file(out));
  CHECK(s["cpus"]["stall"]["period_us"] == 1000.1);
  CHECK(s["cpus"]["stall"]["ns"] == json(tab));
  // A window the host took whole: stall.c's top quantile of a 1 s record
  // can be the period less 1 ns (stall_table.py), above 1 ms when the
  // period is (1000.1 us): read, and the scenario runs (the e2e test of
  // 2026-12-07 12:39 failed where tunsim refused 1000055 ns as above 1e6).
  std::vector<double> whole = tab;
  whole.back() = 1000055;
  r = run_cli("trace config " + sidecar("stall-whole", {{"stall_period_us", 1000.1}, {"stall_ns", whole}}) + " -o " +
              out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(json::parse(tunsim::read_file(out))["cpus"]["stall"]["ns"] == json(whole));
  r = run_cli("run " + out + " --set duration_ms=2 -q -o -");
  CHECK_MESSAGE(r.status == 0, r.err);
  r = run_cli("trace config " + sidecar("nostall", json::object()) + " -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK_FALSE(json::parse(tunsim::read_file(out))["cpus"].contains("stall"));
  expect_bad_sidecar("stall-order", {{"stall_period_us", 1000}, {"stall_ns", {5, 3}}},
                     "stall_ns: expected ascending numbers in [0, the period), found 3");
  expect_bad_sidecar("stall-period", {{"stall_ns", {5}}}, "stall_period_us: expected a number with stall_ns");
  expect_bad_sidecar("stall-many", {{"stall_period_us", 1000}, {"stall_ns", std::vector<double>(1001, 5.0)}},
                     "stall_ns: expected an array of 1 to 1000 numbers (ns), found [5");
  expect_bad_sidecar("stall-long", {{"stall_period_us", 10}, {"stall_ns", {20000}}},
                     "stall_ns: expected ascending numbers in [0, the period), found 20000");
  expect_bad_sidecar("stall-type", {{"stall_period_us", 1000}, {"stall_ns", "many"}},
                     "stall_ns: expected an array of 1 to 1000 numbers (ns), found \"many\"");
}
