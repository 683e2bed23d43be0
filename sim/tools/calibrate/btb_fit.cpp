#include "sim/tools/calibrate/btb_fit.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/fit.hpp"

namespace tunsim::calib {

using nlohmann::json;

namespace {

const json* curve(const json& summary, const char* which) {
  return json_at(summary, {"branch_sites", which});
}

double num_at(const json& p, const char* key, const std::string& where, double lo, double hi) {
  const json* v = json_at(p, {key});
  if (!v || !v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < lo || v->get<double>() > hi)
    throw InputError(where + "." + key + ": expected a number in [" + fmt("%g", lo) + ", " + fmt("%g", hi) + "]");
  return v->get<double>();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

bool has_branch_sites(const json& summary) {
  const json* b = json_at(summary, {"branch_sites"});
  return b && b->is_object();
}

BtbIcacheFit btb_from_icache(const json& summary, const std::string& path, double l1i_bytes, double l1i_ways,
                             double line_bytes) {
  const json* pts = curve(summary, "icache");
  const std::string where = path + ": summary.branch_sites.icache";
  if (!pts || !pts->is_array() || pts->empty())
    throw InputError(where + ": expected an array of points (calibrate-machine --only btb)");
  struct Pt {
    double sites, lines, ns;
  };
  std::vector<Pt> v;
  std::map<double, std::vector<double>> small;  // per sites a line, the points up to 16 KiB
  for (size_t i = 0; i < pts->size(); ++i) {
    std::string w = where + "[" + std::to_string(i) + "]";
    const json& p = (*pts)[i];
    if (!p.is_object()) throw InputError(w + ": expected an object");
    double s = num_at(p, "sites_per_line", w, 1, 64), b = num_at(p, "bytes", w, 64, 1e9),
           ns = num_at(p, "ns_per_line", w, 0, 1e6);
    v.push_back({s, b / line_bytes, ns});
    if (b <= 16384) small[s].push_back(ns);
  }
  std::map<double, double> base;  // per curve, its cost with every branch predicted
  for (const auto& [sites, ns] : small) base[sites] = median(ns);
  for (const Pt& p : v)
    if (!base.count(p.sites))
      throw InputError(where + ": the curve of " + fmt("%g", p.sites) +
                       " sites a line has no point up to 16 KiB (its cost with every branch predicted)");
  // y = c a + f b, least squares with c, f >= 0: a (the BTB's misses) is
  // the grid's; b (the L1i's misses) and y (the excess over the curve's
  // base) are each point's own, so they and their sums are computed once.
  MissCurve l1i;
  l1i.init(l1i_ways);
  const double l1i_sets = std::max(1.0, l1i_bytes / line_bytes / std::max(1.0, l1i_ways));
  std::vector<double> bs, ys;
  double sbb = 0, sby = 0, syy = 0;
  for (const Pt& p : v) {
    double b = l1i((p.lines - 1) / l1i_sets), y = p.ns - base[p.sites];
    bs.push_back(b);
    ys.push_back(y);
    sbb += b * b, sby += b * y, syy += y * y;
  }
  BtbIcacheFit best;
  double best_e = INFINITY;
  for (double ways : {1, 2, 4, 8, 16, 32}) {
    MissCurve m;
    m.init(ways);
    for (double entries = 256; entries <= 65536; entries += 64) {
      const double sets = entries / ways;
      double saa = 0, sab = 0, say = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        double a = v[i].sites * m((v[i].lines * v[i].sites - 1) / sets);
        saa += a * a, sab += a * bs[i], say += a * ys[i];
      }
      double det = saa * sbb - sab * sab, c = 0, f = 0;
      if (det > 1e-12) c = (say * sbb - sby * sab) / det, f = (saa * sby - sab * say) / det;
      if (f < 0 || det <= 1e-12) f = 0, c = saa > 0 ? say / saa : 0;
      if (c < 0) c = 0, f = sbb > 0 ? std::max(0.0, sby / sbb) : 0;
      // Sum of (c a + f b - y)^2, expanded over the sums.
      double e = std::max(0.0, c * c * saa + f * f * sbb + 2 * c * f * sab - 2 * c * say - 2 * f * sby + syy);
      if (e < best_e - 1e-12) {
        best_e = e;
        best = {entries, ways, c, f, 0, v.size()};
      }
    }
  }
  best.rms_ns = std::sqrt(best_e / static_cast<double>(v.size()));
  if (best.miss_ns <= 0)
    throw InputError(where + ": the curves do not rise with the branch sites (no miss cost fits them): "
                     "expected the generated code's cost to step where its sites exceed the branch-target buffer");
  return best;
}

std::vector<ColdTarget> btb_cold_targets(const json& summary, const std::string& path) {
  const json* pts = curve(summary, "kernel_cold");
  const std::string where = path + ": summary.branch_sites.kernel_cold";
  if (!pts || !pts->is_array() || pts->empty())
    throw InputError(where + ": expected an array of points (calibrate-machine --only btb)");
  std::vector<ColdTarget> out;
  for (size_t i = 0; i < pts->size(); ++i) {
    std::string w = where + "[" + std::to_string(i) + "]";
    const json& p = (*pts)[i];
    if (!p.is_object()) throw InputError(w + ": expected an object");
    ColdTarget t{num_at(p, "code_bytes", w, 1, 1e9), 0, num_at(p, "minus_warm_ns", w, -1e7, 1e7)};
    t.sites_per_line = num_at(p, "sites_per_line", w, 1, 64);
    double lo = num_at(p, "min_ns", w, -1e7, 1e7), hi = num_at(p, "max_ns", w, -1e7, 1e7);
    if (hi < lo) throw InputError(w + ": expected min_ns <= max_ns");
    t.tolerance_ns = 10 + (hi - lo) / 2;
    out.push_back(t);
  }
  return out;
}

CodeFit fit_code_with_btb(Params p, const std::vector<ColdTarget>& t) {
  constexpr int nk = 29, ns = 176, nq = 60, ne = 32;
  constexpr double kWays[] = {1, 2, 4, 8, 16};
  auto k_of = [](int i) { return 1 + 0.25 * i; };
  auto s_of = [](int i) { return 0.5 + 0.02 * i; };
  auto q_of = [](int i) { return 0.1 * (i + 1); };
  auto e_of = [](int i) { return 512.0 * (i + 1); };
  const size_t n = t.size();
  // Each point weighs 1 / its tolerance squared: the fit minimises what the
  // check holds it to (a 2 us point's runs spread by hundreds of ns, an 8
  // KiB point's by a few).
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1 / std::max(1.0, t[i].tolerance_ns);
  // r[k][s] = the model without the BTB minus the kernel.
  std::vector<double> r(static_cast<size_t>(nk * ns) * n), rr(static_cast<size_t>(nk * ns));
  p.cache.btb.entries = 0;
  for (int ki = 0; ki < nk; ++ki)
    for (int si = 0; si < ns; ++si) {
      p.cache.l1i.concentration = k_of(ki);
      p.cache.icache_scale = s_of(si);
      std::vector<double> a = model_minus_warm(p, t);
      size_t at = static_cast<size_t>(ki * ns + si);
      for (size_t i = 0; i < n; ++i) {
        r[at * n + i] = (a[i] - t[i].minus_warm_ns) * w[i];
        rr[at] += r[at * n + i] * r[at * n + i];
      }
    }
  // b[w][e][q]: what the BTB adds, which depends on the footprint scale and
  // the sites a line only through their product q (cache.cpp's fb_).
  p.cache.l1i.concentration = 1;
  p.cache.icache_scale = 1;
  const std::vector<double> off = model_minus_warm(p, t);
  const size_t nb = std::size(kWays) * ne * nq;
  std::vector<double> b(nb * n), bb(nb);
  for (size_t wi = 0; wi < std::size(kWays); ++wi)
    for (int ei = 0; ei < ne; ++ei)
      for (int qi = 0; qi < nq; ++qi) {
        p.cache.btb.entries = e_of(ei);
        p.cache.btb.ways = kWays[wi];
        p.cache.btb.kernel_sites_per_line = q_of(qi);
        std::vector<double> on = model_minus_warm(p, t);
        size_t at = (wi * ne + static_cast<size_t>(ei)) * nq + static_cast<size_t>(qi);
        for (size_t i = 0; i < n; ++i) {
          b[at * n + i] = (on[i] - off[i]) * w[i];
          bb[at] += b[at * n + i] * b[at * n + i];
        }
      }
  CodeFit best;
  best.sq_error = INFINITY;
  size_t best_a = 0, best_b = 0;
  for (size_t a = 0; a < rr.size(); ++a)
    for (size_t j = 0; j < nb; ++j) {
      double dot = 0;
      for (size_t i = 0; i < n; ++i) dot += r[a * n + i] * b[j * n + i];
      double e = rr[a] + bb[j] + 2 * dot;
      if (e < best.sq_error - 1e-9) {
        int ki = static_cast<int>(a) / ns, si = static_cast<int>(a) % ns;
        int qi = static_cast<int>(j % nq), ei = static_cast<int>(j / nq) % ne;
        best = {k_of(ki), s_of(si), q_of(qi) / s_of(si), e, e_of(ei), kWays[j / nq / ne]};
        best_a = a, best_b = j;
      }
    }
  // Its squared error in ns (unweighted), as the other side reports it.
  best.sq_error = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = (r[best_a * n + i] + b[best_b * n + i]) / w[i];
    best.sq_error += d * d;
  }
  return best;
}

}  // namespace tunsim::calib
