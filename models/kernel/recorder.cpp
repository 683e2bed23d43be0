#include "models/kernel/recorder.hpp"

#include <cmath>
#include <cstdint>

#include "models/kernel/kernel.hpp"

namespace tunsim {

namespace {
// The views of the few strings events name (literals: "tap0", "..s1."),
// cached by pointer (direct-mapped) instead of a strlen per event.
std::string_view view(const char* s) {
  struct Entry {
    const char* p = nullptr;
    std::string_view v;
  };
  static Entry cache[16];
  Entry& e = cache[(reinterpret_cast<uintptr_t>(s) >> 1) & 15];
  if (e.p != s) {
    e.p = s;
    e.v = std::string_view(s);
  }
  return e.v;
}
}  // namespace

namespace {
// The task an event names; nullptr is the interrupt context of an idle CPU,
// which ftrace prints as <idle>-0.
std::string_view comm_of(const Thread* task) { return task ? std::string_view(task->comm) : "<idle>"; }
int pid_of(const Thread* task) { return task ? task->pid : 0; }
}  // namespace

// The scheduler's events: the interrupt pseudo-thread of an idle CPU is the
// idle task (pid 0; the trace writer names it swapper/CPU).
namespace {
const Thread* task_or_idle(const Thread* t) { return t && t->kind != Thread::Kind::Irq ? t : nullptr; }
}  // namespace

void Recorder::trace_sched_wakeup(double t, int cpu, const Thread* by, const Thread& woken) {
  if (!in_window(t)) return;
  by = task_or_idle(by);
  TraceEvent ev;
  ev.type = EventType::SchedWakeup;
  ev.name = "sched_wakeup";
  ev.flags = "d..2.";
  ev.other_comm = woken.comm;
  ev.other_pid = woken.pid;
  ev.target_cpu = woken.cpu;
  write(t, cpu, by, ev);
}

void Recorder::trace_sched_switch(double t, int cpu, const Thread* prev, const Thread* next) {
  if (!in_window(t)) return;
  prev = task_or_idle(prev);
  next = task_or_idle(next);
  if (prev == next) return;
  TraceEvent ev;
  ev.type = EventType::SchedSwitch;
  ev.name = "sched_switch";
  ev.flags = "d..2.";
  ev.prev_state = !prev ? 'R'
                  : prev->state == Thread::State::Sleeping ? 'S'
                  : prev->state == Thread::State::Dead   ? 'X'
                                                          : 'R';
  if (next) {
    ev.other_comm = next->comm;
    ev.other_pid = next->pid;
  }
  write(t, cpu, prev, ev);
}

// Every event goes to the trace metrics through their entry for its type
// (the same code TraceMetrics::add runs for a kernel trace's event); the
// TraceEvent is built only for a --trace.
void Recorder::write(double t, int cpu, const Thread* task, TraceEvent& ev) {
  ev.ts_ns = trace_ns(t);
  ev.cpu = cpu;
  ev.comm = comm_of(task);
  ev.pid = pid_of(task);
  sink->event(ev);
}

bool Recorder::dev_match_new(const char* dev) {
  int i = match_next_;
  match_next_ ^= 1;
  match_dev_[i] = dev;
  match_[i] = metrics.on_dev(view(dev));
  return match_[i];
}

void Recorder::trace_softirq_raise(double t, int cpu, const Thread* task, const char* flags) {
  // The trace metrics count nothing of softirq_raise (metrics.cpp): only a
  // --trace needs it built.
  if (!in_window(t)) return;
  TraceEvent ev;
  ev.type = EventType::SoftirqRaise;
  ev.name = "softirq_raise";
  ev.flags = view(flags);
  ev.vec = kNetRxVec;
  write(t, cpu, task, ev);
}

void Recorder::trace_softirq_entry(double t, int cpu, const Thread* task) {
  TraceEvent ev;
  ev.type = EventType::SoftirqEntry;
  ev.name = "softirq_entry";
  ev.flags = "..s1.";
  ev.vec = kNetRxVec;
  write(t, cpu, task, ev);
}

void Recorder::trace_softirq_exit(double t, int cpu, const Thread* task) {
  TraceEvent ev;
  ev.type = EventType::SoftirqExit;
  ev.name = "softirq_exit";
  ev.flags = "..s1.";
  ev.vec = kNetRxVec;
  write(t, cpu, task, ev);
}

void Recorder::trace_napi_poll(double t, int cpu, const Thread* task, uint64_t napi, const char* dev, int work,
                               int budget) {
  TraceEvent ev;
  ev.type = EventType::NapiPoll;
  ev.name = "napi_poll";
  ev.flags = "..s1.";
  ev.napi = napi;
  ev.dev = view(dev);
  ev.work = work;
  ev.budget = budget;
  write(t, cpu, task, ev);
}

void Recorder::trace_netif_receive_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                                       const char* dev) {
  TraceEvent ev;
  ev.type = EventType::NetifReceiveSkb;
  ev.name = "netif_receive_skb";
  ev.flags = view(flags);
  ev.dev = view(dev);
  ev.skbaddr = skb.addr;
  ev.len = skb.len - 14;  // skb->len after eth_type_trans pulled the Ethernet header
  write(t, cpu, task, ev);
}

void Recorder::kfree_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                         const char* reason) {
  if (!in_window(t)) return;
  metrics.kfree_skb(cpu, pid_of(task), skb.metrics_live, view(reason));
  if (!sink) return;
  TraceEvent ev;
  ev.type = EventType::KfreeSkb;
  ev.name = "kfree_skb";
  ev.flags = view(flags);
  ev.skbaddr = skb.addr;
  ev.protocol = 0x88b5;
  ev.reason = view(reason);
  write(t, cpu, task, ev);
}

void Recorder::sys_enter(double t, int cpu, const Thread* task, uint32_t len) {
  if (!in_window(t)) return;
  metrics.sys_enter(pid_of(task), comm_of(task), 1, trace_ns(t));
  if (!sink) return;
  TraceEvent ev;
  ev.type = EventType::SysEnter;
  ev.name = "sys_enter";
  ev.flags = ".....";
  ev.nr = 1;  // write
  ev.len = len;
  write(t, cpu, task, ev);
}

void Recorder::sys_exit(double t, int cpu, const Thread* task, uint32_t len) {
  if (!in_window(t)) return;
  metrics.sys_exit(cpu, pid_of(task), 1, trace_ns(t));
  if (!sink) return;
  TraceEvent ev;
  ev.type = EventType::SysExit;
  ev.name = "sys_exit";
  ev.flags = ".....";
  ev.nr = 1;
  ev.ret = len;
  write(t, cpu, task, ev);
}

}  // namespace tunsim
