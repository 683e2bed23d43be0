// `tunsim run`, `compare`, `validate`, `config-reference`, `designs` and
// `batch`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

#include "models/tun/design.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/simulate.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/output/summary.hpp"

namespace tunsim {

using nlohmann::json;

namespace {

struct RunArgs {
  std::string config, out, trace, engine_stats, designs;
  long long seed = 0;
  std::vector<std::string> sets;
  bool quiet = false, print = false, csv = false, json = false;
};

// --seed: the scenario's "seed", an integer in the range it is declared
// with (models/kernel/params.cpp), checked as every integer option is (it
// had a check of its own; --seed '' was taken for no --seed).
CLI::Option* add_seed_option(CLI::App* cmd, long long& seed) {
  const ParamDecl* d = find_param("seed");
  const auto lo = static_cast<long long>(d->min), hi = static_cast<long long>(d->max);
  return cmd
      ->add_option("--seed", seed,
                   "Seed (overrides the scenario's), an integer in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "]")
      ->check(int_in(lo, hi));
}
void add_seed(const CLI::Option* opt, long long seed, std::vector<std::string>& sets) {
  if (opt->count() != 0) sets.push_back("seed=" + std::to_string(seed));
}

void print_notes(const LoadedConfig& cfg) {
  for (auto& n : cfg.notes) std::cerr << "tunsim: note: " << n << "\n";
}

int cpu_count() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

// Reads a batch's points: one JSON object per line.
std::vector<Point> read_points(const std::string& path) {
  std::string name = path == "-" ? "standard input" : printable(path, 200);
  // (/dev/zero was read to the bound, 256 MB, before its first line was
  // refused.)
  std::string text = read_file(path, size_t(256) << 20, [&](std::string_view head) { check_json_head(name, head); });
  std::vector<Point> points;
  std::istringstream in(text);
  std::string line;
  size_t lineno = 0;
  auto last_report = std::chrono::steady_clock::now();
  std::vector<std::pair<size_t, json>> rows;
  std::map<std::string, size_t> line_of_id;
  std::map<std::string, std::string> point_of_out;  // output_file_key -> "line N, point ID"
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = name + ":" + std::to_string(lineno);
    json j = parse_json(line, name, 8, lineno);  // NAME:LINE:COLUMN, not NAME:LINE:1:COLUMN
    if (!j.is_object()) throw InputError(where + ": expected a JSON object {\"id\", \"config\", \"sets\", \"seed\", \"out\"}");
    for (auto& [k, v] : j.items())
      if (k != "id" && k != "config" && k != "sets" && k != "seed" && k != "out")
        throw InputError(where + ": unknown key \"" + printable(k, 40) + "\"; expected id, config, sets, seed, out");
    if (!j.contains("id") || !j["id"].is_string() || j["id"].get<std::string>().empty())
      throw InputError(where + ": id: expected a non-empty string");
    // The result lines name their point by id alone.
    auto [first, fresh] = line_of_id.emplace(j["id"].get<std::string>(), lineno);
    if (!fresh)
      throw InputError(where + ": id: expected an id no other point has, found \"" + printable(first->first, 60) +
                       "\" (line " + std::to_string(first->second) + ")");
    rows.emplace_back(lineno, std::move(j));
  }
  size_t done = 0;
  std::map<std::string, std::shared_ptr<const ConfigSource>> sources;  // each config file read once
  for (auto& [ln, j] : rows) {
    std::string where = name + ":" + std::to_string(ln) + ": point " + printable(j["id"].get<std::string>(), 60);
    std::vector<std::string> sets;
    if (j.contains("sets")) {
      if (!j["sets"].is_array()) throw InputError(where + ": sets: expected an array of \"path=VALUE\" strings");
      for (auto& s : j["sets"]) {
        if (!s.is_string()) throw InputError(where + ": sets: expected an array of \"path=VALUE\" strings");
        sets.push_back(s.get<std::string>());
      }
    }
    if (j.contains("seed")) {
      if (!j["seed"].is_number_unsigned() || j["seed"].get<uint64_t>() > 4294967295ULL)
        throw InputError(where + ": seed: expected an integer in [0, 4294967295]");
      sets.push_back("seed=" + std::to_string(j["seed"].get<uint64_t>()));
    }
    std::string config;
    if (j.contains("config")) {
      if (!j["config"].is_string()) throw InputError(where + ": config: expected a path");
      config = j["config"].get<std::string>();
    }
    std::string out;
    if (j.contains("out")) {
      if (!j["out"].is_string() || j["out"].get<std::string>().empty())
        throw InputError(where + ": out: expected a path");
      out = j["out"].get<std::string>();
      // Standard output carries the result lines; two points writing one
      // file would leave one of the two summaries, whichever ran last.
      if (out == "-") throw InputError(where + ": out: expected a file (standard output carries the result lines)");
      auto [other, fresh] = point_of_out.emplace(output_file_key(out), "line " + std::to_string(ln) + ", point " +
                                                                         printable(j["id"].get<std::string>(), 60));
      if (!fresh)
        throw InputError(where + ": out: expected a file no other point writes, found " + printable(out, 200) +
                         " (" + other->second + ")");
    }
    Point p;
    p.id = j["id"].get<std::string>();
    p.out = out;
    p.sets = std::move(sets);
    try {
      auto& src = sources[config];
      if (!src) src = std::make_shared<const ConfigSource>(read_config_source(config));
      p.src = src;
      p.cache = load_config(*p.src, p.sets).params.cache;
    } catch (const InputError& e) {
      throw InputError(where + ": " + e.what());
    }
    points.push_back(std::move(p));
    ++done;
    auto now = std::chrono::steady_clock::now();
    if (done == rows.size() || now - last_report > std::chrono::milliseconds(500)) {
      std::cerr << "batch: validated " << done << "/" << rows.size() << "\n";
      last_report = now;
    }
  }
  if (rows.empty()) std::cerr << "batch: validated 0/0\n";
  return points;
}

}  // namespace

void register_run_commands(CLI::App& app, int& exit_code, SimgridArgs& sg) {
  auto ra = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run one scenario and print its summary");
  run->add_option("config", ra->config, "Scenario JSON (default: the built-in default = configs/default.json; - = standard input)")
      ->check(kPath);
  run->add_option("--set", ra->sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  auto* run_seed = add_seed_option(run, ra->seed);
  run->add_option("-o,--output", ra->out, "Write the summary JSON here (atomically; - = standard output)")->check(kPath);
  run->add_option("--trace", ra->trace, "Write the tracepoints of the statistics window (ftrace text format) here")
      ->check(kPath);
  run->add_option("--engine-stats", ra->engine_stats, "Write the engine's wall time and work (JSON) here")
      ->check(kPath);
  run->add_flag("-q,--quiet", ra->quiet, "No table on stdout, no speed line on stderr");
  run->callback([ra, run_seed, &sg] {
    add_seed(run_seed, ra->seed, ra->sets);
    if (!ra->quiet && (ra->trace == "-" || ra->out == "-"))
      throw InputError(std::string(ra->trace == "-" ? "--trace" : "-o") +
                       " -: standard output carries the output: add -q (no table)");
    check_distinct_outputs({{"-o", ra->out}, {"--trace", ra->trace}, {"--engine-stats", ra->engine_stats}});
    LoadedConfig cfg = load_config(ra->config, ra->sets);
    print_notes(cfg);
    RunOutputs o{ra->out, ra->trace, ra->engine_stats, ra->quiet};
    json s = run_simulation(cfg, o, sg);
    // The run's own notes (the cold start past the warm-up), after the loader's.
    if (s.contains("notes"))
      for (size_t i = cfg.notes.size(); i < s["notes"].size(); ++i)
        std::cerr << "tunsim: note: " << s["notes"][i].get<std::string>() << "\n";
    if (!ra->quiet) write_file_atomic("-", format_table({s}));
  });

  auto ca = std::make_shared<RunArgs>();
  auto* cmp = app.add_subcommand("compare", "Run the scenario under every design (or --designs) and compare");
  cmp->add_option("config", ca->config, "Scenario JSON (default: the built-in default)")->check(kPath);
  auto* designs_opt = cmp->add_option("--designs", ca->designs, "Comma-separated designs (default: all)");
  cmp->add_option("--set", ca->sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  auto* cmp_seed = add_seed_option(cmp, ca->seed);
  cmp->add_option("-o,--output", ca->out, "Write {\"designs\": [summary, ...]} here (atomically; - = standard output)")
      ->check(kPath);
  cmp->add_flag("-q,--quiet", ca->quiet, "No table on stdout");
  auto* csv = cmp->add_flag("--csv", ca->csv, "The table as CSV (full precision) instead of text");
  cmp->add_flag("--json", ca->json, "The table as JSON ({\"columns\": {name: meaning}, \"rows\": [...]}) instead of text")
      ->excludes(csv);
  cmp->callback([ca, designs_opt, cmp_seed, &sg] {
    add_seed(cmp_seed, ca->seed, ca->sets);
    if (!ca->quiet && ca->out == "-")
      throw InputError("-o -: standard output carries the output: add -q (no table)");
    std::vector<const DesignInfo*> chosen;
    if (designs_opt->count() == 0) {
      chosen = designs();
    } else {
      // Every name, empty ones included: --designs "" (or "a,,b", "a,") was
      // all designs (or skipped), and a name twice ran that design twice.
      for (size_t start = 0;;) {
        size_t comma = ca->designs.find(',', start);
        std::string d = ca->designs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const DesignInfo* x = find_design(d);
        if (!x)
          throw InputError("--designs: expected a comma-separated list of " + design_names() + "; found \"" +
                           printable(d, 40) + "\"");
        if (std::find(chosen.begin(), chosen.end(), x) != chosen.end())
          throw InputError("--designs: expected each design once, found " + std::string(x->name) + " twice");
        chosen.push_back(x);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    auto src = std::make_shared<const ConfigSource>(read_config_source(ca->config));  // read once (it may be stdin)
    LoadedConfig base = load_config(*src, ca->sets);  // validates once, before any run
    print_notes(base);
    // -o opened before the runs, as run's outputs (sim/cli/simulate.cpp): in
    // a folder that does not exist it failed after every design had run and
    // the table had been printed.
    std::optional<OutputFile> out_file;
    if (!ca->out.empty()) out_file.emplace(ca->out);
    std::vector<Point> points;
    for (const DesignInfo* d : chosen) {
      auto s2 = ca->sets;
      s2.push_back(std::string("design=") + d->name);
      CacheParams cache = load_config(*src, s2).params.cache;
      points.push_back(Point{d->name, src, std::move(s2), cache, ""});
    }
    std::map<std::string, json> by_design;
    std::string failed;
    run_points(points, cpu_count(), sg, [&](const PointResult& r) {
      if (r.exit != 0) {
        std::cerr << "tunsim: the " << r.id << " run failed: " << printable(r.error, 300) << "\n";
        if (failed.empty()) failed = r.id;
        return;
      }
      by_design[r.id] = r.summary;
    });
    if (!failed.empty()) throw SimulationError("the " + failed + " run failed (see above)");
    std::vector<json> rows;
    for (const DesignInfo* d : chosen) rows.push_back(by_design[d->name]);
    std::ostringstream head;
    head << "scenario: " << shown_name(base.params.name) << " (" << base.params.source << "), "
         << base.params.duration_s * 1e3 << " ms simulated, seed " << base.params.seed << "\n";
    if (out_file) {
      // Written out before the table, made to appear after it: a full disk
      // under either leaves the file that was there.
      json all = {{"tunsim_version", TUNSIM_VERSION}, {"scenario", base.params.name}, {"designs", rows}};
      out_file->write(dump_json(all) + "\n");
      out_file->finish();
    }
    if (!ca->quiet) {
      if (ca->csv)
        write_file_atomic("-", format_table_csv(rows));
      else if (ca->json)
        write_file_atomic("-", dump_json(format_table_json(rows)) + "\n");
      else
        write_file_atomic("-", head.str() + format_table(rows));
    }
    if (out_file) out_file->commit();
  });

  auto va = std::make_shared<RunArgs>();
  auto* val = app.add_subcommand("validate", "Check a scenario and print it with every default filled in");
  val->add_option("config", va->config, "Scenario JSON (- = standard input)")->required()->check(kPath);
  val->add_option("--set", va->sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  val->add_flag("--print", va->print, "Print the resolved scenario (JSON on stdout, the version's behaviours on stderr)");
  val->callback([va] {
    LoadedConfig cfg = load_config(va->config, va->sets);
    print_notes(cfg);
    std::string behaviours;
    for (auto& b : version_behaviours(cfg)) behaviours += "  " + b + "\n";
    if (va->print) {
      write_file_atomic("-", dump_json(cfg.full) + "\n");
      std::cerr << "tunsim: kernel " << version_name(cfg.params.kernel.version) << " behaviours:\n" << behaviours;
    } else {
      std::ostringstream o;
      o << (va->config == "-" ? std::string("standard input") : printable(va->config, 200)) << ": valid (design " << cfg.params.design->name << ", kernel "
        << version_name(cfg.params.kernel.version) << ", " << cfg.params.senders.size() << " sender(s), "
        << cfg.params.cpus << " CPUs)\nversion-dependent behaviours:\n" << behaviours;
      write_file_atomic("-", o.str());
    }
  });

  auto out = std::make_shared<std::string>();
  auto ref_json = std::make_shared<bool>(false);
  auto* ref = app.add_subcommand("config-reference", "Print the reference of every scenario parameter (Markdown)");
  ref->add_option("-o,--output", *out, "Write it to this file")->check(kPath);
  ref->add_flag("--json", *ref_json,
                "As JSON ({\"parameters\": [{\"path\", \"type\", \"min\", \"max\", ...}]}), for scripts");
  ref->callback([out, ref_json] {
    write_file_atomic(out->empty() ? "-" : *out,
                      *ref_json ? dump_json(config_reference_json()) + "\n" : config_reference_markdown());
  });

  auto json_flag = std::make_shared<bool>(false);
  auto* des = app.add_subcommand("designs", "List the batching designs (the registry, models/tun/registry.cpp)");
  des->add_flag("--json", *json_flag, "As JSON, for scripts");
  des->callback([json_flag] {
    if (*json_flag) {
      json a = json::array();
      for (const DesignInfo* d : designs())
        a.push_back({{"name", d->name},
                     {"kernel_version", version_name(d->version)},
                     {"napi", d->poll != nullptr},
                     {"description", d->description}});
      write_file_atomic("-", dump_json(json{{"designs", a}}) + "\n");
      return;
    }
    std::ostringstream o;
    // Name, version and description in columns: "4.9" pads to the width of "4.11".
    for (const DesignInfo* d : designs()) {
      std::string v = version_name(d->version);
      o << d->name << std::string(18 - std::min<size_t>(17, std::string(d->name).size()), ' ') << v
        << std::string(6 - std::min<size_t>(5, v.size()), ' ') << d->description << "\n";
    }
    write_file_atomic("-", o.str());
  });

  auto ba = std::make_shared<RunArgs>();
  auto jobs = std::make_shared<int>(0);
  auto validate_only = std::make_shared<bool>(false);
  auto* bat = app.add_subcommand(
      "batch", "Run many points (one JSON object per line: id, config, sets, seed, out) in workers forked from "
               "this process, -j at a time, each running point after point");
  bat->add_option("POINTS", ba->config, "points file (.jsonl; - = standard input)")->required()->check(kPath);
  bat->add_option("-j,--jobs", *jobs, "points at a time (default or 0: the number of CPUs)")
      ->check(int_in(0, std::numeric_limits<int>::max()));
  bat->add_flag("--validate-only", *validate_only, "validate every point and run nothing");
  bat->callback([ba, jobs, validate_only, &exit_code, &sg] {
    std::vector<Point> points = read_points(ba->config);
    if (*validate_only) return;
    size_t ok = 0, failed = 0, total = points.size();
    auto t0 = std::chrono::steady_clock::now();
    auto last = t0;
    run_points(points, *jobs > 0 ? *jobs : cpu_count(), sg, [&](const PointResult& r) {
      (r.exit == 0 ? ok : failed)++;
      json line = {{"id", r.id}, {"status", r.exit == 0 ? "ok" : "failed"}, {"exit", r.exit},
                   {"error", r.error}, {"wall_s", std::round(r.wall_s * 1e4) / 1e4}};
      write_file_atomic("-", dump_json(line, -1) + "\n");
      auto now = std::chrono::steady_clock::now();
      if (ok + failed == total || now - last > std::chrono::milliseconds(500)) {
        double el = std::chrono::duration<double>(now - t0).count();
        std::cerr << "batch: " << ok + failed << "/" << total << " done (" << failed << " failed), " << el << " s\n";
        last = now;
      }
    });
    if (failed) exit_code = 1;
  });
}

}  // namespace tunsim
