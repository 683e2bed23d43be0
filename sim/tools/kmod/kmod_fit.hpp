// Fit of the kernel module's measurements (kmod/tunsim_calib.c) to the model's
// cost and cache parameters: `tunsim calibrate --kmod FILE -o OUT`.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace tunsim {

// Reads a file written by the kernel module (tunsim-calibration/1 with
// provenance.source "kmod" and the module's `measurements`), validates it,
// fits per path (netif_receive_skb = receive minus drop, and stack = the drop)
//     per-packet cost(b) = base + M / b   (polluted series)
//     per-packet cost(b) = base           (warm series)
// by least squares over both series, converts M into an instruction footprint
// given the refill penalty the module measured (footprint = M / penalty_ns *
// line_bytes), and writes a calibration file to out_path with the fitted
// parameters, the module's direct estimates for the rest, provenance.source
// "kmod" and a `fit` record.  Prints the fit (parameters, values, standard
// errors, per-batch-size residuals) to report.
// Throws InputError (one line: file, JSON path, expected, found) on bad input.
void calibrate_from_kmod(const std::string& in_path, const std::string& out_path,
                         std::ostream& report);

// One path's fit: base (ns per packet) and M (ns per batch, the refill of the
// path's footprint after the polluting working set), with standard errors.
struct BatchFit {
  double base_ns = 0, base_stderr_ns = 0;
  double refill_ns = 0, refill_stderr_ns = 0;
  double residual_rms_ns = 0;
  int observations = 0;
  std::vector<double> warm_residual_ns, polluted_residual_ns;  // per batch size
};

// Ordinary least squares of y = base + M * x over the warm points (x = 0) and
// the polluted points (x = 1/b).  batch, warm and polluted have equal lengths
// >= 2 (checked by the caller).
BatchFit fit_batch_series(const std::vector<double>& batch, const std::vector<double>& warm,
                          const std::vector<double>& polluted);

}  // namespace tunsim
