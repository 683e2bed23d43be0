// Whole simulations through the tunsim binary: conservation, queueing theory,
// determinism, --trace, and every class of bad input.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;

namespace {

using testutil::Run;
using testutil::tmpdir;
using testutil::run_cli;

std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = tmpdir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return json::parse(in);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The lines of stderr that are tunsim's own (SimGrid may log too).
int tunsim_error_lines(const std::string& err) {
  int n = 0;
  std::stringstream ss(err);
  std::string line;
  while (std::getline(ss, line))
    if (line.rfind("tunsim: ", 0) == 0) ++n;
  return n;
}

void check_conservation(const json& s) {
  const json& p = s["packets"];
  uint64_t sent = p["sent"], delivered = p["delivered"], dropped = p["dropped_total"], in_flight = p["in_flight"];
  INFO(s["design"].get<std::string>(), ": sent ", sent, " delivered ", delivered, " dropped ", dropped,
       " in flight ", in_flight);
  CHECK(sent == delivered + dropped + in_flight);
  CHECK(sent > 0);
}

}  // namespace

TEST_CASE("conservation: sent = delivered + dropped + in flight, every design, light and overload") {
  // Two loads: the default scenario (open loop bursts at 1 Mpps), and a
  // closed-loop guest that keeps the ring full (overload: ksoftirqd
  // handoff, backlog drops for netif_rx_ni).
  for (const char* load : {"", "--set senders.0.guest.mode=closed --set duration_ms=10"}) {
    for (const char* d : {"netif_rx_ni", "v1_napi", "deferred_signal", "rx_batched", "napi_gro"}) {
      std::string out = tmpdir() + "/cons.json";
      Run r = run_cli(std::string("run configs/default.json -q --set design=") + d + " " + load + " -o " + out);
      REQUIRE_MESSAGE(r.status == 0, r.err);
      check_conservation(read_json(out));
    }
  }
  // Two writers on two CPUs sharing one IFF_NAPI queue.
  std::string out = tmpdir() + "/cons2.json";
  Run r = run_cli("run configs/writer-napi-2cpu.json -q --set duration_ms=3 --set warmup_ms=0.5 -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  check_conservation(read_json(out));
}

TEST_CASE("M/D/1: with the cache model off and one server, the mean sojourn matches Pollaczek-Khinchine") {
  // One vhost worker fed by Poisson arrivals; rx_frames 0 delivers every
  // packet at once, so the CPU is one FIFO server.  Every cost on the path
  // is zero except vhost_desc 200 + tun_get_user 300 + netif_receive_skb 300
  // + stack_drop 200 = S = 1000 ns, deterministic.  Notification toggling
  // and wake-ups cost nothing, so an idle server starts at the arrival.
  // lambda = 0.7 Mpps -> rho = 0.7; P-K for M/D/1:
  //   W = S + rho S / (2 (1 - rho)) = 1 + 0.7 / 0.6 = 2.16667 us.
  std::string cfg = write_tmp("md1.json", R"({
    "design": "rx_batched", "duration_ms": 2000, "warmup_ms": 50,
    "cpus": {"count": 1, "hz": 1e9},
    "cache": {"enabled": false},
    "tun": {"rx_frames": 0},
    "senders": [{"type": "vhost", "cpu": 0, "frame_bytes": 60,
                 "guest": {"mode": "open", "arrival": "poisson", "rate_mpps": 0.7, "ring_size": 32768}}],
    "stack": {"type": "drop"},
    "costs": {"syscall_ns": 0, "tun_get_user_ns": 300, "skb_alloc_ns": 0, "copy_ns_per_byte": 0,
              "vhost_desc_ns": 200, "vhost_notify_ns": 0, "vhost_wakeup_ns": 0, "lock_ns": 0,
              "netif_receive_skb_ns": 300, "stack_drop_ns": 200, "context_switch_ns": 0,
              "softirq_ns": 0, "napi_poll_ns": 0, "napi_schedule_ns": 0, "backlog_enqueue_ns": 0}
  })");
  std::string out = tmpdir() + "/md1-out.json";
  Run r = run_cli("run " + cfg + " -q -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json s = read_json(out);
  double mean = s["latency_us"]["mean"];
  double expected = 1.0 + 0.7 / (2 * (1 - 0.7));
  INFO("mean sojourn ", mean, " us, P-K ", expected, " us, samples ", s["latency_us"]["count"]);
  CHECK(s["latency_us"]["count"].get<double>() > 1e6);
  CHECK(std::abs(mean - expected) / expected < 0.02);
  // Utilisation: the server is busy rho of the time.
  double busy = s["cpu"][0]["process_frac"];
  CHECK(std::abs(busy - 0.7) < 0.01);
  check_conservation(s);
}

TEST_CASE("determinism: the same config and seed give byte-identical summaries") {
  std::string a = tmpdir() + "/det-a.json", b = tmpdir() + "/det-b.json", c = tmpdir() + "/det-c.json";
  std::string args = "run configs/default.json -q --set senders.0.guest.arrival=poisson --set duration_ms=5 ";
  REQUIRE(run_cli(args + "--seed 7 -o " + a).status == 0);
  REQUIRE(run_cli(args + "--seed 7 -o " + b).status == 0);
  REQUIRE(run_cli(args + "--seed 8 -o " + c).status == 0);
  CHECK(slurp(a) == slurp(b));
  CHECK(slurp(a) != slurp(c));  // Poisson arrivals depend on the seed
  // compare runs each design in a child process: same numbers as run.
  std::string all = tmpdir() + "/det-cmp.json";
  REQUIRE(run_cli("compare configs/default.json --designs rx_batched --set senders.0.guest.arrival=poisson "
                 "--set duration_ms=5 --seed 7 -o " + all).status == 0);
  CHECK(read_json(all)["designs"][0] == read_json(a));
}

TEST_CASE("--trace writes ftrace text whose events agree with the summary") {
  std::string out = tmpdir() + "/tr.json", trace = tmpdir() + "/tr.trace";
  Run r = run_cli("run configs/v1_napi.json -q --set duration_ms=3 --trace " + trace + " -o " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json s = read_json(out);
  std::string text = slurp(trace);
  CHECK(text.rfind("# tracer: nop\n", 0) == 0);
  // The trace holds the statistics window: one net:netif_receive_skb record
  // per packet the trace metrics count, one napi:napi_poll per poll of the
  // window (the tap's, and no backlog: v1_napi polls only its own NAPI).
  size_t receives = 0, polls = 0, pos = 0;
  while ((pos = text.find(": netif_receive_skb: ", pos)) != std::string::npos) ++receives, ++pos;
  pos = 0;
  while ((pos = text.find(": napi_poll: ", pos)) != std::string::npos) ++polls, ++pos;
  CHECK(receives == s["trace_metrics"]["packets"].get<size_t>());
  CHECK(polls == s["napi"]["polls"].get<size_t>());
  CHECK(polls == s["trace_metrics"]["napi_poll_work"]["count"].get<size_t>());
  CHECK(text.find("softirq_entry: vec=3 [action=NET_RX]") != std::string::npos);
  CHECK(text.find(" work 64 budget 64") != std::string::npos);
  // No temporary file is left beside it.
  for (auto& e : std::filesystem::directory_iterator(tmpdir()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("bad input: one line naming the file, the path, what was expected, exit 2, no output file") {
  struct Case {
    std::string config;      // file contents ("" = no file)
    std::string extra;       // extra arguments
    std::string must_contain;
  };
  std::string out = tmpdir() + "/never.json";
  std::vector<Case> cases = {
      {"{\"design\": }", "", ":1:12: invalid JSON"},
      {"{\"kernel\": {\"netdev_budgett\": 5}}", "", "kernel.netdev_budgett: unknown key \"netdev_budgett\"; did you mean \"netdev_budget\"?"},
      {"{\"kernel\": {\"netdev_budget\": \"abc\"}}", "", "kernel.netdev_budget: expected an integer in [1, 1e+06], found \"abc\""},
      {"{\"tun\": {\"rx_frames\": -1}}", "", "tun.rx_frames: expected an integer in [0, 1e+09], found -1"},
      {"{\"design\": \"napi\"}", "", "design: expected one of \"netif_rx_ni\" \"v1_napi\""},
      {"{\"senders\": [{\"cpu\": 5}]}", "", "senders.0.cpu: expected a CPU in [0, 1] (cpus.count is 2), found 5"},
      {"{\"senders\": [{\"guest\": {\"rate\": 1}}]}", "", "senders.0.guest.rate: unknown key \"rate\"; did you mean \"rate_mpps\"?"},
      {"{\"calibration\": \"nosuch\"}", "", "calibration/nosuch.json: cannot open"},
      {"{\"warmup_ms\": 30, \"duration_ms\": 20}", "", "warmup_ms: expected less than duration_ms"},
      {"[1, 2]", "", "expected a JSON object at the top level"},
      // A bad --set names the --set, not the file (the value came from it).
      {"{}", "--set kernel", "tunsim: --set kernel: expected path.to.key=VALUE"},
      {"{}", "--set kernel.hz=5", "tunsim: --set kernel.hz=5: expected an integer in [100, 1000], found 5"},
      {"{}", "--set senders.99999999999999999999.cpu=1", "tunsim: --set senders.99999999999999999999.cpu=1: index"},
      {"{}", "--set kernel.version=6.2", "tunsim: --set kernel.version=6.2: expected one of"},
      {"{}", "--seed -5", "tunsim: --seed -5: expected an integer in [0, 4294967295]"},
      {"{\"cpus\": {\"speed\": [1]}}", "", "cpus.speed: expected one number per CPU (cpus.count = 2), found 1"},
      {"{\"cpus\": {\"speed\": [1, 0]}}", "", "cpus.speed.1: expected a number in [0.05, 20], found 0"},
      {"", "", "cannot open"},
  };
  int i = 0;
  for (auto& c : cases) {
    std::string path = tmpdir() + "/bad" + std::to_string(i++) + ".json";
    if (!c.config.empty()) std::ofstream(path) << c.config;
    Run r = run_cli("run " + path + " " + c.extra + " -o " + out);
    INFO("config: ", c.config, " ", c.extra, "\nstderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(tunsim_error_lines(r.err) == 1);
    if (c.extra.empty()) CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.err.find(c.must_contain) != std::string::npos);
    CHECK_FALSE(exists(out));
    // validate says the same (it takes no --seed).
    if (c.extra.rfind("--seed", 0) == 0) continue;
    Run v = run_cli("validate " + path + " " + c.extra);
    CHECK(v.status == 2);
    CHECK(v.err == r.err);
  }
  // A calibration file that is not one.
  std::string cal = write_tmp("calibration-bad.json", "{\"format\": \"something\"}");
  Run r = run_cli("run configs/default.json --set calibration=" + cal + " -o " + out);
  INFO("stderr: ", r.err);
  CHECK(r.status == 2);
  CHECK(r.err.find("format: expected \"tunsim-calibration/1\", found \"something\"") != std::string::npos);
  CHECK_FALSE(exists(out));
  // An unwritable output path: the run fails with one line, exit 2.
  Run w = run_cli("run configs/default.json -q --set duration_ms=3 -o /nonexistent-dir/x.json");
  INFO("stderr: ", w.err);
  CHECK(w.status == 2);
  CHECK(w.err.find("/nonexistent-dir/x.json: cannot write output file") != std::string::npos);
  // Command-line errors.
  CHECK(run_cli("compare configs/default.json --designs rx_batched,nope").status == 2);
  CHECK(run_cli("frobnicate").status == 2);
}

TEST_CASE("cpus.speed: a CPU at half speed takes twice as long for everything it runs") {
  // One writer on CPU 0, plain tap: each write() is a fixed sum of costs and
  // cache penalties on CPU 0 (user time, syscall, tun_get_user, the stack), so
  // the period doubles at speed 0.5 and the throughput halves; CPU 1's speed
  // changes nothing (it runs nothing).  Rates are over the same window, so
  // they agree to a packet's worth at its edge.
  std::string d = tmpdir();
  auto mpps = [&](const std::string& set, const std::string& name) {
    std::string out = d + "/" + name + ".json";
    Run r = run_cli("run configs/writer-plain.json -q " + set + " -o " + out);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return read_json(out)["throughput_mpps"].get<double>();
  };
  double base = mpps("", "base");
  double half = mpps("--set 'cpus.speed=[0.5,1]'", "half");
  double other = mpps("--set 'cpus.speed=[1,0.25]'", "other");
  REQUIRE(base > 0.5);
  CHECK(half == doctest::Approx(base / 2).epsilon(1e-3));
  CHECK(other == base);
}

TEST_CASE("calibration: values apply below the scenario's own, and are reported") {
  std::string cal = write_tmp("calibration-ok.json", R"({
    "format": "tunsim-calibration/1", "name": "t", "provenance": {"source": "trace-fit"},
    "parameters": {"costs.netif_receive_skb_ns": {"value": 777, "unit": "ns"},
                   "costs.stack_drop_ns": {"value": 55, "unit": "ns"}},
    "unidentified": ["costs.gro_ns"]})");
  std::string cfg = write_tmp("with-cal.json", "{\"calibration\": \"" + cal + "\", \"costs\": {\"stack_drop_ns\": 11}}");
  Run r = run_cli("validate " + cfg + " --print");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json full = json::parse(r.out);
  CHECK(full["costs"]["netif_receive_skb_ns"] == 777);  // from the calibration
  CHECK(full["costs"]["stack_drop_ns"] == 11);          // the scenario's own value wins
  CHECK(r.err.find("could not identify individually: costs.gro_ns") != std::string::npos);
}

TEST_CASE("the built-in default scenario is configs/default.json") {
  Run a = run_cli("validate configs/default.json --print");
  std::string empty = write_tmp("empty.json", "{}");
  REQUIRE(a.status == 0);
  std::string o1 = tmpdir() + "/d1.json", o2 = tmpdir() + "/d2.json";
  REQUIRE(run_cli("run -q --set duration_ms=3 -o " + o1).status == 0);
  REQUIRE(run_cli("run configs/default.json -q --set duration_ms=3 -o " + o2).status == 0);
  json s1 = read_json(o1), s2 = read_json(o2);
  s1.erase("config");
  s2.erase("config");
  CHECK(s1 == s2);
}

TEST_CASE("lookahead: skipping SimGrid when no other actor can act first changes no result") {
  // Ctx::sync lets an actor touch shared state without a SimGrid
  // synchronisation when every other actor is blocked until at least now.
  // TUNSIM_SYNC_EVERY_ACCESS=1 synchronises at every access instead.
  auto run_both = [](const std::string& cfg, json& ja, json& jb) {
    std::string a = tmpdir() + "/la-a.json", b = tmpdir() + "/la-b.json";
    REQUIRE(run_cli("run " + cfg + " -q -o " + a).status == 0);
    REQUIRE(system(("TUNSIM_SYNC_EVERY_ACCESS=1 " + std::string(TUNSIM_BIN) + " run " + cfg + " -q -o " + b).c_str()) == 0);
    ja = read_json(a);
    jb = read_json(b);
  };
  SUBCASE("RPS: identical summaries") {
    json ja, jb;
    run_both("configs/netif_rx_ni.json --set rps.cpus=[0] --set duration_ms=4", ja, jb);
    CHECK(ja == jb);
  }
  SUBCASE("two writers on one queue: the same up to ties within SimGrid's 1 ns timing precision") {
    // With synchronisation at every access, SimGrid orders two accesses less
    // than its timing precision (1e-9 s) apart by its rounded clock; with
    // the lookahead they go in exact model-time order.  Such near-ties flip
    // a handful of the ~1350 polls of this run; everything else must agree.
    json ja, jb;
    run_both("configs/writer-napi-2cpu.json --set duration_ms=4 --set senders.1.frame_bytes=100", ja, jb);
    CHECK(ja["packets"]["sent"] == jb["packets"]["sent"]);
    CHECK(ja["packets"]["delivered"] == jb["packets"]["delivered"]);
    auto close = [](double x, double y, double rel) { return std::abs(x - y) <= rel * std::max(std::abs(x), std::abs(y)); };
    CHECK(close(ja["napi"]["polls"], jb["napi"]["polls"], 0.005));
    CHECK(close(ja["throughput_mpps"], jb["throughput_mpps"], 0.005));
    CHECK(close(ja["latency_us"]["mean"], jb["latency_us"]["mean"], 0.005));
    CHECK(close(ja["batch"]["mean"], jb["batch"]["mean"], 0.005));
    CHECK(close(ja["shared_line_transfers"], jb["shared_line_transfers"], 0.005));
  }
}

TEST_CASE("docs/config.md is what tunsim config-reference prints") {
  // The reference is generated from the schema; a stale copy would lie.
  Run r = run_cli("config-reference");
  REQUIRE(r.status == 0);
  CHECK(r.out == slurp("docs/config.md"));
  CHECK(r.out.find("`kernel.netdev_budget`") != std::string::npos);
}

TEST_CASE("--trace: records are in timestamp order across CPUs, like ftrace's merged trace file") {
  // Two writers on two CPUs: each actor runs ahead of the other, yet the
  // reorder buffer must release records sorted by time.
  std::string trace = tmpdir() + "/sorted.trace";
  REQUIRE(run_cli("run configs/writer-napi-2cpu.json -q --set duration_ms=0.5 --set warmup_ms=0 --trace " + trace).status == 0);
  std::ifstream in(trace);
  std::string line;
  double prev = -1;
  size_t n = 0, out_of_order = 0;
  std::set<int> cpus;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto lb = line.find('[');
    cpus.insert(std::stoi(line.substr(lb + 1, 3)));
    auto colon = line.find(": ", lb);
    double t = std::stod(line.substr(line.rfind(' ', colon) + 1));
    if (t < prev) ++out_of_order;
    prev = t;
    ++n;
  }
  CHECK(n > 100);
  CHECK(cpus == std::set<int>{0, 1});
  CHECK(out_of_order == 0);
}

TEST_CASE("SimGrid's own --cfg and --log options reach its engine") {
  // A valid option is accepted (exit 0) and changes SimGrid's logging: at
  // root.thres:critical SimGrid prints nothing, while an unknown --cfg key
  // makes SimGrid itself fail, which shows the option reached it.
  Run ok = run_cli("run configs/default.json -q --set duration_ms=3 --log=root.thres:critical --cfg=surf/precision:1e-9");
  CHECK(ok.status == 0);
  Run bad = run_cli("run configs/default.json -q --set duration_ms=3 --cfg=no/such-option:1");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("tunsim: SimGrid option: Bad config key: no/such-option") != std::string::npos);
}
