#include "sim/cli/simulate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
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

// The child's side: run the point, write its summary, report on `fd`.
int run_child_body(const Point& p, SimgridArgs& sg, int fd) {
  std::string msg;
  int code = 0;
  try {
    RunOutputs o;
    o.summary = p.out;
    o.quiet = true;
    nlohmann::json s = run_simulation(p.cfg, o, sg);
    if (p.out.empty()) msg = s.dump();
  } catch (const InputError& e) {
    msg = e.what();
    code = 2;
  } catch (const std::exception& e) {
    msg = e.what();
    code = 3;
  }
  size_t off = 0;
  while (off < msg.size()) {
    ssize_t w = ::write(fd, msg.data() + off, msg.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  return code;
}

// The child runs the point in a thread of its own: glibc gives a new thread
// a new malloc arena (fresh pages), so the simulation's allocations do not
// split and relink the free chunks of the parent's heap, each write to one
// of those pages a copy-on-write fault (with a TLB flush, a hypercall on a
// PVM guest).  Measured with 50 points of 3 ms in `tunsim batch -j 1`
// (docs/model.md, "Speed"): 27,500 -> 24,400 page faults, 16 -> 12 ms of
// system CPU per point.
int run_child(const Point& p, SimgridArgs& sg, int fd) {
  int code = 3;
  std::thread t([&] {
    try {
      code = run_child_body(p, sg, fd);
    } catch (...) {
      code = 3;
    }
  });
  t.join();
  return code;
}

}  // namespace

void run_points(const std::vector<Point>& points, int jobs, SimgridArgs& sg,
                const std::function<void(const PointResult&)>& done) {
  if (jobs < 1) jobs = 1;
  // Build the cache model's shared tables here, once, so that no child
  // builds (and writes the pages of) its own copy.
  for (const Point& p : points) {
    CacheModel warm(&p.cfg.params.cache);
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

  struct Running {
    const Point* p;
    std::unique_ptr<ForkedChild> child;
    std::chrono::steady_clock::time_point t0;
  };
  std::vector<Running> running;
  size_t next = 0;
  while (next < points.size() || !running.empty()) {
    if (g_signal) {
      for (auto& r : running) r.child->kill(SIGTERM);
      running.clear();
      throw Interrupted();
    }
    while (next < points.size() && static_cast<int>(running.size()) < jobs) {
      const Point* p = &points[next++];
      Running r{p, std::make_unique<ForkedChild>([p, &sg](int fd) { return run_child(*p, sg, fd); }),
                std::chrono::steady_clock::now()};
      running.push_back(std::move(r));
    }
    // Wait for output or the end of any child (its pipe closes).
    std::vector<pollfd> fds;
    for (auto& r : running) fds.push_back({r.child->fd(), POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 200);
    if (n <= 0) continue;
    for (size_t i = running.size(); i-- > 0;) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Running& r = running[i];
      int fl = ::fcntl(r.child->fd(), F_GETFL);
      ::fcntl(r.child->fd(), F_SETFL, fl | O_NONBLOCK);
      if (!r.child->read_some()) continue;  // more to come
      PointResult res;
      res.id = r.p->id;
      res.exit = r.child->finish();
      res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t0).count();
      if (res.exit == 0 && r.p->out.empty()) {
        res.summary = nlohmann::json::parse(r.child->output());
      } else if (res.exit != 0) {
        res.error = r.child->output();
        if (res.error.empty())
          res.error = res.exit < 0 ? "killed by signal " + std::to_string(-res.exit)
                                   : "exit status " + std::to_string(res.exit);
      }
      running.erase(running.begin() + static_cast<long>(i));
      done(res);
    }
  }
}

}  // namespace tunsim
