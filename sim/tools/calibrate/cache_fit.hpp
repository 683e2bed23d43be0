// `tunsim calibrate --machine FILE`: the cache model's parameters from a
// machine measurement (tunsim-machine/1, scripts/calibrate-machine):
// geometry, load and fetch latencies and footprints as measured, and the
// four numbers the microbenchmarks cannot give directly (the L1 set
// concentrations and the footprint scales) fitted to the kernel's cold-path
// curves (scripts/machine/kcold.c) by replaying kcold on the model
// (models/writer/cold.hpp).  docs/calibration.md, "Fitting the cache model".
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/params.hpp"

namespace tunsim::calib {

// costs.ipi_latency_ns from scripts/machine/wakeup.c's p10s: the thread
// runs `latency_ns` after the waker's FUTEX_WAKE began, which includes one
// system call's entry and exit (`no_waiter_ns`: a kernel-to-kernel wake-up
// makes none) and the idle CPU's context switch, which the model adds
// itself (`context_switch_ns`; negative = the parameter's default).  Never
// below 0.  calibrate --machine and trace config (a capture's own
// measurement) both derive it here.
double ipi_latency_from_wakeup(double latency_ns, double no_waiter_ns, double context_switch_ns);

// Returns {"parameters": {KEY: {value, unit?, from}}, "fit": {...}} for a
// tunsim-calibration/1 file; the report goes to `report`.  InputError when
// the file is not a machine measurement or lacks what the fit needs, and
// when the fitted model misses kcold points beyond their tolerance (the
// cache model does not describe that CPU), unless `accept_misfit`: then
// the fit is kept and says so in fit.misfit {missed, fitted, first}, which
// calibrate copies to provenance.cache_model.misfit.
nlohmann::json cache_from_machine(const std::string& machine_path, std::ostream& report, bool accept_misfit = false);
// The same on a machine file already read (`path` names it in messages).
nlohmann::json cache_from_machine(const nlohmann::json& machine, const std::string& path, std::ostream& report,
                                  bool accept_misfit = false);
// The kcold scenario with what the machine file measured (geometry,
// latencies, fetch costs, footprints, ...), before any fit: the tests make
// curves of known parameters with it.
nlohmann::json measured_kcold_scenario(const nlohmann::json& machine, const std::string& path);

// The scenario kcold runs, as a tunsim scenario: one writer on CPU 0 of a
// Linux 6.18 plain tap, 60-byte frames, stack drop.
nlohmann::json kcold_scenario();

// The kcold curves of a machine file's summary as fit targets:
// (code bytes, data bytes, cold - warm ns).
struct ColdTarget {
  double code_bytes, data_bytes, minus_warm_ns;
  double sites_per_line = 1;  // taken branches a line of the code polluter (kcold --jumps-per-line + 1)
  double tolerance_ns = -1;   // what the model may miss it by; < 0: from the runs (cold_tolerances)
};
std::vector<ColdTarget> cold_targets(const nlohmann::json& machine, const std::string& path);

// What the model may miss each target by and still reproduce the curve:
// 10 ns (the clock's quantum in kcold's samples) plus half the range of the
// kernel's own cold - warm at that point over the file's trusted runs (both
// code layouts: kernel code lies between them).  `calibrate --machine`
// refuses a fit that misses a fitted point by more, and the tests hold the
// shipped defaults to it.
std::vector<double> cold_tolerances(const nlohmann::json& machine, const std::vector<ColdTarget>& targets);

// The model's cold - warm at each target with the scenario's parameters
// (`scenario`: a tunsim scenario JSON; its cache section is used).
std::vector<double> model_minus_warm(const nlohmann::json& scenario, const std::vector<ColdTarget>& targets);
std::vector<double> model_minus_warm(const Params& p, const std::vector<ColdTarget>& targets);

}  // namespace tunsim::calib
