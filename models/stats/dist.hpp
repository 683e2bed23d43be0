// A streaming distribution: exact count, sum, min and max, and a binned
// histogram whose memory does not grow with the number of samples.
//
// Two kinds:
//  - Integer: one bin per integer value (packets per poll, work per poll).
//  - Log: bins of constant relative width 2^(1/kLogBinsPerOctave) (durations
//    in ns); a quantile read from it is within ~1.1% of the exact sample.
// Bins are flat arrays (a vector over the bin indices in use; integers beyond
// kSmallInts in an ordered map), so adding a sample is an index computation.
// The same class backs the simulator's summary, `tunsim trace stats` and
// `tunsim diff`, so the numbers they print are computed the same way.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

class Dist {
 public:
  enum class Kind { Integer, Log };
  static constexpr int kLogBinsPerOctave = 32;
  static constexpr int64_t kZeroBin = INT64_MIN;  // Log: every v <= 0
  static constexpr int64_t kSmallInts = 4096;     // Integer: 0..kSmallInts-1 in the flat array

  explicit Dist(Kind kind = Kind::Log) : kind_(kind) {}

  // Inline for the common cases: a Log sample in one of the last two bins
  // missed, an Integer sample already in the flat array.
  void add(double v, uint64_t n = 1) {
    if (n == 0) return;
    if (count_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = v < min_ ? v : min_;
      max_ = max_ < v ? v : max_;
    }
    count_ += n;
    sum_ += v * static_cast<double>(n);
    if (kind_ == Kind::Log) {
      for (const Cached& c : cache_)
        if (v >= c.lo && v < c.hi) {
          flat_[static_cast<size_t>(c.i - lo_)] += n;
          return;
        }
    } else if (v >= 0 && v < static_cast<double>(flat_.size())) {
      auto i = static_cast<size_t>(v);
      if (static_cast<double>(i) == v) {  // a whole number already in the flat array
        flat_[i] += n;
        return;
      }
    }
    add_new_bin(v, n);
  }
  void merge(const Dist& other);

  Kind kind() const { return kind_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double min() const { return count_ ? min_ : 0.0; }
  double max() const { return count_ ? max_ : 0.0; }
  // Quantile q in [0,1]: the representative value of the bin holding the
  // ceil(q*count)-th sample (clamped to [min,max]); exact for Integer.
  double quantile(double q) const;
  // Fraction of samples <= x, evaluated at bin granularity (bins entirely
  // below x count fully; the bin containing x counts by linear interpolation).
  double cdf(double x) const;

  // Calls f(index, count) for every non-empty bin in increasing value order.
  // Index for Integer is the value itself; for Log it is
  // floor(log2(v) * kLogBinsPerOctave), with v <= 0 in kZeroBin.
  template <class F>
  void for_each_bin(F f) const;
  // The same as an ordered map (tests, small outputs).
  std::map<int64_t, uint64_t> bins() const;
  size_t bin_count() const;
  double bin_lo(int64_t i) const;
  double bin_hi(int64_t i) const;
  double bin_mid(int64_t i) const;

  // {"kind","count","mean","min","p50","p90","p99","p999","max","sum","bins":[[lo,hi,count],...]}
  nlohmann::json to_json() const;
  // Reads what to_json wrote; `where` names the file and JSON path for errors
  // (throws InputError).
  static Dist from_json(const nlohmann::json& j, const std::string& where);

 private:
  int64_t index(double v) const;
  void add_new_bin(double v, uint64_t n);
  uint64_t& slot(int64_t i);
  Kind kind_;
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
  // Integer: flat_[v] for 0 <= v < kSmallInts, big_ for the rest.
  // Log: flat_[i - lo_] for the indices in use, zero_ for v <= 0.
  std::vector<uint64_t> flat_;
  int64_t lo_ = 0;
  uint64_t zero_ = 0;
  std::map<int64_t, uint64_t> big_;
  // The bins of the last two samples that missed (Log): consecutive samples
  // mostly share a bin, or alternate between two (two CPUs' inter-arrivals).
  struct Cached {
    double lo = 1, hi = 0;  // [lo, hi); empty at first
    int64_t i = 0;
  };
  Cached cache_[2];
};

template <class F>
void Dist::for_each_bin(F f) const {
  if (kind_ == Kind::Log) {
    if (zero_) f(kZeroBin, zero_);
    for (size_t k = 0; k < flat_.size(); ++k)
      if (flat_[k]) f(lo_ + static_cast<int64_t>(k), flat_[k]);
    return;
  }
  auto it = big_.begin();
  for (; it != big_.end() && it->first < 0; ++it) f(it->first, it->second);
  for (size_t k = 0; k < flat_.size(); ++k)
    if (flat_[k]) f(static_cast<int64_t>(k), flat_[k]);
  for (; it != big_.end(); ++it) f(it->first, it->second);
}

// Two-sample Kolmogorov-Smirnov statistic sup|F_a - F_b| over bin edges of both.
double ks_statistic(const Dist& a, const Dist& b);
// First Wasserstein distance integral |F_a - F_b| dx, F piecewise linear in bins.
double wasserstein(const Dist& a, const Dist& b);

}  // namespace tunsim
