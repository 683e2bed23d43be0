// `tunsim calibrate TRACE... -o OUT`: the calibration of the model's base
// costs from single-writer kernel traces (docs/calibration.md).
#pragma once
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/tools/calibrate/capture.hpp"

namespace tunsim::calib {

// The whole command: reads the traces and their sidecars (or the capture
// described by `capture`, capture.hpp), fits, prints the report, writes the
// tunsim-calibration/1 file to out_path ("" = do not write), which is opened
// first: one that cannot be written fails before the work.  Traces whose
// timestamps are coarser than kFinestRequiredNs are refused unless
// `allow_coarse`.  Returns the calibration JSON.  `machine`: a
// tunsim-machine/1 file ("" = none): the cache model's parameters come from
// it (cache_fit.hpp), go into the file, and the cache penalties inside the
// traces' intervals are measured with them.  With `machine` and no traces,
// the file holds only those.  `split_from`: capture sidecars with perf
// samples (capture-trace --perf-paths); a trace whose own sidecar has none
// takes those of the one with its workload label, to split the sums it
// identifies (docs/traces.md, "The split measured").  `accept_cache_misfit`:
// keep a cache fit that misses the machine's kcold curves, marked in
// provenance.cache_model.misfit (cache_from_machine).
nlohmann::json calibrate_from_traces(const std::vector<std::string>& traces, const std::string& out_path,
                                     const std::string& name, const std::string& tunsim_bin, std::ostream& report,
                                     const CaptureOptions& capture = {}, bool allow_coarse = false,
                                     const std::string& machine = "",
                                     const std::vector<std::string>& split_from = {},
                                     bool accept_cache_misfit = false);

}  // namespace tunsim::calib
