// Explicit cache cost model of one CPU.
//
// Each path (a piece of kernel code: syscall, tun_get_user, softirq, ...) has
// an instruction and a data footprint, in bytes of distinct lines one run
// touches.  Every level is set-associative with `ways` ways and S = lines /
// ways sets.  When path P runs again, each of its lines has seen D distinct
// other lines since its previous use: the footprints of the other paths that
// ran since (each counted once), the skb data streamed since, and P's own
// other lines (touched after it in P's previous run or before it in this one).  With random placement the lines that land in the
// line's set are Poisson(D / S); the line survives an LRU set while fewer
// than `ways` of them did.  So a fraction
//     m(D) = 1 - PoissonCDF(ways - 1; D / S)
// of P's lines misses that level: smooth in D, sharper the more ways there
// are, no cliff (docs/model.md, "Cache model").  L1i sees instruction lines,
// L1d data lines, the unified L2 and LLC both.  A data line missing L1d costs
// the L2 hit latency minus the L1d hit latency (measured by a dependent
// pointer chase), missing L2 the LLC's minus L2's, missing the LLC memory's
// minus the LLC's; an instruction line missing L1i costs the per-line fetch
// cost measured by running generated code of growing size.  An skb's data is
// written when it is built and read again by the stack: the bytes touched in
// between decide whether it is still warm.
//
// Kernel lines are not spread evenly over the L1 sets.  The L1 caches are
// indexed by the address bits inside a 4 KiB page (64 sets of 64-byte
// lines), and the kernel's hot data sits at the same page offsets over and
// over (page-aligned structures, slab objects' first lines, stack tops).  A
// level's `concentration` k says the kernel footprints' lines fall into S / k
// of its sets: a kernel line sees k times as many of the kernel's other lines
// in its set as an even spread would give, while uniformly placed lines (skb
// data streamed through the CPU, a user program's code and data) still spread
// over all S sets.  k is fitted to the kernel's own cold-path curves
// (scripts/machine/kcold.c: what a write() costs after a program touched P
// bytes of code or D bytes of data), not guessed; k = 1 is the even spread.
//
// Branch targets.  A core predicts a taken branch's target from its
// branch-target buffer; a taken branch whose entry was evicted costs a
// redirect once it is decoded.  On a Zen 1 a cold code path pays mostly this
// (docs/calibration.md, "Which CPU a calibration describes": the kernel's
// write() after generated code steps at about 2048 of the polluter's branch
// sites whatever the code size).  The BTB is one more level of the same
// form: `entries` sites in sets of `ways`, a site missing after D distinct
// other sites with probability m(D / S).  A kernel path has
// kernel_sites_per_line sites per instruction line; a user program's code,
// one per line (the generated polluters' layout) unless told.  entries 0:
// not modelled (the Zen 5's BTB was too large for its absence to cost
// anything measurable).
//
// Cost per path run: a few table look-ups, however many paths there are
// (the distinct footprints since a path ran come from a bit mask of the paths
// run since, and a table of the footprint of every mask).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tunsim {

enum class Path : int {
  Syscall,
  Vhost,
  TunGetUser,
  Softirq,
  NetifReceiveSkb,
  Gro,
  StackDrop,
  StackBridge,
  StackUdp,
  Receiver,
  Count
};
constexpr int kPaths = static_cast<int>(Path::Count);
const char* path_name(Path p);

struct CacheLevel {
  double size_bytes;
  double ways;
  double line_bytes;
  double hit_ns;  // latency of a dependent load that hits this level (data levels)
  double concentration = 1;  // k: kernel lines fall into sets / k of the sets (L1 levels; see above)
};

struct BranchTargets {
  double entries = 0;  // sites it holds; 0: not modelled
  double ways = 1;
  double miss_ns = 0;  // what one site missing it costs
  double kernel_sites_per_line = 0;  // taken-branch sites per kernel instruction line
};

// Declared in params.cpp.
struct CacheParams {
  bool enabled;
  CacheLevel l1i, l1d, l2, llc;
  double memory_ns;  // dependent load from memory
  // Instruction fetch, per line missing L1i and served by L2, the LLC,
  // memory (each the whole cost of such a line).
  double ifetch_l2_ns, ifetch_llc_ns, ifetch_memory_ns;
  double skb_bytes;
  double skb_written_bytes;  // what the allocating CPU writes (moves to the consumer CPU)
  // A reread skb's line that missed L1d and came from L2, and one that
  // missed L2 too and came from the LLC: what each costs the receive
  // (scripts/machine/skbwalk.c: a skb's lines are independent loads, which
  // overlap); < 0: priced as dependent loads (the hit_ns differences).
  double skb_reread_l2_ns = -1, skb_reread_llc_ns = -1;
  // A line of an skb built on another CPU, read by a poll right after
  // another such skb (scripts/machine/skbwalk.c --writer-cpu: a walk's
  // transfers overlap), charged when skb_remote_walk is on; off: priced as
  // the poll's first, a burst of costs.cacheline_burst_ns a line.
  bool skb_remote_walk = false;
  double skb_remote_walk_ns = 0;
  // The footprints below are what sampling saw per packet; a path also runs
  // functions too rare to be sampled every time.  Every footprint is
  // multiplied by these (fitted to the kernel's cold-path curves, like the
  // concentrations).
  double icache_scale = 1, dcache_scale = 1;
  BranchTargets btb;
  // A kernel path's data line that missed L1d and came from L2, one that
  // missed L2 too and came from the LLC: its whole cost.  < 0: priced as a
  // dependent load (the hit_ns differences).  Where the kernel's refetch of
  // its own structures overlaps (loads independent of each other), the
  // price skbwalk measures for a structure's lines.
  double kdata_l2_ns = -1, kdata_llc_ns = -1;
  std::array<double, kPaths> icache_bytes;
  std::array<double, kPaths> dcache_bytes;
};

struct CacheMisses {
  double l1i = 0, l1d = 0, l2 = 0, llc = 0, btb = 0;
  void operator+=(const CacheMisses& o) {
    const CacheMisses t = o;  // read first: no store can alias it, so the adds pair up
    l1i += t.l1i;
    l1d += t.l1d;
    l2 += t.l2;
    llc += t.llc;
    btb += t.btb;
  }
};

// m(x) = 1 - PoissonCDF(ways - 1; x), tabulated for x = D / S.  The table
// of each number of ways is built once per process and shared (read-only) by
// every curve with those ways: a CPU's caches and, in `tunsim batch`, every
// child forked from a parent that built it (no page of it is copied).
class MissCurve {
 public:
  void init(double ways);
  double operator()(double x) const {
    if (x <= 0) return 0;
    double f = x * kPerUnit;
    std::size_t i = static_cast<std::size_t>(f);
    if (i + 1 >= n_) return 1;
    double w = f - static_cast<double>(i);
    return t_[i] + w * (t_[i + 1] - t_[i]);
  }
  static constexpr double kPerUnit = 64;  // table points per unit of x

 private:
  const double* t_ = nullptr;
  std::size_t n_ = 0;
};

class CacheModel {
 public:
  explicit CacheModel(const CacheParams* p = nullptr) {
    if (p) set_params(p);
  }
  void set_params(const CacheParams* p);

  // One run of path `path`; returns the miss penalty in ns and adds the
  // misses to `out` (per-path statistics).  Inline for the common case, a
  // path that ran after the same paths and data as last time (its memo).
  double run_path(Path path, CacheMisses& out) {
    // Off, nothing reads the history below (reread_data returns 0 too).
    if (!p_->enabled) return 0;
    size_t k = static_cast<size_t>(path);
    double ns;
    const Memo& memo = memo_[k];
    // A path's first run finds its memo unset: mask ~0u, which no set of
    // paths since (kPaths bits) equals, so it goes to run_path_fresh.
    if (memo.mask == since_[k] && memo.stream == stream_ - stream_at_[k] &&
        memo.istream == istream_ - istream_at_[k] && (!sites_ || memo.bstream == bstream_ - bstream_at_[k])) {
      out += memo.m;
      ns = memo.ns;
    } else {
      ns = run_path_fresh(k, out);
    }
    uint32_t bit = 1u << k;
    for (auto& s : since_) s |= bit;
    since_[k] = 0;
    stream_at_[k] = stream_;
    istream_at_[k] = istream_;
    if (sites_) bstream_at_[k] = bstream_;
    seq_at_[k] = ++seq_;
    seen_[k] = true;
    return ns;
  }

  // Where the CPU's traffic stood when an skb was last touched.
  // d: skb data streamed so far; u: path runs so far; i: code placed
  // uniformly so far.
  struct Mark {
    uint64_t d = 0, u = 0, i = 0;
  };
  // An skb's bytes were written now: remember the position (inline: every
  // skb built calls it).
  Mark touch_data(double bytes) {
    stream_ += static_cast<uint64_t>(bytes);
    return Mark{stream_, seq_, istream_};
  }
  // The stack reads `bytes` of an skb last touched at `mark` on this CPU.
  // Returns the penalty in ns.
  double reread_data(Mark mark, double bytes, CacheMisses& out);
  // The skb was built on another CPU: every line comes from the LLC.
  double reread_cold(double bytes, CacheMisses& out);
  // A NAPI poll starts on this CPU (__napi_poll).
  void begin_poll() { ++poll_; }
  // This CPU reads an skb another CPU built: true when the same poll read
  // one before it (the poll's walk of remote skbs goes on), false for the
  // poll's first.
  bool remote_walk_continues() {
    bool c = walk_poll_ == poll_;
    walk_poll_ = poll_;
    return c;
  }
  // The price of such a continuing skb: `burst_lines` its builder wrote and
  // `cold_bytes` more, cache.skb_remote_walk_ns a line (the cold lines
  // counted as L1d and L2 misses, as reread_cold counts them).
  double remote_walk(int burst_lines, double cold_bytes, CacheMisses& out);
  // Something other than the modelled kernel paths ran on this CPU (a user
  // program's own code and data): its lines are placed uniformly, and its
  // code holds `branch_sites` taken-branch sites (< 0: one a line).
  void pollute(double code_bytes, double data_bytes, double branch_sites = -1);

  // Expected misses at each level of `lines_i`/`lines_d` kernel lines after
  // `d_i`/`d_d` distinct other kernel instruction/data lines and `u_i`/`u_d`
  // uniformly placed ones, and `u_b` branch sites of such code (exposed for
  // tests and the fits).
  // `sites`/`d_s`: the path's and the other kernel paths' branch sites.
  CacheMisses misses_after(double lines_i, double lines_d, double d_i, double d_d, double u_i = 0,
                           double u_d = 0, double u_b = 0, double sites = 0, double d_s = 0) const;
  // The price of misses of a kernel path (its data at kdata_* when set);
  // `dependent`: data lines priced as dependent loads whatever kdata_* say.
  double penalty_ns(const CacheMisses& m, bool dependent = false) const;
  // The same for a reread skb's lines (CacheParams::skb_reread_*).
  double reread_penalty_ns(const CacheMisses& m) const;
  double line_bytes() const { return line_; }

 private:
  // run_path's first run of a path, or one after other paths or data.
  double run_path_fresh(size_t k, CacheMisses& out);
  const CacheParams* p_ = nullptr;
  MissCurve c_l1i_, c_l1d_, c_l2_, c_llc_, c_btb_;
  double s_l1i_ = 1, s_l1d_ = 1, s_l2_ = 1, s_llc_ = 1, s_btb_ = 1;  // sets
  double line_ = 64;
  // Per path: footprint lines; per mask of paths: the sum of their lines
  // (tables shared by every model with the same footprints, see MissCurve).
  std::array<double, kPaths> fi_{}, fd_{};
  std::array<double, kPaths> fb_{};  // branch sites: icache bytes x scale / line x sites a line (not rounded)
  std::shared_ptr<const void> masks_;  // keeps the tables below alive
  const double* mask_i_ = nullptr;
  const double* mask_d_ = nullptr;
  const double* mask_b_ = nullptr;
  // State: paths run since each path last ran, skb data streamed.
  std::array<uint32_t, kPaths> since_{};
  std::array<uint64_t, kPaths> stream_at_{}, istream_at_{}, bstream_at_{}, seq_at_{};
  std::array<bool, kPaths> seen_{};
  uint64_t stream_ = 0, istream_ = 0, seq_ = 0;  // data, code bytes placed uniformly
  uint64_t bstream_ = 0;  // branch sites of code placed uniformly
  bool sites_ = false;    // the BTB is modelled: sites are counted (else bstream_ stays 0)
  uint64_t poll_ = 1, walk_poll_ = 0;  // polls begun; the one that read the last remote skb
  // The last result of each path, reused when it ran after the same paths
  // and the same data.
  struct Memo {
    uint32_t mask = ~0u;
    uint64_t stream = ~0ull, istream = ~0ull, bstream = ~0ull;
    CacheMisses m;
    double ns = 0;
  };
  std::array<Memo, kPaths> memo_{};
  // run_path_fresh's results, direct-mapped by (paths since, data and code
  // streamed since), 64 per path.
  std::array<std::array<Memo, 64>, kPaths> history_memo_{};
  // Rereads repeat a few patterns (the k-th skb of a batch): a small
  // direct-mapped memo keyed by the paths run since and the data streamed.
  struct RereadMemo {
    uint32_t mask = ~0u;
    uint64_t delta = ~0ull, idelta = ~0ull;
    double bytes = -1;
    CacheMisses m;
    double ns = 0;
  };
  std::array<RereadMemo, 64> reread_memo_{};
};

}  // namespace tunsim
