// The cache model's penalties inside the calibration's intervals, measured
// on the simulator itself.
#pragma once
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/fit.hpp"

namespace tunsim::calib {

// Cache penalties of the equations of `w`, measured on the simulator
// `tunsim_bin`: the scenario with default costs, traced with the cache model
// on and off; penalty = median(on) - median(off).  Also checks that
// median(off) equals the equation's sum of default costs (else the model's
// layout changed and the equations are wrong: SimulationError).
// `sets`: --set assignments for both runs (the machine's cache parameters).
void measure_penalties(const Workload& w, std::vector<Observation>& obs, const std::string& tunsim_bin,
                       std::ostream& report, const std::vector<std::string>& sets = {});

}  // namespace tunsim::calib
