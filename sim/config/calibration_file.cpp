#include "sim/config/calibration_file.hpp"

#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim {

using nlohmann::json;

std::string calibration_path(const std::string& name, const std::string& base_dir) {
  if (name.find('/') != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".json"))
    return name[0] == '/' ? name : base_dir + "/" + name;
  return base_dir + "/calibration/" + name + ".json";
}

namespace {
Calibration parse(const json& cal, const std::string& file) {
  Calibration out;
  out.raw = cal;
  auto shown = [](const json& v) { return printable(dump_json(v, -1), 60); };
  if (!cal.is_object()) throw InputError(file + ": expected a JSON object, found " + shown(cal));
  if (!cal.contains("format") || !cal["format"].is_string() || cal["format"] != kCalibrationFormat)
    throw InputError(file + ": format: expected \"" + kCalibrationFormat + "\", found " +
                     (cal.contains("format") ? shown(cal["format"]) : "nothing"));
  if (!cal.contains("parameters") || !cal["parameters"].is_object())
    throw InputError(file + ": parameters: expected an object of \"path\": {\"value\": number, \"unit\": ...}");
  for (auto& [key, entry] : cal["parameters"].items()) {
    std::string where = file + ": parameters." + printable(key, 80);
    const ParamDecl* d = find_param(key);
    if (!d) throw InputError(where + ": not a scenario parameter (see docs/config.md)");
    if (!d->calibratable) throw InputError(where + ": only costs.*, cache.*, cpus.hz and cpus.stall.* may be calibrated");
    bool list = d->type == PType::NumList;
    if (!entry.is_object() || !entry.contains("value") || !(list ? entry["value"].is_array() : entry["value"].is_number()))
      throw InputError(where + (list ? ": expected {\"value\": [numbers]}" : ": expected {\"value\": number, \"unit\": string}"));
    const json& vals = entry["value"];
    for (size_t i = 0; i < (list ? vals.size() : 1); ++i) {
      const json& x = list ? vals[i] : vals;
      std::string at = where + ".value" + (list ? "." + std::to_string(i) : "");
      if (!x.is_number()) throw InputError(at + ": expected a number, found " + shown(x));
      double v = x.get<double>();
      if (d->min < d->max && !(v >= d->min && v <= d->max))
        throw InputError(at + ": expected a number in [" + shown(d->min) + ", " + shown(d->max) + "], found " +
                         shown(x));
    }
    if (entry.contains("unit") && (!entry["unit"].is_string() || (!d->unit.empty() && entry["unit"] != d->unit)))
      throw InputError(where + ".unit: expected \"" + d->unit + "\", found " + shown(entry["unit"]));
    out.values[key] = entry["value"];
  }
  if (cal.contains("unidentified")) {
    const json& u = cal["unidentified"];
    if (!u.is_array()) throw InputError(file + ": unidentified: expected an array of parameter names");
    for (size_t i = 0; i < u.size(); ++i) {
      if (!u[i].is_string())
        throw InputError(file + ": unidentified." + std::to_string(i) + ": expected a parameter name, found " +
                         shown(u[i]));
      out.unidentified.push_back(u[i].get<std::string>());
    }
  }
  return out;
}
}  // namespace

Calibration read_calibration(const std::string& path, const std::string& referenced_from) {
  json cal;
  try {
    cal = read_json_file(path, size_t(16) << 20);
  } catch (const InputError& e) {
    throw InputError(referenced_from + ": calibration: " + e.what());
  }
  return parse(cal, printable(path, 200));
}

void check_calibration(const json& cal, const std::string& where) { parse(cal, where); }

}  // namespace tunsim
