// Streams tracepoint records in the text format of ftrace's `trace` file, so
// that simulated and kernel traces are read by the same tools.  Written to
// PATH.tmp.PID and renamed by commit(); removed if never committed.
#pragma once
#include <cstdio>
#include <string>

#include "models/kernel/recorder.hpp"

namespace tunsim {

class FtraceWriter : public TraceSink {
 public:
  explicit FtraceWriter(const std::string& path);
  ~FtraceWriter() override;
  void event(double t, int cpu, const Thread* task, const char* flags, const char* name,
             const std::string& fields) override;
  void commit();

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  char buf_[1 << 16];
};

}  // namespace tunsim
