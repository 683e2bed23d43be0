// Explicit cache cost model of one CPU.
//
// Each path (a piece of kernel code: syscall, tun_get_user, softirq, ...) has
// an instruction footprint and a data footprint.  Caches are LRU at path
// granularity: when path P of footprint F runs again, the distinct bytes
// touched since its previous run are d = the footprints of the other paths
// that ran since (each counted once) + the skb data streamed since.  If
// d + F <= C, P is still cached; if d >= C it is gone; in between the
// fraction (d + F - C) / F of its lines misses.  L1i sees instruction bytes,
// L1d data bytes, the unified L2 both.  An L1 miss costs the L1 penalty
// (served by L2); an L2 miss costs the L2 penalty on top (served by the LLC).
// A path run back to back, or alternating with paths that fit beside it,
// pays nothing; a path pushed out by the sender's code pays a full refill:
// the gain of batching.  An skb's data is touched when it is built and again
// by the stack; the bytes touched in between decide whether it is still
// warm: the cost of queueing.
#pragma once
#include <array>
#include <cstdint>

namespace tunsim {

enum class Path : int { Syscall, Vhost, TunGetUser, Softirq, NetifReceiveSkb, Stack, Receiver, Count };
constexpr int kPaths = static_cast<int>(Path::Count);
const char* path_name(Path p);

struct CacheLevel {
  double size_bytes;
  double line_bytes;
  double miss_penalty_cycles;
};

// Declared in params.cpp.
struct CacheParams {
  bool enabled;
  CacheLevel l1i, l1d, l2;
  double skb_bytes;
  std::array<double, kPaths> icache_bytes;
  std::array<double, kPaths> dcache_bytes;
};

struct CacheMisses {
  double l1i = 0, l1d = 0, l2 = 0;
  void operator+=(const CacheMisses& o) { l1i += o.l1i; l1d += o.l1d; l2 += o.l2; }
};

class CacheModel {
 public:
  explicit CacheModel(const CacheParams* p = nullptr) { if (p) set_params(p); }
  void set_params(const CacheParams* p);

  // One run of path `path`; returns the miss penalty in cycles and adds the
  // misses to `out` (per-path statistics).
  double run_path(Path path, CacheMisses& out);

  // Where the CPU's traffic stood when an skb was last touched.
  // d: skb data streamed so far; u: path runs so far.
  struct Mark { uint64_t d = 0, u = 0; };
  // An skb's bytes were written now: remember the position.
  Mark touch_data(double bytes);
  // The stack reads `bytes` of an skb last touched at `mark` on this CPU: the
  // data bytes touched since evict it from L1d, all bytes since from L2.
  // Returns penalty cycles.
  double reread_data(Mark mark, double bytes, CacheMisses& out);
  // The skb was built on another CPU: every line misses L1d and L2 here.
  double reread_cold(double bytes, CacheMisses& out);

  uint64_t i_bytes() const { return i_; }
  uint64_t d_bytes() const { return d_; }

 private:
  const CacheParams* p_;
  uint64_t i_ = 0, d_ = 0;      // bytes touched so far on each side
  uint64_t stream_ = 0;         // skb data bytes streamed so far
  uint64_t seq_ = 0;            // path runs so far
  std::array<uint64_t, kPaths> last_seq_{}, last_stream_{};
  std::array<bool, kPaths> seen_{};
  // Per path, precomputed from the parameters.
  std::array<double, kPaths> fi_{}, fd_{}, li1_{}, ld1_{}, l2_{};
};

}  // namespace tunsim
