// Calibration files (format tunsim-calibration/1, docs/calibration.md): the
// measured values of calibratable parameters (costs.*, cache.*, cpus.hz,
// cpus.stall.*),
// with their provenance.  Read by the config loader; written by the
// calibration tools.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

constexpr const char* kCalibrationFormat = "tunsim-calibration/1";

struct Calibration {
  std::map<std::string, nlohmann::json> values;  // parameter path -> value
  std::vector<std::string> unidentified;         // parameters the fit could not separate
  nlohmann::json raw;
};

// NAME -> BASE/calibration/NAME.json; a path (contains '/' or ends in .json)
// relative to BASE unless absolute.
std::string calibration_path(const std::string& name, const std::string& base_dir);
// Reads and checks a calibration file.  `referenced_from` names where it was
// named (for a file that cannot be read).  Throws InputError naming the file
// and the key path.
Calibration read_calibration(const std::string& path, const std::string& referenced_from);
// Checks a calibration document before it is written (the tools): the same
// rules as read_calibration.  Throws InputError naming `where`.
void check_calibration(const nlohmann::json& cal, const std::string& where);

}  // namespace tunsim
