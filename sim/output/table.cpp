#include "sim/output/table.hpp"

#include <cstdio>
#include <sstream>
#include <utility>

#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim {
using nlohmann::json;

namespace {

uint64_t count(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}
double num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

// Column name and meaning, in table order (the CSV header and the JSON).
const std::vector<std::pair<const char*, const char*>> kColumns = {
    {"design", "design"},
    {"mpps", "packets whose netif_receive_skb ended in the window, per second (throughput_mpps)"},
    {"window_s", "the statistics window [warmup_ms, duration_ms], s"},
    {"in_window", "packets delivered in the window (what mpps counts)"},
    {"sent", "packets the guest or writers offered in the window"},
    {"ring_full", "packets dropped in the window because the guest found its TX ring full (not a kernel drop)"},
    {"kernel_drops", "packets the kernel dropped in the window before netif_receive_skb (CPU_BACKLOG)"},
    {"in_flight", "packets queued at the window's end (in_flight_start + sent = in_window + ring_full + "
                  "kernel_drops + in_flight)"},
    {"in_flight_start", "packets queued at the window's start"},
    {"lat_p50_us", "latency p50, us (packets that originated in the window)"},
    {"lat_p99_us", "latency p99, us"},
    {"batch_mean", "packets per NAPI poll or rx_batched flush"},
    {"polls", "NAPI polls"},
    {"busiest_cpu", "the CPU with the least idle time in the window"},
    {"proc_pct", "busiest CPU: process context, % of the window"},
    {"softirq_pct", "busiest CPU: softirqs run inline, %"},
    {"ksoftirqd_pct", "busiest CPU: ksoftirqd, %"},
    {"idle_pct", "busiest CPU: idle, %"},
    {"time_squeeze", "net_rx_action stopped by budget or time (time_squeeze)"},
};

json row_json(const TableRow& r) {
  return json{{"design", r.design},        {"mpps", r.mpps},
              {"window_s", r.window_s},    {"in_window", r.in_window},
              {"sent", r.sent},            {"ring_full", r.ring_full},
              {"kernel_drops", r.kernel_drops}, {"in_flight", r.in_flight},
              {"in_flight_start", r.in_flight_start},
              {"lat_p50_us", r.lat_p50_us}, {"lat_p99_us", r.lat_p99_us},
              {"batch_mean", r.batch_mean}, {"polls", r.polls},
              {"busiest_cpu", r.busiest_cpu}, {"proc_pct", r.proc_pct},
              {"softirq_pct", r.softirq_pct}, {"ksoftirqd_pct", r.ksoftirqd_pct},
              {"idle_pct", r.idle_pct},    {"time_squeeze", r.time_squeeze}};
}

}  // namespace

TableRow table_row(const json& s) {
  TableRow r;
  r.design = s.value("design", "");
  r.mpps = num(s, "throughput_mpps");
  r.window_s = num(s, "window_s");
  const json& p = s.at("packets");
  // Every count over the window Mpps is measured in (summary.cpp).
  const json& w = p.at("window");
  r.in_window = count(w, "delivered");
  r.sent = count(w, "sent");
  r.ring_full = count(w, "guest_ring_full");
  r.kernel_drops = count(w, "kernel_drops");
  r.in_flight = count(w, "in_flight_end");
  r.in_flight_start = w.at("in_flight_start").get<int64_t>();
  r.lat_p50_us = num(s.at("latency_us"), "p50");
  r.lat_p99_us = num(s.at("latency_us"), "p99");
  r.batch_mean = num(s.at("batch"), "mean");
  r.polls = count(s.at("napi"), "polls");
  r.time_squeeze = count(s.at("softirq"), "time_squeeze");
  const json* busiest = nullptr;
  int i = 0;
  for (auto& c : s.at("cpu")) {
    if (!busiest || num(c, "idle_frac") < num(*busiest, "idle_frac")) {
      busiest = &c;
      r.busiest_cpu = i;
    }
    ++i;
  }
  if (busiest) {
    r.proc_pct = 100 * num(*busiest, "process_frac");
    r.softirq_pct = 100 * num(*busiest, "softirq_frac");
    r.ksoftirqd_pct = 100 * num(*busiest, "ksoftirqd_frac");
    r.idle_pct = 100 * num(*busiest, "idle_frac");
  }
  return r;
}

std::string shown_name(const std::string& name) {
  const std::string j = dump_json(json(name), -1);
  std::string out;
  for (size_t i = 0; i < j.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(j[i]);
    const bool c1 = c == 0xc2 && i + 1 < j.size() && static_cast<unsigned char>(j[i + 1]) < 0xa0;
    if (c != 0x7f && !c1) {
      out += j[i];
      continue;
    }
    char b[8];
    std::snprintf(b, sizeof b, "\\u%04x", c1 ? static_cast<unsigned char>(j[++i]) : c);
    out += b;
  }
  return out == "\"" + name + "\"" && !name.empty() ? name : out;
}

std::string format_table(const std::vector<json>& summaries) {
  std::ostringstream o;
  char buf[512];
  // 15 + 14 columns of 4 to 6 characters, single spaces: 99 columns.
  const char* head = "%-15s %6s %6s %6s %5s %5s %6s %6s %5s %5s %4s %4s %4s %4s %4s\n";
  std::snprintf(buf, sizeof buf, head, "design", "Mpps", "in-win", "ring", "kdrop", "inflt", "lat50", "lat99",
                "batch", "polls", "proc", "sirq", "ksrq", "idle", "sqz");
  o << buf;
  std::snprintf(buf, sizeof buf, head, "", "", "pkts", "full", "", "", "us", "us", "mean", "", "%", "%", "%", "%",
                "");
  o << buf;
  double window_s = 0;
  for (auto& s : summaries) {
    TableRow r = table_row(s);
    window_s = r.window_s;
    std::snprintf(buf, sizeof buf,
                  "%-15s %6.4f %6llu %6llu %5llu %5llu %6.1f %6.1f %5.1f %5llu %4.0f %4.0f %4.0f %4.0f %4llu\n",
                  printable(r.design, 15).c_str(), r.mpps, static_cast<unsigned long long>(r.in_window),
                  static_cast<unsigned long long>(r.ring_full), static_cast<unsigned long long>(r.kernel_drops),
                  static_cast<unsigned long long>(r.in_flight), r.lat_p50_us, r.lat_p99_us, r.batch_mean,
                  static_cast<unsigned long long>(r.polls), r.proc_pct, r.softirq_pct, r.ksoftirqd_pct, r.idle_pct,
                  static_cast<unsigned long long>(r.time_squeeze));
    o << buf;
  }
  std::snprintf(buf, sizeof buf, "%.4g", window_s * 1e3);
  o << "All in the " << buf << " ms window: Mpps = in-win / window; ring full = guest TX ring full (not a\n"
    << "kernel drop); kdrop = kernel drops before netif_receive_skb (CPU_BACKLOG); inflt = queued at its\n"
    << "end; batch = packets per NAPI poll or rx_batched flush;\n"
    << "proc/sirq/ksrq/idle = the busiest CPU's % of the window in process context, softirqs,\n"
    << "ksoftirqd and idle; sqz = time_squeeze; --csv or --json for every value at full precision.\n";
  return o.str();
}

std::string format_table_csv(const std::vector<json>& summaries) {
  std::ostringstream o;
  for (size_t i = 0; i < kColumns.size(); ++i) o << (i ? "," : "") << kColumns[i].first;
  o << "\n";
  for (auto& s : summaries) {
    json r = row_json(table_row(s));
    for (size_t i = 0; i < kColumns.size(); ++i) {
      const json& v = r[kColumns[i].first];
      o << (i ? "," : "");
      if (v.is_string()) {
        // Design names are identifiers; quote anyway, per RFC 4180.
        std::string t = v.get<std::string>(), q;
        for (char c : t) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        o << '"' << q << '"';
      } else {
        o << v.dump();
      }
    }
    o << "\n";
  }
  return o.str();
}

json format_table_json(const std::vector<json>& summaries) {
  json cols = json::object();
  for (auto& [name, meaning] : kColumns) cols[name] = meaning;
  json rows = json::array();
  for (auto& s : summaries) rows.push_back(row_json(table_row(s)));
  return json{{"columns", cols}, {"rows", rows}};
}

}  // namespace tunsim
