// Threaded NAPI (net/core/dev.c, 5.12.9 ... 6.18.8): napi_thread_wait and
// napi_threaded_poll (6.18: napi_threaded_poll_loop), the kthread
// napi/<dev>-<napi_id> that /sys/class/net/DEV/threaded creates.
#include "models/backlog/backlog.hpp"
#include "models/irq/irq.hpp"
#include "models/napi/napi.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

int napi_thread_cpu(const Params& p, int queue) {
  if (p.tun.napi_thread_cpu >= 0) return p.tun.napi_thread_cpu;
  for (auto& s : p.senders)
    if (s.queue == queue) return s.cpu;
  return 0;
}

std::string napi_thread_name(const TunQueue& tq) {
  // napi_id: napi_hash_add numbers NAPIs from MIN_NAPI_ID = NR_CPUS + 1
  // (8193 with Debian's NR_CPUS 8192), one per queue in creation order.
  return "napi/" + std::string(tq.napi.dev) + "-" + std::to_string(8193 + tq.index);
}

void napi_thread_run(Ctx& ctx, Napi& n) {
  Cpu& cpu = *ctx.cpu;
  Kernel& k = *ctx.k;
  const bool v64 = k.p.kernel.rx_action_restart;  // sd->in_napi_threaded_poll and its IPIs (6.4+)
  // napi_thread_wait(): poll while the NAPI is scheduled to this thread.
  for (;;) {
    if (ctx.now >= k.end()) return;
    ctx.touch(n);
    if (!n.sched_threaded) return;
    for (;;) {
      bool repoll = false;
      local_bh_disable(ctx);
      ctx.begin_interval();  // one poll
      if (v64) cpu.in_napi_threaded_poll = true;
      // __napi_poll()
      ctx.spend_ns(k.p.costs.napi_poll_ns);
      cpu.cache.begin_poll();
      int work = n.sched ? n.poll(ctx, n, n.weight) : 0;
      k.rec.napi_poll(ctx.now, cpu.id, ctx.thread, n.addr, n.dev, work, n.weight);
      if (work >= n.weight) {
        gro_normal_list(ctx, n);  // budget used: flush, poll again
        repoll = true;
      }
      wake_up_deferred(ctx);
      if (v64) {
        cpu.in_napi_threaded_poll = false;
        net_rps_send_ipis(ctx);
      }
      local_bh_enable(ctx);  // runs softirqs raised on this CPU meanwhile
      if (advance_time_events(ctx)) do_softirq(ctx);
      if (!repoll) break;
      cond_resched(ctx);
      ctx.checkpoint();
    }
  }
}

void napi_threaded_poll(Ctx& ctx, Napi& n) {
  for (;;) {
    wait_for_cpu(ctx);
    do {
      napi_thread_run(ctx, n);
    } while (!schedule_out(ctx, Thread::State::Sleeping));  // napi_thread_wait: schedule(); woken meanwhile: look again
  }
}

}  // namespace tunsim
