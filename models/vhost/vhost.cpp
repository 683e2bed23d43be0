#include "models/vhost/vhost.hpp"

#include <algorithm>
#include <cmath>

#include "models/irq/irq.hpp"
#include "models/softirq/softirq.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

namespace {
uint32_t flow_hash(uint64_t flow) {
  uint64_t z = (flow + 1) * 0x9e3779b97f4a7c15ULL;
  return static_cast<uint32_t>(z >> 32);
}

// Spin on an empty ring (vhost_net_tx_get_vq_desc with busyloop_timeout):
// until a descriptor arrives, the timeout, or need_resched.
void busy_poll(Ctx& ctx, VhostTx& v) {
  double end = ctx.now + v.sp->busyloop_timeout_us * 1e-6;
  double next = v.vq.next_avail();
  double target = std::min(end, next);
  while (ctx.now < target && !ctx.cpu->need_resched) {
    double step = std::min(target, ctx.cpu->next_tick) - ctx.now;
    ctx.spend_ns(std::max(step, 0.0) * 1e9);
    if (advance_time_events(ctx)) do_softirq(ctx);
  }
  v.vq.materialize(ctx.now);
}
}  // namespace

TxResult handle_tx(Ctx& ctx, VhostTx& v) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  const SenderParams& sp = *v.sp;
  TunQueue& tq = k.queue(sp.queue);
  v.vq.materialize(ctx.now);  // what the guest added (and kicked for) while we slept
  ctx.spend(Path::Vhost, c.vhost_notify_ns);
  v.vq.set_notify(false);  // vhost_disable_notify
  long long total_len = 0;
  int pkts = 0;
  for (;;) {
    if (ctx.now >= k.end()) return TxResult::Stop;
    v.vq.materialize(ctx.now);
    if (v.vq.empty() && sp.busyloop_timeout_us > 0) busy_poll(ctx, v);
    if (v.vq.empty()) {
      // vhost_enable_notify() re-reads the avail index: a descriptor added
      // meanwhile (the race) means disable again and go on.
      ctx.spend(Path::Vhost, c.vhost_notify_ns);
      v.vq.materialize(ctx.now);
      if (!v.vq.empty()) {
        ++k.rec.vhost_notify_races;
        ctx.spend_ns(c.vhost_notify_ns);
        continue;
      }
      v.vq.set_notify(true);
      return TxResult::RingEmpty;
    }
    Desc d = v.vq.pop(ctx.now);
    ctx.spend(Path::Vhost, c.vhost_desc_ns);
    uint32_t len = static_cast<uint32_t>(sp.frame_bytes);
    total_len += len;
    v.vq.materialize(ctx.now);
    bool more = sp.msg_more && total_len < sp.weight_bytes && !v.vq.empty();
    uint32_t hash = flow_hash(v.flow++ % static_cast<uint64_t>(sp.flows));
    Skb* skb = tun_build_skb(ctx, sp.queue, len, hash, d.avail);
    tun_deliver(ctx, tq, skb, more);
    ++pkts;
    if (total_len >= sp.weight_bytes || (sp.pkt_weight > 0 && pkts >= sp.pkt_weight)) {
      ++k.rec.vhost_requeues;
      return TxResult::Requeued;
    }
    // Ticks and wake-ups on this CPU; a tick's irq_exit runs pending softirqs.
    if (advance_time_events(ctx)) do_softirq(ctx);
    ctx.checkpoint();
  }
}

double vhost_wake_time(Ctx& ctx, VhostTx& v) {
  double next = v.vq.next_avail();
  return next + ctx.k->p.costs.vhost_wakeup_ns * 1e-9;
}

}  // namespace tunsim
