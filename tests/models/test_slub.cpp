// mm/slub.c of Linux 6.18 (models/slub/): where an skb's slab objects come
// from and what freeing them on another CPU costs, on hand-computed cases.
// Costs are the rigs' hand costs: cacheline_transfer_ns 150, a blocking
// write()'s tun_get_user_skb 150 + 80 + 60 x 0.08 = 234.8 ns.
#include <doctest/doctest.h>

#include "models/slub/slub.hpp"
#include "models/stack/stack.hpp"
#include "models/tun/tun.hpp"
#include "models/vhost/vhost.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using nlohmann::json;

namespace {

// Two writers on CPUs 0 and 1 sharing one IFF_NAPI queue of `version`:
// each CPU frees skbs the other built.  `on1` runs on CPU 1.
struct TwoCpus {
  Rig r;
  Ctx on1;
  explicit TwoCpus(const char* version = "6.18")
      : r("napi_gro", {{"cpus", {{"count", 2}}},
                       {"kernel", {{"version", version}}},
                       {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}, {{"type", "writer"}, {"cpu", 1}}})}}) {
    on1 = r.ctx;
    on1.cpu = &r.k->cpu(1);
    on1.thread = nullptr;
  }
  // ns that f() took on c, and the line transfers it counted.
  template <class F>
  std::pair<double, uint64_t> timed(Ctx& c, F f) {
    double t0 = c.now;
    uint64_t x0 = r.k->rec.line_transfers;
    f();
    return {(c.now - t0) * 1e9, r.k->rec.line_transfers - x0};
  }
  const KmemCacheCpu& cache(int cpu, SkbSlab s) { return r.k->cpu(cpu).slub.cache[static_cast<int>(s)]; }
  // Objects other CPUs freed to the cpu slab's own freelist (slab->freelist).
  int slab_free(int cpu, SkbSlab s) {
    int id = cache(cpu, s).slab;
    return id < 0 ? 0 : r.k->slub.slabs[static_cast<size_t>(id)].sfree;
  }
};

}  // namespace

TEST_CASE("slub: an skb's head cache follows kmalloc_reserve (6.18 __alloc_skb, skb_small_head_cache from 6.3 on)") {
  // 64 (NET_SKB_PAD) + 60 rounded up to 64 is 128, plus 320 of
  // skb_shared_info: 448 bytes, within skb_small_head_cache's 576; before
  // 6.3 kmalloc-512.  1500 bytes: 1600 + 320 = 1920, kmalloc-2k.  4000:
  // 4096 + 320, kmalloc-8k.  8000: beyond the kmalloc slabs.
  CHECK(skb_head_slab(60, true) == SkbSlab::SmallHead);
  CHECK(skb_head_slab(60, false) == SkbSlab::Kmalloc512);
  CHECK(skb_head_slab(192, true) == SkbSlab::SmallHead);   // 256 + 320 = 576
  CHECK(skb_head_slab(193, true) == SkbSlab::Kmalloc1k);   // 320 + 320 = 640
  CHECK(skb_head_slab(1500, true) == SkbSlab::Kmalloc2k);
  CHECK(skb_head_slab(4000, true) == SkbSlab::Kmalloc8k);
  CHECK(skb_head_slab(8000, true) == SkbSlab::None);
  // objperslab of /proc/slabinfo on the development machine (6.18.44).
  CHECK(slab_objects(SkbSlab::Head) == 16);
  CHECK(slab_objects(SkbSlab::SmallHead) == 14);
}

TEST_CASE("slub: skb->truesize is the head's allocation plus the sk_buff's 256 bytes and the pages (6.18 __finalize_skb_around, kmalloc_reserve, alloc_skb_with_frags)") {
  // Measured on this machine's 6.18.44 (scripts/capture-trace --mode napi
  // --frame-bytes B, napi_gro_receive_entry's truesize=, 200 frames each,
  // 2026-12-07): 60 -> 832, 200 -> 1280, 400 -> 1280, 1000 -> 2304, 1500 ->
  // 2304.  By hand: SKB_HEAD_ALIGN(64 + B) = roundup64(64 + B) + 320 is 448
  // (60: skb_small_head_cache, 576), 640 (200) and 832 (400: kmalloc-1k,
  // 1024), 1408 (1000) and 1920 (1500: kmalloc-2k, 2048); + 256.
  CHECK(skb_truesize_alloc(60, 60, skb_head_slab(60, true)) == 832);
  CHECK(skb_truesize_alloc(200, 200, skb_head_slab(200, true)) == 1280);
  CHECK(skb_truesize_alloc(400, 400, skb_head_slab(400, true)) == 1280);
  CHECK(skb_truesize_alloc(1000, 1000, skb_head_slab(1000, true)) == 2304);
  CHECK(skb_truesize_alloc(1500, 1500, skb_head_slab(1500, true)) == 2304);
  // Before 6.3 (no small-head cache): 448 bytes are a kmalloc-512 object
  // (ksize() in 4.9's __alloc_skb): 512 + 256.
  CHECK(skb_truesize_alloc(60, 60, skb_head_slab(60, false)) == 768);
  CHECK(skb_truesize_alloc(1500, 1500, skb_head_slab(1500, false)) == 2304);
  // A frame that does not fit a page with NET_SKB_PAD goes into pages
  // behind an empty head: 64 + 320 = 384 (576 or 512) + 256 +
  // PAGE_ALIGN(9000) = 12288.
  CHECK(skb_truesize_alloc(9000, 0, skb_head_slab(0, true)) == 576 + 256 + 12288);
  CHECK(skb_truesize_alloc(9000, 0, skb_head_slab(0, false)) == 512 + 256 + 12288);
  // Zerocopy: 128 bytes in the head (512: small head), the other 1372
  // mapped, one page.
  CHECK(skb_truesize_alloc(1500, 128, skb_head_slab(128, true)) == 576 + 256 + 4096);
  // build_skb on a page fragment: buflen + 256.  tun_build_skb, pad 64:
  // roundup64(124) + 320 = 448, 704.  vhost_net_build_xdp (vnet header 12,
  // pad 128): roundup64(60 + 12 + 128) = 256, + 320 = 576, 832.
  CHECK(tun_build_skb_buflen(60) == 448);
  CHECK(skb_truesize_frag(tun_build_skb_buflen(60)) == 704);
  CHECK(vhost_xdp_frame_sz(60 + 12, 12) == 576);
  CHECK(skb_truesize_frag(vhost_xdp_frame_sz(60 + 12, 12)) == 832);
}

TEST_CASE("slub: freeing another CPU's skb is __slab_free, freeing one's own costs nothing (6.18 do_slab_free)") {
  TwoCpus t;
  Rig& r = t.r;
  CHECK(r.k->cpu(0).slub.shared);
  CHECK(r.k->cpu(1).slub.shared);
  // CPU 0 builds: a new cpu slab of each cache, one object taken from each.
  Skb* a = nullptr;
  CHECK(t.timed(r.ctx, [&] { a = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); }).first == doctest::Approx(234.8));
  CHECK(a->slab_cpu == 0);
  CHECK(a->slab_head == SkbSlab::SmallHead);
  CHECK(t.cache(0, SkbSlab::Head).cpu_free == 15);
  CHECK(t.cache(0, SkbSlab::SmallHead).cpu_free == 13);
  // Freed on CPU 1: for the head and then the sk_buff, the object's free
  // pointer line comes from CPU 0 (150) and so does the slab's line, which
  // CPU 0 wrote when it took the slab (150): 2 x 300 ns, 4 transfers.  The
  // objects wait on CPU 0's slabs' freelists.
  t.on1.now = r.ctx.now;
  auto remote = t.timed(t.on1, [&] { slab_free_skb(t.on1, *a); });
  CHECK(remote.first == doctest::Approx(600));
  CHECK(remote.second == 4);
  CHECK(t.slab_free(0, SkbSlab::Head) == 1);
  CHECK(t.slab_free(0, SkbSlab::SmallHead) == 1);
  CHECK(a->slab_cpu == -1);
  // A second one: the slabs' lines are on CPU 1 now, the objects' lines are
  // not: 2 x 150 ns.
  Skb* b = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
  t.on1.now = r.ctx.now;
  remote = t.timed(t.on1, [&] { slab_free_skb(t.on1, *b); });
  CHECK(remote.first == doctest::Approx(300));
  CHECK(remote.second == 2);
  // CPU 0 frees its own skb: back on its per-CPU freelists, no cost.
  Skb* c = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
  CHECK(t.cache(0, SkbSlab::Head).cpu_free == 13);
  auto local = t.timed(r.ctx, [&] { slab_free_skb(r.ctx, *c); });
  CHECK(local.first == 0);
  CHECK(local.second == 0);
  CHECK(t.cache(0, SkbSlab::Head).cpu_free == 14);
  CHECK(t.cache(0, SkbSlab::SmallHead).cpu_free == 12);
}

TEST_CASE("slub: the builder takes back what another CPU freed when its freelist runs dry (6.18 ___slab_alloc)") {
  // CPU 0 builds 14 skbs: its small-head slab (14 objects) is all taken,
  // 2 of the 16 sk_buffs are left.  CPU 1 frees the 14.  The 15th build
  // takes an sk_buff from the per-CPU list (its own, no cost) and finds the
  // small-head list empty: get_freelist takes the 14 from the slab, whose
  // line CPU 1 touched last (150), and the object popped is one CPU 1 freed,
  // whose lines come back for __alloc_skb to write (150): 234.8 + 300 ns,
  // two transfers, 13 left, all CPU 1's.
  TwoCpus t;
  Rig& r = t.r;
  std::vector<Skb*> built;
  for (int i = 0; i < 14; ++i) built.push_back(tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now));
  CHECK(t.cache(0, SkbSlab::SmallHead).cpu_free == 0);
  CHECK(t.cache(0, SkbSlab::Head).cpu_free == 2);
  t.on1.now = r.ctx.now;
  // 14 x (2 object lines) + the two slab lines once: 30 transfers.
  auto freed = t.timed(t.on1, [&] {
    for (Skb* s : built) slab_free_skb(t.on1, *s);
  });
  CHECK(freed.second == 30);
  CHECK(freed.first == doctest::Approx(30 * 150));
  r.ctx.now = t.on1.now;
  Skb* a = nullptr;
  auto refill = t.timed(r.ctx, [&] { a = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); });
  CHECK(refill.first == doctest::Approx(234.8 + 150 + 150));
  CHECK(refill.second == 2);
  CHECK(t.cache(0, SkbSlab::SmallHead).cpu_free == 13);
  CHECK(t.cache(0, SkbSlab::SmallHead).remote_objs == 13);
  CHECK(t.slab_free(0, SkbSlab::SmallHead) == 0);
  CHECK(t.cache(0, SkbSlab::Head).cpu_free == 1);
  CHECK(t.cache(0, SkbSlab::Head).remote_objs == 0);
  CHECK(t.slab_free(0, SkbSlab::Head) == 14);
  // CPU 0 frees that skb itself: both objects go on top of its per-CPU
  // lists, so the next build pops its own two, no transfer: 234.8 ns.
  auto own = t.timed(r.ctx, [&] { slab_free_skb(r.ctx, *a); });
  CHECK(own.first == 0);
  auto mine = t.timed(r.ctx, [&] { tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); });
  CHECK(mine.first == doctest::Approx(234.8));
  CHECK(mine.second == 0);
  CHECK(t.cache(0, SkbSlab::SmallHead).remote_objs == 13);
  // The next: the last own sk_buff, a small head CPU 1 freed: 234.8 + 150.
  auto one = t.timed(r.ctx, [&] { tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); });
  CHECK(one.first == doctest::Approx(234.8 + 150));
  CHECK(one.second == 1);
  // Then the sk_buff list is dry: get_freelist takes the 14 CPU 1 freed
  // (the slab's line, 150) and both objects are CPU 1's: the first move
  // 150, the second overlapping it, a burst line (40): 234.8 + 340 ns,
  // three transfers.
  auto two = t.timed(r.ctx, [&] { tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now); });
  CHECK(two.first == doctest::Approx(234.8 + 150 + 150 + 40));
  CHECK(two.second == 3);
  CHECK(t.cache(0, SkbSlab::Head).remote_objs == 13);
  CHECK(t.cache(0, SkbSlab::SmallHead).remote_objs == 11);
}

TEST_CASE("slub: one CPU's skbs and build_skb's page-fragment heads (6.18 tun_build_skb, tun_xdp_one)") {
  // A single writer: nothing is freed elsewhere, the slabs are not shared.
  Rig one("napi_gro", {{"cpus", {{"count", 2}}}});
  CHECK(!one.k->cpu(0).slub.shared);
  // tun_xdp_one's skb: only the sk_buff is a slab object; freed on CPU 1 of
  // the two-writer machine it costs its free pointer line and the slab's
  // line: 300 ns, 2 transfers.
  TwoCpus t;
  Skb* x = tun_get_user_skb(t.r.ctx, 0, 60, 1, t.r.ctx.now, TunSend{true, nullptr, vhost_xdp_frame_sz(60 + 12, 12)});
  CHECK(x->slab_head == SkbSlab::None);
  t.on1.now = t.r.ctx.now;
  auto remote = t.timed(t.on1, [&] { slab_free_skb(t.on1, *x); });
  CHECK(remote.first == doctest::Approx(300));
  CHECK(remote.second == 2);
  // 4.15 has no skb_small_head_cache: a 60-byte frame's head is kmalloc-512's.
  TwoCpus old("4.15");
  CHECK(tun_build_skb(old.r.ctx, 0, 60, 1, 0)->slab_head == SkbSlab::Kmalloc512);
  CHECK(old.cache(0, SkbSlab::Kmalloc512).cpu_free == 15);
}

TEST_CASE("slub: a free after the receive on the same CPU stores its free pointers into lines the receive brought "
          "(6.18 calculate_sizes: the free pointer at half the object)") {
  // CPU 0 builds; CPU 1 receives (netif_receive_skb_core, dropped) and
  // frees.  The receive reads the lines CPU 0 wrote as one burst: the
  // sk_buff's and skb_shared_info's first (cache.skb_written_bytes 320)
  // and 60 bytes of frame, ceil(380 / 64) = 6 lines x 40 = 240 ns.  The
  // free pointers are at 224 / 2 = 112 (the sk_buff's second line) and at
  // 576 / 2 = 288 in skbuff_small_head, skb_shared_info's first line (576 -
  // 320 = 256): both came over in that burst, so __slab_free moves only
  // the two slabs' lines, which CPU 0 wrote when it took them (2 x 150).
  for (const char* version : {"6.18", "4.15"}) {
    TwoCpus t(version);
    Rig& r = t.r;
    Skb* a = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
    t.on1.now = r.ctx.now;
    uint64_t frees0 = r.k->rec.slab_remote_frees;
    auto got = t.timed(t.on1, [&] { netif_receive_skb_core(t.on1, a, "tap0"); });
    CHECK(r.k->rec.slab_remote_frees == frees0 + 1);
    // netif_receive_skb 100 + burst 240 + stack_drop 40, and the socket's
    // two lines (sock_wfree: skb_set_owner_w on CPU 0 wrote them), 300.
    const double receive = 100 + 240 + 40 + 300;
    if (std::string(version) == "6.18") {
      CHECK(got.first == doctest::Approx(receive + 300));
      CHECK(got.second == 6 + 2 + 2);
    } else {
      // 4.15: the head is kmalloc-512's, its free pointer at 256: a line of
      // skb_shared_info's frags (it starts at 512 - 320 = 192) that neither
      // the burst nor the frame (64..124) covers: one more move, 150.
      CHECK(got.first == doctest::Approx(receive + 300 + 150));
      CHECK(got.second == 6 + 2 + 3);
    }
  }
}

namespace {

// One cache's objects on one CPU, as tun_get_user's sk_buffs: `n` allocated
// and held, the ns that took; then freed in the order they were allocated
// (a queue), the ns that took.
struct Burst {
  double alloc_ns, free_ns;
};
Burst burst(Rig& r, SkbSlab s, int n) {
  std::vector<int> ids;
  double t0 = r.ctx.now;
  for (int i = 0; i < n; ++i) {
    bool remote = true;
    ids.push_back(slab_alloc_object(r.ctx, s, remote));
    CHECK(!remote);
  }
  double t1 = r.ctx.now;
  Skb skb;
  skb.slab_cpu = 0;
  for (int id : ids) slab_free_object(r.ctx, skb, s, id);
  return {(t1 - t0) * 1e9, (r.ctx.now - t1) * 1e9};
}

}  // namespace

TEST_CASE("slub: held skbs take new slabs, freed ones fill the partial lists and are discarded past them "
          "(6.18 ___slab_alloc, new_slab, put_cpu_partial, __put_partials, get_partial_node)") {
  // skbuff_head_cache: 16 objects a one-page slab, cpu_partial_slabs
  // ceil(52 x 2 / 16) = 7, min_partial 5 (/sys/kernel/slab on 6.18.44).
  CHECK(slab_cpu_partial_slabs(SkbSlab::Head) == 7);
  CHECK(slab_cpu_partial_slabs(SkbSlab::SmallHead) == 8);  // ceil(104 / 14)
  CHECK(slab_cpu_partial_slabs(SkbSlab::Kmalloc1k) == 3);  // 24 objects: ceil(48 / 16)
  CHECK(slab_cpu_partial_slabs(SkbSlab::Kmalloc4k) == 2);  // 6: ceil(12 / 8)
  CHECK(slab_min_partial(SkbSlab::Head) == 5);            // ilog2(256) / 2 = 4, at least 5
  CHECK(slab_min_partial(SkbSlab::Kmalloc8k) == 6);       // ilog2(8192) / 2
  CHECK(slab_pages(SkbSlab::SmallHead) == 2);
  // The rig's hand costs: a new slab 400 ns (+100 a further page), a put on
  // the partial list 50, a discard 40 (+20 a further page).
  Rig r("napi_gro");
  CHECK(!r.k->cpu(0).slub.shared);
  // 224 sk_buffs held: the CPU's first slab (the one it had before the run,
  // free) serves 0-15; each 16th allocation after it finds the cpu slab
  // full and nothing on a partial list: 13 new slabs, 13 x 400 ns.
  Burst b = burst(r, SkbSlab::Head, 224);
  CHECK(b.alloc_ns == doctest::Approx(13 * 400));
  CHECK(r.k->slub.new_slabs == 13);
  // Freed in order: the first free into each of the 13 full slabs puts it
  // on the CPU's partial list (50 ns); the 14th slab is the cpu slab, its
  // frees go back on the per-CPU freelist.  The 8th put finds 7 there (all
  // empty by then) and drains them to the node, walking from the head (the
  // last put): the first 5 stay on the node's list (min_partial), the 2
  // others are discarded (40 ns each); the 8th to 13th then make a list of
  // 6.  13 x 50 + 2 x 40 = 730 ns.
  CHECK(b.free_ns == doctest::Approx(13 * 50 + 2 * 40));
  CHECK(r.k->slub.discarded == 2);
  const KmemCacheCpu& c = r.k->cpu(0).slub.cache[static_cast<int>(SkbSlab::Head)];
  CHECK(c.partial_slabs == 6);
  CHECK(r.k->slub.node[static_cast<int>(SkbSlab::Head)].nr_partial == 5);
  CHECK(c.cpu_free == 16);
  // The same again: 16 from the per-CPU freelist, 6 x 16 from the partial
  // list, then get_partial_node takes the node's first for the cpu slab and
  // moves the 4 others to the partial list (more than 7 / 2 = 3 moved):
  // 5 x 16.  192 served; the last 32 take 2 new slabs: 800 ns.
  b = burst(r, SkbSlab::Head, 224);
  CHECK(b.alloc_ns == doctest::Approx(2 * 400));
  CHECK(r.k->slub.new_slabs == 15);
  // Discarded slabs' entries are reused: no more than the 14 a burst holds
  // (plus the one it frees into) were ever made.
  CHECK(r.k->slub.slabs.size() <= 15);
}

TEST_CASE("slub: an emptied slab on the node's list is discarded once the node holds min_partial "
          "(6.18 __slab_free, slab_empty)") {
  // kmalloc-4k: 8 objects a slab of 8 pages, cpu_partial_slabs 2,
  // min_partial 6.  80 held: the first slab free, then 9 new slabs,
  // 9 x (400 + 7 x 100) = 9900 ns.
  Rig r("napi_gro");
  const SkbSlab s = SkbSlab::Kmalloc4k;
  std::vector<int> ids;
  bool remote = false;
  double t0 = r.ctx.now;
  for (int i = 0; i < 80; ++i) ids.push_back(slab_alloc_object(r.ctx, s, remote));
  CHECK((r.ctx.now - t0) * 1e9 == doctest::Approx(9900));
  Skb skb;
  skb.slab_cpu = 0;
  auto free_of = [&](int slab, int from, int to) {
    double t = r.ctx.now;
    for (int i = from; i < to; ++i) slab_free_object(r.ctx, skb, s, ids[static_cast<size_t>(8 * slab + i)]);
    return (r.ctx.now - t) * 1e9;
  };
  // One object of each of slabs 0-8 (slab 9 is the cpu slab): each is a
  // put on the CPU's partial list (9 x 50 ns); the 3rd, 5th, 7th and 9th
  // find 2 there and drain them to the node, still in use, so kept: the
  // node holds slabs 1, 0, 3, 2, 5, 4, 7, 6; the partial list slab 8.
  double puts = 0;
  for (int j = 0; j < 9; ++j) puts += free_of(j, 0, 1);
  CHECK(puts == doctest::Approx(9 * 50));
  const auto& node = r.k->slub.node[static_cast<int>(s)];
  CHECK(node.nr_partial == 8);
  CHECK(r.k->slub.discarded == 0);
  // Emptying slab 0: the node holds 8 >= 6, so it is discarded, 40 + 7 x 20
  // = 180 ns; then slab 1 (7 >= 6) and slab 3 (6 >= 6) the same; slab 2
  // (5 < 6) stays, empty, on the node.
  CHECK(free_of(0, 1, 8) == doctest::Approx(180));
  CHECK(free_of(1, 1, 8) == doctest::Approx(180));
  CHECK(free_of(3, 1, 8) == doctest::Approx(180));
  CHECK(free_of(2, 1, 8) == 0);
  CHECK(node.nr_partial == 5);
  CHECK(r.k->slub.discarded == 3);
}

TEST_CASE("slub: CPUs that never free each other's skbs share slabs through the node's partial list "
          "(6.18 __put_partials, get_partial_node)") {
  // A multi-queue tap: a writer on CPU 0 (queue 0) and one on CPU 1 (queue
  // 1), each freeing only its own skbs.  Both CPUs' slabs are shared all
  // the same.
  Rig r("napi_gro", {{"cpus", {{"count", 2}}},
                     {"senders", json::array({{{"type", "writer"}, {"cpu", 0}, {"queue", 0}},
                                              {{"type", "writer"}, {"cpu", 1}, {"queue", 1}}})}});
  CHECK(r.k->cpu(0).slub.shared);
  CHECK(r.k->cpu(1).slub.shared);
  Ctx on1 = r.ctx;
  on1.cpu = &r.k->cpu(1);
  on1.thread = nullptr;
  // CPU 0 holds 208 sk_buffs (its first slab and 12 new ones) and frees
  // them in order: 7 puts fill its partial list, the 8th drains them to the
  // node, which keeps 5 (min_partial) and discards 2.
  const SkbSlab s = SkbSlab::Head;
  std::vector<int> ids;
  bool remote = false;
  for (int i = 0; i < 208; ++i) ids.push_back(slab_alloc_object(r.ctx, s, remote));
  Skb skb;
  skb.slab_cpu = 0;
  for (int id : ids) slab_free_object(r.ctx, skb, s, id);
  CHECK(r.k->slub.node[static_cast<int>(s)].nr_partial == 5);
  // CPU 1 uses up its first slab (16), then get_partial_node takes the
  // node's first slab for its cpu slab and moves the other 4 to its partial
  // list: the node's lock line and that slab's line were CPU 0's (150 ns
  // each), and the object popped is one CPU 0 freed.
  on1.now = r.ctx.now;
  for (int i = 0; i < 16; ++i) {
    slab_alloc_object(on1, s, remote);
    CHECK(!remote);
  }
  double t0 = on1.now;
  slab_alloc_object(on1, s, remote);
  CHECK((on1.now - t0) * 1e9 == doctest::Approx(300));
  CHECK(remote);
  CHECK(r.k->slub.node[static_cast<int>(s)].nr_partial == 0);
  CHECK(r.k->cpu(1).slub.cache[static_cast<int>(s)].partial_slabs == 4);
  CHECK(r.k->cpu(1).slub.cache[static_cast<int>(s)].remote_objs == 15);
}
