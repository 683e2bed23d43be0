#include "sim/config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/errors.hpp"
#include "sim/io.hpp"
#include "sim/schema.hpp"

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

bool has_path(const json& j, const std::string& dotted) {
  const json* cur = &j;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(part)) return false;
    cur = &cur->at(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string expected_unit(const std::string& key) {
  if (key.size() > 3 && key.compare(key.size() - 3, 3, "_ns") == 0) return "ns";
  if (key.find("per_byte") != std::string::npos) return "ns/byte";
  if (key.find("cycles") != std::string::npos) return "cycles";
  if (key.find("bytes") != std::string::npos) return "bytes";
  if (key == "cpus.hz") return "Hz";
  return "";
}

// Fills the scenario's missing costs./cache./cpus.hz keys from a calibration
// file: calibration < scenario < --set.
void apply_calibration(json& scenario, const std::string& scenario_file, const std::string& file,
                       std::vector<std::string>& notes) {
  json cal;
  try {
    cal = json::parse(read_file(file));
  } catch (const InputError& e) {
    throw InputError(scenario_file + ": calibration: " + e.what());
  } catch (const json::parse_error& e) {
    throw InputError(file + ": not valid JSON: " + e.what());
  }
  if (!cal.is_object() || cal.value("format", "") != "tunsim-calibration/1")
    throw InputError(file + ": format: expected \"tunsim-calibration/1\", found " +
                     (cal.is_object() && cal.contains("format") ? cal["format"].dump() : "nothing"));
  if (!cal.contains("parameters") || !cal["parameters"].is_object())
    throw InputError(file + ": parameters: expected an object of \"path\": {\"value\": number, \"unit\": ...}");
  for (auto& [key, entry] : cal["parameters"].items()) {
    std::string where = file + ": parameters." + key;
    if (!(key.rfind("costs.", 0) == 0 || key.rfind("cache.", 0) == 0 || key == "cpus.hz"))
      throw InputError(where + ": only costs.*, cache.* and cpus.hz may be calibrated");
    if (!find_spec(key)) throw InputError(where + ": not a scenario parameter (see docs/config.md)");
    if (!entry.is_object() || !entry.contains("value") || !entry["value"].is_number())
      throw InputError(where + ": expected {\"value\": number, \"unit\": string}");
    std::string unit = expected_unit(key);
    if (entry.contains("unit") && !unit.empty() && entry["unit"] != unit)
      throw InputError(where + ".unit: expected \"" + unit + "\", found " + entry["unit"].dump());
    if (has_path(scenario, key)) continue;
    apply_set(scenario, key + "=" + entry["value"].dump());
  }
  if (cal.contains("unidentified") && cal["unidentified"].is_array() && !cal["unidentified"].empty()) {
    std::string u;
    for (auto& x : cal["unidentified"]) u += (u.empty() ? "" : ", ") + x.get<std::string>();
    notes.push_back("calibration " + file + " could not identify individually: " + u +
                    " (values as its fit record says: split by its convention, or defaults)");
  }
}

KernelVersion version_of(const std::string& v) {
  if (v == "4.9") return KernelVersion::V4_9;
  if (v == "4.11") return KernelVersion::V4_11;
  if (v == "4.15") return KernelVersion::V4_15;
  if (v == "6.1") return KernelVersion::V6_1;
  return KernelVersion::V6_4;
}

}  // namespace

LoadedConfig build_config(const json& scenario_in, const std::string& file, const std::string& base_dir) {
  LoadedConfig out;
  json scenario = scenario_in;
  if (!scenario.is_object()) throw InputError(file + ": expected a JSON object at the top level");
  // Calibration first, so that the scenario's own values win.
  if (scenario.contains("calibration") && scenario["calibration"].is_string()) {
    std::string name = scenario["calibration"].get<std::string>();
    std::string path;
    if (name.find('/') != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".json"))
      path = name[0] == '/' ? name : base_dir + "/" + name;
    else
      path = base_dir + "/calibration/" + name + ".json";
    apply_calibration(scenario, file, path, out.notes);
    out.params.calibration = path;
  }
  json j = validate_and_fill(scenario, file);
  out.full = j;
  Params& p = out.params;
  p.source = file;
  p.name = j["name"];
  if (!parse_design(j["design"], p.design)) throw InputError(file + ": design: unknown");
  p.seed = j["seed"];
  p.duration_s = j["duration_ms"].get<double>() * 1e-3;
  p.warmup_s = j["warmup_ms"].get<double>() * 1e-3;
  if (p.warmup_s >= p.duration_s)
    throw InputError(file + ": warmup_ms: expected less than duration_ms (" +
                     j["duration_ms"].dump() + "), found " + j["warmup_ms"].dump());

  // Kernel version and the knobs it sets.
  auto& kj = j["kernel"];
  std::string ver;
  if (kj["version"].is_null()) {
    switch (p.design) {
      case Design::NetifRxNi:
      case Design::V1Napi:
      case Design::DeferredSignal: ver = "4.9"; break;
      case Design::RxBatched: ver = "4.11"; break;
      case Design::NapiGro: ver = "4.15"; break;
    }
  } else {
    ver = kj["version"];
  }
  out.full["kernel"]["version"] = ver;
  KernelParams& k = p.kernel;
  k.version = version_of(ver);
  k.hz = kj["hz"];
  k.netdev_budget = kj["netdev_budget"];
  k.netdev_budget_usecs = kj["netdev_budget_usecs"].is_null() ? 2000 : kj["netdev_budget_usecs"].get<int>();
  k.time_limit_usecs = k.version >= KernelVersion::V4_15;  // 4.12+
  k.dev_weight = kj["dev_weight"];
  k.dev_weight_rx_bias = kj["dev_weight_rx_bias"];
  k.netdev_max_backlog = kj["netdev_max_backlog"];
  k.napi_weight = kj["napi_weight"];
  k.max_softirq_restart = kj["max_softirq_restart"];
  k.max_softirq_time_ms = kj["max_softirq_time_ms"];
  k.ksoftirqd_defers_inline = kj["ksoftirqd_defers_inline"].is_null() ? k.version < KernelVersion::V6_1
                                                                        : kj["ksoftirqd_defers_inline"].get<bool>();
  k.napi_missed_bit = kj["napi_missed_bit"].is_null() ? k.version >= KernelVersion::V4_11
                                                      : kj["napi_missed_bit"].get<bool>();
  k.gro_normal_batch = kj["gro_normal_batch"].is_null() ? (k.version >= KernelVersion::V6_1 ? 8 : 0)
                                                        : kj["gro_normal_batch"].get<int>();
  k.rx_action_restart = kj["rx_action_restart"].is_null() ? k.version >= KernelVersion::V6_4
                                                          : kj["rx_action_restart"].get<bool>();
  p.cpus = j["cpus"]["count"];
  p.hz = j["cpus"]["hz"];
  for (auto& v : j["cpus"]["speed"]) p.cpu_speed.push_back(v.get<double>());
  if (!p.cpu_speed.empty() && p.cpu_speed.size() != static_cast<size_t>(p.cpus))
    throw InputError(file + ": cpus.speed: expected one number per CPU (cpus.count = " + std::to_string(p.cpus) +
                     "), found " + std::to_string(p.cpu_speed.size()));
  double factor = 1 + std::floor(std::log2(std::min(p.cpus, 8)));  // sysctl_sched_tunable_scaling LOG, capped at 8 CPUs
  auto& sj = kj["sched"];
  k.sched_latency_ns = sj["latency_ns"].is_null() ? 6e6 * factor : sj["latency_ns"].get<double>();
  k.sched_min_granularity_ns = sj["min_granularity_ns"].is_null() ? 0.75e6 * factor : sj["min_granularity_ns"].get<double>();
  k.sched_wakeup_granularity_ns =
      sj["wakeup_granularity_ns"].is_null() ? 1e6 * factor : sj["wakeup_granularity_ns"].get<double>();
  out.full["kernel"]["netdev_budget_usecs"] = k.netdev_budget_usecs;
  out.full["kernel"]["ksoftirqd_defers_inline"] = k.ksoftirqd_defers_inline;
  out.full["kernel"]["napi_missed_bit"] = k.napi_missed_bit;
  out.full["kernel"]["gro_normal_batch"] = k.gro_normal_batch;
  out.full["kernel"]["sched"] = {{"latency_ns", k.sched_latency_ns},
                                 {"min_granularity_ns", k.sched_min_granularity_ns},
                                 {"wakeup_granularity_ns", k.sched_wakeup_granularity_ns}};

  p.rx_frames_requested = j["tun"]["rx_frames"];
  p.rx_frames = std::min(p.rx_frames_requested, 64);  // tun_set_coalesce clamps to NAPI_POLL_WEIGHT
  if (p.rx_frames != p.rx_frames_requested)
    out.notes.push_back("tun.rx_frames " + std::to_string(p.rx_frames_requested) +
                        " clamped to 64 (NAPI_POLL_WEIGHT), as ethtool -C does");
  p.bh_section = j["tun"]["bh_section"];
  for (auto& c : j["rps"]["cpus"]) p.rps_cpus.push_back(c);

  auto& cj = j["cache"];
  CacheParams& cp = p.cache;
  cp.enabled = cj["enabled"];
  auto level = [&](const char* name, CacheLevel& l) {
    l.size_bytes = cj[name]["size_bytes"];
    l.line_bytes = cj[name]["line_bytes"];
    l.miss_penalty_cycles = cj[name]["miss_penalty_cycles"];
  };
  level("l1i", cp.l1i);
  level("l1d", cp.l1d);
  level("l2", cp.l2);
  cp.skb_bytes = cj["skb_bytes"];
  for (int i = 0; i < kPaths; ++i) {
    auto& f = cj["footprints"][path_name(static_cast<Path>(i))];
    cp.icache_bytes[i] = f["icache_bytes"];
    cp.dcache_bytes[i] = f["dcache_bytes"];
  }

  auto& co = j["costs"];
  Costs& c = p.costs;
  c.syscall_ns = co["syscall_ns"]; c.tun_get_user_ns = co["tun_get_user_ns"];
  c.skb_alloc_ns = co["skb_alloc_ns"]; c.copy_ns_per_byte = co["copy_ns_per_byte"];
  c.vhost_desc_ns = co["vhost_desc_ns"]; c.vhost_notify_ns = co["vhost_notify_ns"];
  c.vhost_wakeup_ns = co["vhost_wakeup_ns"]; c.lock_ns = co["lock_ns"];
  c.backlog_enqueue_ns = co["backlog_enqueue_ns"]; c.napi_schedule_ns = co["napi_schedule_ns"];
  c.softirq_ns = co["softirq_ns"]; c.napi_poll_ns = co["napi_poll_ns"];
  c.netif_receive_skb_ns = co["netif_receive_skb_ns"]; c.gro_ns = co["gro_ns"];
  c.stack_drop_ns = co["stack_drop_ns"]; c.bridge_forward_ns = co["bridge_forward_ns"];
  c.udp_deliver_ns = co["udp_deliver_ns"]; c.recv_ns = co["recv_ns"]; c.wakeup_ns = co["wakeup_ns"];
  c.context_switch_ns = co["context_switch_ns"]; c.ipi_ns = co["ipi_ns"];
  c.ipi_latency_ns = co["ipi_latency_ns"]; c.guest_tx_ns = co["guest_tx_ns"];
  c.guest_kick_ns = co["guest_kick_ns"];
  c.writer_user_ns = co["writer_user_ns"];
  c.cacheline_transfer_ns = co["cacheline_transfer_ns"];

  std::set<int> sender_cpus;
  for (size_t i = 0; i < j["senders"].size(); ++i) {
    auto& s = j["senders"][i];
    std::string where = file + ": senders." + std::to_string(i);
    SenderParams sp;
    sp.vhost = s["type"] == "vhost";
    sp.cpu = s["cpu"];
    sp.queue = s["queue"];
    sp.frame_bytes = s["frame_bytes"];
    sp.flows = s["flows"];
    if (sp.cpu >= p.cpus)
      throw InputError(where + ".cpu: expected a CPU in [0, " + std::to_string(p.cpus - 1) +
                       "] (cpus.count is " + std::to_string(p.cpus) + "), found " + std::to_string(sp.cpu));
    sp.weight_bytes = s["vhost"]["weight_bytes"];
    sp.pkt_weight = s["vhost"]["pkt_weight"];
    sp.busyloop_timeout_us = s["vhost"]["busyloop_timeout_us"];
    sp.msg_more = s["vhost"]["msg_more"];
    auto& g = s["guest"];
    sp.guest.mode = g["mode"] == "open" ? GuestMode::Open : GuestMode::Closed;
    sp.guest.arrival = g["arrival"] == "constant" ? Arrival::Constant
                       : g["arrival"] == "poisson" ? Arrival::Poisson : Arrival::Bursts;
    sp.guest.rate_mpps = g["rate_mpps"];
    sp.guest.burst = g["burst"];
    sp.guest.ring_size = g["ring_size"];
    sp.writer_rate_mpps = s["writer"]["rate_mpps"];
    sp.writer_count = s["writer"]["count"];
    sender_cpus.insert(sp.cpu);
    p.senders.push_back(sp);
  }
  // A vhost queue has one worker.
  for (size_t a = 0; a < p.senders.size(); ++a)
    for (size_t b = a + 1; b < p.senders.size(); ++b)
      if (p.senders[a].queue == p.senders[b].queue && (p.senders[a].vhost || p.senders[b].vhost))
        throw InputError(file + ": senders." + std::to_string(b) + ".queue: expected a queue no vhost worker uses (queue " +
                         std::to_string(p.senders[b].queue) + " is already served by senders." + std::to_string(a) + ")");
  for (size_t i = 0; i < p.rps_cpus.size(); ++i) {
    int c = p.rps_cpus[i];
    if (c < p.cpus && sender_cpus.count(c) && sender_cpus.size() > 1)
      throw InputError(file + ": rps.cpus." + std::to_string(i) + ": expected a CPU that hosts no sender, or a "
                       "single sender CPU (the model delivers RPS IPIs only to CPUs running softirqs alone), found " +
                       std::to_string(c));
  }
  for (size_t i = 0; i < p.rps_cpus.size(); ++i)
    if (p.rps_cpus[i] >= p.cpus)
      throw InputError(file + ": rps.cpus." + std::to_string(i) + ": expected a CPU below cpus.count (" +
                       std::to_string(p.cpus) + "), found " + std::to_string(p.rps_cpus[i]));
  auto& st = j["stack"];
  p.stack.type = st["type"] == "drop" ? StackType::Drop : st["type"] == "bridge" ? StackType::Bridge : StackType::Udp;
  p.stack.rcvbuf_bytes = st["udp"]["rcvbuf_bytes"];
  p.stack.receiver_cpu = st["udp"]["receiver_cpu"];
  p.stack.truesize_bytes = st["udp"]["truesize_bytes"].is_null() ? -1 : st["udp"]["truesize_bytes"].get<long long>();
  if (p.stack.type == StackType::Udp) {
    int rc = p.stack.receiver_cpu;
    if (rc >= p.cpus || sender_cpus.count(rc) ||
        std::find(p.rps_cpus.begin(), p.rps_cpus.end(), rc) != p.rps_cpus.end())
      throw InputError(file + ": stack.udp.receiver_cpu: expected a CPU below cpus.count that hosts no sender "
                       "and no RPS target (the receiver is modelled on a CPU of its own), found " + std::to_string(rc));
  }
  return out;
}

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& sets) {
  json scenario;
  std::string file = path.empty() ? "built-in default" : path;
  std::string base = path.empty() ? "configs" : dirname_of(path);
  if (path.empty()) {
    scenario = default_scenario();
  } else {
    std::string text = read_file(path);
    try {
      scenario = json::parse(text);
    } catch (const json::parse_error& e) {
      // e.byte is the offset: turn it into line:column.
      size_t line = 1, col = 1;
      for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
        if (text[i] == '\n') ++line, col = 1; else ++col;
      }
      std::string msg = e.what();
      auto pos = msg.find("syntax error");
      throw InputError(path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": invalid JSON: " +
                       (pos == std::string::npos ? msg : msg.substr(pos)));
    }
  }
  for (auto& s : sets) {
    try {
      apply_set(scenario, s);
    } catch (const InputError& e) {
      throw InputError(file + ": " + e.what());
    }
  }
  return build_config(scenario, file, base);
}

}  // namespace tunsim
