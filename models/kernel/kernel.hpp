// The simulated kernel's state and the execution context every model runs in.
//
// Models are plain C++: they read and advance `Ctx::now` arithmetically and
// never call SimGrid.  The engine (sim/engine.cpp) runs them inside actors and
// is told, through `Ctx::sync()`, when a model is about to touch state that
// another CPU's actor may touch too, so that it can bring SimGrid's clock to
// `now` first (every other actor has then done everything it does before
// `now`).  In unit tests `sync` is a no-op.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/cache/cache.hpp"
#include "models/kernel/params.hpp"
#include "models/kernel/recorder.hpp"

namespace tunsim {

struct Skb {
  uint64_t id = 0;
  double t_origin = 0;   // guest enqueue into the TX ring, or write() entry
  uint32_t len = 0;
  uint32_t hash = 0;
  int16_t queue = 0;
  int16_t mark_cpu = -1;  // CPU whose cache last touched the skb
  bool measured = false;  // originated after warmup
  CacheModel::Mark mark;
};

// An sk_buff_head: a FIFO with its peak length.  `shared` says whether more
// than one CPU's actor touches it (then every access is a sync point).
struct SkbQueue {
  std::deque<Skb> q;
  size_t peak = 0;
  bool shared = false;
  mutable int last_cpu = -1;  // CPU whose cache holds its lock/head line
  void push_back(Skb s) {
    q.push_back(std::move(s));
    if (q.size() > peak) peak = q.size();
  }
  bool empty() const { return q.empty(); }
  size_t size() const { return q.size(); }
  Skb pop_front() {
    Skb s = std::move(q.front());
    q.pop_front();
    return s;
  }
  // skb_queue_splice_tail_init(this, dst)
  void splice_tail_into(SkbQueue& dst) {
    for (auto& s : q) dst.q.push_back(std::move(s));
    if (dst.q.size() > dst.peak) dst.peak = dst.q.size();
    q.clear();
  }
  // skb_queue_splice(src, this): src goes to the head
  void splice_head_from(SkbQueue& src) {
    for (auto it = src.q.rbegin(); it != src.q.rend(); ++it) q.push_front(std::move(*it));
    src.q.clear();
    if (q.size() > peak) peak = q.size();
  }
};

struct Cpu;
struct Ctx;
struct Kernel;

// struct napi_struct: the SCHED and MISSED bits and the poll function.
struct Napi {
  enum class Kind { Tun, Backlog } kind = Kind::Tun;
  int index = 0;          // tun queue index or CPU of the backlog
  int weight = 64;
  bool sched = false;     // NAPI_STATE_SCHED
  bool missed = false;    // NAPI_STATE_MISSED (4.11+)
  bool shared = false;    // its state is touched from several CPUs
  mutable int last_cpu = -1;
  std::vector<Skb> rx_list;  // GRO_NORMAL packets held for netif_receive_skb_list
  uint64_t id = 0;        // printed as the napi struct address in traces
  std::string dev;
};

struct TunQueue {
  int index = 0;
  SkbQueue write_queue;    // tfile->sk.sk_write_queue
  SkbQueue process_queue;  // v1 patch: tfile->process_queue
  Napi napi;
};

struct Thread;

// struct softnet_data of one CPU plus the softirq and scheduler state the
// models need.
struct Cpu {
  int id = 0;
  double speed = 1;  // cpus.speed: every cost on this CPU takes cost / speed
  // softirq state
  bool net_rx_pending = false;  // NET_RX bit of local_softirq_pending()
  int bh_disabled = 0;          // local_bh_disable() depth (process context)
  bool in_softirq = false;      // serving a softirq (in_serving_softirq())
  bool in_net_rx_action = false;  // sd->in_net_rx_action (6.4+)
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
  std::vector<CacheMisses> misses = std::vector<CacheMisses>(kPaths);
  double t_process = 0, t_softirq = 0, t_ksoftirqd = 0;  // busy seconds inside the window
  // scheduler
  std::vector<Thread*> threads;
  Thread* ksoftirqd = nullptr;
  Thread* irq = nullptr;  // interrupt context on an otherwise idle CPU (RPS IPIs)
  Thread* current = nullptr;
  Thread* last_thread = nullptr;  // the thread that ran last (context switch cost)
  double next_tick = 0;
  double min_vruntime = 0;
};

// A kernel or user thread pinned to one CPU.
struct Thread {
  enum class State { Running, Runnable, Sleeping, Dead };
  std::string comm;
  int pid = 0;
  int cpu = 0;
  bool is_ksoftirqd = false;
  State state = State::Sleeping;
  double wake_at = -1;      // timed wake-up (sleeping), -1 = none
  double vruntime = 0;
  double exec_start = 0;    // when it last got the CPU
  double slice_start_sum = 0;
  double sum_exec = 0;
  double granted_at = 0;    // time it was given the CPU by another thread
  // Engine hook: wake the actor that runs this thread (set by sim/).
  std::function<void()> grant;
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

// The execution context: which thread runs on which CPU, and its local time.
struct Ctx {
  Kernel* k = nullptr;
  Cpu* cpu = nullptr;
  Thread* thread = nullptr;
  double now = 0;
  double pending_cycles = 0;  // busy cycles not yet handed to the engine
  std::function<void(Ctx&)> sync_hook;  // engine: bring the global clock to now

  // Busy time: base cost `ns` of `path` plus its modeled cache misses.
  void spend(Path path, double ns);
  // Busy time with no cache effect (bookkeeping, lock pairs).
  void spend_ns(double ns);
  // Busy cycles (cache penalties).
  void spend_cycles(double cycles);
  // Before touching state other CPUs' actors touch.
  void sync() {
    if (sync_hook) sync_hook(*this);
  }
  // Before touching `obj`.  If other CPUs touch it too: synchronise, and pay
  // for its cache line when another CPU touched it last (coherence miss).
  template <class T>
  void touch(const T& obj) {
    if (!obj.shared) return;
    sync();
    if (obj.last_cpu != cpu->id) {
      if (obj.last_cpu >= 0) line_transfer();
      obj.last_cpu = cpu->id;
    }
  }
  void line_transfer();
  bool in_softirq() const { return cpu->in_softirq; }
};

struct Kernel {
  Params p;
  std::vector<std::unique_ptr<Cpu>> cpus;
  std::vector<std::unique_ptr<TunQueue>> queues;
  std::vector<std::unique_ptr<Thread>> threads;
  UdpSocket udp;
  Recorder rec;
  uint64_t next_skb_id = 1;
  // Engine hook: an IPI reaches an idle CPU at `at`; run its handler there.
  std::function<void(int cpu, double at)> wake_idle_cpu;

  explicit Kernel(Params params);
  Cpu& cpu(int i) { return *cpus[static_cast<size_t>(i)]; }
  TunQueue& queue(int i) { return *queues[static_cast<size_t>(i)]; }
  Thread* add_thread(const std::string& comm, int cpu, bool ksoftirqd);
  double jiffies_of(double t) const;  // floor(t * HZ)
  double end() const { return p.duration_s; }
};

}  // namespace tunsim
