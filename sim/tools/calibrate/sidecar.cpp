#include "sim/tools/calibrate/sidecar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Sidecar field access with one-line errors.
const json& field(const json& j, const std::string& file, const char* key) {
  if (!j.contains(key)) throw InputError(file + ": " + key + ": expected a value, found nothing");
  return j[key];
}
long long int_field(const json& j, const std::string& file, const char* key, long long lo, long long hi) {
  const json& v = field(j, file, key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    throw InputError(file + ": " + key + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], found " + v.dump());
  return v.get<long long>();
}
std::string str_field(const json& j, const std::string& file, const char* key) {
  const json& v = field(j, file, key);
  if (!v.is_string()) throw InputError(file + ": " + key + ": expected a string, found " + v.dump());
  return v.get<std::string>();
}


}  // namespace

std::string Workload::label() const {
  return std::string(bridge ? "bridge-" : "") + mode + "-" + std::to_string(frame_bytes) + "-" +
         std::to_string(cpus.size()) + "w";
}

std::string sidecar_for_trace(const std::string& trace_path) {
  std::string base = trace_path;
  for (const char* ext : {".trace.gz", ".trace", ".gz"}) {
    std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base = base.substr(0, base.size() - e.size());
      break;
    }
  }
  std::string side = base + ".json";
  if (side == trace_path)
    throw InputError(trace_path + ": expected a trace file (PREFIX.trace or PREFIX.trace.gz), found a .json file");
  if (!fs::exists(side))
    throw InputError(trace_path + ": capture sidecar " + side +
                     " not found (scripts/capture-trace writes PREFIX.json beside PREFIX.trace; it says "
                     "which workload the trace is)");
  return side;
}

// "threaded" (optional, false when absent) and, when true, "napi_thread":
// {"pid", "comm", "cpu"} of the pinned NAPI kthread (capture-trace --threaded).
static void read_threading(const json& j, const std::string& file, Workload& w) {
  if (j.contains("threaded") && !j["threaded"].is_null()) {
    if (!j["threaded"].is_boolean())
      throw InputError(file + ": threaded: expected true or false, found " + j["threaded"].dump());
    w.threaded = j["threaded"].get<bool>();
  }
  if (!w.threaded) {
    if (j.contains("napi_thread") && !j["napi_thread"].is_null())
      throw InputError(file + ": napi_thread: expected nothing without \"threaded\": true, found " +
                       j["napi_thread"].dump());
    return;
  }
  if (w.mode != "napi")
    throw InputError(file + ": threaded: expected false for a " + w.mode + " tap (threaded NAPI needs IFF_NAPI), "
                     "found true");
  const json& t = j.contains("napi_thread") ? j["napi_thread"] : json();
  if (!t.is_object() || !t.contains("cpu") || !t["cpu"].is_number_integer() || t["cpu"].get<long long>() < 0 ||
      t["cpu"].get<long long>() >= w.nr_cpus)
    throw InputError(file + ": napi_thread: expected {\"pid\", \"comm\", \"cpu\": N} with N below nr_cpus " +
                     std::to_string(w.nr_cpus) + ", found " + (t.is_null() ? std::string("nothing") : t.dump()));
  w.napi_thread_cpu = t["cpu"].get<int>();
}

Workload read_sidecar(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || j.value("format", "") != "tunsim-capture/1")
    throw InputError(path + ": format: expected \"tunsim-capture/1\", found " +
                     (j.is_object() && j.contains("format") ? j["format"].dump() : "nothing"));
  Workload w;
  w.sidecar_path = path;
  w.mode = str_field(j, path, "mode");
  if (w.mode != "plain" && w.mode != "napi")
    throw InputError(path + ": mode: expected \"plain\" or \"napi\", found \"" + w.mode + "\"");
  const json& b = field(j, path, "bridge");
  if (!b.is_boolean()) throw InputError(path + ": bridge: expected true or false, found " + b.dump());
  w.bridge = b.get<bool>();
  w.frame_bytes = static_cast<int>(int_field(j, path, "frame_bytes", 14, 65535));
  const json& th = field(j, path, "threads");
  if (!th.is_array() || th.empty())
    throw InputError(path + ": threads: expected a non-empty array of {\"cpu\", \"tid\"}, found " + th.dump());
  for (size_t i = 0; i < th.size(); ++i) {
    const json& t = th[i];
    if (!t.is_object() || !t.contains("cpu") || !t["cpu"].is_number_integer() || !t.contains("tid") ||
        !t["tid"].is_number_integer())
      throw InputError(path + ": threads[" + std::to_string(i) + "]: expected {\"cpu\": N, \"tid\": N}, found " +
                       t.dump());
    w.cpus.push_back(t["cpu"].get<int>());
    w.tids.push_back(t["tid"].get<int>());
  }
  w.frames_written = int_field(j, path, "frames_written", 0, 1LL << 50);
  if (j.contains("count_per_thread") && j["count_per_thread"].is_number_integer())
    w.count_per_thread = j["count_per_thread"].get<long long>();
  if (j.contains("duration_s") && j["duration_s"].is_number()) w.duration_s = j["duration_s"].get<double>();
  if (j.contains("elapsed_ns") && j["elapsed_ns"].is_number()) w.elapsed_s = j["elapsed_ns"].get<double>() * 1e-9;
  w.nr_cpus = static_cast<int>(int_field(j, path, "nr_cpus", 1, 4096));
  if (j.contains("hz") && j["hz"].is_number_integer()) w.hz = j["hz"].get<int>();
  w.kernel = j.value("kernel", "");
  w.cpu_model = j.value("cpu_model", "");
  w.dev = j.value("dev", "");
  w.date = j.value("date", "");
  w.tracer = j.value("tracer", "");
  if (j.contains("timestamp_resolution_ns") && j["timestamp_resolution_ns"].is_number())
    w.timestamp_resolution_ns = j["timestamp_resolution_ns"].get<double>();
  if (j.contains("line_transfer_ns") && j["line_transfer_ns"].is_number() && j["line_transfer_ns"].get<double>() > 0)
    w.line_transfer_ns = j["line_transfer_ns"].get<double>();
  if (j.contains("trace_file") && j["trace_file"].is_string())
    w.trace_path = (fs::path(path).parent_path() / j["trace_file"].get<std::string>()).string();
  read_threading(j, path, w);
  for (int c : w.cpus)
    if (c < 0 || c >= w.nr_cpus)
      throw InputError(path + ": threads: cpu " + std::to_string(c) + " is not below nr_cpus " +
                       std::to_string(w.nr_cpus));
  return w;
}
}  // namespace tunsim::calib
