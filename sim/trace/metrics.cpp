#include "sim/trace/metrics.hpp"

#include <algorithm>
#include <utility>

#include "sim/errors.hpp"

namespace tunsim::trace {

TraceMetrics::TraceMetrics(MetricsOptions opt) : opt_(std::move(opt)) {}

bool TraceMetrics::is_writer(const TraceEvent& ev) const {
  if (!opt_.pids.empty() && !opt_.pids.count(ev.pid)) return false;
  if (!opt_.comm.empty() && ev.comm != opt_.comm) return false;
  return true;
}

void TraceMetrics::add(const TraceEvent& ev) {
  constexpr int kNetRx = 3;
  switch (ev.type) {
    case EventType::SoftirqEntry:
      if (ev.vec == kNetRx) softirq_[ev.cpu] = SoftirqState{true, false, ev.ts_ns, 0};
      break;
    case EventType::SoftirqExit: {
      if (ev.vec != kNetRx) break;
      auto it = softirq_.find(ev.cpu);
      if (it == softirq_.end() || !it->second.active) break;  // entry before the trace
      SoftirqState& s = it->second;
      if (s.touched && ev.ts_ns >= s.start) {
        softirq_ns_.add(static_cast<double>(ev.ts_ns - s.start));
        pkts_per_softirq_.add(static_cast<double>(s.packets));
        per_cpu_[ev.cpu].net_rx_softirqs++;
      }
      s.active = false;
      break;
    }
    case EventType::NapiPoll:
      if (!on_dev(ev.dev)) break;
      napi_work_.add(ev.work);
      per_cpu_[ev.cpu].napi_polls++;
      if (auto it = softirq_.find(ev.cpu); it != softirq_.end() && it->second.active)
        it->second.touched = true;
      break;
    case EventType::GroReceiveEntry:
      if (on_dev(ev.dev)) live_skbs_.insert(ev.skbaddr);
      break;
    case EventType::NetifReceiveSkb: {
      if (!on_dev(ev.dev)) break;
      if (packets_ == 0 || ev.ts_ns < first_rx_) first_rx_ = ev.ts_ns;
      if (packets_ == 0 || ev.ts_ns > last_rx_) last_rx_ = ev.ts_ns;
      packets_++;
      rx_times_.push_back(ev.ts_ns);
      live_skbs_.insert(ev.skbaddr);
      per_cpu_[ev.cpu].packets++;
      if (auto it = softirq_.find(ev.cpu); it != softirq_.end() && it->second.active) {
        it->second.touched = true;
        it->second.packets++;
      }
      break;
    }
    case EventType::KfreeSkb: {
      // Attributed to the workload when the skb was received on the device
      // (and not freed since), or when it is freed inside a writer's write().
      bool ours = live_skbs_.erase(ev.skbaddr) > 0;
      if (!ours && write_start_.count(ev.pid)) ours = true;
      if (ours) {
        drops_[ev.reason]++;
        per_cpu_[ev.cpu].drops++;
      }
      break;
    }
    case EventType::SysEnter:
      if (ev.nr == opt_.write_nr && is_writer(ev)) write_start_[ev.pid] = ev.ts_ns;
      break;
    case EventType::SysExit: {
      if (ev.nr != opt_.write_nr) break;
      auto it = write_start_.find(ev.pid);
      if (it == write_start_.end()) break;
      if (ev.ts_ns >= it->second) {
        write_ns_.add(static_cast<double>(ev.ts_ns - it->second));
        per_cpu_[ev.cpu].writes++;
      }
      write_start_.erase(it);
      break;
    }
    default:
      break;
  }
}

void TraceMetrics::finish() {
  if (finished_) return;
  finished_ = true;
  // Per-CPU buffers are merged by timestamp in every format read here, but a
  // per-CPU clock (trace_clock local) can disorder CPUs slightly: sort.
  std::sort(rx_times_.begin(), rx_times_.end());
  for (size_t i = 1; i < rx_times_.size(); ++i)
    interarrival_ns_.add(static_cast<double>(rx_times_[i] - rx_times_[i - 1]));
  rx_times_.clear();
  rx_times_.shrink_to_fit();
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
  static const std::vector<std::string> names = {
      "write_ns", "softirq_net_rx_ns", "napi_poll_work", "packets_per_softirq",
      "netif_receive_skb_interarrival_ns"};
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
  for (auto& [cpu, c] : per_cpu_)
    pc[std::to_string(cpu)] = {{"packets", c.packets},
                               {"napi_polls", c.napi_polls},
                               {"net_rx_softirqs", c.net_rx_softirqs},
                               {"writes", c.writes},
                               {"drops", c.drops}};
  return j;
}

TraceMetrics TraceMetrics::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": expected a trace_metrics object");
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key))
      throw InputError(where + ": expected key \"" + key + "\" in trace_metrics, found none");
    return j.at(key);
  };
  auto number = [&](const char* key) {
    const auto& v = need(key);
    if (!v.is_number() || v.get<double>() < 0)
      throw InputError(where + "." + key + ": expected a non-negative number, found " + v.dump());
    return v.get<double>();
  };
  MetricsOptions opt;
  if (j.contains("dev") && j["dev"].is_string()) opt.dev = j["dev"].get<std::string>();
  TraceMetrics m(opt);
  m.finished_ = true;
  m.duration_override_ = number("duration_s");
  m.throughput_override_ = number("throughput_mpps");
  const auto& p = need("packets");
  if (!p.is_number_unsigned())
    throw InputError(where + ".packets: expected a non-negative integer, found " + p.dump());
  m.packets_ = p.get<uint64_t>();
  const auto& d = need("drops");
  if (!d.is_object()) throw InputError(where + ".drops: expected an object, found " + d.dump());
  for (auto& [r, n] : d.items()) {
    if (!n.is_number_unsigned())
      throw InputError(where + ".drops." + r + ": expected a non-negative integer, found " + n.dump());
    m.drops_[r] = n.get<uint64_t>();
  }
  m.write_ns_ = Dist::from_json(need("write_ns"), where + ".write_ns");
  m.softirq_ns_ = Dist::from_json(need("softirq_net_rx_ns"), where + ".softirq_net_rx_ns");
  m.napi_work_ = Dist::from_json(need("napi_poll_work"), where + ".napi_poll_work");
  m.pkts_per_softirq_ = Dist::from_json(need("packets_per_softirq"), where + ".packets_per_softirq");
  m.interarrival_ns_ = Dist::from_json(need("netif_receive_skb_interarrival_ns"),
                                       where + ".netif_receive_skb_interarrival_ns");
  m.skipped_lines_ = static_cast<uint64_t>(number("skipped_lines"));
  if (j.contains("lost_events") && j["lost_events"].is_number_unsigned())
    m.lost_events_ = j["lost_events"].get<uint64_t>();
  if (j.contains("per_cpu") && j["per_cpu"].is_object()) {
    for (auto& [k, v] : j["per_cpu"].items()) {
      int cpu = -1;
      try {
        cpu = std::stoi(k);
      } catch (...) {
        throw InputError(where + ".per_cpu: expected CPU numbers as keys, found \"" + k + "\"");
      }
      CpuCounts c;
      auto get = [&](const char* key, uint64_t& out) {
        if (v.contains(key) && v[key].is_number_unsigned()) out = v[key].get<uint64_t>();
      };
      get("packets", c.packets);
      get("napi_polls", c.napi_polls);
      get("net_rx_softirqs", c.net_rx_softirqs);
      get("writes", c.writes);
      get("drops", c.drops);
      m.per_cpu_[cpu] = c;
    }
  }
  return m;
}

std::map<std::string, uint64_t> count_devices(const std::string& text, const std::string& name,
                                              bool lenient) {
  std::map<std::string, uint64_t> n;
  parse_trace_text(text, name, lenient, [&](const TraceEvent& ev) {
    if (ev.type == EventType::NetifReceiveSkb) n[ev.dev]++;
  });
  return n;
}

TraceMetrics metrics_from_trace_file(const std::string& path, MetricsOptions opt, bool lenient,
                                     ParseReport* report) {
  return metrics_from_trace_text(read_trace_file(path), path, std::move(opt), lenient, report);
}

TraceMetrics metrics_from_trace_text(const std::string& text, const std::string& path, MetricsOptions opt,
                                     bool lenient, ParseReport* report) {
  if (opt.dev.empty()) {
    auto devs = count_devices(text, path, lenient);
    if (devs.empty())
      throw InputError(path + ": expected netif_receive_skb events to choose the device, found "
                       "none (give --dev)");
    opt.dev = std::max_element(devs.begin(), devs.end(), [](auto& a, auto& b) {
                return a.second < b.second;
              })->first;
  }
  TraceMetrics m(opt);
  ParseReport rep = parse_trace_text(text, path, lenient, [&](const TraceEvent& ev) { m.add(ev); });
  m.set_parse_report(rep);
  m.finish();
  if (report) *report = rep;
  return m;
}

}  // namespace tunsim::trace
