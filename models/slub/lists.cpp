// SLUB's slabs and their lists (mm/slub.c, Linux 6.18, CONFIG_SLUB_CPU_PARTIAL):
// ___slab_alloc, get_partial_node, new_slab, put_cpu_partial,
// __put_partials and __slab_free's list moves, for the skb caches
// (models/slub/slab.hpp says what each does and what it costs).
#include <cstddef>

#include "models/slub/slub.hpp"

namespace tunsim {

namespace {

Slab& slab_at(Kernel& k, int id) { return k.slub.slabs[static_cast<size_t>(id)]; }

// new_slab -> allocate_slab: pages from the page allocator, the objects'
// freelist written (costs.slab_new_ns for a one-page slab, and
// costs.slab_new_page_ns each further page).  The first slab of each cache
// on each CPU is the one the CPU had before the run: free.
int new_slab(Ctx& ctx, SkbSlab s, bool charged) {
  SlubNode& n = ctx.k->slub;
  int id;
  if (!n.unused.empty()) {
    id = n.unused.back();
    n.unused.pop_back();
  } else {
    id = static_cast<int>(n.slabs.size());
    n.slabs.emplace_back();
  }
  Slab& sl = n.slabs[static_cast<size_t>(id)];
  sl = Slab{};
  sl.cache = s;
  sl.sfree = slab_objects(s);
  sl.last_cpu = ctx.cpu->id;
  if (charged) {
    const Costs& c = ctx.k->p.costs;
    ctx.spend_ns(c.slab_new_ns + (slab_pages(s) - 1) * c.slab_new_page_ns);
    ++n.new_slabs;
  }
  return id;
}

// discard_slab: its pages back to the page allocator.
void discard_slab(Ctx& ctx, int id) {
  Slab& sl = slab_at(*ctx.k, id);
  const Costs& c = ctx.k->p.costs;
  ctx.spend_ns(c.slab_discard_ns + (slab_pages(sl.cache) - 1) * c.slab_discard_page_ns);
  sl.where = Slab::Where::Discarded;
  ctx.k->slub.unused.push_back(id);
  ++ctx.k->slub.discarded;
}

// n->list_lock: the node's lists are shared by every CPU that uses the
// cache; a CPU whose slabs others free takes the lock's line.
void lock_node(Ctx& ctx, const SlubNode::Partial& node) {
  if (ctx.cpu->slub.shared) {
    ctx.sync();
    ctx.claim(node);
  }
}

void add_partial_tail(Kernel& k, SlubNode::Partial& node, int id) {
  Slab& sl = slab_at(k, id);
  sl.where = Slab::Where::NodePartial;
  sl.cpu = -1;
  sl.next = -1;
  sl.prev = node.tail;
  if (node.tail >= 0)
    slab_at(k, node.tail).next = id;
  else
    node.head = id;
  node.tail = id;
  ++node.nr_partial;
}

void remove_partial(Kernel& k, SlubNode::Partial& node, int id) {
  Slab& sl = slab_at(k, id);
  if (sl.prev >= 0)
    slab_at(k, sl.prev).next = sl.next;
  else
    node.head = sl.next;
  if (sl.next >= 0)
    slab_at(k, sl.next).prev = sl.prev;
  else
    node.tail = sl.prev;
  sl.next = sl.prev = -1;
  --node.nr_partial;
}

// __put_partials: a CPU's partial list, from its head, to the node; an
// empty slab is discarded once the node holds min_partial slabs.
void put_partials(Ctx& ctx, SkbSlab s, int head) {
  Kernel& k = *ctx.k;
  SlubNode::Partial& node = k.slub.node[static_cast<int>(s)];
  lock_node(ctx, node);
  const int min_partial = slab_min_partial(s);
  while (head >= 0) {
    const int id = head;
    head = slab_at(k, id).next;
    if (slab_at(k, id).inuse == 0 && node.nr_partial >= min_partial)
      discard_slab(ctx, id);
    else
      add_partial_tail(k, node, id);
  }
}

// put_cpu_partial: the slab goes on this CPU's partial list; with `drain`
// (a free) a list that already holds cpu_partial_slabs goes to the node
// first.
void put_cpu_partial(Ctx& ctx, SkbSlab s, int id, bool drain) {
  KmemCacheCpu& c = ctx.cpu->slub.cache[static_cast<int>(s)];
  if (c.partial >= 0 && drain && c.partial_slabs >= slab_cpu_partial_slabs(s)) {
    const int old = c.partial;
    c.partial = -1;
    c.partial_slabs = 0;
    put_partials(ctx, s, old);
  }
  Slab& sl = slab_at(*ctx.k, id);
  sl.where = Slab::Where::CpuPartial;
  sl.cpu = static_cast<int16_t>(ctx.cpu->id);
  sl.next = c.partial;
  c.partial = id;
  ++c.partial_slabs;
}

// The slab becomes this CPU's cpu slab and its freelist the per-CPU one
// (get_freelist, freeze_slab): every free object is in use from now on.
void load_slab(Ctx& ctx, KmemCacheCpu& c, int id) {
  Slab& sl = slab_at(*ctx.k, id);
  sl.where = Slab::Where::Cpu;
  sl.cpu = static_cast<int16_t>(ctx.cpu->id);
  sl.next = sl.prev = -1;
  c.slab = id;
  c.cpu_free = sl.sfree;
  const bool others = sl.free_cpu != -1 && sl.free_cpu != ctx.cpu->id && ctx.k->p.kernel.slab_remote_free;
  c.remote_objs = others ? sl.sfree : 0;
  sl.inuse += sl.sfree;
  sl.sfree = 0;
  sl.free_cpu = -1;
}

}  // namespace

int slab_alloc_slow(Ctx& ctx, SkbSlab s, bool& remote) {
  Kernel& k = *ctx.k;
  KmemCacheCpu& c = ctx.cpu->slub.cache[static_cast<int>(s)];
  const bool shared = ctx.cpu->slub.shared;
  if (c.slab < 0) {
    load_slab(ctx, c, new_slab(ctx, s, false));
  } else {
    // Other CPUs free into this CPU's slabs: read them at a synchronisation
    // point.  get_freelist: a cmpxchg on the cpu slab's line.
    if (shared) {
      ctx.sync();
      ctx.claim(slab_at(k, c.slab));
    }
    if (slab_at(k, c.slab).sfree > 0) {
      load_slab(ctx, c, c.slab);
    } else {
      // None: the slab is unfrozen, full and on no list (deactivate bypass).
      Slab& full = slab_at(k, c.slab);
      full.where = Slab::Where::Full;
      full.cpu = -1;
      c.slab = -1;
      SlubNode::Partial& node = k.slub.node[static_cast<int>(s)];
      if (c.partial >= 0) {
        // The CPU's partial list's head (slub_percpu_partial).
        const int id = c.partial;
        c.partial = slab_at(k, id).next;
        --c.partial_slabs;
        if (shared) ctx.claim(slab_at(k, id));
        load_slab(ctx, c, id);
      } else if (node.nr_partial > 0) {
        // get_partial_node: the first for the cpu slab, then more to the
        // CPU's partial list until more than cpu_partial_slabs / 2 moved.
        lock_node(ctx, node);
        const int first = node.head;
        remove_partial(k, node, first);
        if (shared) ctx.claim(slab_at(k, first));
        int moved = 0;
        while (node.head >= 0) {
          const int id = node.head;
          remove_partial(k, node, id);
          put_cpu_partial(ctx, s, id, false);
          if (++moved > slab_cpu_partial_slabs(s) / 2) break;
        }
        load_slab(ctx, c, first);
      } else {
        load_slab(ctx, c, new_slab(ctx, s, true));
      }
    }
  }
  return slab_pop(c, remote);
}

void slab_put_object(Ctx& ctx, SkbSlab s, int id) {
  Kernel& k = *ctx.k;
  Slab& sl = slab_at(k, id);
  const int me = ctx.cpu->id;
  const bool was_full = sl.sfree == 0 && sl.where == Slab::Where::Full;
  --sl.inuse;
  ++sl.sfree;
  sl.free_cpu = static_cast<int16_t>(sl.free_cpu == -1 || sl.free_cpu == me ? me : -2);
  if (was_full) {
    // The first free into a full slab: on this CPU's partial list.
    ctx.spend_ns(k.p.costs.slab_put_partial_ns);
    put_cpu_partial(ctx, s, id, true);
  } else if (sl.where == Slab::Where::NodePartial && sl.inuse == 0) {
    // Empty on the node's list: discarded once the node holds min_partial.
    SlubNode::Partial& node = k.slub.node[static_cast<int>(s)];
    lock_node(ctx, node);
    if (node.nr_partial >= slab_min_partial(s)) {
      remove_partial(k, node, id);
      discard_slab(ctx, id);
    }
  }
  // Frozen (another CPU's cpu slab, or this CPU's own when freed here by
  // the slow path) or on a CPU's partial list: it stays where it is.
}

}  // namespace tunsim
