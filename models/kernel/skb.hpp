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
  uint32_t truesize = 0;            // skb->truesize (skb_truesize_alloc, skb_truesize_frag)
  const TunQueue* owner = nullptr;  // skb->sk: the tun queue whose socket it is charged to (skb_set_owner_w)
  CacheModel::Mark mark;
};

// skb->truesize as __finalize_skb_around sets it (6.18 net/core/skbuff.c;
// the same sum in every modelled version): SKB_TRUESIZE(size -
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info))) = size +
// SKB_DATA_ALIGN(sizeof(struct sk_buff)), 224 bytes -> 256 (BTF of 6.18.44),
// where size is the head's allocation; and alloc_skb_with_frags adds the
// pages of a paged skb.  Measured on 6.18.44 (napi_gro_receive_entry's
// truesize=, docs/kernel-mechanisms.md): 832 for 60- and 2304 for 1500-byte
// frames.
constexpr uint64_t kSkbStructBytes = 256;
// tun_alloc_skb's skb of a `len`-byte frame with `linear` bytes in its head:
// the head is what kmalloc_reserve returned (skb_head_slab: the small-head
// cache's 576 bytes from 6.3 on, else the kmalloc bucket, ksize() up to 6.1
// and kmalloc_size_roundup() after, the same bytes; beyond kmalloc-8k whole
// pages); the rest is in pages, PAGE_ALIGN(len - linear) of them
// (alloc_skb_with_frags, 6.18; 4.9 adds npages << PAGE_SHIFT, the same; a
// zerocopy skb's mapped pages likewise, zerocopy_fill_skb_from_iter's
// PAGE_ALIGN(copied + start) with the guest buffer's offset `start` taken
// as 0).
inline uint64_t skb_truesize_alloc(uint32_t len, uint32_t linear, SkbSlab head) {
  uint64_t bytes = static_cast<uint64_t>(slab_object_bytes(head));
  if (head == SkbSlab::None)
    for (bytes = 4096; bytes < skb_head_request(linear);) bytes *= 2;
  const uint64_t rest = len > linear ? len - linear : 0;
  return bytes + kSkbStructBytes + (rest + 4095) / 4096 * 4096;
}
// build_skb on a page fragment of `buflen` bytes, skb_shared_info at its
// end included: tun_build_skb's (tun_build_skb_buflen) and, for
// tun_xdp_one, vhost's XDP buffer (vhost_xdp_frame_sz).
inline uint64_t skb_truesize_frag(uint64_t buflen) { return buflen + kSkbStructBytes; }

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
