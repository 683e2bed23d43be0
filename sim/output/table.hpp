// The comparison table of `tunsim run` and `tunsim compare`: one row per
// summary (docs/summary.md), as text of at most 100 columns, CSV or JSON.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

// One row: what the table shows of a summary.
struct TableRow {
  std::string design;
  double mpps = 0;              // throughput_mpps: deliveries in the window / window_s
  double window_s = 0;          // the statistics window
  // Every count over the same window (packets.window):
  uint64_t in_window = 0;       // delivered (what Mpps counts)
  uint64_t sent = 0;            // offered by the guest or the writers
  uint64_t ring_full = 0;       // dropped: the guest found its TX ring full
  uint64_t kernel_drops = 0;    // dropped by the kernel before netif_receive_skb (CPU_BACKLOG)
  uint64_t in_flight = 0;       // queued at the window's end
  int64_t in_flight_start = 0;  // queued at the window's start
  double lat_p50_us = 0, lat_p99_us = 0;
  double batch_mean = 0;
  uint64_t polls = 0;
  int busiest_cpu = 0;          // the CPU with the least idle time in the window
  double proc_pct = 0, softirq_pct = 0, ksoftirqd_pct = 0, idle_pct = 0;
  uint64_t time_squeeze = 0;
};

TableRow table_row(const nlohmann::json& summary);

// A name from a scenario (its "name") as a table or its header shows it: as
// it is when JSON would write it unchanged, else as the JSON string
// ("a\nb" -> "\"a\\nb\"", DEL and C1 controls escaped too, bytes that
// are no UTF-8 replaced as in the summary), so that a newline or an escape
// sequence in a name neither breaks the header nor reaches the terminal.
std::string shown_name(const std::string& name);

// The text table: every line at most 100 columns, a legend under it.
std::string format_table(const std::vector<nlohmann::json>& summaries);
// The same rows as CSV (a header line, full precision) and as JSON
// ({"columns": {name: meaning}, "rows": [{name: value}]}).
std::string format_table_csv(const std::vector<nlohmann::json>& summaries);
nlohmann::json format_table_json(const std::vector<nlohmann::json>& summaries);

}  // namespace tunsim
