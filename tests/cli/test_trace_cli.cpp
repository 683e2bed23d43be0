// `tunsim trace stats` and `tunsim diff` through the CLI binary (TUNSIM_BIN),
// on the committed reference traces and files derived from them in a
// temporary directory.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/io/files.hpp"
#include "tests/cli/cli_util.hpp"
#include "sim/tools/trace/parse.hpp"
#include "sim/tools/trace/stats.hpp"

namespace {

const std::string kRef = "results/reference/";

using testutil::Run;
using testutil::run_cli;
using testutil::tmpdir;

void write(const std::string& path, const std::string& s) { std::ofstream(path) << s; }

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("cli: trace stats --json gives the trace_metrics schema") {
  Run r = run_cli("trace stats --json " + kRef + "napi-60-1w.trace.gz");
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["packets"] == 3000);  // the sidecar's 3000 frames
  CHECK(j["napi_poll_work"]["count"] == 3000);
  CHECK(j["napi_poll_work"]["kind"] == "integer");
  CHECK(j["write_ns"]["kind"] == "log");
  CHECK(j["drops"]["UNHANDLED_PROTO"] == 3000);
  CHECK(j["skipped_lines"] == 0);
  // Human table names the device and each metric.
  Run h = run_cli("trace stats " + kRef + "napi-60-1w.trace.gz");
  REQUIRE(h.status == 0);
  CHECK(h.out.find("device:  tstap2405") != std::string::npos);
  CHECK(h.out.find("softirq_net_rx_ns") != std::string::npos);
}

TEST_CASE("cli: trace stats --pid and --comm select the writer tasks") {
  // The 2-writer sidecar names both tids; each wrote count_per_thread frames.
  auto side = nlohmann::json::parse(tunsim::read_file(kRef + "napi-60-2w.json"));
  std::string t0 = std::to_string(side["threads"][0]["tid"].get<int>());
  std::string t1 = std::to_string(side["threads"][1]["tid"].get<int>());
  uint64_t per = side["count_per_thread"].get<uint64_t>();
  auto writes = [&](const std::string& opts) {
    Run r = run_cli("trace stats --json " + opts + " " + kRef + "napi-60-2w.trace.gz");
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out)["write_ns"]["count"].get<uint64_t>();
  };
  CHECK(writes("--pid " + t0) == per);
  CHECK(writes("--pid " + t0 + "," + t1) == 2 * per);
  CHECK(writes("--pid " + t0 + " --pid " + t1) == 2 * per);
  CHECK(writes("--comm tapwriter") == 2 * per);
  // A task that made no write() is refused (below), not counted 0.
  Run none = run_cli("trace stats --json --comm nosuchtask " + kRef + "napi-60-2w.trace.gz");
  CHECK(none.status == 2);
  // Packet metrics do not depend on the writer filter.
  Run r = run_cli("trace stats --json --pid " + t0 + " " + kRef + "napi-60-2w.trace.gz");
  CHECK(nlohmann::json::parse(r.out)["packets"] == 2 * per);
}

TEST_CASE("cli: a --dev, --pid or --comm that selects nothing is refused, by trace stats and by diff") {
  // Each gave every metric 0 on its side, and diff then reported PASS on
  // tolerances it had checked on nothing (a typo in --dev passed).
  const std::string t = kRef + "plain-60-1w.trace.gz";  // 3000 frames on tstap2356, written by tapwriter
  auto refused = [&](const std::string& args, const std::string& what) {
    Run r = run_cli(args);
    INFO(args, "\nstderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err == "tunsim: " + t + ": " + what + "\n");
    CHECK(r.out.empty());
  };
  const std::string nodev = "--dev tstap9: expected netif_receive_skb events on that device, found none (the "
                            "trace's devices: tstap2356 (3000))";
  refused("diff " + t + " " + t + " --dev tstap9 --tol throughput_mpps=0.01", nodev);
  refused("trace stats " + t + " --dev tstap9", nodev);
  refused("diff " + t + " " + t + " --pid 1 --tol write_ns.p50=0.01",
          "expected write() calls (syscall 1) of pid 1, found none");
  refused("trace stats " + t + " --comm nosuch", "expected write() calls (syscall 1) of comm nosuch, found none");
  refused("trace stats " + t + " --pid 1,2 --comm nosuch",
          "expected write() calls (syscall 1) of pid 1, 2, comm nosuch, found none");
  // A --tol without its bound was read as a file name ("throughput_mpps:
  // cannot open").
  Run tol = run_cli("diff " + t + " " + t + " --tol throughput_mpps");
  CHECK(tol.status == 2);
  CHECK(tol.err == "tunsim: --tol throughput_mpps: expected METRIC=BOUND or a tolerance file, found neither\n");
  // The device and the task the capture has: compared, and within the tolerance.
  Run ok = run_cli("diff " + t + " " + t + " --dev tstap2356 --comm tapwriter --tol throughput_mpps=0.01");
  INFO("stderr: ", ok.err);
  CHECK(ok.status == 0);
}

TEST_CASE("cli: a CPU's events out of time order are a damaged trace: refused, or skipped with --lenient") {
  // A CPU's ring buffer is in time order.  A step back was taken as it came:
  // the write() it closed was dropped (write_ns count 0) and the span was
  // measured from the sorted times.  Another CPU's earlier time is no step
  // back (ftrace merges the CPUs by time, and a reader may not).
  std::string d = tmpdir();
  std::string t = d + "/back.trace";
  write(t,
        "  w-1 [000] 10.000000000: netif_receive_skb: dev=tap0 skbaddr=0x1 len=46\n"
        "  w-1 [001] 9.500000000: netif_receive_skb: dev=tap0 skbaddr=0x2 len=46\n"
        "  w-1 [000] 10.000001000: sys_enter: NR 1 (3)\n"
        "  w-1 [000] 9.000000000: sys_exit: NR 1 = 60\n");
  Run r = run_cli("trace stats " + t);
  CHECK(r.status == 2);
  CHECK(r.err == "tunsim: " + t + ":4: expected CPU 0's events in time order, found 9.000000000 after "
                 "10.000001000\n");
  Run l = run_cli("trace stats --json --lenient " + t);
  REQUIRE(l.status == 0);
  auto j = nlohmann::json::parse(l.out);
  CHECK(j["skipped_lines"] == 1);
  CHECK(j["packets"] == 2);  // both CPUs' frames: CPU 1's earlier time is no step back
}

TEST_CASE("cli: malformed line -> exit 2 with one line naming file and line, --lenient reports it") {
  std::string text = tunsim::trace::read_trace_text(kRef + "plain-60-1w-text.trace.gz");
  // Replace line 20 (a data line, after the 12 header lines) with garbage.
  size_t pos = 0;
  for (int i = 1; i < 20; ++i) pos = text.find('\n', pos) + 1;
  size_t end = text.find('\n', pos);
  text.replace(pos, end - pos, "garbage");
  std::string f = tmpdir() + "/bad.trace";
  write(f, text);
  Run r = run_cli("trace stats " + f);
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find(f + ":20: expected 'TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS', found 'garbage'") !=
        std::string::npos);
  Run l = run_cli("trace stats --lenient --json " + f);
  REQUIRE(l.status == 0);
  CHECK(nlohmann::json::parse(l.out)["skipped_lines"] == 1);
  Run lh = run_cli("trace stats --lenient " + f);
  CHECK(lh.out.find("1 malformed lines skipped; first: " + f + ":20:") != std::string::npos);
}

TEST_CASE("cli: missing and corrupt files are one-line errors") {
  Run r = run_cli("trace stats /nonexistent/x.trace");
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("/nonexistent/x.trace: cannot open") != std::string::npos);
  // A gzip magic followed by junk.
  std::string f = tmpdir() + "/corrupt.trace.gz";
  write(f, std::string("\x1f\x8b") + "not really gzip");
  Run c = run_cli("trace stats " + f);
  CHECK(c.status == 2);
  CHECK(count_lines(c.err) == 1);
  CHECK(c.err.find(f + ": expected a readable (gzip or plain) trace, found a corrupt or truncated one") !=
        std::string::npos);
}

TEST_CASE("cli: diff of a trace with itself: KS 0 everywhere, exit 0") {
  Run r = run_cli("diff --json --ks-max 0 --tol throughput_mpps=0 " + kRef + "napi-60-2w.trace.gz " +
                 kRef + "napi-60-2w.trace.gz");
  CHECK(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["pass"] == true);
  REQUIRE(j["distributions"].size() == 5);
  for (auto& d : j["distributions"]) {
    CHECK(d["ks"] == 0.0);
    CHECK(d["wasserstein"] == 0.0);
  }
  for (auto& s : j["scalars"]) CHECK(s["rel_err"] == 0.0);
}

TEST_CASE("cli: diff against a modified copy exits 1") {
  // Drop every second netif_receive_skb line: half the packets, and the
  // inter-arrival times double.
  std::string text = tunsim::trace::read_trace_text(kRef + "plain-60-1w.trace.gz");
  std::istringstream in(text);
  std::string line, out;
  int k = 0;
  while (std::getline(in, line)) {
    if (line.find("netif_receive_skb:") != std::string::npos && (k++ % 2)) continue;
    out += line + "\n";
  }
  std::string f = tmpdir() + "/half.trace";
  write(f, out);
  Run r = run_cli("diff --json --tol packets=0.01 " + kRef + "plain-60-1w.trace.gz " + f);
  CHECK(r.status == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["pass"] == false);
  for (auto& s : j["scalars"])
    if (s["name"] == "packets") {
      CHECK(s["a"] == 3000.0);
      CHECK(s["b"] == 1500.0);
      CHECK(s["rel_err"] == doctest::Approx(-0.5));
      CHECK(s["ok"] == false);
    }
  // Without tolerances nothing is checked: exit 0 although they differ.
  CHECK(run_cli("diff " + kRef + "plain-60-1w.trace.gz " + f).status == 0);
  // The inter-arrival distribution moved by ~2x: a KS bound of 0.5 fails.
  Run k2 = run_cli("diff --tol netif_receive_skb_interarrival_ns.ks=0.5 " + kRef +
                  "plain-60-1w.trace.gz " + f);
  CHECK(k2.status == 1);
  CHECK(k2.out.find("FAIL: 1 of 1 metric(s) out of tolerance: netif_receive_skb_interarrival_ns") !=
        std::string::npos);
}

TEST_CASE("cli: summary JSON and bare trace_metrics operands, tolerance file") {
  Run s = run_cli("trace stats --json " + kRef + "napi-60-1w.trace.gz");
  REQUIRE(s.status == 0);
  auto tm = nlohmann::json::parse(s.out);
  std::string bare = tmpdir() + "/bare.json", summary = tmpdir() + "/summary.json";
  write(bare, tm.dump());
  write(summary, nlohmann::json{{"scenario", "x"}, {"trace_metrics", tm}}.dump());
  // Trace vs its own summary: identical after the JSON round trip.
  Run a = run_cli("diff --json --ks-max 0 --tol throughput_mpps=1e-9 " + kRef + "napi-60-1w.trace.gz " + summary);
  CHECK(a.status == 0);
  auto ja = nlohmann::json::parse(a.out);
  CHECK(ja["b"].get<std::string>().find("(summary") != std::string::npos);
  // A modified bare object: throughput x1.5 is out of a 10% tolerance.
  tm["throughput_mpps"] = tm["throughput_mpps"].get<double>() * 1.5;
  write(bare, tm.dump());
  std::string tol = tmpdir() + "/tol.json";
  write(tol, R"({"throughput_mpps": 0.10, "napi_poll_work": {"ks": 0.2}})");
  Run b = run_cli("diff --json --tol " + tol + " " + summary + " " + bare);
  CHECK(b.status == 1);
  auto jb = nlohmann::json::parse(b.out);
  for (auto& row : jb["scalars"])
    if (row["name"] == "throughput_mpps") {
      CHECK(row["rel_err"] == doctest::Approx(0.5));
      CHECK(row["ok"] == false);
    }
  // The same file without the throughput bound passes: napi_poll_work is unchanged.
  write(tol, R"({"napi_poll_work": {"ks": 0.2}})");
  CHECK(run_cli("diff --tol " + tol + " " + summary + " " + bare).status == 0);
  // Bad tolerance file: one-line error naming file and key, exit 2.
  write(tol, R"({"napi_poll_work": {"kss": 0.2}})");
  Run e = run_cli("diff --tol " + tol + " " + summary + " " + bare);
  CHECK(e.status == 2);
  CHECK(count_lines(e.err) == 1);
  CHECK(e.err.find(tol + ": napi_poll_work.kss: expected one of ks") != std::string::npos);
  Run u = run_cli("diff --tol nosuch=0.1 " + summary + " " + bare);
  CHECK(u.status == 2);
  CHECK(u.err.find("unknown metric 'nosuch'") != std::string::npos);
}

TEST_CASE("cli: diff of napi 1 writer vs 2 writers: batching shows in packets_per_softirq") {
  // 1 writer: always 1 packet per softirq; 2 writers: some softirqs deliver
  // several, so KS > 0 and a KS bound of 0 fails, while napi_poll_work stays
  // mostly 1 (see the reference tests).
  Run r = run_cli("diff --json --tol packets_per_softirq.ks=0 " + kRef + "napi-60-1w.trace.gz " + kRef +
                 "napi-60-2w.trace.gz");
  CHECK(r.status == 1);
  auto j = nlohmann::json::parse(r.out);
  for (auto& d : j["distributions"])
    if (d["name"] == "packets_per_softirq") {
      CHECK(d["ks"].get<double>() > 0);
      CHECK(d["a"]["p99"] == 1.0);
    }
}

TEST_CASE("cli: diff --plot writes an SVG of the CDFs (or says matplotlib is missing)") {
  std::string svg = tmpdir() + "/cdf.svg";
  Run r = run_cli("diff --plot " + svg + " " + kRef + "napi-60-1w.trace.gz " + kRef + "napi-60-2w.trace.gz");
  bool have_mpl = std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0;
  if (have_mpl) {
    REQUIRE(r.status == 0);
    std::string s = tunsim::read_file(svg);
    CHECK(s.find("<svg") != std::string::npos);
    CHECK(s.find("packets_per_softirq") != std::string::npos);  // one panel per shared distribution
  } else {
    CHECK(r.status == 2);
    CHECK(r.err.find("matplotlib is not installed") != std::string::npos);
  }
  Run bad = run_cli("diff --plot " + tmpdir() + "/cdf.jpg " + kRef + "napi-60-1w.trace.gz " + kRef +
                   "napi-60-1w.trace.gz");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("expected a file name ending in .png or .svg") != std::string::npos);
}

TEST_CASE("cli: diff --plot of the same traces gives the same bytes (SVG and PNG)") {
  // The brief: the same inputs give byte-identical results.  An SVG carried
  // <dc:date> (the time it was drawn) and clip-path ids from a random salt,
  // so two plots of the same traces differed; scripts/sweep's figures fix
  // both (svg.hashsalt, Date None), and plot-cdf.py now does the same.
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") != 0) {
    MESSAGE("matplotlib is not installed for /usr/bin/python3: diff --plot not tried");
    return;
  }
  for (const char* ext : {".svg", ".png"}) {
    std::string bytes[2];
    for (int i = 0; i < 2; ++i) {
      std::string out = tmpdir() + "/cdf" + std::to_string(i) + ext;
      Run r = run_cli("diff --plot " + out + " " + kRef + "napi-60-1w.trace.gz " + kRef + "napi-60-2w.trace.gz");
      REQUIRE(r.status == 0);  // within the default tolerances, as above
      bytes[i] = tunsim::read_file(out);
    }
    CAPTURE(ext);
    CHECK(bytes[0].size() > 1000);
    CHECK(bytes[0] == bytes[1]);
    CHECK(bytes[0].find("<dc:date>") == std::string::npos);
  }
}
