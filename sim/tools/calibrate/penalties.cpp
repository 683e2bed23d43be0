#include "sim/tools/calibrate/penalties.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/tools/calibrate/intervals.hpp"
#include "sim/tools/calibrate/scenario.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

double sum_default(const Observation& o) {
  double s = 0;
  for (int p = 0; p < kParams; ++p) s += o.coef[p] * param_default(p);
  return s;
}


void run_tool(const std::string& bin, const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv{bin};
  argv.insert(argv.end(), args.begin(), args.end());
  int rc = run_program(argv, log, log);
  if (rc != 0) {
    std::string msg;
    try {
      msg = read_file(log, 1 << 20);
    } catch (...) {
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    auto nl = msg.rfind('\n');
    if (nl != std::string::npos) msg = msg.substr(nl + 1);
    throw SimulationError("calibrate: the penalty run `" + bin + " " + args[0] + " ...` failed: " + msg);
  }
}

struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/tunsim-calibrate-XXXXXX";
    if (!mkdtemp(t)) throw SimulationError("calibrate: cannot create a temporary directory");
    path = t;
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

void measure_penalties(const Workload& w, std::vector<Observation>& obs, const std::string& bin,
                       std::ostream& report, const std::vector<std::string>& sets) {
  TmpDir tmp;
  Workload sw = w;
  sw.count_per_thread = 2000;  // steady state is reached after a few writes
  sw.duration_s = 0;
  sw.elapsed_s = 0.01;
  json scen = scenario_for(sw, "");
  std::string sfile = tmp.path + "/scenario.json";
  write_file_atomic(sfile, dump_json(scen) + "\n");
  std::vector<std::vector<Observation>> res;
  for (const char* on : {"true", "false"}) {
    std::string tr = tmp.path + "/sim-" + on + ".trace";
    std::vector<std::string> args{"run", sfile, "--set", std::string("cache.enabled=") + on, "--trace", tr, "-q"};
    for (const std::string& a : sets) args.insert(args.end(), {"--set", a});
    // Constant costs: the check below, that the simulator spends exactly the
    // equation's sum, needs them (the spread's draws are not in the equations).
    args.insert(args.end(), {"--set", "costs.spread.process=[]", "--set", "costs.spread.softirq=[]"});
    run_tool(bin, args, tmp.path + "/log");
    Workload tw = sw;
    tw.trace_path = tr;
    tw.timestamp_resolution_ns = 1;
    res.push_back(observations_for(tw, extract_intervals(tr, tw, false)));
  }
  if (res[0].size() != obs.size() || res[1].size() != obs.size())
    throw SimulationError("calibrate: the simulated " + w.label() + " trace has other intervals than the kernel's");
  for (size_t i = 0; i < obs.size(); ++i) {
    double off = res[1][i].value, expect = sum_default(obs[i]);
    if (std::fabs(off - expect) > 2 + 1e-3 * expect)
      throw SimulationError("calibrate: " + w.label() + " " + obs[i].name + ": the simulator without cache spends " +
                            fmt("%.1f", off) + " ns at default costs where the calibration's equation says " +
                            fmt("%.1f", expect) +
                            " ns: the model's layout of costs changed; update observations_for() in "
                            "sim/tools/calibrate/fit.cpp");
    obs[i].penalty = res[0][i].value - off;
  }
  report << "  cache penalties (simulator, default costs, cache on - off):";
  for (auto& o : obs) report << " " << o.name << " " << fmt("%.1f", o.penalty) << " ns;";
  report << "\n";
}
}  // namespace tunsim::calib
