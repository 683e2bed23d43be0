#include "models/writer/cold.hpp"

#include "models/writer/writer.hpp"

namespace tunsim {

std::vector<double> cold_write_ns(const Params& params, const std::vector<ColdPoint>& points) {
  Params p = params;
  p.costs.writer_user_ns = 0;
  // Base costs constant: kcold's points are p10s of many samples, and the
  // cold - warm differences the fit uses do not depend on the base cost.
  p.costs.spread_process.clear();
  p.costs.spread_softirq.clear();
  p.tun.sndbuf = TunParams::kIntMax;  // kcold's tap keeps tun_chr_open's: no write() is ever refused
  p.warmup_s = 0;
  p.duration_s = 1e9;  // never the end: the replay decides how many writes
  SenderParams& sp = p.senders.at(0);
  sp.user_code_bytes = sp.user_data_bytes = 0;  // the replay pollutes itself, between the two writes
  Kernel k(p);
  Thread* t = k.add_thread("kcold", 0, Thread::Kind::Sender);
  k.add_thread("ksoftirqd/0", 0, Thread::Kind::Ksoftirqd);
  t->state = Thread::State::Running;
  k.cpu(0).current = t;
  Ctx ctx;
  ctx.k = &k;
  ctx.cpu = &k.cpu(0);
  ctx.thread = t;
  Writer w{&k.p.senders[0]};
  // kcold's first rounds: every path has run, the caches hold it.
  for (int i = 0; i < 4; ++i) writer_write(ctx, w);
  std::vector<double> out;
  for (const ColdPoint& pt : points) {
    writer_write(ctx, w);  // untimed
    ctx.cpu->cache.pollute(pt.code_bytes, pt.data_bytes, pt.branch_sites);
    double t0 = ctx.now;
    writer_write(ctx, w);  // timed
    out.push_back((ctx.now - t0) * 1e9);
  }
  return out;
}

}  // namespace tunsim
