// Parser and metric tests on small inline traces in each format read by
// `tunsim trace stats`.  Every expected value is computed by hand in the
// comment next to it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/io/errors.hpp"
#include "models/trace/metrics.hpp"
#include "sim/tools/trace/stats.hpp"
#include "sim/tools/trace/parse.hpp"
#include "sim/tools/trace/stats.hpp"

using namespace tunsim;
using namespace tunsim::trace;

namespace {

TraceMetrics run(const std::string& text, MetricsOptions opt = {}, bool lenient = false,
                 ParseReport* rep = nullptr) {
  TraceMetrics m(opt);
  ParseReport r = parse_trace_text(text, "snippet", lenient, [&](const TraceEvent& ev) { m.add(ev); });
  m.set_parse_counts(r.skipped, r.lost_events);
  m.finish();
  if (rep) *rep = r;
  return m;
}

// The simulator's --trace format (ftrace `trace` with header, 9 decimals) and
// a task name containing '-' and a space.
const char* kFtrace =
    "# tracer: nop\n"
    "#\n"
    "# entries-in-buffer/entries-written: 9/9   #P:2\n"
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    "#              | |         |   |||||     |         |\n"
    "   my-writer thread-1002  [000] .....     0.000100000: sys_enter: NR 1 (3, 7f0000000000, 3c, 0, 0, 0)\n"
    "   my-writer thread-1002  [000] ..s1.     0.000101000: softirq_raise: vec=3 [action=NET_RX]\n"
    "   my-writer thread-1002  [000] ..s1.     0.000101500: softirq_entry: vec=3 [action=NET_RX]\n"
    "   my-writer thread-1002  [000] ..s1.     0.000102000: netif_receive_skb: dev=tap0 skbaddr=0000000000000a01 len=46\n"
    "   my-writer thread-1002  [000] ..s1.     0.000102200: kfree_skb: skbaddr=0000000000000a01 rx_sk=0000000000000000 protocol=34997 location=__netif_receive_skb_core+0x1/0x2 reason: UNHANDLED_PROTO\n"
    "   my-writer thread-1002  [000] ..s1.     0.000103000: netif_receive_skb: dev=tap0 skbaddr=0000000000000a02 len=46\n"
    "   my-writer thread-1002  [000] ..s1.     0.000103500: napi_poll: napi poll on napi struct 0000000000000001 for device tap0 work 2 budget 64\n"
    "   my-writer thread-1002  [000] ..s1.     0.000104000: softirq_exit: vec=3 [action=NET_RX]\n"
    "   my-writer thread-1002  [000] .....     0.000105000: sys_exit: NR 1 = 60\n";

// trace_pipe style (no header, 6 decimals), two CPUs, another device, another
// process and a ksoftirqd softirq.
const char* kPipe =
    "          writer-1001    [000] .....    10.000000: sys_enter: NR 1 (3, 7f00, 3c, 0, 0, 0)\n"
    "          writer-1002    [001] .....    10.000001: sys_enter: NR 1 (3, 7f00, 3c, 0, 0, 0)\n"
    "          writer-1001    [000] ..s1.    10.000002: softirq_entry: vec=3 [action=NET_RX]\n"
    "          writer-1002    [001] ..s1.    10.000003: softirq_entry: vec=3 [action=NET_RX]\n"
    "          writer-1001    [000] ..s1.    10.000004: netif_receive_skb: dev=tap0 skbaddr=00000000000000a1 len=46\n"
    "          writer-1002    [001] ..s1.    10.000005: netif_receive_skb: dev=eth0 skbaddr=00000000000000b1 len=1000\n"
    "          writer-1001    [000] ..s1.    10.000006: netif_receive_skb: dev=tap0 skbaddr=00000000000000a2 len=46\n"
    "          writer-1002    [001] ..s1.    10.000007: softirq_exit: vec=3 [action=NET_RX]\n"
    "          writer-1001    [000] ..s1.    10.000008: softirq_exit: vec=3 [action=NET_RX]\n"
    "          writer-1001    [000] .....    10.000009: sys_exit: NR 1 = 60\n"
    "          writer-1002    [001] .....    10.000010: sys_exit: NR 1 = 60\n"
    "            sshd-555     [001] .....    10.000011: sys_enter: NR 1 (3, 7f00, 3c, 0, 0, 0)\n"
    "            sshd-555     [001] .....    10.000013: sys_exit: NR 1 = 60\n"
    "     ksoftirqd/1-20      [001] ..s..    10.000014: softirq_entry: vec=3 [action=NET_RX]\n"
    "     ksoftirqd/1-20      [001] ..s..    10.000015: netif_receive_skb: dev=tap0 skbaddr=00000000000000a3 len=46\n"
    "     ksoftirqd/1-20      [001] ..s..    10.000017: softirq_exit: vec=3 [action=NET_RX]\n";

// Real `trace-cmd report -t` lines (6.18, napi mode), instance prefix included.
const char* kTraceCmd =
    "cpus=2\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951160939: sys_exit:             NR 202 = 0\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951193782: sys_enter:            NR 1 (3, 7fe6cc000b70, 3c, 7fe6d2d284f0, 0, 1)\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951220583: softirq_raise:        vec=3 [action=NET_RX]\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951221294: softirq_entry:        vec=3 [action=NET_RX]\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951225422: napi_gro_receive_entry: dev=tstap2405 napi_id=0 queue_mapping=1 skbaddr=0xffff88810af07300 vlan_tagged=0 vlan_proto=0x0000 vlan_tci=0x0000 protocol=0x88b5 ip_summed=0 hash=0x00000000 l4_hash=0 len=46 data_len=0 truesize=832 mac_header_valid=1 mac_header=-14 nr_frags=0 gso_size=0 gso_type=0\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951226844: napi_gro_receive_exit: ret=3\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951229690: netif_receive_skb:    dev=tstap2405 skbaddr=0xffff88810af07300 len=46\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951234670: kfree_skb:            skbaddr=0xffff88810af07300 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core.constprop.0+0x821 reason: UNHANDLED_PROTO\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951237455: napi_poll:            napi poll on napi struct 0xffff8881025eabd8 for device tstap2405 work 1 budget 64\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951237685: softirq_exit:         vec=3 [action=NET_RX]\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951238727: sys_exit:             NR 1 = 60\n"
    "tunsim-2405:        tapwriter-2420  [000]  1095.951240401: sys_enter:            NR 1 (3, 7fe6cc000b70, 3c, 7fe6d2d284f0, 0, 1)\n";

// Real `perf script --ns` lines (6.18, napi mode).
const char* kPerf =
    "       tapwriter  2631 [000]  1101.919945594:      raw_syscalls:sys_exit: NR 202 = 0\n"
    "       tapwriter  2631 [000]  1101.919953830:     raw_syscalls:sys_enter: NR 1 (3, 7f4604000b70, 3c, 7f460a7864f0, 0, 1)\n"
    "       tapwriter  2631 [000]  1101.919976232:          irq:softirq_raise: vec=3 [action=NET_RX]\n"
    "       tapwriter  2631 [000]  1101.919977345:          irq:softirq_entry: vec=3 [action=NET_RX]\n"
    "       tapwriter  2631 [000]  1101.919982034: net:napi_gro_receive_entry: dev=tstap2616 napi_id=0 queue_mapping=1 skbaddr=0xffff888118475800 vlan_tagged=0 vlan_proto=0x0000 vlan_tci=0x0000 protocol=0x88b5 ip_summed=0 hash=0x00000000 l4_hash=0 len=46 data_len=0 truesize=832 mac_header_valid=1 mac_header=-14 nr_frags=0 gso_size=0 gso_type=0\n"
    "       tapwriter  2631 [000]  1101.919983606:  net:napi_gro_receive_exit: ret=3\n"
    "       tapwriter  2631 [000]  1101.919986362:      net:netif_receive_skb: dev=tstap2616 skbaddr=0xffff888118475800 len=46\n"
    "       tapwriter  2631 [000]  1101.919992483:              skb:kfree_skb: skbaddr=0xffff888118475800 rx_sk=(nil) protocol=34997 location=__netif_receive_skb_core.constprop.0+0x821 reason: UNHANDLED_PROTO\n"
    "       tapwriter  2631 [000]  1101.919995489:             napi:napi_poll: napi poll on napi struct 0xffff8881043883d8 for device tstap2616 work 1 budget 64\n"
    "       tapwriter  2631 [000]  1101.919996310:           irq:softirq_exit: vec=3 [action=NET_RX]\n"
    "       tapwriter  2631 [000]  1101.919997803:      raw_syscalls:sys_exit: NR 1 = 60\n"
    "       tapwriter  2631 [000]  1101.919999867:     raw_syscalls:sys_enter: NR 1 (3, 7f4604000b70, 3c, 7f460a7864f0, 0, 1)\n";

}  // namespace

TEST_CASE("parse_line: task names, CPU, timestamp and event fields") {
  TraceEvent ev;
  uint64_t lost = 0;
  // Task name with '-' and a space; 9 decimals.
  REQUIRE(parse_line("   my-writer thread-1002  [001] ..s1.     0.000123456: softirq_entry: vec=3 [action=NET_RX]",
                     ev, lost) == LineKind::Event);
  CHECK(ev.comm == "my-writer thread");
  CHECK(ev.pid == 1002);
  CHECK(ev.cpu == 1);
  CHECK(ev.ts_ns == 123456);  // 0.000123456 s
  CHECK(ev.type == EventType::SoftirqEntry);
  CHECK(ev.vec == 3);
  // Three decimals: 12.345 s = 12345000000 ns; record-tgid column "(  900)".
  REQUIRE(parse_line("   vhost-901 (  900) [000] .N... 12.345: napi_poll: napi poll on napi struct 0000000000000001 for device tap0 work 4 budget 64",
                     ev, lost) == LineKind::Event);
  CHECK(ev.comm == "vhost");
  CHECK(ev.pid == 901);
  CHECK(ev.ts_ns == 12345000000LL);
  CHECK(ev.dev == "tap0");
  CHECK(ev.work == 4);
  CHECK(ev.budget == 64);
  // perf with PID/TID: the TID is the task.
  REQUIRE(parse_line("  qemu-kvm 77/78 [003] 5.000000001: raw_syscalls:sys_exit: NR 1 = -11", ev, lost) ==
          LineKind::Event);
  CHECK(ev.comm == "qemu-kvm");
  CHECK(ev.pid == 78);
  CHECK(ev.cpu == 3);
  CHECK(ev.ts_ns == 5000000001LL);
  CHECK(ev.type == EventType::SysExit);
  CHECK(ev.nr == 1);
  CHECK(ev.ret == -11);
  // kfree_skb of a kernel without a reason field.
  REQUIRE(parse_line("  a-1 [000] ..... 1.0: kfree_skb: skbaddr=00000000deadbeef protocol=34997 location=00000000cafe",
                     ev, lost) == LineKind::Event);
  CHECK(ev.skbaddr == 0xdeadbeefULL);
  CHECK(ev.protocol == 34997);
  CHECK(ev.reason == "NOT_SPECIFIED");
  // Headers and lost-event markers.
  CHECK(parse_line("# tracer: nop", ev, lost) == LineKind::Header);
  CHECK(parse_line("", ev, lost) == LineKind::Header);
  CHECK(parse_line("cpus=2", ev, lost) == LineKind::Header);
  REQUIRE(parse_line("CPU:1 [LOST 17 EVENTS]", ev, lost) == LineKind::Lost);
  CHECK(lost == 17);
  // trace-cmd report's marker, with the instance prefix (seen on 6.18 / 3.1.6).
  REQUIRE(parse_line("tunsim-17627: CPU:0 [78481 EVENTS DROPPED]", ev, lost) == LineKind::Lost);
  CHECK(lost == 78481);
  REQUIRE(parse_line("CPU:1 [5 EVENTS DROPPED]", ev, lost) == LineKind::Lost);
  CHECK(lost == 5);
  // Other events are not errors.
  REQUIRE(parse_line("  a-1 [000] ..... 1.0: sched_switch: prev_comm=a", ev, lost) == LineKind::Event);
  CHECK(ev.type == EventType::Other);
  CHECK(ev.name == "sched_switch");
  CHECK(ev.other_pid == 0);  // no next task in it: nothing read, no error
  // The task a scheduler event names, in other_pid (trace config's writer
  // starts): the tracefs `trace` file prints "COMM:PID [PRIO]" (the
  // committed captures' lines, a comm with ':' in it too), perf script the
  // raw fields.
  REQUIRE(parse_line("tunsim-538:        tapwriter-580   [001]  2374.420989174: sched_wakeup:         "
                     "tapwriter:582 [120] CPU:001", ev, lost) == LineKind::Event);
  CHECK(ev.pid == 580);
  CHECK(ev.other_pid == 582);
  REQUIRE(parse_line("  <idle>-0 [000] d..2. 2.0: sched_switch: swapper/0:0 [120] R ==> kworker/0:1:77 [120]", ev,
                     lost) == LineKind::Event);
  CHECK(ev.other_pid == 77);
  REQUIRE(parse_line("  tapwriter 580 [001] 3.000000001: sched:sched_wakeup: comm=tapwriter pid=582 prio=120 "
                     "target_cpu=001", ev, lost) == LineKind::Event);
  CHECK(ev.other_pid == 582);
  REQUIRE(parse_line("  tapwriter 580 [001] 3.000000002: sched:sched_switch: prev_comm=tapwriter prev_pid=580 "
                     "prev_prio=120 prev_state=S ==> next_comm=tapwriter next_pid=582 next_prio=120", ev, lost) ==
          LineKind::Event);
  CHECK(ev.other_pid == 582);
}

TEST_CASE("ftrace trace format (simulator style): metrics computed by hand") {
  TraceMetrics m = run(kFtrace);
  CHECK(m.packets() == 2);                                      // two netif_receive_skb on tap0
  CHECK(m.duration_s() == doctest::Approx(1e-6));               // 0.000103 - 0.000102 s
  CHECK(m.throughput_mpps() == doctest::Approx(1.0));           // (2-1) / 1 us
  REQUIRE(m.write_ns().count() == 1);
  CHECK(m.write_ns().mean() == doctest::Approx(5000));          // 105000 - 100000 ns
  REQUIRE(m.softirq_net_rx_ns().count() == 1);
  CHECK(m.softirq_net_rx_ns().mean() == doctest::Approx(2500)); // 104000 - 101500 ns
  REQUIRE(m.napi_poll_work().count() == 1);
  CHECK(m.napi_poll_work().mean() == 2);                        // "work 2"
  REQUIRE(m.packets_per_softirq().count() == 1);
  CHECK(m.packets_per_softirq().mean() == 2);                   // both receives inside the softirq
  REQUIRE(m.interarrival_ns().count() == 1);
  CHECK(m.interarrival_ns().mean() == doctest::Approx(1000));   // 103000 - 102000 ns
  REQUIRE(m.drops().size() == 1);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 1);                  // skb a01 received then freed
  CHECK(m.per_cpu().at(0).packets == 2);
}

TEST_CASE("trace_pipe format, two CPUs: device, foreign softirqs and other processes") {
  // Default device is chosen by the caller; tap0 has 3 receives, eth0 1.
  auto devs = count_devices_in_text(kPipe, "pipe", false);
  CHECK(devs.at("tap0") == 3);
  CHECK(devs.at("eth0") == 1);
  MetricsOptions opt;
  opt.dev = "tap0";
  TraceMetrics m = run(kPipe, opt);
  CHECK(m.packets() == 3);
  CHECK(m.duration_s() == doctest::Approx(11e-6));                 // 10.000015 - 10.000004
  CHECK(m.throughput_mpps() == doctest::Approx(2 / 11e-6 / 1e6));  // 2 intervals in 11 us
  // Inter-arrivals 2000 and 9000 ns.
  REQUIRE(m.interarrival_ns().count() == 2);
  CHECK(m.interarrival_ns().mean() == doctest::Approx(5500));
  // NET_RX softirqs that handled tap0: CPU0 2..8 us (2 packets) and ksoftirqd
  // on CPU1 14..17 us (1 packet); CPU1's 3..7 us only saw eth0: not counted.
  REQUIRE(m.softirq_net_rx_ns().count() == 2);
  CHECK(m.softirq_net_rx_ns().mean() == doctest::Approx(4500));   // (6000 + 3000) / 2
  CHECK(m.packets_per_softirq().mean() == doctest::Approx(1.5));  // (2 + 1) / 2
  CHECK(m.packets_per_softirq().max() == 2);
  // Without a writer filter every task's write() counts: 9000, 9000, 2000.
  REQUIRE(m.write_ns().count() == 3);
  CHECK(m.write_ns().mean() == doctest::Approx(20000.0 / 3));
  CHECK(m.per_cpu().at(0).packets == 2);
  CHECK(m.per_cpu().at(1).packets == 1);
  CHECK(m.per_cpu().at(0).net_rx_softirqs == 1);
  CHECK(m.per_cpu().at(1).net_rx_softirqs == 1);
  CHECK(m.drops().empty());  // no kfree_skb

  // Writer filter by pid: sshd's write is left out -> 9000 and 9000.
  opt.pids = {1001, 1002};
  TraceMetrics byp = run(kPipe, opt);
  REQUIRE(byp.write_ns().count() == 2);
  CHECK(byp.write_ns().mean() == doctest::Approx(9000));
  // ... and by task name.
  opt.pids.clear();
  opt.comm = "writer";
  CHECK(run(kPipe, opt).write_ns().count() == 2);
  opt.comm = "sshd";
  TraceMetrics bys = run(kPipe, opt);
  REQUIRE(bys.write_ns().count() == 1);
  CHECK(bys.write_ns().mean() == doctest::Approx(2000));  // 10.000013 - 10.000011
}

TEST_CASE("trace-cmd report format (real 6.18 lines)") {
  MetricsOptions opt;
  opt.dev = "tstap2405";
  ParseReport rep;
  TraceMetrics m = run(kTraceCmd, opt, false, &rep);
  CHECK(rep.lines == 13);
  CHECK(rep.events == 12);  // all but "cpus=2"
  CHECK(m.packets() == 1);
  CHECK(m.throughput_mpps() == 0);  // one packet: no interval
  // write: 1095.951238727 - 1095.951193782 = 44945 ns (the NR 202 exit has
  // no entry and the last NR 1 entry no exit: both ignored).
  REQUIRE(m.write_ns().count() == 1);
  CHECK(m.write_ns().mean() == doctest::Approx(44945));
  // softirq: 1095.951237685 - 1095.951221294 = 16391 ns.
  REQUIRE(m.softirq_net_rx_ns().count() == 1);
  CHECK(m.softirq_net_rx_ns().mean() == doctest::Approx(16391));
  CHECK(m.napi_poll_work().mean() == 1);
  CHECK(m.packets_per_softirq().mean() == 1);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 1);
}

TEST_CASE("perf script format (real 6.18 lines)") {
  TraceEvent ev;
  uint64_t lost = 0;
  REQUIRE(parse_line("       tapwriter  2631 [000]  1101.919986362:      net:netif_receive_skb: dev=tstap2616 skbaddr=0xffff888118475800 len=46",
                     ev, lost) == LineKind::Event);
  CHECK(ev.comm == "tapwriter");
  CHECK(ev.pid == 2631);
  CHECK(ev.name == "netif_receive_skb");  // subsystem prefix removed
  CHECK(ev.skbaddr == 0xffff888118475800ULL);
  CHECK(ev.len == 46);
  MetricsOptions opt;
  opt.dev = "tstap2616";
  TraceMetrics m = run(kPerf, opt);
  CHECK(m.packets() == 1);
  // write: 1101.919997803 - 1101.919953830 = 43973 ns.
  REQUIRE(m.write_ns().count() == 1);
  CHECK(m.write_ns().mean() == doctest::Approx(43973));
  // softirq: 1101.919996310 - 1101.919977345 = 18965 ns.
  REQUIRE(m.softirq_net_rx_ns().count() == 1);
  CHECK(m.softirq_net_rx_ns().mean() == doctest::Approx(18965));
  CHECK(m.napi_poll_work().mean() == 1);
  CHECK(m.drops().at("UNHANDLED_PROTO") == 1);
}

TEST_CASE("malformed line: InputError with file and line number, --lenient counts it") {
  std::string text = kFtrace;
  // Line 7 (1-based) becomes garbage, line 12 a napi_poll with a bad work field.
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  REQUIRE(lines.size() == 14);
  lines[6] = "this is not a trace line";
  lines[11] = "   my-writer thread-1002  [000] ..s1.     0.000103500: napi_poll: napi poll on napi struct 01 for device tap0 work x budget 64";
  std::string bad;
  for (auto& l : lines) bad += l + "\n";
  try {
    run(bad);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    std::string msg = e.what();
    CHECK(msg.find("snippet:7: expected 'TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS', found 'this is not a trace line'") == 0);
  }
  ParseReport rep;
  TraceMetrics m = run(bad, {}, true, &rep);
  CHECK(rep.skipped == 2);
  CHECK(m.skipped_lines() == 2);
  CHECK(rep.first_skipped.find("snippet:7:") == 0);
  // What is left: softirq_raise (line 7) and napi_poll (line 12) are gone; the
  // two receives, the write and the softirq are still there.
  CHECK(m.packets() == 2);
  CHECK(m.napi_poll_work().count() == 0);
  CHECK(m.softirq_net_rx_ns().count() == 1);
  CHECK(m.write_ns().count() == 1);
  // Only the bad napi_poll, strictly: line 12 named, with the event.
  lines[6] = "   my-writer thread-1002  [000] ..s1.     0.000101000: softirq_raise: vec=3 [action=NET_RX]";
  bad.clear();
  for (auto& l : lines) bad += l + "\n";
  CHECK_THROWS_WITH_AS(run(bad), doctest::Contains("snippet:12: expected 'napi poll on napi struct"), InputError);
}

TEST_CASE("counter-clock timestamps are rejected with the reason") {
  CHECK_THROWS_WITH_AS(
      run("  a-1 [000] ..... 123456789: sys_enter: NR 1 (3, 0, 3c, 0, 0, 0)\n"),
      doctest::Contains("snippet:1: expected a timestamp in seconds"), InputError);
}

TEST_CASE("trace_metrics JSON round trip keeps every metric") {
  MetricsOptions opt;
  opt.dev = "tap0";
  TraceMetrics m = run(kPipe, opt);
  nlohmann::json j = m.to_json();
  for (const char* key : {"duration_s", "throughput_mpps", "packets", "drops", "write_ns",
                          "softirq_net_rx_ns", "napi_poll_work", "packets_per_softirq",
                          "netif_receive_skb_interarrival_ns", "skipped_lines"})
    CHECK(j.contains(key));
  TraceMetrics back = TraceMetrics::from_json(j, "mem");
  CHECK(back.packets() == 3);
  CHECK(back.duration_s() == doctest::Approx(m.duration_s()));
  CHECK(back.throughput_mpps() == doctest::Approx(m.throughput_mpps()));
  for (const auto& name : TraceMetrics::dist_names()) {
    CHECK(back.dist(name).count() == m.dist(name).count());
    CHECK(ks_statistic(back.dist(name), m.dist(name)) == 0);
  }
  CHECK(back.per_cpu().at(1).net_rx_softirqs == 1);
  j.erase("napi_poll_work");
  CHECK_THROWS_WITH_AS(TraceMetrics::from_json(j, "x.json"),
                       doctest::Contains("x.json: expected key \"napi_poll_work\""), InputError);
}
