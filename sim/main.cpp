// tunsim command line.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <simgrid/s4u/Engine.hpp>

#include "sim/commands.hpp"
#include "sim/config.hpp"
#include "sim/engine.hpp"
#include "sim/errors.hpp"
#include "sim/ftrace_writer.hpp"
#include "sim/io.hpp"
#include "sim/schema.hpp"
#include "sim/summary.hpp"

using nlohmann::json;

namespace tunsim {
namespace {

// SimGrid's own options (--cfg=..., --log=...) are passed to its engine.
struct SimgridArgs {
  std::vector<std::string> store;
  std::vector<char*> argv;
  int argc = 0;
  void finish(const char* prog) {
    argv.clear();
    argv.push_back(const_cast<char*>(prog));
    for (auto& s : store) argv.push_back(s.data());
    argv.push_back(nullptr);
    argc = static_cast<int>(argv.size()) - 1;
  }
};

json run_simulation(const LoadedConfig& cfg, const std::string& trace_path, SimgridArgs& sg, bool quiet) {
  std::unique_ptr<FtraceWriter> trace;
  if (!trace_path.empty()) {
    trace = std::make_unique<FtraceWriter>(trace_path);
    trace->set_clock([] { return simgrid::s4u::Engine::get_clock(); });
  }
  Simulation sim(cfg.params, trace.get());
  SimResult r = sim.run(&sg.argc, sg.argv.data());
  json s = make_summary(sim, cfg, r);
  if (trace) trace->commit();
  if (!quiet) {
    std::uint64_t n = s["packets"]["delivered"];
    std::cerr << "tunsim: " << s["design"].get<std::string>() << ": " << n << " packets in " << r.wall_s
              << " s wall (" << (r.wall_s > 0 ? static_cast<double>(n) / r.wall_s / 1e6 : 0)
              << " M simulated packets per wall-second, " << r.simgrid_activities << " SimGrid activities)\n";
  }
  return s;
}

// Runs one simulation in a child process (the SimGrid engine is a
// per-process singleton) and returns its summary.
json run_in_child(const LoadedConfig& cfg, SimgridArgs& sg) {
  int fds[2];
  if (pipe(fds) != 0) throw SimulationError(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) throw SimulationError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    std::string out;
    try {
      out = run_simulation(cfg, "", sg, false).dump();
    } catch (const InputError& e) {
      std::cerr << "tunsim: " << e.what() << "\n";
      code = 2;
    } catch (const std::exception& e) {
      std::cerr << "tunsim: " << e.what() << "\n";
      code = 3;
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t w = write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    close(fds[1]);
    std::cout.flush();
    std::cerr.flush();
    _exit(code);
  }
  close(fds[1]);
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
    if (code == 2) throw InputError("the " + std::string(design_name(cfg.params.design)) + " run failed (see above)");
    throw SimulationError("the " + std::string(design_name(cfg.params.design)) + " run failed (status " +
                          std::to_string(code) + ")");
  }
  return json::parse(data);
}

}  // namespace
}  // namespace tunsim

int main(int argc, char** argv) {
  using namespace tunsim;
  SimgridArgs sg;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--cfg=", 0) == 0 || a.rfind("--log=", 0) == 0)
      sg.store.push_back(a);
    else
      args.push_back(a);
  }
  sg.finish(argv[0]);

  CLI::App app{"tunsim: a SimGrid simulator of the Linux tun/tap receive path and its batching designs.\n"
               "SimGrid's own --cfg=... and --log=... options are passed to its engine."};
  app.set_version_flag("--version", std::string("tunsim ") + TUNSIM_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;

  std::string config, out, trace, designs_opt;
  std::vector<std::string> sets;
  long long seed = -1;
  bool quiet = false;

  auto* run = app.add_subcommand("run", "Run one scenario and print its summary");
  run->add_option("config", config, "Scenario JSON (default: the built-in default = configs/default.json)");
  run->add_option("--set", sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  run->add_option("--seed", seed, "Seed (overrides the scenario's)");
  run->add_option("-o,--output", out, "Write the summary JSON here (atomically)");
  run->add_option("--trace", trace, "Stream tracepoint records (ftrace text format) to this file");
  run->add_flag("-q,--quiet", quiet, "No table on stdout");

  auto* cmp = app.add_subcommand("compare", "Run the scenario under every design (or --designs) and compare");
  cmp->add_option("config", config, "Scenario JSON (default: the built-in default)");
  cmp->add_option("--designs", designs_opt, "Comma-separated designs (default: all five)");
  cmp->add_option("--set", sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  cmp->add_option("--seed", seed, "Seed (overrides the scenario's)");
  cmp->add_option("-o,--output", out, "Write {\"designs\": [summary, ...]} here (atomically)");

  auto* val = app.add_subcommand("validate", "Check a scenario and print it with every default filled in");
  val->add_option("config", config, "Scenario JSON")->required();
  val->add_option("--set", sets, "Override a parameter: path.to.key=VALUE (repeatable)");
  bool print_full = false;
  val->add_flag("--print", print_full, "Print the resolved scenario");

  auto* ref = app.add_subcommand("config-reference", "Print the reference of every scenario parameter (Markdown)");
  ref->add_option("-o,--output", out, "Write it to this file");

  register_trace_commands(app, exit_code);

  try {
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
    if (seed >= 0) sets.push_back("seed=" + std::to_string(seed));
    if (*run) {
      LoadedConfig cfg = load_config(config, sets);
      for (auto& n : cfg.notes) std::cerr << "tunsim: note: " << n << "\n";
      json s = run_simulation(cfg, trace, sg, quiet);
      if (!out.empty()) write_file_atomic(out, s.dump(2) + "\n");
      if (!quiet) std::cout << format_table({s});
    } else if (*cmp) {
      std::vector<Design> designs;
      if (designs_opt.empty()) {
        designs = all_designs();
      } else {
        std::stringstream ss(designs_opt);
        std::string d;
        while (std::getline(ss, d, ',')) {
          Design x;
          if (!parse_design(d, x))
            throw InputError("--designs: expected a comma-separated list of netif_rx_ni, v1_napi, "
                             "deferred_signal, rx_batched, napi_gro; found \"" + d + "\"");
          designs.push_back(x);
        }
      }
      std::vector<json> rows;
      LoadedConfig base = load_config(config, sets);  // validates once, before any run
      for (auto& n : base.notes) std::cerr << "tunsim: note: " << n << "\n";
      for (Design d : designs) {
        auto s2 = sets;
        s2.push_back(std::string("design=") + design_name(d));
        LoadedConfig cfg = load_config(config, s2);
        rows.push_back(run_in_child(cfg, sg));
      }
      std::cout << "scenario: " << base.params.name << " (" << base.params.source << "), "
                << base.params.duration_s * 1e3 << " ms simulated, seed " << base.params.seed << "\n";
      std::cout << format_table(rows);
      if (!out.empty()) {
        json all = {{"tunsim_version", TUNSIM_VERSION}, {"scenario", base.params.name}, {"designs", rows}};
        write_file_atomic(out, all.dump(2) + "\n");
      }
    } else if (*val) {
      LoadedConfig cfg = load_config(config, sets);
      for (auto& n : cfg.notes) std::cerr << "tunsim: note: " << n << "\n";
      if (print_full)
        std::cout << cfg.full.dump(2) << "\n";
      else
        std::cout << config << ": valid (design " << design_name(cfg.params.design) << ", "
                  << cfg.params.senders.size() << " sender(s), " << cfg.params.cpus << " CPUs)\n";
    } else if (*ref) {
      if (out.empty())
        std::cout << config_reference_markdown();
      else
        write_file_atomic(out, config_reference_markdown());
    }
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const InputError& e) {
    std::cerr << "tunsim: " << e.what() << "\n";
    return 2;
  } catch (const SimulationError& e) {
    std::cerr << "tunsim: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "tunsim: internal error: " << e.what() << "\n";
    return 3;
  }
  return exit_code;
}
