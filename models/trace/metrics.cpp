#include "models/trace/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "models/stats/error.hpp"

namespace tunsim {

TraceMetrics::TraceMetrics(MetricsOptions opt) : opt_(std::move(opt)) {}

bool TraceMetrics::is_writer(int pid, std::string_view comm) const {
  if (!opt_.pids.empty() && !opt_.pids.count(pid)) return false;
  if (!opt_.comm.empty() && comm != opt_.comm) return false;
  return true;
}

void TraceMetrics::grow_cpus(size_t n) {
  per_cpu_.resize(n);
  cpu_seen_.resize(n, 0);
}

// Fibonacci hashing: the top bits of the product.  Bits 32 and up of it
// (the slot before 2026-12-03) cluster the pool's addresses, which are 256
// bytes apart: 6.8 probes a lookup with 40 of them in 128 slots, against 1.0.
size_t TraceMetrics::AddrSet::slot(uint64_t a) const {
  uint64_t h = a * 0x9e3779b97f4a7c15ULL;
  return static_cast<size_t>(h >> shift_);
}

void TraceMetrics::AddrSet::insert(uint64_t a) {
  if (a == 0) return;
  if ((n_ + 1) * 2 > t_.size()) {
    std::vector<uint64_t> old;
    old.swap(t_);
    t_.assign(std::max<size_t>(64, old.size() * 2), 0);
    n_ = 0;
    shift_ = 64;
    for (size_t n = t_.size(); n > 1; n >>= 1) --shift_;
    for (uint64_t x : old)
      if (x) insert(x);
  }
  size_t i = slot(a);
  while (t_[i]) {
    if (t_[i] == a) return;
    i = (i + 1) & (t_.size() - 1);
  }
  t_[i] = a;
  ++n_;
}

bool TraceMetrics::AddrSet::erase(uint64_t a) {
  if (a == 0 || t_.empty()) return false;
  size_t mask = t_.size() - 1, i = slot(a);
  while (t_[i] != a) {
    if (!t_[i]) return false;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion keeps every probe sequence unbroken.
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!t_[j]) break;
    size_t home = slot(t_[j]);
    // Move t_[j] into the hole at i when its home is not in (i, j].
    bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      t_[i] = t_[j];
      i = j;
    }
  }
  t_[i] = 0;
  --n_;
  return true;
}

void TraceMetrics::rx_time(int64_t t) {
  // Room for the window, the released times not yet compacted away and one
  // more, reserved once: the vector never grows by copying itself.
  if (rx_window_.capacity() == 0) rx_window_.reserve(kReorderWindow + kReorderWindow / 8 + 2);
  if (released_any_ && t < last_released_) {
    ++out_of_order_;
    t = last_released_;
  }
  if (rx_head_ == rx_window_.size() || t >= rx_window_.back()) {
    rx_window_.push_back(t);
  } else {
    // Late by a few packets, mostly: look back a little before bisecting.
    auto first = rx_window_.begin() + static_cast<long>(rx_head_);
    auto pos = rx_window_.end() - 1;  // *pos > t
    for (int k = 0; k < 8 && pos != first && *(pos - 1) > t; ++k) --pos;
    if (pos != first && *(pos - 1) > t) pos = std::upper_bound(first, pos, t);
    rx_window_.insert(pos, t);
  }
  if (rx_window_.size() - rx_head_ > kReorderWindow) release_rx();
  if (watermark_ && ++since_watermark_ >= kWatermarkEvery) {
    since_watermark_ = 0;
    // Strictly before the mark: an event may still come at the mark itself.
    // For whole ns, x < mark exactly when x < ceil(mark); a mark past any
    // time (the engine's clock once every group has ended) releases all.
    const double mark_ns = std::ceil(watermark_() * 1e9);
    const int64_t lim = mark_ns < 9e18 ? static_cast<int64_t>(mark_ns) : std::numeric_limits<int64_t>::max();
    while (rx_head_ < rx_window_.size() && rx_window_[rx_head_] < lim) release_rx();
  }
}

void TraceMetrics::compact_rx() {
  rx_window_.erase(rx_window_.begin(), rx_window_.begin() + static_cast<long>(rx_head_));
  rx_head_ = 0;
}

void TraceMetrics::add(const TraceEvent& ev) {
  if (ev.cpu < 0 || ev.cpu >= kMaxCpu) return;
  switch (ev.type) {
    case EventType::SoftirqEntry:
      if (ev.vec == kNetRxVec) softirq_entry(ev.cpu, ev.ts_ns);
      break;
    case EventType::SoftirqExit:
      if (ev.vec == kNetRxVec) softirq_exit(ev.cpu, ev.ts_ns);
      break;
    case EventType::NapiPoll:
      napi_poll(ev.cpu, on_dev(ev.dev), ev.work);
      break;
    case EventType::GroReceiveEntry:
      gro_receive_entry(on_dev(ev.dev), ev.skbaddr);
      break;
    case EventType::NetifReceiveSkb:
      netif_receive_skb(ev.cpu, on_dev(ev.dev), ev.ts_ns, ev.skbaddr);
      break;
    case EventType::KfreeSkb:
      kfree_skb(ev.cpu, ev.pid, ev.skbaddr, ev.reason);
      break;
    case EventType::SysEnter:
      sys_enter(ev.pid, ev.comm, ev.nr, ev.ts_ns);
      break;
    case EventType::SysExit:
      sys_exit(ev.cpu, ev.pid, ev.nr, ev.ts_ns);
      break;
    default:
      break;
  }
}

void TraceMetrics::kfree_skb(int c, int pid, uint64_t skbaddr, std::string_view reason) {
  count_free(c, pid, live_skbs_.erase(skbaddr), reason);
}

void TraceMetrics::count_free(int c, int pid, bool received, std::string_view reason) {
  // Attributed to the workload when the skb was received on the device
  // (and not freed since), or when it is freed inside a writer's write().
  bool ours = received || write_start_.is_open(pid);
  if (!ours) return;
  if (!last_drop_.valid || last_drop_.it->first != reason) {
    auto it = drops_.find(reason);
    if (it == drops_.end()) it = drops_.emplace(std::string(reason), 0).first;
    last_drop_.it = it;
    last_drop_.valid = true;
  }
  last_drop_.it->second++;
  cpu(c).drops++;
}

void TraceMetrics::OpenWrites::grow() {
  std::vector<Slot> old;
  old.swap(t_);
  t_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
  for (const Slot& o : old)
    if (o.used) find(o.pid) = o;
}

void TraceMetrics::finish() {
  if (finished_) return;
  finished_ = true;
  for (size_t i = rx_head_; i < rx_window_.size(); ++i) {
    int64_t x = rx_window_[i];
    if (released_any_) interarrival_ns_.add(static_cast<double>(x - last_released_));
    last_released_ = x;
    released_any_ = true;
  }
  rx_window_.clear();
  rx_window_.shrink_to_fit();
  rx_head_ = 0;
}

std::map<int, CpuCounts> TraceMetrics::per_cpu() const {
  std::map<int, CpuCounts> m;
  for (size_t i = 0; i < per_cpu_.size(); ++i)
    if (cpu_seen_[i]) m[static_cast<int>(i)] = per_cpu_[i];
  return m;
}

double TraceMetrics::duration_s() const {
  if (duration_override_ >= 0) return duration_override_;
  return packets_ >= 2 ? static_cast<double>(last_rx_ - first_rx_) * 1e-9 : 0.0;
}

double TraceMetrics::throughput_mpps() const {
  if (throughput_override_ >= 0) return throughput_override_;
  double d = duration_s();
  return packets_ >= 2 && d > 0 ? static_cast<double>(packets_ - 1) / d / 1e6 : 0.0;
}

double TraceMetrics::steady_mpps() const {
  const Dist& d = interarrival_ns_;
  double p50 = d.quantile(0.5);
  return d.count() && p50 > 0 ? 1e3 / p50 : 0.0;
}

const std::vector<std::string>& TraceMetrics::dist_names() {
  static const std::vector<std::string> names = {"write_ns", "softirq_net_rx_ns", "napi_poll_work",
                                                 "packets_per_softirq", "netif_receive_skb_interarrival_ns"};
  return names;
}

const Dist& TraceMetrics::dist(const std::string& name) const {
  if (name == "write_ns") return write_ns_;
  if (name == "softirq_net_rx_ns") return softirq_ns_;
  if (name == "napi_poll_work") return napi_work_;
  if (name == "packets_per_softirq") return pkts_per_softirq_;
  if (name == "netif_receive_skb_interarrival_ns") return interarrival_ns_;
  throw InputError("unknown distribution '" + name + "'");
}

nlohmann::json TraceMetrics::to_json() const {
  nlohmann::json j;
  j["dev"] = opt_.dev;
  j["duration_s"] = duration_s();
  j["throughput_mpps"] = throughput_mpps();
  j["steady_mpps"] = steady_mpps();
  j["packets"] = packets_;
  j["drops"] = nlohmann::json::object();
  for (auto& [r, n] : drops_) j["drops"][r] = n;
  for (const auto& n : dist_names()) j[n] = dist(n).to_json();
  j["skipped_lines"] = skipped_lines_;
  j["lost_events"] = lost_events_;
  auto& pc = j["per_cpu"] = nlohmann::json::object();
  for (auto& [c, n] : per_cpu())
    pc[std::to_string(c)] = {{"packets", n.packets},
                             {"napi_polls", n.napi_polls},
                             {"net_rx_softirqs", n.net_rx_softirqs},
                             {"writes", n.writes},
                             {"drops", n.drops}};
  return j;
}

TraceMetrics TraceMetrics::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": expected a trace_metrics object");
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) throw InputError(where + ": expected key \"" + key + "\" in trace_metrics, found none");
    return j.at(key);
  };
  auto number = [&](const char* key) {
    const auto& v = need(key);
    if (!v.is_number() || !(v.get<double>() >= 0) || v.get<double>() > 1e300)
      throw InputError(where + "." + key + ": expected a non-negative number, found " + printable_json(v));
    return v.get<double>();
  };
  auto count = [&](const nlohmann::json& v, const std::string& at) {
    if (!v.is_number_unsigned())
      throw InputError(at + ": expected a non-negative integer, found " + printable_json(v));
    return v.get<uint64_t>();
  };
  MetricsOptions opt;
  if (j.contains("dev") && j["dev"].is_string()) opt.dev = j["dev"].get<std::string>();
  TraceMetrics m(opt);
  m.finished_ = true;
  m.duration_override_ = number("duration_s");
  m.throughput_override_ = number("throughput_mpps");
  m.packets_ = count(need("packets"), where + ".packets");
  const auto& d = need("drops");
  if (!d.is_object()) throw InputError(where + ".drops: expected an object, found " + printable_json(d));
  for (auto& [r, n] : d.items()) m.drops_[r] = count(n, where + ".drops." + printable(r, 60));
  m.write_ns_ = Dist::from_json(need("write_ns"), where + ".write_ns");
  m.softirq_ns_ = Dist::from_json(need("softirq_net_rx_ns"), where + ".softirq_net_rx_ns");
  m.napi_work_ = Dist::from_json(need("napi_poll_work"), where + ".napi_poll_work");
  m.pkts_per_softirq_ = Dist::from_json(need("packets_per_softirq"), where + ".packets_per_softirq");
  m.interarrival_ns_ =
      Dist::from_json(need("netif_receive_skb_interarrival_ns"), where + ".netif_receive_skb_interarrival_ns");
  m.skipped_lines_ = count(need("skipped_lines"), where + ".skipped_lines");
  if (j.contains("lost_events")) m.lost_events_ = count(j["lost_events"], where + ".lost_events");
  if (j.contains("per_cpu") && j["per_cpu"].is_object()) {
    for (auto& item : j["per_cpu"].items()) {
      // Named references, not a structured binding: the lambda below
      // captures them, which clang accepts only from version 16.
      const std::string& k = item.key();
      const nlohmann::json& v = item.value();
      int c = -1;
      if (k.empty() || k.size() > 5 || k.find_first_not_of("0123456789") != std::string::npos ||
          (c = std::stoi(k)) >= kMaxCpu)
        throw InputError(where + ".per_cpu: expected CPU numbers below " + std::to_string(kMaxCpu) +
                         " as keys, found \"" + printable(k, 20) + "\"");
      if (!v.is_object()) throw InputError(where + ".per_cpu." + k + ": expected an object");
      CpuCounts& n = m.cpu(c);
      auto get = [&](const char* key, uint64_t& out) {
        if (v.contains(key)) out = count(v[key], where + ".per_cpu." + k + "." + key);
      };
      get("packets", n.packets);
      get("napi_polls", n.napi_polls);
      get("net_rx_softirqs", n.net_rx_softirqs);
      get("writes", n.writes);
      get("drops", n.drops);
    }
  }
  return m;
}

}  // namespace tunsim
