// The summary of one run (schema in docs/summary.md) and the comparison table.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/boot.hpp"

namespace tunsim {

// The summary of a machine that ran to the end.  `resolved` is the scenario
// with every value filled (config_resolved), `notes` what the loader said.
nlohmann::json make_summary(Machine& m, const nlohmann::json& resolved, const std::vector<std::string>& notes);
// One row per summary: the comparison table.
std::string format_table(const std::vector<nlohmann::json>& summaries);

}  // namespace tunsim
