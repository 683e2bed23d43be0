#include "sim/engine.hpp"

#include <chrono>
#include <cmath>

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
  bool irq_work = false;  // ksoftirqd actor: run an RPS IPI in irq context
};

namespace {

uint64_t g_activities = 0;

// Hand the accumulated busy cycles to SimGrid and bring its clock to ctx.now.
void flush(Ctx& ctx) {
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
  sg4::Engine e(argc, argv);
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock] { deadlock = true; });

  auto* zone = sg4::create_full_zone("host");
  std::vector<sg4::Host*> hosts;
  for (int c = 0; c < k.p.cpus; ++c) hosts.push_back(zone->create_host("cpu" + std::to_string(c), k.p.hz));
  zone->seal();

  auto make_rt = [&](Thread* t) {
    auto rt = std::make_unique<Runtime>();
    rt->t = t;
    rt->sem = sg4::Semaphore::create(0);
    rt->ctx.k = &k;
    rt->ctx.cpu = &k.cpu(t->cpu);
    rt->ctx.thread = t;
    rt->ctx.sync_hook = [](Ctx& c) { flush(c); };
    auto sem = rt->sem;
    t->grant = [sem] { sem->release(); };
    rts_.push_back(std::move(rt));
    return rts_.back().get();
  };

  // The CPU protocol.  The holder of a CPU is cpu.current.  A thread that
  // stops running picks the next one by CFS and grants it the CPU; when none
  // is runnable the CPU is idle and a sleeper whose timer expires takes it.
  auto yield_cpu = [&k](Runtime& me, Thread::State st, double wake_at) {
    Ctx& ctx = me.ctx;
    Cpu& cpu = *ctx.cpu;
    if (advance_time_events(ctx)) do_softirq(ctx);
    sched_update_curr(cpu, ctx.now);
    Thread* self = me.irq_work ? nullptr : me.t;
    if (self) {
      self->state = st;
      self->wake_at = wake_at;
    }
    flush(ctx);
    Thread* next = sched_pick_next(cpu);
    if (next) {
      sched_switch_to(cpu, next, ctx.now);
      next->granted_at = ctx.now;
      next->grant();
    } else {
      sched_switch_to(cpu, nullptr, ctx.now);
    }
    (void)k;
  };

  auto wait_cpu = [&k](Runtime& me) {
    Thread* t = me.t;
    Cpu& cpu = k.cpu(t->cpu);
    Ctx& ctx = me.ctx;
    bool self_granted = false;
    if (t->state == Thread::State::Sleeping && t->wake_at >= 0) {
      double timeout = t->wake_at - sg4::Engine::get_clock();
      bool timed_out;
      if (timeout > 1e-9) {
        timed_out = me.sem->acquire_timeout(timeout);
        ++g_activities;
      } else if (me.sem->would_block()) {
        timed_out = true;  // the timer is already due
      } else {
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
          self_granted = true;
        } else {
          // The holder handles our wake-up (it is at or past it) and grants us.
          me.sem->acquire();
        }
      }
    } else {
      me.sem->acquire();
    }
    (void)self_granted;
    ctx.now = std::max(ctx.now, t->granted_at);
    if (ctx.now - sg4::Engine::get_clock() > 1e-9) {
      sg4::this_actor::sleep_until(ctx.now);
      ++g_activities;
    }
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
          if (cpu.last_thread != rt->t && cpu.last_thread) ctx.spend_ns(k.p.costs.context_switch_ns);
          cpu.last_thread = rt->t;
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
          if (cpu.last_thread != rt->t && cpu.last_thread) ctx.spend_ns(k.p.costs.context_switch_ns);
          cpu.last_thread = rt->t;
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
        if (cpu.last_thread != rt->t && cpu.last_thread) ctx.spend_ns(k.p.costs.context_switch_ns);
        cpu.last_thread = rt->t;
        // run_ksoftirqd(): __do_softirq while pending, cond_resched between.
        while (cpu.net_rx_pending) {
          __do_softirq(ctx);
          if (advance_time_events(ctx)) {
          }
          if (cpu.need_resched && sched_pick_next(cpu)) {
            yield_cpu(*rt, Thread::State::Runnable, -1);
            wait_cpu(*rt);
            if (cpu.last_thread != rt->t && cpu.last_thread) ctx.spend_ns(k.p.costs.context_switch_ns);
            cpu.last_thread = rt->t;
          }
          cpu.need_resched = false;
        }
        yield_cpu(*rt, Thread::State::Sleeping, -1);
      }
    });
    a->daemonize();
  }

  e.run();
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
