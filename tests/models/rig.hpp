// Small machines for the models' unit tests: one CPU (or a few), the cache
// model off, a sender thread holding CPU 0 and ksoftirqd/0 asleep.  Models
// are called directly: no engine, nothing blocks.
#pragma once
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/kernel.hpp"
#include "models/trace/event.hpp"
#include "models/tun/tun.hpp"
#include "models/vhost/vhost.hpp"
#include "sim/config/loader.hpp"

namespace testrig {

using namespace tunsim;
using nlohmann::json;

inline Params params_of(json s) { return build_config(s, "test", ".").params; }

// The costs the hand computations of the model tests use, stated here so
// that a test does not change when the built-in defaults (this machine's
// measurements, docs/calibration.md) are re-measured.  Round numbers keep the
// arithmetic in the tests' comments checkable by hand.
inline json hand_costs() {
  return {{"syscall_ns", 120},       {"tun_get_user_ns", 150},  {"skb_alloc_ns", 80},    {"copy_ns_per_byte", 0.08},
          {"lock_ns", 20},           {"napi_schedule_ns", 20},  {"napi_poll_ns", 30},    {"gro_ns", 80},
          {"softirq_ns", 150},       {"netif_receive_skb_ns", 100}, {"stack_drop_ns", 40}, {"bridge_forward_ns", 500},
          {"writer_user_ns", 300},   {"cacheline_transfer_ns", 150}, {"cacheline_burst_ns", 40},
          {"slab_new_ns", 400},      {"slab_new_page_ns", 100}, {"slab_put_partial_ns", 50},
          {"slab_discard_ns", 40},   {"slab_discard_page_ns", 20},
          // Paid around every softirq and every skb free: 0 here, so that a
          // hand computation adds them only where a test is about them.
          {"softirq_enter_ns", 0},   {"softirq_leave_ns", 0},   {"skb_free_ns", 0},
          {"spread", {{"process", json::array()}, {"softirq", json::array()}}}};
}

struct Rig {
  std::unique_ptr<Kernel> k;
  Thread* sender = nullptr;
  Ctx ctx;
  explicit Rig(const std::string& design, json extra = json::object()) {
    json s = {{"design", design},
              {"cpus", {{"count", 1}, {"hz", 1e9}, {"stall", {{"ns", json::array()}}}}},
              {"cache", {{"enabled", false}}},
              {"costs", hand_costs()},
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
// `extra` is merged into the scenario (e.g. the kernel version); its
// "sender" object, if any, into the one sender (e.g. a closed-loop guest).
struct VRig {
  std::unique_ptr<Kernel> k;
  std::unique_ptr<VhostTx> v;
  Thread* worker = nullptr;
  Ctx ctx;
  VRig(int burst, json vhost = json::object(), std::string design = "v1_napi", json extra = json::object()) {
    json s = {{"design", design},
              {"cpus", {{"count", 1}}},
              {"cache", {{"enabled", false}}},
              {"warmup_ms", 0},
              {"duration_ms", 100},
              {"costs", hand_costs()},
              {"senders", json::array({{{"type", "vhost"},
                                        {"cpu", 0},
                                        {"vhost", vhost},
                                        {"guest", {{"mode", "open"}, {"arrival", "bursts"}, {"burst", burst}, {"burst_phase", 0},
                                                   {"rate_mpps", burst * 1e-6}, {"ring_size", 256}}}}})},
              {"stack", {{"type", "drop"}}}};
    s["costs"]["guest_tx_ns"] = 0;
    if (extra.contains("sender")) {
      s["senders"][0].merge_patch(extra["sender"]);
      extra.erase("sender");
    }
    s.merge_patch(extra);
    k = std::make_unique<Kernel>(params_of(s));
    Thread* t = k->add_thread("vhost", 0, Thread::Kind::Sender);
    k->add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
    t->state = Thread::State::Running;
    k->cpu(0).current = t;
    worker = t;
    v = std::make_unique<VhostTx>(k->p.senders[0], k->p.costs, 1);
    v->k = k.get();
    v->worker = t;
    ctx.k = k.get();
    ctx.cpu = &k->cpu(0);
    ctx.thread = t;
  }
};

// An Exec for a thread body called directly: nothing to synchronise with;
// when the thread gives up its CPU, the thread granted it is recorded, runs
// for no time and hands the CPU straight back.
struct SwitchRecorder : Exec {
  struct Switch {
    double at;
    Thread* to;
    uint64_t delivered;  // packets delivered when it happened
  };
  std::vector<Switch> switches;
  Thread* granted = nullptr;
  void sync(Ctx&) override {}
  void checkpoint(Ctx&) override {}
  void grant(Thread* t, double) override { granted = t; }
  bool wait(Ctx& ctx, double) override {
    if (granted && granted != ctx.thread) {
      switches.push_back({ctx.now, granted, ctx.k->rec.delivered});
      granted->state = Thread::State::Runnable;
    }
    granted = nullptr;
    ctx.cpu->current = ctx.thread;
    ctx.thread->state = Thread::State::Running;
    return true;
  }
};

// Collects the tracepoint events a recorder emits.
struct EventLog : EventSink {
  struct Ev {
    EventType type;
    std::string comm;
    int cpu;
    int vec;
    int work;
  };
  std::vector<Ev> evs;
  void event(const TraceEvent& e) override {
    evs.push_back({e.type, std::string(e.comm), e.cpu, e.vec, e.work});
  }
  size_t count(EventType t) const {
    size_t n = 0;
    for (auto& e : evs) n += e.type == t;
    return n;
  }
};

}  // namespace testrig
