// Issue 13 items 10, 14, 15, 16 through the CLI: bad SimGrid options are
// input errors, SimGrid's help works; the timestamp resolution of a trace is
// reported and microseconds are refused for calibration; a capture described
// on the command line replaces a sidecar; diff selects writer tasks and says
// when nothing was checked.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using testutil::lines_of;
using testutil::Run;
using testutil::run_cli;
using testutil::run_sh;
using testutil::tmpdir;

namespace {

const std::string kRef = "results/reference/";
const std::string kShort = "configs/default.json -q --set duration_ms=3 -o /dev/null";

void check_error(const Run& r, const std::string& what) {
  INFO("stderr: ", r.err);
  CHECK(r.status == 2);
  CHECK(lines_of(r.err) == 1);
  CHECK(r.err.rfind("tunsim: ", 0) == 0);
  CHECK(r.err.find(what) != std::string::npos);
}

json run_json(const std::string& args) {
  Run r = run_cli(args);
  INFO(args, ": ", r.err);
  REQUIRE(r.status == 0);
  return json::parse(r.out);
}

// A reference trace decompressed under a name without a sidecar beside it.
std::string without_sidecar(const std::string& name) {
  std::string p = tmpdir() + "/nosidecar-" + name + ".trace";
  REQUIRE(run_sh("gzip -dc " + kRef + name + ".trace.gz > " + p).status == 0);
  return p;
}

}  // namespace

TEST_CASE("simgrid options 13.10: a bad --cfg or --log is exit 2 and one line, not an abort") {
  // SimGrid called xbt_die (SIGABRT, exit 134) for both.
  Run f = run_cli("run " + kShort + " --cfg=contexts/factory:nonexistent");
  check_error(f, "tunsim: SimGrid option --cfg=contexts/factory:nonexistent: Invalid context factory specified.");
  // SimGrid's list of what is valid is kept on the line.
  CHECK(f.err.find("Valid factories on this machine: raw:") != std::string::npos);
  CHECK(f.err.find("boost:") != std::string::npos);
  check_error(run_cli("run " + kShort + " '--log=[[[[['"), "SimGrid option --log=[[[[[: Invalid control string");
  // An unknown key: its message (a long list of keys) is kept, shortened.
  Run k = run_cli("run " + kShort + " --cfg=nosuch/key:1");
  check_error(k, "SimGrid option --cfg=nosuch/key:1:");
  CHECK(k.err.size() < 2000);
  // validate checks them too, before anything runs; a good option still works.
  check_error(run_cli("validate configs/default.json --cfg=contexts/factory:nonexistent"), "Invalid context factory");
  Run ok = run_cli("run " + kShort + " --cfg=contexts/factory:thread");
  INFO(ok.err);
  CHECK(ok.status == 0);
}

TEST_CASE("simgrid options 13.10: --help-cfg and --help-logs print SimGrid's help and exit 0") {
  Run c = run_cli("--help-cfg");
  INFO(c.err);
  CHECK(c.status == 0);
  CHECK(c.out.find("Description of the configuration accepted by this simulator:") != std::string::npos);
  CHECK(c.out.find("contexts/factory") != std::string::npos);
  Run l = run_cli("--help-logs");
  INFO(l.err);
  CHECK(l.status == 0);
  CHECK(l.out.find("Description of the logging output:") != std::string::npos);
}

TEST_CASE("resolution 13.14: microsecond timestamps are reported and refused for calibration") {
  // plain-60-1w-text: the tracefs trace file, timestamps with 6 decimals.
  const std::string us = kRef + "plain-60-1w-text.trace.gz", ns = kRef + "plain-60-1w.trace.gz";
  Run s = run_cli("trace stats " + us);
  CHECK(s.status == 0);
  CHECK(s.out.find("timestamps: 1000 ns resolution (microseconds") != std::string::npos);
  CHECK(run_cli("trace stats " + ns).out.find("timestamps: 1 ns resolution\n") != std::string::npos);
  CHECK(run_json("trace stats --json " + us)["timestamp_resolution_ns"] == 1000);
  // diff shows each operand's resolution.
  Run d = run_cli("diff " + us + " " + ns);
  CHECK(d.out.find("1000 ns timestamps") != std::string::npos);
  CHECK(d.out.find("1 ns timestamps") != std::string::npos);
  // calibrate refuses it unless told.
  std::string out = tmpdir() + "/cal-us.json";
  check_error(run_cli("calibrate " + us + " -o " + out),
              us + ": expected timestamps resolving 10 ns or better to calibrate, found a resolution of 1000 ns");
  CHECK_FALSE(std::ifstream(out).good());
  Run a = run_cli("calibrate --allow-coarse-timestamps " + us + " -o " + out);
  INFO(a.err);
  CHECK(a.status == 0);
  // trace config measures cpus.speed only with a calibration: refused too.
  check_error(run_cli("trace config " + us + " --calibration reference"),
              "expected timestamps resolving 10 ns or better to measure cpus.speed, found a resolution of 1000 ns");
  json cfg = run_json("trace config " + us + " --calibration reference --allow-coarse-timestamps");
  CHECK(cfg["cpus"].contains("speed"));
  // Without a calibration there is nothing to measure: no refusal.
  CHECK(run_cli("trace config " + us).status == 0);
}

TEST_CASE("trace config --calibration: a NAME of no file, a folder or a file that is no calibration, refused first") {
  // A NAME that named no file was written into the scenario as it was (exit
  // 0; the scenario then failed when run), and a file that is no calibration
  // was refused after six lines of the capture's inference report.
  const std::string t = "results/reference/plain-60-1w.trace.gz";
  auto refused = [&](const std::string& cal, const std::string& what) {
    Run r = run_cli("trace config " + t + " --calibration " + cal);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(lines_of(r.err) == 1);
    CHECK(r.err.rfind("tunsim: --calibration" , 0) == 0);
    CHECK(r.err.find(what) != std::string::npos);
    CHECK(r.out.empty());
  };
  refused("nosuch", "--calibration nosuch: expected a calibration NAME (configs/calibration/nosuch.json), found no "
                    "such file");
  refused("/nonexistent/c.json", "--calibration /nonexistent/c.json: expected a calibration file, found no such file");
  refused("/tmp", "--calibration /tmp: expected a calibration file, found a folder or a special file");
  refused("/etc/hostname", "/etc/hostname:1:1: expected JSON");
  // A NAME of a shipped calibration is its absolute path in the scenario.
  json cfg = json::parse(run_cli("trace config " + t + " --calibration reference").out);
  CHECK(cfg["calibration"] == std::filesystem::absolute("configs/calibration/reference.json").string());
}

TEST_CASE("capture 13.15: a trace without a sidecar, described on the command line and inferred") {
  // napi-60-1w: one writer (tid 2420) on CPU 0 writing 3000 60-byte frames
  // to an IFF_NAPI tap tstap2405 (its sidecar says so).
  std::string t = without_sidecar("napi-60-1w");
  std::string cal = tmpdir() + "/cal-nosidecar.json";
  Run c = run_cli("calibrate " + t + " -o " + cal);
  INFO(c.err);
  REQUIRE(c.status == 0);
  // What it inferred, and how, is in its report.
  CHECK(c.out.find("device tstap2405: the most netif_receive_skb events (3000)") != std::string::npos);
  CHECK(c.out.find("writer 2420 on CPU 0: 3000 write() calls, 3000 delivering on the device") != std::string::npos);
  CHECK(c.out.find("frame 60 bytes") != std::string::npos);
  CHECK(c.out.find("mode napi: 3000 napi_poll events on the device") != std::string::npos);
  // The same fit as with the sidecar: the sidecar adds nothing the fit uses.
  std::string cal_sc = tmpdir() + "/cal-sidecar.json";
  REQUIRE(run_cli("calibrate " + kRef + "napi-60-1w.trace.gz -o " + cal_sc).status == 0);
  CHECK(json::parse(tunsim::read_file(cal))["parameters"] == json::parse(tunsim::read_file(cal_sc))["parameters"]);
  // trace config: the same design and writers as from the sidecar.
  json a = run_json("trace config " + t), b = run_json("trace config " + kRef + "napi-60-1w.json");
  CHECK(a["design"] == "napi_gro");
  CHECK(a["design"] == b["design"]);
  CHECK(a["senders"] == b["senders"]);
  // What is given overrides what is inferred: --mode plain on a napi trace.
  json p = run_json("trace config " + t + " --mode plain --kernel 6.18.44-fc-v782");
  CHECK(p["design"] != "napi_gro");
  CHECK(p["description"].get<std::string>().find("captured on 6.18.44-fc-v782") != std::string::npos);
  // What cannot be inferred is one line: a device with no events.
  check_error(run_cli("trace config " + t + " --dev nosuch0"), "nosuch0");
  // A plain trace infers plain mode.
  CHECK(run_json("trace config " + without_sidecar("plain-60-1w"))["design"] ==
        run_json("trace config " + kRef + "plain-60-1w.json")["design"]);
}

TEST_CASE("diff 13.16: --pid/--comm select writers like trace stats, no tolerance says nothing was checked") {
  // napi-60-2w: writers 2469 and 2470, 3000 writes each.
  const std::string t = kRef + "napi-60-2w.trace.gz";
  auto write_count = [](const json& d, const char* side) {
    for (auto& x : d["distributions"])
      if (x["name"] == "write_ns") return x[side]["count"].get<long>();
    return -1L;
  };
  json both = run_json("diff --json " + t + " " + t);
  CHECK(write_count(both, "a") == 6000);
  json one = run_json("diff --json --pid 2469 " + t + " " + t);
  CHECK(write_count(one, "a") == 3000);
  CHECK(write_count(one, "b") == 3000);
  CHECK(write_count(one, "a") == run_json("trace stats --json --pid 2469 " + t)["write_ns"]["count"].get<long>());
  json side = run_json("diff --json --a-pid 2470 " + t + " " + t);
  CHECK(write_count(side, "a") == 3000);
  CHECK(write_count(side, "b") == 6000);
  // A --comm no writer has is refused (7b40715: it compared zero writes and
  // passed), naming the trace and what was looked for.
  Run none = run_cli("diff --json --comm nosuch " + t + " " + t);
  CHECK(none.status == 2);
  CHECK(none.err == "tunsim: " + t + ": expected write() calls (syscall 1) of comm nosuch, found none\n");
  // Without any tolerance: exit 0 and a line saying nothing was checked,
  // not "PASS: 0 metric(s)".
  Run n = run_cli("diff " + t + " " + t);
  CHECK(n.status == 0);
  CHECK(n.out.find("NOTHING CHECKED: no metric has a tolerance") != std::string::npos);
  CHECK(n.out.find("PASS") == std::string::npos);
  CHECK(both["checked"] == 0);
  Run w = run_cli("diff " + t + " " + t + " --ks-max 0.01");
  CHECK(w.status == 0);
  CHECK(w.out.find("PASS: ") != std::string::npos);
  CHECK(run_json("diff --json --ks-max 0.01 " + t + " " + t)["checked"].get<int>() > 0);
}

TEST_CASE("capture: a machine of more CPUs than the model simulates, or a CONFIG_HZ it does not take, is refused") {
  // A capture may describe 1-4096 CPUs (the sidecar's nr_cpus, --nr-cpus),
  // the model simulates at most 256 (cpus.count) and CONFIG_HZ 100-1000
  // (kernel.hz).  trace config wrote a scenario of 257 CPUs that run then
  // refused, calibrate failed as an internal error (its penalty run refused
  // that scenario: exit 3), and a CONFIG_HZ of 1200 was left out of the
  // scenario, which ran at 250.  Each is now one line naming the capture.
  std::string d = tmpdir();
  REQUIRE(run_sh("cp " + kRef + "plain-60-1w.trace.gz " + d + "/big.trace.gz && cp " + kRef + "plain-60-1w.trace.gz " +
                 d + "/fast.trace.gz").status == 0);
  json side = json::parse(tunsim::read_file(kRef + "plain-60-1w.json"));
  side["nr_cpus"] = 300;
  side["trace_file"] = "big.trace.gz";
  std::ofstream(d + "/big.json") << side.dump();
  side["nr_cpus"] = 2;
  side["hz"] = 1200;
  side["trace_file"] = "fast.trace.gz";
  std::ofstream(d + "/fast.json") << side.dump();
  const std::string cpus = "nr_cpus: expected a machine of at most 256 CPUs, the most the model simulates "
                           "(cpus.count), found ";
  check_error(run_cli("trace config " + d + "/big.json"), d + "/big.json: " + cpus + "300");
  check_error(run_cli("calibrate " + d + "/big.trace.gz -o " + d + "/cal.json"), d + "/big.json: " + cpus + "300");
  check_error(run_cli("calibrate " + without_sidecar("plain-60-1w") + " --nr-cpus 257 -o " + d + "/cal.json"),
              "(described on the command line): " + cpus + "257");
  check_error(run_cli("trace config " + d + "/fast.json"),
              d + "/fast.json: hz: expected a CONFIG_HZ the model takes (kernel.hz, 100..1000), found 1200");
  CHECK_FALSE(std::filesystem::exists(d + "/cal.json"));
  // The bounds themselves are taken: 256 CPUs, HZ 1000.
  json ok = run_json("trace config " + without_sidecar("plain-60-1w") + " --nr-cpus 256 --hz 1000");
  CHECK(ok["cpus"]["count"] == 256);
  CHECK(ok["kernel"]["hz"] == 1000);
}

TEST_CASE("capture: one writer thread named twice is refused, not simulated as two writers") {
  // --writers 2371,2371 on a single-writer capture, or a sidecar listing one
  // tid twice, gave trace config a scenario of two writers (exit 0): the one
  // thread's writes counted for each.
  std::string t = without_sidecar("plain-60-1w");
  check_error(run_cli("trace config " + t + " --writers 2371,2371"),
              "--writers: expected each thread id once, found 2371 twice");
  check_error(run_cli("calibrate " + t + " --writers 2371,2371 -o " + tmpdir() + "/cal.json"),
              "--writers: expected each thread id once, found 2371 twice");
  json side = json::parse(tunsim::read_file(kRef + "napi-60-2w.json"));  // tids 2469 and 2470
  side["threads"][1]["tid"] = 2469;
  side["trace_file"] = "../../" + kRef + "napi-60-2w.trace.gz";  // not read: refused first
  std::string path = tmpdir() + "/dup.json";
  std::ofstream(path) << side.dump();
  check_error(run_cli("trace config " + path),
              path + ": threads[1].tid: expected each writer thread once, found 2469 again (threads[0])");
}

TEST_CASE("calibrate: one trace given twice is refused, not fitted as two captures") {
  // calibrate T T fitted T's writes twice (exit 0), its workload weighing
  // double beside the others; likewise through another spelling or a link.
  std::string d = tmpdir();
  REQUIRE(run_sh("cp " + kRef + "plain-60-1w.trace.gz " + d + "/t.trace.gz && ln -s t.trace.gz " + d +
                 "/link.trace.gz").status == 0);
  check_error(run_cli("calibrate " + d + "/t.trace.gz " + d + "/t.trace.gz -o " + d + "/cal.json"),
              "TRACE " + d + "/t.trace.gz: expected each file once, found it twice");
  check_error(run_cli("calibrate " + d + "/t.trace.gz " + d + "/./link.trace.gz -o " + d + "/cal.json"),
              "TRACE " + d + "/./link.trace.gz: expected each file once, found the file " + d + "/t.trace.gz names");
  check_error(run_cli("calibrate " + d + "/t.trace.gz --split-from " + kRef + "napi-60-1w-perf.json --split-from " +
                      kRef + "napi-60-1w-perf.json -o " + d + "/cal.json"),
              "--split-from " + kRef + "napi-60-1w-perf.json: expected each file once, found it twice");
  CHECK_FALSE(std::filesystem::exists(d + "/cal.json"));
}
