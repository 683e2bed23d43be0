// Running simulations from the command line: one in this process (run), or
// many in workers forked from this warm process (compare, batch), each
// running point after point: a fork costs far less than starting tunsim
// again, and a worker's next point less than a fork.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config/loader.hpp"

namespace tunsim {

// SimGrid's own options (--cfg=..., --log=..., --help-cfg, --help-logs) as
// argc/argv for its engine.
struct SimgridArgs {
  std::vector<std::string> store;
  std::vector<char*> argv;
  int argc = 0;
  void finish(const char* prog);
};

// SimGrid's options, in sim/cli/simgrid_args.cpp: whether an argument is
// one (--cfg=..., --log=..., --help-cfg or --cfg-help, --help-logs,
// --help-log-categories, --help-models, --help-aliases, --help-tracing).
bool is_simgrid_arg(const std::string& a);
// When a help flag is among them: prints SimGrid's help of the first and
// returns the exit status (0); -1 when there is none.
int simgrid_help(const SimgridArgs& sg, const char* prog);
// Gives the --cfg and --log options to a SimGrid engine in a forked child;
// throws InputError with SimGrid's reasons on one line when it rejects
// them, aborts included.
void check_simgrid_args(const SimgridArgs& sg, const char* prog);

struct RunOutputs {
  std::string summary;       // -o FILE: the summary JSON ("" = none)
  std::string trace;         // --trace FILE ("" = none)
  std::string engine_stats;  // --engine-stats FILE: wall time, SimGrid activities, fiber switches
  bool quiet = false;        // no speed line on stderr
};

// Runs one scenario in this process and returns its summary.
nlohmann::json run_simulation(const LoadedConfig& cfg, const RunOutputs& out, SimgridArgs& sg);

// One point of a batch: validated (load_config) where it is read, and built
// again where it runs, from the same file as read, so that the parent holds
// a few hundred bytes a point, not its config (132 KB of JSON and tables).
struct Point {
  std::string id;
  std::shared_ptr<const ConfigSource> src;  // shared by the points of one file
  std::vector<std::string> sets;
  CacheParams cache;  // its cache model's, whose shared tables the parent builds once
  std::string out;    // the summary file ("" = none: the result goes back to the parent)
};
struct PointResult {
  std::string id;
  int exit = 0;  // 0 ok, 2 bad input, 3 failed, -SIGNAL killed
  std::string error;
  double wall_s = 0;
  nlohmann::json summary;  // when the point has no `out`
};

// Runs every point in workers forked from this process, at most `jobs` at a
// time, each taking the next point no worker has taken, and calls `done` as
// each point finishes (in completion order).  A worker that dies inside a
// point (a signal) fails that point and another worker goes on with the
// rest.  A SIGINT or SIGTERM stops the workers and throws Interrupted.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};
void run_points(const std::vector<Point>& points, int jobs, SimgridArgs& sg,
                const std::function<void(const PointResult&)>& done);

}  // namespace tunsim
