// The socket buffer and its containers: struct sk_buff as the models need
// it, the pool skbs come from, and sk_buff_head (models/kernel/kernel.hpp
// holds the rest of the kernel's state; the recorder reads skbs too).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/cache/cache.hpp"
#include "models/slub/slab.hpp"

namespace tunsim {

// struct ubuf_info: whoever lent an skb its frags (vhost zerocopy) is told
// when the skb's data is released (skb_release_data -> uarg->callback).
struct Ubuf {
  void (*callback)(Ubuf* u) = nullptr;
};
struct TunQueue;

struct Skb {
  Skb* next = nullptr;  // sk_buff_head linkage
  Ubuf* ubuf = nullptr;  // zerocopy frags: called back when the skb is freed
  uint64_t addr = 0;    // printed as skbaddr: reused when the skb is freed, as slab memory is
  double t_origin = 0;  // guest enqueue into the TX ring, or write() entry
  uint32_t len = 0;
  uint32_t hash = 0;
  int16_t queue = 0;
  int16_t mark_cpu = -1;  // CPU whose cache last touched the skb
  bool measured = false;  // originated after warmup
  // The trace metrics' set of skbs received on the device and not freed
  // since, for this address (TraceMetrics::netif_receive_skb's `live`): it
  // belongs to the address, so it outlives the skb as addr does.
  mutable bool metrics_live = false;
  // models/slub: the head's cache (None: a page fragment), the CPU that allocated
  // its objects, the slabs of its sk_buff and head (SlubNode::slabs); -1 none.
  SkbSlab slab_head = SkbSlab::None;
  int16_t slab_cpu = -1;
  int32_t slab_id = -1, slab_head_id = -1;
  const TunQueue* owner = nullptr;  // skb->sk: the tun queue whose socket it is charged to (skb_set_owner_w)
  CacheModel::Mark mark;
};

// Where skbs come from and go back to: a free list over chunks that are never
// released, so that steady state allocates nothing (kmem_cache for skbuff_head).
// alloc and free are inline (each once a packet); a new chunk is not.
class SkbPool {
 public:
  Skb* alloc() {
    if (!free_) add_chunk();
    Skb* s = free_;
    free_ = s->next;
    uint64_t addr = s->addr;
    bool live = s->metrics_live;
    *s = Skb{};
    s->addr = addr;
    s->metrics_live = live;
    ++live_;
    return s;
  }
  void free(Skb* s) {
    if (Ubuf* u = s->ubuf) {
      s->ubuf = nullptr;
      u->callback(u);  // skb_release_data: the zerocopy frags are released
    }
    s->next = free_;
    free_ = s;
    --live_;
  }
  size_t live() const { return live_; }

 private:
  void add_chunk();
  std::vector<std::unique_ptr<Skb[]>> chunks_;
  Skb* free_ = nullptr;
  size_t live_ = 0, slots_ = 0;
};

// An sk_buff_head: a singly linked FIFO with its length and peak length.
// `shared` says whether more than one CPU touches it (every access is then a
// synchronisation point and may move its cache line).
struct SkbQueue {
  Skb* head = nullptr;
  Skb* tail = nullptr;
  size_t len = 0;
  size_t peak = 0;
  bool shared = false;
  mutable int last_cpu = -1;  // CPU whose cache holds its lock/head line
  mutable double lock_free_at = 0;  // shared queues: when the lock holder releases it

  bool empty() const { return len == 0; }
  size_t size() const { return len; }
  void push_back(Skb* s) {  // __skb_queue_tail
    s->next = nullptr;
    if (tail)
      tail->next = s;
    else
      head = s;
    tail = s;
    if (++len > peak) peak = len;
  }
  Skb* pop_front() {  // __skb_dequeue
    Skb* s = head;
    head = s->next;
    if (!head) tail = nullptr;
    --len;
    s->next = nullptr;
    return s;
  }
  // skb_queue_splice_tail_init(this, dst): O(1)
  void splice_tail_into(SkbQueue& dst) {
    if (!len) return;
    if (dst.tail)
      dst.tail->next = head;
    else
      dst.head = head;
    dst.tail = tail;
    dst.len += len;
    if (dst.len > dst.peak) dst.peak = dst.len;
    head = tail = nullptr;
    len = 0;
  }
  // skb_queue_splice(src, this): src goes to the head, O(1)
  void splice_head_from(SkbQueue& src) {
    if (!src.len) return;
    src.tail->next = head;
    if (!tail) tail = src.tail;
    head = src.head;
    len += src.len;
    if (len > peak) peak = len;
    src.head = src.tail = nullptr;
    src.len = 0;
  }
};

}  // namespace tunsim
