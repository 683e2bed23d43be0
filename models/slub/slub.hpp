// SLUB (mm/slub.c, Linux 6.18): allocating and freeing an skb's slab
// objects; what it replays and why is in models/slub/slab.hpp.  The fast
// paths (the per-CPU freelist) are inline here, as every packet runs them;
// the slow paths (___slab_alloc, __slab_free and the lists) are in
// slub.cpp and lists.cpp.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// ___slab_alloc: the per-CPU freelist of `s` on ctx's CPU is empty.
// Returns the slab the object came from; `remote`: another CPU freed it.
int slab_alloc_slow(Ctx& ctx, SkbSlab s, bool& remote);
// __slab_free of skb's object of cache `s` in slab `id`, which is not
// ctx's CPU's cpu slab.
void slab_free_slow(Ctx& ctx, const Skb& skb, SkbSlab s, int id);

// __slab_free's list work for an object of slab `id` freed on ctx's CPU
// (lists.cpp), after the lines are paid.
void slab_put_object(Ctx& ctx, SkbSlab s, int id);

// Pops the per-CPU freelist (not empty): its slab; `remote`, whether the
// object is one another CPU freed (the stack's bottom).
inline int slab_pop(KmemCacheCpu& c, bool& remote) {
  --c.cpu_free;
  remote = c.cpu_free < c.remote_objs;
  if (remote) --c.remote_objs;
  return c.slab;
}

// slab_alloc_node's fast path: pop the per-CPU freelist.
inline int slab_alloc_object(Ctx& ctx, SkbSlab s, bool& remote) {
  KmemCacheCpu& c = ctx.cpu->slub.cache[static_cast<int>(s)];
  if (c.cpu_free > 0) return slab_pop(c, remote);
  return slab_alloc_slow(ctx, s, remote);
}

// slab_alloc_skb past its fast path (slub.cpp).
void slab_alloc_skb_slow(Ctx& ctx, Skb& skb, SkbSlab head);

// slab_alloc_node for the objects of an skb whose head comes from cache
// `head` (skb_head_slab; None: a page fragment, build_skb, and only the
// sk_buff is a slab object), on ctx's CPU: records where they come from
// (skb.slab_cpu, skb.slab_id, skb.slab_head, skb.slab_head_id).
inline void slab_alloc_skb(Ctx& ctx, Skb& skb, SkbSlab head) {
  SlubCpu& sc = ctx.cpu->slub;
  KmemCacheCpu& a = sc.cache[static_cast<int>(SkbSlab::Head)];
  skb.slab_cpu = static_cast<int16_t>(ctx.cpu->id);
  skb.slab_head = head;
  // Both from the top of their per-CPU freelists, this CPU's own frees
  // (above the objects another CPU freed): every packet of a single-CPU
  // scenario but one in 14 or 16.
  if (a.cpu_free > a.remote_objs) {
    if (head == SkbSlab::None) {
      --a.cpu_free;
      skb.slab_id = a.slab;
      return;
    }
    KmemCacheCpu& b = sc.cache[static_cast<int>(head)];
    if (b.cpu_free > b.remote_objs) {
      --a.cpu_free;
      --b.cpu_free;
      skb.slab_id = a.slab;
      skb.slab_head_id = b.slab;
      return;
    }
  }
  slab_alloc_skb_slow(ctx, skb, head);
}

// do_slab_free of one object: back on the per-CPU freelist when its slab is
// this CPU's cpu slab, else __slab_free.
inline void slab_free_object(Ctx& ctx, const Skb& skb, SkbSlab s, int id) {
  KmemCacheCpu& c = ctx.cpu->slub.cache[static_cast<int>(s)];
  if (c.slab == id) {
    ++c.cpu_free;
    return;
  }
  if (!ctx.cpu->slub.shared) {
    // __slab_free on a CPU whose slabs no other CPU touches (no line moves,
    // no synchronisation) into a slab with free objects on no node list
    // (another of its partial slabs, most of a batch's frees): only the
    // counts change; the free that makes a slab partial or empties one on
    // the node's list moves it (slab_put_object).  (Its free_cpu stays this
    // CPU's: a CPU whose slabs no other CPU touches is the only one.)
    Slab& sl = ctx.k->slub.slabs[static_cast<size_t>(id)];
    if (sl.sfree > 0 && sl.where != Slab::Where::NodePartial) {
      --sl.inuse;
      ++sl.sfree;
      return;
    }
  }
  slab_free_slow(ctx, skb, s, id);
}

// kfree_skbmem and skb_free_head of the skb's slab objects on ctx's CPU.
// Its base cost, costs.skb_free_ns (everything kfree_skb does after its
// tracepoint), is paid on every CPU; the slow paths' and the shared lines'
// costs where they happen.
inline void slab_free_skb(Ctx& ctx, Skb& skb) {
  ctx.spend_ns(ctx.k->p.costs.skb_free_ns);
  if (skb.slab_id < 0) return;
  if (skb.slab_cpu != ctx.cpu->id) ++ctx.k->rec.slab_remote_frees;
  // skb_release_data -> skb_free_head, then kfree_skbmem.
  if (skb.slab_head_id >= 0) slab_free_object(ctx, skb, skb.slab_head, skb.slab_head_id);
  slab_free_object(ctx, skb, SkbSlab::Head, skb.slab_id);
  skb.slab_id = skb.slab_head_id = -1;
  skb.slab_cpu = -1;
}

}  // namespace tunsim
