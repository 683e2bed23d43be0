// Streams tracepoint records in the text format of ftrace's `trace` file, so
// that simulated and kernel traces are read by the same tools.  Written to
// PATH.tmp.PID and renamed by commit(); removed if never committed.
//
// Actors compute ahead of SimGrid's clock, so records arrive out of global
// time order; but no actor can still produce a record older than the current
// SimGrid time.  A reorder buffer releases, in (time, arrival) order, every
// record at or before that time: the file is sorted by timestamp like the
// kernel's merged `trace` file, and the buffer holds only the records of the
// actors' lookahead window.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "models/kernel/recorder.hpp"

namespace tunsim {

class FtraceWriter : public TraceSink {
 public:
  explicit FtraceWriter(const std::string& path);
  ~FtraceWriter() override;
  void event(double t, int cpu, const Thread* task, const char* flags, const char* name,
             const std::string& fields) override;
  void commit();
  // Lower bound of every future record's time (the engine's clock).
  void set_clock(std::function<double()> clock) { clock_ = std::move(clock); }

 private:
  struct Rec {
    double t;
    uint64_t seq;
    std::string line;
    bool operator>(const Rec& o) const { return t > o.t || (t == o.t && seq > o.seq); }
  };
  void drain(double upto);
  std::priority_queue<Rec, std::vector<Rec>, std::greater<Rec>> pending_;
  uint64_t seq_ = 0;
  std::function<double()> clock_;
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  char buf_[1 << 16];
};

}  // namespace tunsim
