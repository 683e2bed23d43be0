// vhost_net handle_tx (4.11) and the guest's virtqueue, on hand-computed cases.
#include <doctest/doctest.h>

#include "models/kernel/kernel.hpp"
#include "models/vhost/vhost.hpp"
#include "sim/config.hpp"

using namespace tunsim;
using nlohmann::json;

namespace {
// One CPU, v1_napi, a vhost worker whose guest puts `burst` descriptors in
// the ring at t = 0 (guest_tx_ns 0) and the next burst only after 1 s.
struct VRig {
  std::unique_ptr<Kernel> k;
  std::unique_ptr<VhostTx> v;
  Ctx ctx;
  VRig(int burst, json vhost = json::object(), std::string design = "v1_napi") {
    json s = {{"design", design},
              {"cpus", {{"count", 1}}},
              {"cache", {{"enabled", false}}},
              {"warmup_ms", 0},
              {"duration_ms", 100},
              {"costs", {{"guest_tx_ns", 0}}},
              {"senders", json::array({{{"type", "vhost"},
                                        {"cpu", 0},
                                        {"vhost", vhost},
                                        {"guest", {{"mode", "open"}, {"arrival", "bursts"}, {"burst", burst},
                                                   {"rate_mpps", burst * 1e-6}, {"ring_size", 256}}}}})},
              {"stack", {{"type", "drop"}}}};
    LoadedConfig cfg = build_config(s, "test", ".");
    k = std::make_unique<Kernel>(cfg.params);
    Thread* t = k->add_thread("vhost", 0, false);
    k->add_thread("ksoftirqd/0", 0, true);
    t->state = Thread::State::Running;
    k->cpu(0).current = t;
    v = std::make_unique<VhostTx>(k->p.senders[0], k->p.costs, 1);
    ctx.k = k.get();
    ctx.cpu = &k->cpu(0);
    ctx.thread = t;
  }
};
}  // namespace

TEST_CASE("handle_tx: MSG_MORE while descriptors remain, cleared on the last, then notifications back on") {
  // 10 descriptors available: sendmsg 1..9 carry MSG_MORE (the ring is not
  // empty after each), the 10th does not, so v1_napi schedules once and
  // polls all 10.  The ring is then empty: notifications are re-enabled and
  // the worker sleeps until the next burst's kick (1 s) + vhost_wakeup_ns.
  VRig r(10);
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.delivered == 10);
  CHECK(r.k->rec.napi_poll_work.bins() == std::map<int64_t, uint64_t>{{10, 1}});
  CHECK(r.v->vq.notify());
  CHECK(r.v->vq.offered == 10);
  CHECK(vhost_wake_time(r.ctx, *r.v) == doctest::Approx(1.0 + r.k->p.costs.vhost_wakeup_ns * 1e-9));
}

TEST_CASE("handle_tx: VHOST_NET_WEIGHT in bytes requeues, the last packet without MSG_MORE") {
  // weight 240 bytes = 4 frames of 60: after the 4th, total_len (240) is not
  // below the weight, so it goes without MSG_MORE (a poll of 4) and handle_tx
  // requeues itself with notifications still off.
  VRig r(10, {{"weight_bytes", 240}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 4);
  CHECK(r.k->rec.vhost_requeues == 1);
  CHECK_FALSE(r.v->vq.notify());
  CHECK(r.v->vq.size() == 6);
}

TEST_CASE("handle_tx: the packet weight requeues with MSG_MORE still set") {
  // pkt_weight 3: three sendmsg with MSG_MORE (bytes far below the weight,
  // ring not empty), then requeue: v1_napi has queued them, not scheduled.
  VRig r(10, {{"pkt_weight", 3}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::Requeued);
  CHECK(r.k->rec.delivered == 0);
  CHECK(r.k->queue(0).write_queue.size() == 3);
}

TEST_CASE("handle_tx: msg_more false (4.10) gives one poll per packet") {
  VRig r(5, {{"msg_more", false}});
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.napi_poll_work.bins() == std::map<int64_t, uint64_t>{{1, 5}});
}

TEST_CASE("virtqueue: an open-loop guest drops arrivals on a full ring, a closed loop refills as vhost consumes") {
  GuestParams g;
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
  GuestParams cl;
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
