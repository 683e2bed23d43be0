// The backlog and RPS (models/backlog/): enqueue_to_backlog and
// process_backlog of 4.9, get_rps_cpu, the RPS IPI.
#include <doctest/doctest.h>

#include "tests/models/rig.hpp"
#include "models/backlog/backlog.hpp"
#include "models/softirq/softirq.hpp"

using namespace tunsim;
using testrig::Rig;
using testrig::VRig;
using nlohmann::json;

TEST_CASE("netif_rx_ni: the backlog drops past netdev_max_backlog while ksoftirqd runs") {
  // With ksoftirqd runnable, 4.9's do_softirq() leaves NET_RX to it, so the
  // backlog only grows.  enqueue_to_backlog accepts while qlen <= 10: 11
  // packets (qlen 0..10) go in, the other 4 are dropped (CPU_BACKLOG).
  Rig r("netif_rx_ni", {{"kernel", {{"netdev_max_backlog", 10}}}});
  r.k->cpu(0).ksoftirqd->state = Thread::State::Runnable;
  for (int i = 0; i < 15; ++i) r.send(false);
  CHECK(r.k->rec.delivered == 0);
  CHECK(r.k->cpu(0).input_pkt_queue.size() == 11);
  CHECK(r.k->rec.dropped.at("CPU_BACKLOG") == 4);
  CHECK(r.k->cpu(0).dropped == 4);
  CHECK(r.k->cpu(0).net_rx_actions == 0);
}

TEST_CASE("RPS: netif_rx_ni steers to the target CPU's backlog and queues an IPI") {
  Rig r("netif_rx_ni", {{"cpus", {{"count", 2}}}, {"rps", {{"cpus", {1}}}}});
  r.send(false);
  Cpu& remote = r.k->cpu(1);
  CHECK(remote.input_pkt_queue.size() == 1);
  CHECK(remote.backlog.sched);
  CHECK(remote.ipi_pending);  // sent at the end of CPU 0's net_rx_action
  CHECK(r.k->rec.delivered == 0);
  // The IPI handler on CPU 1 schedules its backlog; its softirq delivers.
  Ctx c1;
  c1.k = r.k.get();
  c1.cpu = &remote;
  c1.now = remote.ipi_at;
  rps_ipi_handler(c1);
  do_softirq(c1);
  CHECK(r.k->rec.delivered == 1);
}

TEST_CASE("process_backlog's quota: dev_weight on 4.9, dev_weight x dev_weight_rx_bias from 4.11") {
  // net/core/dev.c process_backlog: 4.9.0 napi->weight = weight_p; 4.11.0
  // dev_rx_weight = weight_p * dev_weight_rx_bias.  dev_weight 64, bias 2,
  // 200 packets in the backlog (ksoftirqd runnable while they queue, so
  // do_softirq leaves them): 4.9 polls 64, 64, 64, 8 (the sysctl does not
  // exist there); 4.11 polls 128, 72.
  for (std::string v : {"4.9", "4.11"}) {
    CAPTURE(v);
    json kern = {{"version", v}, {"dev_weight", 64}};
    if (v != "4.9") kern["dev_weight_rx_bias"] = 2;
    Rig r("netif_rx_ni", {{"kernel", kern}});
    r.k->cpu(0).ksoftirqd->state = Thread::State::Runnable;
    for (int i = 0; i < 200; ++i) r.send(false);
    CHECK(r.k->cpu(0).input_pkt_queue.size() == 200);
    r.k->cpu(0).ksoftirqd->state = Thread::State::Sleeping;
    do_softirq(r.ctx);
    CHECK(r.k->rec.delivered == 200);
    if (v == "4.9")
      CHECK(r.batches() == std::map<int64_t, uint64_t>{{8, 1}, {64, 3}});
    else
      CHECK(r.batches() == std::map<int64_t, uint64_t>{{72, 1}, {128, 1}});
  }
}

TEST_CASE("RPS: the IPI leaves when its sender starts paying for it (6.18 net_rps_send_ipis, ipi_latency_ns from the send)") {
  // net_rps_send_ipis sends CPU 1 its IPI (smp_call_function_single_async):
  // the sender pays costs.ipi_ns (300 here), and CPU 1 acts on the IPI
  // costs.ipi_latency_ns (1000) after the send began, as wakeup.c times its
  // latency from before the waker's call: at 1000 ns, not 1300.
  Rig r("netif_rx_ni", {{"cpus", {{"count", 2}}},
                        {"rps", {{"cpus", {1}}}},
                        {"costs", {{"ipi_ns", 300}, {"ipi_latency_ns", 1000}}}});
  r.ctx.now = 1e-3;
  r.ctx.cpu->rps_ipi_list.push_back(1);
  net_rps_send_ipis(r.ctx);
  CHECK(r.ctx.now == doctest::Approx(1e-3 + 300e-9));
  CHECK(r.k->cpu(1).ipi_pending);
  CHECK(r.k->cpu(1).ipi_at == doctest::Approx(1e-3 + 1000e-9));
  // A latency shorter than the sender's cost: CPU 1 cannot act before the
  // sender's clock (the engine's order), so at the end of the send.
  Rig s("netif_rx_ni", {{"cpus", {{"count", 2}}},
                        {"rps", {{"cpus", {1}}}},
                        {"costs", {{"ipi_ns", 300}, {"ipi_latency_ns", 100}}}});
  s.ctx.cpu->rps_ipi_list.push_back(1);
  net_rps_send_ipis(s.ctx);
  CHECK(s.k->cpu(1).ipi_at == doctest::Approx(300e-9));
}
