#include "sim/calibrate/trace_fit.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "sim/errors.hpp"
#include "sim/io.hpp"
#include "sim/trace/parse.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct ParamInfo {
  const char* key;
  double def;  // sim/schema.cpp default
};
// Order = enum Param.
const ParamInfo kInfo[kParams] = {
    {"costs.syscall_ns", 120},        {"costs.tun_get_user_ns", 150},   {"costs.skb_alloc_ns", 80},
    {"costs.copy_ns_per_byte", 0.08}, {"costs.lock_ns", 20},            {"costs.napi_schedule_ns", 20},
    {"costs.softirq_ns", 150},        {"costs.napi_poll_ns", 30},       {"costs.gro_ns", 80},
    {"costs.netif_receive_skb_ns", 100}, {"costs.stack_drop_ns", 40},   {"costs.bridge_forward_ns", 500},
};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string short_key(int p) {
  std::string k = kInfo[p].key;
  return k.substr(6);  // without "costs."
}

std::string unit_of(int p) { return p == kCopy ? "ns/byte" : "ns"; }

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

double sum_default(const Observation& o) {
  double s = 0;
  for (int p = 0; p < kParams; ++p) s += o.coef[p] * kInfo[p].def;
  return s;
}

}  // namespace

const char* param_key(int p) { return kInfo[p].key; }
double param_default(int p) { return kInfo[p].def; }

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
  for (int c : w.cpus)
    if (c < 0 || c >= w.nr_cpus)
      throw InputError(path + ": threads: cpu " + std::to_string(c) + " is not below nr_cpus " +
                       std::to_string(w.nr_cpus));
  return w;
}

// 6.4+ -> "6.4", 5.4-6.3 -> "6.1" (5.4 brought gro_normal_batch), 4.15-5.3
// -> "4.15", 4.11-4.14 -> "4.11", older -> "4.9"; unparsable -> "6.4".
std::string model_version_of(const std::string& release) {
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) return "6.4";
  if (major > 6 || (major == 6 && minor >= 4)) return "6.4";
  if (major == 6 || (major == 5 && minor >= 4)) return "6.1";
  if (major == 5 || (major == 4 && minor >= 15)) return "4.15";
  if (major == 4 && minor >= 11) return "4.11";
  return "4.9";
}

json scenario_for(const Workload& w, const std::string& calibration) {
  json s;
  const std::string version = model_version_of(w.kernel);
  s["name"] = "trace-" + w.label();
  std::ostringstream d;
  d << "Generated by tunsim trace config from " << w.sidecar_path << ": " << w.cpus.size()
    << " writer thread(s) on CPU(s)";
  for (int c : w.cpus) d << " " << c;
  d << " write() " << w.frame_bytes << "-byte frames to "
    << (w.mode == "napi" ? "an IFF_NAPI tap (napi_gro design)"
                         : "a plain tap (rx_batched with rx_frames 0: netif_receive_skb under bh-disable)")
    << (w.bridge ? ", bridged to a peer tap" : ", dropped as an unhandled protocol") << "; captured on "
    << (w.kernel.empty() ? "an unknown kernel" : w.kernel) << ", simulated with kernel " << version
    << " behaviour.";
  s["description"] = d.str();
  s["design"] = w.mode == "napi" ? "napi_gro" : "rx_batched";
  s["kernel"] = {{"version", version}};
  if (w.hz >= 100 && w.hz <= 1000) s["kernel"]["hz"] = w.hz;
  int max_cpu = *std::max_element(w.cpus.begin(), w.cpus.end());
  s["cpus"] = {{"count", std::max(w.nr_cpus, max_cpu + 1)}};
  if (w.mode == "plain") s["tun"] = {{"rx_frames", 0}};
  long long count = w.count_per_thread;
  if (count <= 0 && w.duration_s <= 0 && !w.cpus.empty())
    count = w.frames_written / static_cast<long long>(w.cpus.size());
  double dur_ms;
  if (count > 0) {
    // Room for the writes even if the model's write() were several times
    // slower than the kernel's period; the writers stop after `count`.
    dur_ms = std::max(20.0, 4e3 * w.elapsed_s);
  } else {
    dur_ms = std::max(0.001, w.duration_s * 1e3);
  }
  s["duration_ms"] = std::round(dur_ms * 1000) / 1000;
  s["warmup_ms"] = 0;  // the kernel trace's metrics cover the whole capture
  json senders = json::array();
  for (int c : w.cpus) {
    json sd = {{"type", "writer"}, {"cpu", c}, {"queue", 0}, {"frame_bytes", w.frame_bytes}};
    if (count > 0) sd["writer"] = {{"count", count}};
    senders.push_back(sd);
  }
  s["senders"] = senders;
  s["stack"] = {{"type", w.bridge ? "bridge" : "drop"}};
  if (!calibration.empty()) s["calibration"] = calibration;
  return s;
}

std::vector<double> cpu_speeds_for(const Workload& w, double writer_user_ns, std::ostream& report) {
  std::vector<double> speed(static_cast<size_t>(std::max(w.nr_cpus, 1)), 1.0);
  if (w.trace_path.empty() || !fs::exists(w.trace_path))
    throw InputError(w.sidecar_path + ": trace_file: expected the capture's trace beside the sidecar, found " +
                     (w.trace_path.empty() ? std::string("none") : w.trace_path));
  Intervals iv = extract_intervals(w.trace_path, w, true);
  for (int c : w.cpus) {
    auto it = iv.user_gap_by_cpu.find(c);
    if (it == iv.user_gap_by_cpu.end() || it->second.size() < 5) {
      report << "cpu " << c << ": fewer than 5 write() gaps in " << w.trace_path << ": speed 1\n";
      continue;
    }
    double p50, se;
    robust_median(it->second, w.timestamp_resolution_ns, p50, se);
    double s = std::clamp(writer_user_ns / p50, 0.05, 20.0);
    speed[static_cast<size_t>(c)] = std::round(s * 1000) / 1000;
    report << "cpu " << c << ": writer user time " << fmt("%.0f", p50) << " ns (median of " << it->second.size()
           << ") against the calibration's " << fmt("%.0f", writer_user_ns) << " ns: speed "
           << fmt("%.3f", speed[static_cast<size_t>(c)]) << "\n";
  }
  return speed;
}

// ---------------------------------------------------------------------------
// Intervals

Intervals extract_intervals(const std::string& trace_path, const Workload& w, bool use_tids) {
  using trace::EventType;
  using trace::TraceEvent;
  std::set<int> tids;
  if (use_tids) tids.insert(w.tids.begin(), w.tids.end());
  struct WriteState {
    int64_t enter = -1;
    int64_t last_enter = -1;
    int64_t last_exit = -1;
    int netif = 0, softirq_ok = 0, softirq_other = 0;
  };
  struct CpuState {
    int64_t sirq_entry = -1;
    int netif = 0, polls = 0, work = 0;
    uint64_t rx_skb = 0;
    int64_t rx_ts = -1;
    int rx_pid = -1;
  };
  std::map<int, WriteState> ws;
  std::map<int, CpuState> cs;
  Intervals iv;
  const std::string& dev = use_tids ? w.dev : std::string();
  auto on_dev = [&](const TraceEvent& e) { return dev.empty() || e.dev == dev; };
  std::string text = trace::read_trace_file(trace_path);
  trace::parse_trace_text(text, trace_path, false, [&](const TraceEvent& e) {
    switch (e.type) {
      case EventType::SysEnter: {
        if (e.nr != 1 || (!tids.empty() && !tids.count(e.pid))) return;
        WriteState& s = ws[e.pid];
        if (s.last_enter >= 0) iv.period.push_back(static_cast<double>(e.ts_ns - s.last_enter));
        if (s.last_exit >= 0) iv.user_gap_by_cpu[e.cpu].push_back(static_cast<double>(e.ts_ns - s.last_exit));
        s.last_enter = e.ts_ns;
        s.enter = e.ts_ns;
        s.netif = s.softirq_ok = s.softirq_other = 0;
        return;
      }
      case EventType::SysExit: {
        if (e.nr != 1) return;
        auto it = ws.find(e.pid);
        if (it == ws.end() || it->second.enter < 0) return;
        WriteState& s = it->second;
        bool shape = w.mode == "napi" ? (s.softirq_ok == 1 && s.softirq_other == 0 && s.netif == 1)
                                      : (s.softirq_ok == 0 && s.softirq_other == 0 && s.netif == 1);
        if (shape && e.ret == w.frame_bytes) iv.write.push_back(static_cast<double>(e.ts_ns - s.enter));
        s.enter = -1;
        s.last_exit = e.ts_ns;
        return;
      }
      case EventType::SoftirqEntry: {
        if (e.vec != 3) return;
        CpuState& c = cs[e.cpu];
        c.sirq_entry = e.ts_ns;
        c.netif = c.polls = c.work = 0;
        return;
      }
      case EventType::SoftirqExit: {
        if (e.vec != 3) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry < 0) return;
        bool ok = c.netif == 1 && c.polls == 1 && c.work == 1;
        if (ok) iv.softirq.push_back(static_cast<double>(e.ts_ns - c.sirq_entry));
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0) (ok ? it->second.softirq_ok : it->second.softirq_other)++;
        c.sirq_entry = -1;
        return;
      }
      case EventType::NapiPoll: {
        if (!on_dev(e)) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry >= 0) {
          ++c.polls;
          c.work += e.work;
        }
        return;
      }
      case EventType::NetifReceiveSkb: {
        if (!on_dev(e)) return;
        CpuState& c = cs[e.cpu];
        if (c.sirq_entry >= 0) ++c.netif;
        c.rx_skb = e.skbaddr;
        c.rx_ts = e.ts_ns;
        c.rx_pid = e.pid;
        auto it = ws.find(e.pid);
        if (it != ws.end() && it->second.enter >= 0) ++it->second.netif;
        return;
      }
      case EventType::KfreeSkb: {
        CpuState& c = cs[e.cpu];
        if (c.rx_ts >= 0 && e.skbaddr == c.rx_skb && e.pid == c.rx_pid)
          iv.rx.push_back(static_cast<double>(e.ts_ns - c.rx_ts));
        c.rx_ts = -1;
        return;
      }
      default:
        return;
    }
  });
  return iv;
}

void robust_median(std::vector<double> v, double resolution_ns, double& median, double& se) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  // Ranks of the distribution-free 95% confidence interval of the median:
  // n/2 -+ 1.96 sqrt(n)/2 (normal approximation of the binomial).
  double h = 0.98 * std::sqrt(static_cast<double>(n));
  long lo = static_cast<long>(std::floor(n / 2.0 - h)), hi = static_cast<long>(std::ceil(n / 2.0 + h));
  lo = std::max(0L, lo);
  hi = std::min(static_cast<long>(n) - 1, hi);
  se = (v[static_cast<size_t>(hi)] - v[static_cast<size_t>(lo)]) / 3.92;
  // The clock may tick coarser than the printed resolution (about 10 ns on a
  // VM whose trace clock prints ns: intervals of 90, 91, 100, 101, 110 ns):
  // the effective quantum is the median gap between adjacent clusters of
  // values over the whole sample, values within 2 ns of each other (the ns
  // rounding of one tick) forming one cluster.
  std::vector<double> gaps;
  double cluster = v[0];
  for (size_t i = 1; i < n; ++i) {
    if (v[i] - v[i - 1] <= 2) continue;
    gaps.push_back(v[i] - cluster);
    cluster = v[i];
  }
  double quantum = std::max(resolution_ns, 1.0);
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
    quantum = std::max(quantum, gaps[gaps.size() / 2]);
  }
  se = std::max(se, quantum / std::sqrt(12.0));
}

std::vector<Observation> observations_for(const Workload& w, const Intervals& iv) {
  std::vector<Observation> out;
  const double len = w.frame_bytes;
  const int stack = w.bridge ? kBridgeForward : kStackDrop;
  auto add = [&](const char* name, const std::vector<double>& samples, std::map<int, double> coef) {
    if (samples.size() < 5)
      throw InputError(w.trace_path + ": " + std::to_string(samples.size()) + " " + name +
                       " intervals of the expected shape (" + w.label() +
                       "), need at least 5: is this the trace the sidecar describes?");
    Observation o;
    o.trace = w.label();
    o.name = std::string(name) + " p50";
    for (auto& [p, c] : coef) o.coef[p] = c;
    robust_median(samples, w.timestamp_resolution_ns, o.value, o.stderr_ns);
    o.samples = samples.size();
    out.push_back(o);
  };
  // tun_get_user up to netif_receive_skb, as writer.cpp and tun.cpp spend it.
  std::map<int, double> user = {{kSyscall, 1}, {kTunGetUser, 1}, {kSkbAlloc, 1}, {kCopy, len}};
  std::map<int, double> rx = {{kNetifReceiveSkb, 1}, {stack, 1}};
  // One NET_RX softirq with one napi_poll of one packet: __do_softirq,
  // napi_poll bookkeeping, tun_napi_poll's splice under the lock, napi_gro_receive.
  std::map<int, double> sirq = {{kSoftirq, 1}, {kNapiPoll, 1}, {kLock, 1}, {kGro, 1}};
  for (auto& [p, c] : rx) sirq[p] += c;
  if (w.mode == "plain") {
    std::map<int, double> wr = user;
    for (auto& [p, c] : rx) wr[p] += c;
    add("write_ns", iv.write, wr);
  } else {
    // spin_lock_bh + queue, napi_schedule, then the softirq at local_bh_enable.
    std::map<int, double> wr = user;
    wr[kLock] += 1;
    wr[kNapiSchedule] += 1;
    for (auto& [p, c] : sirq) wr[p] += c;
    add("write_ns", iv.write, wr);
    add("softirq_net_rx_ns", iv.softirq, sirq);
  }
  if (!w.bridge) add("netif_receive_skb..kfree_skb_ns", iv.rx, rx);
  return out;
}

// ---------------------------------------------------------------------------
// Least squares

namespace {

// One-sided Jacobi SVD of M (m x n, given by columns): M = U diag(s) V^T.
void jacobi_svd(std::vector<std::vector<double>> cols, std::vector<double>& s,
                std::vector<std::vector<double>>& U, std::vector<std::vector<double>>& V) {
  size_t n = cols.size(), m = n ? cols[0].size() : 0;
  V.assign(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) V[i][i] = 1;
  auto dot = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double r = 0;
    for (size_t k = 0; k < a.size(); ++k) r += a[k] * b[k];
    return r;
  };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        double a = dot(cols[p], cols[p]), b = dot(cols[q], cols[q]), g = dot(cols[p], cols[q]);
        if (a == 0 || b == 0 || std::fabs(g) <= 1e-15 * std::sqrt(a * b)) continue;
        off = std::max(off, std::fabs(g) / std::sqrt(a * b));
        double zeta = (b - a) / (2 * g);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        double c = 1 / std::sqrt(1 + t * t), sn = c * t;
        for (size_t k = 0; k < m; ++k) {
          double x = cols[p][k], y = cols[q][k];
          cols[p][k] = c * x - sn * y;
          cols[q][k] = sn * x + c * y;
        }
        for (size_t k = 0; k < n; ++k) {
          double x = V[k][p], y = V[k][q];
          V[k][p] = c * x - sn * y;
          V[k][q] = sn * x + c * y;
        }
      }
    if (off < 1e-14) break;
  }
  s.assign(n, 0);
  U.assign(n, std::vector<double>(m, 0.0));
  for (size_t j = 0; j < n; ++j) {
    s[j] = std::sqrt(dot(cols[j], cols[j]));
    if (s[j] > 0)
      for (size_t k = 0; k < m; ++k) U[j][k] = cols[j][k] / s[j];
  }
}

// Display order of the parameters in a combination: lock_ns last, since it
// is spent both in the write (enqueue) and in the poll (splice) and as a
// pivot it would mix the two groups.
std::vector<int> display_order(const std::vector<int>& params_in) {
  std::vector<int> params = params_in;
  std::stable_partition(params.begin(), params.end(), [](int p) { return p != kLock; });
  return params;
}

std::string format_combination(const std::vector<double>& c, const std::vector<int>& order) {
  std::string s;
  for (int p : order) {
    double x = c[p];
    if (std::fabs(x) < 1e-9) continue;
    std::string name = short_key(p);
    if (s.empty())
      s = (x == 1 ? "" : (x == -1 ? "-" : fmt("%g*", x))) + name;
    else
      s += (x < 0 ? " - " : " + ") + (std::fabs(x) == 1 ? "" : fmt("%g*", std::fabs(x))) + name;
  }
  return s;
}

// Reduced row echelon form of the equations' coefficient rows over the
// present parameters: the linear combinations the data determine.  Returns
// the rows (by Param) that are not a single identified parameter.
std::vector<std::vector<double>> combinations(const std::vector<Observation>& obs, const std::vector<int>& order,
                                              const std::vector<bool>& identified) {
  const std::vector<int>& params = order;
  std::vector<std::vector<double>> A;
  for (auto& o : obs) {
    std::vector<double> r;
    for (int p : params) r.push_back(o.coef[p]);
    A.push_back(r);
  }
  size_t m = A.size(), n = params.size(), row = 0;
  for (size_t col = 0; col < n && row < m; ++col) {
    size_t piv = row;
    for (size_t i = row; i < m; ++i)
      if (std::fabs(A[i][col]) > std::fabs(A[piv][col])) piv = i;
    if (std::fabs(A[piv][col]) < 1e-9) continue;
    std::swap(A[piv], A[row]);
    double d = A[row][col];
    for (auto& x : A[row]) x /= d;
    for (size_t i = 0; i < m; ++i)
      if (i != row && std::fabs(A[i][col]) > 0) {
        double f = A[i][col];
        for (size_t k = 0; k < n; ++k) A[i][k] -= f * A[row][k];
      }
    ++row;
  }
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < row; ++i) {
    int terms = 0;
    bool all_identified = true;
    std::vector<double> c(kParams, 0.0);
    for (size_t k = 0; k < n; ++k) {
      if (std::fabs(A[i][k]) < 1e-9) continue;
      c[params[k]] = A[i][k];
      ++terms;
      if (!identified[params[k]]) all_identified = false;
    }
    if (terms > 1 || !all_identified) out.push_back(c);
  }
  return out;
}

}  // namespace

namespace {

// Weighted least squares over the parameters `free` (the others fixed at 0):
// values, standard errors and identifiability in r (by Param).
void solve_free(const std::vector<Observation>& obs, const std::vector<int>& free, FitResult& r) {
  size_t m = obs.size(), n = free.size();
  // Scaled unknowns z_j = (x_j - d_j) / sqrt(d_j); rows weighted by 1/stderr.
  // sc_j^2 = d_j / a_j, a_j the smallest |coefficient| of parameter j (1 for
  // a cost, the smallest frame size for copy_ns_per_byte): the minimum-norm
  // solution then changes every cost of an unidentified sum by the same
  // relative amount, i.e. splits the sum in proportion to the defaults'
  // contributions to it.
  std::vector<double> sc(n);
  for (size_t j = 0; j < n; ++j) {
    double a = 0;
    for (auto& o : obs) {
      double c = std::fabs(o.coef[free[j]]);
      if (c > 0 && (a == 0 || c < a)) a = c;
    }
    sc[j] = std::sqrt(kInfo[free[j]].def / (a > 0 ? a : 1));
  }
  std::vector<std::vector<double>> cols(n, std::vector<double>(m));
  std::vector<double> b(m);
  for (size_t i = 0; i < m; ++i) {
    double wgt = 1 / obs[i].stderr_ns, d = 0;
    for (int p : free) d += obs[i].coef[p] * kInfo[p].def;
    b[i] = (obs[i].value - obs[i].penalty - d) * wgt;
    for (size_t j = 0; j < n; ++j) cols[j][i] = obs[i].coef[free[j]] * sc[j] * wgt;
  }
  std::vector<double> s;
  std::vector<std::vector<double>> U, V;
  jacobi_svd(cols, s, U, V);
  double smax = n ? *std::max_element(s.begin(), s.end()) : 0;
  std::vector<size_t> keep;
  for (size_t j = 0; j < n; ++j)
    if (s[j] > smax * 1e-10) keep.push_back(j);
  r.rank = static_cast<int>(keep.size());
  std::vector<double> z(n, 0);
  for (size_t j : keep) {
    double ub = 0;
    for (size_t i = 0; i < m; ++i) ub += U[j][i] * b[i];
    for (size_t k = 0; k < n; ++k) z[k] += V[k][j] * ub / s[j];
  }
  r.value.assign(kParams, 0);
  r.stderr_ns.assign(kParams, 0);
  r.identified.assign(kParams, false);
  for (size_t k = 0; k < n; ++k) r.value[free[k]] = kInfo[free[k]].def + sc[k] * z[k];
  r.residual.assign(m, 0);
  r.chi2 = r.residual_rms_ns = 0;
  for (size_t i = 0; i < m; ++i) {
    double pred = obs[i].penalty;
    for (int p = 0; p < kParams; ++p) pred += obs[i].coef[p] * r.value[p];
    r.residual[i] = obs[i].value - pred;
    r.chi2 += std::pow(r.residual[i] / obs[i].stderr_ns, 2);
    r.residual_rms_ns += r.residual[i] * r.residual[i];
  }
  r.residual_rms_ns = std::sqrt(r.residual_rms_ns / static_cast<double>(m));
  r.dof = static_cast<int>(m) - r.rank;
  double scale = r.dof > 0 ? std::max(1.0, r.chi2 / r.dof) : 1.0;
  r.cov.assign(kParams, std::vector<double>(kParams, 0.0));
  for (size_t k = 0; k < n; ++k)
    for (size_t l = 0; l < n; ++l) {
      double c = 0;
      for (size_t j : keep) c += V[k][j] * V[l][j] / (s[j] * s[j]);
      r.cov[free[k]][free[l]] = sc[k] * sc[l] * c * scale;
    }
  for (size_t k = 0; k < n; ++k) {
    double proj = 0;
    for (size_t j : keep) proj += V[k][j] * V[k][j];
    r.stderr_ns[free[k]] = std::sqrt(std::max(0.0, r.cov[free[k]][free[k]]));
    r.identified[free[k]] = proj > 1 - 1e-8;
  }
}

}  // namespace

FitResult solve(const std::vector<Observation>& obs) {
  if (obs.empty()) throw InputError("calibrate: no observations to fit");
  for (auto& o : obs)
    if (!(o.stderr_ns > 0) || !std::isfinite(o.value))
      throw InputError("calibrate: " + o.trace + " " + o.name + ": expected a finite value with a positive stderr");
  std::vector<int> present;
  for (int p = 0; p < kParams; ++p)
    for (auto& o : obs)
      if (o.coef[p] != 0) {
        present.push_back(p);
        break;
      }
  FitResult r;
  solve_free(obs, present, r);
  std::vector<bool> identified = r.identified;
  // No negative cost by convention: an unidentified cost the split makes
  // negative is pinned to 0 and the rest re-solved.
  std::vector<int> free = present;
  for (;;) {
    int worst = -1;
    for (int p : free)
      if (!identified[p] && r.value[p] < 0 && (worst < 0 || r.value[p] < r.value[worst])) worst = p;
    if (worst < 0) break;
    free.erase(std::find(free.begin(), free.end(), worst));
    r.pinned.push_back(worst);
    solve_free(obs, free, r);
  }
  r.params = present;
  r.identified = identified;
  std::vector<int> order = display_order(present);
  for (auto& c : combinations(obs, order, identified)) {
    double v = 0, var = 0;
    for (int p = 0; p < kParams; ++p) {
      v += c[p] * r.value[p];
      for (int q = 0; q < kParams; ++q) var += c[p] * c[q] * r.cov[p][q];
    }
    if (v < 0) {  // print a difference the way round it is positive
      for (auto& x : c) x = -x;
      v = -v;
    }
    r.combinations.push_back(format_combination(c, order));
    r.combination_value.push_back(v);
    r.combination_stderr.push_back(std::sqrt(std::max(0.0, var)));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Penalties, measured on the simulator

namespace {

void run_tool(const std::string& bin, const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid < 0) throw SimulationError("calibrate: fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    std::string msg;
    try {
      msg = read_file(log);
    } catch (...) {
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    auto nl = msg.rfind('\n');
    if (nl != std::string::npos) msg = msg.substr(nl + 1);
    throw SimulationError("calibrate: the penalty run `" + bin + " " + args[0] + " ...` failed: " + msg);
  }
}

struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/tunsim-calibrate-XXXXXX";
    if (!mkdtemp(t)) throw SimulationError("calibrate: cannot create a temporary directory");
    path = t;
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

void measure_penalties(const Workload& w, std::vector<Observation>& obs, const std::string& bin,
                       std::ostream& report) {
  TmpDir tmp;
  Workload sw = w;
  sw.count_per_thread = 2000;  // steady state is reached after a few writes
  sw.duration_s = 0;
  sw.elapsed_s = 0.01;
  json scen = scenario_for(sw, "");
  std::string sfile = tmp.path + "/scenario.json";
  write_file_atomic(sfile, scen.dump(2) + "\n");
  std::vector<std::vector<Observation>> res;
  for (const char* on : {"true", "false"}) {
    std::string tr = tmp.path + "/sim-" + on + ".trace";
    run_tool(bin, {"run", sfile, "--set", std::string("cache.enabled=") + on, "--trace", tr, "-q"},
             tmp.path + "/log");
    Workload tw = sw;
    tw.trace_path = tr;
    tw.timestamp_resolution_ns = 1;
    res.push_back(observations_for(tw, extract_intervals(tr, tw, false)));
  }
  if (res[0].size() != obs.size() || res[1].size() != obs.size())
    throw SimulationError("calibrate: the simulated " + w.label() + " trace has other intervals than the kernel's");
  for (size_t i = 0; i < obs.size(); ++i) {
    double off = res[1][i].value, expect = sum_default(obs[i]);
    if (std::fabs(off - expect) > 2 + 1e-3 * expect)
      throw SimulationError("calibrate: " + w.label() + " " + obs[i].name + ": the simulator without cache spends " +
                            fmt("%.1f", off) + " ns at default costs where the calibration's equation says " +
                            fmt("%.1f", expect) +
                            " ns: the model's layout of costs changed; update observations_for() in "
                            "sim/calibrate/trace_fit.cpp");
    obs[i].penalty = res[0][i].value - off;
  }
  report << "  cache penalties (simulator, default costs, cache on - off):";
  for (auto& o : obs) report << " " << o.name << " " << fmt("%.1f", o.penalty) << " ns;";
  report << "\n";
}

// ---------------------------------------------------------------------------

json calibrate_from_traces(const std::vector<std::string>& traces, const std::string& out_path,
                           const std::string& name, const std::string& bin, std::ostream& report) {
  if (traces.empty()) throw InputError("calibrate: expected at least one TRACE (or --kmod FILE)");
  std::vector<Observation> obs;
  std::set<std::string> kernels, cpus, dates;
  std::set<int> hzs;
  json inputs = json::array(), measurements = json::object();
  // Per trace: the writer's time between write() calls outside the traced
  // system call, value and standard error; it sets costs.writer_user_ns.
  std::vector<std::pair<double, double>> outside;
  std::vector<double> line_transfer;  // measured at capture time, per trace
  for (const std::string& t : traces) {
    if (!fs::exists(t)) throw InputError(t + ": no such trace file");
    Workload w = read_sidecar(sidecar_for_trace(t));
    w.trace_path = t;
    if (w.cpus.size() != 1)
      throw InputError(t + ": " + std::to_string(w.cpus.size()) +
                       " writer threads: the fit uses single-writer traces only (their per-event cost is a "
                       "fixed sum of costs; with several writers batching depends on timing)");
    report << "trace " << t << " (" << w.label() << ", " << w.frames_written << " writes, kernel "
           << w.kernel << ")\n";
    Intervals iv = extract_intervals(t, w, true);
    std::vector<Observation> o = observations_for(w, iv);
    measure_penalties(w, o, bin, report);
    double wp50, wse, pp50, pse;
    robust_median(iv.write, w.timestamp_resolution_ns, wp50, wse);
    json m = {{"write_ns_p50", wp50}, {"write_samples", iv.write.size()}};
    if (iv.period.size() >= 5) {
      robust_median(iv.period, w.timestamp_resolution_ns, pp50, pse);
      m["write_period_ns_p50"] = pp50;
      m["outside_write_ns_p50"] = pp50 - wp50;
      outside.emplace_back(pp50 - wp50, std::sqrt(pse * pse + wse * wse));
      report << "  per write outside sys_enter..sys_exit (user loop, syscall entry/exit beyond the "
                "tracepoints): "
             << fmt("%.0f", pp50 - wp50) << " ns (period p50 " << fmt("%.0f", pp50) << " - write p50 "
             << fmt("%.0f", wp50) << "): sets costs.writer_user_ns\n";
    }
    for (auto& x : o) m[x.name] = {{"median_ns", x.value}, {"stderr_ns", x.stderr_ns},
                                   {"samples", x.samples}, {"cache_penalty_ns", x.penalty}};
    measurements[w.label()] = m;
    if (w.line_transfer_ns > 0) {
      line_transfer.push_back(w.line_transfer_ns);
      m["line_transfer_ns"] = w.line_transfer_ns;
    }
    obs.insert(obs.end(), o.begin(), o.end());
    inputs.push_back(t);
    if (!w.kernel.empty()) kernels.insert(w.kernel);
    if (!w.cpu_model.empty()) cpus.insert(w.cpu_model);
    if (!w.date.empty()) dates.insert(w.date);
    if (w.hz > 0) hzs.insert(w.hz);
  }
  FitResult r = solve(obs);

  report << "\nobservations (medians; value = sum of costs + cache penalty + residual):\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-16s %-34s %7s %10s %8s %9s %10s %9s\n", "trace", "observation", "n",
                "median", "stderr", "penalty", "predicted", "residual");
  report << line;
  for (size_t i = 0; i < obs.size(); ++i) {
    std::snprintf(line, sizeof line, "  %-16s %-34s %7zu %10.1f %8.1f %9.1f %10.1f %9.1f\n", obs[i].trace.c_str(),
                  obs[i].name.c_str(), obs[i].samples, obs[i].value, obs[i].stderr_ns, obs[i].penalty,
                  obs[i].value - r.residual[i], r.residual[i]);
    report << line;
  }
  report << "\nparameters (value +- standard error; * = not identified, split by the convention):\n";
  std::vector<std::string> unidentified;
  json params = json::object();
  for (int p : r.params) {
    bool pinned = std::find(r.pinned.begin(), r.pinned.end(), p) != r.pinned.end();
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (default %g)%s\n", param_key(p), r.value[p],
                  r.stderr_ns[p], unit_of(p).c_str(), param_default(p),
                  pinned ? " * pinned to 0 (the split made it negative)" : (r.identified[p] ? "" : " *"));
    report << line;
    params[param_key(p)] = {{"value", r.value[p]}, {"stderr", r.stderr_ns[p]}, {"unit", unit_of(p)}};
    if (!r.identified[p]) unidentified.push_back(param_key(p));
    if (r.value[p] < 0)
      report << "  WARNING: " << param_key(p)
             << " is identified by the traces and came out negative: the model's layout does not fit them\n";
  }
  if (!outside.empty()) {
    // Inverse-variance weighted mean of the per-trace measurements.
    double sw = 0, swx = 0;
    for (auto& [v, se] : outside) {
      double w = 1.0 / std::max(se * se, 1.0);
      sw += w;
      swx += w * v;
    }
    double v = std::max(0.0, swx / sw), se = std::sqrt(1.0 / sw);
    params["costs.writer_user_ns"] = {{"value", v}, {"stderr", se}, {"unit", "ns"}};
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (measured directly: write period - write)\n",
                  "costs.writer_user_ns", v, se, "ns");
    report << line;
  }
  if (!line_transfer.empty()) {
    // Measured directly by capture-trace (two threads ping-ponging a line
    // between the writer CPUs); the median of the captures.
    std::sort(line_transfer.begin(), line_transfer.end());
    size_t n = line_transfer.size();
    double v = n % 2 ? line_transfer[n / 2] : (line_transfer[n / 2 - 1] + line_transfer[n / 2]) / 2;
    double spread = (line_transfer.back() - line_transfer.front()) / 2;
    params["costs.cacheline_transfer_ns"] = {{"value", v}, {"stderr", spread}, {"unit", "ns"}};
    std::snprintf(line, sizeof line, "  %-30s %10.4g +- %-9.3g %-7s (measured directly at capture: line ping-pong)\n",
                  "costs.cacheline_transfer_ns", v, spread, "ns");
    report << line;
  }
  report << "\nrank " << r.rank << " of " << r.params.size() << " parameters, " << obs.size()
         << " observations, chi2 " << fmt("%.3g", r.chi2) << " on " << r.dof << " degrees of freedom, residual rms "
         << fmt("%.2f", r.residual_rms_ns) << " ns\n";
  if (!unidentified.empty()) {
    report << "unidentified (the traces determine only these combinations):\n";
    for (size_t i = 0; i < r.combinations.size(); ++i)
      report << "  " << r.combinations[i] << " = " << fmt("%.4g", r.combination_value[i]) << " +- "
             << fmt("%.3g", r.combination_stderr[i]) << "\n";
  }

  auto join = [](const std::set<std::string>& s) {
    std::string o;
    for (auto& x : s) o += (o.empty() ? "" : ", ") + x;
    return o;
  };
  json cal;
  cal["format"] = "tunsim-calibration/1";
  cal["name"] = name;
  cal["provenance"] = {{"source", "trace-fit"},
                       {"inputs", inputs},
                       {"kernel", join(kernels)},
                       {"cpu_model", join(cpus)},
                       {"hz", hzs.size() == 1 ? json(*hzs.begin()) : json(nullptr)},
                       {"captured", join(dates)},
                       {"date", utc_now()},
                       {"tool", std::string("tunsim ") + TUNSIM_VERSION + " calibrate"}};
  cal["parameters"] = params;
  cal["unidentified"] = unidentified;
  json resid = json::array();
  for (size_t i = 0; i < obs.size(); ++i) {
    json coef = json::object();
    for (int p = 0; p < kParams; ++p)
      if (obs[i].coef[p] != 0) coef[param_key(p)] = obs[i].coef[p];
    resid.push_back({{"trace", obs[i].trace}, {"observation", obs[i].name}, {"median_ns", obs[i].value},
                     {"stderr_ns", obs[i].stderr_ns}, {"samples", obs[i].samples},
                     {"cache_penalty_ns", obs[i].penalty}, {"coefficients", coef},
                     {"residual_ns", r.residual[i]}});
  }
  cal["fit"] = {
      {"method", "weighted least squares (weights 1/stderr^2) of interval medians, one-sided Jacobi SVD"},
      {"statistic",
       "median of each interval over the events of the workload's shape; stderr from the distribution-free "
       "95% order-statistic interval / 3.92"},
      {"convention",
       "a combination the traces identify is split among its costs by the solution closest to the defaults "
       "in sum (x - default)^2 / default, i.e. in the proportions of the defaults; those costs are listed "
       "under unidentified; an unidentified cost that split makes negative is pinned to 0 (pinned_to_zero) "
       "and the rest re-solved"},
      {"identified_combinations", [&] {
         json a = json::array();
         for (size_t i = 0; i < r.combinations.size(); ++i)
           a.push_back({{"combination", r.combinations[i]}, {"value", r.combination_value[i]},
                        {"stderr", r.combination_stderr[i]}});
         return a;
       }()},
      {"pinned_to_zero", [&] {
         json a = json::array();
         for (int p : r.pinned) a.push_back(param_key(p));
         return a;
       }()},
      {"rank", r.rank},
      {"chi2", r.chi2},
      {"dof", r.dof},
      {"stderr_scaled_by_sqrt_chi2_per_dof", r.dof > 0 && r.chi2 > r.dof},
      {"residual_rms_ns", r.residual_rms_ns},
      {"observations", obs.size()},
      {"residuals", resid}};
  cal["measurements"] = measurements;
  if (!out_path.empty()) {
    write_file_atomic(out_path, cal.dump(2) + "\n");
    report << "wrote " << out_path << "\n";
  }
  return cal;
}

}  // namespace tunsim::calib
