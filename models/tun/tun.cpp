#include "models/tun/tun.hpp"

#include "models/backlog/backlog.hpp"
#include "models/napi/napi.hpp"
#include "models/softirq/softirq.hpp"
#include "models/stack/stack.hpp"

namespace tunsim {

Skb tun_build_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  ctx.spend(Path::TunGetUser, c.tun_get_user_ns + c.skb_alloc_ns + c.copy_ns_per_byte * len);
  Skb skb;
  skb.id = k.next_skb_id++;
  skb.t_origin = origin;
  skb.len = len;
  skb.hash = hash;
  skb.queue = static_cast<int16_t>(queue);
  skb.measured = origin >= k.p.warmup_s;
  skb.mark = ctx.cpu->cache.touch_data(k.p.cache.skb_bytes + len);
  skb.mark_cpu = static_cast<int16_t>(ctx.cpu->id);
  return skb;
}

namespace {

// netif_rx_ni(): preempt_disable; netif_rx_internal; do_softirq if pending.
void deliver_netif_rx_ni(Ctx& ctx, Skb skb) {
  int target = get_rps_cpu(*ctx.k, skb);
  enqueue_to_backlog(ctx, std::move(skb), target >= 0 ? target : ctx.cpu->id);
  if (ctx.cpu->net_rx_pending) do_softirq(ctx);
}

// v1 patch and the review's variant: queue, and schedule only when !more.
void deliver_queue_then_signal(Ctx& ctx, TunQueue& tq, Skb skb, bool more) {
  ctx.spend_ns(ctx.k->p.costs.lock_ns);
  ctx.touch(tq.write_queue);  // skb_queue_tail takes the queue lock
  tq.write_queue.push_back(std::move(skb));
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

// tun_rx_batched() as merged in 4.11.
void deliver_rx_batched(Ctx& ctx, TunQueue& tq, Skb skb, bool more) {
  Kernel& k = *ctx.k;
  int rx_batched = k.p.rx_frames;
  ctx.touch(tq.write_queue);  // skb_queue_empty(): lockless read
  if (!rx_batched || (!more && tq.write_queue.empty())) {
    local_bh_disable(ctx);
    netif_receive_skb(ctx, std::move(skb), tq.napi.dev);
    local_bh_enable(ctx);
    if (k.rec.in_window(ctx.now)) k.rec.batch.add(1);
    ++k.rec.immediate;
    return;
  }
  ctx.spend_ns(k.p.costs.lock_ns);
  ctx.touch(tq.write_queue);  // spin_lock(&queue->lock)
  if (!more || static_cast<int>(tq.write_queue.size()) == rx_batched) {
    SkbQueue process_queue;
    tq.write_queue.splice_tail_into(process_queue);
    size_t n = process_queue.size() + 1;
    local_bh_disable(ctx);
    while (!process_queue.empty()) netif_receive_skb(ctx, process_queue.pop_front(), tq.napi.dev);
    netif_receive_skb(ctx, std::move(skb), tq.napi.dev);
    local_bh_enable(ctx);
    if (k.rec.in_window(ctx.now)) k.rec.batch.add(static_cast<double>(n));
    ++k.rec.flushes;
  } else {
    tq.write_queue.push_back(std::move(skb));
  }
}

// IFF_NAPI enqueue (tun_get_user, 4.15+).
void deliver_napi_gro(Ctx& ctx, TunQueue& tq, Skb skb, bool more) {
  Kernel& k = *ctx.k;
  local_bh_disable(ctx);  // spin_lock_bh(&queue->lock)
  ctx.spend_ns(k.p.costs.lock_ns);
  ctx.touch(tq.write_queue);
  tq.write_queue.push_back(std::move(skb));
  size_t queue_len = tq.write_queue.size();
  if (!more || queue_len > static_cast<size_t>(k.p.kernel.napi_weight)) napi_schedule(ctx, tq.napi);
  local_bh_enable(ctx);
}

// tun_poll() of the v1 patch.
int poll_v1(Ctx& ctx, TunQueue& tq, int budget) {
  Kernel& k = *ctx.k;
  int received = 0;
  for (;;) {
    while (!tq.process_queue.empty()) {
      netif_receive_skb(ctx, tq.process_queue.pop_front(), tq.napi.dev);
      if (++received >= budget) return received;
    }
    ctx.spend_ns(k.p.costs.lock_ns);
    ctx.touch(tq.write_queue);
    if (tq.write_queue.empty()) break;
    tq.write_queue.splice_tail_into(tq.process_queue);
  }
  if (received < budget) {
    napi_complete_done(ctx, tq.napi);
    ctx.touch(tq.write_queue);  // skb_peek(&sk_write_queue)
    if (!tq.write_queue.empty() && napi_schedule_prep(ctx, tq.napi)) napi_add_to_poll_list(ctx, tq.napi);
  }
  return received;
}

// The review's variant: the poll dequeues from the one queue, as a hardware
// driver reads its ring; the same complete-and-recheck as v1 (4.9 has no
// MISSED bit, so without it a packet queued in that window would strand).
int poll_deferred(Ctx& ctx, TunQueue& tq, int budget) {
  Kernel& k = *ctx.k;
  int received = 0;
  while (received < budget) {
    ctx.spend_ns(k.p.costs.lock_ns);
    ctx.touch(tq.write_queue);  // skb_dequeue takes the lock per packet
    if (tq.write_queue.empty()) break;
    netif_receive_skb(ctx, tq.write_queue.pop_front(), tq.napi.dev);
    ++received;
  }
  if (received < budget) {
    napi_complete_done(ctx, tq.napi);
    ctx.touch(tq.write_queue);
    if (!tq.write_queue.empty() && napi_schedule_prep(ctx, tq.napi)) napi_add_to_poll_list(ctx, tq.napi);
  }
  return received;
}

// tun_napi_poll() / tun_napi_receive() (4.15+).
int poll_napi_gro(Ctx& ctx, TunQueue& tq, int budget) {
  Kernel& k = *ctx.k;
  SkbQueue process_queue;
  ctx.spend_ns(k.p.costs.lock_ns);
  ctx.touch(tq.write_queue);
  tq.write_queue.splice_tail_into(process_queue);
  int received = 0;
  while (received < budget && !process_queue.empty()) {
    napi_gro_receive(ctx, tq.napi, process_queue.pop_front());
    ++received;
  }
  if (!process_queue.empty()) {
    ctx.spend_ns(k.p.costs.lock_ns);
    ctx.touch(tq.write_queue);
    tq.write_queue.splice_head_from(process_queue);
  }
  if (received < budget) napi_complete_done(ctx, tq.napi);
  return received;
}

}  // namespace

void tun_deliver(Ctx& ctx, TunQueue& tq, Skb skb, bool more) {
  switch (ctx.k->p.design) {
    case Design::NetifRxNi: deliver_netif_rx_ni(ctx, std::move(skb)); break;
    case Design::V1Napi:
    case Design::DeferredSignal: deliver_queue_then_signal(ctx, tq, std::move(skb), more); break;
    case Design::RxBatched: deliver_rx_batched(ctx, tq, std::move(skb), more); break;
    case Design::NapiGro: deliver_napi_gro(ctx, tq, std::move(skb), more); break;
  }
}

int tun_poll(Ctx& ctx, TunQueue& tq, int budget) {
  switch (ctx.k->p.design) {
    case Design::V1Napi: return poll_v1(ctx, tq, budget);
    case Design::DeferredSignal: return poll_deferred(ctx, tq, budget);
    case Design::NapiGro: return poll_napi_gro(ctx, tq, budget);
    default: return 0;
  }
}

}  // namespace tunsim
