// Every model's parameter declarations, in the order of the config reference.
#include "models/kernel/param.hpp"

namespace tunsim {

// Each in its model's params.cpp.
void declare_scenario_params(ParamTable& t);  // models/kernel
void declare_tun_params(ParamTable& t);       // models/tun
void declare_softirq_params(ParamTable& t);   // models/softirq
void declare_napi_params(ParamTable& t);      // models/napi
void declare_backlog_params(ParamTable& t);   // models/backlog
void declare_sched_params(ParamTable& t);     // models/sched
void declare_cpu_params(ParamTable& t);       // models/kernel
void declare_cache_params(ParamTable& t);     // models/cache
void declare_writer_params(ParamTable& t);    // models/writer
void declare_vhost_params(ParamTable& t);     // models/vhost
void declare_guest_params(ParamTable& t);     // models/guest
void declare_stack_params(ParamTable& t);     // models/stack
void declare_slub_params(ParamTable& t);      // models/slub

const ParamTable& param_table() {
  static const ParamTable t = [] {
    ParamTable x;
    for (auto* declare : {declare_scenario_params, declare_tun_params, declare_softirq_params,
                          declare_napi_params, declare_backlog_params, declare_sched_params,
                          declare_cpu_params, declare_cache_params,
                          declare_writer_params, declare_vhost_params, declare_guest_params,
                          declare_stack_params, declare_slub_params})
      declare(x);
    return x;
  }();
  return t;
}

const ParamDecl* ParamTable::find(const std::string& generic_path) const {
  for (auto& d : decls_)
    if (d.path == generic_path) return &d;
  return nullptr;
}

}  // namespace tunsim
