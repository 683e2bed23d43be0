// The NET_RX softirq engine of one CPU (kernel/softirq.c, net/core/dev.c).
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// Trace flags column for the current context.
inline const char* ctx_flags(const Ctx& ctx) {
  if (ctx.cpu->in_softirq) return "..s1.";
  if (ctx.cpu->bh_disabled) return "...1.";
  return ".....";
}

// __raise_softirq_irqoff(NET_RX_SOFTIRQ): set pending, never wakes ksoftirqd.
// Inline: once a packet or poll.
inline void raise_net_rx(Ctx& ctx) {
  if (!ctx.cpu->net_rx_pending) ctx.k->rec.softirq_raise(ctx.now, ctx.cpu->id, ctx.thread, ctx_flags(ctx));
  ctx.cpu->net_rx_pending = true;
}
// raise_softirq_irqoff(NET_RX_SOFTIRQ): set pending, and outside interrupt
// context (no hardirq, softirq or bh-disabled section) wake ksoftirqd.
void raise_softirq_irqoff(Ctx& ctx);
// ksoftirqd_running(): ksoftirqd of this CPU is runnable or running.
bool ksoftirqd_running(const Cpu& cpu);
// wakeup_softirqd()
void wakeup_softirqd(Ctx& ctx);
// do_softirq(): nothing in interrupt/softirq context; with
// kernel.ksoftirqd_defers_inline, nothing while ksoftirqd is running;
// otherwise __do_softirq().  Inline up to the ksoftirqd test: most calls
// find a softirq running or nothing pending.
void do_softirq_pending(Ctx& ctx);
inline void do_softirq(Ctx& ctx) {
  const Cpu& cpu = *ctx.cpu;
  if (cpu.in_softirq || !cpu.net_rx_pending) return;
  do_softirq_pending(ctx);
}
// __do_softirq(): NET_RX rounds until nothing is pending, restarting at most
// MAX_SOFTIRQ_RESTART times, before MAX_SOFTIRQ_TIME and while !need_resched;
// then wakes ksoftirqd if work remains.
void __do_softirq(Ctx& ctx);
// net_rx_action(): poll the NAPIs on this CPU's poll list within
// netdev_budget and the time limit.
void net_rx_action(Ctx& ctx);
// local_bh_disable()/local_bh_enable(): the latter runs pending softirqs
// inline (through do_softirq) when leaving the last bh-disabled section in
// process context.
inline void local_bh_disable(Ctx& ctx) { ++ctx.cpu->bh_disabled; }
inline void local_bh_enable(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  if (--cpu.bh_disabled == 0) do_softirq(ctx);
}
// ksoftirqd/N (smpboot_thread_fn -> run_ksoftirqd): __do_softirq while
// NET_RX is pending, cond_resched() between rounds; sleeps when nothing is
// pending.  Stops at the end of the simulated duration.
void run_ksoftirqd(Ctx& ctx);

}  // namespace tunsim
