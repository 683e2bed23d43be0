// The guest's virtio-net TX queue as vhost sees it (models/guest/).
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"
#include <limits>

#include "models/guest/guest.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("virtqueue: an open-loop guest drops arrivals on a full ring, a closed loop refills as vhost consumes") {
  GuestParams g{};
  g.mode = GuestMode::Open;
  g.arrival = Arrival::Constant;
  g.rate_mpps = 1;  // one arrival per us
  g.ring_size = 4;
  Costs c{};
  Virtqueue vq(g, c, 1);
  vq.materialize(9.5e-6);  // arrivals at 0..9 us: 4 fit, 6 find the ring full
  CHECK(vq.offered == 10);
  CHECK(vq.size() == 4);
  CHECK(vq.dropped_full == 6);
  // Closed loop, ring 2, guest_tx 1 us: descriptors at 1, 2 us; the third
  // needs the first back: vhost uses it at 5 us -> available at 6 us.
  GuestParams cl{};
  cl.mode = GuestMode::Closed;
  cl.ring_size = 2;
  Costs c2{};
  c2.guest_tx_ns = 1000;
  Virtqueue q2(cl, c2, 1);
  q2.set_notify(false);
  q2.materialize(10e-6);
  CHECK(q2.size() == 2);
  CHECK(q2.front().avail == doctest::Approx(1e-6));
  CHECK(q2.next_avail() == std::numeric_limits<double>::infinity());
  q2.pop();
  // Taken, not yet used: still outstanding, the guest cannot reuse it.
  CHECK(q2.next_avail() == std::numeric_limits<double>::infinity());
  q2.add_used(5e-6);
  CHECK(q2.next_avail() == doctest::Approx(6e-6));
}

TEST_CASE("virtqueue: two descriptors per packet halve the packets the ring holds") {
  // ring_size 8, 2 descriptors per packet: 4 packets; an open-loop guest
  // whose 10 arrivals find vhost holding one packet (taken, not used) can
  // add 3 more.
  GuestParams g{};
  g.mode = GuestMode::Open;
  g.arrival = Arrival::Constant;
  g.rate_mpps = 1;
  g.ring_size = 8;
  g.descs_per_packet = 2;
  Costs c{};
  Virtqueue vq(g, c, 1);
  CHECK(vq.capacity() == 4);
  vq.materialize(0.5e-6);  // the arrival at 0
  vq.pop();
  vq.materialize(9.5e-6);  // arrivals at 1..9 us
  CHECK(vq.size() == 3);
  CHECK(vq.outstanding() == 1);
  CHECK(vq.dropped_full == 6);
}

TEST_CASE("virtqueue: bursts start at burst_phase of their period, or at a phase drawn from the seed") {
  // 4 packets per burst at 1 Mpps: period 4 us.  Phase 0.25: the first burst
  // at 1 us, the second at 5 us.  Phase -1: each seed draws its own phase in
  // [0, 4 us); two seeds give two phases (a draw of a double: equal with
  // probability ~0).
  GuestParams g{};
  g.mode = GuestMode::Open;
  g.arrival = Arrival::Bursts;
  g.rate_mpps = 1;
  g.burst = 4;
  g.ring_size = 256;
  g.burst_phase = 0.25;
  Costs c{};
  Virtqueue vq(g, c, 1);
  CHECK(vq.next_avail() == doctest::Approx(1e-6));
  vq.materialize(4.5e-6);
  CHECK(vq.size() == 4);
  CHECK(vq.next_avail() == doctest::Approx(5e-6));
  g.burst_phase = -1;
  Virtqueue a(g, c, 1), b(g, c, 2), a2(g, c, 1);
  double ta = a.next_avail(), tb = b.next_avail();
  CHECK(ta >= 0);
  CHECK(ta < 4e-6);
  CHECK(tb >= 0);
  CHECK(tb < 4e-6);
  CHECK(ta != tb);
  CHECK(a2.next_avail() == ta);
}
