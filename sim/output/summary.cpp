#include "sim/output/summary.hpp"

#include "models/tun/design.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace tunsim {

using nlohmann::json;

namespace {
double r6(double v) { return std::round(v * 1e6) / 1e6; }
double r3(double v) { return std::round(v * 1e3) / 1e3; }
// A simulated time in a note: "12.345 ms".
std::string ms(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f ms", s * 1e3);
  return std::string(b);
}
}  // namespace

std::vector<std::string> warmup_notes(const Machine& m) {
  const Kernel& k = *m.k;
  std::vector<std::string> out;
  for (auto& c : k.cpus)
    for (const Thread* t : c->threads) {
      if (t->kind == Thread::Kind::Irq || t->first_woken < 0 || t->first_woken >= k.p.warmup_s) continue;
      if (t->first_ran >= 0 && t->first_ran <= k.p.warmup_s) continue;
      out.push_back(t->comm + " (CPU " + std::to_string(t->cpu) + ") was first woken at " + ms(t->first_woken) +
                    (t->first_ran < 0 ? std::string(" and never ran")
                                      : " and first ran at " + ms(t->first_ran) + ", after the warm-up") +
                    ": the statistics window (from warmup_ms " + ms(k.p.warmup_s) +
                    ") holds the run's cold start" +
                    (t->first_ran < 0 ? std::string("") : "; a warmup_ms above " + ms(t->first_ran) + " leaves it out"));
    }
  return out;
}

std::vector<std::string> sndbuf_notes(const Machine& m) {
  std::vector<std::string> out;
  for (auto& q : m.k->queues) {
    if (q->sndbuf_reached_at < 0) continue;
    std::string n = "queue " + std::to_string(q->index) + ": the skbs charged to its socket (sk_wmem_alloc) reached " +
                    "tun.sndbuf (" + std::to_string(m.k->p.tun.sndbuf) + " bytes) at " + ms(q->sndbuf_reached_at);
    std::string asleep;
    int blocked = 0;
    for (auto& w : m.writers)
      if (w->sp->queue == q->index && w->blocked_at >= 0)
        asleep += std::string(blocked++ ? ", " : "") + std::to_string(w->sp->cpu) + " (" + ms(w->blocked_at) + ")";
    if (blocked)
      n += std::string("; the ") + (blocked == 1 ? "writer on CPU " : "writers on CPUs ") + asleep +
           " then slept in sock_wait_for_wmem until the end of the run (nothing wakes a writer that does not poll: " +
           "docs/model.md, Limits)";
    if (q->sndbuf_eagain) {
      n += "; vhost's sendmsg failed with -EAGAIN " + std::to_string(q->sndbuf_eagain) +
           " times and vhost waited for write space, woken " + std::to_string(q->write_space_wakeups) +
           " times by tun_sock_write_space";
      const bool waiting = q->write_space_wait_since >= 0;
      if (waiting && !m.k->p.vhost.tx_poll_rearm) {
        n += "; from " + ms(q->write_space_wait_since) +
             " to the end it waited: its poll of the tap was never re-armed (vhost.tx_poll_rearm false, 4.9/4.11), "
             "so nothing set SOCKWQ_ASYNC_NOSPACE and tun_sock_write_space did not wake it (docs/model.md, Limits)";
      } else if (waiting && !sock_writeable(*m.k, *q) && !q->write_queue.empty()) {
        n += "; from " + ms(q->write_space_wait_since) + " to the end it waited while tun held " +
             std::to_string(q->write_queue.size()) +
             " skbs queued for a sendmsg without MSG_MORE (tun_rx_batched), which nothing else frees: the queue "
             "stalled for good (docs/model.md, Limits)";
      }
    }
    out.push_back(n);
  }
  return out;
}

json make_summary(Machine& m, const json& resolved, const std::vector<std::string>& notes) {
  Kernel& k = *m.k;
  const Params& p = k.p;
  const Recorder& rec = k.rec;
  json s;
  s["tunsim_version"] = TUNSIM_VERSION;
  s["schema"] = 1;
  s["name"] = p.name;
  s["design"] = p.design->name;
  s["kernel_version"] = version_name(p.kernel.version);
  s["seed"] = p.seed;
  s["config"] = p.source;
  if (!p.calibration.empty()) s["calibration"] = p.calibration;
  double window = p.duration_s - p.warmup_s;
  s["window_s"] = r6(window);
  s["throughput_mpps"] = r6(static_cast<double>(rec.delivered_window) / window * 1e-6);
  s["throughput_gbps"] = r6(static_cast<double>(rec.bytes_window) * 8 / window * 1e-9);

  // Conservation: every packet offered is delivered, dropped or in flight.
  uint64_t sent = 0, in_flight = 0, sent_window = 0;
  std::map<std::string, uint64_t> dropped = rec.dropped;
  uint64_t ring_full_window = 0;
  double guest_busy = 0;
  uint64_t kicks = 0;
  for (auto& v : m.vhosts) {
    v->vq.materialize(std::max(p.duration_s, 0.0));
    sent += v->vq.offered;
    in_flight += v->vq.size();
    if (v->vq.dropped_full) dropped["guest_ring_full"] += v->vq.dropped_full;
    sent_window += v->vq.offered_window;
    ring_full_window += v->vq.dropped_full_window;
    guest_busy += v->vq.guest_busy_s;
    kicks += v->vq.kicks;
  }
  for (auto& w : m.writers) {
    sent += w->written;
    sent_window += w->written_window;
  }
  size_t peak_write = 0, peak_process = 0, peak_backlog = 0;
  for (auto& q : k.queues) {
    in_flight += q->write_queue.size() + q->process_queue.size() + q->napi.rx_list.size();
    peak_write = std::max(peak_write, q->write_queue.peak);
    peak_process = std::max(peak_process, q->process_queue.peak);
  }
  for (auto& c : k.cpus) {
    in_flight += c->input_pkt_queue.size() + c->backlog_process_queue.size() + c->backlog.rx_list.size();
    peak_backlog = std::max(peak_backlog, c->input_pkt_queue.peak);
  }
  uint64_t dropped_total = 0;
  json dj = json::object();
  for (auto& [reason, n] : dropped) {
    dj[reason] = n;
    dropped_total += n;
  }
  // The same books over the statistics window [warmup, duration], the span
  // of throughput_mpps: what was in flight at its start and what was sent in
  // it was delivered in it, dropped in it, or is in flight at its end.  The
  // end's is the run's in flight plus what the run's last moments (after
  // duration) delivered or dropped; the start's follows from the others.
  uint64_t kernel_drops_window = 0;
  for (auto& [reason, n] : rec.dropped_window) kernel_drops_window += n;
  const uint64_t in_flight_end = in_flight + rec.after_end;
  const int64_t in_flight_start = static_cast<int64_t>(in_flight_end + rec.delivered_window + ring_full_window +
                                                       kernel_drops_window) -
                                  static_cast<int64_t>(sent_window);
  s["packets"] = {{"sent", sent},
                  {"delivered", rec.delivered},
                  {"dropped", dj},
                  {"dropped_total", dropped_total},
                  {"in_flight", in_flight},
                  {"delivered_in_window", rec.delivered_window},
                  {"window", {{"in_flight_start", in_flight_start},
                              {"sent", sent_window},
                              {"delivered", rec.delivered_window},
                              {"guest_ring_full", ring_full_window},
                              {"kernel_drops", kernel_drops_window},
                              {"in_flight_end", in_flight_end}}}};
  json stack = json::object();
  switch (p.stack.type) {
    case StackType::Drop: stack["unhandled_proto"] = rec.unhandled_proto; break;
    case StackType::Bridge: stack["bridge_forwarded"] = rec.bridge_forwarded; break;
    case StackType::Udp:
      stack["udp_queued"] = rec.udp_queued;
      stack["udp_rcvbuf_dropped"] = rec.udp_rcvbuf_dropped;
      stack["app_received"] = k.udp.received;
      break;
  }
  s["stack"] = stack;

  auto us = [](double ns) { return r3(ns / 1000.0); };
  const Dist& L = rec.latency_ns;
  s["latency_us"] = {{"count", L.count()},      {"mean", us(L.mean())},        {"p50", us(L.quantile(0.5))},
                     {"p90", us(L.quantile(0.9))}, {"p99", us(L.quantile(0.99))}, {"p999", us(L.quantile(0.999))},
                     {"max", us(L.max())}};

  s["latency_ns"] = L.to_json();  // the whole distribution, for CDFs

  json cpus = json::array();
  for (auto& c : k.cpus) {
    double busy = c->t_process + c->t_softirq + c->t_ksoftirqd;
    double process = c->t_process;
    if (p.stack.type == StackType::Udp && c->id == p.stack.receiver_cpu) process += k.udp.receiver_busy_s;
    busy = process + c->t_softirq + c->t_ksoftirqd;
    cpus.push_back({{"cpu", c->id},
                    {"process_s", r6(process)},
                    {"softirq_s", r6(c->t_softirq)},
                    {"ksoftirqd_s", r6(c->t_ksoftirqd)},
                    {"idle_s", r6(std::max(0.0, window - busy))},
                    {"process_frac", r3(process / window)},
                    {"softirq_frac", r3(c->t_softirq / window)},
                    {"ksoftirqd_frac", r3(c->t_ksoftirqd / window)},
                    {"idle_frac", r3(std::max(0.0, window - busy) / window)}});
  }
  s["cpu"] = cpus;
  s["guest"] = {{"busy_s", r6(guest_busy)}, {"kicks", kicks}};

  s["batch"] = rec.batch.to_json();
  uint64_t time_squeeze = 0, wakeups = 0, actions = 0, restarts = 0;
  for (auto& c : k.cpus) {
    time_squeeze += c->time_squeeze;
    wakeups += c->ksoftirqd_wakeups;
    actions += c->net_rx_actions;
    restarts += c->softirq_restarts;
  }
  s["napi"] = {{"polls", rec.napi_polls}, {"budget_exhausted", rec.budget_exhausted}, {"repolls", rec.napi_repolls}};
  s["softirq"] = {{"net_rx_actions", actions},
                  {"restarts", restarts},
                  {"time_squeeze", time_squeeze},
                  {"ksoftirqd_wakeups", wakeups}};
  s["rx_batched"] = {{"flushes", rec.flushes}, {"immediate", rec.immediate}};
  s["vhost"] = {{"requeues", rec.vhost_requeues}, {"notify_races", rec.vhost_notify_races}};
  s["shared_line_transfers"] = rec.line_transfers;
  s["queue_lock_spins"] = rec.lock_spins;
  s["slab_remote_frees"] = rec.slab_remote_frees;
  s["slabs"] = {{"new", k.slub.new_slabs}, {"discarded", k.slub.discarded}};
  s["queues"] = {{"peak_sk_write_queue", peak_write},
                 {"peak_process_queue", peak_process},
                 {"peak_backlog", peak_backlog}};
  json cache = json::object();
  CacheMisses total;
  // Branch-target misses only where the BTB is modelled (the summaries of
  // the shipped defaults stay as they were).
  const bool btb = p.cache.btb.entries > 0;
  auto misses = [btb](const CacheMisses& m) {
    json j = {{"l1i", std::llround(m.l1i)}, {"l1d", std::llround(m.l1d)}, {"l2", std::llround(m.l2)},
              {"llc", std::llround(m.llc)}};
    if (btb) j["btb"] = std::llround(m.btb);
    return j;
  };
  for (int i = 0; i < kPaths; ++i) {
    CacheMisses m;
    for (auto& c : k.cpus) m += c->misses[static_cast<size_t>(i)];
    total += m;
    cache[path_name(static_cast<Path>(i))] = misses(m);
  }
  s["cache_misses"] = {{"enabled", p.cache.enabled}, {"paths", cache}, {"total", misses(total)}};
  // The very events --trace writes, through the code `tunsim trace stats` uses.
  k.rec.metrics.finish();
  s["trace_metrics"] = k.rec.metrics.to_json();
  if (!notes.empty()) s["notes"] = notes;
  s["config_resolved"] = resolved;
  return s;
}

}  // namespace tunsim
