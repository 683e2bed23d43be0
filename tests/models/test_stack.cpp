// The receive stack (models/stack/): __netif_receive_skb_core's protocol
// work, and a UDP socket's receive buffer (sk_rcvbuf, as sock_queue_rcv_skb
// checks it).
#include <doctest/doctest.h>

#include "models/stack/stack.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using nlohmann::json;

TEST_CASE("stack: a UDP socket drops once sk_rmem_alloc reaches sk_rcvbuf") {
  // 60-byte frames: truesize = roundup64(60 + 64) + 576 = 128 + 576 = 704.
  // rcvbuf 2000: the 1st, 2nd and 3rd fit (0, 704, 1408 < 2000 when they
  // arrive); the 4th finds 2112 >= 2000 and is dropped.  The receiver (on CPU
  // 1) never runs: its wake-up takes wakeup_ns = 1 s.
  Rig r("rx_batched", {{"cpus", {{"count", 2}}},
                       {"costs", {{"wakeup_ns", 1e9}}},
                       {"stack", {{"type", "udp"}, {"udp", {{"rcvbuf_bytes", 2000}, {"receiver_cpu", 1}}}}}});
  for (int i = 0; i < 4; ++i) r.send(false);
  CHECK(r.k->rec.udp_queued == 3);
  CHECK(r.k->rec.udp_rcvbuf_dropped == 1);
  CHECK(r.k->udp.rmem_alloc == 3 * 704);
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
  CHECK(r.k->udp.rmem_alloc == 3 * 704);
}
