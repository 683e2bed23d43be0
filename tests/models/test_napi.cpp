// NAPI scheduling (models/napi/): napi_schedule_prep / napi_complete_done of
// 4.9 (no MISSED bit) and 4.11+ (NAPI_STATE_MISSED).
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"
#include "models/napi/napi.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("v1_napi: completion re-checks the queue (4.9 has no MISSED bit)") {
  // A packet queued while the poll runs must not strand: simulate it by
  // queueing after the splice -- here by adding to sk_write_queue from the
  // poll's point of view: schedule, then add one more before the poll runs.
  Rig r("v1_napi");
  CHECK_FALSE(r.k->p.kernel.napi_missed_bit);  // v1 replays 4.9
  r.send(true);
  r.send(true);
  // Another CPU's schedule while SCHED is set is a no-op and sets nothing.
  r.q().napi.sched = true;
  CHECK_FALSE(napi_schedule(r.ctx, r.q().napi));
  CHECK_FALSE(r.q().napi.missed);
  CHECK(r.k->cpu(0).poll_list.empty());
}

TEST_CASE("napi_schedule on a scheduled NAPI is a no-op (4.9) or sets MISSED (4.11+)") {
  for (bool missed_bit : {false, true}) {
    Rig r("napi_gro", {{"kernel", {{"napi_missed_bit", missed_bit}}}});
    Napi& n = r.q().napi;
    CHECK(napi_schedule(r.ctx, n));
    CHECK(r.k->cpu(0).poll_list.size() == 1);
    CHECK_FALSE(napi_schedule(r.ctx, n));
    CHECK(r.k->cpu(0).poll_list.size() == 1);  // not added twice
    CHECK(n.missed == missed_bit);
    // Completion: with MISSED it stays scheduled and is put back on the list.
    r.k->cpu(0).poll_list.clear();
    bool done = napi_complete_done(r.ctx, n);
    CHECK(done == !missed_bit);
    CHECK(n.sched == missed_bit);
    CHECK(r.k->cpu(0).poll_list.size() == (missed_bit ? 1u : 0u));
  }
}
