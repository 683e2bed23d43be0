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
#include <array>
#include <cstdint>
#include <cstring>
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

  // Inline for the common cases: a positive normal Log sample, or an
  // Integer sample, whose bin is already in the flat array.
  void add(double v, uint64_t n) {
    if (n == 0) return;
    add_bounds(v);
    count_ += n;
    sum_ += v * static_cast<double>(n);
    add_to_bin(v, n);
  }
  // One sample (the simulator's every event): v * 1 is v, so the sum is the
  // same as add(v, 1)'s, without the conversion and the product.
  void add(double v) {
    add_bounds(v);
    ++count_;
    sum_ += v;
    add_to_bin(v, 1);
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
  // The Log bins inside one octave [1, 2): their edges 2^(j/32) (edge[32] =
  // 2), and for each 1/64 of the octave (the mantissa's top 6 bits) the edge
  // index at or below its smallest x.  Edges are more than 1/64 apart
  // (2^(1/32) - 1 = 0.0219), so x lies at most one edge above that index.
  struct LogTables {
    std::array<double, kLogBinsPerOctave + 1> edge;
    std::array<int, 64> first;
  };
  static const LogTables& log_tables();
  static constexpr int64_t kNoIndex = INT64_MAX;
  // The Log bin of a positive normal v (the one whose edges hold it);
  // kNoIndex for v <= 0, NaN, a subnormal or infinity (index() handles those).
  int64_t log_index_normal(double v) const {
    if (!(v > 0)) return kNoIndex;
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    auto biased = static_cast<int64_t>(bits >> 52);  // the sign bit is 0 here
    if (biased == 0 || biased == 0x7ff) return kNoIndex;
    uint64_t mant = bits & ((uint64_t(1) << 52) - 1);
    uint64_t xb = mant | (uint64_t(1023) << 52);
    double x;
    std::memcpy(&x, &xb, sizeof x);
    int j = tables_->first[static_cast<size_t>(mant >> 46)];
    if (j + 1 < kLogBinsPerOctave && tables_->edge[static_cast<size_t>(j + 1)] <= x) ++j;
    return (biased - 1023) * kLogBinsPerOctave + j;
  }
  void add_bounds(double v) {
    if (count_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = v < min_ ? v : min_;
      max_ = max_ < v ? v : max_;
    }
  }
  void add_to_bin(double v, uint64_t n) {
    if (kind_ == Kind::Log) {
      int64_t i = log_index_normal(v);
      if (i != kNoIndex) {
        auto k = static_cast<uint64_t>(i - lo_);  // indices stay within +-35200: no overflow
        if (k < flat_.size()) {
          flat_[k] += n;
          return;
        }
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
  int64_t index(double v) const;
  void add_new_bin(double v, uint64_t n);
  uint64_t& slot(int64_t i);
  const LogTables* tables_ = &log_tables();
  Kind kind_;
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
  // Integer: flat_[v] for 0 <= v < kSmallInts, big_ for the rest.
  // Log: flat_[i - lo_] for the indices in use, zero_ for v <= 0.
  std::vector<uint64_t> flat_;
  int64_t lo_ = 0;
  uint64_t zero_ = 0;
  std::map<int64_t, uint64_t> big_;
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
