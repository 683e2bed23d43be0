// Loading a scenario: JSON file (or the built-in default), --set overrides,
// calibration, validation against the models' parameter declarations,
// version-dependent defaults, typed Params.  Every error is one line naming
// where the bad value came from: the scenario file and its key path, the
// --set that set it, or the calibration file and its parameter.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/params.hpp"

namespace tunsim {

// The built-in default scenario (identical to configs/default.json).
const nlohmann::json& default_scenario();

struct LoadedConfig {
  nlohmann::json full;  // every key, defaults and version-dependent values filled
  Params params;
  std::vector<std::string> notes;  // e.g. rx_frames clamped, unidentified calibration keys
};

// path "" = the built-in default, "-" = standard input.  `sets` are --set
// assignments.
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& sets);
// A scenario file as read, before any --set: what load_config(path, sets)
// builds from.  Many points of one file (tunsim batch, compare) read it once
// and build each point's config where it runs, instead of holding every
// point's config (tens of KB each: the stolen-time tables) from the start.
struct ConfigSource {
  nlohmann::json scenario;
  std::string file;      // as errors name it
  std::string base_dir;  // where calibration names resolve
};
ConfigSource read_config_source(const std::string& path);
LoadedConfig load_config(const ConfigSource& src, const std::vector<std::string>& sets);
// From a JSON document: `file` names it in errors, calibration names resolve
// against `base_dir`.
LoadedConfig build_config(const nlohmann::json& scenario, const std::string& file, const std::string& base_dir);

// The version-dependent behaviours a loaded scenario gets: one line each,
// "PARAM = VALUE (VERSION's: FUNCTION)" or "(set by the scenario)".
std::vector<std::string> version_behaviours(const LoadedConfig& cfg);

}  // namespace tunsim
