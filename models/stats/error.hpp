// Bad input: a config, a trace, a summary, a calibration, a command-line
// value.  Whoever reads it throws InputError with one line naming the file,
// the location (JSON path or line number), what was expected and what was
// found; the CLI prints it and exits with status 2.
#pragma once
#include <stdexcept>
#include <string>

namespace tunsim {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tunsim
