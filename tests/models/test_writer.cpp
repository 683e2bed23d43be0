// A user thread's write() on the tun fd (models/writer/): tun_chr_write_iter
// -> tun_get_user with more = false.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

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

TEST_CASE("writer: one cost spread factor per write(), drawn at sys_enter, scales every path run in it") {
  // costs.spread.process is measured on whole write()s (sys_enter ..
  // sys_exit, docs/model.md), so writer_write draws one factor at sys_enter
  // (Ctx::begin_interval) and the write's four path runs (syscall 120,
  // tun_get_user 150 + 80 + 4.8, netif_receive_skb 100, drop 40: 494.8 ns,
  // the case above) all take it.  With the table {0.5, 2} every write lasts
  // 0.5 x 494.8 = 247.4 or 2 x 494.8 = 989.6 ns, each with probability 1/2:
  // 1000 +- 3 sigma (sigma = sqrt(2000 / 4) = 22.4) of 2000.  A draw per path
  // run would give sums such as 0.5 x 120 + 2 x 374.8 = 809.6.
  Rig r("rx_batched", {{"costs", {{"spread", {{"process", {0.5, 2}}, {"softirq", nlohmann::json::array()}}}}}});
  Writer w{&r.k->p.senders[0]};
  std::map<double, int> n;
  for (int i = 0; i < 2000; ++i) {
    double t0 = r.ctx.now + (w.written > 0 ? 300e-9 : 0);  // writer_user_ns: no spread
    writer_write(r.ctx, w);
    ++n[std::round((r.ctx.now - t0) * 1e13) / 1e4];  // ns, to 0.1 ps
  }
  REQUIRE(n.size() == 2);
  CHECK(n.begin()->first == doctest::Approx(247.4));
  CHECK(n.rbegin()->first == doctest::Approx(989.6));
  CHECK(std::abs(n.begin()->second - 1000) < 67);
}
