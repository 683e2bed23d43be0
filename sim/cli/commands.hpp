// The subcommand families of the tunsim CLI.  Callbacks throw InputError for
// bad input (main prints it on one line and exits 2) and set exit_code for a
// result that is not an error (diff out of tolerance, a failed batch point:
// 1).
#pragma once
#include <CLI/CLI.hpp>

namespace tunsim {

struct SimgridArgs;

// run, compare, validate, config-reference, designs, batch (sim/cli/run_commands.cpp).
void register_run_commands(CLI::App& app, int& exit_code, SimgridArgs& sg);
// trace stats, trace config, calibrate, diff (sim/cli/trace_commands.cpp).
void register_trace_commands(CLI::App& app, int& exit_code);

}  // namespace tunsim
