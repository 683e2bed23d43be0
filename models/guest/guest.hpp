// The guest's virtio-net TX queue as vhost sees it.
//
// The guest producer is a function of its arrival process and of the times
// vhost consumed earlier descriptors, so the virtqueue evaluates it lazily,
// in descriptor order, as vhost looks at the ring: no SimGrid synchronisation
// per descriptor is needed and nothing the guest does depends on a future it
// cannot know.
//  - open loop: arrivals at constant rate, Poisson, or pktgen-like bursts of
//    `burst` packets back to back (guest_tx_ns apart) every burst/rate; an
//    arrival that finds the ring full is dropped;
//  - closed loop: the guest keeps the ring full: packet k becomes available
//    at max(avail[k-1], used[k-capacity]) + guest_tx_ns, where used[j] is
//    the time of the j-th used entry vhost returned.
// The ring's capacity in packets is ring_size / descs_per_packet; a packet
// occupies it from the guest's add until vhost returns its used entry: at
// once after the send (4.x copy), per batch of up to 64 (5.15+
// handle_tx_copy), or when the skb holding its frags is freed (zerocopy).
// A descriptor that becomes available while vhost has notifications enabled
// is announced by a kick (guest_kick_ns of guest time); vhost wakes
// vhost_wakeup_ns later.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

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

// The descriptors available and not yet taken, oldest first: a ring buffer
// (a power of two slots, doubled when full; the ring holds at most
// capacity() packets).  Its size is a member, not std::deque's walk over its
// nodes: the guest's every arrival asks it.
class DescFifo {
 public:
  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  const Desc& front() const { return buf_[head_]; }
  void push_back(const Desc& d) {
    if (n_ == buf_.size()) grow();
    buf_[(head_ + n_) & (buf_.size() - 1)] = d;
    ++n_;
  }
  void push_front(const Desc& d) {
    if (n_ == buf_.size()) grow();
    head_ = (head_ + buf_.size() - 1) & (buf_.size() - 1);
    buf_[head_] = d;
    ++n_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --n_;
  }

 private:
  void grow();
  std::vector<Desc> buf_;
  size_t head_ = 0, n_ = 0;
};

class Virtqueue {
 public:
  Virtqueue(const GuestParams& g, const Costs& c, uint64_t seed);

  // Make available every descriptor the guest adds up to time t.
  void materialize(double t);
  bool empty() const { return ring_.empty(); }
  size_t size() const { return ring_.size(); }
  const Desc& front() const { return ring_.front(); }
  // vhost takes the head packet (vhost_get_vq_desc); it stays outstanding
  // until add_used.
  Desc pop();
  // vhost_discard_vq_desc(): a taken packet goes back to the ring's head.
  void unpop(const Desc& d) {
    ring_.push_front(d);
    --consumed_;
  }
  // vhost returns n used entries at time t (vhost_add_used_and_signal_n).
  void add_used(double t, size_t n = 1);
  size_t outstanding() const { return static_cast<size_t>(consumed_ - used_count_); }
  size_t capacity() const { return capacity_; }  // packets the ring holds
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
  // The same counts for the arrivals in [window_lo, window_hi] (the summary's
  // statistics window).
  uint64_t offered_window = 0, dropped_full_window = 0;
  double guest_busy_s = 0;  // guest vCPU time spent sending and kicking
  double window_lo = 0, window_hi = 1e300;

 private:
  double next_arrival();  // open loop: the next arrival time (not consumed)
  bool in_window(double t) const { return t >= window_lo && t <= window_hi; }
  void account_guest(double t, double ns);
  void add(double t);
  GuestParams g_;
  Costs c_;
  Rng rng_;
  size_t capacity_;  // ring_size / descs_per_packet, at least 1
  DescFifo ring_;
  std::deque<double> used_;  // closed loop: times of the last capacity() used entries
  uint64_t consumed_ = 0, produced_ = 0, used_count_ = 0;
  double guest_free_ = 0;  // closed loop: the guest vCPU is free to send the next one
  double pending_arrival_ = -1;  // open loop: generated, not yet materialized
  double last_arrival_gen_ = 0;
  double phase_ = 0;  // bursts: the first burst's start
  uint64_t arrivals_ = 0;
  bool notify_ = true, kicked_ = false;
};

}  // namespace tunsim
