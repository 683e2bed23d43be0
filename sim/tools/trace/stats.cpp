#include "sim/tools/trace/stats.hpp"

#include <algorithm>
#include <memory>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"

namespace tunsim::trace {

namespace {
std::string busiest(const std::map<std::string, uint64_t>& devs, const std::string& name) {
  if (devs.empty())
    throw InputError(name + ": expected netif_receive_skb events to choose the device, found none (give --dev)");
  return std::max_element(devs.begin(), devs.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
}
TraceMetrics finish(TraceMetrics m, const ParseReport& rep, ParseReport* report) {
  m.set_parse_counts(rep.skipped, rep.lost_events);
  m.finish();
  if (report) *report = rep;
  return m;
}
}  // namespace

std::map<std::string, uint64_t> count_devices(const std::string& path, bool lenient) {
  std::map<std::string, uint64_t, std::less<>> n;
  parse_trace_file(path, lenient, [&](const TraceEvent& ev) {
    if (ev.type != EventType::NetifReceiveSkb) return;
    auto it = n.find(ev.dev);
    if (it == n.end()) it = n.emplace(std::string(ev.dev), 0).first;
    ++it->second;
  });
  return {n.begin(), n.end()};
}

std::map<std::string, uint64_t> count_devices_in_text(const std::string& text, const std::string& name,
                                                      bool lenient) {
  std::map<std::string, uint64_t> devs;
  parse_trace_text(text, name, lenient, [&](const TraceEvent& ev) {
    if (ev.type == EventType::NetifReceiveSkb) devs[std::string(ev.dev)]++;
  });
  return devs;
}

TraceMetrics metrics_from_trace_file(const std::string& path, MetricsOptions opt, bool lenient,
                                     ParseReport* report) {
  // Two passes (the device, then the metrics): standard input is kept in a
  // temporary file for the second.
  std::unique_ptr<StdinSpool> spool;
  if (opt.dev.empty() && path == "-") spool = std::make_unique<StdinSpool>();
  const std::string& file = spool ? spool->path() : path;
  if (opt.dev.empty()) opt.dev = busiest(count_devices(file, lenient), path == "-" ? "standard input" : path);
  TraceMetrics m(opt);
  ParseReport rep = parse_trace_file(file, lenient, [&](const TraceEvent& ev) { m.add(ev); });
  return finish(std::move(m), rep, report);
}

TraceMetrics metrics_from_trace_text(const std::string& text, const std::string& name, MetricsOptions opt,
                                     bool lenient, ParseReport* report) {
  if (opt.dev.empty()) opt.dev = busiest(count_devices_in_text(text, name, lenient), name);
  TraceMetrics m(opt);
  ParseReport rep = parse_trace_text(text, name, lenient, [&](const TraceEvent& ev) { m.add(ev); });
  return finish(std::move(m), rep, report);
}

}  // namespace tunsim::trace
