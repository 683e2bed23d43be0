#include "models/tun/tun.hpp"

#include <algorithm>

#include "models/napi/napi.hpp"
#include "models/sched/schedule.hpp"
#include "models/slub/slub.hpp"
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

uint32_t tun_build_skb_buflen(uint32_t len) {
  auto align = [](uint32_t x) { return (x + 63) / 64 * 64; };  // SKB_DATA_ALIGN, 64-byte lines
  return align(len + 64) + align(320);
}

bool tun_frame_fits_page(uint32_t len, KernelVersion v) {
  // tun_can_build_skb: SKB_DATA_ALIGN(len + TUN_RX_PAD) + SKB_DATA_ALIGN(sizeof(struct
  // skb_shared_info)) <= PAGE_SIZE, and from 6.5 on (commit 59eeb2329405, "prevent
  // tun_build_skb() to exceed the packet size limit") with XDP_PACKET_HEADROOM (256) in the
  // first term whether or not an XDP program is attached: read in 6.5.0, 6.6.9, 6.8.1,
  // 6.18.8 and stable 6.1.192; absent in 4.15.0, 5.15.0, 6.1.20, 6.4.4.
  const uint32_t xdp_headroom = v >= KernelVersion::V6_5 ? 256 : 0;
  return tun_build_skb_buflen(len + xdp_headroom) <= 4096;
}

Skb* tun_get_user_skb(Ctx& ctx, int queue, uint32_t len, uint32_t hash, double origin, const TunSend& how) {
  Kernel& k = *ctx.k;
  const Costs& c = k.p.costs;
  // Zerocopy: GOODCOPY_LEN (128) bytes into the linear part, the rest mapped.
  uint32_t copied = how.zerocopy ? std::min<uint32_t>(len, 128) : len;
  double rest = c.skb_alloc_ns + c.copy_ns_per_byte * copied;
  bool build_skb = k.p.tun.build_skb && how.noblock && k.p.tun.sndbuf == TunParams::kIntMax && !how.zerocopy &&
                   tun_frame_fits_page(len, k.p.kernel.version);
  // The head and skb->truesize: a page fragment for tun_build_skb and
  // tun_xdp_one (vhost's XDP buffer, its size given); else tun_alloc_skb's kmalloc_reserve head
  // of `linear` bytes, which is the frame unless it does not fit a page
  // with NET_SKB_PAD (then the head holds the vnet header's hdr_len, 0 for
  // the model's frames, and the frame goes into pages) or is zerocopy.
  const bool head_frag = build_skb || !how.owned();
  const uint32_t linear = how.zerocopy ? copied : (64 + len < 4096 ? len : 0);
  const bool small_head = k.p.kernel.version >= KernelVersion::V6_4;  // skb_small_head_cache, 6.3
  const SkbSlab head = head_frag ? SkbSlab::None : skb_head_slab(linear, small_head);
  const auto truesize = static_cast<uint32_t>(!how.owned() ? skb_truesize_frag(how.xdp_frame_sz)
                                              : build_skb   ? skb_truesize_frag(tun_build_skb_buflen(len))
                                                            : skb_truesize_alloc(len, linear, head));
  // The sk_buff, and the head of `copied` linear bytes unless it is a page
  // fragment (tun_build_skb, or tun_xdp_one's build_skb on vhost's XDP
  // buffer); the socket charged for it.  The lines other CPUs share are
  // touched where tun_get_user touches them: tun_alloc_skb ->
  // sock_alloc_send_pskb reads tfile->socket.sk and sk_wmem_alloc,
  // allocates the sk_buff and the head (slab_alloc_node), charges the
  // socket (skb_set_owner_w), and the copy into the head comes after;
  // tun_get_user's own checks come first (Linux 6.18 drivers/net/tun.c,
  // net/core/sock.c).  Where no line is shared the touches cost nothing,
  // and unless the thread reschedules at the allocation the path runs in
  // one piece.
  Skb* skb;
  const bool resched = !build_skb && ctx.cpu->need_resched && k.p.kernel.preempt != Preempt::None && ctx.exec;
  const bool slab_shared = ctx.cpu->slub.shared;
  // sock_alloc_send_pskb's sndbuf test comes after tun_get_user's checks
  // (tun_alloc_skb), before anything is allocated.  Where no other CPU
  // touches the socket nothing can free its skbs during those checks, so
  // the test can come before they are spent; elsewhere it follows them.  A
  // sender the test refuses gets no skb: a blocking writer sleeps, vhost's
  // non-blocking sendmsg gets -EAGAIN (models/vhost).
  TunQueue& tq = k.queue(queue);
  const bool sndbuf_test = how.owned() && !build_skb;
  if (!resched && !slab_shared && !(how.owned() && tq.wmem_line.shared)) {
    if (sndbuf_test && ctx.sndbuf_refuses(tq, how.noblock)) {
      ctx.spend(Path::TunGetUser, c.tun_get_user_ns);
      return nullptr;
    }
    // Nothing shared (every single-CPU scenario): the path in one piece,
    // then slab_alloc_skb (whose slabs no other CPU touches: no
    // synchronisation) and skb_set_owner_w without its shared-line test,
    // which the branch made (calling it, or one path for both cases, cost
    // default/netif_rx_ni 17-29 instructions a packet, callgrind
    // 2026-12-04).
    ctx.spend(Path::TunGetUser, c.tun_get_user_ns + rest);
    skb = k.skbs.alloc();
    skb->len = len;
    skb->truesize = truesize;
    slab_alloc_skb(ctx, *skb, head);
    if (how.owned()) ctx.charge_socket(*skb, tq);
  } else {
    ctx.spend(Path::TunGetUser, c.tun_get_user_ns);
    if (sndbuf_test) {
      ctx.sync();  // sk_wmem_alloc, which other CPUs' frees change, read in order
      if (ctx.sndbuf_refuses(tq, how.noblock)) return nullptr;
    }
    // tun_alloc_skb -> sock_alloc_send_pskb -> GFP_KERNEL slab allocation ->
    // might_sleep(): the header checks are done, the thread reschedules here.
    if (resched) might_resched(ctx);
    skb = k.skbs.alloc();
    skb->len = len;
    skb->truesize = truesize;
    slab_alloc_skb(ctx, *skb, head);
    if (how.owned()) ctx.skb_set_owner_w(*skb, tq);
    // The rest of the path: a run of its own after whatever ran meanwhile
    // (a reschedule), else the same run.
    ctx.spend(Path::TunGetUser, rest, resched);
  }
  skb->t_origin = origin;
  skb->hash = hash;
  skb->queue = static_cast<int16_t>(queue);
  skb->measured = origin >= k.p.warmup_s;
  skb->ubuf = how.zerocopy;
  skb->mark = ctx.cpu->cache.touch_data(k.p.cache.skb_bytes + copied);
  skb->mark_cpu = static_cast<int16_t>(ctx.cpu->id);
  return skb;
}

void tun_queue_then_signal(Ctx& ctx, TunQueue& tq, Skb* skb, bool more) {
  ctx.lock(tq.write_queue);  // skb_queue_tail takes the queue lock
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
