// A userspace thread calling write() on the tun fd.
#include <cstdio>

#include "models/kernel/params.hpp"

namespace tunsim {

void declare_writer_params(ParamTable& t) {
  t.add("senders.*.writer.rate_mpps", PType::Num, 0)
      .range(0, 1e4)
      .means("Writer: writes per us; 0 = back to back (closed loop).")
      .from("-")
      .bind_sender(&SenderParams::writer_rate_mpps);
  t.add("senders.*.writer.count", PType::Int, 0)
      .range(0, 1e15)
      .means("Writer: stop after this many writes; 0 = until the end.")
      .from("-")
      .bind_sender(&SenderParams::writer_count);
  t.add("senders.*.writer.start_us", PType::Num, 0)
      .range(0, 1e9)
      .units("us")
      .means("Writer: the thread is created asleep and woken at this time, when it makes its first write() "
             "(wake_up_new_task then); 0 = at the start.  `tunsim trace config` sets it per writer thread "
             "from the capture: the later of the thread's first sched_wakeup (or first event), as the kernel "
             "released it from tapwriter's barrier, and the first time its CPU ran any of the writers (before, "
             "that CPU ran what the model does not have), after the earliest writer's.")
      .from("the capture (tunsim trace config); 0 otherwise")
      .bind_sender(&SenderParams::writer_start_us);
  t.add("senders.*.writer.user_code_bytes", PType::Int, 0)
      .range(0, 1e9)
      .units("bytes")
      .means("Writer: bytes of its own code the thread runs between two write() calls; they evict kernel lines "
             "(models/cache, placed uniformly).")
      .from("scripts/tapwriter.c's loop is a few lines; scripts/machine/kcold.c runs P bytes")
      .bind_sender(&SenderParams::user_code_bytes);
  t.add("senders.*.writer.user_data_bytes", PType::Int, 0)
      .range(0, 1e9)
      .units("bytes")
      .means("Writer: bytes of its own data the thread touches between two write() calls.")
      .from("scripts/tapwriter.c touches one frame; scripts/machine/kcold.c chases D bytes")
      .bind_sender(&SenderParams::user_data_bytes);
  declare_cost(t, "syscall_ns", 204.7, &Costs::syscall_ns, "entry_SYSCALL_64 .. sysret",
               "write()/sendmsg() entry and exit, ns.")
      .from(kCostTraceFit);
  declare_cost(t, "writer_user_ns", 1352, &Costs::writer_user_ns,
               "user loop + entry/exit outside sys_enter..sys_exit",
               "A writer thread's time between two write() calls, outside the traced system call (its own loop and "
               "the syscall entry/exit work before sys_enter and after sys_exit), ns.")
      .from("measured: write period p50 - write p50 of the committed 6.18 single-writer captures (tunsim calibrate, "
            "median over plain-60-1w, napi-60-1w, bridge-plain-60-1w; 2026-11-25)");

  t.finalize([](Params& p, std::vector<std::string>& notes) {
    for (size_t i = 0; i < p.senders.size(); ++i) {
      const SenderParams& sp = p.senders[i];
      if (sp.vhost() || sp.writer_start_us * 1e-3 < p.duration_ms) continue;
      char b[160];
      std::snprintf(b, sizeof b, "senders.%zu.writer.start_us %.6g is not before the run's end (duration_ms %.6g): "
                    "that writer writes nothing", i, sp.writer_start_us, p.duration_ms);
      notes.push_back(b);
    }
  });
}

}  // namespace tunsim
