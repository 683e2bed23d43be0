#include "models/slub/slub.hpp"

#include <algorithm>
#include <cmath>

namespace tunsim {

int slab_objects(SkbSlab s) {
  switch (s) {
    case SkbSlab::Head: return 16;       // skbuff_head_cache, 256-byte objects, order 0
    case SkbSlab::SmallHead: return 14;  // skbuff_small_head, 576 bytes, order 1
    case SkbSlab::Kmalloc512: return 16;  // order 1
    case SkbSlab::Kmalloc1k: return 16;  // order 2
    case SkbSlab::Kmalloc2k: return 16;  // order 3
    case SkbSlab::Kmalloc4k: return 8;   // order 3
    case SkbSlab::Kmalloc8k: return 4;   // order 3
    case SkbSlab::None: break;
  }
  return 0;
}

int slab_pages(SkbSlab s) {
  switch (s) {
    case SkbSlab::Head: return 1;
    case SkbSlab::SmallHead: return 2;
    case SkbSlab::Kmalloc512: return 2;
    case SkbSlab::Kmalloc1k: return 4;
    case SkbSlab::Kmalloc2k: return 8;
    case SkbSlab::Kmalloc4k: return 8;
    case SkbSlab::Kmalloc8k: return 8;
    case SkbSlab::None: break;
  }
  return 0;
}

int slab_cpu_partial_slabs(SkbSlab s) {
  // set_cpu_partial on s->size: the object sizes above are the slab sizes
  // (no metadata: /sys/kernel/slab/*/slab_size); 52, 52, 52, 24, 24, 6, 6
  // objects, /sys/kernel/slab/*/cpu_partial on 6.18.44.
  int size = s == SkbSlab::Head ? 256 : slab_object_bytes(s);
  int objects = size >= 4096 ? 6 : size >= 1024 ? 24 : 52;
  return (objects * 2 + slab_objects(s) - 1) / slab_objects(s);
}

int slab_min_partial(SkbSlab s) {
  int size = s == SkbSlab::Head ? 256 : slab_object_bytes(s);
  int log2 = 0;
  while ((2 << log2) <= size) ++log2;
  return std::clamp(log2 / 2, 5, 10);  // MIN_PARTIAL, MAX_PARTIAL
}

namespace {

// calculate_sizes (mm/slub.c, 6.18) puts a cache's free pointer in its
// objects at ALIGN_DOWN(object_size / 2, sizeof(void *)) when the cache has
// no constructor, no RCU and no debugging, as every skb cache: at 112 in
// skbuff_head_cache's 224-byte objects, at 288 in skbuff_small_head's 576,
// at half a kmalloc object.  Whether that line is one of those a receive
// on another CPU than the builder's brought over (netif_receive_skb_core's
// burst: the sk_buff's lines __alloc_skb wrote, skb_shared_info's first
// (cache.skb_written_bytes) and min(len, 128) bytes of the frame, which
// tun_alloc_skb puts at NET_SKB_PAD, 64, with skb_shared_info at the end
// of the head object), in lines of `line_bytes` as the burst counts them.
bool free_pointer_received(const Kernel& k, SkbSlab s, uint32_t len, double line_bytes) {
  double written = k.p.cache.skb_written_bytes;
  auto covers = [line_bytes](double lo, double hi, double at) {  // [lo, hi) holds a byte of at's line
    double line = std::floor(at / line_bytes) * line_bytes;
    return hi > lo && lo < line + line_bytes && hi > line;
  };
  if (s == SkbSlab::Head) return covers(0, std::min(written, 256.0), 112);
  double size = slab_object_bytes(s);
  double fp = std::floor(size / 2 / 8) * 8;
  double shinfo = size - 320;
  return covers(64, 64 + std::min<double>(len, 128), fp) ||
         covers(shinfo, shinfo + std::clamp(written - 256, 0.0, 320.0), fp);
}

}  // namespace

void slab_alloc_skb_slow(Ctx& ctx, Skb& skb, SkbSlab head) {
  bool remote = false, head_remote = false;
  skb.slab_id = slab_alloc_object(ctx, SkbSlab::Head, remote);
  if (head != SkbSlab::None) skb.slab_head_id = slab_alloc_object(ctx, head, head_remote);
  // An object another CPU freed has lines that CPU wrote (its free pointer,
  // __slab_free's set_freepointer; the fields it set while it received and
  // freed the skb), which __alloc_skb's initialisation writes again: they
  // move back here.  The stores are independent, so the moves overlap: the
  // first at costs.cacheline_transfer_ns, each further object's at
  // costs.cacheline_burst_ns (docs/model.md, SLUB).  (With
  // kernel.slab_remote_free false no object counts as another CPU's.)
  const int n = int(remote) + int(head_remote);
  if (n > 0) {
    ctx.line_transfer();
    if (n > 1) ctx.line_burst(n - 1);
  }
}

void slab_free_slow(Ctx& ctx, const Skb& skb, SkbSlab s, int id) {
  Kernel& k = *ctx.k;
  const int me = ctx.cpu->id;
  const bool shared = ctx.cpu->slub.shared;
  // Other CPUs touch the slab: read and write it at a synchronisation point.
  if (shared) ctx.sync();
  Slab& sl = k.slub.slabs[static_cast<size_t>(id)];
  if (shared && k.p.kernel.slab_remote_free) {
    // __slab_free: the object's free pointer, in a line its builder wrote
    // when that is another CPU (the line comes from the builder's cache
    // unless this CPU's receive brought it over already: skb.mark_cpu, set
    // by netif_receive_skb_core's burst), then cmpxchg_double on the slab's
    // line (transferred if another CPU touched it last), which waits for
    // the first store.
    ctx.claim(sl);
    const bool received = skb.mark_cpu == me;
    if (skb.slab_cpu != me && !(received && free_pointer_received(k, s, skb.len, ctx.cpu->cache.line_bytes())))
      ctx.line_transfer();
  }
  slab_put_object(ctx, s, id);
}


}  // namespace tunsim
