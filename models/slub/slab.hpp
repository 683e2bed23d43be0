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
// Where slabs go (6.18, CONFIG_SLUB_CPU_PARTIAL; models/slub/lists.cpp):
// when the cpu slab has no free object left (get_freelist finds none), it
// is unfrozen and, full, on no list; ___slab_alloc takes the head of the
// CPU's partial list, else get_partial_node takes the node's first partial
// slab (and moves more to the CPU's partial list until
// cpu_partial_slabs / 2 have moved), else new_slab allocates one
// (costs.slab_new_ns).  The first free into a full slab (__slab_free,
// !prior) puts it on the freeing CPU's partial list (put_cpu_partial);
// when that list already holds cpu_partial_slabs slabs, the whole list
// goes to the node (__put_partials), where an empty slab is discarded
// (costs.slab_discard_ns) once the node holds min_partial slabs.  A free
// that empties a slab on the node's list discards it the same way.  Each
// CPU starts with a cpu slab of each cache and nothing else (the slabs the
// kernel had before).
//
// This header holds the per-CPU state (included by models/kernel/kernel.hpp);
// models/slub/slub.hpp the allocation and free the models call.
#pragma once
#include <cstdint>
#include <vector>

namespace tunsim {

// The slab caches an skb's objects come from, with the objects per slab of
// each (objperslab in /proc/slabinfo, Linux 6.18.44 on the development
// machine, 2026-12-03: what calculate_order gives 256-, 512-, 576-, 1024-,
// 2048-, 4096- and 8192-byte objects with 4 KiB pages).
enum class SkbSlab : uint8_t { Head, SmallHead, Kmalloc512, Kmalloc1k, Kmalloc2k, Kmalloc4k, Kmalloc8k, None };
constexpr int kSkbSlabs = static_cast<int>(SkbSlab::None);  // the caches before None
int slab_objects(SkbSlab s);
// Pages a slab of each cache takes (1 << its order, /sys/kernel/slab/*/order).
int slab_pages(SkbSlab s);
// kmem_cache->cpu_partial_slabs: set_cpu_partial's objects (52 below 1024
// bytes, 24 below a page, 6 from a page on) x 2 / objects a slab, rounded up
// (slub_set_cpu_partial, 6.18; /sys/kernel/slab/*/cpu_partial on 6.18.44).
int slab_cpu_partial_slabs(SkbSlab s);
// kmem_cache->min_partial: ilog2(size) / 2 within [5, 10] (set_min_partial).
int slab_min_partial(SkbSlab s);
// The object_size of each cache (/sys/kernel/slab/*/object_size, 6.18.44 on
// the development machine, 2026-12-04): where calculate_sizes puts its free
// pointer.  None (no slab object): 0.
inline int slab_object_bytes(SkbSlab s) {
  static constexpr int kBytes[] = {224, 576, 512, 1024, 2048, 4096, 8192, 0};  // sizeof(struct sk_buff) first
  return kBytes[static_cast<int>(s)];
}
// What kmalloc_reserve is asked for the head of an skb with `linear` bytes in
// it (__alloc_skb, reached from tun_alloc_skb's sock_alloc_send_pskb):
// SKB_HEAD_ALIGN(NET_SKB_PAD (64) + linear), each part rounded up to 64
// bytes, struct skb_shared_info being 320 (6.18 net/core/skbuff.c, BTF of
// 6.18.44).
inline uint64_t skb_head_request(uint32_t linear) {
  auto align = [](uint64_t x) { return (x + 63) / 64 * 64; };  // SKB_DATA_ALIGN
  return align(64 + static_cast<uint64_t>(linear)) + align(320);
}
// The cache of that head: up to 576 bytes skb_small_head_cache from 6.3 on
// (`small_head`), else the kmalloc cache of the size; None beyond a kmalloc
// slab (the page allocator).
inline SkbSlab skb_head_slab(uint32_t linear, bool small_head) {
  const uint64_t size = skb_head_request(linear);
  if (small_head && size <= 576) return SkbSlab::SmallHead;
  if (size <= 512) return SkbSlab::Kmalloc512;
  if (size <= 1024) return SkbSlab::Kmalloc1k;
  if (size <= 2048) return SkbSlab::Kmalloc2k;
  if (size <= 4096) return SkbSlab::Kmalloc4k;
  if (size <= 8192) return SkbSlab::Kmalloc8k;
  return SkbSlab::None;
}

// A slab of one of those caches (struct slab): its objects in use (those on
// its CPU's per-CPU freelist count as in use, as in SLUB), those on its own
// freelist, and where it is.
struct Slab {
  enum class Where : uint8_t { Cpu, Full, CpuPartial, NodePartial, Discarded };
  SkbSlab cache = SkbSlab::None;
  Where where = Where::Discarded;
  int16_t cpu = -1;      // Cpu: whose cpu slab; CpuPartial: whose partial list
  int16_t free_cpu = -1;  // the CPU that freed the objects on its freelist (-1 none, -2 several)
  int inuse = 0;         // objects allocated (slab->inuse)
  int sfree = 0;         // objects on its freelist (slab->freelist)
  int next = -1, prev = -1;   // its list's links (a CPU's partial list: next only)
  mutable int last_cpu = -1;  // the CPU that touched its freelist and counters line last
};

// One CPU's view of one cache (struct kmem_cache_cpu): its cpu slab, the
// objects on its per-CPU freelist, its partial list.
struct KmemCacheCpu {
  int slab = -1;       // c->slab: an index in SlubNode::slabs; -1 none yet
  int cpu_free = 0;    // objects on the per-CPU freelist
  // Of cpu_free, the objects another CPU freed (taken with get_freelist).
  // The per-CPU freelist is a stack: a refill happens only when it is empty,
  // and this CPU's own frees go on top, so these are always its bottom
  // `remote_objs` objects and the top cpu_free - remote_objs are its own.
  int remote_objs = 0;
  int partial = -1;        // c->partial: the slab put there last; -1 none
  int partial_slabs = 0;   // slabs on it (the head's slab->slabs)
};

struct SlubCpu {
  KmemCacheCpu cache[kSkbSlabs];
  // Some other CPU may free this CPU's skbs: the slabs' lines are shared,
  // and their lists are read and written at synchronisation points.
  bool shared = false;
};

// The slabs of every cache and each cache's node partial list (one NUMA
// node), in the Kernel (models/kernel/kernel.hpp).  A discarded slab's
// entry is reused by the next new slab, so a steady state allocates nothing.
struct SlubNode {
  struct Partial {
    int head = -1, tail = -1;  // n->partial: taken from the head, added at the tail
    int nr_partial = 0;
    mutable int last_cpu = -1;  // n->list_lock's line
  };
  std::vector<Slab> slabs;
  std::vector<int> unused;  // discarded slabs' indices
  Partial node[kSkbSlabs];
  uint64_t new_slabs = 0, discarded = 0;  // over the whole run
};

}  // namespace tunsim
