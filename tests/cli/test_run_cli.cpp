// The run, compare, validate, config-reference, designs and batch commands:
// their outputs, their one-line errors on bad input, their exit statuses.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
#include <set>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.hpp"

using nlohmann::json;

namespace {

using testutil::Run;
using testutil::tmpdir;
using testutil::write_tmp;
using testutil::read_json;
using testutil::slurp;
using testutil::run_cli;

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


}  // namespace

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
      {"{\"kernel\": {\"netdev_budget\": \"abc\"}}", "", "kernel.netdev_budget: expected an integer in [1, 1000000], found \"abc\""},
      {"{\"tun\": {\"rx_frames\": -1}}", "", "tun.rx_frames: expected an integer in [0, 1000000000], found -1"},
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
      // 6.2 is a release (taken as 6.1); 3.10 is older than every modelled version.
      {"{}", "--set kernel.version=3.10", "tunsim: --set kernel.version=3.10: expected one of"},
      {"{}", "--seed -5", "tunsim: --seed: expected an integer in [0, 4294967295], found -5"},
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


TEST_CASE("validate --print: the version-dependent behaviours a scenario gets, and who set them") {
  // kernel/softirq.c do_softirq: 6.4.4 returns while ksoftirqd_running(),
  // 6.5.0 no longer checks (modelled 6.6); kernel/sched/fair.c is CFS through
  // 6.5.0 and EEVDF from 6.6 (6.6.9).  So 6.4 gets true and "cfs", 6.6 false
  // and "eevdf-6.6", each with the kernel function it follows; a value the
  // scenario sets is said to be the scenario's.
  Run a = run_cli("validate configs/default.json --print --set kernel.version=6.4");
  REQUIRE(a.status == 0);
  CHECK(json::parse(a.out)["kernel"]["version"] == "6.4");
  CHECK(a.err.find("tunsim: kernel 6.4 behaviours:\n") != std::string::npos);
  CHECK(a.err.find("\n  kernel.ksoftirqd_defers_inline = true (6.4's: `do_softirq`, `invoke_softirq`") !=
        std::string::npos);
  CHECK(a.err.find("\n  kernel.sched.policy = \"cfs\" (6.4's: `place_entity`") != std::string::npos);
  Run b = run_cli("validate configs/default.json --print --set kernel.version=6.6");
  REQUIRE(b.status == 0);
  CHECK(b.err.find("\n  kernel.ksoftirqd_defers_inline = false (6.6's: ") != std::string::npos);
  CHECK(b.err.find("\n  kernel.sched.policy = \"eevdf-6.6\" (6.6's: ") != std::string::npos);
  Run c = run_cli("validate configs/default.json --print --set kernel.version=6.6 --set kernel.ksoftirqd_defers_inline=true");
  REQUIRE(c.status == 0);
  CHECK(c.err.find("\n  kernel.ksoftirqd_defers_inline = true (set by the scenario)\n") != std::string::npos);
  // A release string: this machine's 6.18.44 is 6.18, whose ____napi_schedule
  // wakes ksoftirqd (raise_softirq_irqoff, 6.18.8); the note says so.
  Run d = run_cli("validate configs/default.json --print --set kernel.version=6.18.44-amd64");
  REQUIRE(d.status == 0);
  CHECK(d.err.find("tunsim: note: kernel.version \"6.18.44-amd64\" is modelled as 6.18, the newest modelled "
                   "version not after it") != std::string::npos);
  CHECK(d.err.find("tunsim: kernel 6.18 behaviours:\n") != std::string::npos);
  CHECK(d.err.find("\n  kernel.napi_schedule_wakes_ksoftirqd = true (6.18's: ") != std::string::npos);
  CHECK(json::parse(d.out)["kernel"]["version"] == "6.18");
}

TEST_CASE("docs/config.md is what tunsim config-reference prints") {
  // The reference is generated from the schema; a stale copy would lie.
  Run r = run_cli("config-reference");
  REQUIRE(r.status == 0);
  CHECK(r.out == slurp("docs/config.md"));
  CHECK(r.out.find("`kernel.netdev_budget`") != std::string::npos);
}

TEST_CASE("config-reference --json: every parameter of the Markdown reference, with its type and range") {
  // For scripts (scripts/sweep capacity reads the offered rate's range from
  // it instead of keeping a copy): one entry per row of the reference, in its
  // order, with the declaration's type, range and choices.
  Run r = run_cli("config-reference --json");
  INFO("stderr: ", r.err);
  REQUIRE(r.status == 0);
  json params = json::parse(r.out)["parameters"];
  std::string md = slurp("docs/config.md");
  size_t rows = 0;
  for (size_t p = md.find("\n| `"); p != std::string::npos; p = md.find("\n| `", p + 1)) ++rows;
  CHECK(params.size() == rows);
  CHECK(md.find("\n| `" + params[0]["path"].get<std::string>() + "` |") != std::string::npos);
  auto find = [&](const std::string& path) {
    for (auto& p : params)
      if (p["path"] == path) return p;
    FAIL("no parameter ", path);
    return json();
  };
  // As models/guest/params.cpp and models/kernel/params.cpp declare them.
  json rate = find("senders.*.guest.rate_mpps");
  CHECK(rate["type"] == "number");
  CHECK(rate["min"] == 1e-6);
  CHECK(rate["max"] == 1e4);
  CHECK(rate["default"] == 1.0);
  json seed = find("seed");
  CHECK(seed["type"] == "integer");
  CHECK(seed["max"] == 4294967295.0);
  json design = find("design");
  CHECK(design["type"] == "enum");
  CHECK(design["choices"].size() == json::parse(run_cli("designs --json").out)["designs"].size());
  CHECK_FALSE(design.contains("min"));
  CHECK(find("tun.threaded")["type"] == "boolean");
}


TEST_CASE("SimGrid's own --cfg and --log options reach its engine") {
  // A valid option is accepted (exit 0) and changes SimGrid's logging: at
  // root.thres:critical SimGrid prints nothing, while an unknown --cfg key
  // makes SimGrid itself fail, which shows the option reached it.
  Run ok = run_cli("run configs/default.json -q --set duration_ms=3 --log=root.thres:critical --cfg=surf/precision:1e-9");
  CHECK(ok.status == 0);
  Run bad = run_cli("run configs/default.json -q --set duration_ms=3 --cfg=no/such-option:1");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("tunsim: SimGrid option --cfg=no/such-option:1: Bad config key: no/such-option") !=
        std::string::npos);
}

TEST_CASE("designs prints name, version and description in columns") {
  // The description starts in the same column on every line, whatever the version's length (4.9, 4.11).
  Run r = run_cli("designs");
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    CAPTURE(line);
    REQUIRE(line.size() > 24);
    CHECK(line[17] == ' ');
    CHECK(line[18] != ' ');
    CHECK(line.substr(22, 2) == "  ");
    CHECK(line[24] != ' ');
  }
  CHECK(lines == 6);
}

TEST_CASE("designs --json lists the registry, and the scenario schema takes exactly those names") {
  Run r = run_cli("designs --json");
  REQUIRE(r.status == 0);
  json d = json::parse(r.out)["designs"];
  std::vector<std::string> names;
  for (auto& x : d) names.push_back(x["name"]);
  CHECK(names == std::vector<std::string>{"netif_rx_ni", "v1_napi", "deferred_signal", "rx_batched", "napi_gro",
                                          "xdp_batch"});
  CHECK(d[0]["kernel_version"] == "4.9");
  CHECK(d[3]["kernel_version"] == "4.11");
  CHECK(d[5]["kernel_version"] == "6.18");
  CHECK(d[0]["napi"] == false);
  CHECK(d[1]["napi"] == true);
  Run bad = run_cli("validate configs/default.json --set design=nope");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("expected one of \"netif_rx_ni\" \"v1_napi\" \"deferred_signal\" \"rx_batched\" \"napi_gro\" "
                     "\"xdp_batch\"") != std::string::npos);
}

TEST_CASE("batch: validates every point first, runs each in a forked child, one JSON line per point") {
  std::string d = tmpdir();
  std::string pts = write_tmp("points.jsonl",
                              "{\"id\": \"a\", \"config\": \"configs/default.json\", \"sets\": [\"duration_ms=3\"], "
                              "\"seed\": 2, \"out\": \"" + d + "/a.json\"}\n"
                              "\n"
                              "{\"id\": \"b\", \"sets\": [\"duration_ms=3\", \"design=v1_napi\"], \"out\": \"" +
                                  d + "/b.json\"}\n");
  Run r = run_cli("batch " + pts + " -j 2");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.err.find("batch: validated 2/2") != std::string::npos);
  std::set<std::string> ids;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    CHECK(j["status"] == "ok");
    CHECK(j["exit"] == 0);
    ids.insert(j["id"]);
  }
  CHECK(ids == std::set<std::string>{"a", "b"});
  // Each summary is what `tunsim run` writes for the same point.
  std::string ref = d + "/ref.json";
  REQUIRE(run_cli("run configs/default.json --set duration_ms=3 --seed 2 -q -o " + ref).status == 0);
  CHECK(slurp(d + "/a.json") == slurp(ref));
  CHECK(read_json(d + "/b.json")["design"] == "v1_napi");
}

TEST_CASE("batch: a bad point is one line naming the points file, its line and the point, and nothing runs") {
  std::string d = tmpdir();
  std::string pts = write_tmp("bad-points.jsonl",
                              "{\"id\": \"ok\", \"out\": \"" + d + "/never1.json\"}\n"
                              "{\"id\": \"p7\", \"sets\": [\"kernel.hz=5\"], \"out\": \"" + d + "/never2.json\"}\n");
  Run r = run_cli("batch " + pts);
  CHECK(r.status == 2);
  CHECK(r.err.find(pts + ":2: point p7: --set kernel.hz=5: expected an integer in [100, 1000], found 5") !=
        std::string::npos);
  CHECK_FALSE(exists(d + "/never1.json"));
  Run v = run_cli("batch --validate-only " + pts);
  CHECK(v.status == 2);
  Run k = run_cli("batch " + write_tmp("badkey.jsonl", "{\"id\": \"x\", \"seeds\": 3}\n"));
  CHECK(k.status == 2);
  CHECK(k.err.find(":1: unknown key \"seeds\"") != std::string::npos);
}

TEST_CASE("batch: a repeated id, two points writing one file, out - and a negative -j are refused before any run") {
  // Each was accepted: the result lines (which name a point by its id) said
  // "a" twice, the second point's summary replaced the first's, a point's
  // summary went into the result lines on standard output, and -j -3 meant
  // what -j 0 means, "the number of CPUs".
  std::string d = tmpdir();
  auto point = [&](const std::string& id, const std::string& out) {
    return "{\"id\": \"" + id + "\", \"sets\": [\"duration_ms=3\"], \"out\": \"" + out + "\"}\n";
  };
  auto refused = [&](const std::string& text, const std::string& what) {
    std::string pts = write_tmp("points.jsonl", text);
    Run r = run_cli("batch " + pts);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("tunsim: " + pts + what) != std::string::npos);
    CHECK(r.out.empty());  // nothing ran
    CHECK_FALSE(exists(d + "/a.json"));
    CHECK_FALSE(exists(d + "/b.json"));
  };
  refused(point("a", d + "/a.json") + point("b", d + "/b.json") + point("a", d + "/c.json"),
          ":3: id: expected an id no other point has, found \"a\" (line 1)");
  // The same file spelt two ways.
  refused(point("a", d + "/a.json") + "\n" + point("b", d + "/./x/../a.json"),
          ":3: point b: out: expected a file no other point writes, found " + d + "/./x/../a.json (line 1, point a)");
  // Through a link to it (the file does not exist yet: written through the
  // link, the first point would create it): the key run's outputs use
  // (output_file_key).
  std::filesystem::create_symlink(d + "/a.json", d + "/link.json");
  refused(point("a", d + "/a.json") + point("b", d + "/link.json"),
          ":2: point b: out: expected a file no other point writes, found " + d + "/link.json (line 1, point a)");
  refused(point("a", d + "/a.json") + point("b", "-"),
          ":2: point b: out: expected a file (standard output carries the result lines)");
  std::string pts = write_tmp("ok.jsonl", point("a", d + "/a.json") + point("b", d + "/b.json"));
  for (std::string j : {"-1", "-3"}) {
    Run r = run_cli("batch " + pts + " -j " + j);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err == "tunsim: --jobs: expected an integer in [0, 2147483647], found " + j +
                   " (tunsim batch --help lists the options)\n");
    CHECK_FALSE(exists(d + "/a.json"));
  }
  // Distinct ids and files run (exit 0, both summaries written; -j 0: the
  // number of CPUs).
  Run ok = run_cli("batch " + pts + " -j 0");
  INFO("stderr: ", ok.err);
  CHECK(ok.status == 0);
  CHECK(exists(d + "/a.json"));
  CHECK(exists(d + "/b.json"));
}

TEST_CASE("batch: invalid JSON on a line of the points file is placed at FILE:LINE:COLUMN") {
  // The place was FILE:LINE:1:COLUMN (the line's number, then the parser's
  // own line 1 of that line's text): line 3 here, column 22 (the "}").
  std::string pts = write_tmp("syntax.jsonl",
                              "{\"id\": \"a\"}\n\n{\"id\": \"b\", \"sets\": [}\n{\"id\": \"c\"}\n");
  Run r = run_cli("batch " + pts);
  INFO("stderr: ", r.err);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("tunsim: " + pts + ":3:22: invalid JSON: syntax error", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

TEST_CASE("batch: a point that fails to run is reported on its line, the others still run, exit 1") {
  // The second point's output folder does not exist: its child fails to
  // write the summary (exit 2), the first point is fine.
  std::string d = tmpdir();
  std::string pts = write_tmp("fail-points.jsonl",
                              "{\"id\": \"good\", \"sets\": [\"duration_ms=3\"], \"out\": \"" + d + "/g.json\"}\n"
                              "{\"id\": \"bad\", \"sets\": [\"duration_ms=3\"], \"out\": \"/nonexistent-dir/x.json\"}\n");
  Run r = run_cli("batch " + pts + " -j 1");
  CHECK(r.status == 1);
  CHECK(exists(d + "/g.json"));
  CHECK(r.out.find("\"id\":\"bad\"") != std::string::npos);
  CHECK(r.out.find("cannot write output file") != std::string::npos);
}

// Since 2026-12-07 a batch forks a worker per job, not a child per point:
// each worker runs point after point (sim/cli/simulate.cpp, run_worker).  A
// point must give the summary it gives alone, whatever ran before it in the
// same process: with -j 1 every point below runs in one worker, after
// points of other scenarios, designs, seeds and calibrations.
TEST_CASE("batch: one worker runs point after point, each summary byte for byte what run writes alone") {
  std::string d = tmpdir();
  struct P {
    const char* id;
    const char* config;
    std::vector<std::string> sets;
  };
  const std::vector<P> ps = {
      {"w8", "configs/writers-8-napi.json", {"duration_ms=6"}},
      {"def", "configs/default.json", {"duration_ms=6"}},
      {"rps", "configs/rps-64flows.json", {"duration_ms=6"}},
      {"thr", "configs/writer-napi.json", {"duration_ms=6", "tun.threaded=true", "kernel.version=6.18"}},
      {"poi", "configs/default.json",
       {"duration_ms=6", "design=napi_gro", "senders.0.guest.mode=open", "senders.0.guest.arrival=poisson", "seed=3"}},
      {"cal", "configs/multiqueue.json", {"duration_ms=6", "calibration=epyc-2vcpu"}},
      {"def2", "configs/default.json", {"duration_ms=6"}},
  };
  std::string text;
  for (const P& p : ps) {
    json j = {{"id", p.id}, {"config", p.config}, {"sets", p.sets}, {"out", d + "/" + p.id + ".json"}};
    text += j.dump() + "\n";
  }
  Run r = run_cli("batch " + write_tmp("seq.jsonl", text) + " -j 1");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  for (const P& p : ps) {
    CAPTURE(p.id);
    std::string cmd = std::string("run ") + p.config + " -q -o " + d + "/" + p.id + "-alone.json";
    for (const std::string& s : p.sets) cmd += " --set " + s;
    REQUIRE(run_cli(cmd).status == 0);
    CHECK(slurp(d + "/" + p.id + ".json") == slurp(d + "/" + p.id + "-alone.json"));
  }
  // The same scenario before and after the others: the same bytes.
  CHECK(slurp(d + "/def.json") == slurp(d + "/def2.json"));
}

TEST_CASE("batch: a config file is read once, however many points name it: a pipe serves them all") {
  // The parent reads each named file once, validates every point from that
  // text, and each worker builds its point's config from the same text (it
  // no longer holds every point's config, 132 KB each).  A pipe can be read
  // once: had any point read the path again, it would have found the pipe
  // empty ("expected JSON").  The two points differ only by their sets, so
  // their summaries differ by the seed alone, and each is what run gives.
  std::string d = tmpdir();
  std::string text;
  for (const char* seed : {"1", "2"}) {
    json j = {{"id", std::string("s") + seed},
              {"config", "/dev/stdin"},
              {"sets", {"duration_ms=4", "warmup_ms=1", std::string("seed=") + seed}},
              {"out", d + "/pipe-s" + seed + ".json"}};
    text += j.dump() + "\n";
  }
  std::string pts = write_tmp("pipe.jsonl", text);
  Run r = testutil::run_sh("cat configs/default.json | \"$TUNSIM\" batch " + pts + " -j 2");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  for (const char* seed : {"1", "2"}) {
    CAPTURE(seed);
    std::string alone = d + "/pipe-alone-" + seed + ".json";
    REQUIRE(run_cli(std::string("run configs/default.json -q --set duration_ms=4 --set warmup_ms=1 --set seed=") +
                    seed + " -o " + alone)
                .status == 0);
    json a = read_json(d + "/pipe-s" + seed + ".json"), b = read_json(alone);
    CHECK(a["config_resolved"]["seed"] == std::stoi(seed));
    // The file is named differently (/dev/stdin, configs/default.json); all
    // else is the same.
    CHECK(a["config"] == "/dev/stdin");
    a.erase("config");
    b.erase("config");
    CHECK(a == b);
  }
}

TEST_CASE("batch: after a failed point, a new worker runs the rest") {
  // The worker that ran the failed point stops (a run that threw may leave
  // its engine in any state); the parent forks another for the points left.
  std::string d = tmpdir();
  std::string pts = write_tmp("fail-first.jsonl",
                              "{\"id\": \"bad\", \"sets\": [\"duration_ms=3\"], \"out\": \"/nonexistent-dir/x.json\"}\n"
                              "{\"id\": \"g1\", \"sets\": [\"duration_ms=3\"], \"out\": \"" + d + "/g1.json\"}\n"
                              "{\"id\": \"g2\", \"sets\": [\"duration_ms=3\", \"seed=2\"], \"out\": \"" + d + "/g2.json\"}\n");
  Run r = run_cli("batch " + pts + " -j 1");
  CHECK(r.status == 1);
  CHECK(exists(d + "/g1.json"));
  CHECK(exists(d + "/g2.json"));
  CHECK(r.out.find("\"id\":\"bad\",\"status\":\"failed\"") != std::string::npos);
  CHECK(r.out.find("\"id\":\"g2\",\"status\":\"ok\"") != std::string::npos);
  CHECK(r.out.find("cannot write output file") != std::string::npos);
}

TEST_CASE("batch: a worker killed inside a point fails that point, naming the signal, and the rest run") {
  // A long point first; once the worker runs it, SIGKILL the worker (the
  // batch's only child with -j 1).  The point is reported killed by signal
  // 9, and a new worker runs the two short points after it.
  std::string d = tmpdir();
  std::string pts = write_tmp("kill.jsonl",
                              "{\"id\": \"long\", \"config\": \"configs/writers-8-napi.json\", \"sets\": "
                              "[\"duration_ms=100000\"], \"out\": \"" + d + "/long.json\"}\n"
                              "{\"id\": \"s1\", \"sets\": [\"duration_ms=3\"], \"out\": \"" + d + "/s1.json\"}\n"
                              "{\"id\": \"s2\", \"sets\": [\"duration_ms=3\", \"seed=2\"], \"out\": \"" + d + "/s2.json\"}\n");
  Run r = testutil::run_sh("\"$TUNSIM\" batch " + pts + " -j 1 > " + d + "/lines.txt & b=$!\n"
                           "w=; for i in $(seq 200); do w=$(pgrep -P $b); [ -n \"$w\" ] && break; sleep 0.05; done\n"
                           "sleep 0.3; kill -KILL $w; wait $b; echo \"status $?\"; cat " + d + "/lines.txt");
  INFO("stdout: ", r.out, "stderr: ", r.err);
  CHECK(r.out.rfind("status 1\n", 0) == 0);
  std::map<std::string, json> lines;
  std::istringstream in(r.out.substr(r.out.find('\n') + 1));
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    lines[j["id"]] = j;
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines["long"]["status"] == "failed");
  CHECK(lines["long"]["exit"] == -9);
  CHECK(lines["long"]["error"] == "killed by signal 9");
  CHECK_FALSE(exists(d + "/long.json"));
  CHECK(lines["s1"]["status"] == "ok");
  CHECK(lines["s2"]["status"] == "ok");
  CHECK(exists(d + "/s1.json"));
  CHECK(exists(d + "/s2.json"));
}

// Issue 13 item 20: the bursts guest drew nothing from the seed, so repeats of
// a sweep point (seeds 1, 2, 3) gave identical results and zero error bars.
// Its first burst now starts at burst_phase x the period, drawn from the seed
// when burst_phase is -1 (the default).  With constant costs (spread [] on
// both contexts: nothing else is random in this scenario) the seed is then
// the only thing that differs between two runs: seeds 1 and 2 must give
// different packet timings, and pinning the phase must make them identical.
TEST_CASE("bursts guest 13.20: the seed draws the first burst's phase, so repeats differ") {
  // Constant costs and no stolen time (cpus.stall, whose windows the seed
  // places too): only the guest's phase is left to the seed.
  const std::string base = "run configs/default.json --set senders.0.guest.arrival=bursts --set duration_ms=5 "
                           "--set 'costs.spread.process=[]' --set 'costs.spread.softirq=[]' "
                           "--set 'cpus.stall.ns=[]' -q -o ";
  std::string d = tmpdir();
  auto timings = [](const json& s) {
    // What a repeat would plot: the packet counts and the latency distribution.
    return json{{"packets", s["packets"]}, {"latency_ns", s["latency_ns"]}, {"mpps", s["throughput_mpps"]}};
  };
  json s1, s2, p1, p2;
  for (auto [seed, phase, out] : {std::tuple<int, const char*, json*>{1, "", &s1}, {2, "", &s2},
                                  {1, " --set senders.0.guest.burst_phase=0.25", &p1},
                                  {2, " --set senders.0.guest.burst_phase=0.25", &p2}}) {
    std::string f = d + "/bursts-" + std::to_string(seed) + (*phase ? "-pinned" : "") + ".json";
    Run r = run_cli(base + f + " --seed " + std::to_string(seed) + phase);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    *out = read_json(f);
  }
  REQUIRE(s1["config_resolved"]["senders"][0]["guest"]["arrival"] == "bursts");
  CHECK(timings(s1) != timings(s2));
  CHECK(timings(p1) == timings(p2));
}

// Issue 13 item 23: the help names the program and the subcommand, as a user
// types them (CLI11 printed no program name before).
TEST_CASE("help 13.23: the usage line names the program and the subcommand") {
  Run top = run_cli("--help");
  REQUIRE(top.status == 0);
  CHECK(top.out.find("Usage: tunsim [OPTIONS] SUBCOMMAND") != std::string::npos);
  Run sub = run_cli("run --help");
  REQUIRE(sub.status == 0);
  CHECK(sub.out.find("Usage: tunsim run [OPTIONS] [config]") != std::string::npos);
  Run nested = run_cli("trace stats --help");
  REQUIRE(nested.status == 0);
  CHECK(nested.out.find("Usage: tunsim trace stats [OPTIONS] FILE") != std::string::npos);
}

// SimGrid's help printed into a pipe its reader closed early (`| head`) made
// tunsim exit 3, "internal error", without a word: the help child died of
// SIGPIPE.  Like any other program writing into a closed pipe, tunsim now
// ends by SIGPIPE itself (a shell shows 141 = 128 + 13); nothing is printed.
// The pipe's read end is closed before tunsim starts: with `| head -c 1` the
// help (15 KB, less than a pipe holds) fitted in the pipe whenever head had
// not exited yet, and tunsim rightly exited 0 (CI on a busy machine,
// 2026-12-03).
TEST_CASE("simgrid options 13.10: --help-cfg into a pipe closed early ends like a pipe writer, not exit 3") {
  Run r = testutil::run_sh(
      "export TUNSIM; /usr/bin/python3 -c 'import os, subprocess\n"
      "r, w = os.pipe()\nos.close(r)\n"
      "p = subprocess.run([os.environ[\"TUNSIM\"], \"--help-cfg\"], stdout=w)\n"
      "print(\"status\", 128 - p.returncode if p.returncode < 0 else p.returncode)'");
  CHECK(r.out == "status 141\n");
  CHECK(r.err.find("internal error") == std::string::npos);
}

// An integer parameter written as an integral JSON number (a config's
// "seed": 1e3, or --set seed=1e3) is accepted by the schema (check_value:
// an integral float is an integer) and is that integer in the resolved
// config: the summary is byte for byte the one of --seed 1000, where it
// used to say "seed": 1000.0 in config_resolved.
TEST_CASE("an integer written as 1e3 resolves to the integer 1000") {
  const std::string d = tmpdir();
  const std::string a = d + "/int-1e3.json", b = d + "/int-1000.json";
  Run ra = run_cli("run --set seed=1e3 --set duration_ms=5 -q -o " + a);
  REQUIRE_MESSAGE(ra.status == 0, ra.err);
  Run rb = run_cli("run --seed 1000 --set duration_ms=5 -q -o " + b);
  REQUIRE_MESSAGE(rb.status == 0, rb.err);
  json s = read_json(a);
  CHECK(s["config_resolved"]["seed"].is_number_integer());
  CHECK(s["config_resolved"]["seed"].get<int64_t>() == 1000);
  CHECK(slurp(a) == slurp(b));
  // 1000.5 is no integer: refused, as before.
  Run rc = run_cli("run --set seed=1000.5 --set duration_ms=5 -q -o " + d + "/int-bad.json");
  CHECK(rc.status == 2);
  CHECK(rc.err.find("expected an integer in [0, 4294967295], found 1000.5") != std::string::npos);
}

TEST_CASE("a rate-limited writer whose next write() falls past the run's end sleeps until the end, not until then") {
  // writer.rate_mpps may be any number in [0, 10000]: at 1e-14 writes per
  // us the next write() after the first is 1e8 s away.  The writer slept
  // until then and, waking, caught up the cpus.stall windows of those 1e8 s
  // one by one (10^11 of them, 1 ms apart): the 20 ms run never ended
  // (1e-12 took 5 s).  A run that ends first wakes it to stop, as it wakes
  // the vhost worker (models/vhost/worker.cpp): at t = duration_ms, where
  // the trace's last line is its exit (X).
  for (const char* rate : {"1e-14", "1e-300"}) {
    CAPTURE(rate);
    std::string trace = tmpdir() + "/w.trace";
    auto m = testutil::run_measured({"run", "-q", "configs/default.json", "--set", "senders.0.type=writer", "--set",
                                     std::string("senders.0.writer.rate_mpps=") + rate, "--trace", trace});
    INFO("stderr: ", m.err);
    CHECK(m.status == 0);
    CHECK(m.wall_s < 10);  // about 0.1 s
    std::string t = slurp(trace);
    REQUIRE(t.size() > 1);
    std::string last = t.substr(t.rfind('\n', t.size() - 2) + 1);
    CHECK(last.find(" 0.020000000: sched_switch: writer-") != std::string::npos);
    CHECK(last.find(" X ==> ") != std::string::npos);
  }
}

TEST_CASE("run: vhost at a full send buffer, RPS freeing on CPU 0: 4.9 waits for good, 4.15 is woken") {
  // configs/rps-64flows.json (netif_rx_ni: every skb goes to CPU 0's backlog
  // and is freed there) with tun.sndbuf 8192: truesize 768 (60-byte frames,
  // before 6.3), so 10 skbs charge 7680 < 8192, the 11th is built (8448) and
  // the 12th sendmsg fails with -EAGAIN.  4.9's handle_tx discards and
  // breaks, its poll never re-polled: nothing wakes vhost, 11 frames in all
  // (drivers/vhost/net.c 4.9.0).  4.15 re-arms the poll, tun_chr_poll sets
  // SOCKWQ_ASYNC_NOSPACE, and CPU 0's frees wake it below 4096
  // (tun_sock_write_space): it sends on, within 1 % of the same run with
  // the default INT_MAX send buffer (the guest's rate bounds both).
  std::string d = tmpdir();
  auto run = [&](const std::string& ver, const std::string& sndbuf) {
    std::string out = d + "/rps-" + ver + "-" + sndbuf + ".json";
    Run r = run_cli("run configs/rps-64flows.json -q --set duration_ms=20 --set kernel.version=" + ver +
                    " --set tun.sndbuf=" + sndbuf + " -o " + out);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return read_json(out);
  };
  json old = run("4.9", "8192");
  CHECK(old["packets"]["delivered"] == 11);
  REQUIRE(old["notes"].size() == 1);
  std::string n = old["notes"][0].get<std::string>();
  CHECK(n.find("failed with -EAGAIN 1 times") != std::string::npos);
  CHECK(n.find("never re-armed") != std::string::npos);
  json rearm = run("4.15", "8192"), unbounded = run("4.15", "2147483647");
  CHECK(rearm["packets"]["delivered"].get<double>() ==
        doctest::Approx(unbounded["packets"]["delivered"].get<double>()).epsilon(0.01));
  REQUIRE(rearm["notes"].size() == 1);
  n = rearm["notes"][0].get<std::string>();
  CHECK(n.find("woken 0 times") == std::string::npos);
  CHECK(n.find("stalled for good") == std::string::npos);
}
