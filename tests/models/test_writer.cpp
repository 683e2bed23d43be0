// A user thread's write() on the tun fd (models/writer/): tun_chr_write_iter
// -> tun_get_user with more = false.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "models/writer/writer.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;
using testrig::Rig;
using nlohmann::json;

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

TEST_CASE("writer: threads on two CPUs writing one fd move its struct file's line (fdget, fput, Linux 6.18)") {
  // 6.18 fs/file.c: the writers are threads of one process, so
  // files->count > 1 and ksys_write's fdget_pos takes __fget_files ->
  // file_ref_get, and fdput_pos -> fput -> file_ref_put: two locked
  // read-modify-writes of the f_ref line per write(), in the file both
  // writers share.  rx_batched with rx_frames 0 (a plain tap), hand costs
  // (cacheline_transfer_ns 150), writers on CPUs 0 and 1, one queue.
  //  - CPU 0 writes first: no line was held anywhere, no transfer:
  //    120 + 150 + 80 + 0.08 x 60 + 100 + 40 = 494.8 ns.
  //  - CPU 1 writes next.  Lines CPU 0 touched last and CPU 1 now needs:
  //    the file at fdget, the queue's sk_write_queue (rx_batched's
  //    skb_queue_empty), and both socket lines at skb_set_owner_w (freed
  //    on CPU 0 by the first write's drop): 4 moves, 494.8 + 4 x 150 ns.
  //    Its fput, the free's socket lines and nothing else move: CPU 1 holds
  //    them by then.
  //  - CPU 1 again: everything is here, 494.8 ns, no transfer.
  Rig r("rx_batched", {{"cpus", {{"count", 2}}},
                       {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}, {{"type", "writer"}, {"cpu", 1}}})}});
  CHECK(r.q().file_line.shared);
  Writer w0{&r.k->p.senders[0]}, w1{&r.k->p.senders[1]};
  Ctx on1 = r.ctx;
  on1.cpu = &r.k->cpu(1);
  on1.thread = nullptr;
  writer_write(r.ctx, w0);
  CHECK(r.ctx.now == doctest::Approx(494.8e-9));
  CHECK(r.k->rec.line_transfers == 0);
  on1.now = r.ctx.now;
  writer_write(on1, w1);
  CHECK((on1.now - r.ctx.now) * 1e9 == doctest::Approx(494.8 + 4 * 150));
  CHECK(r.k->rec.line_transfers == 4);
  CHECK(r.q().file_line.last_cpu == 1);
  double t1 = on1.now;
  writer_write(on1, w1);
  CHECK((on1.now - t1) * 1e9 == doctest::Approx(300 + 494.8));  // writer_user_ns, then the write
  CHECK(r.k->rec.line_transfers == 4);
}

TEST_CASE("writer: tun_get_user touches the socket's lines before it allocates and copies (Linux 6.18 "
          "tun_alloc_skb)") {
  // 6.18 tun_get_user -> tun_alloc_skb reads tfile->socket.sk, and
  // sock_alloc_send_pskb reads sk_wmem_alloc, before alloc_skb_with_frags;
  // skb_set_owner_w charges the socket right after the allocation, and the
  // copy into the head comes last.  So another CPU's write() meets those
  // lines at the start of the skb's allocation, not after the copy: where
  // two writers overlap, that decides which of them moves the lines.
  // The rig of the test above (rx_batched, rx_frames 0, hand costs,
  // cacheline_transfer_ns 150), CPU 0 writes first; an Exec records when
  // CPU 1's write synchronises (every access to shared state does):
  //  - at its start, for fdget's f_ref line, which moves (150);
  //  - after the syscall's 120 and tun_get_user's own 150, 150 + 120 + 150
  //    = 420 ns in: sock_alloc_send_pskb's test of sk_wmem_alloc against
  //    sk_sndbuf (ordered, since 2026-12-07: other CPUs' frees change it),
  //    and at the same instant the socket's two lines; before 2026-12-04
  //    21:40 the model touched them after skb_alloc 80 and the copy 0.08 x
  //    60, at 504.8;
  //  - then the queue (skb_queue_empty) after the allocation, the copy and
  //    the two socket moves: 420 + 2 x 150 + 80 + 4.8 = 804.8 ns.
  struct SyncTimes : testrig::SwitchRecorder {
    std::vector<double> at;
    void sync(Ctx& ctx) override { at.push_back(ctx.now); }
  } rec;
  Rig r("rx_batched", {{"cpus", {{"count", 2}}},
                       {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}, {{"type", "writer"}, {"cpu", 1}}})}});
  Writer w0{&r.k->p.senders[0]}, w1{&r.k->p.senders[1]};
  writer_write(r.ctx, w0);
  Ctx on1 = r.ctx;
  on1.cpu = &r.k->cpu(1);
  on1.thread = nullptr;
  on1.exec = &rec;
  const double t0 = on1.now;
  writer_write(on1, w1);
  REQUIRE(rec.at.size() >= 4);
  CHECK((rec.at[0] - t0) * 1e9 == doctest::Approx(0));
  CHECK((rec.at[1] - t0) * 1e9 == doctest::Approx(420));
  CHECK((rec.at[2] - t0) * 1e9 == doctest::Approx(420));
  CHECK((rec.at[3] - t0) * 1e9 == doctest::Approx(804.8));
  // The write as a whole costs what it did: the order moves no cost.
  CHECK((on1.now - t0) * 1e9 == doctest::Approx(494.8 + 4 * 150));
}

TEST_CASE("writer: the fd's struct file is shared state only between writers on different CPUs") {
  // One writer, or two writers on one CPU: the f_ref line never leaves that
  // CPU.  A vhost worker's sendmsg goes through no fd per packet.
  Rig one("rx_batched", {{"cpus", {{"count", 2}}}});
  CHECK_FALSE(one.q().file_line.shared);
  Rig same("rx_batched",
           {{"cpus", {{"count", 2}}},
            {"senders", json::array({{{"type", "writer"}, {"cpu", 1}}, {{"type", "writer"}, {"cpu", 1}}})}});
  CHECK_FALSE(same.q().file_line.shared);
  Rig two_queues("rx_batched", {{"cpus", {{"count", 2}}},
                                {"senders", json::array({{{"type", "writer"}, {"cpu", 0}, {"queue", 0}},
                                                         {{"type", "writer"}, {"cpu", 1}, {"queue", 1}}})}});
  CHECK_FALSE(two_queues.k->queue(0).file_line.shared);
  CHECK_FALSE(two_queues.k->queue(1).file_line.shared);
}

TEST_CASE("writer: handle_softirqs' work around the NET_RX handler and kfree_skb's after its tracepoint "
          "(6.18 handle_softirqs, kfree_skb_reason)") {
  // The same single write() with costs.softirq_enter_ns 30,
  // softirq_leave_ns 50 and skb_free_ns 70 against 0 (the rig's): what each
  // adds, and where.  tools/calibrate's equations (fit.cpp) rely on it.
  auto one_write = [](const char* design, double enter, double leave, double free_ns) {
    Rig r(design, {{"costs", {{"softirq_enter_ns", enter}, {"softirq_leave_ns", leave}, {"skb_free_ns", free_ns}}}});
    Writer w{&r.k->p.senders[0]};
    writer_write(r.ctx, w);
    const auto& m = r.k->rec.metrics;
    return std::tuple{m.write_ns().sum(), m.softirq_net_rx_ns().count() ? m.softirq_net_rx_ns().sum() : -1.0,
                      r.ctx.now};
  };
  SUBCASE("IFF_NAPI: local_bh_enable runs the softirq inside the write") {
    auto [w0, s0, t0] = one_write("napi_gro", 0, 0, 0);
    auto [w1, s1, t1] = one_write("napi_gro", 30, 50, 70);
    // The write: + 30 + 50 + 70 = 150 ns; the softirq_entry..exit interval
    // holds only the free (its delivery and kfree_skb are in the handler).
    CHECK(w1 - w0 == doctest::Approx(150));
    REQUIRE(s0 >= 0);
    CHECK(s1 - s0 == doctest::Approx(70));
    CHECK((t1 - t0) * 1e9 == doctest::Approx(150));
  }
  SUBCASE("plain tap: netif_receive_skb in the write, the free after its kfree_skb, no softirq") {
    auto [w0, s0, t0] = one_write("rx_batched", 0, 0, 0);
    auto [w1, s1, t1] = one_write("rx_batched", 30, 50, 70);
    CHECK(s0 == -1);  // no NET_RX raised: handle_softirqs never runs
    CHECK(w1 - w0 == doctest::Approx(70));
    CHECK((t1 - t0) * 1e9 == doctest::Approx(70));
  }
}
