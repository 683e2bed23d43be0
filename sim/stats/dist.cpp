#include "sim/stats/dist.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <vector>

#include "sim/errors.hpp"

namespace tunsim {

namespace {
// 2^(j/32) for j = 0..32: the bin edges inside one octave.
const std::array<double, Dist::kLogBinsPerOctave + 1>& edges_in_octave() {
  static const auto t = [] {
    std::array<double, Dist::kLogBinsPerOctave + 1> a{};
    for (int j = 0; j <= Dist::kLogBinsPerOctave; ++j)
      a[static_cast<size_t>(j)] = std::exp2(static_cast<double>(j) / Dist::kLogBinsPerOctave);
    a[Dist::kLogBinsPerOctave] = 2.0;
    return a;
  }();
  return t;
}
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

int64_t Dist::index(double v) const {
  if (kind_ == Kind::Integer) return static_cast<int64_t>(std::llround(v));
  if (!(v > 0)) return kZeroBin;
  // v = x * 2^e with x in [1, 2); bin = 32 e + the edge index below x.
  int e = 0;
  double x = std::frexp(v, &e) * 2;
  --e;
  const auto& t = edges_in_octave();
  int j = static_cast<int>(std::upper_bound(t.begin(), t.begin() + kLogBinsPerOctave, x) - t.begin()) - 1;
  return static_cast<int64_t>(e) * kLogBinsPerOctave + j;
}

double Dist::bin_lo(int64_t i) const {
  if (kind_ == Kind::Integer) return static_cast<double>(i) - 0.5;
  if (i == kZeroBin) return 0.0;
  int64_t e = floor_div(i, kLogBinsPerOctave);
  return std::ldexp(edges_in_octave()[static_cast<size_t>(i - e * kLogBinsPerOctave)], static_cast<int>(e));
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

void Dist::add(double v, uint64_t n) {
  if (n == 0) return;
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  count_ += n;
  sum_ += v * static_cast<double>(n);
  if (cache_.bin && v >= cache_.lo && v < cache_.hi) {
    *cache_.bin += n;
    return;
  }
  int64_t i = index(v);
  uint64_t& bin = bins_[i];
  bin += n;
  cache_.bin = &bin;
  if (kind_ == Kind::Integer || i == kZeroBin) {
    cache_.lo = v;  // only this exact value is known to map here
    cache_.hi = std::nextafter(v, INFINITY);
  } else {
    cache_.lo = bin_lo(i);  // index() is exact: bin i is [bin_lo(i), bin_hi(i))
    cache_.hi = bin_hi(i);
  }
}

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
  for (auto& [i, c] : o.bins_) bins_[i] += c;
}

double Dist::quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (auto& [i, c] : bins_) {
    seen += c;
    if (seen >= rank) return std::clamp(bin_mid(i), min_, max_);
  }
  return max_;
}

double Dist::cdf(double x) const {
  if (count_ == 0) return 0.0;
  double below = 0;
  for (auto& [i, c] : bins_) {
    double lo = bin_lo(i), hi = bin_hi(i);
    if (hi <= x) {
      below += static_cast<double>(c);
    } else if (lo < x) {
      below += static_cast<double>(c) * (x - lo) / (hi - lo);
    } else if (hi == lo && lo <= x) {
      below += static_cast<double>(c);
    }
  }
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
  for (auto& [i, c] : bins_) bins.push_back({bin_lo(i), bin_hi(i), c});
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
    throw InputError(where + ".kind: expected \"integer\" or \"log\", found " + kind.dump());
  const auto& bins = need("bins");
  if (!bins.is_array()) throw InputError(where + ".bins: expected an array");
  for (size_t k = 0; k < bins.size(); ++k) {
    const auto& b = bins[k];
    if (!b.is_array() || b.size() != 3 || !b[0].is_number() || !b[1].is_number() ||
        !b[2].is_number_unsigned())
      throw InputError(where + ".bins[" + std::to_string(k) + "]: expected [lo, hi, count]");
    double lo = b[0].get<double>(), hi = b[1].get<double>();
    int64_t i = d.kind_ == Kind::Integer ? static_cast<int64_t>(std::llround(lo + 0.5))
                : (hi <= 0 ? kZeroBin : d.index(std::sqrt(lo * hi)));
    d.bins_[i] += b[2].get<uint64_t>();
  }
  for (const char* key : {"count", "min", "max", "sum"})
    if (!need(key).is_number()) throw InputError(where + "." + key + ": expected a number");
  d.count_ = j.at("count").get<uint64_t>();
  d.min_ = j.at("min").get<double>();
  d.max_ = j.at("max").get<double>();
  d.sum_ = j.at("sum").get<double>();
  uint64_t total = 0;
  for (auto& [i, c] : d.bins_) total += c;
  if (total != d.count_)
    throw InputError(where + ".bins: counts add up to " + std::to_string(total) +
                     ", expected count " + std::to_string(d.count_));
  return d;
}

namespace {
std::vector<double> edges(const Dist& a, const Dist& b) {
  std::set<double> e;
  for (const Dist* d : {&a, &b})
    for (auto& [i, c] : d->bins()) {
      e.insert(d->bin_lo(i));
      e.insert(d->bin_hi(i));
    }
  return {e.begin(), e.end()};
}
}  // namespace

double ks_statistic(const Dist& a, const Dist& b) {
  double best = 0;
  for (double x : edges(a, b)) best = std::max(best, std::fabs(a.cdf(x) - b.cdf(x)));
  return best;
}

double wasserstein(const Dist& a, const Dist& b) {
  auto e = edges(a, b);
  double area = 0;
  for (size_t k = 1; k < e.size(); ++k) {
    // Both CDFs are linear inside [e[k-1], e[k]]; integrate |diff| exactly.
    double x0 = e[k - 1], x1 = e[k];
    double d0 = a.cdf(x0) - b.cdf(x0), d1 = a.cdf(x1) - b.cdf(x1);
    double w = x1 - x0;
    if ((d0 >= 0) == (d1 >= 0)) {
      area += w * (std::fabs(d0) + std::fabs(d1)) / 2;
    } else {
      double t = std::fabs(d0) / (std::fabs(d0) + std::fabs(d1));
      area += w * (t * std::fabs(d0) + (1 - t) * std::fabs(d1)) / 2;
    }
  }
  return area;
}

}  // namespace tunsim
