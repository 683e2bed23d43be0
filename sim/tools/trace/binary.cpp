#include "sim/tools/trace/binary.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/process.hpp"

#ifdef TUNSIM_HAVE_TRACECMD
// trace-cmd.h includes tracefs.h, which is not valid C++ (an int passed as
// an enum in an inline function) and which nothing here uses: its include
// guard keeps it out.
#define _TRACE_FS_H
#include <trace-cmd.h>
#endif

namespace tunsim::trace {

BinaryFormat binary_format(std::string_view head) {
  static constexpr char kTraceDat[] = "\x17\x08\x44tracing";
  if (head.size() >= 10 && head.substr(0, 10) == std::string_view(kTraceDat, 10)) return BinaryFormat::TraceDat;
  if (head.size() >= 8 && (head.substr(0, 8) == "PERFILE2" || head.substr(0, 8) == "PERFFILE"))
    return BinaryFormat::PerfData;
  return BinaryFormat::None;
}

namespace {

// One decoded record as the decoder child sends it: this header, then the
// task name, the event name and the event's text (its TP_printk), or, with
// cpu == kError, an error message as the text.
struct RecordHeader {
  int32_t cpu;
  int32_t pid;
  int64_t ts_ns;
  int64_t missed;  // events the ring buffer dropped before this one (-1: some)
  uint32_t comm_len, name_len, info_len;
};
constexpr int32_t kError = -1;
constexpr uint32_t kMaxField = 1 << 20;

#ifdef TUNSIM_HAVE_TRACECMD
// The child's side: decodes with libtracecmd and writes records to fd.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  void record(const RecordHeader& h, const char* comm, const char* name, const char* info) {
    buf_.append(reinterpret_cast<const char*>(&h), sizeof h);
    buf_.append(comm, h.comm_len);
    buf_.append(name, h.name_len);
    buf_.append(info, h.info_len);
    if (buf_.size() >= (1 << 16)) flush();
  }
  void error(const std::string& msg) {
    RecordHeader h{kError, 0, 0, 0, 0, 0, static_cast<uint32_t>(std::min<size_t>(msg.size(), 4096))};
    record(h, "", "", msg.c_str());
  }
  bool flush() {
    size_t off = 0;
    while (off < buf_.size()) {
      ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    buf_.clear();
    return true;
  }

 private:
  int fd_;
  std::string buf_;
};

struct DecodeState {
  Writer* out;
  trace_seq seq;
};

int on_record(tracecmd_input* handle, tep_record* rec, int /*cpu*/, void* data) {
  auto* st = static_cast<DecodeState*>(data);
  tep_handle* tep = tracecmd_get_tep(handle);
  tep_event* event = tep_find_event_by_record(tep, rec);
  int pid = tep_data_pid(tep, rec);
  const char* comm = tep_data_comm_from_pid(tep, pid);
  const char* name = event && event->name ? event->name : "";
  trace_seq_reset(&st->seq);
  if (event) tep_print_event(tep, &st->seq, rec, "%s", TEP_PRINT_INFO);
  trace_seq_terminate(&st->seq);
  RecordHeader h{};
  h.cpu = rec->cpu;
  h.pid = pid;
  h.ts_ns = static_cast<int64_t>(rec->ts);
  h.missed = rec->missed_events;
  h.comm_len = static_cast<uint32_t>(std::min<size_t>(std::strlen(comm ? comm : ""), kMaxField));
  h.name_len = static_cast<uint32_t>(std::min<size_t>(std::strlen(name), kMaxField));
  h.info_len = static_cast<uint32_t>(std::min<size_t>(st->seq.len > 0 ? st->seq.len : 0, kMaxField));
  st->out->record(h, comm ? comm : "", name, st->seq.buffer ? st->seq.buffer : "");
  return 0;
}

int decode_child(const std::string& file, int fd) {
  Writer out(fd);
  tracecmd_set_loglevel(TEP_LOG_NONE);
  tracecmd_input* top = tracecmd_open(file.c_str(), TRACECMD_FL_LOAD_NO_PLUGINS);
  if (!top) {
    out.error("expected a trace.dat that libtracecmd can open, found a corrupt or unsupported one");
    out.flush();
    return 2;
  }
  // trace-cmd record -B / extract -B store each instance as a buffer of its own.
  std::vector<tracecmd_input*> handles{top};
  int n = tracecmd_buffer_instances(top);
  for (int i = 0; i < n; ++i)
    if (tracecmd_input* b = tracecmd_buffer_instance_handle(top, i)) handles.push_back(b);
  DecodeState st{&out, {}};
  trace_seq_init(&st.seq);
  tracecmd_iterate_events_multi(handles.data(), static_cast<int>(handles.size()), on_record, &st);
  trace_seq_destroy(&st.seq);
  for (size_t i = handles.size(); i-- > 1;) tracecmd_close(handles[i]);
  tracecmd_close(top);
  return out.flush() ? 0 : 3;
}
#endif

// Reads exactly n bytes; false at the end of the stream before any byte.
bool read_exact(int fd, char* p, size_t n, const std::string& name) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw InputError(name + ": cannot read the decoded trace: " + std::strerror(errno));
    if (r == 0) {
      if (got == 0) return false;
      throw InputError(name + ": the trace.dat decoder stopped in the middle of a record");
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

ParseReport read_trace_dat(const std::string& file, const std::string& name, bool lenient, const EventFn& sink) {
#ifndef TUNSIM_HAVE_TRACECMD
  (void)file;
  (void)lenient;
  (void)sink;
  throw InputError(name + ": a binary trace.dat (trace-cmd record): this tunsim was built without libtracecmd "
                          "(install libtracecmd-dev and rebuild), or give the text of `trace-cmd report -t`");
#else
  ParseReport rep;
  rep.format = "trace.dat";
  ForkedChild child([&file](int fd) { return decode_child(file, fd); });
  std::string comm, ev_name, info, error;
  TraceEvent ev;
  RecordHeader h;
  while (read_exact(child.fd(), reinterpret_cast<char*>(&h), sizeof h, name)) {
    if (h.comm_len > kMaxField || h.name_len > kMaxField || h.info_len > kMaxField)
      throw InputError(name + ": the trace.dat decoder sent a record it cannot have made");
    comm.resize(h.comm_len);
    ev_name.resize(h.name_len);
    info.resize(h.info_len);
    if ((h.comm_len && !read_exact(child.fd(), comm.data(), h.comm_len, name)) ||
        (h.name_len && !read_exact(child.fd(), ev_name.data(), h.name_len, name)) ||
        (h.info_len && !read_exact(child.fd(), info.data(), h.info_len, name)))
      throw InputError(name + ": the trace.dat decoder stopped in the middle of a record");
    if (h.cpu == kError) {
      error = info;
      break;
    }
    ++rep.lines;
    if (h.missed) rep.lost_events += h.missed > 0 ? static_cast<uint64_t>(h.missed) : 1;
    if (ev_name.empty()) continue;  // an event id the file's formats do not describe
    ev = TraceEvent{};
    ev.cpu = h.cpu;
    ev.pid = h.pid;
    ev.ts_ns = h.ts_ns;
    ev.comm = comm;
    ev.name = ev_name;
    try {
      if (h.ts_ns < 0) throw ParseFailure("expected a timestamp below 2^63 ns, found a larger one");
      parse_event_fields(ev, info);
    } catch (const ParseFailure& e) {
      std::string msg = name + ": record " + std::to_string(rep.lines) + " (" + printable(ev_name, 40) + " on CPU " +
                        std::to_string(h.cpu) + "): " + e.what();
      if (!lenient) throw InputError(msg);
      if (rep.skipped++ == 0) rep.first_skipped = msg;
      continue;
    }
    ++rep.events;
    rep.saw_timestamp(ev.ts_ns, 9);
    sink(ev);
  }
  int st = child.finish();
  if (!error.empty()) throw InputError(name + ": " + printable(error, 200));
  if (st != 0)
    throw InputError(name + ": expected a trace.dat libtracecmd can decode, found one it could not (" +
                     (st < 0 ? "its decoder was killed by signal " + std::to_string(-st)
                             : "exit status " + std::to_string(st)) +
                     ")");
  return rep;
#endif
}

// Temporary files removed with the object.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (auto& p : paths) ::unlink(p.c_str());
  }
  std::string make(const char* prefix) {
    std::string t = std::string("/tmp/") + prefix + "-XXXXXX";
    std::vector<char> b(t.begin(), t.end());
    b.push_back('\0');
    int fd = ::mkstemp(b.data());
    if (fd < 0) throw InputError(std::string("cannot create a temporary file: ") + std::strerror(errno));
    ::close(fd);
    paths.push_back(b.data());
    return paths.back();
  }
};

ParseReport read_perf_data(const std::string& file, const std::string& name, bool lenient, const EventFn& sink) {
  const std::string how = "`perf script --ns -i " + name + " > " + name + ".txt`";
  TempFiles tmp;
  std::string out = tmp.make("tunsim-perf"), err = tmp.make("tunsim-perf-err");
  int rc;
  try {
    rc = run_program({"perf", "script", "--ns", "-i", file}, out, err);
  } catch (const SimulationError&) {
    throw InputError(name + ": a perf.data file (perf record), which tunsim reads as the text " + how +
                     " prints; perf is not installed here (Debian: linux-perf): run that where it is and give "
                     "the .txt file");
  }
  if (rc != 0) {
    std::string msg, line;
    std::istringstream e(read_file(err, 1 << 20));
    while (msg.empty() && std::getline(e, line)) msg = line;
    throw InputError(name + ": " + how + " failed (" +
                     (msg.empty() ? "exit status " + std::to_string(rc) : printable(msg, 160)) + ")");
  }
  ParseReport rep = parse_text_file(out, name + " (perf script --ns)", lenient, sink);
  rep.format = "perf.data";
  return rep;
}

}  // namespace

bool have_tracecmd() {
#ifdef TUNSIM_HAVE_TRACECMD
  return true;
#else
  return false;
#endif
}

ParseReport parse_binary_trace(BinaryFormat f, const std::string& file, const std::string& name, bool lenient,
                               const EventFn& sink) {
  if (f == BinaryFormat::TraceDat) return read_trace_dat(file, name, lenient, sink);
  return read_perf_data(file, name, lenient, sink);
}

}  // namespace tunsim::trace
