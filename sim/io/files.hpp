// Reading and writing files, the one way every command does it.
//
// Writing: a regular file (or a path that does not exist yet) is replaced
// atomically: the content goes to a temporary file created exclusively in the
// same folder (never through a link planted under its name), is synced and
// renamed over the target, so a reader sees the old file or the new one,
// never half of it.  Anything else (a device such as /dev/null, a pipe, a
// link such as /dev/stdout) is written in place and never replaced.  "-" is
// standard output.  A write error (a full disk, /dev/full) is an error.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/stats/error.hpp"

namespace tunsim {

// A file being written; commit() makes it appear, the destructor of an
// uncommitted one removes its temporary.  Throws InputError naming the path.
// finish() writes out, syncs and closes without making it appear: a command
// with several outputs finishes all before it commits any, so that a write
// error (a full disk) in the last leaves none of them replaced.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const char* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void finish();
  void commit();
  const std::string& path() const { return path_; }

 private:
  void flush_buffer();
  std::string path_, tmp_;
  int fd_ = -1;
  bool atomic_ = false, finished_ = false, committed_ = false, is_stdout_ = false;
  std::string buf_;
};

// The whole content at once.
void write_file_atomic(const std::string& path, const std::string& content);

// The output files of one command, {option, path} ("" = not given, "-" =
// standard output, checked by the command): two naming one file (also
// through a link or another spelling) is an InputError, since the one
// written last would replace the other, whole and silently; so is "-" named
// twice (two documents on standard output, one after the other).  A device
// or a FIFO (written in place, /dev/null) may be named twice.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);
// Input files of one list (calibrate's TRACE..., --split-from): one file
// named twice (also through a link or another spelling, or "-" twice) is an
// InputError naming both, since it would count as two captures.
void check_distinct_inputs(const std::string& what, const std::vector<std::string>& paths);
// The file an output path writes, as one string for comparing outputs: made
// absolute, its links followed (also to a target not there yet), canonical
// as far as it exists.
std::string output_file_key(const std::string& path);

// Reads a whole file ("-" = standard input), at most max_bytes (larger is an
// InputError naming the file and the bound).
std::string read_file(const std::string& path, size_t max_bytes = size_t(1) << 30);
// The same, `check_head` called with the first bytes read (up to 64 KiB)
// before reading on; it may throw.
std::string read_file(const std::string& path, size_t max_bytes,
                      const std::function<void(std::string_view head)>& check_head);

// The first up to n bytes of a file (not standard input).
std::string read_head(const std::string& path, size_t n);

// The current time in UTC as 2026-11-25T02:00:00Z (provenance records).
std::string utc_now();

// printable(s, max_chars): a value from a file shown in a message, at most
// max_chars, control bytes and non-UTF-8 bytes escaped, so that the message
// stays one readable line (models/stats/error.hpp, included above).

}  // namespace tunsim
