// SLUB (mm/slub.c, Linux 6.18): allocating and freeing an skb's slab
// objects; what it replays and why is in models/slub/slab.hpp.  The checks
// a CPU whose skbs no other CPU frees needs are inline here (the
// single-CPU scenarios run them for every packet); the rest is in slub.cpp.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

void slab_alloc_skb_shared(Ctx& ctx, Skb& skb, uint32_t linear, bool head_frag);
void slab_free_skb_shared(Ctx& ctx, Skb& skb);

// slab_alloc_node for the objects of an skb with `linear` bytes in its head,
// on ctx's CPU: records where they come from (skb.slab_cpu, skb.slab_head).
// `head_frag`: the head is a page fragment (build_skb), only the sk_buff is a
// slab object.
// On a CPU whose skbs no other CPU frees (slub.shared false: every
// single-CPU scenario) nothing is tracked: a fresh skb from SkbPool::alloc
// keeps slab_cpu -1, and its free, the builder's own, moves no line (it
// pays costs.skb_free_ns only, below).
inline void slab_alloc_skb(Ctx& ctx, Skb& skb, uint32_t linear, bool head_frag) {
  if (ctx.cpu->slub.shared) slab_alloc_skb_shared(ctx, skb, linear, head_frag);
}
// kfree_skbmem and skb_free_head of the skb's slab objects on ctx's CPU.
// Its base cost, costs.skb_free_ns (everything kfree_skb does after its
// tracepoint), is paid on every CPU; the lines only where they are shared.
inline void slab_free_skb(Ctx& ctx, Skb& skb) {
  ctx.spend_ns(ctx.k->p.costs.skb_free_ns);
  if (skb.slab_cpu >= 0) slab_free_skb_shared(ctx, skb);
}

}  // namespace tunsim
