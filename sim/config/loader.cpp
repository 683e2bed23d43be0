#include "sim/config/loader.hpp"

#include <map>

#include "models/tun/design.hpp"
#include "sim/config/calibration_file.hpp"
#include "sim/config/schema.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim {

using nlohmann::json;

const json& default_scenario() {
  static const json d = json::parse(R"JSON({
  "name": "default",
  "design": "rx_batched",
  "duration_ms": 20,
  "warmup_ms": 2,
  "tun": { "rx_frames": 32 },
  "senders": [
    { "type": "vhost", "cpu": 1, "queue": 0, "frame_bytes": 60,
      "guest": { "mode": "open", "arrival": "bursts", "rate_mpps": 1.0, "burst": 32, "ring_size": 256 } }
  ],
  "stack": { "type": "bridge" }
})JSON");
  return d;
}

namespace {

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Who set a key: "--set a.b=1" or "CALIBRATION: parameters.a.b"; a key not in
// the map comes from the scenario file.
using Origins = std::map<std::string, std::string>;

std::string origin_of(const Origins& o, const std::string& file, const std::string& path) {
  // The longest recorded path that is `path` or a prefix of it.
  std::string best;
  for (auto& [p, label] : o)
    if ((path == p || path.rfind(p + ".", 0) == 0) && p.size() >= best.size()) best = p;
  if (!best.empty()) return o.at(best);
  return file + ": " + (path.empty() ? std::string("(top level)") : path);
}

const json* at_path(const json& j, const std::string& dotted) {
  const json* cur = &j;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_object()) {
      if (!cur->contains(part)) return nullptr;
      cur = &(*cur)[part];
    } else if (cur->is_array() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos &&
               part.size() < 7 && std::stoul(part) < cur->size()) {
      cur = &(*cur)[std::stoul(part)];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

void set_path(json& j, const std::string& dotted, const json& v) {
  json* cur = &j;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *cur = v;
}

LoadedConfig build(json scenario, const std::string& file, const std::string& base_dir, Origins origins) {
  LoadedConfig out;
  if (!scenario.is_object()) throw InputError(file + ": expected a JSON object at the top level");
  // Calibration first, so that the scenario's own values win.
  if (scenario.contains("calibration") && scenario["calibration"].is_string()) {
    std::string name = scenario["calibration"].get<std::string>();
    std::string path = calibration_path(name, base_dir);
    Calibration cal = read_calibration(path, origin_of(origins, file, "calibration"));
    for (auto& [key, value] : cal.values) {
      if (at_path(scenario, key)) continue;  // the scenario's own value wins
      set_path(scenario, key, value);
      origins[key] = path + ": parameters." + key;
    }
    // A trace fit of tunsim before 9731ba5 (2026-12-04) fitted whole
    // write()s: its sums hold the skb's free and handle_softirqs' work,
    // which are costs of their own since.  Zero there, so that its sums mean
    // what they meant.
    const json* src = cal.raw.contains("provenance") ? &cal.raw["provenance"] : nullptr;
    // (provenance is free-form: a source that is not the string
    // "trace-fit", whatever its type, is not one.)
    const json* source = src && src->is_object() && src->contains("source") ? &(*src)["source"] : nullptr;
    if (source && *source == "trace-fit" && cal.values.count("costs.syscall_ns") &&
        !cal.values.count("costs.skb_free_ns")) {
      for (const char* key : {"costs.skb_free_ns", "costs.softirq_enter_ns", "costs.softirq_leave_ns"}) {
        if (at_path(scenario, key)) continue;
        set_path(scenario, key, 0);
        origins[key] = path + ": fitted before " + key + " existed (0: its fitted sums hold it)";
      }
      out.notes.push_back("calibration " + path +
                          " was fitted before the skb's free and handle_softirqs' work had costs of their own "
                          "(tunsim of 2026-12-03 or earlier): its sums hold them, so costs.skb_free_ns, "
                          "costs.softirq_enter_ns and costs.softirq_leave_ns are 0 here; run tunsim calibrate again "
                          "to split them");
    }
    if (!cal.unidentified.empty()) {
      std::string u;
      for (auto& x : cal.unidentified) u += (u.empty() ? "" : ", ") + x;
      out.notes.push_back("calibration " + path + " could not identify individually: " + u +
                          " (values as its fit record says: split by its convention or by perf samples, or defaults)");
    }
    out.params.calibration = path;
  }
  // kernel.version may name a released kernel ("6.18.44-amd64"): it stands for
  // the newest modelled version not after it, as `tunsim trace config` maps a
  // capture's release.
  if (json* kv = const_cast<json*>(at_path(scenario, "kernel.version")); kv && kv->is_string()) {
    std::string release = kv->get<std::string>();
    KernelVersion v;
    if (!parse_version(release, v) && version_of_release(release, v)) {
      *kv = version_name(v);
      out.notes.push_back("kernel.version \"" + printable(release, 64) + "\" is modelled as " + version_name(v) +
                          ", the newest modelled version not after it (docs/model.md, Kernel versions)");
    }
  }
  json j;
  try {
    j = validate_and_fill(scenario);
  } catch (const ConfigIssue& e) {
    throw InputError(origin_of(origins, file, e.path) + ": " + e.what());
  }

  // The kernel version: the scenario's, or the design's own.
  const DesignInfo* design = find_design(j["design"].get<std::string>());
  KernelVersion version = design->version;
  if (!j["kernel"]["version"].is_null()) parse_version(j["kernel"]["version"].get<std::string>(), version);
  j["kernel"]["version"] = version_name(version);
  // Version-dependent defaults.
  for (auto& d : param_table().decls())
    if (d.by_version) {
      json* v = const_cast<json*>(at_path(j, d.path));
      if (v && v->is_null()) *v = versioned_default(d.path, version);
    }

  Params& p = out.params;
  p.senders.resize(j["senders"].size());
  for (auto& d : param_table().decls()) {
    if (!d.set) continue;
    if (d.per_sender()) {
      std::string rest = d.path.substr(std::string("senders.*.").size());
      for (size_t i = 0; i < p.senders.size(); ++i) d.set(p, i, *at_path(j["senders"][i], rest));
    } else {
      d.set(p, 0, *at_path(j, d.path));
    }
  }
  p.source = file;
  try {
    for (auto& f : param_table().finalizers()) f(p, out.notes);
  } catch (const ParamError& e) {
    throw InputError(origin_of(origins, file, e.path) + ": " + e.what());
  }
  // The values the models derived, as the run uses them.
  for (auto& d : param_table().decls())
    if (d.derived && d.get && !d.per_sender()) {
      json v = d.get(p, 0);
      if (v.is_number() && v.get<double>() != 0 && v.get<double>() == v.get<double>()) set_path(j, d.path, v);
    }
  out.full = std::move(j);
  return out;
}

}  // namespace

LoadedConfig build_config(const json& scenario, const std::string& file, const std::string& base_dir) {
  return build(scenario, file, base_dir, {});
}

ConfigSource read_config_source(const std::string& path) {
  ConfigSource src;
  src.file = path.empty() ? "built-in default" : path == "-" ? "standard input" : printable(path, 200);
  src.base_dir = path.empty() || path == "-" ? "configs" : dirname_of(path);
  src.scenario = path.empty() ? default_scenario() : read_json_file(path, size_t(16) << 20);
  return src;
}

LoadedConfig load_config(const ConfigSource& src, const std::vector<std::string>& sets) {
  json scenario = src.scenario;
  Origins origins;
  for (auto& s : sets) {
    std::string key = apply_set(scenario, s);
    origins[key] = "--set " + printable(s, 120);
  }
  return build(std::move(scenario), src.file, src.base_dir, std::move(origins));
}

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& sets) {
  return load_config(read_config_source(path), sets);
}

std::vector<std::string> version_behaviours(const LoadedConfig& cfg) {
  std::vector<std::string> out;
  const char* v = version_name(cfg.params.kernel.version);
  for (auto& d : versioned_defaults()) {
    const json* val = at_path(cfg.full, d.path);
    json dv = versioned_default(d.path, cfg.params.kernel.version);
    std::string shown = val ? val->dump() : "null";
    if (d.availability)
      out.push_back(d.path + " = " + shown + " (" + (dv == true ? "available in " : "not in ") + v + ": " + d.follows +
                    ")");
    else
      out.push_back(d.path + " = " + shown +
                    (val && *val == dv ? std::string(" (") + v + "'s: " + d.follows + ")" : " (set by the scenario)"));
  }
  return out;
}

}  // namespace tunsim
