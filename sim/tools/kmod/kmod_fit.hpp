// Fit of the kernel module's measurements (kmod/tunsim_calib.c) to the model's
// cost and cache parameters: `tunsim calibrate --kmod FILE -o OUT`.
#pragma once
#include <iosfwd>
#include <string>

namespace tunsim {

// Reads a file written by the kernel module (tunsim-calibration/1 with
// provenance.source "kmod" and the module's `measurements`), validates it,
// and fits, through the simulator's cache model (sim/tools/kmod/kmod_replay.hpp),
// per path the instruction footprint and the base cost that make the
// simulator's replay of the module's experiment closest (least squares) to
// the measured per-packet curves: first stack_drop on the kfree_skb series,
// then netif_receive_skb on the netif_receive_skb series (which includes the
// drop).  The cache's geometry and latencies, and every footprint not
// fitted, are those of `cache_calibration` (a tunsim-calibration/1 file; its
// cache.* values are copied into the output) or the defaults ("").  Writes a
// calibration file to out_path (opened first: one that cannot be written
// fails before anything is read) with the fitted parameters, the module's
// direct estimates for the rest, provenance.source "kmod" and a `fit` record
// that includes the replay of the experiment with the calibration as
// written (per-series RMS against the measured curves).  Prints the fit
// (values, standard errors, per-batch-size residuals, the replay's RMS) to
// report.  Throws InputError (one line: file, JSON path, expected, found) on
// bad input.
void calibrate_from_kmod(const std::string& in_path, const std::string& out_path, std::ostream& report,
                         const std::string& cache_calibration = "");

}  // namespace tunsim
