// The order in which the engine (engine.cpp) runs a sharing group's threads:
// the key of a thread's next event, and the sorted queue of those events.
#pragma once
#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

namespace tunsim::fiber_events {

// The order of events: time, then CPU, then thread creation order.
struct Key {
  double t;
  int cpu;
  int id;
};
inline bool before(const Key& a, const Key& b) {
  if (a.t != b.t) return a.t < b.t;
  if (a.cpu != b.cpu) return a.cpu < b.cpu;
  return a.id < b.id;
}
inline const Key kNever{std::numeric_limits<double>::infinity(), 0, 0};

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
  struct Event {
    Key key;
    size_t slot;  // the fiber's index in Group::fibers
  };
  // Room for the events of `slots` fibers (slots 0 .. slots-1).
  void reserve(size_t slots) {
    queued_.resize(slots, 0);
    size_t cap = std::max<size_t>(64, 4 * (slots + 1));
    if (cap <= buf_.size()) return;
    std::vector<Event> b(cap);
    std::copy(buf_.begin() + static_cast<long>(head_), buf_.begin() + static_cast<long>(head_ + n_), b.begin());
    buf_.swap(b);
    head_ = 0;
  }
  bool empty() const { return n_ == 0; }
  const Event& first() const { return buf_[head_]; }
  Key second() const { return n_ > 1 ? buf_[head_ + 1].key : kNever; }
  // The fiber in `slot` has its next event at `k` (inserted or moved).
  void set(size_t slot, const Key& k) {
    Event* e = buf_.data() + head_;  // the window: e[0 .. n_-1]
    if (n_ > 0 && e[0].slot == slot && !before(k, e[0].key)) {
      // The front moves later.  After every other event: the window slides
      // one place and it is the back.
      if (n_ == 1 || before(e[n_ - 1].key, k)) {
        e = room();
        e[n_] = Event{k, slot};
        ++head_;
        return;
      }
      // Before the back: the events now before it move one place forward.
      size_t i = 0;
      for (; before(e[i + 1].key, k); ++i) e[i] = e[i + 1];
      e[i] = Event{k, slot};
      return;
    }
    if (queued_[slot]) remove(slot);
    e = room();
    size_t i = n_;
    for (; i > 0 && before(k, e[i - 1].key); --i) e[i] = e[i - 1];
    e[i] = Event{k, slot};
    ++n_;
    queued_[slot] = 1;
  }
  // The fiber in `slot` has no pending event.
  void remove(size_t slot) {
    if (!queued_[slot]) return;
    queued_[slot] = 0;
    Event* e = buf_.data() + head_;
    size_t i = 0;
    while (e[i].slot != slot) ++i;
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
  Event* room() {
    if (head_ + n_ == buf_.size()) {
      std::copy(buf_.begin() + static_cast<long>(head_), buf_.end(), buf_.begin());
      head_ = 0;
    }
    return buf_.data() + head_;
  }
  std::vector<Event> buf_;
  std::vector<unsigned char> queued_;  // slot -> it has an entry
  size_t head_ = 0, n_ = 0;
};

}  // namespace tunsim::fiber_events
