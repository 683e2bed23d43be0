#include "models/stats/dist.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "models/stats/error.hpp"

namespace tunsim {

const Dist::LogTables& Dist::log_tables() {
  static const LogTables t = [] {
    LogTables a{};
    for (int j = 0; j <= kLogBinsPerOctave; ++j)
      a.edge[static_cast<size_t>(j)] = std::exp2(static_cast<double>(j) / kLogBinsPerOctave);
    a.edge[kLogBinsPerOctave] = 2.0;
    for (int m = 0; m < 64; ++m) {
      double x = 1 + m / 64.0;
      int j = 0;
      while (j + 1 < kLogBinsPerOctave && a.edge[static_cast<size_t>(j + 1)] <= x) ++j;
      a.first[static_cast<size_t>(m)] = j;
    }
    return a;
  }();
  return t;
}

namespace {
int64_t floor_div(int64_t a, int64_t b) {
  if (b == 32) return a >= 0 ? a >> 5 : -((-a + 31) >> 5);  // kLogBinsPerOctave: no division
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
// Log bin indices stay within what a double's exponent allows.
constexpr int64_t kLogIndexLimit = 1100 * Dist::kLogBinsPerOctave;
}  // namespace

int64_t Dist::index(double v) const {
  if (kind_ == Kind::Integer) return static_cast<int64_t>(std::llround(v));
  if (!(v > 0)) return kZeroBin;
  // v = x * 2^e with x in [1, 2); bin = 32 e + the edge index below x.
  if (int64_t i = log_index_normal(v); i != kNoIndex) return i;
  // A subnormal or infinity: the general way.
  int e = 0;
  double x = std::frexp(v, &e) * 2;
  --e;
  const auto& t = tables_->edge;
  int j = static_cast<int>(std::upper_bound(t.begin(), t.begin() + kLogBinsPerOctave, x) - t.begin()) - 1;
  return static_cast<int64_t>(e) * kLogBinsPerOctave + j;
}

double Dist::bin_lo(int64_t i) const {
  if (kind_ == Kind::Integer) return static_cast<double>(i) - 0.5;
  if (i == kZeroBin) return 0.0;
  int64_t e = floor_div(i, kLogBinsPerOctave);
  double edge = tables_->edge[static_cast<size_t>(i - e * kLogBinsPerOctave)];
  if (e >= -1022 && e <= 1023) {
    // edge * 2^e with 2^e built from its bits: exact for a normal 2^e, so
    // the same double as ldexp (a libm call).
    uint64_t pb = static_cast<uint64_t>(e + 1023) << 52;
    double p;
    std::memcpy(&p, &pb, sizeof p);
    return edge * p;
  }
  return std::ldexp(edge, static_cast<int>(e));
}

double Dist::bin_hi(int64_t i) const {
  if (kind_ == Kind::Integer) return static_cast<double>(i) + 0.5;
  if (i == kZeroBin) return 0.0;
  return bin_lo(i + 1);
}

double Dist::bin_mid(int64_t i) const {
  if (kind_ == Kind::Integer) return static_cast<double>(i);
  if (i == kZeroBin) return 0.0;
  return std::sqrt(bin_lo(i) * bin_hi(i));
}

uint64_t& Dist::slot(int64_t i) {
  if (kind_ == Kind::Integer) {
    if (i >= 0 && i < kSmallInts) {
      size_t k = static_cast<size_t>(i);
      if (k >= flat_.size()) flat_.resize(std::max<size_t>(k + 1, std::min<size_t>(2 * flat_.size(), kSmallInts)));
      return flat_[k];
    }
    return big_[i];
  }
  if (i == kZeroBin) return zero_;
  if (flat_.empty()) {
    lo_ = i;
    flat_.assign(1, 0);
  } else if (i < lo_) {
    flat_.insert(flat_.begin(), static_cast<size_t>(lo_ - i), 0);
    lo_ = i;
  } else if (i - lo_ >= static_cast<int64_t>(flat_.size())) {
    flat_.resize(static_cast<size_t>(i - lo_ + 1), 0);
  }
  return flat_[static_cast<size_t>(i - lo_)];
}

void Dist::add_new_bin(double v, uint64_t n) { slot(index(v)) += n; }

void Dist::merge(const Dist& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    min_ = o.min_;
    max_ = o.max_;
  } else {
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  count_ += o.count_;
  sum_ += o.sum_;
  o.for_each_bin([&](int64_t i, uint64_t c) { slot(i) += c; });
}

std::map<int64_t, uint64_t> Dist::bins() const {
  std::map<int64_t, uint64_t> m;
  for_each_bin([&](int64_t i, uint64_t c) { m[i] = c; });
  return m;
}

size_t Dist::bin_count() const {
  size_t n = 0;
  for_each_bin([&](int64_t, uint64_t) { ++n; });
  return n;
}

double Dist::quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  double out = max_;
  bool done = false;
  for_each_bin([&](int64_t i, uint64_t c) {
    if (done) return;
    seen += c;
    if (seen >= rank) {
      out = std::clamp(bin_mid(i), min_, max_);
      done = true;
    }
  });
  return out;
}

double Dist::cdf(double x) const {
  if (count_ == 0) return 0.0;
  double below = 0;
  for_each_bin([&](int64_t i, uint64_t c) {
    double lo = bin_lo(i), hi = bin_hi(i);
    if (hi <= x) {
      below += static_cast<double>(c);
    } else if (lo < x) {
      below += static_cast<double>(c) * (x - lo) / (hi - lo);
    }
  });
  return below / static_cast<double>(count_);
}

nlohmann::json Dist::to_json() const {
  nlohmann::json j;
  j["kind"] = kind_ == Kind::Integer ? "integer" : "log";
  j["count"] = count_;
  j["mean"] = mean();
  j["min"] = min();
  j["p50"] = quantile(0.50);
  j["p90"] = quantile(0.90);
  j["p99"] = quantile(0.99);
  j["p999"] = quantile(0.999);
  j["max"] = max();
  j["sum"] = sum_;
  auto bins = nlohmann::json::array();
  for_each_bin([&](int64_t i, uint64_t c) { bins.push_back({bin_lo(i), bin_hi(i), c}); });
  j["bins"] = bins;
  return j;
}

Dist Dist::from_json(const nlohmann::json& j, const std::string& where) {
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key))
      throw InputError(where + ": expected a distribution object with \"" + key + "\"");
    return j.at(key);
  };
  const auto& kind = need("kind");
  Dist d;
  if (kind == "integer")
    d.kind_ = Kind::Integer;
  else if (kind == "log")
    d.kind_ = Kind::Log;
  else
    throw InputError(where + ".kind: expected \"integer\" or \"log\", found " + printable_json(kind));
  const auto& bins = need("bins");
  if (!bins.is_array()) throw InputError(where + ".bins: expected an array");
  for (size_t k = 0; k < bins.size(); ++k) {
    const auto& b = bins[k];
    if (!b.is_array() || b.size() != 3 || !b[0].is_number() || !b[1].is_number() || !b[2].is_number_unsigned() ||
        !std::isfinite(b[0].get<double>()) || !std::isfinite(b[1].get<double>()))
      throw InputError(where + ".bins[" + std::to_string(k) + "]: expected [lo, hi, count] (finite numbers, count a "
                       "non-negative integer)");
    double lo = b[0].get<double>(), hi = b[1].get<double>();
    int64_t i;
    if (d.kind_ == Kind::Integer) {
      if (std::fabs(lo) > 9e15) throw InputError(where + ".bins[" + std::to_string(k) + "]: expected |lo| below 9e15");
      i = static_cast<int64_t>(std::llround(lo + 0.5));
    } else {
      i = hi <= 0 ? kZeroBin : d.index(std::sqrt(lo * hi));
      if (i != kZeroBin && (i < -kLogIndexLimit || i > kLogIndexLimit))
        throw InputError(where + ".bins[" + std::to_string(k) + "]: expected a bin inside the range of a double");
    }
    uint64_t& s = d.slot(i);
    uint64_t c = b[2].get<uint64_t>();
    if (s > std::numeric_limits<uint64_t>::max() - c)
      throw InputError(where + ".bins: counts overflow");
    s += c;
  }
  const auto& cnt = need("count");
  if (!cnt.is_number_unsigned()) throw InputError(where + ".count: expected a non-negative integer, found " +
                                                  printable_json(cnt));
  for (const char* key : {"min", "max", "sum"})
    if (!need(key).is_number() || !std::isfinite(need(key).get<double>()))
      throw InputError(where + "." + key + ": expected a finite number");
  d.count_ = cnt.get<uint64_t>();
  d.min_ = j.at("min").get<double>();
  d.max_ = j.at("max").get<double>();
  d.sum_ = j.at("sum").get<double>();
  uint64_t total = 0;
  bool overflow = false;
  d.for_each_bin([&](int64_t, uint64_t c) {
    if (total > std::numeric_limits<uint64_t>::max() - c) overflow = true;
    total += c;
  });
  if (overflow || total != d.count_)
    throw InputError(where + ".bins: counts add up to " + std::to_string(total) + ", expected count " +
                     std::to_string(d.count_));
  return d;
}

namespace {
struct Bin {
  double lo, hi, c;
};
std::vector<Bin> bin_list(const Dist& d) {
  std::vector<Bin> v;
  d.for_each_bin([&](int64_t i, uint64_t c) { v.push_back({d.bin_lo(i), d.bin_hi(i), static_cast<double>(c)}); });
  return v;
}
// Evaluates a Dist's CDF at increasing x in amortised O(1): bins are disjoint
// and sorted, so those entirely below x stay below.
struct CdfWalk {
  const std::vector<Bin>& b;
  double n;
  size_t full = 0;   // bins[0..full) have hi <= x
  double below = 0;  // their counts
  double at(double x) {
    while (full < b.size() && b[full].hi <= x) below += b[full++].c;
    double part = 0;
    if (full < b.size() && b[full].lo < x) part = b[full].c * (x - b[full].lo) / (b[full].hi - b[full].lo);
    return n > 0 ? (below + part) / n : 0.0;
  }
};
std::vector<double> edges(const std::vector<Bin>& a, const std::vector<Bin>& b) {
  std::vector<double> e;
  e.reserve(2 * (a.size() + b.size()));
  for (auto* v : {&a, &b})
    for (auto& x : *v) {
      e.push_back(x.lo);
      e.push_back(x.hi);
    }
  std::sort(e.begin(), e.end());
  e.erase(std::unique(e.begin(), e.end()), e.end());
  return e;
}
}  // namespace

double ks_statistic(const Dist& a, const Dist& b) {
  auto ba = bin_list(a), bb = bin_list(b);
  CdfWalk wa{ba, static_cast<double>(a.count())}, wb{bb, static_cast<double>(b.count())};
  double best = 0;
  for (double x : edges(ba, bb)) best = std::max(best, std::fabs(wa.at(x) - wb.at(x)));
  return best;
}

double wasserstein(const Dist& a, const Dist& b) {
  auto ba = bin_list(a), bb = bin_list(b);
  CdfWalk wa{ba, static_cast<double>(a.count())}, wb{bb, static_cast<double>(b.count())};
  auto e = edges(ba, bb);
  double area = 0, prev = 0;
  for (size_t k = 0; k < e.size(); ++k) {
    double d1 = wa.at(e[k]) - wb.at(e[k]);
    if (k > 0) {
      // Both CDFs are linear inside [e[k-1], e[k]]; integrate |diff| exactly.
      double d0 = prev, w = e[k] - e[k - 1];
      if ((d0 >= 0) == (d1 >= 0)) {
        area += w * (std::fabs(d0) + std::fabs(d1)) / 2;
      } else {
        double t = std::fabs(d0) / (std::fabs(d0) + std::fabs(d1));
        area += w * (t * std::fabs(d0) + (1 - t) * std::fabs(d1)) / 2;
      }
    }
    prev = d1;
  }
  return area;
}

}  // namespace tunsim
