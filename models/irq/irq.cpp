#include "models/irq/irq.hpp"

#include <algorithm>
#include <limits>

#include "models/backlog/backlog.hpp"
#include "models/sched/fair.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

double send_ipi(Ctx& ctx) {
  const double sent = ctx.now;
  ctx.spend_ns(ctx.k->p.costs.ipi_ns);
  return std::max(ctx.now, sent + ctx.k->p.costs.ipi_latency_ns * 1e-9);
}

double stall_draw(const Params& p, int cpu, uint64_t n) {
  const bool paired = !p.stall_partner.empty() && cpu % 2 == 0 && cpu + 1 < p.cpus;
  const int drawer = paired ? cpu + 1 : cpu;
  uint64_t s = (p.seed * 0x9e3779b97f4a7c15ULL) ^ (static_cast<uint64_t>(drawer) + 1) << 48 ^ n * 0xd1b54a32d192ed03ULL;
  if (!paired) return spread_draw(p.stall_ns, s);
  const size_t nq = p.stall_ns.size(), kq = p.stall_partner.size();
  const uint64_t z = splitmix64(s);
  const size_t j = spread_index(z, nq);  // the leader's quantile: spread_draw's from the same state
  // The slots of quantile j, [j K / N, (j + 1) K / N) (at least one), one
  // chosen by the draw's low bits: every slot of a table longer than the
  // leader's is reachable.
  const size_t lo = j * kq / nq, hi = std::max(lo + 1, (j + 1) * kq / nq);
  const double u = p.stall_partner[lo + static_cast<size_t>(((z & 0xffffffffULL) * (hi - lo)) >> 32)];
  return p.stall_ns[std::min(nq - 1, static_cast<size_t>(u * static_cast<double>(nq)))];
}

double Ctx::stall_within(double t1) {
  const bool held = thread && thread->kind != Thread::Kind::Irq;
  double lost = 0;
  while (cpu->next_stall <= t1 + lost) {
    const double l = stall_draw(k->p, cpu->id, cpu->stalls++) * 1e-9;
    if (held && cpu->next_stall >= cpu->busy_since) lost += l;
    cpu->next_stall += k->p.stall_period_us * 1e-6;
  }
  cpu->quiet_until = std::min(cpu->next_stall, k->rec.end);
  return lost;
}

double Ctx::spend_edge(double& cycles, double& dt) {
  if (now + dt >= cpu->next_stall) {
    cycles += stall_within(now + dt) * cpu->cycles_per_s;
    dt = cycles / cpu->cycles_per_s;
  }
  double t1 = now + dt;
  double lo = k->rec.warmup, hi = k->rec.end;  // busy: the part of [now, t1] inside the window
  return now >= lo && t1 <= hi ? dt : std::max(0.0, std::min(t1, hi) - std::max(now, lo));
}

bool advance_time_events_due(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  bool irq_exit_softirq = false;
  // An RPS IPI from another CPU interrupts whatever runs here; irq_exit then
  // runs the softirq unless we are in one or bh is disabled.
  if (cpu.shared_sd) {
    ctx.sync();
    if (cpu.ipi_pending && cpu.ipi_at <= ctx.now) {
      cpu.in_hardirq = true;
      rps_ipi_handler(ctx);
      cpu.in_hardirq = false;
      if (!cpu.in_softirq && cpu.bh_disabled == 0) irq_exit_softirq = true;
    }
  }
  // Time the CPU lost to what no trace shows (cpus.stall: the hypervisor's
  // interruptions of a vCPU), window by window: a window that began while
  // a thread held the CPU delays it by its draw; one that began while the
  // CPU was idle costs nothing.
  if (cpu.next_stall <= ctx.now) ctx.spend_cycles(ctx.stall_within(ctx.now) * cpu.cycles_per_s);
  // Timed wake-ups and ticks in time order up to now.
  for (;;) {
    // Neither due (the scan below would find nothing): after every write()
    // of a writer, the scan was about 40 instructions.
    if (std::min(cpu.wake_bound, cpu.next_tick) > ctx.now) break;
    Thread* next_wake = nullptr;
    double bound = std::numeric_limits<double>::infinity();
    for (Thread* t : cpu.threads) {
      if (t->wake_at >= 0 && t->wake_at < bound) bound = t->wake_at;
      if (t->state == Thread::State::Sleeping && t->wake_at >= 0 &&
          (!next_wake || t->wake_at < next_wake->wake_at))
        next_wake = t;
    }
    cpu.wake_bound = bound;
    double tw = next_wake ? next_wake->wake_at : 1e300;
    double tt = cpu.next_tick;
    if (std::min(tw, tt) > ctx.now) break;
    if (tw <= tt) {
      sched_wakeup(k, cpu, next_wake, tw);
    } else {
      sched_tick(k, cpu, tt);
      cpu.next_tick += 1.0 / k.p.kernel.hz;
      if (cpu.net_rx_pending && !cpu.in_softirq && cpu.bh_disabled == 0) irq_exit_softirq = true;
    }
  }
  return irq_exit_softirq;
}

void idle_irq_context(Ctx& ctx) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  for (;;) {
    ctx.exec->wait(ctx, -1);
    for (;;) {
      if (ctx.now >= k.end()) break;
      if (advance_time_events(ctx)) do_softirq(ctx);
      if (cpu.ipi_pending && cpu.ipi_at > ctx.now) {
        ctx.now = cpu.ipi_at;  // idle until the IPI arrives
        continue;
      }
      break;
    }
    Thread* next = sched_pick_next(k, cpu);
    sched_switch_to(k, cpu, next, ctx.now);
    if (next) ctx.exec->grant(next, ctx.now);
  }
}

}  // namespace tunsim
