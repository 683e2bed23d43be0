// A scenario's machine, ready to run: the kernel state, the senders' private
// state, and every simulated thread with the body it runs (the vhost
// workers, the writers, ksoftirqd/N, the interrupt context of idle RPS
// targets).  The engine runs each body against its Exec.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "models/kernel/kernel.hpp"
#include "models/vhost/vhost.hpp"
#include "models/writer/writer.hpp"

namespace tunsim {

struct ThreadEntry {
  Thread* thread;
  std::function<void(Ctx&)> body;
  // A daemon serves others (ksoftirqd, interrupt context): the run ends when
  // every other thread has ended, whatever a daemon waits for.
  bool daemon;
};

struct Machine {
  std::unique_ptr<Kernel> k;
  std::vector<std::unique_ptr<VhostTx>> vhosts;
  std::vector<std::unique_ptr<Writer>> writers;
  std::vector<ThreadEntry> entries;
  // Groups of CPUs whose threads touch common state (a tun queue written
  // from several CPUs, an RPS target's backlog, a socket fed from several
  // CPUs): within a group every access is ordered in simulated time; threads
  // of different groups never interact.  Each CPU is in exactly one group;
  // groups and their CPUs in increasing order.
  std::vector<std::vector<int>> sharing_groups() const;
};

// Builds the machine of a scenario: CPUs, queues, and the threads in a fixed
// order (senders in scenario order, then ksoftirqd/0.., then the NAPI
// kthreads of a threaded tun, then interrupt contexts), each placed as the
// scheduler would find it: the senders that exist before the run (the vhost
// worker) and the kthreads as long sleepers, the writers as new tasks.
Machine boot(const Params& p);

}  // namespace tunsim
