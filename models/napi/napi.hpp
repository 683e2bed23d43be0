// NAPI scheduling (net/core/dev.c): the SCHED and MISSED state bits, and the
// GRO_NORMAL list.  napi->poll is the instance's own (tun or backlog).
#pragma once
#include <string>

#include "models/kernel/kernel.hpp"

namespace tunsim {

// napi_schedule_prep: true if this caller set SCHED.  When SCHED was already
// set it is a no-op (4.9), or sets MISSED (4.11+, kernel.napi_missed_bit).
bool napi_schedule_prep(Ctx& ctx, Napi& n);
// ____napi_schedule on this CPU: add to sd->poll_list and raise NET_RX
// (6.14+, kernel.napi_schedule_wakes_ksoftirqd: the form that wakes
// ksoftirqd outside interrupt context); 6.4+ (kernel.rx_action_restart) does
// not raise it from inside net_rx_action, which re-reads the list.  A
// threaded NAPI instead is marked SCHED_THREADED and its kthread woken.
void napi_add_to_poll_list(Ctx& ctx, Napi& n);
// napi_schedule(): prep + __napi_schedule.  Returns true if it scheduled.
bool napi_schedule(Ctx& ctx, Napi& n);
// napi_complete_done(): flush GRO_NORMAL packets, clear SCHED (and
// SCHED_THREADED); with MISSED set
// keep SCHED and put the NAPI back on this CPU's poll list.  Returns false in
// that case.
bool napi_complete_done(Ctx& ctx, Napi& n);
// gro_normal_list(): deliver the packets held in n.rx_list.
void gro_normal_list(Ctx& ctx, Napi& n);

// Threaded NAPI (threaded.cpp, 5.12+).  The CPU the kthread of tun queue
// `queue` runs on (tun.napi_thread_cpu, or the queue's first sender's) and
// its name as ps shows it.
int napi_thread_cpu(const Params& p, int queue);
std::string napi_thread_name(const TunQueue& tq);
// The kthread's body (napi_threaded_poll): wait until the NAPI is scheduled
// to it (napi_thread_wait), then poll it with its weight in a bh-disabled
// section, sending RPS IPIs after each poll (6.4+) and running pending
// softirqs at local_bh_enable, for as long as each poll uses the whole weight
// (cond_resched() between polls; no netdev_budget, no time limit).
void napi_threaded_poll(Ctx& ctx, Napi& n);
// One wake-up's work of that body: poll while SCHED_THREADED is set.
void napi_thread_run(Ctx& ctx, Napi& n);

}  // namespace tunsim
