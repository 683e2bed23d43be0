#include "sim/cli/simulate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "models/kernel/boot.hpp"
#include "models/tun/design.hpp"
#include "sim/engine/engine.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/output/ftrace_writer.hpp"
#include "sim/output/summary.hpp"

namespace tunsim {

void SimgridArgs::finish(const char* prog) {
  argv.clear();
  argv.push_back(const_cast<char*>(prog));
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  argc = static_cast<int>(argv.size()) - 1;
}

nlohmann::json run_simulation(const LoadedConfig& cfg, const RunOutputs& out, SimgridArgs& sg) {
  // Every output opened before the run: a file that cannot be written fails
  // before the others are written (-o naming a folder that does not exist
  // failed after the run had written the trace and the engine stats).
  std::optional<OutputFile> summary_file;
  if (!out.summary.empty()) summary_file.emplace(out.summary);
  std::unique_ptr<FtraceWriter> trace;
  if (!out.trace.empty()) {
    trace = std::make_unique<FtraceWriter>(out.trace);
    trace->set_clock(engine_clock);
  }
  std::optional<OutputFile> stats_file;
  if (!out.engine_stats.empty()) stats_file.emplace(out.engine_stats);
  Machine m = boot(cfg.params);
  m.k->rec.sink = trace.get();
  m.k->rec.metrics.set_watermark(engine_clock);
  EngineStats st = run_machine(m, &sg.argc, sg.argv.data(), engine_options_from_env());
  std::vector<std::string> notes = cfg.notes;
  for (auto& n : warmup_notes(m)) notes.push_back(n);
  for (auto& n : sndbuf_notes(m)) notes.push_back(n);
  nlohmann::json s = make_summary(m, cfg.full, notes);
  uint64_t n = s["packets"]["delivered"];
  if (stats_file)
    stats_file->write(dump_json({{"design", cfg.params.design->name},
                                 {"packets_delivered", n},
                                 {"wall_s", st.wall_s},
                                 {"simgrid_activities", st.simgrid_activities},
                                 {"fiber_switches", st.fiber_switches},
                                 {"groups", st.groups}}) +
                      "\n");
  if (summary_file) summary_file->write(dump_json(s) + "\n");
  // All written out before any appears: a full disk under the last one
  // replaces none of them (the trace stood alone when -o failed after it).
  if (trace) trace->finish();
  if (stats_file) stats_file->finish();
  if (summary_file) summary_file->finish();
  if (trace) trace->commit();
  if (stats_file) stats_file->commit();
  if (summary_file) summary_file->commit();
  if (!out.quiet)
    std::cerr << "tunsim: " << cfg.params.design->name << ": " << n << " packets in " << st.wall_s << " s wall ("
              << (st.wall_s > 0 ? static_cast<double>(n) / st.wall_s / 1e6 : 0) << " M simulated packets per "
              << "wall-second, " << st.simgrid_activities << " SimGrid activities, " << st.fiber_switches
              << " thread switches, " << st.groups << " CPU groups)\n";
  return s;
}

namespace {

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// Runs a point in this process: 0 and the summary (when the point has no
// file of its own) in `msg`, or the exit status of a failed run (2 bad input,
// 3 failed) and its error.
int run_point(const Point& p, SimgridArgs& sg, std::string& msg) {
  try {
    RunOutputs o;
    o.summary = p.out;
    o.quiet = true;
    nlohmann::json s = run_simulation(load_config(*p.src, p.sets), o, sg);
    msg = p.out.empty() ? dump_json(s, -1) : std::string();  // (dump() threw on a --set name that is no UTF-8)
    return 0;
  } catch (const InputError& e) {
    msg = e.what();
    return 2;
  } catch (const std::exception& e) {
    msg = e.what();
    return 3;
  }
}

bool write_all(int fd, const std::string& b) {
  size_t off = 0;
  while (off < b.size()) {
    ssize_t w = ::write(fd, b.data() + off, b.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

// A worker: a child forked once that runs points one after another, each
// the next one no worker has taken (`next`, shared by the workers and the
// parent), until none is left or one fails.  It reports on `fd`, for each
// point, "S i\n" as it starts it and "R i status length\n" and the message
// (run_point's) as it ends.  A point run after others in the same process
// gives the summary it gives alone, byte for byte: the model keeps no state
// across runs, and SimGrid's clock, which does, is offset (run_machine).
// Forking a child a point cost each point about 9 ms of wall on 2 cores
// (page faults, fork, exit: docs/model.md), half of a 1000-point sweep.
// After a failed point the worker stops (a run that threw may leave SimGrid
// in any state) and the parent forks another for the rest.
//
// The points run in a thread of the worker's own: glibc gives a new thread
// a new malloc arena (fresh pages), so the simulations' allocations do not
// split and relink the free chunks of the parent's heap, each write to one
// of those pages a copy-on-write fault (docs/model.md, "Speed").
int run_worker(const std::vector<Point>& points, std::atomic<uint64_t>* next, SimgridArgs& sg, int fd) {
  std::thread t([&] {
    for (;;) {
      uint64_t i = next->fetch_add(1);
      if (i >= points.size()) return;
      if (!write_all(fd, "S " + std::to_string(i) + "\n")) return;
      std::string msg;
      int code = 3;
      try {
        code = run_point(points[i], sg, msg);
      } catch (...) {
        msg = "failed";
      }
      if (!write_all(fd, "R " + std::to_string(i) + " " + std::to_string(code) + " " + std::to_string(msg.size()) +
                             "\n" + msg) ||
          code != 0)
        return;
    }
  });
  t.join();
  return 0;
}

// The counter of points taken, in memory the workers share with the parent.
class SharedCounter {
 public:
  SharedCounter() {
    void* m = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw SimulationError(std::string("mmap: ") + std::strerror(errno));
    c_ = new (m) std::atomic<uint64_t>(0);
  }
  ~SharedCounter() { ::munmap(c_, sizeof(std::atomic<uint64_t>)); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  std::atomic<uint64_t>* get() { return c_; }

 private:
  std::atomic<uint64_t>* c_;
};

}  // namespace

void run_points(const std::vector<Point>& points, int jobs, SimgridArgs& sg,
                const std::function<void(const PointResult&)>& done) {
  if (jobs < 1) jobs = 1;
  // Build the cache model's shared tables here, once, so that no child
  // builds (and writes the pages of) its own copy.
  for (const Point& p : points) {
    CacheModel warm(&p.cache);
  }
  g_signal = 0;
  struct sigaction sa{}, old_int{}, old_term{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  struct Restore {
    struct sigaction i, t;
    ~Restore() {
      ::sigaction(SIGINT, &i, nullptr);
      ::sigaction(SIGTERM, &t, nullptr);
    }
  } restore{old_int, old_term};

  SharedCounter next;
  struct Worker {
    std::unique_ptr<ForkedChild> child;
    long point = -1;  // the point it started and has not ended
    std::chrono::steady_clock::time_point t0;
  };
  std::vector<Worker> workers;
  std::vector<bool> reported(points.size(), false);
  size_t finished = 0;
  auto since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto result = [&](long i, int exit, std::string msg, double wall) {
    if (i < 0 || static_cast<size_t>(i) >= points.size() || reported[static_cast<size_t>(i)]) return;
    reported[static_cast<size_t>(i)] = true;
    ++finished;
    const Point& p = points[static_cast<size_t>(i)];
    PointResult res;
    res.id = p.id;
    res.exit = exit;
    res.wall_s = wall;
    if (exit == 0 && p.out.empty())
      res.summary = nlohmann::json::parse(msg);
    else if (exit != 0)
      res.error = msg.empty() ? exit < 0 ? "killed by signal " + std::to_string(-exit)
                                         : "exit status " + std::to_string(exit)
                              : std::move(msg);
    done(res);
  };
  // A worker's complete records, taken from its output.
  auto records = [&](Worker& w) {
    for (;;) {
      const std::string& out = w.child->output();
      size_t nl = out.find('\n');
      if (nl == std::string::npos) return;
      std::istringstream head(out.substr(0, nl));
      char kind = 0;
      long i = -1;
      int code = 3;
      size_t len = 0;
      head >> kind >> i;
      if (kind == 'R') {
        head >> code >> len;
        if (out.size() - (nl + 1) < len) return;  // its message is not all here yet
        std::string msg = out.substr(nl + 1, len);
        w.child->consume(nl + 1 + len);
        w.point = -1;
        result(i, code, std::move(msg), since(w.t0));
      } else {
        w.child->consume(nl + 1);
        w.point = i;
        w.t0 = std::chrono::steady_clock::now();
      }
    }
  };
  while (finished < points.size()) {
    if (g_signal) {
      for (auto& w : workers) w.child->kill(SIGTERM);
      workers.clear();
      throw Interrupted();
    }
    while (next.get()->load() < points.size() && static_cast<int>(workers.size()) < jobs) {
      workers.push_back(Worker{std::make_unique<ForkedChild>(
                                   [&points, &next, &sg](int fd) { return run_worker(points, next.get(), sg, fd); }),
                               -1, std::chrono::steady_clock::now()});
    }
    if (workers.empty()) {
      // Every point was taken, but a worker ended between taking one and
      // starting it (killed): those are reported as failed.
      for (size_t i = 0; i < points.size(); ++i) result(static_cast<long>(i), 3, "its worker ended before it ran", 0);
      break;
    }
    // Wait for records or the end of any worker (its pipe closes).
    std::vector<pollfd> fds;
    for (auto& w : workers) fds.push_back({w.child->fd(), POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 200);
    if (n <= 0) continue;
    for (size_t k = workers.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = workers[k];
      int fl = ::fcntl(w.child->fd(), F_GETFL);
      ::fcntl(w.child->fd(), F_SETFL, fl | O_NONBLOCK);
      bool end = w.child->read_some();
      records(w);
      if (!end) continue;
      int exit = w.child->finish();
      // It ended inside a point: killed (or out of memory) there.
      if (w.point >= 0) result(w.point, exit != 0 ? exit : 3, "", since(w.t0));
      workers.erase(workers.begin() + static_cast<long>(k));
    }
  }
}

}  // namespace tunsim
