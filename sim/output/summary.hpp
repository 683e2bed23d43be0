// The summary of one run (schema in docs/summary.md); its table is in table.hpp.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/boot.hpp"
#include "sim/output/table.hpp"  // format_table

namespace tunsim {

// The summary of a machine that ran to the end.  `resolved` is the scenario
// with every value filled (config_resolved), `notes` what the loader said.
nlohmann::json make_summary(Machine& m, const nlohmann::json& resolved, const std::vector<std::string>& notes);
// The run's cold start reaching into the statistics window: one note per
// thread first woken before warmup_ms that first got its CPU after it (or
// never), saying when, so that warmup_ms can be raised past it.
std::vector<std::string> warmup_notes(const Machine& m);
// A tun queue whose socket's charge (sk_wmem_alloc) reached tun.sndbuf, and
// what followed: each writer asleep in sock_wait_for_wmem from then to the
// end, vhost's -EAGAIN sends and the wake-ups tun_sock_write_space gave it,
// and whether it still waited at the end (docs/model.md, Limits).
std::vector<std::string> sndbuf_notes(const Machine& m);

}  // namespace tunsim
