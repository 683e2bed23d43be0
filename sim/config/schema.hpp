// The scenario schema: the parameter declarations of every model
// (param_table(), models/kernel/param.hpp) drive default filling,
// validation (with the nearest valid name for an unknown key), --set and the
// generated config reference (`tunsim config-reference`, docs/config.md).
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "models/kernel/param.hpp"

namespace tunsim {

// A problem at a JSON path of a scenario; the loader says which file (or
// --set, or calibration) the value came from.
struct ConfigIssue : std::runtime_error {
  std::string path;
  ConfigIssue(std::string p, const std::string& what) : std::runtime_error(what), path(std::move(p)) {}
};

// The declaration of a concrete path ("senders.0.cpu" -> "senders.*.cpu"),
// or nullptr.
const ParamDecl* find_param(const std::string& concrete_path);

// Validates `j` (a scenario after --set and calibration) against the
// declarations and returns it with every default filled in.  Throws
// ConfigIssue on the first problem.
nlohmann::json validate_and_fill(const nlohmann::json& j);

// Applies "a.b.0.c=VALUE" to j: VALUE is JSON when it parses as JSON (a
// string parameter takes the text as it is); "a.b.0.c" is returned.  Throws
// InputError naming the --set.
std::string apply_set(nlohmann::json& j, const std::string& assignment);

// Markdown reference of every parameter (docs/config.md is generated from it).
std::string config_reference_markdown();
// The same as JSON, for scripts (scripts/sweep reads a parameter's range):
// {"parameters": [{"path", "type", "min", "max" (when it has a range),
// "choices" (an enum), "default", "nullable", "unit", "kernel", "meaning",
// "from"}, ...]} in the reference's order; "type" is one of integer, number,
// boolean, string, enum, array, integer list, number list.
nlohmann::json config_reference_json();

// Levenshtein distance, used for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace tunsim
