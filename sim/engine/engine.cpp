#include "sim/engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <simgrid/s4u.hpp>

#include "sim/engine/event_queue.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/interrupt.hpp"

// Its decisions are logged at verbose level (SimGrid compiles debug level out
// of release builds): --log=tunsim_engine.thres:verbose (or :debug).
XBT_LOG_NEW_DEFAULT_CATEGORY(tunsim_engine, "tunsim engine: sharing groups, their threads' order, SimGrid time");

namespace sg4 = simgrid::s4u;
namespace bctx = boost::context;

namespace tunsim {

namespace {

using fiber_events::before;
using fiber_events::EventQueue;
using fiber_events::id_of;
using fiber_events::Key;
using fiber_events::kNever;

struct Group;

struct Fiber {
  enum class State { Running, Ready, Waiting, Done };
  const ThreadEntry* entry = nullptr;
  Ctx ctx;
  State state = State::Running;
  double at = -1;        // Ready: when it resumes; Waiting: its timer (-1 = none)
  bool granted = false;  // Ready because another thread granted it the CPU
  double self_grant = -1;  // it granted the CPU to itself at this time, before its wait
  int cpu = 0, id = 0;  // its thread's (threads are pinned)
  uint64_t tie = 0;     // tie_of(cpu, id): its events' order among those at the same time
  fiber_events::Node node;  // its place in Group::events
  bctx::fiber f;
  Key key() const { return Key{at, tie}; }
  bool has_event() const { return state == State::Ready || (state == State::Waiting && at >= 0); }
};

struct Shared {
  const EngineOptions* opt;
  EngineStats* stats;
  std::vector<sg4::Host*> hosts;
  std::vector<Group*> groups;
  std::exception_ptr error;
  // SimGrid's clock when this run began: 0 in a fresh process, the end of
  // the last run when a batch worker runs another point (SimGrid 3.32 keeps
  // its clock across engines).  The model's time is the fibers' own, from 0;
  // SimGrid's is t0 + that, so the groups meet at the same quanta as in a
  // fresh process (in one, t0 + t is t exactly).
  double t0 = 0;
};

Shared* g_shared = nullptr;

struct Group : Exec {
  Shared& sh;
  std::vector<int> cpus;
  std::vector<std::unique_ptr<Fiber>> fibers;
  // The next events of the fibers that have one (a fiber waiting without a
  // timer, or with a timer at infinity, has none), kept up to date whenever a
  // fiber's state changes.
  EventQueue events;
  std::vector<Fiber*> by_thread;  // thread id -> fiber (this group's threads)
  bctx::fiber main;               // the scheduler, while a fiber runs
  Fiber* current = nullptr;
  // The context that switched last (nullptr: the scheduler): the context
  // resumed keeps the continuation it is handed in this one's place.
  Fiber* switching_from = nullptr;
  // run()'s loop runs: a suspending fiber may hand over to the next one itself.
  bool direct = false;
  Key min_other = kNever;  // the earliest event of the other fibers, while `current` runs
  double quantum_end = 0;
  double done_before = 0;  // every event before this time has happened
  // Fiber switches, added to the stats at the end: counted here, not
  // through sh.stats, the switch saves two loads.
  uint64_t switches = 0;
  std::string name;

  // sh.opt->lookahead, read where sync reads it: sync runs about 24 times a
  // delivered packet with two writers, nearly always only to test this and
  // min_other, and the two pointers to the option were a fifth of that.
  const bool lookahead;

  Group(Shared& s, std::vector<int> c) : sh(s), cpus(std::move(c)), lookahead(s.opt->lookahead) {
    name = "cpus";
    for (int x : cpus) name += "-" + std::to_string(x);
  }

  // Switches from `from` to `to` (nullptr: the scheduler) and returns when
  // something switches back.
  void switch_to(Fiber* from, Fiber* to) {
    switching_from = from;
    bctx::fiber c = std::move(to ? to->f : main).resume();
    keep(std::move(c));
  }
  // The continuation of the context that switched here, kept where that
  // context is resumed from.
  void keep(bctx::fiber&& c) { (switching_from ? switching_from->f : main) = std::move(c); }

  // The running fiber, its state and event set, stops.  The scheduler's loop
  // would run the fiber with the earliest event next; when that one is
  // another fiber inside the quantum, the suspending fiber switches to it
  // directly, with the same bookkeeping (resume): a trip through the
  // scheduler cost a second context switch and its loop, about 70
  // instructions a switch, and eight writers switch about 15 times a
  // delivered packet.  Not inlined: sync's run-ahead test, which most calls
  // stop at, stays a leaf that saves no registers.
  __attribute__((noinline)) void suspend() {
    Fiber* self = current;
    update_key(*self);
    hand_over(self);
  }
  // The same for a fiber ready again at `t` (sync, checkpoint): its state
  // and event set here, without update_key's tests of what kind of event it
  // has, which every switch of two or eight writers paid.
  __attribute__((noinline)) void suspend_ready(double t) {
    Fiber* self = current;
    self->state = Fiber::State::Ready;
    self->at = t;
    self->granted = false;
    if (t != kNever.t)
      events.set(&self->node, self->key());
    else
      events.remove(&self->node);
    hand_over(self);
  }
  __attribute__((always_inline)) void hand_over(Fiber* self) {
    Fiber* next = nullptr;
    if (direct && !sh.error && !events.empty()) {
      Fiber* best = by_thread[id_of(events.first())];
      if (best != self && best->at < quantum_end) next = best;
    }
    if (next) resume(next);
    switch_to(self, next);
  }

  // What the scheduler does before it runs `best`, the fiber with the
  // earliest event, inside the quantum.
  void resume(Fiber* best) {
    min_other = events.second();
    Ctx& c = best->ctx;
    if (best->state == Fiber::State::Waiting) best->granted = false;  // its timer fired
    c.now = std::max(c.now, best->at);
    XBT_VERB("group %s: %s runs at %.9f (%s)", name.c_str(), best->entry->thread->comm.c_str(), c.now,
              best->state == Fiber::State::Waiting ? "timer" : best->granted ? "granted" : "resumed");
    best->state = Fiber::State::Running;
    current = best;
    ++switches;
  }
  void update_key(Fiber& f) {
    if (f.has_event() && f.at != kNever.t)
      events.set(&f.node, f.key());
    else
      events.remove(&f.node);
  }

  void sync(Ctx& c) override {
    if (lookahead && before(Key{c.now, current->tie}, min_other)) return;
    suspend_ready(c.now);
  }

  void checkpoint(Ctx& c) override {
    if (c.now < quantum_end) return;
    suspend_ready(c.now);
  }

  bool wait(Ctx&, double timer) override {
    Fiber* self = current;
    if (self->self_grant >= 0) {
      // It gave the CPU to itself (CFS picked it again): runnable at once.
      self->state = Fiber::State::Ready;
      self->at = self->self_grant;
      self->granted = true;
      self->self_grant = -1;
    } else {
      self->state = Fiber::State::Waiting;
      self->at = timer;
      self->granted = false;
    }
    suspend();
    return self->granted;
  }

  void grant(Thread* t, double at) override {
    Fiber* f = static_cast<size_t>(t->id) < by_thread.size() ? by_thread[static_cast<size_t>(t->id)] : nullptr;
    if (f && f == current) {
      f->self_grant = at;
      return;
    }
    if (!f || f->state != Fiber::State::Waiting)
      throw SimulationError("engine: " + t->comm + " was granted a CPU it does not wait for (please report this "
                            "scenario)");
    f->state = Fiber::State::Ready;
    f->at = at;
    f->granted = true;
    update_key(*f);
    if (before(f->key(), min_other)) min_other = f->key();
    XBT_VERB("%s grants CPU %d to %s at %.9f", current ? current->entry->thread->comm.c_str() : "?", t->cpu,
              t->comm.c_str(), at);
  }

  void start(Kernel& k, const ThreadEntry& e) {
    auto f = std::make_unique<Fiber>();
    Fiber* fp = f.get();
    fp->entry = &e;
    fp->cpu = e.thread->cpu;
    fp->id = e.thread->id;
    fp->tie = fiber_events::tie_of(fp->cpu, fp->id);
    fp->ctx.k = &k;
    fp->ctx.cpu = &k.cpu(e.thread->cpu);
    fp->ctx.thread = e.thread;
    fp->ctx.exec = this;
    size_t id = static_cast<size_t>(e.thread->id);
    if (by_thread.size() <= id) by_thread.resize(id + 1, nullptr);
    by_thread[id] = fp;
    fp->f = bctx::fiber(std::allocator_arg, bctx::protected_fixedsize_stack(256 * 1024),
                        [this, fp](bctx::fiber&& m) {
                          keep(std::move(m));
                          try {
                            fp->entry->body(fp->ctx);
                          } catch (const bctx::detail::forced_unwind&) {
                            throw;
                          } catch (...) {
                            if (!sh.error) sh.error = std::current_exception();
                          }
                          fp->state = Fiber::State::Done;
                          update_key(*fp);
                          switching_from = fp;
                          return std::move(main);
                        });
    fibers.push_back(std::move(f));
    // Run it to its first wait (every body starts by waiting for its CPU).
    current = fp;
    switch_to(nullptr, fp);
    current = nullptr;
  }

  // Hands the busy cycles to SimGrid and brings the group's clock to t.
  void advance_simgrid(double t) {
    std::vector<sg4::ExecPtr> execs;
    for (int c : cpus) {
      double cycles = 0;
      for (auto& f : fibers)
        if (f->entry->thread->cpu == c) {
          cycles += f->ctx.pending_cycles;
          f->ctx.pending_cycles = 0;
        }
      if (cycles > 0) execs.push_back(sg4::this_actor::exec_init(cycles)->set_host(sh.hosts[static_cast<size_t>(c)]));
    }
    for (auto& e : execs) e->start();
    for (auto& e : execs) e->wait();
    sh.stats->simgrid_activities += execs.size();
    // Below SimGrid's timing precision (1e-9 s) the clocks already agree.
    const double at = sh.t0 + t;
    if (at - sg4::Engine::get_clock() > 1e-9) {
      sg4::this_actor::sleep_until(at);
      ++sh.stats->simgrid_activities;
    }
  }

  void run() {
    const double q = sh.opt->quantum_s;
    quantum_end = q;
    for (;;) {
      // The earliest event and, for the run-ahead, the earliest of the others
      // (every key in `events` is before kNever, and keys are distinct).
      if (events.empty()) break;
      Fiber* best = by_thread[id_of(events.first())];
      double t = best->at;
      if (t >= quantum_end) {
        // Everything before the quantum that holds t has happened.
        double start = std::floor(t / q) * q;
        done_before = start;
        XBT_VERB("group %s: quantum [%.6f, %.6f), %zu threads", name.c_str(), start, start + q, fibers.size());
        advance_simgrid(start);
        quantum_end = start + q;
        continue;
      }
      // It runs, and the fibers after it hand over to each other (suspend)
      // until one comes back here.
      resume(best);
      direct = true;
      switch_to(nullptr, best);
      direct = false;
      current = nullptr;
      if (sh.error) return;
    }
    for (auto& f : fibers)
      if (f->state != Fiber::State::Done && !f->entry->daemon)
        throw SimulationError("simulation deadlocked at t=" + std::to_string(f->ctx.now) + " s: " +
                              f->entry->thread->comm + " waits for a CPU nobody will give (please report this "
                              "scenario)");
    done_before = std::numeric_limits<double>::infinity();
    advance_simgrid(sg4::Engine::get_clock() - sh.t0);
  }
};

}  // namespace

EngineOptions engine_options_from_env() {
  auto on = [](const char* name) {
    const char* v = std::getenv(name);
    return v && std::string(v) == "1";
  };
  EngineOptions o;
  o.lookahead = !on("TUNSIM_SYNC_EVERY_ACCESS");
  o.one_group = on("TUNSIM_ONE_GROUP");
  o.reverse_creation = on("TUNSIM_REVERSE_CREATION");
  return o;
}

double engine_clock() {
  if (!g_shared) return 0;
  double t = std::numeric_limits<double>::infinity();
  for (Group* g : g_shared->groups) t = std::min(t, g->done_before);
  return t;
}

EngineStats run_machine(Machine& m, int* argc, char** argv, const EngineOptions& opt) {
  auto wall0 = std::chrono::steady_clock::now();
  Kernel& k = *m.k;
  // SimGrid's own --cfg=/--log= options are parsed here; a bad one is the
  // user's input error, reported on one line.
  std::unique_ptr<sg4::Engine> engine;
  try {
    engine = std::make_unique<sg4::Engine>(argc, argv);
  } catch (const std::exception& ex) {
    std::string msg = ex.what();
    throw InputError("SimGrid option: " + msg.substr(0, msg.find('\n')));
  }
  // SimGrid's engine replaced the SIGINT handler (its own prints every
  // actor's state and exits with status 1, leaving the outputs' temporaries).
  reinstall_cleanup_handlers();
  EngineStats stats;
  Shared sh;
  sh.opt = &opt;
  sh.stats = &stats;
  sh.t0 = sg4::Engine::get_clock();
  auto* zone = sg4::create_full_zone("machine");
  for (int c = 0; c < k.p.cpus; ++c)
    sh.hosts.push_back(zone->create_host("cpu" + std::to_string(c), k.cpu(c).cycles_per_s));
  zone->seal();

  std::vector<std::vector<int>> cpu_groups;
  if (opt.one_group) {
    cpu_groups.emplace_back();
    for (int c = 0; c < k.p.cpus; ++c) cpu_groups.back().push_back(c);
  } else {
    cpu_groups = m.sharing_groups();
  }
  std::vector<std::unique_ptr<Group>> groups;
  for (auto& cg : cpu_groups) {
    groups.push_back(std::make_unique<Group>(sh, cg));
    sh.groups.push_back(groups.back().get());
  }
  std::vector<int> group_of(static_cast<size_t>(k.p.cpus));
  for (size_t g = 0; g < cpu_groups.size(); ++g)
    for (int c : cpu_groups[g]) group_of[static_cast<size_t>(c)] = static_cast<int>(g);
  std::vector<const ThreadEntry*> order;
  for (auto& e : m.entries) order.push_back(&e);
  if (opt.reverse_creation) std::reverse(order.begin(), order.end());
  for (const ThreadEntry* e : order) groups[static_cast<size_t>(group_of[static_cast<size_t>(e->thread->cpu)])]->start(k, *e);
  stats.groups = groups.size();

  g_shared = &sh;
  for (auto& gp : groups) {
    Group* g = gp.get();
    XBT_VERB("group %s: %zu threads", g->name.c_str(), g->fibers.size());
    sg4::Actor::create("group-" + g->name, sh.hosts[static_cast<size_t>(g->cpus.front())], [g, &sh] {
      try {
        g->run();
      } catch (...) {
        if (!sh.error) sh.error = std::current_exception();
        g->done_before = std::numeric_limits<double>::infinity();
      }
    });
  }
  engine->run();
  for (auto& g : groups) stats.fiber_switches += g->switches;
  stats.sim_end_s = sg4::Engine::get_clock() - sh.t0;
  g_shared = nullptr;
  groups.clear();  // unwinds the stacks of the threads still waiting (daemons)
  if (sh.error) std::rethrow_exception(sh.error);
  stats.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return stats;
}

}  // namespace tunsim
