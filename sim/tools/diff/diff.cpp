#include "sim/tools/diff/diff.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <limits>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"
#include "sim/io/process.hpp"
#include "sim/tools/trace/stats.hpp"

namespace tunsim::trace {
namespace {

const std::set<std::string> kDistKeys = {"ks", "wasserstein", "mean", "p50", "p99"};

bool is_dist(const std::string& n) {
  for (const auto& d : TraceMetrics::dist_names())
    if (d == n) return true;
  return false;
}

bool is_scalar(const std::string& n) {
  return n == "duration_s" || n == "throughput_mpps" || n == "steady_mpps" || n == "packets" ||
         (n.size() > 6 && n.compare(0, 6, "drops.") == 0);
}

std::string known_names() {
  std::string s = "duration_s, throughput_mpps, steady_mpps, packets, drops.REASON";
  for (const auto& d : TraceMetrics::dist_names()) s += ", " + d;
  return s;
}

std::string shown(const nlohmann::json& v) { return printable(dump_json(v, -1), 60); }

void check_bound(double v, const std::string& where) {
  if (!(v >= 0) || !std::isfinite(v))
    throw InputError(where + ": expected a non-negative tolerance, found " + std::to_string(v));
}

// The number in `val` (all of it), a bound check_bound accepts.
double parse_bound(const std::string& val, const std::string& arg, const std::string& after) {
  char* end = nullptr;
  double v = std::strtod(val.c_str(), &end);
  if (end == val.c_str() || *end)
    throw InputError(arg + ": expected a number" + (after.empty() ? "" : " " + after) + ", found '" +
                     printable(val, 40) + "'");
  check_bound(v, arg);
  return v;
}

std::string fmt(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  double a = std::fabs(v);
  if (v == std::floor(v) && a < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 1e6 || a < 1e-3)
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else if (a >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string pct(double rel) {
  if (std::isinf(rel)) return rel > 0 ? "+inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", rel * 100);
  return buf;
}

nlohmann::json jnum(double v) {
  if (std::isfinite(v)) return v;
  return nullptr;  // JSON has no infinity
}

}  // namespace

double relative_error(double a, double b) {
  if (a == b) return 0.0;
  if (a == 0) return b > 0 ? std::numeric_limits<double>::infinity()
                           : -std::numeric_limits<double>::infinity();
  return (b - a) / std::fabs(a);
}

void Tolerances::add_file(const std::string& path) {
  nlohmann::json j = read_json_file(path, size_t(1) << 20);
  const std::string file = path == "-" ? "standard input" : printable(path, 200);
  if (!j.is_object()) throw InputError(file + ": expected a JSON object of tolerances, found " + j.type_name());
  for (auto& [name, v] : j.items()) {
    std::string where = file + ": " + printable(name, 60);
    if (is_dist(name)) {
      if (v.is_number()) {
        check_bound(v.get<double>(), where);
        dist[name]["ks"] = v.get<double>();
        continue;
      }
      if (!v.is_object())
        throw InputError(where + ": expected {\"ks\": X, ...} or a number, found " + shown(v));
      for (auto& [k, b] : v.items()) {
        if (!kDistKeys.count(k))
          throw InputError(where + "." + printable(k, 40) + ": expected one of ks, wasserstein, mean, p50, p99");
        if (!b.is_number()) throw InputError(where + "." + printable(k, 40) + ": expected a number, found " + shown(b));
        check_bound(b.get<double>(), where + "." + printable(k, 40));
        dist[name][k] = b.get<double>();
      }
    } else if (is_scalar(name)) {
      if (!v.is_number()) throw InputError(where + ": expected a relative tolerance (number), found " + shown(v));
      check_bound(v.get<double>(), where);
      scalar[name] = v.get<double>();
    } else {
      throw InputError(where + ": unknown metric; expected one of " + known_names());
    }
  }
}

void Tolerances::set_ks_max(const std::string& value) {
  ks_max = parse_bound(value, "--ks-max " + printable(value, 80), "");
}

void Tolerances::add_spec(const std::string& spec) {
  const std::string arg = "--tol " + printable(spec, 80);
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw InputError(arg + ": expected METRIC=VALUE or DISTRIBUTION.KEY=VALUE");
  std::string name = spec.substr(0, eq);
  double v = parse_bound(spec.substr(eq + 1), arg, "after '='");
  size_t dot = name.rfind('.');
  if (dot != std::string::npos && is_dist(name.substr(0, dot))) {
    std::string key = name.substr(dot + 1);
    if (!kDistKeys.count(key))
      throw InputError(arg + ": expected one of ks, wasserstein, mean, p50, p99 after '" +
                       name.substr(0, dot) + ".', found '" + printable(key, 40) + "'");
    dist[name.substr(0, dot)][key] = v;
  } else if (is_dist(name)) {
    dist[name]["ks"] = v;
  } else if (is_scalar(name)) {
    scalar[name] = v;
  } else {
    throw InputError(arg + ": unknown metric '" + printable(name, 60) + "'; expected one of " + known_names());
  }
}

DiffResult diff_metrics(const TraceMetrics& a, const TraceMetrics& b, const Tolerances& tol,
                        const std::string& a_label, const std::string& b_label) {
  DiffResult r;
  r.a_label = a_label;
  r.b_label = b_label;
  auto scalar = [&](const std::string& name, double va, double vb) {
    ScalarRow row{name, va, vb, relative_error(va, vb), std::nullopt, true};
    if (auto it = tol.scalar.find(name); it != tol.scalar.end()) {
      row.tol = it->second;
      row.ok = std::fabs(row.rel_err) <= it->second;
    }
    r.pass = r.pass && row.ok;
    r.scalars.push_back(row);
  };
  scalar("duration_s", a.duration_s(), b.duration_s());
  scalar("throughput_mpps", a.throughput_mpps(), b.throughput_mpps());
  scalar("steady_mpps", a.steady_mpps(), b.steady_mpps());
  scalar("packets", static_cast<double>(a.packets()), static_cast<double>(b.packets()));
  std::set<std::string> reasons;
  for (auto& [k, n] : a.drops()) reasons.insert(k);
  for (auto& [k, n] : b.drops()) reasons.insert(k);
  for (const auto& k : tol.scalar)
    if (k.first.compare(0, 6, "drops.") == 0) reasons.insert(k.first.substr(6));
  for (const auto& k : reasons) {
    auto get = [&](const TraceMetrics& m) {
      auto it = m.drops().find(k);
      return it == m.drops().end() ? 0.0 : static_cast<double>(it->second);
    };
    scalar("drops." + k, get(a), get(b));
  }
  for (const auto& name : TraceMetrics::dist_names()) {
    DistRow row;
    row.name = name;
    row.a = a.dist(name);
    row.b = b.dist(name);
    row.ks = ks_statistic(row.a, row.b);
    row.wasserstein = wasserstein(row.a, row.b);
    if (auto it = tol.dist.find(name); it != tol.dist.end()) row.tol = it->second;
    if (tol.ks_max && !row.tol.count("ks")) row.tol["ks"] = *tol.ks_max;
    for (auto& [key, bound] : row.tol) {
      double v;
      if (key == "ks")
        v = row.ks;
      else if (key == "wasserstein")
        v = row.wasserstein;
      else if (key == "mean")
        v = std::fabs(relative_error(row.a.mean(), row.b.mean()));
      else if (key == "p50")
        v = std::fabs(relative_error(row.a.quantile(0.5), row.b.quantile(0.5)));
      else
        v = std::fabs(relative_error(row.a.quantile(0.99), row.b.quantile(0.99)));
      if (!(v <= bound)) row.failed.push_back(key);
    }
    row.ok = row.failed.empty();
    r.pass = r.pass && row.ok;
    r.dists.push_back(std::move(row));
  }
  return r;
}

nlohmann::json DiffResult::to_json() const {
  nlohmann::json j;
  j["a"] = a_label;
  j["b"] = b_label;
  j["pass"] = pass;
  j["checked"] = checked();
  auto& s = j["scalars"] = nlohmann::json::array();
  for (const auto& row : scalars)
    s.push_back({{"name", row.name}, {"a", row.a}, {"b", row.b}, {"rel_err", jnum(row.rel_err)},
                 {"tol", row.tol ? nlohmann::json(*row.tol) : nlohmann::json(nullptr)},
                 {"ok", row.ok}});
  auto& d = j["distributions"] = nlohmann::json::array();
  for (const auto& row : dists) {
    auto side = [](const Dist& x) {
      return nlohmann::json{{"count", x.count()}, {"mean", x.mean()}, {"p50", x.quantile(0.5)},
                            {"p99", x.quantile(0.99)}};
    };
    d.push_back({{"name", row.name}, {"a", side(row.a)}, {"b", side(row.b)}, {"ks", row.ks},
                 {"wasserstein", row.wasserstein}, {"tol", row.tol}, {"failed", row.failed},
                 {"ok", row.ok}});
  }
  return j;
}

size_t DiffResult::checked() const {
  size_t n = 0;
  for (const auto& r : scalars) n += r.tol.has_value();
  for (const auto& r : dists) n += !r.tol.empty();
  return n;
}

std::string DiffResult::table() const {
  std::ostringstream o;
  char line[256];
  o << "A: " << a_label << "\nB: " << b_label << "\n\n";
  std::snprintf(line, sizeof line, "%-36s %14s %14s %9s %8s  %s\n", "metric", "A", "B", "rel.err",
                "tol", "status");
  o << line;
  for (const auto& r : scalars) {
    std::snprintf(line, sizeof line, "%-36s %14s %14s %9s %8s  %s\n", r.name.c_str(),
                  fmt(r.a).c_str(), fmt(r.b).c_str(), pct(r.rel_err).c_str(),
                  r.tol ? pct(*r.tol).substr(1).c_str() : "-", r.tol ? (r.ok ? "ok" : "FAIL") : "");
    o << line;
  }
  for (const auto& r : dists) {
    o << "\n";
    std::snprintf(line, sizeof line, "%-36s %14s %14s %9s\n", r.name.c_str(), "A", "B", "rel.err");
    o << line;
    auto stat = [&](const char* what, double va, double vb) {
      std::snprintf(line, sizeof line, "  %-34s %14s %14s %9s\n", what, fmt(va).c_str(),
                    fmt(vb).c_str(), pct(relative_error(va, vb)).c_str());
      o << line;
    };
    stat("count", static_cast<double>(r.a.count()), static_cast<double>(r.b.count()));
    stat("mean", r.a.mean(), r.b.mean());
    stat("p50", r.a.quantile(0.5), r.b.quantile(0.5));
    stat("p99", r.a.quantile(0.99), r.b.quantile(0.99));
    o << "  KS " << fmt(r.ks) << "  Wasserstein " << fmt(r.wasserstein);
    if (!r.tol.empty()) {
      o << "  tol";
      for (auto& [k, b] : r.tol) o << " " << k << "<=" << fmt(b);
      o << "  " << (r.ok ? "ok" : "FAIL");
      for (const auto& f : r.failed) o << " " << f;
    }
    o << "\n";
  }
  std::vector<std::string> bad;
  size_t checked = 0;
  for (const auto& r : scalars) {
    checked += r.tol.has_value();
    if (!r.ok) bad.push_back(r.name);
  }
  for (const auto& r : dists) {
    checked += !r.tol.empty();
    if (!r.ok) bad.push_back(r.name);
  }
  if (checked == 0) {
    o << "\nNOTHING CHECKED: no metric has a tolerance (give --tol, --tol-file or --ks-max); the values above "
         "are only printed\n";
  } else if (pass) {
    o << "\nPASS: " << checked << " metric(s) with a tolerance, all within it\n";
  } else {
    o << "\nFAIL: " << bad.size() << " of " << checked << " metric(s) out of tolerance:";
    for (const auto& b : bad) o << " " << b;
    o << "\n";
  }
  return o.str();
}

namespace {
// The first up to n bytes of standard input.
std::string read_stdin_head(size_t n) {
  std::string head(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(0, head.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw InputError(std::string("standard input: cannot read: ") + std::strerror(errno));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  head.resize(got);
  return head;
}
}  // namespace

TraceMetrics load_metrics(const std::string& path, const MetricsOptions& opt, bool lenient, std::string* kind,
                          ParseReport* report) {
  const bool in = path == "-";
  std::string name = in ? "standard input" : printable(path, 200);
  std::string head = in ? read_stdin_head(4096) : read_head(path, 4096);
  size_t p = head.find_first_not_of(" \t\r\n");
  if (p != std::string::npos && head[p] == '{') {
    std::string text;
    if (in) {
      text = head + read_file("-", kMaxSummaryBytes);
      if (text.size() > kMaxSummaryBytes)
        throw InputError(name + ": expected at most " + std::to_string(kMaxSummaryBytes) + " bytes, found more");
    } else {
      text = read_file(path, kMaxSummaryBytes);
    }
    nlohmann::json j = parse_json(text, name);
    if (j.is_object() && j.contains("trace_metrics")) {
      if (kind) *kind = "summary";
      return TraceMetrics::from_json(j["trace_metrics"], name + ": trace_metrics");
    }
    if (j.is_object() && j.contains("packets") && j.contains("write_ns")) {
      if (kind) *kind = "trace_metrics";
      return TraceMetrics::from_json(j, name);
    }
    throw InputError(name + ": expected a summary JSON with \"trace_metrics\" or a trace_metrics object, found a "
                     "JSON object without them");
  }
  if (kind) *kind = "trace";
  std::unique_ptr<StdinTraceCopy> copy;
  if (in) copy = std::make_unique<StdinTraceCopy>(head);
  return metrics_from_trace_file(in ? copy->path() : path, opt, lenient, report, name);
}

void check_plot_path(const std::string& out_path) {
  std::string ext = out_path.size() > 4 ? out_path.substr(out_path.size() - 4) : "";
  if (ext != ".png" && ext != ".svg")
    throw InputError("--plot " + out_path + ": expected a file name ending in .png or .svg");
}

std::string plot_cdfs(const DiffResult& r, const std::string& out_path) {
  check_plot_path(out_path);
  nlohmann::json in;
  in["a_label"] = r.a_label;
  in["b_label"] = r.b_label;
  in["metrics"] = nlohmann::json::object();
  for (const auto& d : r.dists)
    if (d.a.count() && d.b.count())
      in["metrics"][d.name] = {{"a", d.a.to_json()}, {"b", d.b.to_json()}, {"ks", d.ks},
                               {"wasserstein", d.wasserstein}};
  if (in["metrics"].empty())
    throw InputError("--plot " + out_path + ": expected a distribution with samples in both A and "
                     "B, found none");
  char tmpl[] = "/tmp/tunsim-plot-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) throw InputError(std::string("--plot: cannot create a temporary file: ") + std::strerror(errno));
  ::close(fd);
  std::string json_path = tmpl;
  std::string err_path = json_path + ".err";
  // The script draws into a file of ours (savefig to out_path followed a
  // link to nothing, and wrote a regular file in place, not atomically).
  std::string image_path = json_path + out_path.substr(out_path.size() - 4);
  write_file_atomic(json_path, dump_json(in, -1));
  const char* env = std::getenv("TUNSIM_PLOT_CDF");
  std::string script = env && *env ? env : TUNSIM_SOURCE_DIR "/scripts/plot-cdf.py";
  int rc = run_program({"/usr/bin/python3", script, json_path, image_path}, "", err_path);
  std::string err, image;
  try {
    err = read_file(err_path, 1 << 20);
    if (rc == 0) image = read_file(image_path);
  } catch (const InputError&) {
    if (rc == 0) rc = 3;
  }
  std::remove(json_path.c_str());
  std::remove(err_path.c_str());
  std::remove(image_path.c_str());
  if (rc != 0) {
    std::string first;
    std::istringstream is(err);
    std::string l;
    while (std::getline(is, l))
      if (!l.empty()) first = l;  // the last non-empty line carries the error
    throw InputError("--plot " + out_path + ": " + script + " failed: " +
                     (first.empty() ? "exit status " + std::to_string(rc) : printable(first, 200)));
  }
  return image;
}

}  // namespace tunsim::trace
