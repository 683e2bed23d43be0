// Subcommand families registered on the tunsim CLI besides run/compare/validate.
#pragma once
#include <CLI/CLI.hpp>

namespace tunsim {

// `tunsim trace stats` and `tunsim diff` (sim/trace/).  Callbacks throw
// InputError for bad input (main prints it on one line and exits 2) and set
// exit_code for a result that is not an error (diff out of tolerance -> 1).
void register_trace_commands(CLI::App& app, int& exit_code);

}  // namespace tunsim
