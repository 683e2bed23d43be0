// The hand-written limit of bench/: the default scenario (configs/default.json:
// a guest sending bursts of 32 60-byte frames at 1 Mpps into vhost_net on
// CPU 1, tun_rx_batched with rx-frames 32, a bridge behind the tap) as a
// minimal discrete-event loop, without SimGrid, fibers, the cache model or
// tracepoints: a binary heap of events (a guest's descriptor arriving, the
// vhost worker's next step), and per step the same arithmetic the simulator
// does, in the same order, SLUB's slabs of the skb caches included.  Its results equal the simulator's with the cache
// model off (tests/integration/test_limit.cpp checks it), so the ratio of
// their instructions per packet is what the simulator's generality costs.
//
//     limit [DURATION_MS]      prints {"delivered", "delivered_in_window",
//                              "throughput_mpps", "latency_ns"} as JSON
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <vector>

#include "models/stats/dist.hpp"

namespace {

// configs/default.json and the declared defaults it relies on.
constexpr double kHz = 2.5e9;
constexpr double kWarmup = 2e-3;
constexpr int kBurst = 32, kRing = 256, kRxFrames = 32, kFrame = 60;
constexpr double kRate = 1e6;  // packets/s
constexpr double kGuestTxNs = 300, kWakeupNs = 4000, kNotifyNs = 50, kDescNs = 150;
constexpr double kTunNs = 255.8 + 136.4, kCopyNsPerByte = 0.1364, kLockNs = 6.05;
constexpr double kReceiveNs = 39.68, kBridgeNs = 148.9, kFreeNs = 252.4;
constexpr long long kWeightBytes = 0x80000;
constexpr int kVnetHdr = 12;  // sizeof(struct virtio_net_hdr_mrg_rxbuf)
constexpr double kSlabNewNs = 357, kSlabNewPageNs = 95, kSlabPutNs = 59.5, kSlabDiscardNs = 40.3,
                 kSlabDiscardPageNs = 16.6;

// SLUB on one CPU for one cache (models/slub/lists.cpp, 6.18): the cpu slab,
// the CPU's partial list (a stack), the node's (a FIFO), new and discarded
// slabs.  skbuff_head_cache: 16 objects a one-page slab, 7 partial slabs;
// the head of a 60-byte frame in 4.11 (the design's kernel, before
// skb_small_head_cache and tun_build_skb): kmalloc-512, 16 objects, two
// pages, 7; min_partial 5 for both.
struct Slub {
  struct Slab {
    int inuse = 0, sfree = 0;
    int where = 0;  // 0 cpu slab, 1 full, 2 CPU partial, 3 node partial
  };
  int objects, pages, cpu_partial_slabs;
  std::vector<Slab> slabs;
  std::vector<int> unused, partial;
  std::deque<int> node;
  int cpu = -1, cpu_free = 0;

  int make(double& cost, bool charged) {
    int id;
    if (!unused.empty()) {
      id = unused.back();
      unused.pop_back();
    } else {
      id = static_cast<int>(slabs.size());
      slabs.emplace_back();
    }
    slabs[static_cast<size_t>(id)] = Slab{0, objects, 0};
    if (charged) cost = kSlabNewNs + (pages - 1) * kSlabNewPageNs;
    return id;
  }
  void load(int id) {
    Slab& s = slabs[static_cast<size_t>(id)];
    s.where = 0;
    cpu = id;
    cpu_free = s.sfree;
    s.inuse += s.sfree;
    s.sfree = 0;
  }
  // An object: its slab, and the ns a new slab cost (0 if none).
  int alloc(double& cost) {
    cost = 0;
    if (cpu_free > 0) {
      --cpu_free;
      return cpu;
    }
    return alloc_slow(cost);
  }
  __attribute__((noinline)) int alloc_slow(double& cost) {
    if (cpu < 0) {
      load(make(cost, false));
    } else if (slabs[static_cast<size_t>(cpu)].sfree > 0) {
      load(cpu);
    } else {
      slabs[static_cast<size_t>(cpu)].where = 1;
      if (!partial.empty()) {
        int id = partial.back();
        partial.pop_back();
        load(id);
      } else if (!node.empty()) {
        int first = node.front();
        node.pop_front();
        int moved = 0;
        while (!node.empty()) {
          slabs[static_cast<size_t>(node.front())].where = 2;
          partial.push_back(node.front());
          node.pop_front();
          if (++moved > cpu_partial_slabs / 2) break;
        }
        load(first);
      } else {
        load(make(cost, true));
      }
    }
    --cpu_free;
    return cpu;
  }
  // Frees an object of slab id: calls spend for each cost, in order.
  template <class F>
  void free(int id, F spend) {
    if (id == cpu) {
      ++cpu_free;
      return;
    }
    Slab& s = slabs[static_cast<size_t>(id)];
    if (s.sfree > 0 && s.where != 3) {  // into a partial slab: counts only
      --s.inuse;
      ++s.sfree;
      return;
    }
    free_rare(id, spend);
  }
  // A free into a full slab (a put, maybe a drain) or one on the node's list.
  template <class F>
  __attribute__((noinline)) void free_rare(int id, F spend) {
    Slab& s = slabs[static_cast<size_t>(id)];
    bool was_full = s.sfree == 0 && s.where == 1;
    --s.inuse;
    ++s.sfree;
    if (was_full) {
      spend(kSlabPutNs);
      if (static_cast<int>(partial.size()) >= cpu_partial_slabs) {
        // __put_partials, from the list's head (the slab put last).
        for (auto it = partial.rbegin(); it != partial.rend(); ++it) {
          Slab& o = slabs[static_cast<size_t>(*it)];
          if (o.inuse == 0 && node.size() >= 5) {
            spend(kSlabDiscardNs + (pages - 1) * kSlabDiscardPageNs);
            unused.push_back(*it);
          } else {
            o.where = 3;
            node.push_back(*it);
          }
        }
        partial.clear();
      }
      s.where = 2;
      partial.push_back(id);
    } else if (s.where == 3 && s.inuse == 0 && node.size() >= 5) {
      node.erase(std::find(node.begin(), node.end(), id));
      spend(kSlabDiscardNs + (pages - 1) * kSlabDiscardPageNs);
      unused.push_back(id);
    }
  }
};

struct Event {
  double t;
  int kind;  // 0: a descriptor arrives (before a step at the same instant), 1: the worker steps
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && kind > o.kind); }
};

struct Packet {
  double origin;  // when the guest made the descriptor available
  int head_slab, data_slab;  // its sk_buff's and its head's slabs
};

struct Limit {
  double end;
  double now = 0;
  uint64_t arrivals = 0;  // descriptors generated so far
  std::deque<Packet> ring;
  std::vector<Packet> batch;  // tun's queue (rx_batched)
  bool notify = true, draining = false;
  int outstanding = 0;  // taken by vhost, its used entry not written yet: still a ring slot
  long long total_len = 0;
  uint64_t delivered = 0, delivered_window = 0;
  tunsim::Dist latency{tunsim::Dist::Kind::Log};
  Slub head{16, 1, 7, {}, {}, {}, {}}, kmalloc512{16, 2, 7, {}, {}, {}, {}};
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;

  // A cost on CPU 1: as Ctx::spend_ns, ns -> cycles at cpus.hz -> seconds.
  void spend(double ns) {
    double cycles = ns * kHz * 1e-9;
    if (cycles > 0) now += cycles / kHz;
  }
  double arrival(uint64_t k) const {
    double period = static_cast<double>(kBurst) / kRate;
    return static_cast<double>(k / kBurst) * period + static_cast<double>(k % kBurst) * kGuestTxNs * 1e-9;
  }
  // netif_receive_skb + bridge forward, then delivered, then the skb's free.
  void receive(const Packet& p) {
    spend(kReceiveNs);
    spend(kBridgeNs);
    ++delivered;
    if (now >= kWarmup && now <= end) ++delivered_window;
    if (p.origin >= kWarmup && now <= end) latency.add(std::round((now - p.origin) * 1e9));
    spend(kFreeNs);
    auto cost = [this](double ns) { spend(ns); };
    kmalloc512.free(p.data_slab, cost);  // skb_free_head, then kfree_skbmem
    head.free(p.head_slab, cost);
  }
  // tun_rx_batched(): deliver at once, queue, or flush the queue and this one.
  void deliver(const Packet& p, bool more) {
    if (!more && batch.empty()) {
      receive(p);
      return;
    }
    spend(kLockNs);
    if (!more || static_cast<int>(batch.size()) == kRxFrames) {
      for (auto& q : batch) receive(q);
      batch.clear();
      receive(p);
    } else {
      batch.push_back(p);
    }
  }
  // The vhost worker at `now`: start a handle_tx, or one more iteration of
  // its loop (models/vhost/vhost.cpp, in the same order).
  void step() {
    if (!draining) {
      arrive_until(now);
      spend(kNotifyNs);  // vhost_disable_notify
      notify = false;
      draining = true;
      total_len = 0;
    }
    if (now >= end) return;
    arrive_until(now);
    if (ring.empty()) {
      spend(kNotifyNs);  // vhost_enable_notify re-reads the ring
      arrive_until(now);
      if (!ring.empty()) {  // the race: disable again and go on
        spend(kNotifyNs);
        events.push({now, 1});
        return;
      }
      notify = true;
      draining = false;
      // Asleep until the guest's next descriptor and its kick wake it.
      double wake = arrival(arrivals) + kWakeupNs * 1e-9;
      if (wake < end) events.push({wake, 1});
      return;
    }
    Packet p = ring.front();
    ring.pop_front();
    outstanding = 1;
    spend(kDescNs);
    total_len += kFrame + kVnetHdr;  // len counts the virtio-net header (handle_tx, 4.11)
    arrive_until(now);
    bool more = total_len < kWeightBytes && !ring.empty();  // MSG_MORE
    spend(kTunNs + kCopyNsPerByte * kFrame);                // tun_get_user
    double cost;
    p.head_slab = head.alloc(cost);  // the sk_buff, then the head
    if (cost > 0) spend(cost);
    p.data_slab = kmalloc512.alloc(cost);
    if (cost > 0) spend(cost);
    deliver(p, more);
    outstanding = 0;  // vhost_add_used_and_signal
    // VHOST_NET_WEIGHT reached: handle_tx requeues itself and starts again.
    if (total_len >= kWeightBytes) draining = false;
    events.push({now, 1});
  }
  void arrive_until(double t) {
    while (!events.empty() && events.top().kind == 0 && events.top().t <= t) {
      events.pop();
      Packet p{arrival(arrivals++), -1, -1};
      if (static_cast<int>(ring.size()) + outstanding < kRing) ring.push_back(p);
      events.push({arrival(arrivals), 0});
    }
  }
  void run() {
    events.push({arrival(0), 0});
    events.push({arrival(0) + kWakeupNs * 1e-9, 1});
    while (!events.empty()) {
      Event e = events.top();
      if (e.kind == 0) {
        if (e.t > end) break;
        arrive_until(e.t);
        continue;
      }
      events.pop();
      now = std::max(now, e.t);
      arrive_until(now);
      step();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  Limit l;
  l.end = (argc > 1 ? std::atof(argv[1]) : 20.0) * 1e-3;
  l.run();
  double window = l.end - kWarmup;
  nlohmann::json j = {{"delivered", l.delivered},
                      {"delivered_in_window", l.delivered_window},
                      {"throughput_mpps", std::round(static_cast<double>(l.delivered_window) / window * 1e-6 * 1e6) / 1e6},
                      {"latency_ns", l.latency.to_json()}};
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}
