// Interrupts that arrive by time alone, as running code meets them at its
// checkpoints (between packets): the scheduler tick (kernel/sched/core.c
// scheduler_tick) and timed wake-ups, an RPS IPI from another CPU
// (rps_trigger_softirq), and irq_exit() running pending softirqs
// (kernel/softirq.c).  And the interrupt context of an idle CPU that an RPS
// IPI wakes.
#pragma once
#include <algorithm>

#include "models/kernel/kernel.hpp"

namespace tunsim {

// Everything on this CPU that happens by time alone up to ctx.now: an RPS IPI
// that arrived, timed wake-ups of sleeping threads and scheduler ticks, in
// time order.  Returns true if irq_exit() would now run NET_RX (an interrupt
// arrived while NET_RX was pending in process context with bh enabled): the
// caller must call do_softirq.  Inline, the common case of nothing due (no
// IPI to look for, no stall window, no wake-up or tick): about 20
// instructions of the call's frame, at every packet's checkpoints.
bool advance_time_events_due(Ctx& ctx);
inline bool advance_time_events(Ctx& ctx) {
  const Cpu& cpu = *ctx.cpu;
  if (!cpu.shared_sd && cpu.next_stall > ctx.now && std::min(cpu.wake_bound, cpu.next_tick) > ctx.now) return false;
  return advance_time_events_due(ctx);
}

// cpus.stall: the time (ns) CPU `cpu` loses in window n, a draw from the
// table by (seed, CPU, n) alone, whatever order the engine runs the CPUs in.
// CPU 2i of a pair (cpus.stall.partner) takes the draw of CPU 2i+1 (its
// quantile index j of N) and loses, in the same window, quantile partner[k]
// of the table, k one of the slots [j K / N, (j + 1) K / N) (at least one).
double stall_draw(const Params& p, int cpu, uint64_t n);

// The interrupt context of an RPS target CPU that runs no thread: granted the
// idle CPU when an IPI is on its way, it waits for the IPI, runs its handler
// and the softirq at irq exit (accounted as softirq time), and leaves the CPU
// to whatever became runnable (ksoftirqd after the restart limit).
void idle_irq_context(Ctx& ctx);

// Sending one IPI to another CPU (an RPS IPI, net_rps_send_ipi; a wake-up
// queued on a remote wake list, ttwu_queue_wakelist): the sender pays
// costs.ipi_ns, and the IPI leaves while it pays, so the remote CPU acts
// costs.ipi_latency_ns after the send began (scripts/machine/wakeup.c times
// its latency from before the waker's call), never before the sender's
// clock.  Returns that time.
double send_ipi(Ctx& ctx);

}  // namespace tunsim
