// The summary of one run (schema in docs/summary.md) and its table on stdout.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "sim/config.hpp"
#include "sim/engine.hpp"

namespace tunsim {

nlohmann::json make_summary(Simulation& sim, const LoadedConfig& cfg, const SimResult& r);
// One row per summary: the comparison table.
std::string format_table(const std::vector<nlohmann::json>& summaries);

}  // namespace tunsim
