// The subcommand families of the tunsim CLI.  Callbacks throw InputError for
// bad input (main prints it on one line and exits 2) and set exit_code for a
// result that is not an error (diff out of tolerance, a failed batch point:
// 1).
#pragma once
#include <cerrno>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "sim/io/files.hpp"

namespace tunsim {

// The check of every integer option (each value of a list): in [lo, hi],
// said as tunsim says it elsewhere; CLI11 names the option ("--hz: expected
// an integer in [1, 100000], found 0").  Without it a count or id outside its
// range was taken as given, or as "not given" where 0 means the default, and
// one beyond the option's type was CLI11's "Could not convert" (-j
// 2147483648).  White space before the value is refused as after it
// (strtoll skipped it: " 5" was taken, "5 " refused).
inline CLI::Validator int_in(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 0);  // base 0, as CLI11 converts
        const bool edge_space = has_edge_space(s);
        if (!s.empty() && !edge_space && *end == '\0' && errno == 0 && v >= lo && v <= hi) return "";
        return "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " +
               (s.empty() ? "nothing" : edge_space ? "\"" + printable(s, 40) + "\"" : printable(s, 40));
      },
      "");
}
// Task ids (a sidecar's tids: Linux's largest pid_max) and syscall numbers
// (write()'s is 1 on x86_64; MIPS ABIs start theirs at 4000-6000).
inline const CLI::Validator kPid = int_in(0, 4194304);
inline const CLI::Validator kSyscall = int_in(0, 65535);
// An option or operand that may not be empty: "expected WHAT, found an empty one".
inline CLI::Validator non_empty(const std::string& what) {
  return CLI::Validator(
      [what](std::string& s) { return s.empty() ? "expected " + what + ", found an empty one" : std::string(); }, "");
}
// A file option or operand: an empty one (`-o "$UNSET"`) was taken for "not
// given" (`run ""` ran the built-in default, `-o ""` wrote nothing, exit 0).
inline const CLI::Validator kPath = non_empty("a file name");
// A name or a value (a device, a task name, a kernel release, a bound): an
// empty one (`--dev "$UNSET"`) was taken for "not given" too (trace stats
// --dev '' read the busiest device, diff --ks-max '' checked nothing).
inline const CLI::Validator kNonEmpty = non_empty("a value");

struct SimgridArgs;
namespace calib {
struct CaptureOptions;
}

// The options that describe a capture without a sidecar (calibrate, trace
// config; sim/cli/trace_commands.cpp).
void add_capture_options(CLI::App* cmd, calib::CaptureOptions& o);

// run, compare, validate, config-reference, designs, batch (sim/cli/run_commands.cpp).
void register_run_commands(CLI::App& app, int& exit_code, SimgridArgs& sg);
// trace stats, trace config (sim/cli/trace_commands.cpp).
void register_trace_commands(CLI::App& app);
// diff, calibrate (sim/cli/diff_commands.cpp).
void register_diff_commands(CLI::App& app, int& exit_code);

}  // namespace tunsim
