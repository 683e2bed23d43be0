// The subcommand families of the tunsim CLI.  Callbacks throw InputError for
// bad input (main prints it on one line and exits 2) and set exit_code for a
// result that is not an error (diff out of tolerance, a failed batch point:
// 1).
#pragma once
#include <CLI/CLI.hpp>

namespace tunsim {

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
