#include "sim/tools/calibrate/cpu_id.hpp"

#include <filesystem>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim::calib {

using nlohmann::json;

const char* const kDefaultsMachine = "results/reference/machine/epyc-2vcpu.json";
const char* const kDefaultsCpu = "AuthenticAMD family 26 model 2";

std::string machine_cpu_signature(const json& m) {
  if (!m.is_object()) return "";
  if (m.contains("host") && m["host"].is_object() && m["host"].contains("cpu_signature") &&
      m["host"]["cpu_signature"].is_string())
    return m["host"]["cpu_signature"].get<std::string>();
  const json* raw = nullptr;
  if (m.contains("cache_geometry") && m["cache_geometry"].is_object() && m["cache_geometry"].contains("raw"))
    raw = &m["cache_geometry"]["raw"];
  if (!raw || !raw->is_object()) return "";
  const json &v = raw->value("vendor", json()), &f = raw->value("family", json()), &mo = raw->value("model", json());
  if (!v.is_string() || !f.is_number_integer() || !mo.is_number_integer()) return "";
  return v.get<std::string>() + " family " + std::to_string(f.get<long long>()) + " model " +
         std::to_string(mo.get<long long>());
}

json cpu_provenance(const std::vector<std::pair<std::string, std::string>>& traces, const std::string& machine,
                    std::ostream& report) {
  std::string cpu, from;
  for (const auto& [file, sig] : traces) {
    if (sig.empty()) continue;
    if (cpu.empty()) {
      cpu = sig;
      from = file;
    } else if (sig != cpu) {
      throw InputError("calibrate: " + printable(file, 200) + " was captured on " + printable(sig, 100) + ", " +
                       printable(from, 200) + " on " + printable(cpu, 100) +
                       ": a calibration describes one machine (calibrate each CPU's captures apart)");
    }
  }
  std::string cache_cpu = kDefaultsCpu;
  if (!machine.empty()) {
    cache_cpu = machine_cpu_signature(read_json_file(machine));
    if (!cpu.empty() && !cache_cpu.empty() && cache_cpu != cpu)
      throw InputError("calibrate: --machine " + printable(machine, 200) + " was measured on " +
                       printable(cache_cpu, 100) + ", the captures (" + printable(from, 200) + ") on " +
                       printable(cpu, 100) + ": a calibration describes one machine");
  }
  if (machine.empty() && !cpu.empty() && cpu != cache_cpu)
    report << "note: the captures ran on " << cpu << ", the shipped cache model was measured on " << cache_cpu
           << " (" << kDefaultsMachine << "): the fitted costs absorb the other CPU's cache penalties "
           << "(calibrate with --machine FILE of scripts/calibrate-machine on this machine)\n";
  return {{"cpu_signature", cpu.empty() ? json(nullptr) : json(cpu)},
          {"cache_model",
           {{"machine", machine.empty() ? std::string(kDefaultsMachine) + ", the shipped defaults" : machine},
            {"cpu_signature", cache_cpu.empty() ? json(nullptr) : json(cache_cpu)}}}};
}

std::string calibration_cpu_mismatch(const std::string& capture_cpu, const std::string& path) {
  if (capture_cpu.empty() || path.empty() || !std::filesystem::is_regular_file(path)) return "";
  json c = read_json_file(path, size_t(16) << 20);
  const json* prov = c.is_object() && c.contains("provenance") ? &c["provenance"] : nullptr;
  if (!prov || !prov->is_object()) return "";
  std::string why;
  if (prov->contains("cpu_signature") && (*prov)["cpu_signature"].is_string() &&
      (*prov)["cpu_signature"].get<std::string>() != capture_cpu)
    why = "its captures ran on " + (*prov)["cpu_signature"].get<std::string>();
  const json* cm = prov->contains("cache_model") ? &(*prov)["cache_model"] : nullptr;
  if (cm && cm->is_object() && cm->contains("cpu_signature") && (*cm)["cpu_signature"].is_string() &&
      (*cm)["cpu_signature"].get<std::string>() != capture_cpu)
    why += std::string(why.empty() ? "" : "; ") + "its cache model was measured on " +
           (*cm)["cpu_signature"].get<std::string>();
  return why.empty() ? "" : "the capture ran on " + capture_cpu + ", the calibration " + printable(path, 200) +
                                " does not describe it: " + why;
}

}  // namespace tunsim::calib
