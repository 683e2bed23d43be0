// Writes tracepoint events in the text format of ftrace's `trace` file, so
// that simulated and kernel traces are read by the same tools (the inverse of
// sim/tools/trace/parse).  Written atomically (sim/io/files.hpp).
//
// Threads compute ahead of one another, so events arrive out of global time
// order; but none can still produce an event older than the engine's clock.
// A reorder buffer releases, in (time, CPU, arrival) order, every event
// before that time: the file is sorted by timestamp like the kernel's merged
// `trace` file, and the buffer holds only the events of the threads'
// run-ahead.
#pragma once
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "models/trace/event.hpp"
#include "sim/io/files.hpp"

namespace tunsim {

// One event as a line of ftrace text (without the newline).
std::string ftrace_line(const TraceEvent& ev);

class FtraceWriter : public EventSink {
 public:
  explicit FtraceWriter(const std::string& path);
  void event(const TraceEvent& ev) override;
  // Writes the events still held and finishes the file (OutputFile::finish).
  void finish();
  void commit();
  // Lower bound of every future event's time, s (the engine's clock).
  void set_clock(std::function<double()> clock) { clock_ = std::move(clock); }

 private:
  struct Rec {
    int64_t ts;
    int cpu;
    uint64_t seq;
    std::string line;
    bool operator>(const Rec& o) const {
      if (ts != o.ts) return ts > o.ts;
      if (cpu != o.cpu) return cpu > o.cpu;
      return seq > o.seq;
    }
  };
  void drain(double upto_s);
  std::priority_queue<Rec, std::vector<Rec>, std::greater<Rec>> pending_;
  uint64_t seq_ = 0;
  std::function<double()> clock_;
  OutputFile out_;
};

}  // namespace tunsim
