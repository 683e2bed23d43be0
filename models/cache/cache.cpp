#include "models/cache/cache.hpp"

#include <algorithm>
#include <cmath>

namespace tunsim {

const char* path_name(Path p) {
  switch (p) {
    case Path::Syscall: return "syscall";
    case Path::Vhost: return "vhost";
    case Path::TunGetUser: return "tun_get_user";
    case Path::Softirq: return "softirq";
    case Path::NetifReceiveSkb: return "netif_receive_skb";
    case Path::Stack: return "stack";
    case Path::Receiver: return "receiver";
    case Path::Count: break;
  }
  return "?";
}

namespace {
double lines(double bytes, double line) { return std::ceil(bytes / line); }
// Fraction of a footprint F evicted from an LRU cache of C bytes after d
// distinct other bytes were touched.
double evicted(double d, double f, double c) {
  if (f <= 0) return 0;
  return std::clamp((d + f - c) / f, 0.0, 1.0);
}
}  // namespace

void CacheModel::set_params(const CacheParams* p) {
  p_ = p;
  for (int k = 0; k < kPaths; ++k) {
    fi_[k] = p->icache_bytes[k];
    fd_[k] = p->dcache_bytes[k];
    li1_[k] = lines(fi_[k], p->l1i.line_bytes);
    ld1_[k] = lines(fd_[k], p->l1d.line_bytes);
    l2_[k] = lines(fi_[k], p->l2.line_bytes) + lines(fd_[k], p->l2.line_bytes);
  }
}

double CacheModel::run_path(Path path, CacheMisses& out) {
  int k = static_cast<int>(path);
  double fi = fi_[k], fd = fd_[k];
  double cycles = 0;
  if (p_->enabled) {
    CacheMisses m;
    double ei = 1, ed = 1, eu = 1;  // first run: cold everywhere
    if (seen_[k]) {
      // Distinct bytes since P last ran: other paths run since, once each,
      // plus the skb data streamed since.
      double di = 0, dd = 0;
      const uint64_t since = last_seq_[k];
      for (int q = 0; q < kPaths; ++q) {
        double w = last_seq_[q] > since ? 1.0 : 0.0;  // never-run paths have seq 0
        di += w * fi_[q];
        dd += w * fd_[q];
      }
      dd += static_cast<double>(stream_ - last_stream_[k]);
      ei = evicted(di, fi, p_->l1i.size_bytes);
      ed = evicted(dd, fd, p_->l1d.size_bytes);
      eu = evicted(di + dd, fi + fd, p_->l2.size_bytes);
    }
    m.l1i = li1_[k] * ei;
    m.l1d = ld1_[k] * ed;
    m.l2 = l2_[k] * eu;
    cycles = m.l1i * p_->l1i.miss_penalty_cycles + m.l1d * p_->l1d.miss_penalty_cycles +
             m.l2 * p_->l2.miss_penalty_cycles;
    out += m;
  }
  i_ += static_cast<uint64_t>(fi);
  d_ += static_cast<uint64_t>(fd);
  last_seq_[k] = ++seq_;
  last_stream_[k] = stream_;
  seen_[k] = true;
  return cycles;
}

CacheModel::Mark CacheModel::touch_data(double bytes) {
  stream_ += static_cast<uint64_t>(bytes);
  d_ += static_cast<uint64_t>(bytes);
  return Mark{stream_, seq_};
}

double CacheModel::reread_data(Mark mark, double bytes, CacheMisses& out) {
  double cycles = 0;
  if (p_->enabled) {
    // Distinct bytes since the skb was written: the data streamed since, plus
    // the footprints of the paths that ran since (once each).
    double di = 0, dd = static_cast<double>(stream_ - std::min(mark.d, stream_));
    for (int q = 0; q < kPaths; ++q)
      if (last_seq_[q] > mark.u) {
        di += fi_[q];
        dd += fd_[q];
      }
    CacheMisses m;
    m.l1d = lines(bytes, p_->l1d.line_bytes) * evicted(dd, bytes, p_->l1d.size_bytes);
    m.l2 = lines(bytes, p_->l2.line_bytes) * evicted(di + dd, bytes, p_->l2.size_bytes);
    cycles = m.l1d * p_->l1d.miss_penalty_cycles + m.l2 * p_->l2.miss_penalty_cycles;
    out += m;
  }
  return cycles;
}

double CacheModel::reread_cold(double bytes, CacheMisses& out) {
  if (!p_->enabled) return 0;
  CacheMisses m;
  m.l1d = lines(bytes, p_->l1d.line_bytes);
  m.l2 = lines(bytes, p_->l2.line_bytes);
  out += m;
  return m.l1d * p_->l1d.miss_penalty_cycles + m.l2 * p_->l2.miss_penalty_cycles;
}

}  // namespace tunsim
