// The trace metrics of a kernel (or simulated) trace file: `tunsim trace
// stats`, and the trace operands of `tunsim diff`.
#pragma once
#include <map>
#include <string>

#include "models/trace/metrics.hpp"
#include "sim/tools/trace/parse.hpp"

namespace tunsim::trace {

// The most devices counted when choosing the busiest (more is an error
// saying to give --dev).
constexpr size_t kMaxDevices = 4096;

// Counts netif_receive_skb events per device: the default device of
// `trace stats` is the one with the most.
std::map<std::string, uint64_t> count_devices(const std::string& path, bool lenient, const std::string& name = "");
// The same for trace text in memory.
std::map<std::string, uint64_t> count_devices_in_text(const std::string& text, const std::string& name,
                                                      bool lenient);

// Parses a trace file and computes its metrics.  When opt.dev is empty the
// device with the most netif_receive_skb events is chosen (InputError when
// the trace has none).  `report` (optional) receives the parse counts.
// `name` (optional) is what errors call the file.
TraceMetrics metrics_from_trace_file(const std::string& path, MetricsOptions opt, bool lenient,
                                     ParseReport* report = nullptr, const std::string& name = "");
// The same for trace text already in memory, named `name` in errors.
TraceMetrics metrics_from_trace_text(const std::string& text, const std::string& name, MetricsOptions opt,
                                     bool lenient, ParseReport* report = nullptr);

}  // namespace tunsim::trace
