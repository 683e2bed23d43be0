// Binary traces: trace-cmd's trace.dat (`trace-cmd record`, `trace-cmd
// extract`), decoded through Debian's libtracecmd and libtraceevent with the
// kernel's own event formats stored in the file, and perf's perf.data,
// converted by `perf script --ns`.  Both give the same TraceEvent stream as
// the text formats (sim/tools/trace/parse.hpp).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "sim/tools/trace/parse.hpp"

namespace tunsim::trace {

enum class BinaryFormat { None, TraceDat, PerfData };

// The largest binary trace kept in a temporary file (one read from standard
// input or gzip-compressed).
constexpr size_t kMaxBinaryTraceBytes = size_t(4) << 30;

// What the first bytes of a file say it is: trace.dat starts with
// "\x17\x08\x44tracing", perf.data with "PERFILE2" (or the old "PERFFILE").
BinaryFormat binary_format(std::string_view head);

// Reads `file` (a seekable file) of format `f`; `name` is shown in messages.
// trace.dat: decoded in a forked child, so that a file libtracecmd cannot
// handle ends in an InputError, never in a crash of tunsim; an event whose
// fields do not parse is an error unless `lenient`.  perf.data: `perf script
// --ns -i FILE` when perf is installed, else an InputError saying to run it.
ParseReport parse_binary_trace(BinaryFormat f, const std::string& file, const std::string& name, bool lenient,
                               const EventFn& sink);

// A text trace file read under another name (reader.cpp).
ParseReport parse_text_file(const std::string& path, const std::string& name, bool lenient, const EventFn& sink);

// Whether this tunsim was built with libtracecmd.
bool have_tracecmd();

}  // namespace tunsim::trace
