// `tunsim calibrate` (trace fit) and `tunsim trace config`: the solver, the
// recovery of known costs from synthetic traces the simulator writes, the
// identifiability report, one-line errors on bad input, and scenarios that
// validate.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/fit.hpp"
#include "sim/tools/calibrate/intervals.hpp"
#include "sim/tools/calibrate/penalties.hpp"
#include "sim/tools/calibrate/scenario.hpp"
#include "sim/tools/calibrate/sidecar.hpp"
#include "sim/tools/calibrate/trace_fit.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using namespace tunsim::calib;

namespace {

using testutil::Run;
using testutil::run_cli;
using testutil::tmpdir;

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

Observation obs(std::initializer_list<std::pair<int, double>> coef, double value, double se = 1) {
  Observation o;
  o.trace = "t";
  o.name = "o";
  for (auto& [p, c] : coef) o.coef[p] = c;
  o.value = value;
  o.stderr_ns = se;
  o.samples = 100;
  return o;
}

// The costs the synthetic traces are simulated with (none equal to its default).
const json kKnown = {{"costs.syscall_ns", 200},      {"costs.tun_get_user_ns", 300}, {"costs.skb_alloc_ns", 100},
                     {"costs.copy_ns_per_byte", 0.05}, {"costs.lock_ns", 30},         {"costs.napi_schedule_ns", 25},
                     {"costs.softirq_ns", 400},      {"costs.napi_poll_ns", 60},     {"costs.gro_ns", 150},
                     {"costs.netif_receive_skb_ns", 90}, {"costs.stack_drop_ns", 35},
                     {"costs.softirq_enter_ns", 70},  {"costs.softirq_leave_ns", 90}, {"costs.skb_free_ns", 110}};

// A single-writer capture sidecar as scripts/capture-trace writes it, for a
// trace the simulator writes (writer thread pid 1000, device tap0).
void write_sidecar(const std::string& prefix, const std::string& mode, int frame_bytes, int threads,
                   const json& perf_paths = nullptr) {
  json th = json::array();
  for (int i = 0; i < threads; ++i) th.push_back({{"cpu", i}, {"tid", 1000 + i}});
  json s = {{"format", "tunsim-capture/1"}, {"mode", mode}, {"bridge", false}, {"threads", th},
            {"frame_bytes", frame_bytes}, {"count_per_thread", 1500}, {"duration_s", nullptr},
            {"frames_written", 1500 * threads}, {"elapsed_ns", 5000000}, {"kernel", "synthetic"},
            {"hz", 250}, {"cpu_model", "tunsim"}, {"nr_cpus", 2}, {"dev", "tap0"}, {"peer", nullptr},
            {"tracer", "ftrace"}, {"trace_clock", "mono"}, {"trace_format", "ftrace trace"},
            {"timestamp_resolution_ns", 1}, {"trace_file", std::filesystem::path(prefix).filename().string() + ".trace"},
            {"lost_events", 0}, {"date", "2026-11-25T00:00:00Z"}};
  if (!perf_paths.is_null()) s["perf_paths"] = perf_paths;
  tunsim::write_file_atomic(prefix + ".json", s.dump(2));
}

// Simulates the workload of `prefix`'s sidecar with the known costs into
// prefix.trace.
void synthesize(const std::string& prefix, const std::string& mode, int frame_bytes,
                const json& perf_paths = nullptr, const std::string& more_sets = "") {
  write_sidecar(prefix, mode, frame_bytes, 1, perf_paths);
  Run c = run_cli("trace config " + prefix + ".json -o " + prefix + ".scenario.json");
  REQUIRE(c.status == 0);
  // Constant costs (no spread): every write of the synthetic trace costs the same.
  std::string sets = " --set costs.spread.process=[] --set costs.spread.softirq=[]";
  for (auto& [k, v] : kKnown.items()) sets += " --set " + k + "=" + v.dump();
  sets += more_sets;
  Run r = run_cli("run " + prefix + ".scenario.json" + sets + " --trace " + prefix + ".trace -q");
  REQUIRE_MESSAGE(r.status == 0, r.err);
}

double val(const json& cal, const std::string& key) { return cal["parameters"][key]["value"].get<double>(); }
double known(const std::string& key) { return kKnown[key].get<double>(); }

}  // namespace

TEST_CASE("solve: a full-rank system is recovered exactly, with standard errors from the weights") {
  // Three observations of syscall_ns and tun_get_user_ns, consistent with
  // 100 and 200: the least-squares solution is exact, residuals 0.
  std::vector<Observation> o = {obs({{kSyscall, 1}}, 100, 2), obs({{kTunGetUser, 1}}, 200, 2),
                                obs({{kSyscall, 1}, {kTunGetUser, 1}}, 300, 2)};
  FitResult r = solve(o);
  CHECK(r.rank == 2);
  CHECK(r.dof == 1);
  CHECK(r.value[kSyscall] == doctest::Approx(100).epsilon(1e-9));
  CHECK(r.value[kTunGetUser] == doctest::Approx(200).epsilon(1e-9));
  CHECK(r.identified[kSyscall]);
  CHECK(r.identified[kTunGetUser]);
  CHECK(r.residual_rms_ns < 1e-9);
  // Var(syscall) = [(A^T W A)^-1]_00 with W = 1/4: A^T A = [[2,1],[1,2]],
  // inverse [[2,-1],[-1,2]]/3, so var = 4 * 2/3 and se = sqrt(8/3) = 1.633;
  // chi2 = 0 < dof, so it is not scaled.
  CHECK(r.stderr_ns[kSyscall] == doctest::Approx(std::sqrt(8.0 / 3)).epsilon(1e-6));
}

TEST_CASE("solve: a sum the data identify is split in the defaults' proportions and reported") {
  // Only syscall_ns + tun_get_user_ns + skb_alloc_ns = 1193.8 is observed
  // (defaults 204.7, 255.8, 136.4: total 596.9).  Convention:
  // x = d * 1193.8 / 596.9 = 2 d.
  REQUIRE(param_default(kSyscall) == 204.7);
  REQUIRE(param_default(kTunGetUser) == 255.8);
  REQUIRE(param_default(kSkbAlloc) == 136.4);
  std::vector<Observation> o = {obs({{kSyscall, 1}, {kTunGetUser, 1}, {kSkbAlloc, 1}}, 1193.8)};
  FitResult r = solve(o);
  CHECK(r.rank == 1);
  CHECK(r.value[kSyscall] == doctest::Approx(409.4).epsilon(1e-9));
  CHECK(r.value[kTunGetUser] == doctest::Approx(511.6).epsilon(1e-9));
  CHECK(r.value[kSkbAlloc] == doctest::Approx(272.8).epsilon(1e-9));
  CHECK_FALSE(r.identified[kSyscall]);
  CHECK_FALSE(r.identified[kSkbAlloc]);
  REQUIRE(r.combinations.size() == 1);
  CHECK(r.combinations[0] == "syscall_ns + tun_get_user_ns + skb_alloc_ns");
  // The sum itself is what was observed: 1193.8 with the observation's stderr 1
  // (one equation, dof 0: no chi2 scaling).
  CHECK(r.combination_value[0] == doctest::Approx(1193.8).epsilon(1e-9));
  CHECK(r.combination_stderr[0] == doctest::Approx(1).epsilon(1e-6));
}

TEST_CASE("solve: a per-byte cost in an unidentified sum scales with the other costs") {
  // syscall + tun_get_user + skb_alloc + 60 * copy_ns_per_byte = 1210.168,
  // twice the defaults' 204.7 + 255.8 + 136.4 + 60 * 0.1364 = 605.084: the
  // split doubles every term, copy included (0.2728 ns/byte), rather than
  // loading the per-byte cost with a share magnified by its coefficient 60.
  REQUIRE(param_default(kCopy) == 0.1364);
  std::vector<Observation> o = {obs({{kSyscall, 1}, {kTunGetUser, 1}, {kSkbAlloc, 1}, {kCopy, 60}}, 1210.168)};
  FitResult r = solve(o);
  CHECK(r.value[kSyscall] == doctest::Approx(409.4).epsilon(1e-9));
  CHECK(r.value[kCopy] == doctest::Approx(0.2728).epsilon(1e-9));
  CHECK_FALSE(r.identified[kCopy]);
  REQUIRE(r.combinations.size() == 1);
  CHECK(r.combinations[0] == "syscall_ns + tun_get_user_ns + skb_alloc_ns + 60*copy_ns_per_byte");
}

TEST_CASE("solve: an identified difference is printed the way round it is positive") {
  // netif + drop = 100 (plain rx) and netif + bridge = 700 (bridge write):
  // the data determine bridge - drop = 600, printed as such, not as -600.
  std::vector<Observation> o = {obs({{kNetifReceiveSkb, 1}, {kStackDrop, 1}}, 100),
                                obs({{kNetifReceiveSkb, 1}, {kBridgeForward, 1}}, 700)};
  FitResult r = solve(o);
  REQUIRE(r.combinations.size() == 2);
  CHECK(r.combinations[1] == "-stack_drop_ns + bridge_forward_ns");
  CHECK(r.combination_value[1] == doctest::Approx(600).epsilon(1e-9));
}

TEST_CASE("solve: an unidentified cost the split makes negative is pinned to 0") {
  // lock + napi_schedule = 1 and lock + softirq = 2000 (priors 6.05, 5.75,
  // 523.8): with lock = t the scaled minimum norm solves
  // (t - 6.05)/6.05 + (t + 4.75)/5.75 - (1476.2 - t)/523.8 = 0, t = 8.77, and
  // would give napi_schedule_ns = 1 - 8.77 < 0; pinned to 0, lock_ns = 1 and
  // softirq_ns = 1999 exactly.
  std::vector<double> prior(kParams, 1.0);
  prior[kLock] = 6.05;
  prior[kNapiSchedule] = 5.75;
  prior[kSoftirq] = 523.8;
  std::vector<Observation> o = {obs({{kLock, 1}, {kNapiSchedule, 1}}, 1),
                                obs({{kLock, 1}, {kSoftirq, 1}}, 2000)};
  FitResult r = solve(o, prior);
  REQUIRE(r.pinned.size() == 1);
  CHECK(r.pinned[0] == kNapiSchedule);
  CHECK(r.value[kNapiSchedule] == 0);
  CHECK(r.value[kLock] == doctest::Approx(1).epsilon(1e-9));
  CHECK(r.value[kSoftirq] == doctest::Approx(1999).epsilon(1e-9));
  CHECK_FALSE(r.identified[kLock]);
}

TEST_CASE("measure_penalties: the simulator confirms the equations, and rejects equations that do not match it") {
  // The equations of the committed plain-60 trace, checked against the
  // simulator (cache off must give each equation's sum of default costs).
  Workload w = read_sidecar("results/reference/plain-60-1w.json");
  w.trace_path = "results/reference/plain-60-1w.trace.gz";
  std::vector<Observation> o = observations_for(w, extract_intervals(w.trace_path, w, true));
  REQUIRE(o.size() == 3);  // write_ns, kfree_skb..sys_exit, netif_receive_skb..kfree_skb
  std::ostringstream rep;
  measure_penalties(w, o, TUNSIM_BIN, rep);
  // One writer in steady state, the default (fitted) cache model.  Data: the
  // paths of a write touch syscall 4, tun_get_user 61, netif_receive_skb 57
  // and drop 29 lines (footprints x 1.28); each of the 151 lines has seen the
  // other 150 plus ~10 lines of skb data since its last use; crowded into
  // 64 / 2.75 sets that is x = (2.75 * 150 + 10) / 64 = 6.6 lines per set,
  // and P[Poisson(6.6) >= 12 ways] = 0.037: 0.4 + 6.2 + 5.8 + 2.9 = 15.3 ns
  // at 2.72 ns a line.  Code: 245 lines (x 1.14) in L1i's 512,
  // P[Poisson(3.8) >= 8] = 0.041: 2.2 ns.  write() about 17.5 ns; the rx
  // interval (netif_receive_skb + drop, and their share of code) about 9.
  // The medians are rounded to ns: +-2 ns.
  CHECK(o[0].penalty >= 15.5);
  CHECK(o[0].penalty <= 19.5);
  CHECK(o[2].penalty >= 7);
  CHECK(o[2].penalty <= 11);
  // kfree_skb..sys_exit is costs.skb_free_ns alone, spent on no cache path:
  // no penalty (0 +- the medians' ns rounding).
  CHECK(std::fabs(o[1].penalty) <= 2);
  // An equation that counts syscall_ns twice no longer matches the model.
  o[0].coef[kSyscall] = 2;
  CHECK_THROWS_WITH_AS(measure_penalties(w, o, TUNSIM_BIN, rep),
                       doctest::Contains("the model's layout of costs changed"), tunsim::SimulationError);
}

TEST_CASE("robust_median: median and the order-statistic standard error") {
  // 1..101: median 51; n = 101, ranks 50.5 -+ 0.98*sqrt(101) = 9.85 -> [40, 61]
  // (0-based), values 41 and 62: se = 21 / 3.92 = 5.357.
  std::vector<double> v;
  for (int i = 101; i >= 1; --i) v.push_back(i);
  double m, se;
  robust_median(v, 1, m, se);
  CHECK(m == 51);
  CHECK(se == doctest::Approx(21 / 3.92).epsilon(1e-9));
  // Identical samples: the se is floored at the timestamp resolution / sqrt(12).
  robust_median(std::vector<double>(50, 7.0), 1000, m, se);
  CHECK(m == 7);
  CHECK(se == doctest::Approx(1000 / std::sqrt(12.0)));
  // A clock that ticks every 10 ns although it prints ns: 60 samples at 990,
  // 100 at 1000, 40 at 1010.  The 95% rank interval [89, 112] holds only
  // 1000, so the order-statistic se is 0; the floor uses the 10 ns quantum
  // (gaps between distinct central values), not the 1 ns printed resolution.
  std::vector<double> q;
  q.insert(q.end(), 60, 990.0);
  q.insert(q.end(), 100, 1000.0);
  q.insert(q.end(), 40, 1010.0);
  robust_median(q, 1, m, se);
  CHECK(m == 1000);
  CHECK(se == doctest::Approx(10 / std::sqrt(12.0)));
}

TEST_CASE("calibrate recovers the costs of synthetic traces simulated with known costs") {
  std::string d = tmpdir();
  synthesize(d + "/plain-60", "plain", 60);
  synthesize(d + "/plain-1500", "plain", 1500);
  synthesize(d + "/napi-60", "napi", 60);
  Run r = run_cli("calibrate " + d + "/plain-60.trace " + d + "/plain-1500.trace " + d + "/napi-60.trace -o " + d +
                  "/cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json cal = json::parse(tunsim::read_file(d + "/cal.json"));
  CHECK(cal["format"] == "tunsim-calibration/1");
  CHECK(cal["name"] == "cal");
  CHECK(cal["provenance"]["source"] == "trace-fit");
  CHECK(cal["provenance"]["kernel"] == "synthetic");
  CHECK(cal["provenance"]["inputs"].size() == 3);
  // The simulator's trace has 1 ns timestamps and every write of a single
  // writer costs the same (the cache model's steady state misses nothing,
  // and the first cold write does not move a median), so the identified
  // quantities come back to within the timestamp rounding:
  //  copy per byte = (write(1500) - write(60)) / 1440: +-2 ns / 1440;
  CHECK(std::fabs(val(cal, "costs.copy_ns_per_byte") - 0.05) <= 2.0 / 1440);
  //  the sums the traces identify: +-2 ns (two rounded timestamps each).
  auto sum = [&](std::initializer_list<const char*> keys, bool fitted) {
    double s = 0;
    for (auto k : keys) s += fitted ? val(cal, k) : known(k);
    return s;
  };
  CHECK(std::fabs(sum({"costs.syscall_ns", "costs.tun_get_user_ns", "costs.skb_alloc_ns"}, true) - 600) < 2);
  CHECK(std::fabs(sum({"costs.netif_receive_skb_ns", "costs.stack_drop_ns"}, true) - 125) < 2);
  CHECK(std::fabs(sum({"costs.lock_ns", "costs.napi_schedule_ns"}, true) - 55) < 2);
  //  each identified on its own by one interval: kfree_skb..sys_exit of the
  //  plain writes (the free), softirq_raise..softirq_entry and
  //  softirq_exit..sys_exit of the IFF_NAPI ones.
  CHECK(std::fabs(val(cal, "costs.skb_free_ns") - 110) < 2);
  CHECK(std::fabs(val(cal, "costs.softirq_enter_ns") - 70) < 2);
  CHECK(std::fabs(val(cal, "costs.softirq_leave_ns") - 90) < 2);
  CHECK(std::fabs(sum({"costs.softirq_ns", "costs.napi_poll_ns", "costs.gro_ns", "costs.lock_ns"}, true) -
                  sum({"costs.softirq_ns", "costs.napi_poll_ns", "costs.gro_ns", "costs.lock_ns"}, false)) < 2);
  CHECK(cal["fit"]["residual_rms_ns"].get<double>() < 1.5);
  // The split of syscall + tun_get_user + skb_alloc = 600 follows the
  // defaults' proportions 120 : 150 : 80 (not the simulated 200 : 300 : 100,
  // which no trace can tell apart): 205.7, 257.1, 137.1.
  CHECK(val(cal, "costs.syscall_ns") == doctest::Approx(600.0 * 120 / 350).epsilon(0.01));
  CHECK(val(cal, "costs.skb_alloc_ns") == doctest::Approx(600.0 * 80 / 350).epsilon(0.01));
  // Identifiability: copy_ns_per_byte, skb_free_ns, softirq_enter_ns and
  // softirq_leave_ns are the costs determined on their own.
  std::vector<std::string> un = cal["unidentified"];
  for (auto k : {"costs.copy_ns_per_byte", "costs.skb_free_ns", "costs.softirq_enter_ns", "costs.softirq_leave_ns"})
    CHECK_MESSAGE(std::find(un.begin(), un.end(), k) == un.end(), k);
  for (auto k : {"costs.syscall_ns", "costs.tun_get_user_ns", "costs.skb_alloc_ns", "costs.netif_receive_skb_ns",
                 "costs.stack_drop_ns", "costs.softirq_ns", "costs.gro_ns", "costs.lock_ns"})
    CHECK_MESSAGE(std::find(un.begin(), un.end(), k) != un.end(), k);
  CHECK(r.out.find("syscall_ns + tun_get_user_ns + skb_alloc_ns") != std::string::npos);
  CHECK(r.out.find("netif_receive_skb_ns + stack_drop_ns") != std::string::npos);
  // Residuals recorded per observation: 2 plain x 3 (write, the free, the
  // receive) + napi x 5 (its write's three parts, the softirq, the receive).
  CHECK(cal["fit"]["residuals"].size() == 11);
  // The calibration is usable by a scenario, and reproduces the write()
  // median it was fitted on.
  Run v = run_cli("trace config " + d + "/napi-60.json --calibration " + d + "/cal.json -o " + d + "/napi-cal.json");
  REQUIRE(v.status == 0);
  Run s = run_cli("run " + d + "/napi-cal.json -q -o " + d + "/napi-cal.summary.json");
  REQUIRE_MESSAGE(s.status == 0, s.err);
  json sum_j = json::parse(tunsim::read_file(d + "/napi-cal.summary.json"));
  double fitted_w = cal["measurements"]["napi-60-1w"]["write_ns_p50"];
  CHECK(sum_j["trace_metrics"]["write_ns"]["p50"].get<double>() == doctest::Approx(fitted_w).epsilon(0.02));
}

TEST_CASE("calibrate: perf samples in the sidecars (capture-trace --perf-paths) split the NET_RX softirq") {
  // scripts/perf-paths' record, the same in every sidecar: 100 samples of 10
  // ns a frame each (sampled_ns_per_frame 1000).  In the softirq: softirq
  // 150 ns a frame of which 20 recording its events, napi_poll 50, gro 50,
  // netif_receive_skb 60, the drop 60; the queue lock no sample.
  auto pp = [](double ns, int n, double ev = 0) {
    return json{{"ns_per_frame", ns}, {"samples", n}, {"events_ns_per_frame", ev}};
  };
  json perf = {{"format", "tunsim-perf-paths/1"}, {"samples", 100}, {"sampled_ns_per_frame", 1000},
               {"paths", {{"costs.syscall_ns", pp(200, 20)}, {"costs.tun_get_user_ns", pp(200, 20)},
                          {"costs.skb_alloc_ns", pp(100, 10)}, {"costs.copy_ns_per_byte", pp(30, 3)},
                          {"costs.lock_ns", pp(0, 0)}, {"costs.napi_schedule_ns", pp(50, 5)},
                          {"costs.softirq_ns", pp(150, 15, 20)}, {"costs.napi_poll_ns", pp(50, 5)},
                          {"costs.gro_ns", pp(50, 5)}, {"costs.netif_receive_skb_ns", pp(60, 6)},
                          {"costs.stack_drop_ns", pp(60, 6)}}}};
  std::string d = tmpdir();
  synthesize(d + "/plain-60", "plain", 60, perf);
  synthesize(d + "/plain-1500", "plain", 1500, perf);
  synthesize(d + "/napi-60", "napi", 60, perf);
  Run r = run_cli("calibrate " + d + "/plain-60.trace " + d + "/plain-1500.trace " + d + "/napi-60.trace -o " + d +
                  "/cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find("perf samples of 1 of 3 captures") != std::string::npos);
  json cal = json::parse(tunsim::read_file(d + "/cal.json"));
  const json& rec = cal["fit"]["split"]["receive_split_by_capture"]["napi-60-1w"];
  // The softirq interval V (softirq_entry..exit) holds half of the softirq
  // path's event time: 150 - 20 / 2 = 140 per softirq, 50 per poll, 50 + 60
  // + 60 = 170 per packet, 360 in all, scaled to V; gro_ns gets the
  // per-packet share less the netif_receive_skb..kfree_skb median R and
  // less skb_free_ns's default (252.4: the free is inside the per-packet
  // paths' samples and the softirq).
  double V = rec["softirq_interval_ns"], R = rec["netif_receive_skb_kfree_skb_ns"];
  // ... the medians of the capture's two observations (the simulated
  // 400 + 60 + 150 + 30 + 90 + 35 + 110 (the free) = 875 and 90 + 35 = 125
  // ns of base costs, plus the cache model's misses).
  const json& m = cal["measurements"]["napi-60-1w"];
  CHECK(V == m["softirq_net_rx_ns p50"]["median_ns"].get<double>());
  CHECK(R == m["netif_receive_skb..kfree_skb_ns p50"]["median_ns"].get<double>());
  CHECK(V > 875);
  CHECK(R > 125);
  const json& pri = cal["fit"]["split"]["priors"];
  CHECK(pri["costs.softirq_ns"]["prior"].get<double>() == doctest::Approx(140 * V / 360));
  CHECK(pri["costs.napi_poll_ns"]["prior"].get<double>() == doctest::Approx(50 * V / 360));
  REQUIRE(param_default(kSkbFree) == 252.4);
  CHECK(pri["costs.gro_ns"]["prior"].get<double>() == doctest::Approx(170 * V / 360 - R - 252.4));
  CHECK(pri["costs.gro_ns"]["from"] == "perf samples of the captures' NET_RX softirq");
  // softirq, napi_poll and gro occur only together (coefficient 1 in each
  // equation), so the fit keeps their priors' ratios exactly, whatever share
  // the lock (also in lock + napi_schedule) takes.
  CHECK(val(cal, "costs.softirq_ns") / val(cal, "costs.napi_poll_ns") == doctest::Approx(140.0 / 50).epsilon(1e-6));
  CHECK(val(cal, "costs.gro_ns") / val(cal, "costs.napi_poll_ns") ==
        doctest::Approx((170 * V / 360 - R - 252.4) / (50 * V / 360)).epsilon(1e-6));
  // Every other cost keeps the defaults' proportions: syscall + tun_get_user
  // + skb_alloc = 600 split 120 : 150 : 80, as without samples.
  CHECK(pri["costs.syscall_ns"]["from"] == "the default");
  CHECK(val(cal, "costs.syscall_ns") == doctest::Approx(600.0 * 120 / 350).epsilon(0.01));
  CHECK(std::fabs(val(cal, "costs.netif_receive_skb_ns") + val(cal, "costs.stack_drop_ns") - 125) < 2);

  SUBCASE("a record with no time in the softirq's paths is a one-line error") {
    json empty = perf;
    for (auto k : {"costs.softirq_ns", "costs.napi_poll_ns", "costs.gro_ns", "costs.netif_receive_skb_ns",
                   "costs.stack_drop_ns"})
      empty["paths"][k] = pp(0, 3);
    write_sidecar(d + "/napi-60", "napi", 60, 1, empty);
    Run b = run_cli("calibrate " + d + "/napi-60.trace -o " + d + "/bad.json");
    CHECK(b.status == 2);
    CHECK(lines(b.err) == 1);
    CHECK_MESSAGE(b.err.find(d + "/napi-60.json: perf_paths: expected sampled time in the NET_RX softirq's paths") !=
                      std::string::npos,
                  b.err);
    CHECK_FALSE(std::filesystem::exists(d + "/bad.json"));
  }
  SUBCASE("a malformed record is a one-line error naming the sidecar and the field") {
    json bad = perf;
    bad["paths"]["costs.gro_ns"]["ns_per_frame"] = -1;
    bad["paths"]["costs.gro_ns"]["events_ns_per_frame"] = 0;
    write_sidecar(d + "/napi-60", "napi", 60, 1, bad);
    Run b = run_cli("calibrate " + d + "/napi-60.trace -o " + d + "/bad.json");
    CHECK(b.status == 2);
    CHECK(b.err == "tunsim: " + d + "/napi-60.json: perf_paths.paths.costs.gro_ns.ns_per_frame: expected a number "
                   ">= 0, found -1\n");
    CHECK_FALSE(std::filesystem::exists(d + "/bad.json"));
  }
}

TEST_CASE("calibrate on the committed reference traces: the sums it identifies reproduce their medians") {
  std::string d = tmpdir();
  Run r = run_cli("calibrate results/reference/plain-60-1w.trace.gz results/reference/plain-1500-1w.trace.gz "
                  "results/reference/napi-60-1w.trace.gz -o " + d + "/ref.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json cal = json::parse(tunsim::read_file(d + "/ref.json"));
  // The plain write() medians (971, 1042 ns; docs/traces.md) and the
  // IFF_NAPI write's parts are fitted to within 16 ns: +13 (60-byte write),
  // -16 (IFF_NAPI up to the raise: lock_ns + napi_schedule_ns would be
  // negative, pinned to 0).  The largest misfit is in the
  // netif_receive_skb..kfree_skb intervals: on the IFF_NAPI tap the kernel's
  // is the plain tap's 100 ns while the fitted cache model charges 35 ns of
  // misses there (softirq and GRO ran in between) against 9 on the plain
  // tap: -24 ns (docs/calibration.md); the plain ones +2 and +8 (the
  // kernel's is 10 ns longer for 1500-byte frames, the model has no
  // per-byte stack cost).
  for (auto& x : cal["fit"]["residuals"]) CHECK_MESSAGE(std::fabs(x["residual_ns"].get<double>()) < 25, x.dump());
  CHECK(cal["provenance"]["kernel"] == "6.18.44-fc-v782");
  CHECK(cal["provenance"]["cpu_model"] == "AMD EPYC");
  CHECK(cal["provenance"]["hz"] == 250);
  // The per-write time outside sys_enter..sys_exit (period - write, > 1 us
  // on that machine) is recorded as a measurement the model does not have.
  CHECK(cal["measurements"]["plain-60-1w"]["outside_write_ns_p50"].get<double>() > 1000);
}

TEST_CASE("calibrate: bad input gives one-line errors and status 2") {
  std::string d = tmpdir();
  SUBCASE("no sidecar and nothing to infer the capture from") {
    // Without a sidecar the capture is inferred from the trace: an empty
    // trace has no device to infer it on.
    tunsim::write_file_atomic(d + "/lonely.trace", "");
    Run r = run_cli("calibrate " + d + "/lonely.trace -o " + d + "/x.json");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(d + "/lonely.trace: expected netif_receive_skb events on the tap, found none") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(d + "/x.json"));
  }
  SUBCASE("missing trace") {
    Run r = run_cli("calibrate " + d + "/nothing.trace.gz");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("no such trace file") != std::string::npos);
  }
  SUBCASE("two-writer trace") {
    Run r = run_cli("calibrate results/reference/napi-60-2w.trace.gz");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("single-writer traces only") != std::string::npos);
  }
  SUBCASE("sidecar of another format") {
    tunsim::write_file_atomic(d + "/bad.trace", "");
    tunsim::write_file_atomic(d + "/bad.json", "{\"format\": \"something/2\"}");
    Run r = run_cli("calibrate " + d + "/bad.trace");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("format: expected \"tunsim-capture/1\", found \"something/2\"") != std::string::npos);
  }
  SUBCASE("sidecar that does not describe the trace") {
    // The plain-60 trace under a napi sidecar: no softirq in any write.
    std::filesystem::copy_file("results/reference/plain-60-1w.trace.gz", d + "/mislabeled.trace.gz",
                               std::filesystem::copy_options::overwrite_existing);
    json s = json::parse(tunsim::read_file("results/reference/plain-60-1w.json"));
    s["mode"] = "napi";
    tunsim::write_file_atomic(d + "/mislabeled.json", s.dump());
    Run r = run_cli("calibrate " + d + "/mislabeled.trace.gz");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("intervals of the expected shape") != std::string::npos);
  }
  SUBCASE("captures that make an identified cost negative") {
    // plain-60 costs 200 + 300 + 100 + 60 x 0.05 + 90 + 35 = 728 ns of base
    // costs a write; plain-1500 simulated with syscall_ns 50 instead of 200:
    // 50 + 300 + 100 + 1500 x 0.05 + 125 = 650 ns.  Both write() medians also
    // hold the same few ns the equations leave to the cache penalty, so the
    // copy per byte the two identify is (650 - 728) / 1440 = -0.054 ns/byte,
    // as when a host runs the second capture faster than the first.
    synthesize(d + "/plain-60", "plain", 60);
    synthesize(d + "/plain-1500", "plain", 1500, nullptr, " --set costs.syscall_ns=50");
    Run r = run_cli("calibrate " + d + "/plain-60.trace " + d + "/plain-1500.trace -o " + d + "/x.json");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    const std::string head = "tunsim: calibrate: costs.copy_ns_per_byte is identified by the traces and came out ";
    REQUIRE_MESSAGE(r.err.rfind(head, 0) == 0, r.err);
    CHECK(std::stod(r.err.substr(head.size())) == doctest::Approx(-0.054).scale(0).epsilon(0.03));
    CHECK_MESSAGE(r.err.find(" ns/byte (from plain-60-1w write_ns p50 ") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find(", plain-1500-1w write_ns p50 ") != std::string::npos, r.err);
    CHECK(r.err.find("nothing written") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(d + "/x.json"));
  }
  SUBCASE("a host that stretched so many writes that the spread table leaves its range") {
    // Simulated with a write() spread of 14 x 0.5 and 2 x 19: the median
    // write takes half its base cost and the slowest eighth up to 19 times,
    // so the measured quantiles (14 + 0.5) / 16 and (15 + 0.5) / 16 of
    // write / median are near 19 / 0.5 = 38, above the 20
    // costs.spread.process accepts (as when a host preempts one write in
    // twenty for tens of microseconds; CI of 2026-12-04: 22.112 at the last
    // quantile).  calibrate refuses, names the first such quantile, writes
    // nothing.
    synthesize(d + "/plain-60", "plain", 60, nullptr,
               " --set costs.spread.process=[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,19,19]");
    Run r = run_cli("calibrate " + d + "/plain-60.trace -o " + d + "/x.json");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK_MESSAGE(r.err.find("costs.spread.process: the quantile (14 + 0.5) / 16 of ") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find(", outside the [0.05, 20] a scenario accepts") != std::string::npos, r.err);
    CHECK(r.err.find("nothing written") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(d + "/x.json"));
  }
  SUBCASE("no input") {
    Run r = run_cli("calibrate -o " + d + "/x.json");
    CHECK(r.status == 2);
    CHECK(r.err.find("expected at least one TRACE") != std::string::npos);
  }
}

TEST_CASE("trace config: cpus.speed is the calibration's writer user time over each CPU's in the capture") {
  // results/reference/napi-60-2w: two writers, CPU 0 and CPU 1.  Median
  // sys_exit -> next sys_enter gap of each writer (2999 gaps each, computed
  // from the trace text by hand: sorted, middle element): CPU 0 1302 ns,
  // CPU 1 1493 ns.  With writer_user_ns 1300: 1300/1302 = 0.998,
  // 1300/1493 = 0.871 (rounded to 3 decimals).
  tunsim::calib::Workload w = tunsim::calib::read_sidecar("results/reference/napi-60-2w.json");
  std::ostringstream why;
  std::vector<double> speed = tunsim::calib::cpu_speeds_for(w, tunsim::calib::capture_intervals(w), 1300, why);
  REQUIRE(speed.size() == 2);
  CHECK(speed[0] == doctest::Approx(0.998));
  CHECK(speed[1] == doctest::Approx(0.871));
  CHECK(why.str().find("cpu 1: writer user time 1493 ns (median of 2999)") != std::string::npos);
  // Through the CLI with the committed calibration (writer_user_ns
  // 1355.667): 1355.667/1302 = 1.041, 1355.667/1493 = 0.908.
  std::string d = testutil::tmpdir();
  Run r = run_cli("trace config results/reference/napi-60-2w.json --calibration reference -o " + d + "/s.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  json s = json::parse(tunsim::read_file(d + "/s.json"));
  REQUIRE(s["cpus"]["speed"].size() == 2);
  CHECK(s["cpus"]["speed"][0].get<double>() == doctest::Approx(1.041));
  CHECK(s["cpus"]["speed"][1].get<double>() == doctest::Approx(0.908));
  CHECK(run_cli("validate " + d + "/s.json").status == 0);
  // --uniform-speed, or no calibration: no cpus.speed.
  Run u = run_cli("trace config results/reference/napi-60-2w.json --calibration reference --uniform-speed -o " + d +
                  "/u.json");
  REQUIRE(u.status == 0);
  CHECK_FALSE(json::parse(tunsim::read_file(d + "/u.json"))["cpus"].contains("speed"));
  Run n = run_cli("trace config results/reference/napi-60-2w.json -o " + d + "/n.json");
  REQUIRE(n.status == 0);
  CHECK_FALSE(json::parse(tunsim::read_file(d + "/n.json"))["cpus"].contains("speed"));
}

TEST_CASE("trace config: cpus.speed leaves out the gaps in which the writer was switched out") {
  // results/reference/validation-2026-12-02-quiet/threaded-same: one writer
  // on CPU 0 and the tap's NAPI kthread on the same CPU.  The kthread, woken
  // by a write, runs at its return (sched_switch writer ==> napi/...) inside
  // 1286 of the 2999 sys_exit -> next sys_enter gaps (median 3917 ns: the
  // poll and two context switches); the other 1713 gaps have median 1303 ns
  // (counted from the trace text by a separate script, 2026-12-04; all 2999
  // together: 1363).  With writer_user_ns 1300: 1300/1303 = 0.998.
  tunsim::calib::Workload w =
      tunsim::calib::read_sidecar("results/reference/validation-2026-12-02-quiet/threaded-same.json");
  std::ostringstream why;
  std::vector<double> speed = tunsim::calib::cpu_speeds_for(w, tunsim::calib::capture_intervals(w), 1300, why);
  REQUIRE(speed.size() == 2);
  CHECK(speed[0] == doctest::Approx(0.998));
  CHECK(speed[1] == doctest::Approx(1.0));  // no writer there: not measured
  CHECK_MESSAGE(why.str().find("cpu 0: writer user time 1303 ns (median of 1713; 1286 gaps in which the writer was "
                               "switched out left out)") != std::string::npos,
                why.str());
  // The kthread on the other CPU never switches the writer out: every gap
  // counts (2999), and the report says nothing was left out.
  tunsim::calib::Workload o =
      tunsim::calib::read_sidecar("results/reference/validation-2026-12-02-quiet/threaded-other.json");
  std::ostringstream why_o;
  tunsim::calib::cpu_speeds_for(o, tunsim::calib::capture_intervals(o), 1300, why_o);
  CHECK_MESSAGE(why_o.str().find("(median of 2999) against") != std::string::npos, why_o.str());
}

TEST_CASE("trace config: a captured kernel release maps to the newest modelled version not after it") {
  CHECK(tunsim::calib::model_version_of("6.18.44-fc-v782") == "6.18");
  CHECK(tunsim::calib::model_version_of("6.4.0") == "6.4");
  CHECK(tunsim::calib::model_version_of("6.3.13") == "6.1");
  CHECK(tunsim::calib::model_version_of("6.1.0-26-amd64") == "6.1");
  CHECK(tunsim::calib::model_version_of("5.10.0-30-amd64") == "4.15");  // newest modelled not after 5.10
  CHECK(tunsim::calib::model_version_of("5.3.18") == "4.15");
  CHECK(tunsim::calib::model_version_of("not a release") == "6.18");  // unknown: the newest modelled
  CHECK(tunsim::calib::model_version_of("4.19.0-27-amd64") == "4.15");
  CHECK(tunsim::calib::model_version_of("4.14.1") == "4.11");
  CHECK(tunsim::calib::model_version_of("4.9.0") == "4.9");
  CHECK(tunsim::calib::model_version_of("") == "6.18");  // unknown: today's behaviour
  CHECK(tunsim::calib::model_version_of("7.0.1") == "6.18");
}

TEST_CASE("trace config: the scenarios of the reference captures validate and match the workload") {
  std::string d = tmpdir();
  struct Case {
    const char* name;
    const char* design;
    const char* stack;
    size_t senders;
  };
  for (Case c : {Case{"plain-60-1w", "rx_batched", "drop", 1}, Case{"plain-1500-1w", "rx_batched", "drop", 1},
                 Case{"napi-60-1w", "napi_gro", "drop", 1}, Case{"napi-60-2w", "napi_gro", "drop", 2},
                 Case{"bridge-plain-60-1w", "rx_batched", "bridge", 1}}) {
    std::string out = d + "/" + c.name + ".scenario.json";
    Run r = run_cli(std::string("trace config results/reference/") + c.name + ".json --calibration reference -o " + out);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    Run v = run_cli("validate " + out);
    CHECK_MESSAGE(v.status == 0, c.name, v.err);
    json s = json::parse(tunsim::read_file(out));
    json side = json::parse(tunsim::read_file(std::string("results/reference/") + c.name + ".json"));
    CHECK(s["design"] == c.design);
    CHECK(s["stack"]["type"] == c.stack);
    REQUIRE(s["senders"].size() == c.senders);
    for (size_t i = 0; i < c.senders; ++i) {
      CHECK(s["senders"][i]["cpu"] == side["threads"][i]["cpu"]);
      CHECK(s["senders"][i]["frame_bytes"] == side["frame_bytes"]);
      CHECK(s["senders"][i]["writer"]["count"] == side["count_per_thread"]);
    }
    // Captured on 6.18: the modelled version is 6.18.
    CHECK(side["kernel"].get<std::string>().rfind("6.18.", 0) == 0);
    CHECK(s["kernel"]["version"] == "6.18");
    CHECK(s["kernel"]["hz"] == side["hz"]);
    if (std::string(c.design) == "rx_batched") CHECK(s["tun"]["rx_frames"] == 0);
    // --calibration reference resolves to configs/calibration/reference.json.
    CHECK(s["calibration"].get<std::string>().find("configs/calibration/reference.json") != std::string::npos);
  }
  // The trace path is accepted in place of the sidecar.
  Run t = run_cli("trace config results/reference/napi-60-1w.trace.gz");
  CHECK(t.status == 0);
  CHECK(json::parse(t.out)["design"] == "napi_gro");
  // A missing sidecar is a one-line error.
  Run m = run_cli("trace config " + d + "/none.json");
  CHECK(m.status == 2);
  CHECK(lines(m.err) == 1);
}

TEST_CASE("earlier_tid: the first earlier entry with the same thread id, else the list's size") {
  // The one check behind the sidecar's threads[i].tid and --writers refusals
  // (tests/cli/test_capture_cli.cpp has their messages): 5 at index 2 repeats
  // index 0, 7 at index 3 index 1; 9 and the first entries repeat nothing.
  std::vector<int> tids = {5, 7, 5, 7, 9};
  CHECK(earlier_tid(tids, 0) == 5);
  CHECK(earlier_tid(tids, 1) == 5);
  CHECK(earlier_tid(tids, 2) == 0);
  CHECK(earlier_tid(tids, 3) == 1);
  CHECK(earlier_tid(tids, 4) == 5);
}
