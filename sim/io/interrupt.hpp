// What a signal that ends tunsim leaves behind: nothing.  An output being
// written is a temporary beside its target (sim/io/files.hpp) until it is
// renamed over it; a process that Ctrl-C, `kill`, a closed terminal or a
// reader that left its pipe ends would leave that temporary in the folder.
// OutputFile registers each temporary here while it exists; the handler
// installed by install_cleanup_handlers removes them and then ends the
// process by the same signal, with its default action (a shell sees 128 +
// the signal: 130 for SIGINT, as tunsim's own "interrupted" exit).
#pragma once
#include <string>

namespace tunsim {

// SIGINT, SIGTERM, SIGHUP and SIGPIPE: remove the registered temporaries,
// then die of the signal.  Called at start and in a forked child.
// `announce`: say "tunsim: interrupted" on standard error first (not for
// SIGPIPE, and not in a batch's workers, whose parent says it once).
void install_cleanup_handlers(bool announce = true);
// The same, as last installed: after SimGrid's engine is created, which
// installs a SIGINT handler of its own (it prints every actor's state and
// exits with status 1, leaving the temporaries).
void reinstall_cleanup_handlers();
// In a forked child: forget the parent's temporaries (the child's handler
// must not remove files the parent is still writing).
void forget_parent_temporaries();

// Registered while the temporary exists (async-signal-safe to read).  A
// process with more than kMaxTemporaries open at once leaves the rest
// unregistered.
constexpr int kMaxTemporaries = 32;
void register_temporary(const std::string& path);
void unregister_temporary(const std::string& path);

}  // namespace tunsim
