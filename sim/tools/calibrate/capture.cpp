#include "sim/tools/calibrate/capture.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <sstream>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/tools/trace/stats.hpp"

namespace tunsim::calib {

namespace fs = std::filesystem;

bool CaptureOptions::given() const {
  return !mode.empty() || bridge || !writers.empty() || !cpus.empty() || frame_bytes > 0 || !kernel.empty() ||
         !dev.empty() || hz > 0 || nr_cpus > 0;
}

namespace {

// A small histogram: at most kMaxValues distinct values are counted (the
// rest are not), so that a task's state stays small whatever the trace.
class Counts {
 public:
  static constexpr size_t kMaxValues = 64;
  void add(int64_t v) {
    for (auto& [x, n] : c_)
      if (x == v) {
        ++n;
        return;
      }
    if (c_.size() < kMaxValues) c_.emplace_back(v, 1);
  }
  // The most frequent value (the smallest of equals), or `none`.
  int64_t mode(int64_t none) const {
    int64_t best = none;
    uint64_t bn = 0;
    for (auto& [x, n] : c_)
      if (n > bn || (n == bn && x < best)) best = x, bn = n;
    return best;
  }
  uint64_t count(int64_t v) const {
    for (auto& [x, n] : c_)
      if (x == v) return n;
    return 0;
  }

 private:
  std::vector<std::pair<int64_t, uint64_t>> c_;
};

struct Task {
  bool in_write = false, rx_in_write = false;
  uint64_t writes = 0, writes_with_rx = 0;
  Counts cpu, count, ret;
  int64_t first_enter = -1, last_exit = -1;
};

struct Seen {
  std::map<int, Task> tasks;
  uint64_t napi_polls = 0;
  int max_cpu = -1;
  trace::ParseReport report;
};

Seen scan(const std::string& trace, const std::string& dev, int64_t write_nr, const std::string& name) {
  Seen s;
  auto task = [&](int pid) -> Task& {
    auto it = s.tasks.find(pid);
    if (it != s.tasks.end()) return it->second;
    if (s.tasks.size() >= kMaxInferTasks)
      throw InputError(name + ": expected at most " + std::to_string(kMaxInferTasks) +
                       " tasks calling write() to infer the writers from, found more (give --writers)");
    return s.tasks[pid];
  };
  s.report = trace::parse_trace_file(
      trace, false,
      [&](const TraceEvent& e) {
        s.max_cpu = std::max(s.max_cpu, e.cpu);
        switch (e.type) {
          case EventType::SysEnter: {
            if (e.nr != write_nr) return;
            Task& t = task(e.pid);
            t.in_write = true;
            t.rx_in_write = false;
            ++t.writes;
            t.cpu.add(e.cpu);
            if (e.len > 0) t.count.add(e.len);
            if (t.first_enter < 0) t.first_enter = e.ts_ns;
            return;
          }
          case EventType::SysExit: {
            if (e.nr != write_nr) return;
            auto it = s.tasks.find(e.pid);
            if (it == s.tasks.end() || !it->second.in_write) return;
            Task& t = it->second;
            t.in_write = false;
            t.writes_with_rx += t.rx_in_write;
            t.ret.add(e.ret);
            t.last_exit = e.ts_ns;
            return;
          }
          case EventType::NetifReceiveSkb:
          case EventType::GroReceiveEntry: {
            if (e.dev != dev) return;
            auto it = s.tasks.find(e.pid);
            if (it != s.tasks.end() && it->second.in_write) it->second.rx_in_write = true;
            return;
          }
          case EventType::NapiPoll:
            if (e.dev == dev) ++s.napi_polls;
            return;
          default:
            return;
        }
      },
      name);
  return s;
}

// PREFIX.json beside PREFIX.trace[.gz] (or .dat, .perf.data[.gz]), "" if none.
std::string sidecar_beside(const std::string& trace) {
  std::string base = trace;
  for (const char* ext : {".trace.gz", ".trace", ".perf.data.gz", ".perf.data", ".dat", ".gz"}) {
    std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base = base.substr(0, base.size() - e.size());
      break;
    }
  }
  std::string side = base + ".json";
  return side != trace && fs::is_regular_file(side) ? side : "";
}

}  // namespace

Workload workload_of_trace(const std::string& trace, const CaptureOptions& o, std::ostream& report) {
  const std::string name = printable(trace, 200);
  std::string side = sidecar_beside(trace);
  if (!side.empty() && !o.given()) {
    Workload w = read_sidecar(side);
    w.trace_path = trace;
    return w;
  }
  if (!o.mode.empty() && o.mode != "plain" && o.mode != "napi")
    throw InputError("--mode: expected plain or napi, found '" + printable(o.mode, 40) + "'");
  // (Without --writers this said "one CPU per --writers thread (0)".)
  if (!o.cpus.empty() && o.writers.empty())
    throw InputError("--cpus: expected --writers with it (one CPU per writer thread), found --cpus alone");
  for (size_t i = 0; i < o.writers.size(); ++i)
    if (earlier_tid(o.writers, i) < i)
      throw InputError("--writers: expected each thread id once, found " + std::to_string(o.writers[i]) + " twice");
  if (!o.cpus.empty() && o.cpus.size() != o.writers.size())
    throw InputError("--cpus: expected one CPU per --writers thread (" + std::to_string(o.writers.size()) +
                     "), found " + std::to_string(o.cpus.size()));
  Workload w;
  if (!side.empty()) w = read_sidecar(side);
  w.trace_path = trace;
  std::ostringstream said;
  // The device: the option, the sidecar's, or the busiest.
  std::string dev = !o.dev.empty() ? o.dev : w.dev;
  if (dev.empty()) {
    auto devs = trace::count_devices(trace, false, name);
    if (devs.empty())
      throw InputError(name + ": expected netif_receive_skb events on the tap, found none (is it a trace of a "
                              "tap workload? give --dev)");
    dev = std::max_element(devs.begin(), devs.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    said << "  device " << printable(dev, 40) << ": the most netif_receive_skb events (" << devs[dev] << ")\n";
  }
  w.dev = dev;
  Seen s = scan(trace, dev, o.write_nr, name);
  // Writers: given, or the tasks whose write() delivered on the device.
  std::vector<int> writers = o.writers;
  if (writers.empty() && side.empty()) {
    uint64_t top = 0;
    for (auto& [pid, t] : s.tasks) top = std::max(top, t.writes_with_rx);
    if (top == 0)
      throw InputError(name + ": expected write() calls (sys_enter/sys_exit NR " + std::to_string(o.write_nr) +
                       ") during which a packet was received on " + printable(dev, 40) +
                       ", found none (give --writers TID,... and --cpus)");
    for (auto& [pid, t] : s.tasks)
      if (t.writes_with_rx * 20 >= top) writers.push_back(pid);
  }
  if (!writers.empty()) {
    w.tids = writers;
    w.cpus.clear();
    for (size_t i = 0; i < writers.size(); ++i) {
      auto it = s.tasks.find(writers[i]);
      if (!o.cpus.empty()) {
        w.cpus.push_back(o.cpus[i]);
      } else if (it == s.tasks.end() || it->second.writes == 0) {
        throw InputError(name + ": writer " + std::to_string(writers[i]) + " made no write() call in the trace");
      } else {
        w.cpus.push_back(static_cast<int>(it->second.cpu.mode(0)));
      }
      said << "  writer " << writers[i] << " on CPU " << w.cpus.back();
      if (it != s.tasks.end())
        said << ": " << it->second.writes << " write() calls, " << it->second.writes_with_rx
             << " delivering on the device";
      said << "\n";
    }
  }
  // The frame size: given, or the writers' most common write() count.
  if (o.frame_bytes > 0) {
    w.frame_bytes = o.frame_bytes;
  } else if (side.empty()) {
    Counts count, ret;
    for (int pid : w.tids) {
      auto it = s.tasks.find(pid);
      if (it == s.tasks.end()) continue;
      int64_t c = it->second.count.mode(-1), r = it->second.ret.mode(-1);
      if (c > 0) count.add(c);
      if (r > 0) ret.add(r);
    }
    int64_t fb = count.mode(-1) > 0 ? count.mode(-1) : ret.mode(-1);
    if (fb < 14 || fb > 65535)
      throw InputError(name + ": expected the writers' write() size (14..65535 bytes) in sys_enter's count or "
                              "sys_exit's return value, found none (give --frame-bytes)");
    w.frame_bytes = static_cast<int>(fb);
    said << "  frame " << fb << " bytes: the writers' most common write() " << (count.mode(-1) > 0 ? "count" : "return value")
         << "\n";
  }
  if (!o.mode.empty()) {
    w.mode = o.mode;
  } else if (side.empty()) {
    w.mode = s.napi_polls > 0 ? "napi" : "plain";
    said << "  mode " << w.mode << ": " << s.napi_polls << " napi_poll events on the device\n";
  }
  if (o.bridge) w.bridge = true;
  if (!o.kernel.empty()) w.kernel = o.kernel;
  if (o.hz > 0) w.hz = o.hz;
  int max_cpu = std::max(s.max_cpu, w.cpus.empty() ? 0 : *std::max_element(w.cpus.begin(), w.cpus.end()));
  if (o.nr_cpus > 0) {
    if (o.nr_cpus <= max_cpu)
      throw InputError("--nr-cpus " + std::to_string(o.nr_cpus) + ": expected more than the highest CPU (" +
                       std::to_string(max_cpu) + ")");
    w.nr_cpus = o.nr_cpus;
  } else if (side.empty()) {
    w.nr_cpus = max_cpu + 1;
  }
  if (side.empty()) {
    int64_t first = -1, last = -1;
    w.frames_written = 0;
    for (int pid : w.tids) {
      auto it = s.tasks.find(pid);
      if (it == s.tasks.end()) continue;
      w.frames_written += static_cast<long long>(it->second.ret.count(w.frame_bytes));
      if (it->second.first_enter >= 0 && (first < 0 || it->second.first_enter < first)) first = it->second.first_enter;
      last = std::max(last, it->second.last_exit);
    }
    w.elapsed_s = first >= 0 && last > first ? static_cast<double>(last - first) * 1e-9 : 0;
    w.timestamp_resolution_ns = static_cast<double>(s.report.resolution_ns());
    w.tracer = s.report.format;
  }
  w.described = true;
  report << "capture " << name << (side.empty() ? " (no sidecar)" : " (sidecar " + printable(side, 200) + ")")
         << " as described on the command line";
  if (said.str().empty()) {
    report << "\n";
  } else {
    report << ", and inferred from the trace:\n" << said.str();
  }
  report << "  " << w.label() << ", " << w.frames_written << " frames written, kernel "
         << (w.kernel.empty() ? "unknown (give --kernel RELEASE)" : printable(w.kernel, 80))
         << (w.bridge ? ", bridged" : ", frames dropped as unhandled (give --bridge if the tap is bridged)") << "\n";
  return w;
}

}  // namespace tunsim::calib
