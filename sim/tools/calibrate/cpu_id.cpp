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
  if (const json* sig = json_at(m, {"host", "cpu_signature"}); sig && sig->is_string()) return sig->get<std::string>();
  const json *v = json_at(m, {"cache_geometry", "raw", "vendor"}), *f = json_at(m, {"cache_geometry", "raw", "family"}),
             *mo = json_at(m, {"cache_geometry", "raw", "model"});
  if (!v || !f || !mo || !v->is_string() || !f->is_number_integer() || !mo->is_number_integer()) return "";
  return v->get<std::string>() + " family " + std::to_string(f->get<long long>()) + " model " +
         std::to_string(mo->get<long long>());
}

json cpu_provenance(const std::vector<std::pair<std::string, std::string>>& traces, const std::string& machine,
                    std::ostream& report, const json& cache) {
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
  json prov = {{"cpu_signature", cpu.empty() ? json(nullptr) : json(cpu)},
               {"cache_model",
                {{"machine", machine.empty() ? std::string(kDefaultsMachine) + ", the shipped defaults" : machine},
                 {"cpu_signature", cache_cpu.empty() ? json(nullptr) : json(cache_cpu)}}}};
  if (const json* m = json_at(cache, {"fit", "misfit"}); m && m->is_object()) prov["cache_model"]["misfit"] = *m;
  return prov;
}

std::string calibration_cpu_mismatch(const std::string& capture_cpu, const std::string& path) {
  if (capture_cpu.empty() || path.empty() || !std::filesystem::is_regular_file(path)) return "";
  json c = read_json_file(path, size_t(16) << 20);
  const json *fitted = json_at(c, {"provenance", "cpu_signature"}),
             *cache = json_at(c, {"provenance", "cache_model", "cpu_signature"});
  std::string why;
  if (fitted && fitted->is_string() && fitted->get<std::string>() != capture_cpu)
    why = "its captures ran on " + fitted->get<std::string>();
  if (cache && cache->is_string() && cache->get<std::string>() != capture_cpu)
    why += std::string(why.empty() ? "" : "; ") + "its cache model was measured on " + cache->get<std::string>();
  if (const json* m = json_at(c, {"provenance", "cache_model", "misfit"}); m && m->is_object())
    why += std::string(why.empty() ? "" : "; ") +
           "its cache model misses that machine's kernel cold-path curves (kept with --accept-cache-misfit)";
  return why.empty() ? "" : "the capture ran on " + capture_cpu + ", the calibration " + printable(path, 200) +
                                " does not describe it: " + why;
}

}  // namespace tunsim::calib
