#include "models/kernel/kernel.hpp"

#include <algorithm>
#include <cmath>

namespace tunsim {

const char* design_name(Design d) {
  switch (d) {
    case Design::NetifRxNi: return "netif_rx_ni";
    case Design::V1Napi: return "v1_napi";
    case Design::DeferredSignal: return "deferred_signal";
    case Design::RxBatched: return "rx_batched";
    case Design::NapiGro: return "napi_gro";
  }
  return "?";
}

const std::vector<Design>& all_designs() {
  static const std::vector<Design> d = {Design::NetifRxNi, Design::V1Napi, Design::DeferredSignal,
                                        Design::RxBatched, Design::NapiGro};
  return d;
}

bool parse_design(const std::string& s, Design& out) {
  for (Design d : all_designs())
    if (s == design_name(d)) {
      out = d;
      return true;
    }
  return false;
}

int Params::queues() const {
  int q = 0;
  for (auto& s : senders) q = std::max(q, s.queue + 1);
  return q;
}

namespace {
// Clip a busy interval [t0, t1] to the statistics window.
double clip(double t0, double t1, double lo, double hi) {
  return std::max(0.0, std::min(t1, hi) - std::max(t0, lo));
}
}  // namespace

void Ctx::spend_cycles(double cycles) {
  if (cycles <= 0) return;
  double dt = cycles / (k->p.hz * cpu->speed);
  double busy = clip(now, now + dt, k->rec.warmup, k->rec.end);
  if (thread && thread->is_ksoftirqd)
    cpu->t_ksoftirqd += busy;
  else if (cpu->in_softirq)
    cpu->t_softirq += busy;
  else
    cpu->t_process += busy;
  now += dt;
  pending_cycles += cycles;
}

void Ctx::spend_ns(double ns) { spend_cycles(k->p.cycles(ns)); }

void Ctx::line_transfer() {
  ++k->rec.line_transfers;
  spend_ns(k->p.costs.cacheline_transfer_ns);
}

void Ctx::spend(Path path, double ns) {
  double penalty = cpu->cache.run_path(path, cpu->misses[static_cast<int>(path)]);
  spend_cycles(k->p.cycles(ns) + penalty);
}

Kernel::Kernel(Params params) : p(std::move(params)) {
  rec.warmup = p.warmup_s;
  rec.end = p.duration_s;
  rec.cpu_trace.resize(static_cast<size_t>(p.cpus));
  for (int i = 0; i < p.cpus; ++i) {
    auto c = std::make_unique<Cpu>();
    c->id = i;
    c->speed = p.speed_of(i);
    c->cache.set_params(&p.cache);
    c->backlog.kind = Napi::Kind::Backlog;
    c->backlog.index = i;
    c->backlog.weight = p.kernel.dev_weight *
                        (p.kernel.version >= KernelVersion::V4_15 ? p.kernel.dev_weight_rx_bias : 1);
    c->backlog.id = 0xffff000000000000ULL | static_cast<uint64_t>(i);
    c->backlog.dev = "backlog";
    c->next_tick = 1.0 / p.kernel.hz;
    cpus.push_back(std::move(c));
  }
  for (int q = 0; q < p.queues(); ++q) {
    auto tq = std::make_unique<TunQueue>();
    tq->index = q;
    tq->napi.kind = Napi::Kind::Tun;
    tq->napi.index = q;
    tq->napi.weight = p.kernel.napi_weight;
    tq->napi.id = 0xffff888000000000ULL | static_cast<uint64_t>(q) << 12;
    tq->napi.dev = "tap0";
    queues.push_back(std::move(tq));
  }
  // A tun queue written from several CPUs, or whose NAPI those CPUs schedule,
  // is shared state: every access to it is a synchronisation point.
  for (auto& tq : queues) {
    std::vector<int> cpus_of;
    for (auto& s : p.senders)
      if (s.queue == tq->index && std::find(cpus_of.begin(), cpus_of.end(), s.cpu) == cpus_of.end())
        cpus_of.push_back(s.cpu);
    bool shared = cpus_of.size() > 1;
    tq->write_queue.shared = shared;
    tq->process_queue.shared = shared;
    tq->napi.shared = shared;
  }
  // RPS: the backlog of a target CPU is written by the senders on other CPUs.
  for (int c : p.rps_cpus) {
    bool remote = false;
    for (auto& s : p.senders) remote |= s.cpu != c;
    if (remote) {
      cpu(c).shared_sd = true;
      cpu(c).input_pkt_queue.shared = true;
      cpu(c).backlog.shared = true;
    }
  }
  {
    std::vector<int> cpus_of;
    for (auto& s : p.senders) cpus_of.push_back(s.cpu);
    for (int c : p.rps_cpus) cpus_of.push_back(c);
    std::sort(cpus_of.begin(), cpus_of.end());
    udp.shared = std::unique(cpus_of.begin(), cpus_of.end()) - cpus_of.begin() > 1;
  }
}

Thread* Kernel::add_thread(const std::string& comm, int c, bool ksoftirqd) {
  auto t = std::make_unique<Thread>();
  t->comm = comm;
  t->pid = 1000 + static_cast<int>(threads.size());
  t->cpu = c;
  t->is_ksoftirqd = ksoftirqd;
  Thread* raw = t.get();
  cpu(c).threads.push_back(raw);
  if (ksoftirqd) cpu(c).ksoftirqd = raw;
  threads.push_back(std::move(t));
  return raw;
}

double Kernel::jiffies_of(double t) const { return std::floor(t * p.kernel.hz + 1e-9); }

}  // namespace tunsim
