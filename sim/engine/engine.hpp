// The SimGrid engine that runs a machine's threads (models/kernel/boot.hpp).
//
// One SimGrid host per CPU (speed cpus.hz * cpus.speed[i] cycles/s).  The
// CPUs are split into sharing groups (Machine::sharing_groups): one SimGrid
// actor per group runs that group's threads as fibers (boost::context), in
// simulated-time order: a thread runs arithmetically until it must
// synchronise (Exec::sync before touching shared state, wait, a quantum
// boundary), and the actor then resumes the thread with the earliest pending
// event.  Ordering two threads costs a fiber switch, not a SimGrid activity.
// Events at the same instant are ordered by (CPU, thread creation order),
// never by the engine's internals.  Each actor hands the CPUs' busy cycles to
// SimGrid (one execute per busy host) and advances SimGrid's clock once per
// quantum, which is all that groups share (they touch no common state).
#pragma once
#include <cstdint>
#include <string>

#include "models/kernel/boot.hpp"

namespace tunsim {

struct EngineOptions {
  // Let a thread continue past a synchronisation point when no other thread
  // has an earlier event (off: always switch to the scheduler; the results
  // must not change, only the speed).
  bool lookahead = true;
  // Simulate every CPU in one group (results must not change).
  bool one_group = false;
  // Create the fibers in reverse order (results must not change).
  bool reverse_creation = false;
  // How far a group runs ahead of SimGrid's clock, s.
  double quantum_s = 1e-3;
};

struct EngineStats {
  double wall_s = 0;
  double sim_end_s = 0;             // SimGrid's clock at the end, less its value at the start
  uint64_t simgrid_activities = 0;  // execute + sleep_until
  uint64_t fiber_switches = 0;      // resumptions of a thread by a group's scheduler
  size_t groups = 0;
};

// Options from the environment, for checks: TUNSIM_SYNC_EVERY_ACCESS=1 (no
// lookahead), TUNSIM_ONE_GROUP=1, TUNSIM_REVERSE_CREATION=1.
EngineOptions engine_options_from_env();

// Runs the machine to the end of the scenario.  argc/argv carry SimGrid's own
// --cfg=/--log= options (a bad one is an InputError).  Throws
// SimulationError if a thread waits forever.
EngineStats run_machine(Machine& m, int* argc, char** argv, const EngineOptions& opt);

// SimGrid's current clock (the lower bound of every future event's time
// while run_machine runs).
double engine_clock();

}  // namespace tunsim
