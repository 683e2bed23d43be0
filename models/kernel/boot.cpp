#include "models/kernel/boot.hpp"

#include <algorithm>
#include <numeric>

#include "models/irq/irq.hpp"
#include "models/napi/napi.hpp"
#include "models/sched/fair.hpp"
#include "models/softirq/softirq.hpp"

namespace tunsim {

Machine boot(const Params& p) {
  Machine m;
  m.k = std::make_unique<Kernel>(p);
  Kernel& k = *m.k;
  for (size_t i = 0; i < k.p.senders.size(); ++i) {
    const SenderParams& sp = k.p.senders[i];
    if (sp.vhost()) {
      auto v = std::make_unique<VhostTx>(sp, k.p.costs, p.seed * 0x100000001b3ULL + i);
      v->vq.window_lo = p.warmup_s;
      v->vq.window_hi = p.duration_s;
      Thread* t = k.add_thread("vhost-" + std::to_string(1000 + i), sp.cpu, Thread::Kind::Sender);
      v->k = &k;
      v->worker = t;
      Ctx c;
      c.k = &k;
      // Created when QEMU set up vhost, long before the run.
      sched_init_sleeper(k, k.cpu(sp.cpu), t);
      t->wake_at = vhost_wake_time(c, *v);  // asleep until the guest's first kick
      VhostTx* raw = v.get();
      m.entries.push_back({t, [raw](Ctx& ctx) { vhost_worker(ctx, *raw); }, false});
      m.vhosts.push_back(std::move(v));
    } else {
      auto w = std::make_unique<Writer>();
      w->sp = &sp;
      Thread* t = k.add_thread("writer-" + std::to_string(1000 + i), sp.cpu, Thread::Kind::Sender);
      sched_init_new_task(k, k.cpu(sp.cpu), t);  // the experiment starts it
      // Woken (wake_up_new_task) at its start time: at once unless a capture
      // says the kernel released it later (senders.N.writer.start_us).
      t->wake_at = sp.writer_start_us * 1e-6;
      Writer* raw = w.get();
      m.entries.push_back({t, [raw](Ctx& ctx) { writer_thread(ctx, *raw); }, false});
      m.writers.push_back(std::move(w));
    }
  }
  for (int c = 0; c < k.p.cpus; ++c) {
    Thread* t = k.add_thread("ksoftirqd/" + std::to_string(c), c, Thread::Kind::Ksoftirqd);
    sched_init_sleeper(k, k.cpu(c), t);
    t->wake_at = -1;
    m.entries.push_back({t, run_ksoftirqd, true});
  }
  // Threaded NAPI: one kthread per tun queue, created when threaded was
  // enabled (napi_kthread_create), asleep until its NAPI is scheduled.
  if (k.p.tun.threaded)
    for (auto& tq : k.queues) {
      int c = napi_thread_cpu(k.p, tq->index);
      Thread* t = k.add_thread(napi_thread_name(*tq), c, Thread::Kind::Kthread);
      sched_init_sleeper(k, k.cpu(c), t);
      t->wake_at = -1;
      tq->napi.thread = t;
      Napi* n = &tq->napi;
      m.entries.push_back({t, [n](Ctx& ctx) { napi_threaded_poll(ctx, *n); }, true});
    }
  for (int c : k.p.rps_cpus) {
    Cpu& cpu = k.cpu(c);
    if (cpu.irq || !cpu.shared_sd) continue;
    Thread* t = k.add_thread("<idle>", c, Thread::Kind::Irq);
    m.entries.push_back({t, idle_irq_context, true});
  }
  return m;
}

std::vector<std::vector<int>> Machine::sharing_groups() const {
  const Params& p = k->p;
  std::vector<int> parent(static_cast<size_t>(p.cpus));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  };
  auto join = [&](int a, int b) { parent[static_cast<size_t>(find(a))] = find(b); };
  // A tun queue written from several CPUs.
  for (auto& tq : k->queues)
    if (tq->write_queue.shared)
      for (auto& a : p.senders)
        for (auto& b : p.senders)
          if (a.queue == tq->index && b.queue == tq->index) join(a.cpu, b.cpu);
  // A NAPI kthread polls the queue from its own CPU.
  if (p.tun.threaded)
    for (auto& tq : k->queues)
      for (auto& s : p.senders)
        if (s.queue == tq->index) join(napi_thread_cpu(p, tq->index), s.cpu);
  // An RPS target's backlog, written by the senders' CPUs.
  for (int c : p.rps_cpus)
    if (k->cpus[static_cast<size_t>(c)]->shared_sd)
      for (auto& s : p.senders) join(c, s.cpu);
  // SLUB's slabs, shared by every CPU that builds or frees skbs when there
  // are several (models/slub/lists.cpp: a slab reaches another CPU through
  // the node's partial list).
  int slub_first = -1;
  for (auto& c : k->cpus)
    if (c->slub.shared) {
      if (slub_first < 0)
        slub_first = c->id;
      else
        join(c->id, slub_first);
    }
  // A socket fed from several CPUs.
  if (k->udp.shared) {
    for (auto& s : p.senders) join(s.cpu, p.senders.front().cpu);
    for (int c : p.rps_cpus) join(c, p.senders.front().cpu);
  }
  std::vector<std::vector<int>> groups;
  std::vector<int> index(static_cast<size_t>(p.cpus), -1);
  for (int c = 0; c < p.cpus; ++c) {
    int r = find(c);
    if (index[static_cast<size_t>(r)] < 0) {
      index[static_cast<size_t>(r)] = static_cast<int>(groups.size());
      groups.emplace_back();
    }
    groups[static_cast<size_t>(index[static_cast<size_t>(r)])].push_back(c);
  }
  return groups;
}

}  // namespace tunsim
