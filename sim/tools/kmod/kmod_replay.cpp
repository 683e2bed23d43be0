#include "sim/tools/kmod/kmod_replay.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "models/kernel/kernel.hpp"

namespace tunsim::kmod {

Curves replay(const Params& params, const Experiment& e, Run run) {
  Params p = params;
  // The module reports medians: the base costs' median, no spread.
  p.costs.spread_process.clear();
  p.costs.spread_softirq.clear();
  p.warmup_s = 0;
  p.duration_s = 1e9;
  Kernel k(p);
  Ctx ctx;
  ctx.k = &k;
  ctx.cpu = &k.cpu(0);
  ctx.cpu->in_softirq = false;  // the module's thread, bh disabled: process context
  CacheModel& cache = ctx.cpu->cache;
  const CacheParams& cp = k.p.cache;
  const double built = cp.skb_bytes + e.frame_bytes, read = cp.skb_bytes + std::min(e.frame_bytes, 128.0);
  std::vector<CacheModel::Mark> marks;
  CacheMisses& m = ctx.cpu->misses[static_cast<int>(Path::NetifReceiveSkb)];
  // One batch of b; returns its per-packet ns (cycles at speed 1 -> ns, so
  // that a scenario's CPU speed does not enter).
  auto batch = [&](int b) {
    marks.resize(static_cast<size_t>(b));
    for (auto& mk : marks) mk = cache.touch_data(built);
    const double c0 = ctx.pending_cycles;
    for (int i = 0; i < b; ++i) {
      if (run == Run::Receive) {
        ctx.spend(Path::NetifReceiveSkb, k.p.costs.netif_receive_skb_ns);
        ctx.spend_ns(cache.reread_data(marks[static_cast<size_t>(i)], read, m));
      }
      ctx.spend(Path::StackDrop, k.p.costs.stack_drop_ns);
    }
    return (ctx.pending_cycles - c0) / k.p.cpu_hz * 1e9 / b;
  };
  Curves c;
  for (double bd : e.batch) {
    const int b = static_cast<int>(bd);
    batch(b);  // the warm-up: the path ran the batch before
    c.warm.push_back(batch(b));
    cache.pollute(0, e.pollute_bytes);
    c.polluted.push_back(batch(b));
  }
  return c;
}

double rms_residual(const Curves& measured, const Curves& model) {
  double rss = 0;
  size_t n = 0;
  for (size_t i = 0; i < measured.warm.size(); ++i, n += 2) {
    double rw = measured.warm[i] - model.warm[i], rp = measured.polluted[i] - model.polluted[i];
    rss += rw * rw + rp * rp;
  }
  return n ? std::sqrt(rss / static_cast<double>(n)) : 0.0;
}

namespace {

// The fitted path's curves without its base, for footprint `bytes`.
struct Evaluator {
  Params p;
  const Experiment& e;
  Run run;
  const Curves& y;
  size_t path;
  Curves shape(double bytes) {
    p.cache.icache_bytes[path] = bytes;
    return replay(p, e, run);
  }
  // Best base for the shape (the mean residual) and the RSS it leaves.
  double rss(const Curves& g, double& base) const {
    double sum = 0;
    const size_t n = y.warm.size();
    for (size_t i = 0; i < n; ++i) sum += (y.warm[i] - g.warm[i]) + (y.polluted[i] - g.polluted[i]);
    base = sum / static_cast<double>(2 * n);
    double r = 0;
    for (size_t i = 0; i < n; ++i) {
      double rw = y.warm[i] - g.warm[i] - base, rp = y.polluted[i] - g.polluted[i] - base;
      r += rw * rw + rp * rp;
    }
    return r;
  }
};

}  // namespace

FootprintFit fit_footprint(const Params& params, const Experiment& e, Run run, const Curves& measured) {
  const Path path = run == Run::Receive ? Path::NetifReceiveSkb : Path::StackDrop;
  Evaluator ev{params, e, run, measured, static_cast<size_t>(path)};
  // The base enters as an additive constant: zero it in the shape.
  (run == Run::Receive ? ev.p.costs.netif_receive_skb_ns : ev.p.costs.stack_drop_ns) = 0;
  const CacheParams& cp = params.cache;
  const double line = cp.l1d.line_bytes, scale = cp.icache_scale;
  // The whole bytes whose footprint the model counts as k lines
  // (ceil(bytes * scale / line), models/cache/cache.cpp): the largest.
  auto bytes_of = [&](long k) {
    double b = std::floor(static_cast<double>(k) * line / scale);
    while (b > 0 && std::ceil(b * scale / line) > static_cast<double>(k)) b -= 1;
    return b;
  };
  const long kmax = std::max(1L, static_cast<long>(std::ceil(cp.l2.size_bytes / line)));
  // Coarse to fine: 16 intervals over [0, kmax], then 16 over the two
  // intervals around the best so far, down to single lines (about 60
  // replays of the experiment where a 257-point grid and a line-by-line
  // refinement took about 320: each replay runs the whole experiment
  // through the cache model).  Ties keep the smaller footprint.
  constexpr long kIntervals = 16;
  double best = std::numeric_limits<double>::infinity();
  long kbest = 0;
  std::map<long, double> seen;
  auto consider = [&](long k) {
    auto it = seen.find(k);
    double r;
    if (it != seen.end()) {
      r = it->second;
    } else {
      double base = 0;
      r = ev.rss(ev.shape(bytes_of(k)), base);
      seen.emplace(k, r);
    }
    if (r < best || (r == best && k < kbest)) {
      best = r;
      kbest = k;
    }
  };
  for (long from = 0, to = kmax;;) {
    const long step = std::max(1L, (to - from + kIntervals - 1) / kIntervals);
    for (long k = from; k <= to; k += step) consider(k);
    consider(to);
    if (step == 1) break;
    from = std::max(0L, kbest - step);
    to = std::min(kmax, kbest + step);
  }

  FootprintFit f;
  f.footprint_bytes = bytes_of(kbest);
  f.search_max_bytes = bytes_of(kmax);
  f.at_bound = kbest == kmax;
  Curves g = ev.shape(f.footprint_bytes);
  double rss = ev.rss(g, f.base_ns);
  const size_t n = measured.warm.size();
  f.observations = static_cast<int>(2 * n);
  f.model = g;
  for (size_t i = 0; i < n; ++i) {
    f.model.warm[i] += f.base_ns;
    f.model.polluted[i] += f.base_ns;
    f.warm_residual_ns.push_back(measured.warm[i] - f.model.warm[i]);
    f.polluted_residual_ns.push_back(measured.polluted[i] - f.model.polluted[i]);
  }
  f.residual_rms_ns = std::sqrt(rss / static_cast<double>(2 * n));
  // Linearised at the optimum: columns 1 and d(model)/d(footprint), the
  // derivative over +-4 lines (the model counts whole lines; one line's step
  // is too fine for the tabulated miss curves), one-sided at 0.
  const double h = 4 * line / scale;
  const double lo = std::max(0.0, f.footprint_bytes - h), hi = f.footprint_bytes + h;
  Curves glo = ev.shape(lo), ghi = ev.shape(hi);
  double s1 = 0, sx = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i)
    for (double d : {(ghi.warm[i] - glo.warm[i]) / (hi - lo), (ghi.polluted[i] - glo.polluted[i]) / (hi - lo)}) {
      s1 += 1;
      sx += d;
      sxx += d * d;
    }
  const double det = s1 * sxx - sx * sx;
  if (2 * n > 2 && det > 0) {
    const double sigma2 = rss / (2.0 * n - 2.0);
    f.base_stderr_ns = std::sqrt(sigma2 * sxx / det);
    f.footprint_stderr_bytes = std::sqrt(sigma2 * s1 / det);
  } else {
    // The footprint does not change the curves (no cache effect): it is not
    // identified at all, and the base is a plain mean (its standard error
    // sigma / sqrt(points), sigma^2 = RSS / (points - 1)).
    f.base_stderr_ns = n ? std::sqrt(rss / std::max(1.0, 2.0 * n - 1.0) / (2.0 * n)) : 0;
    f.footprint_stderr_bytes = std::numeric_limits<double>::infinity();
  }
  return f;
}

}  // namespace tunsim::kmod
