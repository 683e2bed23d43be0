// A userspace thread calling write() on the tun fd (tun_chr_write_iter ->
// tun_get_user with more = false): one packet per system call.
#pragma once
#include "models/kernel/kernel.hpp"

namespace tunsim {

struct Writer {
  const SenderParams* sp;
  uint64_t written = 0;
  uint64_t written_window = 0;  // write() calls entered in the statistics window
  uint64_t flow = 0;
  double next_time = 0;  // rate-limited writers: when the next write starts
  // When a write() found the socket's charge at tun.sndbuf and went to
  // sleep in sock_wait_for_wmem, for the rest of the run (-1: never).
  double blocked_at = -1;
};

// One write(): writer_user_ns of user-space time since the previous one,
// then sys_enter, syscall entry/exit cost, tun_get_user, the design's
// delivery with more = false, sys_exit.  False when tun_get_user's
// sock_alloc_send_pskb found the socket's charge at tun.sndbuf: the write()
// sleeps in sock_wait_for_wmem (w.blocked_at), and no modelled event wakes
// it (docs/model.md, Limits).
bool writer_write(Ctx& ctx, Writer& w);
// Whether the writer has written all it should by ctx.now.
bool writer_done(const Ctx& ctx, const Writer& w);
// The writer thread's body: write() back to back (or at its rate) until done.
void writer_thread(Ctx& ctx, Writer& w);

}  // namespace tunsim
