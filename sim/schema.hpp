// The scenario schema: every parameter with its type, default, range, the
// kernel's name for it and where its default comes from.  One table drives
// default filling, validation (with the nearest valid name for an unknown
// key) and the generated config reference (`tunsim config-reference`).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

enum class PType { Int, Num, Bool, Str, Enum, Array, IntList, NumList };

struct ParamSpec {
  std::string path;      // dotted; "senders.*.cpu" for array elements
  PType type;
  nlohmann::json def;    // default; null = derived (see doc)
  double min = 0, max = 0;            // numeric range (inclusive) when min < max
  std::vector<std::string> choices;   // for Enum
  std::string kernel;    // the kernel's name (sysctl, constant, field)
  std::string doc;       // meaning, unit
  std::string source;    // where the default comes from
  bool nullable = false;
};

const std::vector<ParamSpec>& schema();
const ParamSpec* find_spec(const std::string& generic_path);

// Validates `j` (a scenario after --set and calibration) against the schema
// and returns it with every default filled in.  `file` names the source in
// errors.  Throws InputError on the first problem.
nlohmann::json validate_and_fill(const nlohmann::json& j, const std::string& file);

// Applies "a.b.0.c=VALUE" to j (VALUE parsed as JSON when it parses, else a
// string).  Throws InputError naming the option.
void apply_set(nlohmann::json& j, const std::string& assignment);

// Markdown reference of every parameter (docs/config.md is generated from it).
std::string config_reference_markdown();

// Levenshtein distance, used for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace tunsim
