#include "models/writer/writer.hpp"

#include "models/tun/tun.hpp"

namespace tunsim {

void writer_write(Ctx& ctx, Writer& w) {
  Kernel& k = *ctx.k;
  const SenderParams& sp = *w.sp;
  uint32_t len = static_cast<uint32_t>(sp.frame_bytes);
  // User space since the previous write(): the loop, and the entry work
  // before the sys_enter tracepoint fires.
  if (w.written > 0) ctx.spend_ns(k.p.costs.writer_user_ns);
  double t_enter = ctx.now;
  k.rec.sys_enter(t_enter, ctx.cpu->id, ctx.thread, len);
  ctx.spend(Path::Syscall, k.p.costs.syscall_ns);
  uint64_t z = ((w.flow++ % static_cast<uint64_t>(sp.flows)) + 1) * 0x9e3779b97f4a7c15ULL;
  Skb skb = tun_build_skb(ctx, sp.queue, len, static_cast<uint32_t>(z >> 32), t_enter);
  tun_deliver(ctx, k.queue(sp.queue), std::move(skb), false);
  ++w.written;
  k.rec.sys_exit(ctx.now, ctx.cpu->id, ctx.thread, t_enter, len);
  if (sp.writer_rate_mpps > 0) w.next_time = t_enter + 1e-6 / sp.writer_rate_mpps;
}

bool writer_done(const Ctx& ctx, const Writer& w) {
  if (ctx.now >= ctx.k->end()) return true;
  return w.sp->writer_count > 0 && w.written >= static_cast<uint64_t>(w.sp->writer_count);
}

}  // namespace tunsim
