// The batching designs tunsim replays, one file each in models/tun/, listed in
// one registry (registry.cpp).  The config schema's choices, the CLI's
// messages, `tunsim designs --json`, the sweeps and the benchmark read the
// registry; adding a design is its file, one registry line and its tests
// (docs/model.md, "Adding a design").
#pragma once
#include <string_view>
#include <vector>

#include "models/kernel/kernel.hpp"

namespace tunsim {

struct DesignInfo {
  const char* name;         // as the scenario's "design" names it
  KernelVersion version;    // the kernel it belongs to (the default kernel.version)
  const char* description;  // one line: what it replays
  // The design-specific tail of tun_get_user(): hand the skb to the stack;
  // `more` is MSG_MORE (always false for write()).
  void (*deliver)(Ctx& ctx, TunQueue& tq, Skb* skb, bool more);
  // The tun NAPI's poll (napi->poll), or nullptr when the design has no NAPI.
  int (*poll)(Ctx& ctx, TunQueue& tq, int budget);
  // tun_sendmsg with TUN_MSG_PTR: a batch of skbs built from vhost's XDP
  // buffers (5.15+), or nullptr for a design that predates it (vhost then
  // sends it one packet per sendmsg at every version).
  void (*deliver_batch)(Ctx& ctx, TunQueue& tq, SkbQueue& batch);
};

const std::vector<const DesignInfo*>& designs();
// nullptr when no design has that name.
const DesignInfo* find_design(std::string_view name);
// "netif_rx_ni, v1_napi, ..." for messages.
std::string design_names();

}  // namespace tunsim
