// SLUB's per-CPU slabs (mm/slub.c, Linux 6.18) for the slab objects of an
// skb: where an skb's memory comes from and what freeing it on another CPU
// costs.
//
// tun_get_user's skb is two slab objects: the struct sk_buff
// (skbuff_head_cache, kmem_cache_alloc_node in __alloc_skb) and its head
// (kmalloc_reserve: skb_small_head_cache when it fits, 6.3+, else a kmalloc
// cache); tun_build_skb and tun_xdp_one's build_skb take the head from a page
// fragment (not a slab object) and only the sk_buff from the slab.  Each CPU
// allocates from its own cpu slab of each cache: slab_alloc_node pops
// kmem_cache_cpu->freelist, a per-CPU list.  The free (do_slab_free):
//  - of an object of this CPU's cpu slab: pushed back on that per-CPU list
//    (this_cpu_cmpxchg, no locked instruction, no shared line): what the
//    single-writer calibration measured, no cost here;
//  - of an object of another CPU's cpu slab (its skb was built there):
//    __slab_free writes the object's free pointer (set_freepointer: a line
//    the builder wrote, so the store needs the line back from its cache) and
//    swaps the slab's freelist and counters with cmpxchg_double, a locked
//    instruction on struct slab's line, which also drains the store.  The
//    slab is frozen (it is its CPU's cpu slab), so that is all: the object
//    waits on slab->freelist.  Cost: one line transfer for the object, and
//    one for the slab's line when another CPU touched it last.  The free
//    pointer is at half the object (calculate_sizes): when this CPU
//    received the skb, its line is one the receive's burst brought over
//    already (the sk_buff's second line; skbuff_small_head's
//    skb_shared_info line), and only the slab's line moves.
// The builder's CPU finds those objects when its per-CPU list runs dry:
// ___slab_alloc takes the slab's whole freelist (get_freelist, a cmpxchg on
// the slab's line: a transfer when a remote free touched it last).  Each of
// them has lines the other CPU wrote (the free pointer, the fields it set
// while it received and freed the skb), which __alloc_skb's initialisation
// writes again: an skb with such objects pays one transfer, and a burst
// line for its second one (independent stores, whose moves overlap).  The
// kernel's trace of two writers shows about 110 ns more for a write()
// whose skb another CPU freed (p50, docs/validation.md).
//
// Not modelled: a new slab when all of the cpu slab's objects are in flight
// (it is taken at no cost; frees of the older slab's objects are counted
// as this one's) and the slow path's own instructions.
//
// This header holds the per-CPU state (included by models/kernel/kernel.hpp);
// models/slub/slub.hpp the allocation and free the models call.
#pragma once
#include <cstdint>

namespace tunsim {

// The slab caches an skb's objects come from, with the objects per slab of
// each (objperslab in /proc/slabinfo, Linux 6.18.44 on the development
// machine, 2026-12-03: what calculate_order gives 256-, 512-, 576-, 1024-,
// 2048-, 4096- and 8192-byte objects with 4 KiB pages).
enum class SkbSlab : uint8_t { Head, SmallHead, Kmalloc512, Kmalloc1k, Kmalloc2k, Kmalloc4k, Kmalloc8k, None };
constexpr int kSkbSlabs = static_cast<int>(SkbSlab::None);  // the caches before None
int slab_objects(SkbSlab s);
// The object_size of each cache (/sys/kernel/slab/*/object_size, 6.18.44 on
// the development machine, 2026-12-04): where calculate_sizes puts its free
// pointer.
int slab_object_bytes(SkbSlab s);
// The cache of the head that tun_alloc_skb's __alloc_skb takes for a linear
// skb of `len` bytes: kmalloc_reserve rounds NET_SKB_PAD (64) + len, and
// struct skb_shared_info (320), each up to 64 bytes; up to 576 bytes that
// is skb_small_head_cache from 6.3 on (`small_head`), else the kmalloc
// cache of the size; None beyond a kmalloc slab (the page allocator).
SkbSlab skb_head_slab(uint32_t len, bool small_head);

// One CPU's cpu slab of one cache: the objects on kmem_cache_cpu->freelist,
// those other CPUs freed to slab->freelist, and struct slab's freelist and
// counters line, which the builder and the remote freers share (touched
// only on a CPU whose SlubCpu is shared, always after a synchronisation).
struct KmemCacheCpu {
  int cpu_free = -1;   // objects on the per-CPU freelist; -1: no cpu slab yet
  int slab_free = 0;   // objects other CPUs freed to the slab's freelist
  // Of cpu_free, the objects another CPU freed (taken back by get_freelist).
  // The per-CPU freelist is a stack: a refill happens only when it is empty,
  // and this CPU's own frees go on top, so these are always its bottom
  // `remote_objs` objects and the top cpu_free - remote_objs are its own.
  int remote_objs = 0;
  mutable int last_cpu = -1;  // the CPU that touched struct slab's line last
};

struct SlubCpu {
  KmemCacheCpu cache[kSkbSlabs];
  // Some other CPU may free this CPU's skbs.  When none may, a free is
  // always the builder's own, which costs nothing here, so nothing is
  // tracked: the single-CPU path is one test at allocation and one at free.
  bool shared = false;
};

}  // namespace tunsim
