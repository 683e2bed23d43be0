// The kernel module's batch experiment (kmod/tunsim_calib.c, cal_batch)
// replayed through the simulator's own cost path, and the least-squares fit
// of a path's footprint and base cost to the module's curves with it.
//
// The module times, per batch size b, b packets in one bh-disabled section,
// per packet: netif_receive_skb() of a 60-byte frame with an unhandled
// EtherType (the receive series, which includes the drop) or kfree_skb()
// alone (the drop series).  Before each timed batch it builds the b skbs; in
// the polluted series it first writes pollute_bytes of data, one byte per
// line.  The replay charges what the simulator charges for the same work on
// one CPU (models/stack/stack.cpp netif_receive_skb_core with a drop stack):
//     build:   CacheModel::touch_data(skb_bytes + frame) per skb (as tun does)
//     receive: Ctx::spend(netif_receive_skb), Ctx::spend_ns(reread_data(skb,
//              skb_bytes + min(frame, 128))), Ctx::spend(stack_drop)
//     drop:    Ctx::spend(stack_drop)
//     pollute: CacheModel::pollute(0, pollute_bytes)
// Each timed batch follows an untimed one of the same kind (the module's
// warm-up, or its previous iteration), so the warm series is the steady
// state and the polluted one the same after the pollution.  Base costs are
// the medians (no run-to-run spread): the module reports medians.  The
// replay is deterministic: one pass per point is exact.
#pragma once
#include <vector>

#include "models/kernel/params.hpp"

namespace tunsim::kmod {

struct Experiment {
  std::vector<double> batch;  // batch sizes, increasing, 1..64
  double pollute_bytes = 0;   // written before each polluted batch
  double frame_bytes = 60;    // the module's frame (CAL_RECV_FRAME)
};

enum class Run { Receive, Drop };

// Per-packet ns for each batch size, warm and after the pollution.
struct Curves {
  std::vector<double> warm, polluted;
};

// The simulator's per-packet time for the module's series `run`, with the
// cache model and base costs of `p` (costs.netif_receive_skb_ns,
// costs.stack_drop_ns, cache.*).
Curves replay(const Params& p, const Experiment& e, Run run);

// Root mean square of measured - model over both series.
double rms_residual(const Curves& measured, const Curves& model);

// Least-squares fit of one path's instruction footprint
// (cache.footprints.<path>.icache_bytes, the parameter's value in bytes) and
// base cost to the measured series of `run` (Receive: path netif_receive_skb
// with costs.stack_drop_ns and every other value as in p; Drop: path
// stack_drop).  The base enters every packet once, so for each footprint the
// best base is the mean residual; the footprint is searched over whole
// lines, 0 up to the L2's lines, on a grid of at most 257 points and then
// line by line around the best.  Standard errors from the model linearised
// at the optimum (finite differences), sigma^2 = RSS / (points - 2).
struct FootprintFit {
  double footprint_bytes = 0, footprint_stderr_bytes = 0;
  double base_ns = 0, base_stderr_ns = 0;
  double residual_rms_ns = 0;
  int observations = 0;
  bool at_bound = false;  // the best footprint is the largest searched
  double search_max_bytes = 0;
  Curves model;  // the fitted curves
  std::vector<double> warm_residual_ns, polluted_residual_ns;
};
FootprintFit fit_footprint(const Params& p, const Experiment& e, Run run, const Curves& measured);

}  // namespace tunsim::kmod
