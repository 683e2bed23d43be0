#include "models/kernel/kernel.hpp"

#include <algorithm>

#include "models/backlog/backlog.hpp"
#include "models/napi/napi.hpp"
#include "models/tun/tun.hpp"

namespace tunsim {

void SkbPool::add_chunk() {
  constexpr size_t kChunk = 1024;
  chunks_.emplace_back(new Skb[kChunk]);
  Skb* c = chunks_.back().get();
  for (size_t i = kChunk; i-- > 0;) {
    // Slab-like addresses: each slot keeps its address for life.
    c[i].addr = 0xffff888100000000ULL + (slots_ + i) * 0x100;
    c[i].next = free_;
    free_ = &c[i];
  }
  slots_ += kChunk;
}

void Ctx::lock_shared(const SkbQueue& q) {
  sync();
  claim(q);
  if (q.lock_free_at > now) {
    ++k->rec.lock_spins;
    spend_cycles((q.lock_free_at - now) * cpu->cycles_per_s);
  }
  spend_ns(k->p.costs.lock_ns);
  q.lock_free_at = now;
}

// Both lines are taken at one synchronisation point: the two accesses are a
// few instructions apart in one function, and ordering them against other
// CPUs once saves the engine a suspension per line.
void Ctx::take_socket_lines(const TunQueue& tq) {
  sync();
  claim(tq.socket_line);
  claim(tq.wmem_line);
}

void Ctx::tun_sock_write_space(const TunQueue& tq) {
  if (!sock_writeable(*k, tq)) return;
  tq.async_nospace = false;
  if (!tq.write_space_waiter) return;  // waitqueue_active
  ++tq.write_space_wakeups;
  tq.write_space_waiter->func(tq.write_space_waiter);
}

void Ctx::line_transfer() {
  ++k->rec.line_transfers;
  spend_ns(k->p.costs.cacheline_transfer_ns);
}

void Ctx::line_burst(int lines) {
  k->rec.line_transfers += static_cast<uint64_t>(lines);
  spend_ns(lines * k->p.costs.cacheline_burst_ns);
}

namespace {
uint64_t rng_seed(unsigned long long seed, int kind, int id) {
  uint64_t s = seed * 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(kind) << 32 | static_cast<uint32_t>(id));
  return splitmix64(s);
}
}  // namespace

Kernel::Kernel(Params params) : p(std::move(params)) {
  rec.warmup = p.warmup_s;
  rec.end = p.duration_s;
  // __do_softirq's MAX_SOFTIRQ_TIME and net_rx_action's netdev_budget_usecs
  // in jiffies (4.12+: usecs_to_jiffies; 4.9/4.11, no such sysctl: 2).
  const KernelParams& kp = p.kernel;
  softirq_jiffies = std::ceil(kp.max_softirq_time_ms * kp.hz / 1000.0 - 1e-9);
  budget_jiffies = kp.netdev_budget_usecs > 0 ? std::ceil(kp.netdev_budget_usecs * 1e-6 * kp.hz - 1e-9) : 2;
  for (int i = 0; i < p.cpus; ++i) {
    auto c = std::make_unique<Cpu>();
    c->id = i;
    c->rng = rng_seed(p.seed, 1, i);
    c->speed = p.speed_of(i);
    c->cycles_per_s = p.cpu_hz * c->speed;
    c->cache.set_params(&p.cache);
    c->next_tick = 1.0 / p.kernel.hz;
    if (!p.stall_ns.empty()) {  // cpus.stall: the first window, where the seed puts it (the same on every CPU)
      uint64_t s = rng_seed(p.seed, 3, 0);
      c->next_stall = static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53 * p.stall_period_us * 1e-6;
    }
    c->quiet_until = std::min(c->next_stall, rec.end);
    cpus.push_back(std::move(c));
    backlog_init(*this, *cpus.back());
  }
  for (int q = 0; q < p.queues(); ++q) {
    auto tq = std::make_unique<TunQueue>();
    tq->index = q;
    queues.push_back(std::move(tq));
    tun_queue_init(*this, *queues.back());
  }
  // A tun queue written from several CPUs, or whose NAPI those CPUs schedule,
  // is shared state: every access to it is a synchronisation point.
  auto add_once = [](std::vector<int>& v, int c) {
    if (std::find(v.begin(), v.end(), c) == v.end()) v.push_back(c);
  };
  std::vector<int> skb_cpus;  // every CPU that builds or frees skbs
  for (auto& tq : queues) {
    std::vector<int> cpus_of, writer_cpus;
    for (auto& s : p.senders)
      if (s.queue == tq->index) {
        add_once(cpus_of, s.cpu);
        if (s.type == SenderType::Writer) add_once(writer_cpus, s.cpu);
      }
    // A threaded NAPI's kthread polls it from its own CPU.
    if (p.tun.threaded && !cpus_of.empty()) add_once(cpus_of, napi_thread_cpu(p, tq->index));
    bool shared = cpus_of.size() > 1;
    // Writer threads on more than one CPU modify the fd's struct file.
    tq->file_line.shared = writer_cpus.size() > 1;
    tq->write_queue.shared = shared;
    tq->process_queue.shared = shared;
    tq->napi.shared = shared;
    // Its socket is written where the skbs are built and where they are
    // freed: those CPUs and, with RPS, the CPUs the stack runs on.
    if (!cpus_of.empty())
      for (int c : p.rps_cpus) add_once(cpus_of, c);
    tq->wmem_line.shared = tq->socket_line.shared = cpus_of.size() > 1;
    for (int c : cpus_of) add_once(skb_cpus, c);
  }
  // SLUB's slabs are shared by every CPU that builds or frees skbs, even
  // CPUs that never free each other's: a slab one CPU empties reaches the
  // node's partial list, and another CPU's allocation takes it from there
  // (models/slub/lists.cpp).  Their slab paths are synchronisation points.
  if (skb_cpus.size() > 1)
    for (int c : skb_cpus) cpu(c).slub.shared = true;
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
  // A UDP socket fed from several CPUs.
  if (p.stack.type == StackType::Udp) {
    std::vector<int> cpus_of;
    for (auto& s : p.senders) cpus_of.push_back(s.cpu);
    for (int c : p.rps_cpus) cpus_of.push_back(c);
    std::sort(cpus_of.begin(), cpus_of.end());
    udp.shared = std::unique(cpus_of.begin(), cpus_of.end()) - cpus_of.begin() > 1;
  }
}

Thread* Kernel::add_thread(const std::string& comm, int c, Thread::Kind kind) {
  auto t = std::make_unique<Thread>();
  t->comm = comm;
  t->id = static_cast<int>(threads.size());
  t->pid = kind == Thread::Kind::Irq ? 0 : 1000 + t->id;
  t->cpu = c;
  t->kind = kind;
  t->is_ksoftirqd = kind == Thread::Kind::Ksoftirqd;
  t->rng = rng_seed(p.seed, 2, t->id);
  Thread* raw = t.get();
  if (kind == Thread::Kind::Irq) {
    cpu(c).irq = raw;
    raw->state = Thread::State::Running;  // never on a run queue: takes an idle CPU when an IPI arrives
  } else {
    cpu(c).threads.push_back(raw);
  }
  if (t->is_ksoftirqd) cpu(c).ksoftirqd = raw;
  threads.push_back(std::move(t));
  return raw;
}

}  // namespace tunsim
