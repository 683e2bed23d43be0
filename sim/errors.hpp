// Error types shared by the CLI and every command.
#pragma once
#include <stdexcept>
#include <string>

namespace tunsim {

// Bad input from the user: a config, a trace, a command-line value.  The CLI
// prints what() on one line to stderr and exits with status 2.  The message
// names the file, the location (JSON path or line number), what was expected
// and what was found.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A simulation that could not finish (deadlock, invariant broken).  Exit 3.
struct SimulationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tunsim
