#include "models/writer/writer.hpp"

#include <algorithm>

#include "models/irq/irq.hpp"
#include "models/sched/schedule.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

bool writer_write(Ctx& ctx, Writer& w) {
  Kernel& k = *ctx.k;
  const SenderParams& sp = *w.sp;
  uint32_t len = static_cast<uint32_t>(sp.frame_bytes);
  // User space since the previous write(): the loop, and the entry work
  // before the sys_enter tracepoint fires.
  if (w.written > 0) {
    ctx.spend_ns(k.p.costs.writer_user_ns);
    if (sp.user_code_bytes > 0 || sp.user_data_bytes > 0) ctx.cpu->cache.pollute(sp.user_code_bytes, sp.user_data_bytes);
  }
  double t_enter = ctx.now;
  k.rec.sys_enter(t_enter, ctx.cpu->id, ctx.thread, len);
  ctx.begin_interval();
  // Writer threads of one process share the tap fd: files->count > 1, so
  // ksys_write's fdget_pos takes __fget_light's __fget_files ->
  // file_ref_get, and fdput_pos's fput -> file_ref_put, two locked
  // read-modify-writes of the struct file's f_ref line (Linux 6.18
  // fs/file.c, include/linux/file_ref.h).  Measured: docs/validation.md.
  TunQueue& tq = k.queue(sp.queue);
  ctx.touch(tq.file_line);  // fdget_pos: file_ref_get
  ctx.spend(Path::Syscall, k.p.costs.syscall_ns);
  uint64_t z = ((w.flow++ % static_cast<uint64_t>(sp.flows)) + 1) * 0x9e3779b97f4a7c15ULL;
  Skb* skb = tun_build_skb(ctx, sp.queue, len, static_cast<uint32_t>(z >> 32), t_enter);
  if (!skb) {
    // sock_wait_for_wmem: on the socket's wait queue, the charge tested
    // again (nothing ran meanwhile), schedule() with no timeout.  What wakes
    // it in the kernel is not modelled: tun_sock_write_space wakes only
    // when a poll() set SOCKWQ_ASYNC_NOSPACE (a writer blocked in write()
    // does not poll), tun_net_xmit when a frame goes out through the tap,
    // or a signal (6.18 drivers/net/tun.c, net/core/sock.c; measured,
    // docs/model.md, Limits).
    w.blocked_at = ctx.now;
    return false;
  }
  tun_deliver(ctx, tq, skb, false);
  ctx.touch(tq.file_line);  // fdput_pos -> fput: file_ref_put
  ++w.written;
  if (k.rec.in_window(t_enter)) ++w.written_window;
  k.rec.sys_exit(ctx.now, ctx.cpu->id, ctx.thread, len);
  if (sp.writer_rate_mpps > 0) w.next_time = t_enter + 1e-6 / sp.writer_rate_mpps;
  return true;
}

bool writer_done(const Ctx& ctx, const Writer& w) {
  if (ctx.now >= ctx.k->end()) return true;
  return w.sp->writer_count > 0 && w.written >= static_cast<uint64_t>(w.sp->writer_count);
}

void writer_thread(Ctx& ctx, Writer& w) {
  Cpu& cpu = *ctx.cpu;
  for (;;) {
    wait_for_cpu(ctx);
    for (;;) {
      if (writer_done(ctx, w)) {
        schedule_out(ctx, Thread::State::Dead);
        return;
      }
      if (w.blocked_at >= 0 || !writer_write(ctx, w)) {
        // Asleep in that write() until the run ends (its end wakes it to stop).
        if (!schedule_out(ctx, Thread::State::Sleeping, ctx.k->end())) continue;  // woken on its way to idle
        break;
      }
      // Back to user space: a tick's irq_exit may run softirqs; a pending
      // reschedule is honoured.
      if (advance_time_events(ctx)) do_softirq(ctx);
      if (cpu.need_resched) {
        schedule_out(ctx, Thread::State::Runnable);
        break;
      }
      if (w.sp->writer_rate_mpps > 0 && w.next_time > ctx.now) {
        // A next write() at or after the run's end never comes: it sleeps
        // until the end, not until then.  (At 1e-14 writes per us it slept
        // until t = 1e8 s, and on waking caught up the 10^11 cpus.stall
        // windows of the sleep one by one: the run did not end.)
        const double wake = std::min(w.next_time, ctx.k->end());
        if (wake <= ctx.now) continue;  // the run has ended: writer_done
        if (!schedule_out(ctx, Thread::State::Sleeping, wake)) continue;  // its timer came on its way to idle
        break;
      }
      ctx.checkpoint();
    }
  }
}

}  // namespace tunsim
