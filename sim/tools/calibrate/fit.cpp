#include "sim/tools/calibrate/fit.hpp"

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
#include "sim/config/schema.hpp"

namespace tunsim::calib {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The fitted costs, in the order of enum Param; their defaults are the
// models' declarations.
const char* const kKeys[kParams] = {
    "costs.syscall_ns",   "costs.tun_get_user_ns", "costs.skb_alloc_ns",          "costs.copy_ns_per_byte",
    "costs.lock_ns",      "costs.napi_schedule_ns", "costs.softirq_ns",           "costs.napi_poll_ns",
    "costs.gro_ns",       "costs.netif_receive_skb_ns", "costs.stack_drop_ns",    "costs.bridge_forward_ns",
    "costs.softirq_enter_ns", "costs.softirq_leave_ns", "costs.skb_free_ns",
};

std::string short_key(int p) { return std::string(kKeys[p]).substr(6); }  // without "costs."

}  // namespace

void add_ratios(const std::vector<double>& v, std::vector<double>& out) {
  if (v.empty()) return;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  double med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  if (med <= 0) return;
  for (double x : v) out.push_back(x / med);
}

std::vector<double> spread_table(std::vector<double> r, int n) {
  std::sort(r.begin(), r.end());
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    double pos = (i + 0.5) / n * static_cast<double>(r.size() - 1);
    size_t lo = static_cast<size_t>(pos);
    double f = pos - static_cast<double>(lo), x = r[lo] + (lo + 1 < r.size() ? f * (r[lo + 1] - r[lo]) : 0);
    out.push_back(std::round(x * 1000) / 1000);
  }
  return out;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

const char* param_key(int p) { return kKeys[p]; }
double param_default(int p) { return find_param(kKeys[p])->def.get<double>(); }

std::vector<Observation> observations_for(const Workload& w, const Intervals& iv) {
  std::vector<Observation> out;
  const double len = w.frame_bytes;
  const int stack = w.bridge ? kBridgeForward : kStackDrop;
  auto add = [&](const char* name, const std::vector<double>& samples, std::map<int, double> coef) {
    if (samples.size() < 5)
      throw InputError(w.trace_path + ": " + std::to_string(samples.size()) + " " + name +
                       " intervals of the expected shape (" + w.label() +
                       "), need at least 5: is this the trace the sidecar describes?");
    Observation o;
    o.trace = w.label();
    o.name = std::string(name) + " p50";
    for (auto& [p, c] : coef) o.coef[p] = c;
    robust_median(samples, w.timestamp_resolution_ns, o.value, o.stderr_ns);
    o.samples = samples.size();
    out.push_back(o);
  };
  // tun_get_user up to netif_receive_skb, as writer.cpp and tun.cpp spend it.
  std::map<int, double> user = {{kSyscall, 1}, {kTunGetUser, 1}, {kSkbAlloc, 1}, {kCopy, len}};
  // netif_receive_skb -> kfree_skb (the bridge: its forward).
  std::map<int, double> rx = {{kNetifReceiveSkb, 1}, {stack, 1}};
  // The same, then the skb's free after kfree_skb's tracepoint (the
  // bridge's second tap drops it: its ring is full, nobody reads it).
  std::map<int, double> rx_free = rx;
  rx_free[kSkbFree] += 1;
  // One NET_RX softirq with one napi_poll of one packet: net_rx_action,
  // napi_poll bookkeeping, tun_napi_poll's splice under the lock,
  // napi_gro_receive, the delivery and the free.
  std::map<int, double> sirq = {{kSoftirq, 1}, {kNapiPoll, 1}, {kLock, 1}, {kGro, 1}};
  for (auto& [p, c] : rx_free) sirq[p] += c;
  if (w.mode == "plain") {
    std::map<int, double> wr = user;
    for (auto& [p, c] : rx_free) wr[p] += c;
    add("write_ns", iv.write, wr);
    // What kfree_skb does after its tracepoint, until the write returns.
    if (!w.bridge) add("kfree_skb..sys_exit_ns", iv.free_to_exit, {{kSkbFree, 1}});
  } else {
    // The write of one frame whose softirq runs at local_bh_enable, in its
    // parts (their sum is the write): up to napi_schedule's raise
    // (spin_lock_bh + queue, napi_schedule), handle_softirqs before the
    // handler, the NET_RX softirq, handle_softirqs after it and the return.
    std::map<int, double> wr = user;
    wr[kLock] += 1;
    wr[kNapiSchedule] += 1;
    add("sys_enter..softirq_raise_ns", iv.to_raise, wr);
    add("softirq_raise..softirq_entry_ns", iv.raise_to_entry, {{kSoftirqEnter, 1}});
    add("softirq_net_rx_ns", iv.softirq, sirq);
    add("softirq_exit..sys_exit_ns", iv.exit_to_exit, {{kSoftirqLeave, 1}});
  }
  if (!w.bridge) add("netif_receive_skb..kfree_skb_ns", iv.rx, rx);
  return out;
}

// ---------------------------------------------------------------------------
// Least squares

// ---------------------------------------------------------------------------
// Least squares

namespace {

// One-sided Jacobi SVD of M (m x n, given by columns): M = U diag(s) V^T.
void jacobi_svd(std::vector<std::vector<double>> cols, std::vector<double>& s,
                std::vector<std::vector<double>>& U, std::vector<std::vector<double>>& V) {
  size_t n = cols.size(), m = n ? cols[0].size() : 0;
  V.assign(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) V[i][i] = 1;
  auto dot = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double r = 0;
    for (size_t k = 0; k < a.size(); ++k) r += a[k] * b[k];
    return r;
  };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        double a = dot(cols[p], cols[p]), b = dot(cols[q], cols[q]), g = dot(cols[p], cols[q]);
        if (a == 0 || b == 0 || std::fabs(g) <= 1e-15 * std::sqrt(a * b)) continue;
        off = std::max(off, std::fabs(g) / std::sqrt(a * b));
        double zeta = (b - a) / (2 * g);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        double c = 1 / std::sqrt(1 + t * t), sn = c * t;
        for (size_t k = 0; k < m; ++k) {
          double x = cols[p][k], y = cols[q][k];
          cols[p][k] = c * x - sn * y;
          cols[q][k] = sn * x + c * y;
        }
        for (size_t k = 0; k < n; ++k) {
          double x = V[k][p], y = V[k][q];
          V[k][p] = c * x - sn * y;
          V[k][q] = sn * x + c * y;
        }
      }
    if (off < 1e-14) break;
  }
  s.assign(n, 0);
  U.assign(n, std::vector<double>(m, 0.0));
  for (size_t j = 0; j < n; ++j) {
    s[j] = std::sqrt(dot(cols[j], cols[j]));
    if (s[j] > 0)
      for (size_t k = 0; k < m; ++k) U[j][k] = cols[j][k] / s[j];
  }
}

// Display order of the parameters in a combination: lock_ns last, since it
// is spent both in the write (enqueue) and in the poll (splice) and as a
// pivot it would mix the two groups.
std::vector<int> display_order(const std::vector<int>& params_in) {
  std::vector<int> params = params_in;
  std::stable_partition(params.begin(), params.end(), [](int p) { return p != kLock; });
  return params;
}

std::string format_combination(const std::vector<double>& c, const std::vector<int>& order) {
  std::string s;
  for (int p : order) {
    double x = c[p];
    if (std::fabs(x) < 1e-9) continue;
    std::string name = short_key(p);
    if (s.empty())
      s = (x == 1 ? "" : (x == -1 ? "-" : fmt("%g*", x))) + name;
    else
      s += (x < 0 ? " - " : " + ") + (std::fabs(x) == 1 ? "" : fmt("%g*", std::fabs(x))) + name;
  }
  return s;
}

// Reduced row echelon form of the equations' coefficient rows over the
// present parameters: the linear combinations the data determine.  Returns
// the rows (by Param) that are not a single identified parameter.
std::vector<std::vector<double>> combinations(const std::vector<Observation>& obs, const std::vector<int>& order,
                                              const std::vector<bool>& identified) {
  const std::vector<int>& params = order;
  std::vector<std::vector<double>> A;
  for (auto& o : obs) {
    std::vector<double> r;
    for (int p : params) r.push_back(o.coef[p]);
    A.push_back(r);
  }
  size_t m = A.size(), n = params.size(), row = 0;
  for (size_t col = 0; col < n && row < m; ++col) {
    size_t piv = row;
    for (size_t i = row; i < m; ++i)
      if (std::fabs(A[i][col]) > std::fabs(A[piv][col])) piv = i;
    if (std::fabs(A[piv][col]) < 1e-9) continue;
    std::swap(A[piv], A[row]);
    double d = A[row][col];
    for (auto& x : A[row]) x /= d;
    for (size_t i = 0; i < m; ++i)
      if (i != row && std::fabs(A[i][col]) > 0) {
        double f = A[i][col];
        for (size_t k = 0; k < n; ++k) A[i][k] -= f * A[row][k];
      }
    ++row;
  }
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < row; ++i) {
    int terms = 0;
    bool all_identified = true;
    std::vector<double> c(kParams, 0.0);
    for (size_t k = 0; k < n; ++k) {
      if (std::fabs(A[i][k]) < 1e-9) continue;
      c[params[k]] = A[i][k];
      ++terms;
      if (!identified[params[k]]) all_identified = false;
    }
    if (terms > 1 || !all_identified) out.push_back(c);
  }
  return out;
}

}  // namespace

namespace {

// Weighted least squares over the parameters `free` (the others fixed at 0):
// values, standard errors and identifiability in r (by Param).
void solve_free(const std::vector<Observation>& obs, const std::vector<int>& free, const std::vector<double>& prior,
                FitResult& r) {
  size_t m = obs.size(), n = free.size();
  // Scaled unknowns z_j = (x_j - d_j) / sqrt(d_j); rows weighted by 1/stderr.
  // sc_j^2 = d_j / a_j, a_j the smallest |coefficient| of parameter j (1 for
  // a cost, the smallest frame size for copy_ns_per_byte): the minimum-norm
  // solution then changes every cost of an unidentified sum by the same
  // relative amount, i.e. splits the sum in proportion to the defaults'
  // contributions to it.
  std::vector<double> sc(n);
  for (size_t j = 0; j < n; ++j) {
    double a = 0;
    for (auto& o : obs) {
      double c = std::fabs(o.coef[free[j]]);
      if (c > 0 && (a == 0 || c < a)) a = c;
    }
    sc[j] = std::sqrt(prior[free[j]] / (a > 0 ? a : 1));
  }
  std::vector<std::vector<double>> cols(n, std::vector<double>(m));
  std::vector<double> b(m);
  for (size_t i = 0; i < m; ++i) {
    double wgt = 1 / obs[i].stderr_ns, d = 0;
    for (int p : free) d += obs[i].coef[p] * prior[p];
    b[i] = (obs[i].value - obs[i].penalty - d) * wgt;
    for (size_t j = 0; j < n; ++j) cols[j][i] = obs[i].coef[free[j]] * sc[j] * wgt;
  }
  std::vector<double> s;
  std::vector<std::vector<double>> U, V;
  jacobi_svd(cols, s, U, V);
  double smax = n ? *std::max_element(s.begin(), s.end()) : 0;
  std::vector<size_t> keep;
  for (size_t j = 0; j < n; ++j)
    if (s[j] > smax * 1e-10) keep.push_back(j);
  r.rank = static_cast<int>(keep.size());
  std::vector<double> z(n, 0);
  for (size_t j : keep) {
    double ub = 0;
    for (size_t i = 0; i < m; ++i) ub += U[j][i] * b[i];
    for (size_t k = 0; k < n; ++k) z[k] += V[k][j] * ub / s[j];
  }
  r.value.assign(kParams, 0);
  r.stderr_ns.assign(kParams, 0);
  r.identified.assign(kParams, false);
  for (size_t k = 0; k < n; ++k) r.value[free[k]] = prior[free[k]] + sc[k] * z[k];
  r.residual.assign(m, 0);
  r.chi2 = r.residual_rms_ns = 0;
  for (size_t i = 0; i < m; ++i) {
    double pred = obs[i].penalty;
    for (int p = 0; p < kParams; ++p) pred += obs[i].coef[p] * r.value[p];
    r.residual[i] = obs[i].value - pred;
    r.chi2 += std::pow(r.residual[i] / obs[i].stderr_ns, 2);
    r.residual_rms_ns += r.residual[i] * r.residual[i];
  }
  r.residual_rms_ns = std::sqrt(r.residual_rms_ns / static_cast<double>(m));
  r.dof = static_cast<int>(m) - r.rank;
  double scale = r.dof > 0 ? std::max(1.0, r.chi2 / r.dof) : 1.0;
  r.cov.assign(kParams, std::vector<double>(kParams, 0.0));
  for (size_t k = 0; k < n; ++k)
    for (size_t l = 0; l < n; ++l) {
      double c = 0;
      for (size_t j : keep) c += V[k][j] * V[l][j] / (s[j] * s[j]);
      r.cov[free[k]][free[l]] = sc[k] * sc[l] * c * scale;
    }
  for (size_t k = 0; k < n; ++k) {
    double proj = 0;
    for (size_t j : keep) proj += V[k][j] * V[k][j];
    r.stderr_ns[free[k]] = std::sqrt(std::max(0.0, r.cov[free[k]][free[k]]));
    r.identified[free[k]] = proj > 1 - 1e-8;
  }
}

}  // namespace

FitResult solve(const std::vector<Observation>& obs) {
  std::vector<double> prior(kParams);
  for (int p = 0; p < kParams; ++p) prior[p] = param_default(p);
  return solve(obs, prior);
}

FitResult solve(const std::vector<Observation>& obs, const std::vector<double>& prior) {
  if (obs.empty()) throw InputError("calibrate: no observations to fit");
  if (prior.size() != static_cast<size_t>(kParams)) throw InputError("calibrate: expected one prior per parameter");
  for (auto& o : obs)
    if (!(o.stderr_ns > 0) || !std::isfinite(o.value))
      throw InputError("calibrate: " + o.trace + " " + o.name + ": expected a finite value with a positive stderr");
  std::vector<int> present;
  for (int p = 0; p < kParams; ++p)
    for (auto& o : obs)
      if (o.coef[p] != 0) {
        present.push_back(p);
        break;
      }
  FitResult r;
  solve_free(obs, present, prior, r);
  std::vector<bool> identified = r.identified;
  // No negative cost by convention: an unidentified cost the split makes
  // negative is pinned to 0 and the rest re-solved.
  std::vector<int> free = present;
  for (;;) {
    int worst = -1;
    for (int p : free)
      if (!identified[p] && r.value[p] < 0 && (worst < 0 || r.value[p] < r.value[worst])) worst = p;
    if (worst < 0) break;
    free.erase(std::find(free.begin(), free.end(), worst));
    r.pinned.push_back(worst);
    solve_free(obs, free, prior, r);
  }
  r.params = present;
  r.identified = identified;
  std::vector<int> order = display_order(present);
  for (auto& c : combinations(obs, order, identified)) {
    double v = 0, var = 0;
    for (int p = 0; p < kParams; ++p) {
      v += c[p] * r.value[p];
      for (int q = 0; q < kParams; ++q) var += c[p] * c[q] * r.cov[p][q];
    }
    if (v < 0) {  // print a difference the way round it is positive
      for (auto& x : c) x = -x;
      v = -v;
    }
    r.combinations.push_back(format_combination(c, order));
    r.combination_value.push_back(v);
    r.combination_stderr.push_back(std::sqrt(std::max(0.0, var)));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Penalties, measured on the simulator
}  // namespace tunsim::calib
