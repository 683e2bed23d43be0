// SLUB (mm/slub.c): the skb's slab objects.
#include <string>

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
  // SLUB's slow paths, measured by capture-trace --drain-every on this
  // kernel (docs/calibration.md, "SLUB's slow paths").
  static const std::string bursts =
      "measured: scripts/capture-trace --mode plain --bridge --drain-every 2240 --count 89600, three captures "
      "(2026-12-05 23:44, load average 0.2-0.5, AMD EPYC Zen 5 2-vCPU VM, Linux 6.18.44; "
      "results/reference/slab-bursts-2026-12-05/), scripts/trace-segments --cpu 0 --bursts 14,16,112: ";
  declare_cost(t, "slab_new_ns", 357, &Costs::slab_new_ns, "___slab_alloc -> new_slab -> allocate_slab",
               "A new slab of one page (skbuff_head_cache's, order 0) when the CPU's cpu slab, its partial list "
               "and the node's are all used up: pages from the page allocator and the objects' freelist, paid "
               "by the allocating write() or vhost descriptor, ns.")
      .from(bursts + "the p50 excess of every 16th write() (the slowest residue of 16), median of the three "
                     "captures (351, 357, 389 ns); the pages are the ones the reads' discards just freed, as in a "
                     "CPU that frees its own batches (a slab of fresh memory costs more: 680-760 ns in the bridged "
                     "captures, docs/validation.md \"The write's new slabs\")");
  declare_cost(t, "slab_new_page_ns", 95, &Costs::slab_new_page_ns, "allocate_slab of an order > 0 slab",
               "Each further page of a new slab (skbuff_small_head's and kmalloc-512's slabs take 2, kmalloc-1k's "
               "4, larger ones 8), ns.")
      .from(bursts + "every 14th write()'s p50 excess (skbuff_small_head, order 1: 422, 452, 476 ns, median 452) "
                     "less slab_new_ns; measured for two pages only, larger slabs extrapolated linearly "
                     "(an estimate)");
  declare_cost(t, "slab_put_partial_ns", 59.5, &Costs::slab_put_partial_ns, "__slab_free -> put_cpu_partial",
               "The first free into a full slab, which puts it on the freeing CPU's partial list, ns.")
      .from(bursts + "the p50 excess of every 16th and 14th read() (skbuff_head_cache 50, 58, 59; "
                     "skbuff_small_head 60, 66, 69 ns), median of the six");
  declare_cost(t, "slab_discard_ns", 40.3, &Costs::slab_discard_ns, "__put_partials / __slab_free -> discard_slab",
               "Discarding an empty one-page slab (its page back to the page allocator), on the freeing CPU, "
               "when its CPU's partial list drains to a node that already holds min_partial slabs, ns.")
      .from(bursts + "the read() that drains skbuff_head_cache's 7 slabs (every 112th, residue 61: 306, 340, 355 "
                     "ns, median 340) less its put_cpu_partial (58), over the 7 slabs it discards");
  declare_cost(t, "slab_discard_page_ns", 16.6, &Costs::slab_discard_page_ns, "discard_slab of an order > 0 slab",
               "Each further page of a discarded slab, ns.")
      .from(bursts + "the read() that drains skbuff_small_head's 8 slabs (residue 0 of 112: 494, 521, 546 ns, "
                     "median 521) less its put_cpu_partial (66), over 8 slabs: 56.9 ns a two-page slab, less "
                     "slab_discard_ns; larger slabs extrapolated linearly (an estimate)");
}

}  // namespace tunsim
