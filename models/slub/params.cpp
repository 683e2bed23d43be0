// SLUB (mm/slub.c): the skb's slab objects.
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_slub_params(ParamTable& t) {
  t.add("kernel.slab_remote_free", PType::Bool, true)
      .kname("do_slab_free() -> __slab_free()")
      .means("Freeing an skb built on another CPU returns its slab objects (the sk_buff, and the head unless it "
             "is a page fragment) to the builder's slab: per object, the line of its free pointer (unless this "
             "CPU's receive brought it over already) and, when another CPU touched it last, the slab's freelist "
             "line move here (costs.cacheline_transfer_ns each); the builder takes them back when its per-CPU "
             "freelist runs dry (docs/model.md, SLUB).  false = such a free costs what a free on the builder's CPU "
             "does, as before 2026-12-03.")
      .from("mm/slub.c of Linux 6.18 (do_slab_free, __slab_free, ___slab_alloc); the same path in every modelled "
            "version")
      .bind(&Params::kernel, &KernelParams::slab_remote_free);
  declare_cost(t, "skb_free_ns", 252.4, &Costs::skb_free_ns,
               "kfree_skb_reason after trace_kfree_skb: skb_release_all, kfree_skbmem",
               "Freeing a consumed or dropped skb after the kfree_skb tracepoint: its destructor (sock_wfree), "
               "its head and its sk_buff back to their slabs (kmem_cache_free), ns.  A free on another CPU than "
               "the builder's also pays the SLUB lines (kernel.slab_remote_free).")
      .from(kCostTraceFit);
}

}  // namespace tunsim
