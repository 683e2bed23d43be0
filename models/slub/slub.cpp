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

int slab_object_bytes(SkbSlab s) {
  switch (s) {
    case SkbSlab::Head: return 224;  // sizeof(struct sk_buff), object_size in /sys/kernel/slab
    case SkbSlab::SmallHead: return 576;
    case SkbSlab::Kmalloc512: return 512;
    case SkbSlab::Kmalloc1k: return 1024;
    case SkbSlab::Kmalloc2k: return 2048;
    case SkbSlab::Kmalloc4k: return 4096;
    case SkbSlab::Kmalloc8k: return 8192;
    case SkbSlab::None: break;
  }
  return 0;
}

SkbSlab skb_head_slab(uint32_t len, bool small_head) {
  auto align = [](uint64_t x) { return (x + 63) / 64 * 64; };  // SKB_DATA_ALIGN
  uint64_t size = align(64 + static_cast<uint64_t>(len)) + align(320);
  if (small_head && size <= 576) return SkbSlab::SmallHead;
  if (size <= 512) return SkbSlab::Kmalloc512;
  if (size <= 1024) return SkbSlab::Kmalloc1k;
  if (size <= 2048) return SkbSlab::Kmalloc2k;
  if (size <= 4096) return SkbSlab::Kmalloc4k;
  if (size <= 8192) return SkbSlab::Kmalloc8k;
  return SkbSlab::None;
}

namespace {

// slab_alloc_node on this CPU, whose slabs other CPUs share: pop the per-CPU
// freelist; when it is empty, ___slab_alloc takes what other CPUs freed into
// the cpu slab (get_freelist, a cmpxchg on struct slab's line), or a new
// slab.  Returns whether the object popped is one another CPU freed.
bool alloc_object(Ctx& ctx, SkbSlab s) {
  KmemCacheCpu& c = ctx.cpu->slub.cache[static_cast<int>(s)];
  if (c.cpu_free > 0) {
    --c.cpu_free;
    if (c.cpu_free >= c.remote_objs) return false;  // one of this CPU's own frees
    --c.remote_objs;
    return true;
  }
  if (c.cpu_free == 0) {
    // Other CPUs write slab_free: read it at a synchronisation point.
    ctx.sync();
    ctx.claim(c);
    if (c.slab_free > 0) {
      c.cpu_free = c.slab_free - 1;
      c.remote_objs = c.cpu_free;
      c.slab_free = 0;
      return true;
    }
  }
  // A new cpu slab (allocate_slab), at no cost here: its struct slab is
  // written by this CPU.
  c.cpu_free = slab_objects(s) - 1;
  c.remote_objs = 0;
  c.slab_free = 0;
  c.last_cpu = ctx.cpu->id;
  return false;
}

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

// do_slab_free of an object of CPU `owner`'s cpu slab on this CPU;
// `line_here`: the object's free pointer line is in this CPU's cache
// already (free_pointer_received).
void free_object(Ctx& ctx, SkbSlab s, int owner, bool line_here) {
  if (owner == ctx.cpu->id) {
    ++ctx.cpu->slub.cache[static_cast<int>(s)].cpu_free;  // the per-CPU freelist
    return;
  }
  // kernel.slab_remote_free false: no cost; the builder takes a new slab
  // when its list runs dry, also at no cost.
  if (!ctx.k->p.kernel.slab_remote_free) return;
  // __slab_free: the object's free pointer, in a line its builder wrote
  // (which comes from the builder's cache unless this CPU's receive brought
  // it over already), then cmpxchg_double on the slab's line (transferred
  // if another CPU touched it last), which waits for the first store.
  KmemCacheCpu& c = ctx.k->cpu(owner).slub.cache[static_cast<int>(s)];
  ctx.sync();
  ctx.claim(c);
  if (!line_here) ctx.line_transfer();
  ++c.slab_free;
}

}  // namespace

void slab_alloc_skb_shared(Ctx& ctx, Skb& skb, uint32_t linear, bool head_frag) {
  skb.slab_cpu = static_cast<int16_t>(ctx.cpu->id);
  int remote = alloc_object(ctx, SkbSlab::Head);
  if (!head_frag) {
    skb.slab_head = skb_head_slab(linear, ctx.k->p.kernel.version >= KernelVersion::V6_4);
    if (skb.slab_head != SkbSlab::None) remote += alloc_object(ctx, skb.slab_head);
  }
  // An object another CPU freed has lines that CPU wrote (its free pointer,
  // __slab_free's set_freepointer; the fields it set while it received and
  // freed the skb), which __alloc_skb's initialisation writes again: they
  // move back here.  The stores are independent, so the moves overlap: the
  // first at costs.cacheline_transfer_ns, each further object's at
  // costs.cacheline_burst_ns (docs/model.md, SLUB).  (With
  // kernel.slab_remote_free false no object reaches slab_free, so none is
  // remote.)
  if (remote > 0) {
    ctx.line_transfer();
    if (remote > 1) ctx.line_burst(remote - 1);
  }
}

void slab_free_skb_shared(Ctx& ctx, Skb& skb) {
  if (skb.slab_cpu != ctx.cpu->id) ++ctx.k->rec.slab_remote_frees;
  // Received on this CPU (skb.mark_cpu, set by netif_receive_skb_core's
  // burst): the lines that burst moved are here.
  const bool received = skb.mark_cpu == ctx.cpu->id;
  auto here = [&](SkbSlab s) {
    return received && free_pointer_received(*ctx.k, s, skb.len, ctx.cpu->cache.line_bytes());
  };
  // skb_release_data -> skb_free_head, then kfree_skbmem.
  if (skb.slab_head != SkbSlab::None) free_object(ctx, skb.slab_head, skb.slab_cpu, here(skb.slab_head));
  free_object(ctx, SkbSlab::Head, skb.slab_cpu, here(SkbSlab::Head));
  skb.slab_cpu = -1;
}

}  // namespace tunsim
