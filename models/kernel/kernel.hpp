// The simulated kernel's state and the execution context every model runs in.
//
// Models are plain C++: they read and advance `Ctx::now` arithmetically.  The
// threads (models/*/ thread bodies) block, yield and hand the CPU over only
// through `Exec`, the small interface the engine (sim/engine) implements; in
// unit tests a context has no Exec and nothing blocks.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/cache/cache.hpp"
#include "models/kernel/params.hpp"
#include "models/kernel/recorder.hpp"
#include "models/kernel/skb.hpp"
#include "models/slub/slab.hpp"

namespace tunsim {

struct Cpu;
struct Ctx;
struct Kernel;
struct TunQueue;

// struct napi_struct: the SCHED and MISSED bits and napi->poll.
struct Napi {
  int (*poll)(Ctx& ctx, Napi& n, int budget) = nullptr;
  void* owner = nullptr;  // what container_of(napi, ...) gives: the TunQueue or the Cpu
  int weight = 64;
  bool sched = false;   // NAPI_STATE_SCHED
  bool missed = false;  // NAPI_STATE_MISSED (4.11+)
  bool shared = false;  // its state is touched from several CPUs
  mutable int last_cpu = -1;
  SkbQueue rx_list;  // GRO_NORMAL packets held for netif_receive_skb_list
  uint64_t addr = 0; // printed as the napi struct address in traces
  const char* dev = "";
  Thread* thread = nullptr;     // threaded NAPI: its kthread (napi->thread)
  bool sched_threaded = false;  // NAPI_STATE_SCHED_THREADED
};

// One cache line of state that several CPUs may write (touched through
// Ctx::touch: a coherence miss when another CPU wrote it last).
struct SharedLine {
  bool shared = false;
  mutable int last_cpu = -1;
};

// An entry of a wait queue whose waker calls `func` (wait_queue_entry_t with
// its func, e.g. vhost_poll_wakeup).
struct WaitEntry {
  void (*func)(WaitEntry* w) = nullptr;
};

struct TunQueue {
  int index = 0;
  SkbQueue write_queue;    // tfile->sk.sk_write_queue
  SkbQueue process_queue;  // v1 patch: tfile->process_queue
  Napi napi;
  // The queue's socket, where every skb tun_get_user builds is charged
  // (skb_set_owner_w) and given back when it is freed (sock_wfree ->
  // tun_sock_write_space).  Two lines of struct tun_file (6.18.44 BTF of
  // this machine): the one of sk.sk_wmem_alloc (offset 380, line 5; apart
  // from sk_write_queue at 400) and the one of socket.flags and socket.sk
  // (offsets 840 and 856, line 13).
  SharedLine wmem_line, socket_line;
  SharedLine file_line;  // f_ref of the writers' shared fd (models/writer)
  // sk_wmem_alloc: the truesize of the skbs charged to the socket and not
  // freed yet (Skb::truesize).  sock_alloc_send_pskb refuses an skb while it
  // is at or above tun.sndbuf (sk_sndbuf): a blocking writer sleeps in
  // sock_wait_for_wmem (models/writer), a non-blocking sender (vhost) gets
  // -EAGAIN; when that first happened and how often (notes in the summary).
  mutable long long wmem_alloc = 0;
  double sndbuf_reached_at = -1;
  uint64_t sndbuf_eagain = 0;
  // SOCKWQ_ASYNC_NOSPACE in sk->sk_socket->flags: set by tun_chr_poll when
  // the socket is not writeable, cleared by tun_sock_write_space as it wakes
  // the socket's wait queue (sk_sleep(sk)), where vhost's TX poll waits
  // while it is armed (vhost_poll_start .. vhost_poll_stop; null if not).
  mutable bool async_nospace = false;
  WaitEntry* write_space_waiter = nullptr;
  mutable uint64_t write_space_wakeups = 0;
  double write_space_wait_since = -1;  // vhost waiting for write space since (-1: not waiting)
};

struct Thread;

// struct softnet_data of one CPU plus the softirq and scheduler state the
// models need.
struct Cpu {
  int id = 0;
  uint64_t rng = 0;  // the cost spread's draws in code without a thread, seeded by (seed, id)
  double softirq_spread = 0;  // the cost spread factor of the softirq run (Ctx::begin_softirq_interval)
  double speed = 1;  // cpus.speed: every cost on this CPU takes cost / speed
  double cycles_per_s = 0;  // cpus.hz * speed
  bool net_rx_pending = false;    // NET_RX bit of local_softirq_pending()
  int bh_disabled = 0;            // local_bh_disable() depth (process context)
  bool in_softirq = false;        // serving a softirq (in_serving_softirq())
  bool in_net_rx_action = false;  // sd->in_net_rx_action (6.4+)
  bool in_napi_threaded_poll = false;  // sd->in_napi_threaded_poll (6.4+)
  bool in_hardirq = false;        // an interrupt handler runs (in_interrupt() without bh or softirq)
  bool need_resched = false;
  std::vector<Napi*> poll_list;  // sd->poll_list (FIFO; a handful of entries)
  std::vector<Napi*> scratch_list, scratch_repoll;  // net_rx_action's local lists
  // backlog (softnet_data)
  SkbQueue input_pkt_queue;
  SkbQueue backlog_process_queue;
  Napi backlog;
  std::vector<int> rps_ipi_list;  // remote CPUs to IPI at the end of net_rx_action
  bool shared_sd = false;         // input queue touched by other CPUs (RPS)
  bool ipi_pending = false;       // an RPS IPI was sent to this CPU and not yet handled
  double ipi_at = 0;
  // statistics (softnet_stat columns)
  uint64_t dropped = 0, time_squeeze = 0;
  uint64_t net_rx_actions = 0, softirq_restarts = 0, ksoftirqd_wakeups = 0;
  // cache and accounting
  CacheModel cache;
  SlubCpu slub;  // its view of the skb caches' slabs (models/slub)
  std::vector<CacheMisses> misses = std::vector<CacheMisses>(kPaths);
  double t_process = 0, t_softirq = 0, t_ksoftirqd = 0;  // busy seconds inside the window
  // scheduler
  std::vector<Thread*> threads;
  Thread* ksoftirqd = nullptr;
  Thread* irq = nullptr;  // interrupt context on an otherwise idle CPU (RPS IPIs)
  Thread* current = nullptr;
  Thread* last_thread = nullptr;  // the thread that ran last (context switch cost)
  Thread* descheduling = nullptr; bool desched_woken = false;  // in __schedule on its way to idle; woken since
  double next_tick = 0, min_vruntime = 0;
  double next_stall = 1e300, busy_since = 0;  // cpus.stall: the next window; a thread holds the CPU since
  // Ctx::spend_cycles' quick case: a run from the statistics window's start on to before
  // `quiet_until` (min(next_stall, the window's end)) needs neither a stall nor a clipped window.
  // Kept with next_stall (Kernel's constructor, Ctx::stall_within).
  double quiet_until = 0;
  uint64_t stalls = 0;                         // the windows passed (models/irq)
  // No thread of this CPU has a timed wake-up (wake_at >= 0) before this: advance_time_events scans the
  // threads only once it is due.  Lowered wherever a wake_at is set (schedule_out), exact after each scan.
  double wake_bound = -std::numeric_limits<double>::infinity();
};

// A kernel or user thread pinned to one CPU.
struct Thread {
  enum class State { Running, Runnable, Sleeping, Dead };
  enum class Kind { Sender, Ksoftirqd, Irq, Kthread };
  std::string comm;
  int pid = 0;
  int id = 0;  // creation order: breaks ties between threads acting at the same instant
  int cpu = 0;
  Kind kind = Kind::Sender;
  bool is_ksoftirqd = false;
  State state = State::Sleeping;
  double wake_at = -1;  // timed wake-up (sleeping), -1 = none; set once running: lower Cpu::wake_bound too
  // sched_entity (models/sched): ns of virtual or executed time
  double vruntime = 0;
  double exec_start = 0;  // when it last got the CPU
  double slice_start_sum = 0;
  double sum_exec = 0;
  double deadline = 0, slice = 0, vlag = 0, vprot = 0;  // EEVDF
  bool sched_delayed = false;  // EEVDF 6.18: asleep but still queued (DELAY_DEQUEUE)
  bool fork_pending = false;   // a new task: its first activation is wake_up_new_task
  double first_woken = -1, first_ran = -1;  // its first wake-up and first time on the CPU, s (-1: not yet)
  uint64_t rng = 0;  // the cost spread's draws (splitmix64), seeded by (seed, id)
  // The cost spread factor of its current process-context interval (a
  // write(), a descriptor, a poll: Ctx::begin_interval); 0 before its first.
  double spread = 0;
};

// A UDP socket and its receiver thread, which runs on a CPU of its own: a
// FIFO server that wakes wakeup_ns after an arrival finds it idle and spends
// recv_ns per packet.  It depends only on arrival times, so it is evaluated
// lazily, in arrival order, by the code that delivers to it.
struct UdpSocket {
  bool shared = false;
  mutable int last_cpu = -1;
  std::deque<std::pair<double, long long>> queue;  // arrival time, truesize
  long long rmem_alloc = 0;
  double busy_until = -1;
  double receiver_busy_s = 0;  // inside the statistics window
  uint64_t received = 0;
};

// What a simulated thread needs from the engine that runs it.  Thread bodies
// (models/vhost/worker.cpp, models/writer/writer.cpp,
// models/softirq/ksoftirqd.cpp, models/backlog/irq.cpp) call these; the CPU
// arbitration itself (who runs next) is the scheduler's, in models/sched.
class Exec {
 public:
  virtual ~Exec() = default;
  // Before touching state that threads on other CPUs also touch: returns once
  // every thread that acts before (ctx.now, CPU, thread id) has done so.
  virtual void sync(Ctx& ctx) = 0;
  // A point between packets where the thread may be suspended for a while
  // without changing anything the model computes (the engine bounds how far
  // one thread runs ahead of the others).
  virtual void checkpoint(Ctx& ctx) = 0;
  // Blocks until another thread grants this one the CPU (true, ctx.now = the
  // grant time) or, with timer >= 0, until the timer expires first (false,
  // ctx.now = timer).
  virtual bool wait(Ctx& ctx, double timer) = 0;
  // Hands the CPU to `t` (blocked in wait) at time `at`.
  virtual void grant(Thread* t, double at) = 0;
};

// The execution context: which thread runs on which CPU, and its local time.
struct Ctx {
  Kernel* k = nullptr;
  Cpu* cpu = nullptr;
  Thread* thread = nullptr;
  Exec* exec = nullptr;  // nullptr in unit tests: nothing blocks, nothing to synchronise with
  double now = 0;
  double pending_cycles = 0;  // busy cycles not yet handed to the engine

  // Busy time: base cost `ns` of `path`, times a draw of the context's cost
  // spread (costs.spread.*), plus its modeled cache misses; with `fresh`
  // false, the rest of a run the thread broke off only to touch shared
  // lines: its misses were paid, it is not a run of its own.
  void spend(Path path, double ns, bool fresh = true);
  // Busy time with no cache effect (bookkeeping, lock pairs).
  void spend_ns(double ns);
  // The spread tables are measured on whole intervals (a write() from
  // sys_enter to sys_exit, a softirq from softirq_entry to softirq_exit), so
  // one factor is drawn per interval and every path run in it takes that
  // factor: begin_interval at the start of a thread's interval (a write(),
  // a vhost descriptor, a threaded NAPI poll), begin_softirq_interval at
  // each softirq_entry.
  void begin_interval();
  void begin_softirq_interval();
  // Its draws' stream (splitmix64 state).
  uint64_t& spread_rng();
  // Busy cycles (cache penalties).  A cpus.stall window that begins within
  // them delays them by its draw (the hypervisor takes the vCPU wherever
  // it is), as one that began since the last check does at
  // advance_time_events.
  void spend_cycles(double cycles);
  // The stolen seconds of the windows beginning up to `t1`, the run pushed
  // on by each (models/irq): the windows that began while the CPU was idle
  // cost nothing.
  double stall_within(double t1);
  // spend_cycles past quiet_until or before the window's start: a stall window met
  // (cycles grows by it) and the busy part of [now, now + dt] clipped to the
  // statistics window; returns that part and sets dt.
  double spend_edge(double& cycles, double& dt);
  // Before touching state other CPUs' threads touch.
  void sync() {
    if (exec) exec->sync(*this);
  }
  // Between packets: the engine may suspend the thread here.
  void checkpoint() {
    if (exec) exec->checkpoint(*this);
  }
  // Before touching `obj`.  If other CPUs touch it too: synchronise, and pay
  // for its cache line when another CPU touched it last (coherence miss).
  template <class T>
  void touch(const T& obj) {
    if (!obj.shared) return;
    sync();
    claim(obj);
  }
  // After sync(): the line of `obj` comes here if another CPU had it.
  template <class T>
  void claim(const T& obj) {
    if (obj.last_cpu != cpu->id) {
      if (obj.last_cpu >= 0) line_transfer();
      obj.last_cpu = cpu->id;
    }
  }
  void line_transfer();
  // `lines` cache lines another CPU just wrote, read together: one burst
  // whose transfers the core overlaps (costs.cacheline_burst_ns a line).
  void line_burst(int lines);
  // spin_lock(&q->lock) .. spin_unlock around a short critical section:
  // costs.lock_ns of work under the lock.  A queue other CPUs use is
  // synchronised first, its line moves here if another CPU had it, and if
  // another CPU still holds the lock this one spins (busy) until it is
  // released (queued_spin_lock_slowpath).  A queue no other CPU uses is
  // only the work, inline (nearly every lock of a single-CPU scenario).
  void lock(const SkbQueue& q);
  void lock_shared(const SkbQueue& q);
  // skb_set_owner_w(skb, tfile->socket.sk) in tun_get_user: reads
  // tfile->socket.sk, adds the skb's truesize to sk_wmem_alloc.
  void skb_set_owner_w(Skb& skb, TunQueue& tq) {
    charge_socket(skb, tq);
    if (tq.wmem_line.shared) take_socket_lines(tq);
  }
  // The accounting of skb_set_owner_w alone (no shared line to take).
  void charge_socket(Skb& skb, TunQueue& tq) {
    skb.owner = &tq;
    tq.wmem_alloc += skb.truesize;
  }
  // sock_alloc_send_pskb's test (net/core/sock.c, 6.18) of
  // sk_wmem_alloc_get(sk) against sk_sndbuf; at or above it (the first time
  // noted) the sender gets no skb: a blocking one sleeps, a non-blocking one
  // (vhost's sendmsg, MSG_DONTWAIT) gets -EAGAIN (counted).
  // __tun_build_skb and tun_xdp_one do not test.
  bool sndbuf_refuses(TunQueue& tq, bool noblock);
  // sock_wfree (net/core/sock.c, 6.18) of an owned skb, where it is freed or
  // orphaned: refcount_sub_and_test on sk_wmem_alloc, and tun's
  // sk_write_space, tun_sock_write_space, tests sock_writeable (that line
  // again) and test_and_clear_bit(SOCKWQ_ASYNC_NOSPACE, &sk->sk_socket->flags),
  // a locked read-modify-write (x86 `lock btr`) of the socket's line.
  void sock_wfree(Skb& skb) {
    const TunQueue* tq = skb.owner;
    if (!tq) return;
    skb.owner = nullptr;
    tq->wmem_alloc -= skb.truesize;
    if (tq->wmem_line.shared) take_socket_lines(*tq);
    if (tq->async_nospace) tun_sock_write_space(*tq);
  }
  // tun_sock_write_space (drivers/net/tun.c, 4.9 ... 6.18.8) where
  // SOCKWQ_ASYNC_NOSPACE is set: once sock_writeable (sk_wmem_alloc below
  // half of sk_sndbuf, include/net/sock.h) it clears the bit and wakes the
  // socket's wait queue with EPOLLOUT.
  void tun_sock_write_space(const TunQueue& tq);
  // Both socket lines, at one synchronisation point.
  void take_socket_lines(const TunQueue& tq);
  bool in_softirq() const { return cpu->in_softirq; }
};

struct Kernel {
  Params p;
  std::vector<std::unique_ptr<Cpu>> cpus;
  std::vector<std::unique_ptr<TunQueue>> queues;
  std::vector<std::unique_ptr<Thread>> threads;
  UdpSocket udp;
  SkbPool skbs;
  SlubNode slub;  // the skb caches' slabs and node partial lists (models/slub)
  Recorder rec;
  // Threads a context without a Ctx at hand (a zerocopy completion in SkbPool::free) asked to
  // wake: woken by the running code right after (wake_up_deferred, models/sched/schedule.hpp).
  std::vector<Thread*> deferred_wakeups;
  double softirq_jiffies = 0, budget_jiffies = 0;  // the NET_RX time limits, from p (Kernel's constructor)

  explicit Kernel(Params params);
  Cpu& cpu(int i) { return *cpus[static_cast<size_t>(i)]; }
  TunQueue& queue(int i) { return *queues[static_cast<size_t>(i)]; }
  Thread* add_thread(const std::string& comm, int cpu, Thread::Kind kind);
  // floor(t * HZ): the jiffy of time t (t >= 0; the 1e-9 keeps a tick's own
  // time in its jiffy).  Inline, without libm's floor call: a whole number
  // of jiffies below 2^53 converts exactly.
  double jiffies_of(double t) const {
    double x = t * p.kernel.hz + 1e-9;
    if (!(x >= 0 && x < 9007199254740992.0)) return std::floor(x);
    return static_cast<double>(static_cast<int64_t>(x));
  }
  double end() const { return p.duration_s; }
};

// sock_writeable (include/net/sock.h, 4.9 ... 6.18): the skbs charged to
// the socket (sk_wmem_alloc) below half of its send buffer (sk_sndbuf >> 1),
// the test of tun_sock_write_space and tun_chr_poll.
inline bool sock_writeable(const Kernel& k, const TunQueue& tq) { return tq.wmem_alloc < k.p.tun.sndbuf / 2; }

// The cost spread's generator.
inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Ctx's time accounting, inline: the model calls it several times a packet.
inline void Ctx::spend_cycles(double cycles) {
  if (cycles <= 0) return;
  double dt = cycles / cpu->cycles_per_s;
  // One test for both bounds (the stall test was ~19 instructions a packet).
  double busy = now + dt < cpu->quiet_until && now >= k->rec.warmup ? dt : spend_edge(cycles, dt);
  if (thread && thread->is_ksoftirqd)
    cpu->t_ksoftirqd += busy;
  else if (cpu->in_softirq)
    cpu->t_softirq += busy;
  else
    cpu->t_process += busy;
  now += dt;
  pending_cycles += cycles;
}

inline void Ctx::spend_ns(double ns) { spend_cycles(k->p.cycles(ns)); }

inline bool Ctx::sndbuf_refuses(TunQueue& tq, bool noblock) {
  if (tq.wmem_alloc < k->p.tun.sndbuf) return false;
  if (tq.sndbuf_reached_at < 0) tq.sndbuf_reached_at = now;
  if (noblock) ++tq.sndbuf_eagain;
  return true;
}

inline void Ctx::lock(const SkbQueue& q) {
  if (q.shared)
    lock_shared(q);
  else
    spend_ns(k->p.costs.lock_ns);
}

// A draw from a spread table: the high 32 bits of a splitmix64 output `z`
// pick one of its `n` equally likely quantiles.
inline size_t spread_index(uint64_t z, size_t n) { return static_cast<size_t>(((z >> 32) * n) >> 32); }
inline double spread_draw(const std::vector<double>& tab, uint64_t& rng) {
  return tab[spread_index(splitmix64(rng), tab.size())];
}

// The cost spread's stream: the thread's, or the CPU's (an idle RPS target's interrupt).
inline uint64_t& Ctx::spread_rng() { return thread ? thread->rng : cpu->rng; }

inline void Ctx::begin_interval() {
  const std::vector<double>& tab = k->p.costs.spread_process;
  if (thread && !tab.empty()) thread->spread = spread_draw(tab, thread->rng);
}

inline void Ctx::begin_softirq_interval() {
  const std::vector<double>& tab = k->p.costs.spread_softirq;
  if (!tab.empty()) cpu->softirq_spread = spread_draw(tab, spread_rng());
}

inline void Ctx::spend(Path path, double ns, bool fresh) {
  double penalty_ns = fresh ? cpu->cache.run_path(path, cpu->misses[static_cast<int>(path)]) : 0;
  const Costs& c = k->p.costs;
  const bool sirq = cpu->in_softirq || (thread && thread->is_ksoftirqd);
  const std::vector<double>& tab = sirq ? c.spread_softirq : c.spread_process;
  if (!tab.empty() && ns > 0) {
    // The interval's factor; a run outside any interval draws its own.
    double f = sirq ? cpu->softirq_spread : thread ? thread->spread : 0;
    ns *= f > 0 ? f : spread_draw(tab, spread_rng());
  }
  spend_cycles(k->p.cycles(ns + penalty_ns));
}

}  // namespace tunsim
