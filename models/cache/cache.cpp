#include "models/cache/cache.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace tunsim {

const char* path_name(Path p) {
  switch (p) {
    case Path::Syscall: return "syscall";
    case Path::Vhost: return "vhost";
    case Path::TunGetUser: return "tun_get_user";
    case Path::Softirq: return "softirq";
    case Path::NetifReceiveSkb: return "netif_receive_skb";
    case Path::Gro: return "gro";
    case Path::StackDrop: return "stack_drop";
    case Path::StackBridge: return "stack_bridge";
    case Path::StackUdp: return "stack_udp";
    case Path::Receiver: return "receiver";
    case Path::Count: break;
  }
  return "?";
}

void MissCurve::init(double ways) {
  // P[Poisson(x) >= ways] up to x = 8 * ways (beyond: 1 within 1e-9); one
  // table per number of ways, built once and shared.
  int a = std::max(1, static_cast<int>(std::lround(ways)));
  static std::map<int, std::vector<double>> tables;  // nodes and their data never move
  auto it = tables.find(a);
  if (it == tables.end()) {
    size_t n = static_cast<size_t>(8.0 * a * kPerUnit) + 2;
    std::vector<double> t(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      double x = static_cast<double>(i) / kPerUnit;
      double term = std::exp(-x), cdf = 0;
      for (int k = 0; k < a; ++k) {
        cdf += term;
        term *= x / (k + 1);
      }
      t[i] = std::clamp(1.0 - cdf, 0.0, 1.0);
    }
    it = tables.emplace(a, std::move(t)).first;
  }
  t_ = it->second.data();
  n_ = it->second.size();
}

namespace {
double lines_of(double bytes, double line) { return std::ceil(bytes / line); }
double sets_of(const CacheLevel& l) { return std::max(1.0, l.size_bytes / l.line_bytes / std::max(1.0, l.ways)); }
}  // namespace

void CacheModel::set_params(const CacheParams* p) {
  p_ = p;
  line_ = p->l1d.line_bytes;
  c_l1i_.init(p->l1i.ways);
  c_l1d_.init(p->l1d.ways);
  c_l2_.init(p->l2.ways);
  c_llc_.init(p->llc.ways);
  s_l1i_ = sets_of(p->l1i);
  s_l1d_ = sets_of(p->l1d);
  s_l2_ = sets_of(p->l2);
  s_llc_ = sets_of(p->llc);
  sites_ = p->btb.entries > 0;
  if (sites_) {
    c_btb_.init(p->btb.ways);
    s_btb_ = std::max(1.0, p->btb.entries / std::max(1.0, p->btb.ways));
  }
  for (int k = 0; k < kPaths; ++k) {
    fi_[static_cast<size_t>(k)] = lines_of(p->icache_bytes[static_cast<size_t>(k)] * p->icache_scale, line_);
    fd_[static_cast<size_t>(k)] = lines_of(p->dcache_bytes[static_cast<size_t>(k)] * p->dcache_scale, line_);
    // Sites from the unrounded lines: the fit's sites a line and footprint
    // scale then act only through their product.
    fb_[static_cast<size_t>(k)] =
        sites_ ? p->icache_bytes[static_cast<size_t>(k)] * p->icache_scale / line_ * p->btb.kernel_sites_per_line : 0;
  }
  // The sums over every mask, built once per distinct pair of footprints
  // (the CPUs of a machine share one; a batch's points a few).
  struct MaskTables {
    std::array<double, kPaths> fi, fd, fb;
    std::vector<double> i, d, b;
  };
  static std::vector<std::shared_ptr<const MaskTables>> known;
  std::shared_ptr<const MaskTables> t;
  for (auto& k : known)
    if (k->fi == fi_ && k->fd == fd_ && k->fb == fb_) t = k;
  if (!t) {
    auto n = std::make_shared<MaskTables>();
    n->fi = fi_;
    n->fd = fd_;
    n->fb = fb_;
    n->i.assign(size_t(1) << kPaths, 0.0);
    n->d.assign(size_t(1) << kPaths, 0.0);
    n->b.assign(size_t(1) << kPaths, 0.0);
    for (size_t m = 1; m < n->i.size(); ++m) {
      int low = __builtin_ctz(static_cast<unsigned>(m));
      n->i[m] = n->i[m & (m - 1)] + fi_[static_cast<size_t>(low)];
      n->d[m] = n->d[m & (m - 1)] + fd_[static_cast<size_t>(low)];
      n->b[m] = n->b[m & (m - 1)] + fb_[static_cast<size_t>(low)];
    }
    t = n;
    // A process that builds very many (a fit) remembers only the last 64.
    if (known.size() >= 64) known.erase(known.begin());
    known.push_back(std::move(n));
  }
  mask_i_ = t->i.data();
  mask_d_ = t->d.data();
  mask_b_ = t->b.data();
  masks_ = std::move(t);
}

CacheMisses CacheModel::misses_after(double li, double ld, double di, double dd, double ui, double ud,
                                     double ub, double sb, double db) const {
  CacheMisses m;
  // Between two uses of one of the path's lines, every other line of the
  // path was touched too (those after it in the previous run, those before it
  // in this one): li - 1 of them.  At L1 the kernel's lines crowd into
  // sets / k of the sets (cache.hpp): k times as many of them per set.
  const double ki = p_->l1i.concentration, kd = p_->l1d.concentration;
  m.l1i = li * c_l1i_((ki * (di + std::max(0.0, li - 1)) + ui) / s_l1i_);
  m.l1d = ld * c_l1d_((kd * (dd + std::max(0.0, ld - 1)) + ud) / s_l1d_);
  double lu = li + ld, du = di + dd + std::max(0.0, lu - 1) + ui + ud;
  m.l2 = lu * c_l2_(du / s_l2_);
  m.llc = lu * c_llc_(du / s_llc_);
  // Branch sites: the path's, the other kernel paths' and the uniformly
  // placed code's (no concentration: nothing measured says the kernel's
  // sites crowd the BTB's sets).
  if (sites_ && sb > 0) m.btb = sb * c_btb_((db + std::max(0.0, sb - 1) + ub) / s_btb_);
  return m;
}

double CacheModel::penalty_ns(const CacheMisses& m, bool dependent) const {
  // Split L2 and LLC misses between the sides in proportion to what missed
  // the first level (both sides share them).
  double l1 = m.l1i + m.l1d;
  double fi = l1 > 0 ? m.l1i / l1 : 0, fd = 1 - fi;
  const CacheParams& p = *p_;
  const bool kdata = !dependent && p.kdata_l2_ns >= 0 && p.kdata_llc_ns >= 0;
  double d_l2 = kdata ? p.kdata_l2_ns : p.l2.hit_ns - p.l1d.hit_ns;
  double d_llc = kdata ? std::max(0.0, p.kdata_llc_ns - p.kdata_l2_ns) : p.llc.hit_ns - p.l2.hit_ns;
  double ns = m.l1i * p.ifetch_l2_ns + m.l1d * d_l2 + m.btb * p.btb.miss_ns;
  ns += m.l2 * (fi * (p.ifetch_llc_ns - p.ifetch_l2_ns) + fd * d_llc);
  ns += m.llc * (fi * (p.ifetch_memory_ns - p.ifetch_llc_ns) + fd * (p.memory_ns - p.llc.hit_ns));
  return ns;
}

namespace {
// The slot of a direct-mapped memo of 64 for a history: data streamed,
// paths run, code placed uniformly since.
size_t history_slot(uint64_t data, uint32_t paths, uint64_t code) {
  return (data / 64 * 0x9e3779b1u ^ paths * 31u ^ code / 64) & 63;
}
}  // namespace

double CacheModel::run_path_fresh(size_t k, CacheMisses& out) {
  if (!seen_[k]) {
    // First run: cold everywhere.
    CacheMisses m{fi_[k], fd_[k], fi_[k] + fd_[k], fi_[k] + fd_[k], fb_[k]};
    out += m;
    return penalty_ns(m);
  }
  Memo& memo = memo_[k];
  uint32_t mask = since_[k];
  uint64_t streamed = stream_ - stream_at_[k], istreamed = istream_ - istream_at_[k],
           bstreamed = bstream_ - bstream_at_[k];
  // Where CPUs interleave, a path alternates between a few histories: the
  // results of recent ones are kept per path (a pure function of the key).
  Memo& seen = history_memo_[k][history_slot(streamed, mask, istreamed)];
  if (seen.mask != mask || seen.stream != streamed || seen.istream != istreamed || seen.bstream != bstreamed) {
    seen.m = misses_after(fi_[k], fd_[k], mask_i_[mask], mask_d_[mask], static_cast<double>(istreamed) / line_,
                          static_cast<double>(streamed) / line_, static_cast<double>(bstreamed), fb_[k], mask_b_[mask]);
    seen.ns = penalty_ns(seen.m);
    seen.mask = mask;
    seen.stream = streamed;
    seen.istream = istreamed;
    seen.bstream = bstreamed;
  }
  memo = seen;
  out += memo.m;
  return memo.ns;
}

void CacheModel::pollute(double code_bytes, double data_bytes, double branch_sites) {
  istream_ += static_cast<uint64_t>(code_bytes);
  if (sites_) bstream_ += static_cast<uint64_t>(branch_sites < 0 ? std::ceil(code_bytes / line_) : branch_sites);
  stream_ += static_cast<uint64_t>(data_bytes);
}

double CacheModel::reread_penalty_ns(const CacheMisses& m) const {
  const CacheParams& p = *p_;
  if (p.skb_reread_l2_ns < 0 || p.skb_reread_llc_ns < 0) return penalty_ns(m, true);
  // Data lines only (a reread has no instruction side): each L1d miss is a
  // line from L2 or further, each L2 miss one from the LLC or further, each
  // LLC miss one from memory, priced as a dependent load (not measured).
  return m.l1d * p.skb_reread_l2_ns + m.l2 * std::max(0.0, p.skb_reread_llc_ns - p.skb_reread_l2_ns) +
         m.llc * (p.memory_ns - p.llc.hit_ns);
}

double CacheModel::reread_data(Mark mark, double bytes, CacheMisses& out) {
  if (!p_->enabled) return 0;
  // Distinct lines since the skb was written: the data streamed since, plus
  // the footprints of the paths that ran since (once each).
  uint32_t mask = 0;
  for (size_t q = 0; q < static_cast<size_t>(kPaths); ++q)
    if (seq_at_[q] > mark.u) mask |= 1u << q;
  uint64_t delta = stream_ - std::min(mark.d, stream_), idelta = istream_ - std::min(mark.i, istream_);
  RereadMemo& r = reread_memo_[history_slot(delta, mask, idelta)];
  if (r.mask != mask || r.delta != delta || r.idelta != idelta || r.bytes != bytes) {
    // The skb's lines are placed uniformly (slab objects spread over the
    // page): a fraction 1/k of them sits in the sets the kernel's lines
    // crowd (k times the even density there), the rest sees only the
    // uniformly placed lines.
    double lines = lines_of(bytes, line_), ui = static_cast<double>(idelta) / line_,
           ud = static_cast<double>(delta) / line_;
    double kd = p_->l1d.concentration, own = std::max(0.0, lines - 1);
    CacheMisses m = misses_after(0, lines, mask_i_[mask], mask_d_[mask], ui, ud);
    double in_crowded = c_l1d_((kd * mask_d_[mask] + ud + own) / s_l1d_);
    double elsewhere = kd > 1 ? c_l1d_((ud + own) / s_l1d_) : 0;
    m.l1d = lines * (in_crowded / kd + (1 - 1 / kd) * elsewhere);
    r.m = m;
    r.ns = reread_penalty_ns(r.m);
    r.mask = mask;
    r.delta = delta;
    r.idelta = idelta;
    r.bytes = bytes;
  }
  out += r.m;
  return r.ns;
}

double CacheModel::remote_walk(int burst_lines, double cold_bytes, CacheMisses& out) {
  double cold = p_->enabled ? lines_of(cold_bytes, line_) : 0;
  CacheMisses m;
  m.l1d = m.l2 = cold;
  out += m;
  return (burst_lines + cold) * p_->skb_remote_walk_ns;
}

double CacheModel::reread_cold(double bytes, CacheMisses& out) {
  if (!p_->enabled) return 0;
  CacheMisses m;
  m.l1d = m.l2 = lines_of(bytes, line_);
  out += m;
  return penalty_ns(m, true);
}

}  // namespace tunsim
