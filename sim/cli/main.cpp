// tunsim command line: what goes to SimGrid, the subcommands, and the one
// place every error becomes one line on stderr and an exit status (2 bad
// input, 3 failure, 130 interrupted).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/cli/commands.hpp"
#include "sim/cli/simulate.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/interrupt.hpp"

int main(int argc, char** argv) {
  using namespace tunsim;
  install_cleanup_handlers();
  SimgridArgs sg;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (is_simgrid_arg(a))
      sg.store.push_back(a);
    else
      args.push_back(a);
  }
  sg.finish(argv[0]);
  // SimGrid's help, without a subcommand; then its options are checked
  // before anything is loaded or run.
  int help = simgrid_help(sg, argv[0]);
  if (help >= 0) return help;

  CLI::App app{"tunsim: a SimGrid simulator of the Linux tun/tap receive path and its batching designs.\n"
               "SimGrid's own --cfg=..., --log=... options are passed to its engine; --help-cfg, --help-logs,\n"
               "--help-log-categories, --help-models, --help-aliases and --help-tracing print its help.",
               "tunsim"};
  app.set_version_flag("--version", std::string("tunsim ") + TUNSIM_VERSION);
  app.require_subcommand(1);
  // A command-line error is one line like any other bad input (CLI11's is
  // two, the second "Run with --help for more information."); set before the
  // subcommands are added, which copy it.
  app.failure_message([&args](const CLI::App* a, const CLI::Error& e) {
    std::string what = e.what(), help = "tunsim";
    for (const CLI::App* sub = a; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      help += " " + sub->get_name();
    }
    // CLI11 says only "A subcommand is required" of `tunsim bogus`.
    if (help == "tunsim" && e.get_name() == "RequiredError") {
      for (const std::string& x : args)
        if (!x.empty() && x[0] != '-') {
          std::string names;
          for (const CLI::App* sub : a->get_subcommands(std::function<bool(const CLI::App*)>()))
            names += (names.empty() ? "" : ", ") + sub->get_name();
          what = printable(x, 60) + ": expected a subcommand (" + names + ")";
          break;
        }
    }
    return "tunsim: " + printable(what, 1000) + " (" + help + " --help lists the options)\n";
  });
  int exit_code = 0;
  int out_errno = 0;  // why printing --help / --version failed, if it did
  register_run_commands(app, exit_code, sg);
  register_trace_commands(app);
  register_diff_commands(app, exit_code);
  try {
    check_simgrid_args(sg, argv[0]);
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    // --help and --version print on standard output: checked below like any
    // output (`tunsim --help > /dev/full` was exit 0).
    errno = 0;
    if (app.exit(e) != 0) return 2;
    // The text is longer than stdio's buffer: a write already failed
    // inside app.exit, and the flush below may find nothing left to write.
    if (std::ferror(stdout) || !std::cout) out_errno = errno;
  } catch (const InputError& e) {
    std::cerr << "tunsim: " << printable(e.what(), 1000) << "\n";
    return 2;
  } catch (const Interrupted&) {
    std::cerr << "tunsim: interrupted\n";
    return 130;
  } catch (const SimulationError& e) {
    std::cerr << "tunsim: " << printable(e.what(), 1000) << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "tunsim: internal error: " << printable(e.what(), 300) << "\n";
    return 3;
  }
  // What went to standard output through stdio (reports, tables) reached it.
  errno = 0;  // std::cout.flush() is stdio's fflush: its failure's errno counts
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    int err = errno ? errno : out_errno;
    std::cerr << "tunsim: standard output: write failed" << (err ? std::string(": ") + std::strerror(err) : "")
              << "\n";
    return 2;
  }
  return exit_code;
}
