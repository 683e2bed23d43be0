#include "models/stack/stack.hpp"

#include <algorithm>

#include "models/backlog/backlog.hpp"
#include "models/napi/napi.hpp"
#include "models/slub/slub.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

void udp_receiver_advance(const Kernel& k, UdpSocket& s, double t) {
  auto& queue = s.queue;
  auto& busy_until = s.busy_until;
  const double speed = k.p.speed_of(k.p.stack.receiver_cpu);
  const double recv = k.p.costs.recv_ns * 1e-9 / speed;
  const double wake = k.p.costs.wakeup_ns * 1e-9 / speed;
  while (!queue.empty()) {
    double arrival = queue.front().first;
    // The receiver sleeps when the queue is empty and is woken by the arrival.
    double start = busy_until >= arrival ? busy_until : arrival + wake;
    double done = start + recv;
    if (done > t) break;
    busy_until = done;
    s.rmem_alloc -= queue.front().second;
    queue.pop_front();
    ++s.received;
    double lo = std::max(start, k.rec.warmup), hi = std::min(done, k.rec.end);
    if (hi > lo) s.receiver_busy_s += hi - lo;
  }
}

void netif_receive_skb(Ctx& ctx, Skb* skb, const char* dev) {
  int target = get_rps_cpu(*ctx.k, *skb);
  if (target >= 0) {
    enqueue_to_backlog(ctx, skb, target);
    return;
  }
  netif_receive_skb_core(ctx, skb, dev);
}

void netif_receive_skb_core(Ctx& ctx, Skb* skb, const char* dev) {
  Kernel& k = *ctx.k;
  Cpu& cpu = *ctx.cpu;
  const char* flags = ctx_flags(ctx);
  k.rec.netif_receive_skb(ctx.now, cpu.id, ctx.thread, flags, *skb, dev);
  ctx.spend(Path::NetifReceiveSkb, k.p.costs.netif_receive_skb_ns);
  // The stack reads the skb metadata and the headers it parses.
  double headers = std::min<double>(skb->len, 128);
  CacheMisses& m = cpu.misses[static_cast<int>(Path::NetifReceiveSkb)];
  if (skb->mark_cpu == cpu.id || skb->mark_cpu < 0) {
    ctx.spend_ns(cpu.cache.reread_data(skb->mark, k.p.cache.skb_bytes + headers, m));
  } else {
    // Built on another CPU: what that CPU wrote is dirty in its cache and
    // comes over as one burst of lines, whose transfers the core overlaps
    // (costs.cacheline_burst_ns a line, measured by linexfer --lines); the
    // rest of the metadata is read cold.  With cache.skb_remote_walk on, a
    // further remote skb of the same poll is one more step of a walk, whose
    // transfers overlap those of the walk (cache.skb_remote_walk_ns a line,
    // measured by skbwalk.c --writer-cpu).
    int burst = static_cast<int>(std::ceil((k.p.cache.skb_written_bytes + headers) / cpu.cache.line_bytes()));
    double cold = std::max(0.0, k.p.cache.skb_bytes - k.p.cache.skb_written_bytes);
    if (k.p.cache.skb_remote_walk && cpu.cache.remote_walk_continues()) {
      k.rec.line_transfers += static_cast<uint64_t>(burst);
      ctx.spend_ns(cpu.cache.remote_walk(burst, cold, m));
    } else {
      ctx.line_burst(burst);
      ctx.spend_ns(cpu.cache.reread_cold(cold, m));
    }
    // Those lines are this CPU's now: the free's stores into them (SLUB's
    // free pointers, models/slub) move nothing more.
    skb->mark_cpu = static_cast<int16_t>(cpu.id);
  }
  switch (k.p.stack.type) {
    case StackType::Drop:
      ctx.spend(Path::StackDrop, k.p.costs.stack_drop_ns);
      k.rec.kfree_skb(ctx.now, cpu.id, ctx.thread, flags, *skb, "UNHANDLED_PROTO");
      ctx.sock_wfree(*skb);  // kfree_skb -> skb_release_head_state
      ++k.rec.unhandled_proto;
      break;
    case StackType::Bridge:
      ctx.spend(Path::StackBridge, k.p.costs.bridge_forward_ns);
      ctx.sock_wfree(*skb);  // the second tap's tun_net_xmit: skb_orphan
      ++k.rec.bridge_forwarded;
      break;
    case StackType::Udp: {
      ctx.sock_wfree(*skb);  // ip_rcv_core: skb_orphan
      ctx.spend(Path::StackUdp, k.p.costs.udp_deliver_ns);
      UdpSocket& s = k.udp;
      ctx.touch(s);
      udp_receiver_advance(k, s, ctx.now);
      long long truesize = k.p.stack.truesize_bytes > 0 ? k.p.stack.truesize_bytes : static_cast<long long>(skb->truesize);
      if (s.rmem_alloc >= k.p.stack.rcvbuf_bytes) {
        ++k.rec.udp_rcvbuf_dropped;
        k.rec.kfree_skb(ctx.now, cpu.id, ctx.thread, flags, *skb, "SOCKET_RCVBUFF");
      } else {
        s.queue.emplace_back(ctx.now, truesize);
        s.rmem_alloc += truesize;
        ++k.rec.udp_queued;
      }
      break;
    }
  }
  k.rec.delivered_end(ctx.now, *skb);
  slab_free_skb(ctx, *skb);  // consumed or dropped: kfree_skbmem, skb_free_head
  k.skbs.free(skb);
}

void napi_gro_receive(Ctx& ctx, Napi& n, Skb* skb) {
  Kernel& k = *ctx.k;
  ctx.spend(Path::Gro, k.p.costs.gro_ns);
  if (k.p.kernel.gro_normal_batch <= 0) {
    netif_receive_skb(ctx, skb, n.dev);
    return;
  }
  n.rx_list.push_back(skb);
  if (static_cast<int>(n.rx_list.size()) >= k.p.kernel.gro_normal_batch) gro_normal_list(ctx, n);
}

}  // namespace tunsim
