// The file promises (issue 13 item 1): only a regular file is replaced
// atomically; devices, pipes and links are written in place; a temporary is
// never a link planted under its name; a write error on standard output is
// an error; "-" is standard output for -o and --trace and standard input for
// every command that reads a file.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;
using testutil::lines_of;
using testutil::Run;
using testutil::run_cli;
using testutil::run_sh;
using testutil::tmpdir;
using testutil::slurp;

namespace {

const std::string kShort = "configs/default.json -q --set duration_ms=3";

// A JSON summary of the default scenario.
bool is_summary(const std::string& text) {
  try {
    json j = json::parse(text);
    return j.contains("trace_metrics") && j["design"] == "rx_batched";
  } catch (...) {
    return false;
  }
}

}  // namespace

TEST_CASE("files: an output name of 255 bytes (NAME_MAX) is written, with nothing left beside it") {
  // The temporary beside it took the whole name plus 12 bytes: a valid name
  // of 244-255 bytes was refused ("cannot create a temporary file ...: File
  // name too long").
  std::string d = tmpdir() + "/long";
  std::filesystem::create_directories(d);
  std::string out = d + "/" + std::string(250, 'x') + ".json";
  Run r = run_cli("run configs/default.json -q --set duration_ms=3 -o " + out);
  INFO("stderr: ", r.err);
  CHECK(r.status == 0);
  CHECK(std::filesystem::is_regular_file(out));
  CHECK(std::distance(std::filesystem::directory_iterator(d), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("files: a link to nothing as -o is refused naming the link and its target, nothing is made") {
  // The message was "cannot open: No such file or directory" for a name
  // that is there (the link).
  std::string d = tmpdir() + "/dangling";
  std::filesystem::create_directories(d);
  std::filesystem::create_symlink(d + "/target.json", d + "/out.json");
  Run r = run_cli("run configs/default.json -q --set duration_ms=3 -o " + d + "/out.json");
  CHECK(r.status == 2);
  CHECK(r.err == "tunsim: " + d + "/out.json: cannot write output file: a link to " + d +
                     "/target.json, which does not exist (expected a file, or a link to one)\n");
  CHECK(std::filesystem::is_symlink(d + "/out.json"));
  CHECK_FALSE(std::filesystem::exists(d + "/target.json"));
}

TEST_CASE("files: -o /dev/null writes through the device, which stays a device") {
  // The atomic writer renamed its temporary over /dev/null (as root), which
  // became a regular file.
  struct stat before {}, after {};
  REQUIRE(::stat("/dev/null", &before) == 0);
  Run r = run_cli("run " + kShort + " -o /dev/null");
  CHECK(r.status == 0);
  REQUIRE(::stat("/dev/null", &after) == 0);
  CHECK(S_ISCHR(after.st_mode));
  CHECK(after.st_rdev == before.st_rdev);
  CHECK(after.st_ino == before.st_ino);
}

TEST_CASE("files: --trace /dev/stdout is written through the shell's descriptor, the link stays") {
  // --trace /dev/stdout replaced the link with a 2 MB file.  Written where
  // the shell's descriptor stands: after what the shell wrote first.
  std::string out = tmpdir() + "/through-stdout.txt";
  struct stat before {};
  REQUIRE(::lstat("/dev/stdout", &before) == 0);
  Run r = run_sh("{ echo first; \"$TUNSIM\" run " + kShort + " --trace /dev/stdout; } > " + out);
  CHECK(r.status == 0);
  struct stat after {};
  REQUIRE(::lstat("/dev/stdout", &after) == 0);
  CHECK(S_ISLNK(after.st_mode));
  std::string text = slurp(out);
  CHECK(text.rfind("first\n", 0) == 0);
  CHECK(text.find(": netif_receive_skb: dev=tap0") != std::string::npos);
}

TEST_CASE("files: a FIFO and a device node given as -o are written in place") {
  // A FIFO: the summary arrives through it and it stays a FIFO.
  std::string fifo = tmpdir() + "/summary.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(fifo);
    std::stringstream ss;
    ss << in.rdbuf();
    got = ss.str();
  });
  Run r = run_cli("run " + kShort + " -o " + fifo);
  reader.join();
  CHECK(r.status == 0);
  CHECK(is_summary(got));
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  // A character device node of our own (as root): /dev/null's numbers.
  std::string node = tmpdir() + "/null-node";
  if (::mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0) {
    MESSAGE("skipped the device node part: mknod needs root");
    return;
  }
  Run d = run_cli("run " + kShort + " -o " + node);
  CHECK(d.status == 0);
  REQUIRE(::lstat(node.c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == makedev(1, 3));
}

TEST_CASE("files: a symlink planted at the temporary's name is not followed") {
  // The temporary was OUT.tmp.PID opened with fopen, which followed a link
  // planted under that name and overwrote its target.  The child plants the
  // links under its own pid before it becomes tunsim.
  std::string out = tmpdir() + "/planted.json", victim = tmpdir() + "/victim.txt";
  tunsim::write_file_atomic(victim, "precious\n");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string me = std::to_string(::getpid());
    for (std::string name : {out + ".tmp." + me, tmpdir() + "/.planted.json.tmp." + me})
      if (::symlink(victim.c_str(), name.c_str()) != 0) ::_exit(120);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(TUNSIM_BIN, TUNSIM_BIN, "run", "configs/default.json", "-q", "--set", "duration_ms=3", "-o",
            out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  CHECK(slurp(victim) == "precious\n");
  CHECK(is_summary(slurp(out)));
  struct stat ls {};
  REQUIRE(::lstat((out + ".tmp." + std::to_string(pid)).c_str(), &ls) == 0);
  CHECK(S_ISLNK(ls.st_mode));
  // The planted links go, so that other tests sharing tmpdir() (run in one
  // process) find no temporary left beside their outputs.
  for (std::string name : {out + ".tmp." + std::to_string(pid), tmpdir() + "/.planted.json.tmp." + std::to_string(pid)})
    ::unlink(name.c_str());
}

TEST_CASE("files: a write error on standard output (> /dev/full) is one line and exit 2") {
  const std::string full = "No space left on device";
  for (const std::string& cmd : std::vector<std::string>{
           "validate configs/default.json", "run " + kShort + " -o -", "run " + kShort + " --trace -",
        "trace stats results/reference/napi-60-1w.trace.gz", "designs", "config-reference",
        "diff results/reference/napi-60-1w.trace.gz results/reference/napi-60-1w.trace.gz",
        "trace config results/reference/napi-60-1w.json",
        // The report of calibrate goes through iostreams, not the output file.
        "calibrate --kmod results/reference/kmod-qemu.json -o " + tmpdir() + "/kmod-full.json"}) {
    Run r = run_sh("\"$TUNSIM\" " + cmd + " > /dev/full");
    INFO(cmd, "\nstderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(lines_of(r.err) == 1);
    CHECK(r.err.rfind("tunsim: standard output", 0) == 0);
    // The reason, where the failing write is tunsim's own (not a stdio
    // buffer flushed later).
    if (cmd.rfind("calibrate", 0) != 0) CHECK(r.err.find(full) != std::string::npos);
  }
}

TEST_CASE("files: - is standard output for -o and --trace, and makes no file named -") {
  std::string d = tmpdir() + "/dash-out";
  std::filesystem::create_directories(d);
  std::string root = std::filesystem::current_path().string();
  Run s = run_sh("cd " + d + " && \"$TUNSIM\" run " + root + "/configs/default.json -q --set duration_ms=3 -o -");
  CHECK(s.status == 0);
  CHECK(is_summary(s.out));
  Run t = run_sh("cd " + d + " && \"$TUNSIM\" run " + root + "/configs/default.json -q --set duration_ms=3 --trace -");
  CHECK(t.status == 0);
  CHECK(t.out.find(": netif_receive_skb: dev=tap0") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d + "/-"));
  // Without -q the table would share standard output with the file: refused.
  Run both = run_cli("run " + std::string("configs/default.json --set duration_ms=3 -o -"));
  CHECK(both.status == 2);
  CHECK(both.err.find("add -q") != std::string::npos);
}

TEST_CASE("files: - is standard input for every command that reads a file") {
  const std::string ref = "results/reference/";
  SUBCASE("run and validate") {
    Run r = run_sh("\"$TUNSIM\" run - -q --set duration_ms=3 -o - < configs/default.json");
    CHECK(r.status == 0);
    CHECK(is_summary(r.out));
    Run v = run_sh("\"$TUNSIM\" validate - < configs/default.json");
    CHECK(v.status == 0);
    CHECK(v.out.rfind("standard input: valid (design rx_batched", 0) == 0);
    Run bad = run_sh("echo '{\"design\": 1}' | \"$TUNSIM\" validate -");
    CHECK(bad.status == 2);
    CHECK(bad.err.rfind("tunsim: standard input: design:", 0) == 0);
  }
  SUBCASE("batch") {
    Run b = run_sh("echo '{\"id\": \"p1\", \"config\": \"configs/default.json\", \"sets\": [\"duration_ms=3\"]}' | "
                   "\"$TUNSIM\" batch - -j 1");
    CHECK(b.status == 0);
    CHECK(json::parse(b.out)["status"] == "ok");
  }
  SUBCASE("trace stats, plain and gzip-compressed, and a trace.dat") {
    Run file = run_cli("trace stats --json " + ref + "napi-60-1w.trace.gz");
    Run gz = run_sh("\"$TUNSIM\" trace stats --json - < " + ref + "napi-60-1w.trace.gz");
    Run plain = run_sh("zcat " + ref + "napi-60-1w.trace.gz | \"$TUNSIM\" trace stats --json -");
    REQUIRE(file.status == 0);
    CHECK(gz.status == 0);
    CHECK(plain.status == 0);
    CHECK(gz.out == file.out);
    CHECK(plain.out == file.out);
    // /dev/zero on standard input stops at the first over-long line.
    Run zero = run_sh("head -c 100000000 /dev/zero | \"$TUNSIM\" trace stats -");
    CHECK(zero.status == 2);
    CHECK(zero.err.find("tunsim: standard input:1: expected a line of at most 65536 bytes") != std::string::npos);
  }
  SUBCASE("trace config: a sidecar or a trace") {
    Run file = run_cli("trace config " + ref + "napi-60-2w.json");
    Run in = run_sh("\"$TUNSIM\" trace config - < " + ref + "napi-60-2w.json");
    REQUIRE(file.status == 0);
    REQUIRE(in.status == 0);
    json a = json::parse(file.out), b = json::parse(in.out);
    a.erase("description");
    b.erase("description");
    // The writers' start times come from the trace beside the sidecar, which
    // a sidecar on standard input has none of: said, and left at 0.
    CHECK(a["senders"][1]["writer"]["start_us"].get<double>() > 0);
    a["senders"][1]["writer"].erase("start_us");
    CHECK(a == b);
    CHECK(in.err.find("is not there: every writer starts at 0") != std::string::npos);
    Run tr = run_sh("zcat " + ref + "napi-60-2w.trace.gz | \"$TUNSIM\" trace config - --kernel 6.18.44");
    CHECK(tr.status == 0);
    CHECK(json::parse(tr.out)["senders"].size() == 2);
  }
  SUBCASE("diff, one operand") {
    Run file = run_cli("diff --json " + ref + "napi-60-1w.trace.gz " + ref + "napi-60-2w.trace.gz");
    Run in = run_sh("\"$TUNSIM\" diff --json - " + ref + "napi-60-2w.trace.gz < " + ref + "napi-60-1w.trace.gz");
    REQUIRE(file.status == 0);
    REQUIRE(in.status == 0);
    json a = json::parse(file.out), b = json::parse(in.out);
    CHECK(a["scalars"] == b["scalars"]);
    CHECK(a["distributions"] == b["distributions"]);
    CHECK(b["a"].get<std::string>().rfind("standard input (trace", 0) == 0);
    Run both = run_sh("\"$TUNSIM\" diff - - < /dev/null");
    CHECK(both.status == 2);
  }
  SUBCASE("calibrate --kmod") {
    std::string a = tmpdir() + "/kmod-file.json", b = tmpdir() + "/kmod-stdin.json";
    Run file = run_cli("calibrate --kmod " + ref + "kmod-qemu.json -o " + a);
    Run in = run_sh("\"$TUNSIM\" calibrate --kmod - -o " + b + " < " + ref + "kmod-qemu.json");
    REQUIRE(file.status == 0);
    REQUIRE(in.status == 0);
    json x = json::parse(slurp(a)), y = json::parse(slurp(b));
    CHECK(x["parameters"] == y["parameters"]);
    CHECK(y["provenance"]["inputs"] == json::array({"standard input"}));
  }
  SUBCASE("calibrate --kmod --cache-calibration") {
    // The cache the fit runs on comes from the file given, and its cache.*
    // values are copied into the output (kmod_fit.hpp): epyc-2vcpu's L2 size
    // must appear unchanged in what is written.
    std::string cal = "configs/calibration/epyc-2vcpu.json", out = tmpdir() + "/kmod-cache.json";
    Run r = run_cli("calibrate --kmod " + ref + "kmod-qemu.json --cache-calibration " + cal + " -o " + out);
    REQUIRE(r.status == 0);
    json c = json::parse(slurp(cal))["parameters"], w = json::parse(slurp(out))["parameters"];
    REQUIRE(c.contains("cache.l2.size_bytes"));
    CHECK(w["cache.l2.size_bytes"] == c["cache.l2.size_bytes"]);
    Run traces = run_cli("calibrate " + ref + "plain-60-1w.trace.gz --cache-calibration " + cal + " -o " + out + ".x");
    CHECK(traces.status == 2);
    CHECK(traces.err.find("--cache-calibration applies to --kmod") != std::string::npos);
  }
}

TEST_CASE("files: two outputs of one command naming one file are refused before anything is written") {
  // run -o X --trace X wrote the trace over the summary (the one written
  // last replaced the other, whole, exit 0); likewise through a link, and
  // diff -o X.svg --plot X.svg.
  std::string d = tmpdir();
  std::string out = d + "/both.json";
  Run r = run_cli("run " + kShort + " -o " + out + " --trace " + out);
  INFO("stderr: ", r.err);
  CHECK(r.status == 2);
  CHECK(r.err == "tunsim: --trace " + out + ": expected a file of its own, found the one -o writes\n");
  CHECK_FALSE(std::filesystem::exists(out));
  // Another spelling, and a link to the file (which does not exist yet: written
  // through the link, the first output would create it).
  std::filesystem::create_symlink(out, d + "/link.json");
  Run l = run_cli("run " + kShort + " -o " + d + "/./both.json --engine-stats " + d + "/link.json");
  INFO("stderr: ", l.err);
  CHECK(l.status == 2);
  CHECK(l.err == "tunsim: --engine-stats " + d + "/link.json: expected a file of its own, found the one -o writes\n");
  CHECK_FALSE(std::filesystem::exists(out));
  std::string trace = "results/reference/napi-60-1w.trace.gz";
  Run p = run_cli("diff " + trace + " " + trace + " -o " + d + "/cdf.svg --plot " + d + "/cdf.svg");
  CHECK(p.status == 2);
  CHECK(p.err == "tunsim: --plot " + d + "/cdf.svg: expected a file of its own, found the one -o writes\n");
  CHECK_FALSE(std::filesystem::exists(d + "/cdf.svg"));
  // Standard output twice: the summary and the engine stats were two JSON
  // documents one after the other on stdout, which no JSON reader takes.
  Run two = run_cli("run " + kShort + " -q -o - --engine-stats -");
  INFO("stderr: ", two.err);
  CHECK(two.status == 2);
  CHECK(two.err == "tunsim: --engine-stats -: expected a file of its own, found standard output, which -o writes\n");
  CHECK(two.out.empty());
  Run trace_too = run_cli("run " + kShort + " -q -o - --trace -");
  CHECK(trace_too.status == 2);
  CHECK(trace_too.err == "tunsim: --trace -: expected a file of its own, found standard output, which -o writes\n");
  CHECK(trace_too.out.empty());
  // A device may take two outputs (each written in place): exit 0, and
  // distinct files get what they did before.
  Run dev = run_cli("run " + kShort + " -o /dev/null --trace /dev/null --engine-stats " + d + "/stats.json");
  INFO("stderr: ", dev.err);
  CHECK(dev.status == 0);
  CHECK(json::parse(slurp(d + "/stats.json")).is_object());
  Run ok = run_cli("run " + kShort + " -o " + out + " --trace " + d + "/t.trace");
  CHECK(ok.status == 0);
  CHECK(is_summary(slurp(out)));
}

TEST_CASE("files: an output that cannot be written fails the run before any other output is written") {
  // -o in a folder that does not exist failed after the run had written
  // --trace and --engine-stats: exit 2 with the files of a run that failed.
  // Every output is now opened before the run.  (A folder of their own: the
  // case's folder holds the captured stderr.)
  std::string d = tmpdir() + "/outputs";
  std::filesystem::create_directories(d);
  const std::string bad = "/nonexistent-dir/x";
  struct Case {
    std::string o, trace, stats;
  };
  for (const Case& c : std::vector<Case>{{bad, d + "/t.trace", d + "/s.json"},
                                         {d + "/o.json", d + "/t.trace", bad},
                                         {d + "/o.json", bad, d + "/s.json"}}) {
    Run r = run_cli("run " + kShort + " -o " + c.o + " --trace " + c.trace + " --engine-stats " + c.stats);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == "tunsim: " + bad + ": cannot write output file: cannot create a temporary file in "
                   "/nonexistent-dir: No such file or directory\n");
    // Nothing in the folder: no output, no temporary left behind.
    CHECK(std::filesystem::is_empty(d));
  }
  // All three writable: all three written.
  Run ok = run_cli("run " + kShort + " -o " + d + "/o.json --trace " + d + "/t.trace --engine-stats " + d + "/s.json");
  CHECK(ok.status == 0);
  CHECK(is_summary(slurp(d + "/o.json")));
  CHECK(slurp(d + "/t.trace").find("netif_receive_skb") != std::string::npos);
  CHECK(json::parse(slurp(d + "/s.json"))["design"] == "rx_batched");
}

TEST_CASE("files: a write error in one output of run (a full disk) leaves none of the others replaced") {
  // With -o on a full disk (/dev/full), the trace had been renamed into
  // place before the summary failed: exit 2, and a trace of a run that
  // failed (the earlier one under its name gone).  Every output is now
  // written out and synced before any is renamed (OutputFile::finish).
  std::string d = tmpdir() + "/full";
  std::filesystem::create_directories(d);
  struct Case {
    std::string o, trace, stats, failing;
  };
  for (const Case& c : std::vector<Case>{{"/dev/full", d + "/t.trace", d + "/s.json", "/dev/full"},
                                         {d + "/o.json", d + "/t.trace", "/dev/full", "/dev/full"},
                                         {d + "/o.json", "/dev/full", d + "/s.json", "/dev/full"}}) {
    // What stood under the names before the run stays, byte for byte.
    for (const std::string& f : {d + "/o.json", d + "/t.trace", d + "/s.json"}) std::ofstream(f) << "old\n";
    Run r = run_cli("run " + kShort + " -o " + c.o + " --trace " + c.trace + " --engine-stats " + c.stats);
    INFO("o ", c.o, " trace ", c.trace, " stats ", c.stats, "\nstderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == "tunsim: " + c.failing + ": cannot write output file: write failed: No space left on device\n");
    for (const std::string& f : {d + "/o.json", d + "/t.trace", d + "/s.json"}) CHECK(slurp(f) == "old\n");
    // No temporary left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(d), std::filesystem::directory_iterator{}) == 3);
  }
}

// A run's outputs are temporaries beside their targets until it ends
// (OutputFile); a process ended by a signal used to leave them there (and
// SimGrid's own SIGINT handler printed every actor's state and exited with
// status 1).  Now the handler removes them and the process ends by the
// signal: status 128 + signal as a shell reports it (130 for Ctrl-C, as
// tunsim's own "interrupted"), one line "tunsim: interrupted", and the
// folder as it was before the run: empty.
TEST_CASE("files: a run ended by SIGINT, SIGTERM or SIGHUP leaves no temporary and says it was interrupted") {
  for (const char* sig : {"INT", "TERM", "HUP"}) {
    INFO("signal ", sig);
    std::string d = tmpdir() + "/" + sig;
    std::filesystem::create_directories(d);
    // A run of 100 simulated seconds: still simulating when the signal comes,
    // once both temporaries exist.
    Run r = run_sh("\"$TUNSIM\" run configs/default.json -q --set duration_ms=100000 -o " + d + "/s.json --trace " +
                   d + "/t.trace & p=$!\n"
                   "for i in $(seq 400); do [ \"$(ls -A " + d + " | grep -c '\\.tmp\\.')\" = 2 ] && break; sleep 0.05; "
                   "done\nls -A " + d + " | grep -c '\\.tmp\\.'\nkill -" + sig + " $p; wait $p; echo \"status $?\"");
    CHECK(r.out == std::string("2\nstatus ") + std::to_string(128 + (std::string(sig) == "INT" ? 2 : std::string(sig) == "TERM" ? 15 : 1)) + "\n");
    // tunsim's one line; the shell may add its own note of the job's end
    // ("Terminated", "Hangup").
    CHECK(r.err.rfind("tunsim: interrupted\n", 0) == 0);
    CHECK(r.err.find("tunsim:", 1) == std::string::npos);
    CHECK(std::filesystem::is_empty(d));
  }
}

// A reader that leaves early (`--trace - | head`) ends the run by SIGPIPE,
// as any pipe writer: status 141, nothing said (the reader chose to stop),
// and the summary's temporary removed, not left beside where -o would be.
TEST_CASE("files: a run whose trace reader leaves early ends by SIGPIPE and leaves no temporary") {
  std::string d = tmpdir() + "/pipe";
  std::filesystem::create_directories(d);
  // The status goes around the pipe (descriptor 3): sh has no PIPESTATUS.
  Run r = run_sh("exec 3>&1; { \"$TUNSIM\" run configs/default.json -q --set duration_ms=2000 -o " + d +
                 "/s.json --trace -; echo \"status $?\" >&3; } | head -c 100 > /dev/null");
  CHECK(r.out == "status 141\n");
  CHECK(r.err == "");
  CHECK(std::filesystem::is_empty(d));
}

// tunsim batch: a worker's temporaries are its own.  SIGTERM to the worker
// inside a long point removes that point's temporary and fails the point
// (killed by signal 15), the points after it run in a new worker and are
// written; SIGINT to the batch (the parent) stops it: status 130, "tunsim:
// interrupted" once (the workers it ends say nothing), no temporary left.
TEST_CASE("files: batch workers ended by a signal leave no temporary, an interrupted batch says so once") {
  std::string d = tmpdir() + "/batch";
  std::filesystem::create_directories(d);
  std::string pts = d + "/p.jsonl";
  std::ofstream(pts) << "{\"id\": \"long\", \"sets\": [\"duration_ms=100000\"], \"out\": \"" + d + "/out/long.json\"}\n"
                        "{\"id\": \"s1\", \"sets\": [\"duration_ms=3\"], \"out\": \"" + d + "/out/s1.json\"}\n";
  std::filesystem::create_directories(d + "/out");
  Run r = run_sh("\"$TUNSIM\" batch " + pts + " -j 1 > " + d + "/lines.txt & b=$!\n"
                 "for i in $(seq 400); do ls -A " + d + "/out | grep -q '\\.tmp\\.' && break; sleep 0.05; done\n"
                 "kill -TERM $(pgrep -P $b); wait $b; echo \"status $?\"; ls -A " + d + "/out; cat " + d + "/lines.txt");
  INFO("stdout: ", r.out, "stderr: ", r.err);
  CHECK(r.out.rfind("status 1\ns1.json\n", 0) == 0);
  CHECK(r.out.find("\"error\":\"killed by signal 15\",\"exit\":-15,\"id\":\"long\"") != std::string::npos);
  CHECK(r.err.find("tunsim: interrupted") == std::string::npos);

  std::filesystem::remove_all(d + "/out");
  std::filesystem::create_directories(d + "/out");
  r = run_sh("\"$TUNSIM\" batch " + pts + " -j 1 > /dev/null & b=$!\n"
             "for i in $(seq 400); do ls -A " + d + "/out | grep -q '\\.tmp\\.' && break; sleep 0.05; done\n"
             "kill -INT $b; wait $b; echo \"status $?\"; ls -A " + d + "/out");
  CHECK(r.out == "status 130\n");
  // After its progress lines ("batch: validated 2/2"), one line of tunsim's.
  CHECK(r.err.find("tunsim:") == r.err.find("tunsim: interrupted\n"));
  CHECK(r.err.find("tunsim:") != std::string::npos);
  CHECK(r.err.find("tunsim:", r.err.find("tunsim:") + 1) == std::string::npos);
  CHECK(std::filesystem::is_empty(d + "/out"));
}

TEST_CASE("files: diff --plot is an output like -o: a link to nothing refused, both written or neither") {
  // plot-cdf.py's savefig wrote --plot itself: through a link to nothing it
  // created the link's target (exit 0), a regular file was written in place,
  // not atomically, and a plot was left, whole, when -o then failed (exit 2).
  // It now draws into a temporary of tunsim's, which writes the plot as it
  // writes -o (sim/io/files.hpp), both opened before the traces are read.
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") != 0) {
    MESSAGE("matplotlib is not installed for /usr/bin/python3: diff --plot not tried");
    return;
  }
  std::string d = tmpdir() + "/plot";
  std::filesystem::create_directories(d);
  const std::string ab = "results/reference/napi-60-1w.trace.gz results/reference/napi-60-2w.trace.gz";
  std::filesystem::create_symlink(d + "/target.png", d + "/cdf.png");
  Run dangling = run_cli("diff " + ab + " --plot " + d + "/cdf.png");
  CHECK(dangling.status == 2);
  CHECK(dangling.err == "tunsim: " + d + "/cdf.png: cannot write output file: a link to " + d +
                            "/target.png, which does not exist (expected a file, or a link to one)\n");
  CHECK_FALSE(std::filesystem::exists(d + "/target.png"));
  std::filesystem::remove(d + "/cdf.png");
  // -o cannot be written: no plot either (and none when the plot cannot be).
  Run no_o = run_cli("diff " + ab + " --plot " + d + "/cdf.svg -o /nonexistent-dir/x");
  CHECK(no_o.status == 2);
  CHECK(no_o.err == "tunsim: /nonexistent-dir/x: cannot write output file: cannot create a temporary file in "
                    "/nonexistent-dir: No such file or directory\n");
  Run no_plot = run_cli("diff " + ab + " --plot /nonexistent-dir/cdf.svg -o " + d + "/diff.txt");
  CHECK(no_plot.status == 2);
  CHECK(std::filesystem::is_empty(d));
  // Both writable: both written (exit 1: the two captures differ beyond the
  // default tolerances), nothing else left in the folder.
  Run ok = run_cli("diff " + ab + " --plot " + d + "/cdf.svg -o " + d + "/diff.txt");
  INFO("stderr: ", ok.err);
  CHECK((ok.status == 0 || ok.status == 1));
  CHECK(slurp(d + "/cdf.svg").find("<svg") != std::string::npos);
  CHECK(slurp(d + "/diff.txt").find("metric") != std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(d), std::filesystem::directory_iterator{}) == 2);
}

TEST_CASE("files: compare, trace stats and trace config open -o before their work") {
  // As run's outputs (above): compare -o in a folder that does not exist
  // failed after every design had run and its table had been printed;
  // trace stats and trace config read the whole trace first.  The input
  // here is one they would refuse: the output's error comes first.
  const std::string bad = "/nonexistent-dir/x";
  const std::string err = "tunsim: " + bad + ": cannot write output file: cannot create a temporary file in "
                          "/nonexistent-dir: No such file or directory\n";
  Run c = run_cli("compare configs/default.json --set duration_ms=3 -o " + bad);  // without -q: a table
  INFO("stderr: ", c.err);
  CHECK(c.status == 2);
  CHECK(c.err == err);
  CHECK(c.out.empty());
  for (std::string cmd : {"trace stats /dev/zero -o " + bad, "trace config /dev/zero -o " + bad}) {
    Run r = run_cli(cmd);
    INFO(cmd, ": ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == err);
  }
  // A write error of -o (a full disk) leaves stdout without the table too.
  Run full = run_cli("compare configs/default.json --set duration_ms=3 --designs rx_batched -o /dev/full");
  CHECK(full.status == 2);
  CHECK(full.out.empty());
  CHECK(full.err == "tunsim: /dev/full: cannot write output file: write failed: No space left on device\n");
}

TEST_CASE("files: an output's temporary is not inherited by the programs a command runs") {
  // calibrate holds its -o open while it runs tunsim to measure cache
  // penalties: the temporary (mkstemp, not closed on exec) stayed open in
  // each of them.  A shell run meanwhile lists its own descriptors: none is
  // the temporary.
  const std::string path = tmpdir() + "/held.json";
  tunsim::OutputFile held(path);
  Run r = run_sh("ls -l /proc/$$/fd/");
  INFO("descriptors: ", r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find(" 1 -> pipe:") != std::string::npos);  // (it listed them: its stdout is the pipe)
  CHECK(r.out.find(".held.json.tmp.") == std::string::npos);
}

TEST_CASE("files: calibrate opens -o before it reads or fits anything (traces, --kmod, --machine)") {
  // -o in a folder that does not exist failed only when the calibration
  // was written: after the whole fit of the traces and its report on
  // standard output, after the kernel module's fit and its replay.  The
  // inputs here are valid (each fits, exit 0, into a folder that exists):
  // the output's error comes first, alone, and nothing is printed.
  const std::string bad = "/nonexistent-dir/x.json";
  const std::string err = "tunsim: " + bad + ": cannot write output file: cannot create a temporary file in "
                          "/nonexistent-dir: No such file or directory\n";
  const std::string d = tmpdir() + "/cal";
  std::filesystem::create_directories(d);
  for (std::string in : {"results/reference/plain-60-1w.trace.gz", "--kmod results/reference/kmod-qemu.json",
                         "--machine results/reference/machine/epyc-2vcpu.json"}) {
    Run r = run_cli("calibrate " + in + " -o " + bad);
    INFO(in, ": ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == err);
    CHECK(r.out.empty());
    // The same input into a folder that exists: written, "wrote FILE" last.
    Run ok = run_cli("calibrate " + in + " -o " + d + "/c.json");
    INFO("stderr: ", ok.err);
    CHECK(ok.status == 0);
    CHECK(json::parse(slurp(d + "/c.json"))["format"] == "tunsim-calibration/1");
    CHECK(ok.out.size() > std::string("wrote " + d + "/c.json\n").size());
    CHECK(ok.out.substr(ok.out.rfind('\n', ok.out.size() - 2) + 1) == "wrote " + d + "/c.json\n");
  }
  // Inputs each would refuse (the module's file was read and fitted before
  // -o was opened, so its error came first): -o's error comes first now.
  for (std::string in : {"/dev/zero", "--kmod /dev/zero", "--machine /dev/zero"}) {
    Run r = run_cli("calibrate " + in + " -o " + bad);
    INFO(in, ": ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == err);
    CHECK(r.out.empty());
  }
}
