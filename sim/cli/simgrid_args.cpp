// SimGrid's own command-line options (--cfg=..., --log=..., its --help-*
// flags): recognised, checked before anything runs, and their help printed.
//
// SimGrid reports some bad options by throwing and others by aborting the
// process (xbt_die: an invalid context factory, a --log control string it
// cannot parse, a --cfg without a value), after logging why on stderr.  So
// the options are first given to a SimGrid engine in a forked child whose
// stderr goes to a pipe: when that child fails, its messages become one
// InputError line and tunsim exits 2 before loading anything.
#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <simgrid/s4u/Engine.hpp>

#include "sim/cli/simulate.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/process.hpp"

namespace tunsim {

namespace {
// tunsim's spelling -> SimGrid 3.32's.
const std::vector<std::pair<std::string, std::string>> kHelpFlags = {
    {"--help-cfg", "--cfg-help"},   {"--cfg-help", "--cfg-help"},         {"--help-logs", "--help-logs"},
    {"--help-log-categories", "--help-log-categories"}, {"--help-models", "--help-models"},
    {"--help-aliases", "--help-aliases"},               {"--help-tracing", "--help-tracing"},
};
constexpr const char* kExceptionMark = "tunsim-simgrid-exception: ";

// argv for SimGrid: the program name, then `args`.
struct Argv {
  std::vector<std::string> store;
  std::vector<char*> argv;
  int argc = 0;
  Argv(const char* prog, const std::vector<std::string>& args) : store(args) {
    argv.push_back(const_cast<char*>(prog));
    for (auto& s : store) argv.push_back(s.data());
    argv.push_back(nullptr);
    argc = static_cast<int>(argv.size()) - 1;
  }
};

// SimGrid's log lines without their "[0.000000] ./src/x.cpp:254: [cat/LEVEL] "
// prefix; the configuration echo and backtraces left out.
std::string simgrid_messages(const std::string& out) {
  std::istringstream in(out);
  std::string line, msg;
  bool in_backtrace = false;
  while (std::getline(in, line)) {
    if (line.rfind(kExceptionMark, 0) == 0) continue;
    if (line.rfind("Backtrace", 0) == 0) {
      in_backtrace = true;
      continue;
    }
    if (in_backtrace && line.find("->") != std::string::npos) continue;
    in_backtrace = false;
    if (line.find("Configuration change: ") != std::string::npos) continue;
    size_t tag = line.find("] [");  // "[0.000000] [cat/LEVEL] text" (no location)
    size_t loc = line.find(": [");  // "[0.000000] ./src/x.cpp:254: [cat/LEVEL] text"
    size_t open = loc != std::string::npos ? loc + 2 : tag != std::string::npos ? tag + 2 : std::string::npos;
    if (open != std::string::npos && line.compare(0, 1, "[") == 0) {
      size_t close = line.find("] ", open);
      if (close != std::string::npos) line = line.substr(close + 2);
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    msg += (msg.empty() ? "" : " ") + line.substr(first);
  }
  return msg;
}
}  // namespace

bool is_simgrid_arg(const std::string& a) {
  if (a.rfind("--cfg=", 0) == 0 || a.rfind("--log=", 0) == 0) return true;
  for (auto& [ours, theirs] : kHelpFlags)
    if (a == ours) return true;
  return false;
}

int simgrid_help(const SimgridArgs& sg, const char* prog) {
  std::vector<std::string> help;
  for (auto& a : sg.store)
    for (auto& [ours, theirs] : kHelpFlags)
      if (a == ours) help.push_back(theirs);
  if (help.empty()) return -1;
  // SimGrid prints the help of the first one and exits the process.
  ForkedChild child([&](int) {
    Argv av(prog, {help.front()});
    simgrid::s4u::Engine engine(&av.argc, av.argv.data());
    return 0;
  });
  int st = child.finish();
  if (st == -SIGPIPE) {
    // The reader of standard output left early (`--help-cfg | head`): end as
    // the child did, like any program writing into a closed pipe.
    std::signal(SIGPIPE, SIG_DFL);
    std::raise(SIGPIPE);
  }
  return st < 0 ? 3 : st;
}

void check_simgrid_args(const SimgridArgs& sg, const char* prog) {
  std::vector<std::string> args;
  for (auto& a : sg.store)
    if (a.rfind("--cfg=", 0) == 0 || a.rfind("--log=", 0) == 0) args.push_back(a);
  if (args.empty()) return;
  ForkedChild child([&](int fd) {
    struct rlimit no_core {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // an abort here is expected, not a crash to keep
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    Argv av(prog, args);
    try {
      simgrid::s4u::Engine engine(&av.argc, av.argv.data());
    } catch (const std::exception& e) {
      std::string m = std::string("\n") + kExceptionMark + e.what() + "\n";
      if (::write(fd, m.data(), m.size()) < 0) return 3;
      return 2;
    }
    return 0;
  });
  int st = child.finish();
  if (st == 0) return;
  const std::string& out = child.output();
  std::string why;
  size_t mark = out.find(kExceptionMark);
  if (mark != std::string::npos) {
    // The exception's text may span lines (a list of valid keys): one line.
    std::string text = out.substr(mark + std::strlen(kExceptionMark));
    for (char& c : text)
      if (c == '\n' || c == '\t') c = ' ';
    why = text;
  } else {
    why = simgrid_messages(out);
  }
  std::string one;  // runs of blanks as one space
  for (char c : why)
    if (c != ' ' || (!one.empty() && one.back() != ' ')) one += c;
  while (!one.empty() && one.back() == ' ') one.pop_back();
  why = one;
  if (why.empty())
    why = st < 0 ? "SimGrid stopped the process (signal " + std::to_string(-st) + ")" : "rejected by SimGrid";
  std::string given;
  for (auto& a : args) given += (given.empty() ? "" : " ") + a;
  throw InputError("SimGrid option " + printable(given, 120) + ": " + printable(why, 600));
}

}  // namespace tunsim
