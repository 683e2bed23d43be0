// Child processes, the one way every command starts them.  Every child ends
// with its parent (PR_SET_PDEATHSIG), so that killing tunsim never leaves
// simulations running.
#pragma once
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace tunsim {

// A forked child running `fn(fd)`: fn writes its result to fd and returns the
// exit status.  The parent reads the result through `fd()`.
class ForkedChild {
 public:
  explicit ForkedChild(const std::function<int(int fd)>& fn);
  ~ForkedChild();
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  int fd() const { return fd_; }
  pid_t pid() const { return pid_; }
  // Reads what is available (non-blocking fds) or everything (blocking);
  // true at end of output.
  bool read_some();
  // Reads to the end, waits; returns the exit status, or -SIGNAL.
  int finish();
  const std::string& output() const { return out_; }
  // Drops the first n bytes of what output() holds (read and handled).
  void consume(size_t n) { out_.erase(0, n); }
  // Sends a signal to the child.
  void kill(int sig);

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs a program (PATH lookup when argv[0] has no '/') with standard output
// and standard error redirected to files ("" = /dev/null) and waits for it.
// Returns its exit status, or -SIGNAL; throws SimulationError when it cannot
// be started.
int run_program(const std::vector<std::string>& argv, const std::string& stdout_path,
                const std::string& stderr_path);

// The running executable (/proc/self/exe).
std::string self_exe();

}  // namespace tunsim
