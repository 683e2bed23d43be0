// Tests of `tunsim calibrate --kmod` (sim/calibrate/kmod_fit.cpp): the fit of
// the kernel module's per-batch-size timings to base + M/b.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/tools/kmod/kmod_fit.hpp"
#include "sim/io/errors.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A private directory removed when the test ends, also when it fails.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("tunsim-kmodfit-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

json read(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// Module output generated from a known model, with no noise:
//   receive path (netif_receive_skb minus kfree_skb): base 120 ns, M 2400 ns
//   drop (kfree_skb):                                 base  80 ns, M  960 ns
// so the module's netif_receive_skb series is warm 200, polluted 200 + 3360/b,
// and its kfree_skb series is warm 80, polluted 80 + 960/b.
// Refill latency: 100 ns over the polluting set, 4 ns over 16 KiB -> 96 ns per
// line, 192 cycles at 2 GHz; lines of 64 bytes.
json synthetic(double m_recv = 2400, double m_drop = 960) {
  json batch = json::array(), rw = json::array(), rp = json::array(), dw = json::array(),
       dp = json::array();
  for (int b = 1; b <= 64; ++b) {
    batch.push_back(b);
    rw.push_back(120.0 + 80.0);
    rp.push_back(120.0 + 80.0 + (m_recv + m_drop) / b);
    dw.push_back(80.0);
    dp.push_back(80.0 + m_drop / b);
  }
  json j;
  j["format"] = "tunsim-calibration/1";
  j["name"] = "synthetic";
  j["provenance"] = {{"source", "kmod"}, {"inputs", json::array()}, {"kernel", "6.1.0-test"},
                     {"cpu_model", "Test CPU"}, {"hz", 250}, {"date", "2026-11-25T00:00:00Z"},
                     {"tool", "tunsim_calib kmod 0.1.0"}};
  j["parameters"] = {
      {"costs.netif_receive_skb_ns", {{"value", 121.0}, {"unit", "ns"}}},
      {"costs.skb_alloc_ns", {{"value", 1000.0}, {"unit", "ns"}}},
      {"costs.napi_schedule_ns", {{"value", 30.5}, {"stderr", 0.5}, {"unit", "ns"}}},
  };
  j["unidentified"] = {"cache.footprints.netif_receive_skb.icache_bytes",
                       "cache.footprints.stack_drop.icache_bytes"};
  j["fit"] = {{"method", "medians"}, {"observations", 1}};
  j["measurements"] = {
      {"clock", "ktime_get_ns"},
      {"cpu_khz", 2000000},
      {"hypervisor", false},
      {"line_bytes", 64},
      {"netif_receive_skb",
       {{"batch", batch}, {"warm_median_ns", rw}, {"polluted_median_ns", rp}}},
      {"kfree_skb", {{"batch", batch}, {"warm_median_ns", dw}, {"polluted_median_ns", dp}}},
      {"miss_latency",
       {{"complete", true},
        {"small", {{"median_ns", 4.0}, {"min_ns", 4.0}, {"mad_ns", 0.0}, {"samples", 32}}},
        {"large", {{"median_ns", 100.0}, {"min_ns", 99.0}, {"mad_ns", 0.0}, {"samples", 32}}}}},
  };
  return j;
}

// Runs calibrate_from_kmod on j and returns the InputError message ("" if none).
std::string error_of(const json& j) {
  TempDir d;
  write(d.file("in.json"), j);
  std::ostringstream report;
  try {
    tunsim::calibrate_from_kmod(d.file("in.json"), d.file("out.json"), report);
  } catch (const tunsim::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("kmod fit: noise-free synthetic data gives back the model it was made from") {
  TempDir d;
  write(d.file("in.json"), synthetic());
  std::ostringstream report;
  tunsim::calibrate_from_kmod(d.file("in.json"), d.file("out.json"), report);
  json out = read(d.file("out.json"));
  const json& p = out["parameters"];

  CHECK(out["format"] == "tunsim-calibration/1");
  CHECK(out["provenance"]["source"] == "kmod");
  CHECK(out["provenance"]["inputs"] == json::array({d.file("in.json")}));
  CHECK(out["provenance"]["kernel"] == "6.1.0-test");
  // Exact data: the least-squares bases are the generating 120 and 80 ns,
  // replacing the module's direct 121 ns estimate.
  CHECK(p["costs.netif_receive_skb_ns"]["value"].get<double>() == doctest::Approx(120.0));
  CHECK(p["costs.stack_drop_ns"]["value"].get<double>() == doctest::Approx(80.0));
  CHECK(p["costs.netif_receive_skb_ns"]["stderr"].get<double>() == doctest::Approx(0.0));
  // footprint = M / penalty * line = 2400/96*64 = 1600 and 960/96*64 = 640 bytes
  CHECK(p["cache.footprints.netif_receive_skb.icache_bytes"]["value"].get<double>() == doctest::Approx(1600));
  CHECK(p["cache.footprints.netif_receive_skb.icache_bytes"]["unit"] == "bytes");
  CHECK(p["cache.footprints.stack_drop.icache_bytes"]["value"].get<double>() == doctest::Approx(640));
  // The penalty (96 ns) solved the footprints; it is not a parameter (the
  // machine calibration gives the cache's latencies).
  CHECK_FALSE(p.contains("cache.l2.miss_penalty_cycles"));
  CHECK(out["fit"]["penalty_ns"].get<double>() == doctest::Approx(96.0));
  // The module's clock: cpu_khz 2000000 -> 2e9 Hz.
  CHECK(p["cpus.hz"]["value"].get<double>() == doctest::Approx(2e9));
  CHECK(p["cpus.hz"]["unit"] == "Hz");
  // The module's direct estimates for what the fit does not touch are kept.
  CHECK(p["costs.skb_alloc_ns"]["value"].get<double>() == doctest::Approx(1000.0));
  CHECK(p["costs.napi_schedule_ns"]["stderr"].get<double>() == doctest::Approx(0.5));
  // Both footprints were fitted, so nothing is left unidentified.
  CHECK(out["unidentified"] == json::array());
  // 2 paths x (64 warm + 64 polluted) points, all fitted exactly.
  CHECK(out["fit"]["method"] == "least-squares");
  CHECK(out["fit"]["observations"] == 256);
  CHECK(out["fit"]["residual_rms_ns"].get<double>() == doctest::Approx(0.0));
  CHECK(out["fit"]["paths"]["netif_receive_skb"]["refill_ns"].get<double>() == doctest::Approx(2400));
  CHECK(out["measurements"] == synthetic()["measurements"]);

  const std::string r = report.str();
  CHECK(r.find("cache.footprints.netif_receive_skb.icache_bytes") != std::string::npos);
  CHECK(r.find("footprint given that penalty") != std::string::npos);
  CHECK(r.find("hypervisor") == std::string::npos);  // measured on "hardware"
}

TEST_CASE("kmod fit: least squares with noise matches the normal equations") {
  // base 100, M 40, batch sizes 1,2,4,8; warm exact, polluted off by +1,-1,+1,-1:
  // polluted = 141, 119, 111, 104.  The normal equations over the 8 points
  // (x = 0 for warm, 1/b for polluted) give base = 9085/91 = 99.8352 and
  // M = 3704/91 = 40.7033; the standard errors sqrt(s^2 (X'X)^-1_ii) with
  // s^2 = RSS/6 are 0.33295 and 0.81716, and the residual RMS sqrt(RSS/8) is
  // 0.66712 (computed independently in Python).
  auto f = tunsim::fit_batch_series({1, 2, 4, 8}, {100, 100, 100, 100}, {141, 119, 111, 104});
  CHECK(f.base_ns == doctest::Approx(9085.0 / 91));
  CHECK(f.refill_ns == doctest::Approx(3704.0 / 91));
  CHECK(f.base_stderr_ns == doctest::Approx(0.33295071));
  CHECK(f.refill_stderr_ns == doctest::Approx(0.81715693));
  CHECK(f.residual_rms_ns == doctest::Approx(0.66712438));
  CHECK(f.observations == 8);
  REQUIRE(f.polluted_residual_ns.size() == 4);
  // residual of b=1: 141 - (base + M) = 141 - 12789/91
  CHECK(f.polluted_residual_ns[0] == doctest::Approx(141 - 12789.0 / 91));
}

TEST_CASE("kmod fit: no refill cost after pollution leaves the footprint unidentified") {
  // polluted == warm: M = 0, so no footprint can be derived; the base is still
  // fitted (200 - 80 = 120 ns) and the footprint keys stay unidentified.
  TempDir d;
  write(d.file("in.json"), synthetic(0, 0));
  std::ostringstream report;
  tunsim::calibrate_from_kmod(d.file("in.json"), d.file("out.json"), report);
  json out = read(d.file("out.json"));
  CHECK(out["parameters"]["costs.netif_receive_skb_ns"]["value"].get<double>() == doctest::Approx(120));
  CHECK_FALSE(out["parameters"].contains("cache.footprints.netif_receive_skb.icache_bytes"));
  CHECK(out["unidentified"] == json::array({"cache.footprints.netif_receive_skb.icache_bytes",
                                            "cache.footprints.stack_drop.icache_bytes"}));
  CHECK(report.str().find("no refill cost visible") != std::string::npos);
}

TEST_CASE("kmod fit: the module's output from the qemu integration run validates and fits") {
  // results/reference/kmod-qemu.json was produced by tests/kmod/qemu-test.sh
  // (Debian 6.1 kernel under TCG).  Emulated timings mean nothing: only check
  // that the real module output is accepted, fitted over its 64 batch sizes,
  // and flagged as measured under a hypervisor.
  const std::string in = std::string(TUNSIM_SOURCE_DIR) + "/results/reference/kmod-qemu.json";
  TempDir d;
  std::ostringstream report;
  tunsim::calibrate_from_kmod(in, d.file("out.json"), report);
  json out = read(d.file("out.json"));
  json src = read(in);
  CHECK(out["format"] == "tunsim-calibration/1");
  CHECK(out["provenance"]["source"] == "kmod");
  CHECK(out["provenance"]["kernel"] == "6.1.0-56-amd64");
  CHECK(out["fit"]["observations"] == 2 * 2 * 64);
  CHECK(out["fit"]["residual_rms_ns"].get<double>() >= 0);
  CHECK(out["measurements"] == src["measurements"]);
  for (auto it = out["parameters"].begin(); it != out["parameters"].end(); ++it) {
    INFO(it.key());
    // docs/calibration.md: only costs.*, cache.* and cpus.hz may be calibrated
    CHECK((it.key().rfind("costs.", 0) == 0 || it.key().rfind("cache.", 0) == 0 || it.key() == "cpus.hz"));
    CHECK(it.value()["value"].get<double>() >= 0);
    CHECK(it.value()["unit"].is_string());
  }
  // each base is either fitted or listed as unidentified, never silently lost
  for (const char* k : {"costs.netif_receive_skb_ns", "costs.stack_drop_ns"}) {
    INFO(k);
    bool listed = false;
    for (const auto& u : out["unidentified"]) listed = listed || u == k;
    CHECK(out["parameters"].contains(k) != listed);
  }
  CHECK(report.str().find("measured under a hypervisor") != std::string::npos);
}

TEST_CASE("kmod fit: a wrong format string is one InputError naming it") {
  json j = synthetic();
  j["format"] = "tunsim-calibration/2";
  std::string e = error_of(j);
  CHECK(e.find("in.json: format: expected \"tunsim-calibration/1\", found string \"tunsim-calibration/2\"") !=
        std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
}

TEST_CASE("kmod fit: a file not written by the module is rejected") {
  json j = synthetic();
  j["provenance"]["source"] = "trace-fit";
  CHECK(error_of(j).find("provenance.source: expected \"kmod\"") != std::string::npos);
}

TEST_CASE("kmod fit: missing measurements are named with their JSON path") {
  json j = synthetic();
  j["measurements"]["netif_receive_skb"].erase("polluted_median_ns");
  CHECK(error_of(j).find("measurements.netif_receive_skb.polluted_median_ns: expected an array of 64 "
                         "numbers") != std::string::npos);
  CHECK(error_of(j).find("found nothing") != std::string::npos);

  j = synthetic();
  j["measurements"].erase("kfree_skb");
  CHECK(error_of(j).find("measurements.kfree_skb: expected an object, found nothing") != std::string::npos);

  j = synthetic();
  j["measurements"]["miss_latency"].erase("large");
  CHECK(error_of(j).find("measurements.miss_latency.large.median_ns: expected a number") != std::string::npos);
}

TEST_CASE("kmod fit: malformed series are rejected") {
  json j = synthetic();
  j["measurements"]["kfree_skb"]["warm_median_ns"].erase(0);
  CHECK(error_of(j).find("measurements.kfree_skb.warm_median_ns: expected an array of 64 numbers (one per "
                         "batch size), found an array of 63 elements") != std::string::npos);

  j = synthetic();
  j["measurements"]["netif_receive_skb"]["warm_median_ns"][5] = "fast";
  CHECK(error_of(j).find("measurements.netif_receive_skb.warm_median_ns[5]: expected a non-negative "
                         "number, found string \"fast\"") != std::string::npos);

  j = synthetic();
  j["measurements"]["netif_receive_skb"]["batch"][3] = 3;  // 1,2,3,3,...
  CHECK(error_of(j).find("measurements.netif_receive_skb.batch[3]: expected an integer batch size") !=
        std::string::npos);

  j = synthetic();
  j["measurements"]["kfree_skb"]["batch"][63] = 65;
  CHECK(error_of(j).find("measurements.kfree_skb.batch[63]") != std::string::npos);
}

TEST_CASE("kmod fit: input that is not JSON or not readable is an InputError naming the file") {
  TempDir d;
  std::ofstream(d.file("bad.json")) << "{\"format\": ";
  std::ostringstream report;
  CHECK_THROWS_WITH_AS(tunsim::calibrate_from_kmod(d.file("bad.json"), d.file("out.json"), report),
                       doctest::Contains("bad.json:1:12: invalid JSON"), tunsim::InputError);
  CHECK_THROWS_WITH_AS(tunsim::calibrate_from_kmod(d.file("absent.json"), d.file("out.json"), report),
                       doctest::Contains("absent.json: cannot open"), tunsim::InputError);
  CHECK_FALSE(fs::exists(d.file("out.json")));
}
