// The order in which the engine (engine.cpp) runs a sharing group's threads:
// the key of a thread's next event, and the sorted queue of those events.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tunsim::fiber_events {

// The order of events: time, then CPU, then thread creation order.  The CPU
// and the thread id are one number, `tie` (tie_of): CPU << 32 | id orders
// as the pair does, and an event is 16 bytes, which the queue moves with
// one load and one store (it moves several at each switch with eight
// writers).  The id, the low half, also names the event's thread.
struct Key {
  double t;
  uint64_t tie;
};
inline uint64_t tie_of(int cpu, int id) {
  return static_cast<uint64_t>(static_cast<uint32_t>(cpu)) << 32 | static_cast<uint32_t>(id);
}
inline size_t id_of(const Key& k) { return static_cast<uint32_t>(k.tie); }
inline bool before(const Key& a, const Key& b) { return a.t < b.t || (a.t == b.t && a.tie < b.tie); }
inline const Key kNever{std::numeric_limits<double>::infinity(), 0};

// The fibers' pending events, sorted by key: the scheduler reads the earliest
// two at the front.  A scan of every pending event at each switch (about 9
// with eight writers) was the engine's largest cost (docs/model.md, speed).
// The usual update is the fiber that just ran (the front) moving to a later
// time: with eight writers a third of the time after every other event, the
// rest of the time a place or three back.  Hence a window sliding along a
// buffer: the front moves to the back in O(1) (the window slides one place;
// when it reaches the buffer's end it is moved back to the start, once every
// few dozen switches), and otherwise its new place is searched from the
// front.  Keys are distinct (one thread each), so this order is the one
// `before` defines and decides nothing else.
class EventQueue {
 public:
  // Room for the events of the threads with ids 0 .. ids-1.
  void reserve(size_t ids) {
    queued_.resize(std::max(queued_.size(), ids), 0);
    size_t cap = std::max<size_t>(64, 4 * (ids + 1));
    if (cap <= cap_) return;
    std::vector<Key> b(cap);
    std::copy(buf_.begin() + static_cast<long>(head_), buf_.begin() + static_cast<long>(head_ + n_), b.begin());
    buf_.swap(b);
    cap_ = cap;
    head_ = 0;
  }
  bool empty() const { return n_ == 0; }
  const Key& first() const { return buf_[head_]; }
  Key second() const { return n_ > 1 ? buf_[head_ + 1] : kNever; }
  // The thread id_of(k) has its next event at `k` (inserted or moved).
  void set(const Key& k) {
    const size_t id = id_of(k);
    Key* e = buf_.data() + head_;  // the window: e[0 .. n_-1]
    if (n_ > 0 && id_of(e[0]) == id && !before(k, e[0])) {
      // The front moves later.  After every other event: the window slides
      // one place and it is the back.
      if (n_ == 1 || before(e[n_ - 1], k)) {
        e = room();
        e[n_] = k;
        ++head_;
        return;
      }
      // Before the back: the events now before it move one place forward
      // (the back stops both loops; equal times are rare).
      size_t i = 0;
      for (; e[i + 1].t < k.t; ++i) e[i] = e[i + 1];
      for (; e[i + 1].t == k.t && e[i + 1].tie < k.tie; ++i) e[i] = e[i + 1];
      e[i] = k;
      return;
    }
    if (queued_[id]) remove(id);
    e = room();
    size_t i = n_;
    for (; i > 0 && before(k, e[i - 1]); --i) e[i] = e[i - 1];
    e[i] = k;
    ++n_;
    queued_[id] = 1;
  }
  // The thread `id` has no pending event.
  void remove(size_t id) {
    if (!queued_[id]) return;
    queued_[id] = 0;
    Key* e = buf_.data() + head_;
    size_t i = 0;
    while (id_of(e[i]) != id) ++i;
    if (i == 0) {
      ++head_;
    } else {
      for (; i + 1 < n_; ++i) e[i] = e[i + 1];
    }
    --n_;
  }

 private:
  // The window, with a free place after its back (moved to the buffer's
  // start when it has none; reserve keeps the buffer over n_ + 1 events).
  Key* room() {
    if (head_ + n_ == cap_) {
      std::copy(buf_.begin() + static_cast<long>(head_), buf_.end(), buf_.begin());
      head_ = 0;
    }
    return buf_.data() + head_;
  }
  std::vector<Key> buf_;
  std::vector<unsigned char> queued_;  // thread id -> it has an entry
  // buf_.size(), kept: room() asks at every switch.
  size_t cap_ = 0;
  size_t head_ = 0, n_ = 0;
};

}  // namespace tunsim::fiber_events
