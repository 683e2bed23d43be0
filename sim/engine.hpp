// The SimGrid adapter: one host per CPU (speed = cpus.hz cycles/s), one actor
// per kernel or user thread (vhost workers, writers, ksoftirqd/N), and the
// per-CPU arbitration that lets only one of them run on a CPU at a time.
//
// An actor that holds its CPU runs the models arithmetically: per-packet
// timestamps are t_i = t_start + cycles_i / hz.  It hands the accumulated
// cycles to SimGrid in one execute() only when it must: before it touches
// state another CPU's actor also touches (Ctx::sync), and when it gives up
// the CPU.  Since only the holder executes on a host, SimGrid's processor
// sharing never slices through code the kernel runs without preemption.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/guest/guest.hpp"
#include "models/kernel/kernel.hpp"
#include "models/vhost/vhost.hpp"
#include "models/writer/writer.hpp"

namespace tunsim {

struct SimResult {
  double wall_s = 0;
  double sim_end_s = 0;          // SimGrid clock when the last sender stopped
  uint64_t simgrid_activities = 0;  // execute() + sleep_until() calls
};

class Simulation {
 public:
  // argc/argv are passed to SimGrid (its --cfg= and --log= options).
  Simulation(const Params& p, TraceSink* sink);
  ~Simulation();
  SimResult run(int* argc, char** argv);
  Kernel& kernel() { return *k_; }
  const std::vector<std::unique_ptr<VhostTx>>& vhosts() const { return vhosts_; }
  const std::vector<std::unique_ptr<Writer>>& writers() const { return writers_; }

  struct Runtime;  // one actor's state (sim/engine.cpp)

 private:
  std::unique_ptr<Kernel> k_;
  std::vector<std::unique_ptr<VhostTx>> vhosts_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::unique_ptr<Runtime>> rts_;
};

}  // namespace tunsim
