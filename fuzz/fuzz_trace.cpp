// The trace parser and the trace metrics.  Input: a mode byte, then trace
// text.  Mode bits: 1 --dev tap0, 2 --pid 1000,2469, 4 --comm tapwriter,
// 8 --lenient, 16 through the streaming file reader (else from memory).
#include "fuzz/fuzz_util.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/trace/binary.hpp"
#include "sim/tools/trace/stats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  tunsim::MetricsOptions opt;
  if (mode & 1) opt.dev = "tap0";
  if (mode & 2) opt.pids = {1000, 2469};
  if (mode & 4) opt.comm = "tapwriter";
  const bool lenient = mode & 8;
  tunsim::trace::ParseReport rep;
  try {
    tunsim::TraceMetrics m;
    if (mode & 16) {
      // Text only: gzip is zlib's to read, and binary traces are decoded by
      // libtracecmd (in a child) or perf, which are not under test here.
      if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0x1f &&
          static_cast<unsigned char>(text[1]) == 0x8b)
        return 0;
      if (tunsim::trace::binary_format(text) != tunsim::trace::BinaryFormat::None) return 0;
      m = tunsim::trace::metrics_from_trace_file(fuzzutil::file("t.trace", text), opt, lenient, &rep);
    } else {
      m = tunsim::trace::metrics_from_trace_text(text, "fuzz", opt, lenient, &rep);
    }
    nlohmann::json j = m.to_json();
    tunsim::dump_json(j);
    (void)rep.resolution_ns();
    // What trace stats --json writes, diff reads back to the same object.
    nlohmann::json back = tunsim::TraceMetrics::from_json(j, "round trip").to_json();
    if (back != j) {
      std::fprintf(stderr, "trace_metrics round trip differs:\n%s\n%s\n", tunsim::dump_json(j).c_str(),
                   tunsim::dump_json(back).c_str());
      std::abort();
    }
  } catch (const tunsim::InputError& e) {
    fuzzutil::check_message(e.what());
  }
  return 0;
}
