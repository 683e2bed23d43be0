// The simulator scenario of a captured workload (`tunsim trace config`).
#pragma once
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/intervals.hpp"
#include "sim/tools/calibrate/sidecar.hpp"

namespace tunsim::calib {

// The modelled kernel.version for a captured kernel release: the newest
// modelled version not after it ("6.18.44" -> "6.4", "6.1.0-26-amd64" -> "6.1");
// the newest modelled one when the release cannot be read.
std::string model_version_of(const std::string& release);

// The simulator scenario for a captured workload (`tunsim trace config`).
// calibration: "" for none, else the scenario's "calibration" value.
nlohmann::json scenario_for(const Workload& w, const std::string& calibration);

// The value of parameter `name` ("costs.writer_user_ns") in the
// tunsim-calibration file at `path`, or -1 when the file does not exist or
// does not set a non-negative number for it.  Throws InputError when the
// file exists but is not JSON.
double calibration_value(const std::string& path, const std::string& name);

// cpus.speed for a capture: on each CPU that ran a writer, writer_user_ns (the
// calibration's median user-space time between writes, measured on the CPUs
// its traces ran on) / the median sys_exit -> sys_enter gap of the writers on
// that CPU in this capture; 1 on the other CPUs.  The gap runs no tun code and
// touches nothing the writers share, so it measures how fast the host ran
// each CPU during the capture.  Explains itself on `report`.
// Refused (InputError) for a trace coarser than kFinestRequiredNs unless
// `allow_coarse`.
std::vector<double> cpu_speeds_for(const Workload& w, const Intervals& iv, double writer_user_ns,
                                   std::ostream& report, bool allow_coarse = false);

// When each writer thread of a capture with two or more started writing:
// the later of its first appearance in the trace (Intervals::first_seen_ns:
// the sched_wakeup that released it from tapwriter's go barrier, for a
// thread on an idle CPU up to tens of us after the first) and the first time
// its CPU ran any of the writers (Intervals::first_run_ns: until then the
// CPU ran tapwriter's main thread, the capturing shell or its idle exit,
// none of which the model has, and a simulated writer woken on an idle CPU
// runs at once), less the earliest such time, in us, one per writer in the
// sidecar's order; empty for a single writer, a capture without thread ids,
// or a trace in which a writer never appears (said on `report`).
// The kernel's first writer to call napi_schedule owns the NAPI; where no
// poll empties the queue it keeps it, so the order decides the run.
std::vector<double> writer_starts_for(const Workload& w, const Intervals& iv, std::ostream& report);

// Whether the capture's trace is beside its sidecar; the intervals
// cpu_speeds_for and writer_starts_for read from it, read once (InputError
// naming the sidecar's trace_file when it is not there).
bool has_trace(const Workload& w);
Intervals capture_intervals(const Workload& w);

}  // namespace tunsim::calib
