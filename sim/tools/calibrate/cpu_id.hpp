// Which CPU a measurement ran on, and whether a calibration's parts describe
// the CPU a capture ran on.
//
// The signature is "VENDOR family F model M" (/proc/cpuinfo's vendor_id,
// cpu family and model: cpuid leaf 1).  The model name does not tell cores
// apart under a hypervisor: "AMD EPYC" named a Zen 5 (family 26) with a
// 48 KiB 12-way L1d until 2026-12-04 and a Zen 1 (family 23) with a 32 KiB
// 8-way L1d from 2026-12-05 on the same development VM (docs/calibration.md,
// "Which CPU a calibration describes").
#pragma once
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/io/json.hpp"

namespace tunsim::calib {

// The machine measurement the shipped cache model comes from
// (models/cache/params.cpp) and its CPU, read off that file's cpuid record.
extern const char* const kDefaultsMachine;
extern const char* const kDefaultsCpu;

// host.cpu_signature of a tunsim-machine/1 document, else the one its
// cache_geometry.raw cpuid record gives (files of calibrate-machine before
// 2026-12-05), else "".
std::string machine_cpu_signature(const nlohmann::json& machine);

// The provenance entries of a calibration fitted to `traces` (file,
// signature; "" where a sidecar has none) with the cache model of `machine`
// (a path; "" = the shipped defaults'): "cpu_signature" (the captures' CPU,
// null when none says) and "cache_model" {"machine", "cpu_signature"}.
// Throws InputError when the captures name different CPUs, or the machine
// measurement another CPU than theirs: a calibration describes one machine.
// Captures of another CPU than the shipped cache model's (no --machine) get
// a note on `report`: their costs are fitted under another CPU's cache.
// `cache`: cache_from_machine's result for `machine`; a fit it kept with
// --accept-cache-misfit is marked "cache_model" {"misfit"} (what
// calibration_cpu_mismatch and scripts/machine/trust.py cpu refuse).
nlohmann::json cpu_provenance(const std::vector<std::pair<std::string, std::string>>& traces,
                              const std::string& machine, std::ostream& report,
                              const nlohmann::json& cache = nlohmann::json());

// Why the calibration file at `path` (a tunsim-calibration/1 document)
// does not describe a capture's CPU `capture_cpu`: its captures' or its
// cache model's CPU differs; "" when it does, or either side does not say
// (no signature, a calibration without the provenance, no such file).
std::string calibration_cpu_mismatch(const std::string& capture_cpu, const std::string& path);

}  // namespace tunsim::calib
