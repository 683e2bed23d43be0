#include "sim/io/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "sim/io/errors.hpp"
#include "sim/io/interrupt.hpp"

namespace tunsim {

namespace {
std::string dir_of(const std::string& p) {
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
std::string base_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
[[noreturn]] void fail(const std::string& path, const std::string& what, int e) {
  throw InputError(printable(path, 200) + ": cannot write output file: " + what + (e ? std::string(": ") + std::strerror(e) : ""));
}
}  // namespace

OutputFile::OutputFile(const std::string& path) : path_(path) {
  if (path == "-") {
    std::fflush(stdout);  // what was printed through stdio (std::cout) comes first
    fd_ = 1;
    is_stdout_ = true;
    return;
  }
  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) fail(path, "is a directory", 0);
  if (!exists || S_ISREG(st.st_mode)) {
    // A temporary beside it, created exclusively (mkstemp: O_CREAT|O_EXCL),
    // closed on exec: a command that opens its output before its work
    // (calibrate) runs other programs meanwhile.
    // Its name holds at most 200 bytes of the output's: the 12 it adds made
    // a valid name of 244-255 bytes refused as too long.
    std::string t = dir_of(path) + "/." + base_of(path).substr(0, 200) + ".tmp.XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    fd_ = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd_ < 0) fail(path, "cannot create a temporary file in " + dir_of(path), errno);
    tmp_ = buf.data();
    register_temporary(tmp_);
    mode_t mode;
    if (exists) {
      mode = st.st_mode & 07777;
    } else {
      mode_t mask = ::umask(0);
      ::umask(mask);
      mode = 0666 & ~mask;
    }
    ::fchmod(fd_, mode);
    atomic_ = true;
    return;
  }
  // One of this process's own descriptors (/dev/stdout, /dev/fd/N,
  // /proc/self/fd/N): written where that descriptor stands, as the shell set
  // it up (reopening it would start over at offset 0).
  int own = -1;
  if (path == "/dev/stdout") own = 1;
  if (path == "/dev/stderr") own = 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    std::string pre = prefix;
    if (path.size() > pre.size() && path.compare(0, pre.size(), pre) == 0 &&
        path.find_first_not_of("0123456789", pre.size()) == std::string::npos && path.size() - pre.size() < 7)
      own = std::stoi(path.substr(pre.size()));
  }
  if (own >= 0) {
    fd_ = ::fcntl(own, F_DUPFD_CLOEXEC, 3);
    if (fd_ < 0) fail(path, "not an open descriptor", errno);
    return;
  }
  // A device, a pipe, a socket or a link: written in place, never replaced
  // (a link to a regular file is truncated first, as a shell's > does).
  fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0 && errno == ENOENT && S_ISLNK(st.st_mode)) {
    // A link to nothing: the file is not made through it (the message was
    // "cannot open: No such file or directory" for a name that is there).
    std::error_code ec;
    std::string target = std::filesystem::read_symlink(path, ec).string();
    fail(path, "a link to " + printable(ec ? "?" : target, 200) +
                   ", which does not exist (expected a file, or a link to one)", 0);
  }
  if (fd_ < 0) fail(path, "cannot open", errno);
  struct stat target;
  if (::fstat(fd_, &target) == 0 && S_ISREG(target.st_mode) && ::ftruncate(fd_, 0) != 0)
    fail(path, "cannot truncate", errno);
}

OutputFile::~OutputFile() {
  if (committed_) return;
  if (fd_ > 2) ::close(fd_);
  if (atomic_) {
    ::unlink(tmp_.c_str());
    unregister_temporary(tmp_);
  }
}

void OutputFile::flush_buffer() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(is_stdout_ ? "standard output" : path_, "write failed", w < 0 ? errno : ENOSPC);
    off += static_cast<size_t>(w);
  }
  buf_.clear();
}

void OutputFile::write(const char* data, size_t n) {
  buf_.append(data, n);
  if (buf_.size() >= (1 << 16)) flush_buffer();
}

void OutputFile::finish() {
  if (finished_) return;
  flush_buffer();
  if (atomic_ && ::fsync(fd_) != 0 && errno != EINVAL) fail(path_, "fsync failed", errno);
  if (fd_ > 2) {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(path_, "close failed", errno);
  }
  finished_ = true;
}

void OutputFile::commit() {
  finish();
  if (atomic_) {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp_.c_str());
      unregister_temporary(tmp_);
      committed_ = true;
      fail(path_, "rename failed", e);
    }
    // After the rename: a signal in between finds no temporary to remove.
    unregister_temporary(tmp_);
  }
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  OutputFile f(path);
  f.write(content);
  f.commit();
}

std::string read_file(const std::string& path, size_t max_bytes) { return read_file(path, max_bytes, nullptr); }

std::string read_file(const std::string& path, size_t max_bytes,
                      const std::function<void(std::string_view head)>& check_head) {
  const std::string name = path == "-" ? "standard input" : printable(path, 200);
  int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(name + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (fd) ::close(fd);
    throw InputError(name + ": cannot open: is a directory");
  }
  auto too_big = [&] {
    if (fd) ::close(fd);
    return InputError(name + ": expected at most " + std::to_string(max_bytes) +
                      " bytes, found more (not a file of this kind?)");
  };
  // A regular file's size is known before reading it.
  if (S_ISREG(st.st_mode) && st.st_size > 0 && static_cast<uint64_t>(st.st_size) > max_bytes) throw too_big();
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      if (fd) ::close(fd);
      throw InputError(name + ": cannot read: " + std::strerror(e));
    }
    if (n == 0) break;
    if (out.empty() && check_head) {
      try {
        check_head(std::string_view(buf, static_cast<size_t>(n)));
      } catch (...) {
        if (fd) ::close(fd);
        throw;
      }
    }
    if (out.size() + static_cast<size_t>(n) > max_bytes) throw too_big();
    out.append(buf, static_cast<size_t>(n));
  }
  if (fd) ::close(fd);
  return out;
}

std::string read_head(const std::string& path, size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(printable(path, 200) + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(printable(path, 200) + ": cannot open: is a directory");
  }
  std::string out(n, '\0');
  ssize_t r = ::read(fd, out.data(), n);
  ::close(fd);
  out.resize(r > 0 ? static_cast<size_t>(r) : 0);
  return out;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string output_file_key(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal().string();
  // A link is followed even where its target does not exist yet (which
  // weakly_canonical leaves as it is): written through, it creates it.
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(abs, ec)); ++hops) {
    fs::path target = fs::read_symlink(abs, ec);
    if (ec) break;
    abs = target.is_absolute() ? target : abs.parent_path() / target;
  }
  fs::path file = fs::weakly_canonical(abs, ec);
  return (ec ? abs.lexically_normal() : file).string();
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> seen;  // the file -> the option naming it first
  for (const auto& [option, path] : outputs) {
    if (path.empty()) continue;
    if (path == "-") {
      // Two documents on standard output, one after the other, are neither.
      auto [first, fresh] = seen.emplace("-", option);
      if (!fresh)
        throw InputError(option + " -: expected a file of its own, found standard output, which " + first->second +
                         " writes");
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (!ec && fs::exists(st) && !fs::is_regular_file(st)) continue;
    auto [first, fresh] = seen.emplace(output_file_key(path), option);
    if (!fresh)
      throw InputError(option + " " + printable(path, 200) + ": expected a file of its own, found the one " +
                       first->second + " writes");
  }
}

void check_distinct_inputs(const std::string& what, const std::vector<std::string>& paths) {
  std::map<std::string, std::string> seen;  // the file -> the path naming it first
  for (const auto& path : paths) {
    auto [first, fresh] = seen.emplace(path == "-" ? "-" : output_file_key(path), path);
    if (!fresh)
      throw InputError(what + " " + printable(path, 200) + ": expected each file once, found " +
                       (first->second == path ? std::string("it twice") : "the file " + printable(first->second, 200) +
                                                                             " names"));
  }
}

}  // namespace tunsim
