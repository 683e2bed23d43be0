// tunsim diff: two operands (summaries, trace_metrics objects or traces), a
// tolerance file and --tol specs.  Input: A, B, the tolerance file, then
// --tol strings, separated by NUL bytes.
#include "fuzz/fuzz_util.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/diff/diff.hpp"
#include "sim/tools/trace/binary.hpp"

namespace {
bool readable_here(const std::string& s) {
  // Binary and gzip operands go to libtracecmd, perf or zlib (not under test).
  if (s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f && static_cast<unsigned char>(s[1]) == 0x8b)
    return false;
  return tunsim::trace::binary_format(s) == tunsim::trace::BinaryFormat::None && !fuzzutil::names_system_files(s);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = fuzzutil::split(data, size, 8);
  parts.resize(std::max<size_t>(parts.size(), 3));
  for (auto& p : parts)
    if (!readable_here(p)) return 0;
  try {
    tunsim::trace::Tolerances tol;
    if (!parts[2].empty()) tol.add_file(fuzzutil::file("tol.json", parts[2]));
    for (size_t i = 3; i < parts.size(); ++i) tol.add_spec(parts[i]);
    tunsim::MetricsOptions opt;
    tunsim::TraceMetrics a = tunsim::trace::load_metrics(fuzzutil::file("a", parts[0]), opt, true);
    tunsim::TraceMetrics b = tunsim::trace::load_metrics(fuzzutil::file("b", parts[1]), opt, false);
    tunsim::trace::DiffResult r = tunsim::trace::diff_metrics(a, b, tol, "A", "B");
    (void)r.table();
    tunsim::dump_json(r.to_json());
  } catch (const tunsim::InputError& e) {
    fuzzutil::check_message(e.what());
  }
  return 0;
}
