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
// Counts one netif_receive_skb per device, at most kMaxDevices devices.
void count_device(std::map<std::string, uint64_t, std::less<>>& n, std::string_view dev, const std::string& name) {
  auto it = n.find(dev);
  if (it == n.end()) {
    if (n.size() >= kMaxDevices)
      throw InputError(name + ": expected netif_receive_skb events on at most " + std::to_string(kMaxDevices) +
                       " devices to choose the busiest, found more (give --dev)");
    it = n.emplace(std::string(dev), 0).first;
  }
  ++it->second;
}
// The devices a trace's netif_receive_skb events name (the first few), for
// the message when --dev names none of them.
struct DevicesSeen {
  std::map<std::string, uint64_t, std::less<>> n;
  void add(const TraceEvent& ev) {
    if (ev.type != EventType::NetifReceiveSkb) return;
    auto it = n.find(ev.dev);
    if (it != n.end())
      ++it->second;
    else if (n.size() < 8)
      n.emplace(std::string(ev.dev), 1);
  }
  std::string list() const {
    if (n.empty()) return "none";
    std::string s;
    for (auto& [d, c] : n) s += (s.empty() ? "" : ", ") + printable(d, 40) + " (" + std::to_string(c) + ")";
    return s;
  }
};
// A selector the user gave must select something: a --dev no event names,
// or a --pid/--comm whose task made no write(), gave every metric 0 on that
// side, and `diff` then passed its tolerances on nothing.
void check_selected(const TraceMetrics& m, const MetricsOptions& opt, bool dev_given, const DevicesSeen& seen,
                    const std::string& name) {
  if (dev_given && m.packets() == 0)
    throw InputError(name + ": --dev " + printable(opt.dev, 40) +
                     ": expected netif_receive_skb events on that device, found none (the trace's devices: " +
                     seen.list() + ")");
  if ((!opt.pids.empty() || !opt.comm.empty()) && m.write_ns().count() == 0) {
    std::string who;
    for (int p : opt.pids) who += (who.empty() ? "pid " : ", ") + std::to_string(p);
    if (!opt.comm.empty()) who += (who.empty() ? "comm " : ", comm ") + printable(opt.comm, 40);
    throw InputError(name + ": expected write() calls (syscall " + std::to_string(opt.write_nr) + ") of " + who +
                     ", found none");
  }
}
TraceMetrics finish(TraceMetrics m, const ParseReport& rep, ParseReport* report) {
  m.set_parse_counts(rep.skipped, rep.lost_events);
  m.finish();
  if (report) *report = rep;
  return m;
}
}  // namespace

std::map<std::string, uint64_t> count_devices(const std::string& path, bool lenient, const std::string& name) {
  std::map<std::string, uint64_t, std::less<>> n;
  const std::string shown = !name.empty() ? name : path == "-" ? "standard input" : printable(path, 200);
  parse_trace_file(
      path, lenient,
      [&](const TraceEvent& ev) {
        if (ev.type == EventType::NetifReceiveSkb) count_device(n, ev.dev, shown);
      },
      name);
  return {n.begin(), n.end()};
}

std::map<std::string, uint64_t> count_devices_in_text(const std::string& text, const std::string& name,
                                                      bool lenient) {
  std::map<std::string, uint64_t, std::less<>> n;
  parse_trace_text(text, name, lenient, [&](const TraceEvent& ev) {
    if (ev.type == EventType::NetifReceiveSkb) count_device(n, ev.dev, name);
  });
  return {n.begin(), n.end()};
}

TraceMetrics metrics_from_trace_file(const std::string& path, MetricsOptions opt, bool lenient,
                                     ParseReport* report, const std::string& name) {
  // Two passes (the device, then the metrics): standard input is kept in a
  // temporary file for the second.
  std::unique_ptr<StdinTraceCopy> spool;
  if (opt.dev.empty() && path == "-") spool = std::make_unique<StdinTraceCopy>();
  const std::string& file = spool ? spool->path() : path;
  const std::string shown = !name.empty() ? name : path == "-" ? "standard input" : printable(path, 200);
  const bool dev_given = !opt.dev.empty();
  if (!dev_given) opt.dev = busiest(count_devices(file, lenient, shown), shown);
  TraceMetrics m(opt);
  DevicesSeen seen;
  ParseReport rep = parse_trace_file(
      file, lenient,
      [&](const TraceEvent& ev) {
        m.add(ev);
        if (dev_given) seen.add(ev);  // only for check_selected's message
      },
      shown);
  check_selected(m, opt, dev_given, seen, shown);
  return finish(std::move(m), rep, report);
}

TraceMetrics metrics_from_trace_text(const std::string& text, const std::string& name, MetricsOptions opt,
                                     bool lenient, ParseReport* report) {
  const bool dev_given = !opt.dev.empty();
  if (!dev_given) opt.dev = busiest(count_devices_in_text(text, name, lenient), name);
  TraceMetrics m(opt);
  DevicesSeen seen;
  ParseReport rep = parse_trace_text(text, name, lenient, [&](const TraceEvent& ev) {
    m.add(ev);
    if (dev_given) seen.add(ev);
  });
  check_selected(m, opt, dev_given, seen, name);
  return finish(std::move(m), rep, report);
}

}  // namespace tunsim::trace
