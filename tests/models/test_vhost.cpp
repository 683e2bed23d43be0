// vhost_net handle_tx as in 4.11 (models/vhost/), on hand-computed cases.
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("handle_tx: MSG_MORE while descriptors remain, cleared on the last, then notifications back on") {
  // 10 descriptors available: sendmsg 1..9 carry MSG_MORE (the ring is not
  // empty after each), the 10th does not, so v1_napi schedules once and
  // polls all 10.  The ring is then empty: notifications are re-enabled and
  // the worker sleeps until the next burst's kick (1 s) + vhost_wakeup_ns.
  VRig r(10);
  CHECK(handle_tx(r.ctx, *r.v) == TxResult::RingEmpty);
  CHECK(r.k->rec.delivered == 10);
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{10, 1}});
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
  CHECK(r.k->rec.metrics.napi_poll_work().bins() == std::map<int64_t, uint64_t>{{1, 5}});
}
