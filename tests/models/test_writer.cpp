// A user thread's write() on the tun fd (models/writer/): tun_chr_write_iter
// -> tun_get_user with more = false.
#include <doctest/doctest.h>

#include "models/writer/writer.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;

TEST_CASE("writer: one write() spends syscall, tun_get_user and the delivery, then user time before the next") {
  // rx_batched with rx_frames 0 (a plain tap, 4.11): netif_receive_skb at
  // once.  Default costs, cache off, 60-byte frames:
  //   syscall 120 + tun_get_user 150 + skb_alloc 80 + copy 0.08 * 60
  //   + netif_receive_skb 100 + drop 40 = 494.8 ns from sys_enter to sys_exit;
  // the next write starts writer_user_ns = 300 ns after that.
  Rig r("rx_batched", {{"stack", {{"type", "drop"}}}});
  Writer w{&r.k->p.senders[0]};
  writer_write(r.ctx, w);
  CHECK(r.ctx.now == doctest::Approx(494.8e-9));
  CHECK(r.k->rec.delivered == 1);
  writer_write(r.ctx, w);
  CHECK(r.ctx.now == doctest::Approx(2 * 494.8e-9 + 300e-9));
  // The trace metrics time write() from sys_enter to sys_exit on the events'
  // ns timestamps: 0 -> 495 (494.8 rounded) and 795 (794.8) -> 1290 (1289.6).
  CHECK(r.k->rec.metrics.write_ns().count() == 2);
  CHECK(r.k->rec.metrics.write_ns().sum() == 990);
  CHECK(w.written == 2);
}
