#include "sim/tools/calibrate/sidecar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "models/kernel/version.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string shown(const json& v) { return printable(dump_json(v, -1), 60); }

// Sidecar field access with one-line errors.
const json& field(const json& j, const std::string& file, const char* key) {
  if (!j.contains(key)) throw InputError(file + ": " + key + ": expected a value, found nothing");
  return j[key];
}
// An integer in [lo, hi]; `where` names it in messages ("threads[0].cpu").
long long int_field(const json& j, const std::string& file, const char* where, const char* key, long long lo,
                    long long hi) {
  if (!j.contains(key)) throw InputError(file + ": " + where + ": expected a value, found nothing");
  const json& v = j[key];
  bool ok = false;
  long long x = 0;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    ok = u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo));
    x = ok ? static_cast<long long>(u) : 0;
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
    ok = x >= lo && x <= hi;
  }
  if (!ok)
    throw InputError(file + ": " + where + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], found " + shown(v));
  return x;
}
long long int_field(const json& j, const std::string& file, const char* key, long long lo, long long hi) {
  return int_field(j, file, key, key, lo, hi);
}
// An optional number in [lo, hi] (an integer when `integer`); absent or null
// gives `dflt`.
double opt_number(const json& j, const std::string& file, const char* key, double lo, double hi, double dflt,
                  bool integer) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  const json& v = j[key];
  if (!v.is_number() || (integer && !v.is_number_integer()) || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
    char range[96];
    std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
    throw InputError(file + ": " + key + ": expected " + (integer ? "an integer" : "a number") + " in " + range +
                     " or null, found " + shown(v));
  }
  return v.get<double>();
}
std::string str_field(const json& j, const std::string& file, const char* key) {
  const json& v = field(j, file, key);
  if (!v.is_string()) throw InputError(file + ": " + key + ": expected a string, found " + shown(v));
  return v.get<std::string>();
}
// An optional string: absent or null is "".
std::string opt_str_field(const json& j, const std::string& file, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return str_field(j, file, key);
}
// An optional true or false: absent or null is false.
bool opt_bool(const json& j, const std::string& file, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return false;
  if (!j[key].is_boolean()) throw InputError(file + ": " + key + ": expected true or false, found " + shown(j[key]));
  return j[key].get<bool>();
}


}  // namespace

bool Workload::wakes_other_cpu() const {
  auto writer_cpu = [&](int c) { return std::find(cpus.begin(), cpus.end(), c) != cpus.end(); };
  if (threaded && napi_thread_cpu >= 0 && !writer_cpu(napi_thread_cpu)) return true;
  for (int c : rps_cpus)
    if (!writer_cpu(c)) return true;
  return false;
}

std::string Workload::label() const {
  return std::string(bridge ? "bridge-" : "") + mode + "-" + std::to_string(frame_bytes) + "-" +
         std::to_string(cpus.size()) + "w";
}

std::string Workload::origin() const {
  if (!described) return sidecar_path;
  return trace_path + " (described on the command line" + (sidecar_path.empty() ? "" : " and by " + sidecar_path) +
         ")";
}

size_t earlier_tid(const std::vector<int>& tids, size_t i) {
  for (size_t k = 0; k < i; ++k)
    if (tids[k] == tids[i]) return k;
  return tids.size();
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
  w.threaded = opt_bool(j, file, "threaded");
  if (!w.threaded) {
    if (j.contains("napi_thread") && !j["napi_thread"].is_null())
      throw InputError(file + ": napi_thread: expected nothing without \"threaded\": true, found " +
                       shown(j["napi_thread"]));
    return;
  }
  if (w.mode != "napi")
    throw InputError(file + ": threaded: expected false for a " + w.mode + " tap (threaded NAPI needs IFF_NAPI), "
                     "found true");
  const json& t = j.contains("napi_thread") ? j["napi_thread"] : json();
  if (!t.is_object() || !t.contains("cpu") || !t["cpu"].is_number_integer() || t["cpu"].get<long long>() < 0 ||
      t["cpu"].get<long long>() >= w.nr_cpus)
    throw InputError(file + ": napi_thread: expected {\"pid\", \"comm\", \"cpu\": N} with N below nr_cpus " +
                     std::to_string(w.nr_cpus) + ", found " + (t.is_null() ? std::string("nothing") : shown(t)));
  w.napi_thread_cpu = t["cpu"].get<int>();
}

// "perf_paths" (optional): scripts/perf-paths' record of the capture
// (format tunsim-perf-paths/1): the sampled ns per frame of each costs.* path.
static void read_perf_paths(const json& j, const std::string& file, Workload& w) {
  if (!j.contains("perf_paths") || j["perf_paths"].is_null()) return;
  const json& p = j["perf_paths"];
  const std::string at = "perf_paths";
  if (!p.is_object() || !p.contains("format") || p["format"] != "tunsim-perf-paths/1")
    throw InputError(file + ": " + at + ".format: expected \"tunsim-perf-paths/1\", found " +
                     (p.is_object() && p.contains("format") ? shown(p["format"]) : shown(p)));
  // A number >= 0 (> 0 when `positive`) at obj[key], named `where` in messages.
  auto num = [&](const json& obj, const std::string& where, const char* key, bool positive) {
    const json* v = obj.contains(key) ? &obj[key] : nullptr;
    if (!v || !v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < 0 ||
        (positive && v->get<double>() == 0))
      throw InputError(file + ": " + where + "." + key + ": expected a number " + (positive ? "> 0" : ">= 0") +
                       ", found " + (v ? shown(*v) : std::string("nothing")));
    return v->get<double>();
  };
  double samples = int_field(p, file, (at + ".samples").c_str(), "samples", 1, 1LL << 50);
  w.perf_sample_ns_per_frame = num(p, at, "sampled_ns_per_frame", true) / samples;
  const json& paths = field(p, file, "paths");
  if (!paths.is_object())
    throw InputError(file + ": " + at + ".paths: expected an object of costs.* paths, found " + shown(paths));
  for (auto& [k, v] : paths.items()) {
    std::string where = at + ".paths." + printable(k, 60);
    if (k.rfind("costs.", 0) != 0 || !v.is_object())
      throw InputError(file + ": " + where + ": expected a costs.* key with {\"ns_per_frame\", \"samples\"}, found " +
                       shown(v));
    Workload::PerfPath pp;
    pp.samples = int_field(v, file, (where + ".samples").c_str(), "samples", 0, 1LL << 50);
    pp.ns_per_frame = num(v, where, "ns_per_frame", false);
    pp.events_ns_per_frame = num(v, where, "events_ns_per_frame", false);
    if (pp.events_ns_per_frame > pp.ns_per_frame)
      throw InputError(file + ": " + where + ".events_ns_per_frame: expected at most ns_per_frame " +
                       shown(v["ns_per_frame"]) + ", found " + shown(v["events_ns_per_frame"]));
    w.perf_paths[k] = pp;
  }
}

Workload read_sidecar(const std::string& path) {
  if (path == "-") return read_sidecar_text(read_file("-", kMaxSidecarBytes), "standard input");
  return read_sidecar_text(read_file(path, kMaxSidecarBytes), path);
}

Workload read_sidecar_text(const std::string& text, const std::string& path) {
  const std::string file = printable(path, 200);
  json j = parse_json(text, file);
  if (!j.is_object() || !j.contains("format") || j["format"] != "tunsim-capture/1")
    throw InputError(file + ": format: expected \"tunsim-capture/1\", found " +
                     (j.is_object() && j.contains("format") ? shown(j["format"]) : "nothing"));
  Workload w;
  w.sidecar_path = path;
  w.mode = str_field(j, file, "mode");
  if (w.mode != "plain" && w.mode != "napi")
    throw InputError(file + ": mode: expected \"plain\" or \"napi\", found " + shown(j["mode"]));
  const json& b = field(j, file, "bridge");
  if (!b.is_boolean()) throw InputError(file + ": bridge: expected true or false, found " + shown(b));
  w.bridge = b.get<bool>();
  w.frame_bytes = static_cast<int>(int_field(j, file, "frame_bytes", 14, 65535));
  const json& th = field(j, file, "threads");
  if (!th.is_array() || th.empty())
    throw InputError(file + ": threads: expected a non-empty array of {\"cpu\", \"tid\"}, found " + shown(th));
  if (th.size() > 4096) throw InputError(file + ": threads: expected at most 4096 writer threads, found " +
                                         std::to_string(th.size()));
  for (size_t i = 0; i < th.size(); ++i) {
    const json& t = th[i];
    std::string at = "threads[" + std::to_string(i) + "]";
    if (!t.is_object())
      throw InputError(file + ": " + at + ": expected {\"cpu\": N, \"tid\": N}, found " + shown(t));
    w.cpus.push_back(static_cast<int>(int_field(t, file, (at + ".cpu").c_str(), "cpu", 0, 4095)));
    w.tids.push_back(static_cast<int>(int_field(t, file, (at + ".tid").c_str(), "tid", 0, 4194304)));
    if (size_t k = earlier_tid(w.tids, i); k < i)
      throw InputError(file + ": " + at + ".tid: expected each writer thread once, found " +
                       std::to_string(w.tids[i]) + " again (threads[" + std::to_string(k) + "])");
  }
  w.frames_written = int_field(j, file, "frames_written", 0, 1LL << 50);
  w.count_per_thread = static_cast<long long>(opt_number(j, file, "count_per_thread", 0, 1e15, 0, true));
  w.duration_s = opt_number(j, file, "duration_s", 0, 1e6, 0, false);
  w.elapsed_s = opt_number(j, file, "elapsed_ns", 0, 1e15, 0, false) * 1e-9;
  w.nr_cpus = static_cast<int>(int_field(j, file, "nr_cpus", 1, 4096));
  w.hz = static_cast<int>(opt_number(j, file, "hz", 1, 100000, 0, true));
  w.kernel = opt_str_field(j, file, "kernel");
  // The capture's kernel picks the modelled version it is simulated with
  // (the newest not after it).  A release older than every modelled
  // version was simulated as 6.18 with only the description saying so;
  // missing, empty or no release at all ("synthetic") is an unknown kernel
  // (the newest, and the description says so).
  KernelVersion captured;
  if (is_release(w.kernel) && !version_of_release(w.kernel, captured))
    throw InputError(file + ": kernel: expected a Linux release of " + version_name(modelled_versions().front()) +
                     " or later (the oldest tunsim models), such as \"6.18.44-amd64\", found " + shown(json(w.kernel)));
  w.cpu_model = opt_str_field(j, file, "cpu_model");
  w.cpu_signature = opt_str_field(j, file, "cpu_signature");
  w.dev = opt_str_field(j, file, "dev");
  w.date = opt_str_field(j, file, "date");
  w.tracer = opt_str_field(j, file, "tracer");
  w.timestamp_resolution_ns = opt_number(j, file, "timestamp_resolution_ns", 1, 1e9, 1, false);
  w.line_transfer_ns = opt_number(j, file, "line_transfer_ns", 0, 1e9, -1, false);
  if (w.line_transfer_ns <= 0) w.line_transfer_ns = -1;
  w.line_burst_ns = opt_number(j, file, "line_burst_ns", 0, 1e9, -1, false);
  if (w.line_burst_ns <= 0) w.line_burst_ns = -1;
  w.line_move_ns = opt_number(j, file, "line_move_ns", 0, 1e9, -1, false);
  if (w.line_move_ns <= 0) w.line_move_ns = -1;
  w.skb_remote_walk_ns = opt_number(j, file, "skb_remote_walk_ns", 0, 1e9, -1, false);
  if (w.skb_remote_walk_ns <= 0) w.skb_remote_walk_ns = -1;
  w.wakeup_waker_ns = opt_number(j, file, "wakeup_waker_ns", 0, 1e9, -1, false);
  w.wakeup_latency_ns = opt_number(j, file, "wakeup_latency_ns", 0, 1e9, -1, false);
  w.wakeup_no_waiter_ns = opt_number(j, file, "wakeup_no_waiter_ns", 0, 1e9, -1, false);
  if (!w.wakeup_measured()) w.wakeup_waker_ns = w.wakeup_latency_ns = w.wakeup_no_waiter_ns = -1;
  std::string trace_file = opt_str_field(j, file, "trace_file");
  if (!trace_file.empty()) w.trace_path = (fs::path(path).parent_path() / trace_file).string();
  read_threading(j, file, w);
  read_perf_paths(j, file, w);
  // "rps_cpus" (optional, [] when absent): capture-trace --rps-cpus.
  if (j.contains("rps_cpus") && !j["rps_cpus"].is_null()) {
    const json& r = j["rps_cpus"];
    if (!r.is_array() || r.size() > 4096)
      throw InputError(file + ": rps_cpus: expected an array of CPU numbers, found " + shown(r));
    for (const json& c : r) {
      if (!c.is_number_integer() || c.get<long long>() < 0 || c.get<long long>() >= w.nr_cpus)
        throw InputError(file + ": rps_cpus: expected CPU numbers below nr_cpus " + std::to_string(w.nr_cpus) +
                         ", found " + shown(c));
      w.rps_cpus.push_back(static_cast<int>(c.get<long long>()));
    }
    if (!w.rps_cpus.empty() && w.threaded)
      throw InputError(file + ": rps_cpus: expected [] with \"threaded\": true (capture-trace takes one of them)");
  }
  // "stall_period_us", "stall_ns" (optional, together): stall.c at capture.
  if (j.contains("stall_ns") && !j["stall_ns"].is_null()) {
    const json& t = j["stall_ns"];
    w.stall_period_us = opt_number(j, file, "stall_period_us", 10, 1e6, -1, false);
    if (w.stall_period_us <= 0) throw InputError(file + ": stall_period_us: expected a number with stall_ns");
    if (!t.is_array() || t.empty() || t.size() > Workload::kStallQuantilesMax)
      throw InputError(file + ": stall_ns: expected an array of 1 to " + std::to_string(Workload::kStallQuantilesMax) +
                       " numbers (ns), found " + shown(t));
    for (const json& v : t) {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() >= w.stall_period_us * 1e3 ||
          (!w.stall_ns.empty() && v.get<double>() < w.stall_ns.back()))
        throw InputError(file + ": stall_ns: expected ascending numbers in [0, the period), found " + shown(v));
      w.stall_ns.push_back(v.get<double>());
    }
  }
  // "slab_events" (optional, false when absent): capture-trace --slab-events.
  w.slab_events = opt_bool(j, file, "slab_events");
  for (int c : w.cpus)
    if (c < 0 || c >= w.nr_cpus)
      throw InputError(file + ": threads: cpu " + std::to_string(c) + " is not below nr_cpus " +
                       std::to_string(w.nr_cpus));
  return w;
}
}  // namespace tunsim::calib
