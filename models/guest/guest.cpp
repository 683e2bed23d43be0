#include "models/guest/guest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunsim {

Virtqueue::Virtqueue(const GuestParams& g, const Costs& c, uint64_t seed)
    : g_(g), c_(c), rng_(seed),
      capacity_(static_cast<size_t>(std::max(1, g_.ring_size / std::max(1, g_.descs_per_packet)))) {}

void DescFifo::grow() {
  std::vector<Desc> b(std::max<size_t>(16, 2 * buf_.size()));
  for (size_t i = 0; i < n_; ++i) b[i] = buf_[(head_ + i) & (buf_.size() - 1)];
  buf_.swap(b);
  head_ = 0;
}

double Virtqueue::next_arrival() {
  if (pending_arrival_ >= 0) return pending_arrival_;
  double rate = g_.rate_mpps * 1e6;  // packets/s
  uint64_t k = arrivals_;
  double t = 0;
  switch (g_.arrival) {
    case Arrival::Constant: t = static_cast<double>(k) / rate; break;
    case Arrival::Poisson: {
      double gap = -std::log(1.0 - rng_.uniform()) / rate;
      t = (k == 0 ? 0.0 : last_arrival_gen_) + (k == 0 ? 0.0 : gap);
      break;
    }
    case Arrival::Bursts: {
      uint64_t b = static_cast<uint64_t>(g_.burst);
      double period = static_cast<double>(b) / rate;
      if (k == 0) phase_ = (g_.burst_phase >= 0 ? g_.burst_phase : rng_.uniform()) * period;
      t = phase_ + static_cast<double>(k / b) * period + static_cast<double>(k % b) * c_.guest_tx_ns * 1e-9;
      break;
    }
  }
  last_arrival_gen_ = t;
  pending_arrival_ = t;
  return t;
}

void Virtqueue::account_guest(double t, double ns) {
  double lo = std::max(t, window_lo), hi = std::min(t + ns * 1e-9, window_hi);
  if (hi > lo) guest_busy_s += hi - lo;
}

void Virtqueue::add(double t) {
  ring_.push_back(Desc{t, produced_++});
  guest_free_ = t;
  account_guest(t - c_.guest_tx_ns * 1e-9, c_.guest_tx_ns);
  if (notify_ && !kicked_) {
    kicked_ = true;
    ++kicks;
    account_guest(t, c_.guest_kick_ns);
    guest_free_ += c_.guest_kick_ns * 1e-9;
  }
}

double Virtqueue::next_avail() {
  if (g_.mode == GuestMode::Open) {
    // The ring is empty when vhost asks, so the next arrival is admitted.
    return next_arrival();
  }
  uint64_t k = produced_;
  size_t n = capacity();
  double ready = guest_free_;
  if (k >= n) {
    // Needs the (k - n)-th used entry back from vhost.
    if (used_count_ + n <= k) return std::numeric_limits<double>::infinity();
    ready = std::max(ready, used_[used_.size() - (used_count_ - (k - n))]);
  }
  return ready + c_.guest_tx_ns * 1e-9;
}

void Virtqueue::materialize(double t) {
  if (g_.mode == GuestMode::Open) {
    for (;;) {
      double a = next_arrival();
      if (a > t) break;
      pending_arrival_ = -1;
      ++arrivals_;
      ++offered;
      if (in_window(a)) ++offered_window;
      if (ring_.size() + outstanding() >= capacity()) {
        ++dropped_full;
        if (in_window(a)) ++dropped_full_window;
        continue;
      }
      add(a);
    }
    return;
  }
  for (;;) {
    double a = next_avail();
    if (a > t) break;
    ++offered;
    if (in_window(a)) ++offered_window;
    add(a);
  }
}

Desc Virtqueue::pop() {
  Desc d = ring_.front();
  ring_.pop_front();
  ++consumed_;
  return d;
}

void Virtqueue::add_used(double t, size_t n) {
  used_count_ += n;
  if (g_.mode != GuestMode::Closed) return;
  for (size_t i = 0; i < n; ++i) used_.push_back(t);
  while (used_.size() > capacity()) used_.pop_front();
}

}  // namespace tunsim
