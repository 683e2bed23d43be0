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
  q2.pop(5e-6);
  CHECK(q2.next_avail() == doctest::Approx(6e-6));
}
