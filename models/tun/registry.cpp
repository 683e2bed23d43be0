// The registry of batching designs: one line per design, in the order the
// comparison table and the docs list them.  Each design_X is defined in
// models/tun/X.cpp.
#include "models/tun/design.hpp"

#define TUNSIM_DESIGNS(X) X(netif_rx_ni) X(v1_napi) X(deferred_signal) X(rx_batched) X(napi_gro) X(xdp_batch)

namespace tunsim {

#define TUNSIM_DECLARE(n) extern const DesignInfo design_##n;
TUNSIM_DESIGNS(TUNSIM_DECLARE)
#undef TUNSIM_DECLARE

const std::vector<const DesignInfo*>& designs() {
#define TUNSIM_ENTRY(n) &design_##n,
  static const std::vector<const DesignInfo*> d = {TUNSIM_DESIGNS(TUNSIM_ENTRY)};
#undef TUNSIM_ENTRY
  return d;
}

const DesignInfo* find_design(std::string_view name) {
  for (const DesignInfo* d : designs())
    if (name == d->name) return d;
  return nullptr;
}

std::string design_names() {
  std::string s;
  for (const DesignInfo* d : designs()) s += (s.empty() ? "" : ", ") + std::string(d->name);
  return s;
}

}  // namespace tunsim
