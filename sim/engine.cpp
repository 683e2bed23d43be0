#include "sim/engine.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <simgrid/s4u.hpp>

#include "models/sched/cfs.hpp"
#include "models/softirq/softirq.hpp"
#include "sim/errors.hpp"

XBT_LOG_NEW_DEFAULT_CATEGORY(tunsim_engine, "tunsim engine: CPU arbitration and actors");

namespace sg4 = simgrid::s4u;

namespace tunsim {

struct Simulation::Runtime {
  Thread* t = nullptr;
  sg4::SemaphorePtr sem;
  Ctx ctx;
  // While this actor is blocked in SimGrid: the earliest time at which it can
  // next touch anything (the end of its execute/sleep, its timer, or never
  // by itself when it waits for a grant).
  double horizon = 0;
};

namespace {

uint64_t g_activities = 0;
std::vector<Simulation::Runtime*>* g_runtimes = nullptr;

// Hand the accumulated busy cycles to SimGrid and bring its clock to ctx.now.
void flush(Ctx& ctx, double& horizon) {
  horizon = ctx.now;
  if (ctx.pending_cycles > 0) {
    sg4::this_actor::execute(ctx.pending_cycles);
    ++g_activities;
    ctx.pending_cycles = 0;
  }
  // Below SimGrid's timing precision (1e-9 s) the clocks already agree.
  if (ctx.now - sg4::Engine::get_clock() > 1e-9) {
    sg4::this_actor::sleep_until(ctx.now);
    ++g_activities;
  }
}

// Ctx::sync: before touching state shared with other CPUs.  If every other
// actor is blocked until at least ctx.now, none of them can touch anything
// before us, so the state is already as it is at ctx.now: go on without
// handing control to SimGrid (conservative synchronisation with the other
// actors' horizons as lookahead).  Otherwise let them catch up.
// TUNSIM_SYNC_EVERY_ACCESS=1 turns the lookahead off (every shared access
// goes through SimGrid); the results must not change, only the speed.
bool g_sync_every_access = false;

void sync_shared(Simulation::Runtime* self, Ctx& ctx, double& horizon) {
  if (g_sync_every_access) {
    flush(ctx, horizon);
    return;
  }
  double h = std::numeric_limits<double>::infinity();
  for (auto* r : *g_runtimes)
    if (r != self) h = std::min(h, r->horizon);
  if (h >= ctx.now) return;
  flush(ctx, horizon);
}

double first_tick_after(const Kernel& k, double t) {
  return (std::floor(t * k.p.kernel.hz + 1e-9) + 1) / k.p.kernel.hz;
}

}  // namespace

Simulation::Simulation(const Params& p, TraceSink* sink) : k_(std::make_unique<Kernel>(p)) {
  k_->rec.sink = sink;
  for (size_t i = 0; i < p.senders.size(); ++i) {
    const SenderParams& sp = k_->p.senders[i];
    if (sp.vhost) {
      vhosts_.push_back(std::make_unique<VhostTx>(sp, k_->p.costs, p.seed * 0x100000001b3ULL + i));
      vhosts_.back()->vq.window_lo = p.warmup_s;
      vhosts_.back()->vq.window_hi = p.duration_s;
    } else {
      auto w = std::make_unique<Writer>();
      w->sp = &sp;
      writers_.push_back(std::move(w));
    }
  }
}

Simulation::~Simulation() = default;

SimResult Simulation::run(int* argc, char** argv) {
  auto wall0 = std::chrono::steady_clock::now();
  Kernel& k = *k_;
  // SimGrid's own --cfg=/--log= options are parsed here; a bad one is the
  // user's input error, reported on one line.
  std::unique_ptr<sg4::Engine> engine;
  try {
    engine = std::make_unique<sg4::Engine>(argc, argv);
  } catch (const std::exception& ex) {
    std::string m = ex.what();
    throw InputError("SimGrid option: " + m.substr(0, m.find('\n')));
  }
  sg4::Engine& e = *engine;
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });

  auto* zone = sg4::create_full_zone("host");
  std::vector<sg4::Host*> hosts;
  for (int c = 0; c < k.p.cpus; ++c) hosts.push_back(zone->create_host("cpu" + std::to_string(c), k.p.hz * k.p.speed_of(c)));
  zone->seal();

  std::vector<Runtime*> runtimes;
  g_runtimes = &runtimes;
  const char* every = std::getenv("TUNSIM_SYNC_EVERY_ACCESS");
  g_sync_every_access = every && std::string(every) == "1";
  auto make_rt = [&](Thread* t) {
    auto rt = std::make_unique<Runtime>();
    rt->t = t;
    rt->sem = sg4::Semaphore::create(0);
    rt->ctx.k = &k;
    rt->ctx.cpu = &k.cpu(t->cpu);
    rt->ctx.thread = t;
    Runtime* raw = rt.get();
    rt->ctx.sync_hook = [raw](Ctx& c) { sync_shared(raw, c, raw->horizon); };
    auto sem = rt->sem;
    t->grant = [sem] { sem->release(); };
    rts_.push_back(std::move(rt));
    runtimes.push_back(raw);
    return raw;
  };

  // The CPU protocol.  The holder of a CPU is cpu.current.  A thread that
  // stops running picks the next one by CFS and grants it the CPU; when none
  // is runnable the CPU is idle and a sleeper whose timer expires takes it.
  auto yield_cpu = [](Runtime& me, Thread::State st, double wake_at) {
    Ctx& ctx = me.ctx;
    Cpu& cpu = *ctx.cpu;
    if (advance_time_events(ctx)) do_softirq(ctx);
    sched_update_curr(cpu, ctx.now);
    Thread* self = me.t;
    if (self) {
      self->state = st;
      self->wake_at = wake_at;
    }
    flush(ctx, me.horizon);
    // A thread that ended never acts again: it bounds nobody's lookahead.
    if (st == Thread::State::Dead) me.horizon = std::numeric_limits<double>::infinity();
    Thread* next = sched_pick_next(cpu);
    if (next) {
      sched_switch_to(cpu, next, ctx.now);
      next->granted_at = ctx.now;
      next->grant();
    } else if (cpu.ipi_pending && cpu.irq) {
      // Idle, with an RPS IPI on its way: the interrupt takes the CPU.
      sched_switch_to(cpu, nullptr, ctx.now);
      cpu.current = cpu.irq;
      cpu.irq->granted_at = std::max(ctx.now, cpu.ipi_at);
      cpu.irq->grant();
    } else {
      sched_switch_to(cpu, nullptr, ctx.now);
    }
  };

  auto wait_cpu = [&k](Runtime& me) {
    Thread* t = me.t;
    Cpu& cpu = k.cpu(t->cpu);
    Ctx& ctx = me.ctx;
    if (t->state == Thread::State::Sleeping && t->wake_at >= 0) {
      double timeout = t->wake_at - sg4::Engine::get_clock();
      bool timed_out;
      if (timeout > 1e-9) {
        me.horizon = t->wake_at;
        timed_out = me.sem->acquire_timeout(timeout);
        ++g_activities;
      } else if (me.sem->would_block()) {
        timed_out = true;  // the timer is already due
      } else {
        me.horizon = std::numeric_limits<double>::infinity();
        me.sem->acquire();
        timed_out = false;
      }
      if (timed_out) {
        if (cpu.current == nullptr && t->state == Thread::State::Sleeping) {
          // The CPU is idle: the timer wakes us and we run at once.
          double at = t->wake_at;
          sched_wakeup(k, cpu, t, at);
          sched_switch_to(cpu, t, at);
          t->granted_at = at;
          cpu.next_tick = first_tick_after(k, at);
        } else {
          // The holder handles our wake-up (it is at or past it) and grants us.
          me.horizon = std::numeric_limits<double>::infinity();
          me.sem->acquire();
        }
      }
    } else {
      me.horizon = std::numeric_limits<double>::infinity();
      me.sem->acquire();
    }
    ctx.now = std::max(ctx.now, t->granted_at);
    flush(ctx, me.horizon);
    // Switching from another thread costs a context switch.
    if (cpu.last_thread && cpu.last_thread != t) ctx.spend_ns(k.p.costs.context_switch_ns);
    cpu.last_thread = t;
  };

  // ---- senders -------------------------------------------------------------
  size_t vi = 0, wi = 0;
  for (size_t i = 0; i < k.p.senders.size(); ++i) {
    const SenderParams& sp = k.p.senders[i];
    if (sp.vhost) {
      VhostTx* v = vhosts_[vi++].get();
      Thread* t = k.add_thread("vhost-" + std::to_string(1000 + i), sp.cpu, false);
      Runtime* rt = make_rt(t);
      sg4::Actor::create(t->comm, hosts[sp.cpu], [rt, v, &k, yield_cpu, wait_cpu] {
        Ctx& ctx = rt->ctx;
        Cpu& cpu = *ctx.cpu;
        rt->t->state = Thread::State::Sleeping;
        rt->t->wake_at = vhost_wake_time(ctx, *v);
        for (;;) {
          wait_cpu(*rt);
          for (;;) {
            TxResult r = handle_tx(ctx, *v);
            if (r == TxResult::Stop) {
              yield_cpu(*rt, Thread::State::Dead, -1);
              return;
            }
            if (r == TxResult::Requeued) {
              // vhost_worker: the work was requeued; schedule() if need_resched.
              if (advance_time_events(ctx)) do_softirq(ctx);
              if (cpu.need_resched) {
                yield_cpu(*rt, Thread::State::Runnable, -1);
                break;
              }
              continue;
            }
            double wake = vhost_wake_time(ctx, *v);
            if (!std::isfinite(wake) || wake >= k.end()) {
              ctx.now = std::max(ctx.now, k.end());
              yield_cpu(*rt, Thread::State::Dead, -1);
              return;
            }
            yield_cpu(*rt, Thread::State::Sleeping, wake);
            break;
          }
        }
      });
    } else {
      Writer* w = writers_[wi++].get();
      Thread* t = k.add_thread("writer-" + std::to_string(1000 + i), sp.cpu, false);
      Runtime* rt = make_rt(t);
      sg4::Actor::create(t->comm, hosts[sp.cpu], [rt, w, &k, yield_cpu, wait_cpu] {
        Ctx& ctx = rt->ctx;
        Cpu& cpu = *ctx.cpu;
        rt->t->state = Thread::State::Sleeping;
        rt->t->wake_at = 0;
        for (;;) {
          wait_cpu(*rt);
          for (;;) {
            if (writer_done(ctx, *w)) {
              yield_cpu(*rt, Thread::State::Dead, -1);
              return;
            }
            writer_write(ctx, *w);
            // Back to user space: a tick's irq_exit may run softirqs; a
            // pending reschedule is honoured.
            if (advance_time_events(ctx)) do_softirq(ctx);
            if (cpu.need_resched) {
              yield_cpu(*rt, Thread::State::Runnable, -1);
              break;
            }
            if (w->sp->writer_rate_mpps > 0 && w->next_time > ctx.now) {
              yield_cpu(*rt, Thread::State::Sleeping, w->next_time);
              break;
            }
          }
        }
      });
    }
  }

  // ---- ksoftirqd/N ---------------------------------------------------------
  for (int c = 0; c < k.p.cpus; ++c) {
    Thread* t = k.add_thread("ksoftirqd/" + std::to_string(c), c, true);
    Runtime* rt = make_rt(t);
    sg4::ActorPtr a = sg4::Actor::create(t->comm, hosts[c], [rt, &k, yield_cpu, wait_cpu] {
      Ctx& ctx = rt->ctx;
      Cpu& cpu = *ctx.cpu;
      rt->t->state = Thread::State::Sleeping;
      rt->t->wake_at = -1;
      for (;;) {
        wait_cpu(*rt);
        // run_ksoftirqd(): __do_softirq while pending, cond_resched between.
        // Nothing runs past the simulated duration, so the counts are a
        // snapshot at its end (what is still queued is in flight).
        while (cpu.net_rx_pending && ctx.now < k.end()) {
          __do_softirq(ctx);
          // Ticks and wake-ups; a softirq raised meanwhile is picked up by
          // this loop, so the irq-exit hint is not needed here.
          advance_time_events(ctx);
          if (cpu.need_resched && sched_pick_next(cpu)) {
            yield_cpu(*rt, Thread::State::Runnable, -1);
            wait_cpu(*rt);
          }
          cpu.need_resched = false;
        }
        yield_cpu(*rt, Thread::State::Sleeping, -1);
      }
    });
    a->daemonize();
  }

  // ---- interrupt context of RPS target CPUs ----------------------------------
  // An IPI that reaches an idle CPU runs its handler and the softirq at irq
  // exit there (accounted as softirq time), then leaves the CPU to whatever
  // became runnable (ksoftirqd after the restart limit).
  std::vector<std::unique_ptr<Thread>> irq_threads;
  for (int c : k.p.rps_cpus) {
    Cpu& cpu = k.cpu(c);
    if (cpu.irq || !cpu.shared_sd) continue;
    irq_threads.push_back(std::make_unique<Thread>());
    Thread* t = irq_threads.back().get();
    t->comm = "<idle>";
    t->pid = 0;
    t->cpu = c;
    t->state = Thread::State::Running;
    cpu.irq = t;
    Runtime* rt = make_rt(t);
    sg4::ActorPtr a = sg4::Actor::create("irq/" + std::to_string(c), hosts[c], [rt, &k] {
      Ctx& ctx = rt->ctx;
      Cpu& cpu = *ctx.cpu;
      for (;;) {
        rt->horizon = std::numeric_limits<double>::infinity();
        rt->sem->acquire();
        ctx.now = std::max(ctx.now, rt->t->granted_at);
        flush(ctx, rt->horizon);
        for (;;) {
          if (ctx.now >= k.end()) break;
          if (advance_time_events(ctx)) do_softirq(ctx);
          if (cpu.ipi_pending && cpu.ipi_at > ctx.now) {
            ctx.now = cpu.ipi_at;  // idle until the IPI arrives
            flush(ctx, rt->horizon);
            continue;
          }
          break;
        }
        flush(ctx, rt->horizon);
        Thread* next = sched_pick_next(cpu);
        sched_switch_to(cpu, next, ctx.now);
        if (next) {
          next->granted_at = ctx.now;
          next->grant();
        }
      }
    });
    a->daemonize();
  }
  k.wake_idle_cpu = [&k](int c, double at) {
    Cpu& cpu = k.cpu(c);
    if (cpu.current || !cpu.irq) return;
    cpu.current = cpu.irq;
    cpu.irq->granted_at = at;
    cpu.irq->grant();
  };

  e.run();
  k.wake_idle_cpu = nullptr;
  g_runtimes = nullptr;
  if (deadlock)
    throw SimulationError("simulation deadlocked at t=" + std::to_string(sg4::Engine::get_clock()) +
                          " s: an actor waits for a CPU grant nobody will give (please report this scenario)");
  SimResult r;
  r.sim_end_s = sg4::Engine::get_clock();
  r.simgrid_activities = g_activities;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

}  // namespace tunsim
