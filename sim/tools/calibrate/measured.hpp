#pragma once
// What a machine file (scripts/calibrate-machine, "tunsim-machine/1")
// measured, as parameters with their provenance: everything `tunsim
// calibrate --machine` copies rather than fits (geometry, latencies, the
// wake-up, context-switch, line-move, skb-walk and SLUB costs, footprints).
#include <string>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/cache_fit.hpp"

namespace tunsim::calib {

// The parameters a machine file gives, each with where it came from, and
// the kcold scenario with them applied.
struct Setter {
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json scenario = kcold_scenario();
  void set(const std::string& key, double v, const std::string& unit, const std::string& from);
  void set(const std::string& key, const nlohmann::json& v, const std::string& unit, const std::string& from);
};

// The file's summary; InputError naming `path` unless it is a machine file.
const nlohmann::json* summary_of(const nlohmann::json& m, const std::string& path);

// The measured parameters of machine file `m` (read from `path`).
Setter measured_params(const nlohmann::json& m, const std::string& path);

}  // namespace tunsim::calib
