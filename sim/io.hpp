// File output helpers: every result file is written atomically.
#pragma once
#include <string>

namespace tunsim {

// Writes content to path through a temporary file in the same directory and
// rename(2), so a reader never sees a half-written file.  "-" writes stdout.
// Throws InputError naming the path when the directory is not writable.
void write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file; throws InputError naming the path if it cannot.
std::string read_file(const std::string& path);

// The current time in UTC as 2026-11-25T02:00:00Z (provenance records).
std::string utc_now();

}  // namespace tunsim
