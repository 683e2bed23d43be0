#include "models/kernel/recorder.hpp"

#include <cstdio>

#include "models/kernel/kernel.hpp"

namespace tunsim {

namespace {
std::string hex16(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
const std::string kNetRx = "vec=3 [action=NET_RX]";
}  // namespace

void Recorder::softirq_raise(double t, int cpu, const Thread* task, const char* flags) {
  if (sink) sink->event(t, cpu, task, flags, "softirq_raise", kNetRx);
}

void Recorder::softirq_entry(double t, int cpu, const Thread* task) {
  if (cpu_trace.size() <= static_cast<size_t>(cpu)) cpu_trace.resize(static_cast<size_t>(cpu) + 1);
  cpu_trace[cpu].softirq_entry = t;
  cpu_trace[cpu].packets_in_softirq = 0;
  if (sink) sink->event(t, cpu, task, "..s1.", "softirq_entry", kNetRx);
}

void Recorder::softirq_exit(double t, int cpu, const Thread* task) {
  auto& ct = cpu_trace[cpu];
  if (ct.softirq_entry >= 0 && in_window(ct.softirq_entry)) {
    softirq_net_rx_ns.add((t - ct.softirq_entry) * 1e9);
    packets_per_softirq.add(static_cast<double>(ct.packets_in_softirq));
  }
  ct.softirq_entry = -1;
  if (sink) sink->event(t, cpu, task, "..s1.", "softirq_exit", kNetRx);
}

void Recorder::napi_poll(double t, int cpu, const Thread* task, uint64_t napi_id,
                         const std::string& dev, int work, int budget) {
  if (in_window(t)) {
    napi_poll_work.add(work);
    ++napi_polls;
    if (work >= budget) ++budget_exhausted;
  }
  if (sink)
    sink->event(t, cpu, task, "..s1.", "napi_poll",
                "napi poll on napi struct " + hex16(napi_id) + " for device " + dev + " work " +
                    std::to_string(work) + " budget " + std::to_string(budget));
}

void Recorder::netif_receive_skb(double t, int cpu, const Thread* task, const char* flags,
                                 const Skb& skb, const std::string& dev) {
  if (cpu_trace.size() <= static_cast<size_t>(cpu)) cpu_trace.resize(static_cast<size_t>(cpu) + 1);
  if (cpu_trace[cpu].softirq_entry >= 0) ++cpu_trace[cpu].packets_in_softirq;
  if (in_window(t) && last_receive >= 0) interarrival_ns.add((t - last_receive) * 1e9);
  last_receive = t;
  if (sink)
    sink->event(t, cpu, task, flags, "netif_receive_skb",
                "dev=" + dev + " skbaddr=" + hex16(skb.id) + " len=" + std::to_string(skb.len - 14));
}

void Recorder::delivered_end(double t, const Skb& skb) {
  ++delivered;
  if (in_window(t)) {
    ++delivered_window;
    bytes_window += skb.len;
  }
  if (skb.measured && t <= end) latency_ns.add((t - skb.t_origin) * 1e9);
}

void Recorder::kfree_skb(double t, int cpu, const Thread* task, const char* flags, const Skb& skb,
                         const char* reason) {
  if (sink)
    sink->event(t, cpu, task, flags, "kfree_skb",
                "skbaddr=" + hex16(skb.id) +
                    " rx_sk=0000000000000000 protocol=34997 location=__netif_receive_skb_core reason: " +
                    reason);
}

void Recorder::sys_enter(double t, int cpu, const Thread* task, uint32_t len) {
  if (sink) {
    char b[96];
    std::snprintf(b, sizeof b, "NR 1 (3, 7f0000000000, %x, 0, 0, 0)", len);
    sink->event(t, cpu, task, ".....", "sys_enter", b);
  }
}

void Recorder::sys_exit(double t, int cpu, const Thread* task, double t_enter, uint32_t len) {
  if (in_window(t_enter)) write_ns.add((t - t_enter) * 1e9);
  if (sink) sink->event(t, cpu, task, ".....", "sys_exit", "NR 1 = " + std::to_string(len));
}

}  // namespace tunsim
