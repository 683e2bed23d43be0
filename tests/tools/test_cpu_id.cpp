// Which CPU a calibration describes (sim/tools/calibrate/cpu_id.cpp): the
// captures' and the machine measurement's CPU signatures in its provenance,
// and the refusals of a calibration that would mix two CPUs.  The VM named
// "AMD EPYC" was a Zen 5 (family 26 model 2, results/reference/machine/
// epyc-2vcpu.json) until 2026-12-04 and a Zen 1 (family 23 model 1,
// zen1-kvm-2vcpu.json) from 2026-12-05.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/cpu_id.hpp"
#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using namespace tunsim;
using namespace tunsim::calib;
using namespace testutil;
namespace fs = std::filesystem;

namespace {
const char* kZen1 = "results/reference/machine/zen1-kvm-2vcpu.json";
const char* kRound = "results/reference/validation-2026-12-05-batching";

// A copy of the round's capture NAME in DIR whose sidecar says `signature`
// ("" = leave it without one).
std::string capture_copy(const std::string& dir, const std::string& name, const std::string& signature) {
  fs::copy_file(std::string(kRound) + "/" + name + ".trace.gz", dir + "/" + name + ".trace.gz",
                fs::copy_options::overwrite_existing);
  json s = read_json_file(std::string(kRound) + "/" + name + ".json");
  s["trace_file"] = name + ".trace.gz";
  if (!signature.empty()) s["cpu_signature"] = signature;
  std::ofstream(dir + "/" + name + ".json") << s.dump(1);
  return dir + "/" + name + ".trace.gz";
}
}  // namespace

TEST_CASE("machine_cpu_signature: host.cpu_signature, else the file's cpuid record") {
  // The committed measurement of the shipped cache model has no
  // host.cpu_signature (calibrate-machine before 2026-12-05); its
  // cache_geometry.raw says vendor AuthenticAMD, family 26, model 2.
  json zen5 = read_json_file(kDefaultsMachine);
  CHECK_FALSE(zen5["host"].contains("cpu_signature"));
  CHECK(zen5["cache_geometry"]["raw"]["family"] == 26);
  CHECK(machine_cpu_signature(zen5) == "AuthenticAMD family 26 model 2");
  CHECK(machine_cpu_signature(zen5) == kDefaultsCpu);
  // This session's VM: family 23 model 1 in its cpuid record.
  CHECK(machine_cpu_signature(read_json_file(kZen1)) == "AuthenticAMD family 23 model 1");
  // host.cpu_signature (calibrate-machine since 2026-12-05) wins.
  zen5["host"]["cpu_signature"] = "GenuineIntel family 6 model 143";
  CHECK(machine_cpu_signature(zen5) == "GenuineIntel family 6 model 143");
  // Nothing to tell: "".
  CHECK(machine_cpu_signature(json::object()).empty());
  CHECK(machine_cpu_signature(json{{"cache_geometry", {{"raw", {{"vendor", "AuthenticAMD"}}}}}}).empty());
}

TEST_CASE("cpu_provenance: one CPU per calibration, the cache model's CPU named") {
  std::ostringstream rep;
  // Captures of the shipped model's CPU (or silent ones): no note.
  json p = cpu_provenance({{"a", kDefaultsCpu}, {"b", ""}}, "", rep);
  CHECK(p["cpu_signature"] == kDefaultsCpu);
  CHECK(p["cache_model"]["cpu_signature"] == kDefaultsCpu);
  CHECK(p["cache_model"]["machine"] == std::string(kDefaultsMachine) + ", the shipped defaults");
  CHECK(rep.str().empty());
  // No capture says: null, and nothing to compare.
  CHECK(cpu_provenance({{"a", ""}}, "", rep)["cpu_signature"].is_null());
  CHECK(rep.str().empty());
  // Captures of another CPU under the shipped cache model: a note.
  p = cpu_provenance({{"a", "AuthenticAMD family 23 model 1"}}, "", rep);
  CHECK(p["cpu_signature"] == "AuthenticAMD family 23 model 1");
  CHECK(rep.str().find("note: the captures ran on AuthenticAMD family 23 model 1, the shipped cache model was "
                       "measured on AuthenticAMD family 26 model 2") == 0);
  // Two CPUs among the captures: refused, naming both files.
  try {
    cpu_provenance({{"x.trace", "AuthenticAMD family 23 model 1"}, {"y.trace", "AuthenticAMD family 26 model 2"}},
                   "", rep);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "calibrate: y.trace was captured on AuthenticAMD family 26 model 2, x.trace on AuthenticAMD family 23 "
          "model 1: a calibration describes one machine (calibrate each CPU's captures apart)");
  }
  // A machine measurement of another CPU than the captures': refused.
  CHECK_THROWS_AS(cpu_provenance({{"x.trace", "AuthenticAMD family 23 model 1"}}, kDefaultsMachine, rep), InputError);
  p = cpu_provenance({{"x.trace", "AuthenticAMD family 23 model 1"}}, kZen1, rep);
  CHECK(p["cache_model"]["machine"] == kZen1);
  CHECK(p["cache_model"]["cpu_signature"] == "AuthenticAMD family 23 model 1");
}

TEST_CASE("calibrate: captures of two CPUs are one line naming both, exit 2, no file") {
  std::string d = tmpdir();
  std::string a = capture_copy(d, "plain-60", "AuthenticAMD family 23 model 1");
  std::string b = capture_copy(d, "napi-60", "AuthenticAMD family 26 model 2");
  Run r = run_cli("calibrate " + a + " " + b + " -o " + d + "/cal.json");
  CHECK(r.status == 2);
  CHECK(r.err.find("tunsim: calibrate: " + b + " was captured on AuthenticAMD family 26 model 2, " + a +
                   " on AuthenticAMD family 23 model 1") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(d + "/cal.json"));
  // One CPU: written, and the provenance says which, and whose cache model.
  capture_copy(d, "napi-60", "AuthenticAMD family 23 model 1");
  Run ok = run_cli("calibrate " + a + " " + b + " -o " + d + "/cal.json");
  REQUIRE_MESSAGE(ok.status == 0, ok.err);
  json cal = read_json_file(d + "/cal.json");
  CHECK(cal["provenance"]["cpu_signature"] == "AuthenticAMD family 23 model 1");
  CHECK(cal["provenance"]["cache_model"]["cpu_signature"] == "AuthenticAMD family 26 model 2");
  CHECK(ok.out.find("note: the captures ran on AuthenticAMD family 23 model 1") != std::string::npos);
  // trace config with that calibration: a note that it does not describe
  // the capture's CPU (its cache model), the scenario written all the same.
  Run tc = run_cli("trace config " + d + "/napi-60.json --calibration " + d + "/cal.json -o " + d + "/s.json");
  REQUIRE_MESSAGE(tc.status == 0, tc.err);
  CHECK(tc.err.find("tunsim: note: the capture ran on AuthenticAMD family 23 model 1, the calibration " + d +
                    "/cal.json does not describe it: its cache model was measured on AuthenticAMD family 26 "
                    "model 2\n") != std::string::npos);
  CHECK(fs::exists(d + "/s.json"));
  // A capture that does not say its CPU: no note.
  capture_copy(d, "plain-60", "");
  Run t0 = run_cli("trace config " + d + "/plain-60.json --calibration " + d + "/cal.json -o " + d + "/s0.json");
  REQUIRE_MESSAGE(t0.status == 0, t0.err);
  CHECK(t0.err.find("does not describe it") == std::string::npos);
}

TEST_CASE("calibrate --machine: a cache model that misses this CPU's cold-path curves is refused") {
  // Zen 1 (family 23, 2026-12-05): data pollution of 16 KiB to 256 KiB costs
  // the kernel's write() a flat 80-200 ns (kernel_cold.data), code pollution
  // keeps rising past 2 x L1i; the line-granular model, priced by dependent
  // loads, misses most points however its concentration and footprint scale
  // are set (docs/calibration.md, "Which CPU a calibration describes").
  std::string d = tmpdir();
  Run r = run_cli(std::string("calibrate --machine ") + kZen1 + " -o " + d + "/cal-zen1.json");
  CHECK(r.status == 2);
  CHECK(r.err.find(std::string("tunsim: ") + kZen1 + ": kernel_cold: the cache model fitted to it misses ") == 0);
  CHECK(r.err.find(" of 16 points beyond their tolerance (first: ") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(d + "/cal-zen1.json"));
  // The shipped model's machine passes the same rule (all 14 fitted points).
  Run z5 = run_cli(std::string("calibrate --machine ") + kDefaultsMachine + " -o " + d + "/cal5.json");
  CHECK_MESSAGE(z5.status == 0, z5.err);
  json cal = read_json_file(d + "/cal5.json");
  CHECK(cal["provenance"]["cache_model"]["cpu_signature"] == kDefaultsCpu);
}

TEST_CASE("calibrate --machine --accept-cache-misfit: the misfit kept, marked, and never taken for the CPU's") {
  // The Zen 1's file (above) with --accept-cache-misfit: the same fit,
  // written, the refusal's first missed point in
  // provenance.cache_model.misfit, a warning in the report; trace config
  // of a capture of that CPU notes that the calibration does not describe
  // it.  Without --machine the flag is a usage error, one line, exit 2.
  std::string d = tmpdir();
  Run no = run_cli(std::string("calibrate --machine ") + kZen1 + " -o " + d + "/no.json");
  REQUIRE(no.status == 2);
  const std::string first = no.err.substr(no.err.find("(first: ") + 8);  // "code ... (tolerance N))..."
  Run r = run_cli(std::string("calibrate --machine ") + kZen1 + " --accept-cache-misfit -o " + d + "/cal.json");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find(std::string("warning: ") + kZen1 + ": kernel_cold: the cache model fitted to it misses ") !=
        std::string::npos);
  json cal = read_json_file(d + "/cal.json");
  const json& m = cal["provenance"]["cache_model"]["misfit"];
  REQUIRE(m.is_object());
  CHECK(m["fitted"] == 16);
  CHECK(m["missed"].get<int>() >= 1);
  CHECK(no.err.find("misses " + std::to_string(m["missed"].get<int>()) + " of 16 points") != std::string::npos);
  CHECK(first.find(m["first"].get<std::string>() + ")") == 0);
  CHECK(cal["fit"]["cache"]["misfit"] == m);
  capture_copy(d, "napi-60", "AuthenticAMD family 23 model 1");
  Run tc = run_cli("trace config " + d + "/napi-60.json --calibration " + d + "/cal.json -o " + d + "/s.json");
  REQUIRE_MESSAGE(tc.status == 0, tc.err);
  CHECK(tc.err.find("does not describe it: its cache model misses that machine's kernel cold-path curves (kept "
                    "with --accept-cache-misfit)") != std::string::npos);
  // The shipped model's machine fits: no misfit recorded, flag or not.
  Run z5 = run_cli(std::string("calibrate --machine ") + kDefaultsMachine + " --accept-cache-misfit -o " + d +
                   "/cal5.json");
  REQUIRE_MESSAGE(z5.status == 0, z5.err);
  CHECK_FALSE(read_json_file(d + "/cal5.json")["provenance"]["cache_model"].contains("misfit"));
  Run bad = run_cli("calibrate " + capture_copy(d, "plain-60", "") + " --accept-cache-misfit -o " + d + "/x.json");
  CHECK(bad.status == 2);
  CHECK(bad.err == "tunsim: calibrate: --accept-cache-misfit applies to the cache fit of --machine FILE\n");
  CHECK_FALSE(fs::exists(d + "/x.json"));
}
