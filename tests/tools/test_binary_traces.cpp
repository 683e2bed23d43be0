// Binary traces (issue 13 item 13): trace-cmd's trace.dat, decoded through
// libtracecmd, and perf.data, through `perf script --ns`, give exactly the
// metrics of their text forms (tests/tools/fixtures/README.md: the same
// captures, converted by trace-cmd report and perf script on the machine
// that recorded them).  Before, both were "found 'Dtracing7...'" errors.
#include <doctest/doctest.h>

#include <zlib.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/tools/trace/binary.hpp"
#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using testutil::lines_of;
using testutil::Run;
using testutil::run_cli;
using testutil::run_sh;
using testutil::tmpdir;

namespace {

const std::string kFix = "tests/tools/fixtures/";

std::string gunzip_to(const std::string& gz, const std::string& name) {
  gzFile f = gzopen(gz.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out = tmpdir() + "/" + name;
  std::ofstream o(out, std::ios::binary);
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) o.write(buf, n);
  gzclose(f);
  return out;
}

// trace stats --json of `path`, without the one key that says which format
// the file was in.
json metrics(const std::string& args) {
  Run r = run_cli("trace stats --json " + args);
  INFO("trace stats ", args, ": ", r.err);
  REQUIRE(r.status == 0);
  json j = json::parse(r.out);
  j.erase("trace_format");
  return j;
}

}  // namespace

TEST_CASE("binary traces: the first bytes say what a file is") {
  using tunsim::trace::binary_format;
  using tunsim::trace::BinaryFormat;
  CHECK(binary_format(std::string("\x17\x08\x44tracing6", 11)) == BinaryFormat::TraceDat);
  CHECK(binary_format("PERFILE2\x68") == BinaryFormat::PerfData);
  CHECK(binary_format("PERFFILE") == BinaryFormat::PerfData);
  CHECK(binary_format("cpus=2\n") == BinaryFormat::None);
  CHECK(binary_format("\x17\x08") == BinaryFormat::None);  // too short to say
  CHECK(binary_format("") == BinaryFormat::None);
}

TEST_CASE("binary traces: trace.dat through libtracecmd gives the metrics of trace-cmd report's text") {
  if (!tunsim::trace::have_tracecmd()) {
    // Built without libtracecmd: a trace.dat is one line saying so.
    Run r = run_cli("trace stats " + kFix + "napi-200.dat");
    CHECK(r.status == 2);
    CHECK(r.err.find("built without libtracecmd") != std::string::npos);
    return;
  }
  json dat = metrics(kFix + "napi-200.dat");
  json text = metrics(kFix + "napi-200.report.gz");
  CHECK(dat == text);
  // The capture: 200 frames written by one writer on CPU 0 to an IFF_NAPI tap.
  CHECK(dat["packets"] == 200);
  CHECK(dat["write_ns"]["count"] == 200);
  // trace stats names the format; the JSON carries it.
  Run r = run_cli("trace stats " + kFix + "napi-200.dat");
  CHECK(r.out.find("(trace.dat, 2006 records, 2006 events)") != std::string::npos);
  CHECK(json::parse(run_cli("trace stats --json " + kFix + "napi-200.dat").out)["trace_format"] == "trace.dat");
  // gzip-compressed and from standard input (copied to a temporary file:
  // libtracecmd seeks).
  std::string gz = tmpdir() + "/napi-200.dat.gz";
  REQUIRE(run_sh("gzip -c " + kFix + "napi-200.dat > " + gz).status == 0);
  CHECK(metrics(gz) == text);
  CHECK(metrics("- < " + kFix + "napi-200.dat") == text);
  // diff reads it as an operand: identical to the text.
  Run d = run_cli("diff " + kFix + "napi-200.dat " + kFix + "napi-200.report.gz --tol write_ns.ks=0");
  INFO(d.err);
  CHECK(d.status == 0);
  // calibrate and trace config take it with its sidecar (napi-200.json).
  Run c = run_cli("trace config " + kFix + "napi-200.dat");
  INFO(c.err);
  CHECK(c.status == 0);
  CHECK(json::parse(c.out)["design"] == "napi_gro");
}

TEST_CASE("binary traces: a truncated or corrupt trace.dat is one line, never a crash") {
  std::string dat = tunsim::read_file(kFix + "napi-200.dat");
  for (size_t keep : {size_t(16), size_t(3000), dat.size() / 2}) {
    std::string p = tmpdir() + "/cut-" + std::to_string(keep) + ".dat";
    std::ofstream(p, std::ios::binary) << dat.substr(0, keep);
    Run r = run_cli("trace stats " + p);
    INFO(keep, " bytes: ", r.err);
    CHECK(r.status == 2);
    CHECK(lines_of(r.err) == 1);
    CHECK(r.err.find(p + ": ") != std::string::npos);
  }
}

TEST_CASE("binary traces: perf.data through perf script --ns, or one line saying to run it") {
  std::string data = gunzip_to(kFix + "napi-200p.perf.data.gz", "napi-200p.perf.data");
  // Without perf on PATH: what to run, exit 2.
  Run no = run_sh("PATH=/nonexistent \"$TUNSIM\" trace stats " + data);
  INFO(no.err);
  CHECK(no.status == 2);
  CHECK(lines_of(no.err) == 1);
  CHECK(no.err.find(data + ": a perf.data file (perf record), which tunsim reads as the text `perf script --ns -i " +
                    data) != std::string::npos);
  if (run_sh("command -v perf >/dev/null").status != 0) return;
  // With perf: the metrics of perf script's text.
  json via_perf = metrics(data);
  json text = metrics(kFix + "napi-200p.perf-script.gz");
  CHECK(via_perf == text);
  CHECK(via_perf["packets"] == 200);
}
