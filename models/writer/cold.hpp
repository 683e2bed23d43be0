// scripts/machine/kcold.c replayed on the model: what one write() of a
// 60-byte frame to a plain tap costs right after a user program ran P bytes
// of code or loaded D bytes of data since the previous write().  The
// calibration fits the cache model's footprints and set concentrations to
// the kernel's curves with it (sim/tools/calibrate/cache_fit.cpp), and the
// tests check the shipped defaults against the committed curves.
#pragma once
#include <vector>

#include "models/kernel/params.hpp"

namespace tunsim {

struct ColdPoint {
  double code_bytes = 0, data_bytes = 0;
  double branch_sites = -1;  // taken branches in the code; < 0: one a line (kcold's default layouts)
};

// For each point, the model's time of the timed write() in kcold's protocol:
// an untimed write(), the pollution (CacheModel::pollute), the timed
// write(); ns, the sys_enter..sys_exit time plus nothing else (the user
// loop's writer_user_ns is not part of it, as kcold's timer brackets only
// the call).  `p` must describe one writer on CPU 0 (the scenario the caller
// built); the replay is deterministic, so one sample per point is exact.
std::vector<double> cold_write_ns(const Params& p, const std::vector<ColdPoint>& points);

}  // namespace tunsim
