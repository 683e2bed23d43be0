// NAPI scheduling (net/core/dev.c): the SCHED and MISSED state bits, and the
// GRO_NORMAL list.  napi->poll is the instance's own (tun or backlog).
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

// napi_schedule_prep: true if this caller set SCHED.  When SCHED was already
// set it is a no-op (4.9), or sets MISSED (4.11+, kernel.napi_missed_bit).
bool napi_schedule_prep(Ctx& ctx, Napi& n);
// ____napi_schedule on this CPU: add to sd->poll_list, raise NET_RX (no
// wake-up); 6.4+ (kernel.rx_action_restart) does not raise it from inside
// net_rx_action, which re-reads the list.
void napi_add_to_poll_list(Ctx& ctx, Napi& n);
// napi_schedule(): prep + __napi_schedule.  Returns true if it scheduled.
bool napi_schedule(Ctx& ctx, Napi& n);
// napi_complete_done(): flush GRO_NORMAL packets, clear SCHED; with MISSED set
// keep SCHED and put the NAPI back on this CPU's poll list.  Returns false in
// that case.
bool napi_complete_done(Ctx& ctx, Napi& n);
// gro_normal_list(): deliver the packets held in n.rx_list.
void gro_normal_list(Ctx& ctx, Napi& n);

}  // namespace tunsim
