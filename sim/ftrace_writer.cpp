#include "sim/ftrace_writer.hpp"

#include <cerrno>
#include <cstring>
#include <limits>
#include <unistd.h>

#include "models/kernel/kernel.hpp"
#include "sim/errors.hpp"

namespace tunsim {

FtraceWriter::FtraceWriter(const std::string& path)
    : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
  f_ = std::fopen(tmp_.c_str(), "w");
  if (!f_) throw InputError(path + ": cannot write trace file: " + std::strerror(errno));
  std::setvbuf(f_, buf_, _IOFBF, sizeof buf_);
  std::fputs(
      "# tracer: nop\n"
      "#\n"
      "# simulated by tunsim " TUNSIM_VERSION "; timestamps in seconds of simulated time\n"
      "#\n"
      "#                                _-----=> irqs-off/BH-disabled\n"
      "#                               / _----=> need-resched\n"
      "#                              | / _---=> hardirq/softirq\n"
      "#                              || / _--=> preempt-depth\n"
      "#                              ||| / _-=> migrate-disable\n"
      "#                              |||| /     delay\n"
      "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
      "#              | |         |   |||||     |         |\n",
      f_);
}

FtraceWriter::~FtraceWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void FtraceWriter::event(double t, int cpu, const Thread* task, const char* flags, const char* name,
                         const std::string& fields) {
  const char* comm = task ? task->comm.c_str() : "<idle>";
  int pid = task ? task->pid : 0;
  char head[160];
  std::snprintf(head, sizeof head, "%16s-%-7d [%03d] %s %12.9f: %s: ", comm, pid, cpu, flags, t, name);
  pending_.push(Rec{t, seq_++, std::string(head) + fields});
  if (clock_) drain(clock_());
}

void FtraceWriter::drain(double upto) {
  while (!pending_.empty() && pending_.top().t <= upto) {
    const std::string& line = pending_.top().line;
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fputc('\n', f_);
    pending_.pop();
  }
}

void FtraceWriter::commit() {
  drain(std::numeric_limits<double>::infinity());
  bool ok = std::fflush(f_) == 0;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    std::remove(tmp_.c_str());
    throw InputError(path_ + ": cannot write trace file: " + std::strerror(e));
  }
}

}  // namespace tunsim
