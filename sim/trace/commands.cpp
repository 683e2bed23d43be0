// Replaced by the trace tooling (tunsim trace stats, tunsim diff).
#include "sim/commands.hpp"
namespace tunsim {
void register_trace_commands(CLI::App&, int&) {}
}  // namespace tunsim
