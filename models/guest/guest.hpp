// The guest's virtio-net TX queue as vhost sees it.
//
// The guest producer is a function of its arrival process and of the times
// vhost consumed earlier descriptors, so the virtqueue evaluates it lazily,
// in descriptor order, as vhost looks at the ring: no SimGrid synchronisation
// per descriptor is needed and nothing the guest does depends on a future it
// cannot know.
//  - open loop: arrivals at constant rate, Poisson, or pktgen-like bursts of
//    `burst` packets back to back (guest_tx_ns apart) every burst/rate; an
//    arrival that finds the ring full (ring_size outstanding) is dropped;
//  - closed loop: the guest keeps the ring full: descriptor k becomes
//    available at max(avail[k-1], used[k-ring_size]) + guest_tx_ns.
// A descriptor that becomes available while vhost has notifications enabled
// is announced by a kick (guest_kick_ns of guest time); vhost wakes
// vhost_wakeup_ns later.
#pragma once
#include <cstdint>
#include <deque>

#include "models/kernel/params.hpp"

namespace tunsim {

// splitmix64: tiny, deterministic on every platform.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0,1)
};

struct Desc {
  double avail = 0;  // when the guest made it available
  uint64_t seq = 0;
};

class Virtqueue {
 public:
  Virtqueue(const GuestParams& g, const Costs& c, uint64_t seed);

  // Make available every descriptor the guest adds up to time t.
  void materialize(double t);
  bool empty() const { return ring_.empty(); }
  size_t size() const { return ring_.size(); }
  const Desc& front() const { return ring_.front(); }
  // vhost consumed the head descriptor at time t (used ring update).
  Desc pop(double t);
  // When the next descriptor becomes available (infinity if it cannot before
  // vhost consumes more: closed loop with the ring full).
  double next_avail();
  // vhost_enable_notify / vhost_disable_notify.
  void set_notify(bool on) {
    notify_ = on;
    kicked_ = false;
  }
  bool notify() const { return notify_; }

  uint64_t offered = 0, dropped_full = 0, kicks = 0;
  double guest_busy_s = 0;  // guest vCPU time spent sending and kicking
  double window_lo = 0, window_hi = 1e300;

 private:
  double next_arrival();  // open loop: the next arrival time (not consumed)
  void account_guest(double t, double ns);
  void add(double t);
  GuestParams g_;
  Costs c_;
  Rng rng_;
  std::deque<Desc> ring_;
  std::deque<double> used_;  // closed loop: used times of the last ring_size descriptors
  uint64_t consumed_ = 0, produced_ = 0;
  double guest_free_ = 0;  // closed loop: the guest vCPU is free to send the next one
  double pending_arrival_ = -1;  // open loop: generated, not yet materialized
  double last_arrival_gen_ = 0;
  uint64_t arrivals_ = 0;
  bool notify_ = true, kicked_ = false;
};

}  // namespace tunsim
