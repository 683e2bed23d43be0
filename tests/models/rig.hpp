// Small machines for the models' unit tests: one CPU (or a few), the cache
// model off, a sender thread holding CPU 0 and ksoftirqd/0 asleep.  Models
// are called directly: no engine, nothing blocks.
#pragma once
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "models/kernel/kernel.hpp"
#include "models/tun/tun.hpp"
#include "models/vhost/vhost.hpp"
#include "sim/config/loader.hpp"

namespace testrig {

using namespace tunsim;
using nlohmann::json;

inline Params params_of(json s) { return build_config(s, "test", ".").params; }

struct Rig {
  std::unique_ptr<Kernel> k;
  Thread* sender = nullptr;
  Ctx ctx;
  explicit Rig(const std::string& design, json extra = json::object()) {
    json s = {{"design", design},
              {"cpus", {{"count", 1}, {"hz", 1e9}}},
              {"cache", {{"enabled", false}}},
              {"senders", json::array({{{"type", "writer"}, {"cpu", 0}}})},
              {"stack", {{"type", "drop"}}},
              {"warmup_ms", 0},
              {"duration_ms", 1000}};
    s.merge_patch(extra);
    k = std::make_unique<Kernel>(params_of(s));
    sender = k->add_thread("writer", 0, Thread::Kind::Sender);
    k->add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);  // Sleeping
    sender->state = Thread::State::Running;
    k->cpu(0).current = sender;
    ctx.k = k.get();
    ctx.cpu = &k->cpu(0);
    ctx.thread = sender;
  }
  TunQueue& q() { return k->queue(0); }
  void send(bool more) { tun_deliver(ctx, q(), tun_build_skb(ctx, 0, 60, 1, ctx.now), more); }
  // napi_poll work on the tap as the trace metrics count it, {work: count}
  std::map<int64_t, uint64_t> polls() const { return k->rec.metrics.napi_poll_work().bins(); }
  // packets per NAPI poll (any NAPI, the backlog's too) or rx_batched flush
  std::map<int64_t, uint64_t> batches() const { return k->rec.batch.bins(); }
};

// One CPU, a design with a vhost worker whose guest puts `burst` descriptors
// in the ring at t = 0 (guest_tx_ns 0) and the next burst only after 1 s.
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
    k = std::make_unique<Kernel>(params_of(s));
    Thread* t = k->add_thread("vhost", 0, Thread::Kind::Sender);
    k->add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
    t->state = Thread::State::Running;
    k->cpu(0).current = t;
    v = std::make_unique<VhostTx>(k->p.senders[0], k->p.costs, 1);
    ctx.k = k.get();
    ctx.cpu = &k->cpu(0);
    ctx.thread = t;
  }
};

}  // namespace testrig
