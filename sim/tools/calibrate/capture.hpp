// A capture described on the command line instead of by a tunsim-capture/1
// sidecar (`tunsim calibrate`, `tunsim trace config`): a user's own trace,
// recorded without scripts/capture-trace.  What is not given is inferred
// from the trace itself.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/tools/calibrate/sidecar.hpp"

namespace tunsim::calib {

struct CaptureOptions {
  std::string mode;           // plain | napi; "" = napi when the device has napi_poll events, else plain
  bool bridge = false;        // the tap is bridged to a peer (else its frames are dropped as unhandled)
  std::vector<int> writers;   // writer thread ids; empty = the tasks whose write() delivered on the device
  std::vector<int> cpus;      // their CPUs, one per writer; empty = the CPU each wrote from most
  int frame_bytes = 0;        // bytes per write(); 0 = the writers' most common write() count
  std::string kernel;         // uname -r of the traced kernel; "" = unknown (the newest modelled behaviour)
  std::string dev;            // the tap; "" = the device with the most netif_receive_skb events
  int hz = 0;                 // CONFIG_HZ; 0 = unknown
  int nr_cpus = 0;            // 0 = the highest CPU in the trace + 1
  int64_t write_nr = 1;       // syscall number of write() (x86_64: 1)
  // Whether any of the above was given.
  bool given() const;
};

// The most tasks followed while inferring the writers (more is an error
// saying to give --writers).
constexpr size_t kMaxInferTasks = 1 << 16;

// The workload of a trace.  With a sidecar beside it (PREFIX.json) and no
// option given: the sidecar.  Otherwise what the options say, the rest
// inferred from the trace (sidecar values, when there is one, before
// inference): the device, the writers (tasks whose write() calls had a
// netif_receive_skb or napi_gro_receive_entry of the device inside them,
// from sys_enter/sys_exit of write()), each writer's CPU, the frame size
// (write()'s count in sys_enter, else its return value), the mode (napi
// when napi_poll runs on the device), the frames written and the span.
// What was inferred is explained on `report`.  Throws InputError.
Workload workload_of_trace(const std::string& trace_path, const CaptureOptions& o, std::ostream& report);

}  // namespace tunsim::calib
