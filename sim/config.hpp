// Loading a scenario: JSON file (or the built-in default), --set overrides,
// calibration, validation against the schema, typed Params.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/params.hpp"

namespace tunsim {

// The built-in default scenario (identical to configs/default.json).
const nlohmann::json& default_scenario();

struct LoadedConfig {
  nlohmann::json full;  // every key, defaults filled
  Params params;
  std::vector<std::string> notes;  // e.g. rx_frames clamped, unidentified calibration keys
};

// path "" = the built-in default.  `sets` are --set assignments.
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& sets);
// From an already merged JSON document (used by compare for each design).
LoadedConfig build_config(const nlohmann::json& scenario, const std::string& file,
                          const std::string& base_dir);

}  // namespace tunsim
