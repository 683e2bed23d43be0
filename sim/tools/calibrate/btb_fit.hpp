// The branch-target level of `tunsim calibrate --machine`
// (models/cache/cache.hpp, "Branch targets"; docs/calibration.md, "Branch
// targets").  From calibrate-machine's part "btb" (summary.branch_sites):
//  - the generated code's own cost per line with S = 1, 2, 4 taken branches
//    a line (icache.c --jumps-per-line S-1) gives what a missing site costs
//    and what a line missing L1i costs when its branch was predicted
//    (cache.ifetch.l2_ns); the loops' own knee (entries, ways) is reported;
//  - the kernel write()'s cold - warm after such code (kcold.c
//    --jumps-per-line S-1) is the code side's target: the BTB's entries and
//    ways, the kernel's sites a line, the L1i concentration and the icache
//    footprint scale, fitted together.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/kernel/params.hpp"
#include "sim/tools/calibrate/cache_fit.hpp"

namespace tunsim::calib {

// The kcold curves fitted: polluters of 1 and 2 taken branches a line,
// which bracket kernel code's density.  With 4 a line the kernel's write()
// pays more than the same number of sites at 1 or 2 a line cost it up to
// about 2048 sites (on the Zen 1 at 1024 sites: 426 ns against 210 and 196,
// results/reference/machine/zen1-kvm-2vcpu-btb.json): a front-end structure
// the model does not have; those points are reported, not fitted.
constexpr double kMaxFittedSitesPerLine = 2;

struct BtbIcacheFit {
  double entries = 0, ways = 1, miss_ns = 0, ifetch_l2_ns = 0;
  double rms_ns = 0;  // over the icache points, ns a line
  size_t points = 0;
};

// True when the summary holds the part's curves (summary.branch_sites).
bool has_branch_sites(const nlohmann::json& summary);

// The icache curves' fit: for a walk of N lines of S sites each, a line
// costs base_S + S * miss_ns * m_btb(N S - 1) + ifetch_l2_ns * m_l1i(N - 1)
// (m: the model's miss curve of the level's ways, sites or lines / sets;
// base_S: the median of the S curve up to 16 KiB).  Grid over ways 1-32
// and entries 256-65536 step 64, least squares (non-negative) for the two
// costs.  InputError on a malformed or incomplete curve.
BtbIcacheFit btb_from_icache(const nlohmann::json& summary, const std::string& path, double l1i_bytes,
                             double l1i_ways, double line_bytes);

// summary.branch_sites.kernel_cold as code targets (sites_per_line set,
// tolerance 10 ns + half the runs' range).
std::vector<ColdTarget> btb_cold_targets(const nlohmann::json& summary, const std::string& path);

struct CodeFit {
  double concentration = 1, scale = 1, sites_per_line = 0;
  double sq_error = 0;
  double entries = 0, ways = 1;
};
// The code side with the BTB's miss cost set in `p`: L1i concentration
// (1-8 step 0.25), icache footprint scale (0.5-4 step 0.02), the BTB's
// entries (512-16384 step 512) and ways (1-16) and the kernel's sites a
// line (their product with the scale 0.1-6 step 0.1) minimising the
// squared error of cold - warm over `targets` (code points).  The L1i and
// branch-target penalties add up in the model, and the latter depends on
// the scale and the sites a line only through their product, so the grid's
// corners are sums of two smaller grids' replays.  A single pass of the
// polluter is what kcold does and what a user program between two packets
// does; the icache loop's knee (a walk repeated) is a different pattern,
// whose fit gives the miss cost.
CodeFit fit_code_with_btb(Params p, const std::vector<ColdTarget>& targets);

}  // namespace tunsim::calib
