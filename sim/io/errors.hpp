// Error types shared by the CLI and every command.
#pragma once
#include <stdexcept>
#include <string>

#include "models/stats/error.hpp"  // InputError: bad input, exit 2

namespace tunsim {

// A simulation that could not finish (deadlock, invariant broken), or a tool
// that failed for a reason other than its input.  Exit 3.
struct SimulationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tunsim
