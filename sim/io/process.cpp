#include "sim/io/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/io/errors.hpp"
#include "sim/io/interrupt.hpp"

namespace tunsim {

namespace {
// In a new child: die with the parent (and if the parent already died, now).
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(128 + SIGTERM);
}
int decode(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 3; }
}  // namespace

ForkedChild::ForkedChild(const std::function<int(int fd)>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SimulationError(std::string("pipe: ") + std::strerror(errno));
  pid_t parent = ::getpid();
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw SimulationError(std::string("fork: ") + std::strerror(e));
  }
  if (pid_ == 0) {
    ::close(fds[0]);
    // The parent's handlers (a batch's SIGINT/SIGTERM flag) are not the
    // child's: a signal removes the child's own temporaries (never the
    // parent's) and ends it.
    forget_parent_temporaries();
    install_cleanup_handlers(false);
    die_with_parent(parent);
    int code = 3;
    try {
      code = fn(fds[1]);
    } catch (...) {
      code = 3;
    }
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::close(fds[1]);
  fd_ = fds[0];
}

ForkedChild::~ForkedChild() {
  if (fd_ >= 0) ::close(fd_);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGTERM);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ForkedChild::read_some() {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      out_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    return true;
  }
}

int ForkedChild::finish() {
  if (reaped_) return decode(status_);
  if (fd_ >= 0) {
    int fl = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, fl & ~O_NONBLOCK);
    read_some();
    ::close(fd_);
    fd_ = -1;
  }
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return decode(status_);
}

void ForkedChild::kill(int sig) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

int run_program(const std::vector<std::string>& argv, const std::string& stdout_path,
                const std::string& stderr_path) {
  if (argv.empty()) throw SimulationError("run_program: no program");
  pid_t parent = ::getpid();
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw SimulationError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    die_with_parent(parent);
    auto redirect = [](const std::string& p, int target) {
      int fd = ::open(p.empty() ? "/dev/null" : p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd >= 0) ::dup2(fd, target);
    };
    redirect(stdout_path, 1);
    redirect(stderr_path, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  int code = decode(st);
  if (code == 127) throw SimulationError("cannot run " + argv[0]);
  return code;
}

std::string self_exe() {
  char b[4096];
  ssize_t n = ::readlink("/proc/self/exe", b, sizeof b - 1);
  if (n <= 0) throw SimulationError("cannot find the tunsim binary (/proc/self/exe)");
  return std::string(b, static_cast<size_t>(n));
}

}  // namespace tunsim
