// The receive stack (models/stack/): __netif_receive_skb_core's protocol
// work, and a UDP socket's receive buffer (sk_rcvbuf, as sock_queue_rcv_skb
// checks it).
#include <doctest/doctest.h>

#include <utility>
#include <vector>

#include "models/stack/stack.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using nlohmann::json;

TEST_CASE("stack: a UDP socket drops once sk_rmem_alloc reaches sk_rcvbuf") {
  // 60-byte frames from tun_alloc_skb on rx_batched's 4.11: the head,
  // SKB_HEAD_ALIGN(64 + 60) = 448 bytes, is a kmalloc-512 object, so
  // truesize = 512 + 256 (the sk_buff) = 768 (skb_truesize_alloc).
  // rcvbuf 2000: the 1st, 2nd and 3rd fit (0, 768, 1536 < 2000 when they
  // arrive); the 4th finds 2304 >= 2000 and is dropped.  The receiver (on CPU
  // 1) never runs: its wake-up takes wakeup_ns = 1 s.
  Rig r("rx_batched", {{"cpus", {{"count", 2}}},
                       {"costs", {{"wakeup_ns", 1e9}}},
                       {"stack", {{"type", "udp"}, {"udp", {{"rcvbuf_bytes", 2000}, {"receiver_cpu", 1}}}}}});
  for (int i = 0; i < 4; ++i) r.send(false);
  CHECK(r.k->rec.udp_queued == 3);
  CHECK(r.k->rec.udp_rcvbuf_dropped == 1);
  CHECK(r.k->udp.rmem_alloc == 3 * 768);
  CHECK(r.k->rec.metrics.drops().at("SOCKET_RCVBUFF") == 1);
}

TEST_CASE("stack: the receiver drains the socket as a FIFO server, woken by the first arrival") {
  // Each packet takes 234.8 (tun_get_user) + 100 (netif_receive_skb) + 600
  // (udp_deliver) = 934.8 ns: arrivals at 934.8, 1869.6, 2804.4, 3739.2 ns.
  // The receiver wakes 2 us after the first (2934.8) and takes recv_ns 700
  // each: done at 3634.8 < 3739.2, so when the 4th arrives one has left.
  Rig r("rx_batched", {{"cpus", {{"count", 2}}},
                       {"stack", {{"type", "udp"}, {"udp", {{"rcvbuf_bytes", 2000}, {"receiver_cpu", 1}}}}}});
  for (int i = 0; i < 4; ++i) r.send(false);
  CHECK(r.k->udp.received == 1);
  CHECK(r.k->rec.udp_queued == 4);
  CHECK(r.k->udp.rmem_alloc == 3 * 768);
}

TEST_CASE("stack: an skb built on another CPU brings its written lines over in one burst (6.18)") {
  // __alloc_skb (Linux 6.18 net/core/skbuff.c) clears struct sk_buff up to
  // `tail` and skb_shared_info up to `dataref` on the CPU that builds the
  // skb: cache.skb_written_bytes = 320.  A 60-byte frame adds its 60 bytes:
  // ceil((320 + 60) / 64) = 6 lines, dirty in the builder's cache, read
  // together by another CPU's __netif_receive_skb_core: the core overlaps
  // their transfers, costs.cacheline_burst_ns a line (hand_costs: 40 ns; the
  // default is linexfer --lines 6 minus --lines 0, over 6).  The cache
  // model is off, so the same skb on its own CPU costs netif_receive_skb_ns
  // + stack_drop_ns only: the difference is 6 x 40 = 240 ns (not 6 x
  // cacheline_transfer_ns = 900), and 6 transfers are counted.
  Rig r("rx_batched", {{"cpus", {{"count", 2}}}});
  auto receive = [&](int built_on) {
    Skb* skb = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
    skb->mark_cpu = static_cast<int16_t>(built_on);
    double t0 = r.ctx.now;
    uint64_t x0 = r.k->rec.line_transfers;
    netif_receive_skb_core(r.ctx, skb, "tap0");
    return std::pair<double, uint64_t>((r.ctx.now - t0) * 1e9, r.k->rec.line_transfers - x0);
  };
  std::pair<double, uint64_t> local = receive(0), remote = receive(1);
  CHECK(local.first == doctest::Approx(100 + 40));
  CHECK(local.second == 0);
  CHECK(remote.first == doctest::Approx(100 + 40 + 6 * 40));
  CHECK(remote.second == 6);
}

TEST_CASE("stack: a poll's further skbs built on another CPU are steps of one walk (6.18 __napi_poll, "
          "__netif_receive_skb_core)") {
  // A NAPI poll (a threaded kthread, an RPS backlog) reads the skbs the
  // writer's CPU built one after another.  The poll's first pays the burst
  // of its 6 written lines, 6 x costs.cacheline_burst_ns (hand_costs: 40);
  // each further one of the same poll is a step of a walk whose loads
  // overlap, 6 x cache.skb_remote_walk_ns (here 5: skbwalk.c --writer-cpu
  // measures 2.7-9.5 ns a line on this host), whatever local skbs the poll
  // read in between; the next poll starts a new walk.  Each skb still moves
  // its 6 lines.  netif_receive_skb_ns + stack_drop_ns = 100 + 40, the cache
  // model off.  With cache.skb_remote_walk off (the default) every remote
  // skb pays the burst.
  auto polls = [](bool walk) {
    Rig r("rx_batched",
          {{"cpus", {{"count", 2}}}, {"cache", {{"skb_remote_walk", walk}, {"skb_remote_walk_ns", 5}}}});
    std::vector<std::pair<double, uint64_t>> out;
    for (int built_on : {1, 1, 0, 1, -2, 1, 1}) {
      if (built_on == -2) {
        r.ctx.cpu->cache.begin_poll();
        continue;
      }
      Skb* skb = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
      skb->mark_cpu = static_cast<int16_t>(built_on);
      double t0 = r.ctx.now;
      uint64_t x0 = r.k->rec.line_transfers;
      netif_receive_skb_core(r.ctx, skb, "tap0");
      out.emplace_back((r.ctx.now - t0) * 1e9, r.k->rec.line_transfers - x0);
    }
    return out;
  };
  const double first = 100 + 40 + 6 * 40, step = 100 + 40 + 6 * 5, local = 100 + 40;
  std::vector<std::pair<double, uint64_t>> walk = polls(true), burst = polls(false);
  std::vector<double> want = {first, step, local, step, first, step};
  std::vector<double> want_burst = {first, first, local, first, first, first};
  REQUIRE(walk.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(walk[i].first == doctest::Approx(want[i]));
    CHECK(burst[i].first == doctest::Approx(want_burst[i]));
    CHECK(walk[i].second == (want[i] == local ? 0u : 6u));
  }
}

TEST_CASE("stack: a linear skb built on another CPU reads no line its builder did not write (6.18 "
          "__finalize_skb_around, skb_release_data)") {
  // The lines an skb's receive reads are the ones its builder wrote: struct
  // sk_buff (224 bytes in a 256-byte, line-aligned slab object: 4 lines) and
  // skb_shared_info's first line (cleared up to dataref, at byte 32 by BTF;
  // frags start at byte 48).  skb_release_data walks frags[] only below
  // nr_frags, 0 for tun's linear skbs, so frags[1..16] (the other 4 of
  // skb_shared_info's 5 lines) are never touched: cache.skb_bytes =
  // cache.skb_written_bytes = 320, and a remote receive reads nothing from
  // the LLC beyond the burst.  Counting all of skb_shared_info (576, the
  // default until 2026-12-05) reads 576 - 320 = 256 bytes more: 4 lines
  // missing L1d and L2 (reread_cold), on the same sequence of paths.
  auto receive = [](json cache) {
    Rig r("rx_batched", {{"cpus", {{"count", 2}}}, {"cache", cache}});
    CHECK(r.k->p.cache.skb_written_bytes == 320);
    Skb* skb = tun_build_skb(r.ctx, 0, 60, 1, r.ctx.now);
    skb->mark_cpu = 1;
    netif_receive_skb_core(r.ctx, skb, "tap0");
    return std::pair<double, CacheMisses>(r.k->p.cache.skb_bytes,
                                          r.ctx.cpu->misses[static_cast<int>(Path::NetifReceiveSkb)]);
  };
  auto [bytes, now] = receive({{"enabled", true}});
  auto [old_bytes, old] = receive({{"enabled", true}, {"skb_bytes", 576}});
  CHECK(bytes == 320);
  CHECK(old_bytes == 576);
  CHECK(old.l1d - now.l1d == doctest::Approx(4));
  CHECK(old.l2 - now.l2 == doctest::Approx(4));
  CHECK(old.llc - now.llc == doctest::Approx(0));
}
