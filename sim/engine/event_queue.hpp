// The order in which the engine (engine.cpp) runs a sharing group's threads:
// the key of a thread's next event, and the sorted queue of those events.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tunsim::fiber_events {

// The order of events: time, then CPU, then thread creation order.  The CPU
// and the thread id are one number, `tie` (tie_of): CPU << 32 | id orders
// as the pair does, so two events compare in one or two steps.  The id, the
// low half, also names the event's thread.
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

// A thread's place in the queue (one per thread, kept by its fiber).
struct Node {
  Key key{};
  Node* next = nullptr;
  bool queued = false;
};

// The fibers' pending events (finite times only), sorted by key: the
// scheduler reads the earliest two at the front.  A scan of every pending
// event at each switch (about 9 with eight writers) was the engine's largest
// cost (docs/model.md, speed).  The usual update is the fiber that just ran
// (the front) moving to a later time: with eight writers a third of the time
// after every other event, the rest of the time a place or three back.  A
// list linked through the threads' nodes takes it off the front and walks
// to its new place, one load and one comparison a place; a sorted array
// (until 2026-12-06) moved every event it passed.  Keys are distinct (one
// thread each), so this order is the one `before` defines and decides
// nothing else.
class EventQueue {
 public:
  EventQueue() {
    // The back is a sentinel after every finite time, which ends each walk.
    tail_.key = Key{std::numeric_limits<double>::infinity(), std::numeric_limits<uint64_t>::max()};
    tail_.next = &tail_;
    head_.next = &tail_;
  }
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  bool empty() const { return head_.next == &tail_; }
  const Key& first() const { return head_.next->key; }
  Key second() const {
    const Node* s = head_.next->next;
    return s != &tail_ ? s->key : kNever;
  }
  // The thread of `n` has its next event at `k`, a finite time (inserted or
  // moved).
  void set(Node* n, const Key& k) {
    if (n->queued) {
      if (head_.next == n)
        head_.next = n->next;
      else
        unlink(n);
    }
    Node* p = &head_;
    Node* q = p->next;
    for (; q->key.t < k.t; q = q->next) p = q;
    for (; q->key.t == k.t && q->key.tie < k.tie; q = q->next) p = q;  // equal times: rare
    n->key = k;
    n->next = q;
    p->next = n;
    n->queued = true;
  }
  // The thread of `n` has no pending event.
  void remove(Node* n) {
    if (!n->queued) return;
    unlink(n);
    n->queued = false;
  }

 private:
  // Takes a queued node out of the list.
  void unlink(Node* n) {
    Node* p = &head_;
    while (p->next != n) p = p->next;
    p->next = n->next;
  }
  Node head_, tail_;
};

}  // namespace tunsim::fiber_events
