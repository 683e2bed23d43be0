#include "sim/io/interrupt.hpp"

#include <csignal>
#include <cstring>
#include <unistd.h>

namespace tunsim {

namespace {
// Fixed storage: the handler may only read memory and call unlink(2),
// write(2), signal(2) and raise(3) (async-signal-safe).  A slot is filled
// before it is marked used and marked free before it is reused.
constexpr size_t kMaxPath = 4096;
char g_path[kMaxTemporaries][kMaxPath];
volatile sig_atomic_t g_used[kMaxTemporaries];
volatile sig_atomic_t g_announce = 1;

extern "C" void cleanup_and_die(int sig) {
  for (int i = 0; i < kMaxTemporaries; ++i)
    if (g_used[i]) ::unlink(g_path[i]);
  if (g_announce && sig != SIGPIPE) {
    static const char msg[] = "tunsim: interrupted\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when this handler returns: the process ends by it
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
}  // namespace

void install_cleanup_handlers(bool announce) {
  g_announce = announce ? 1 : 0;
  struct sigaction sa {};
  sa.sa_handler = cleanup_and_die;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) sigaddset(&sa.sa_mask, s);
  for (int s : kSignals) ::sigaction(s, &sa, nullptr);
}

void reinstall_cleanup_handlers() { install_cleanup_handlers(g_announce != 0); }

void forget_parent_temporaries() {
  for (int i = 0; i < kMaxTemporaries; ++i) g_used[i] = 0;
}

void register_temporary(const std::string& path) {
  if (path.size() >= kMaxPath) return;
  for (int i = 0; i < kMaxTemporaries; ++i) {
    if (g_used[i]) continue;
    std::memcpy(g_path[i], path.c_str(), path.size() + 1);
    g_used[i] = 1;
    return;
  }
}

void unregister_temporary(const std::string& path) {
  for (int i = 0; i < kMaxTemporaries; ++i)
    if (g_used[i] && path == g_path[i]) {
      g_used[i] = 0;
      return;
    }
}

}  // namespace tunsim
