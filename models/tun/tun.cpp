#include "models/tun/tun.hpp"

#include "models/napi/napi.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

namespace {
// napi->poll of a tun queue: container_of(napi, struct tun_file, napi).
int tun_napi_poll(Ctx& ctx, Napi& n, int budget) {
  return ctx.k->p.design->poll(ctx, *static_cast<TunQueue*>(n.owner), budget);
}
}  // namespace

void tun_queue_init(Kernel& k, TunQueue& tq) {
  Napi& n = tq.napi;
  n.poll = k.p.design->poll ? tun_napi_poll : nullptr;
  n.owner = &tq;
  n.weight = k.p.kernel.napi_weight;
  n.addr = 0xffff888000000000ULL | static_cast<uint64_t>(tq.index) << 12;
  n.dev = "tap0";
}

Skb* tun_build_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  ctx.spend(Path::TunGetUser, c.tun_get_user_ns + c.skb_alloc_ns + c.copy_ns_per_byte * len);
  Skb* skb = k.skbs.alloc();
  skb->t_origin = origin;
  skb->len = len;
  skb->hash = hash;
  skb->queue = static_cast<int16_t>(queue);
  skb->measured = origin >= k.p.warmup_s;
  skb->mark = ctx.cpu->cache.touch_data(k.p.cache.skb_bytes + len);
  skb->mark_cpu = static_cast<int16_t>(ctx.cpu->id);
  return skb;
}

void tun_queue_then_signal(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
  ctx.spend_ns(ctx.k->p.costs.lock_ns);
  ctx.touch(tq.write_queue);  // skb_queue_tail takes the queue lock
  tq.write_queue.push_back(skb);
  if (!more) {
    if (ctx.k->p.bh_section) {
      local_bh_disable(ctx);
      napi_schedule(ctx, tq.napi);
      local_bh_enable(ctx);
    } else {
      napi_schedule(ctx, tq.napi);
    }
  }
}

void tun_poll_complete_recheck(Ctx& ctx, TunQueue& tq) {
  napi_complete_done(ctx, tq.napi);
  ctx.touch(tq.write_queue);  // skb_peek(&sk_write_queue)
  if (!tq.write_queue.empty() && napi_schedule_prep(ctx, tq.napi)) napi_add_to_poll_list(ctx, tq.napi);
}

}  // namespace tunsim
