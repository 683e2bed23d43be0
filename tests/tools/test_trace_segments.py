"""scripts/trace-segments: the intervals between a CPU's events inside NET_RX
softirqs, on hand-made traces whose intervals are known by construction."""
import gzip
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "trace-segments")


def line(cpu, ns, event, rest=""):
    return "  writer-1000-1000    [%03d] ..s1.  %d.%09d: %s: %s\n" % (cpu, ns // 10**9, ns % 10**9, event, rest)


def kline(ns, event, rest=""):
    """An event of the threaded NAPI kthread napi/tap0-8193 (pid 1003) on CPU 1."""
    return line(1, ns, event, rest).replace("writer-1000-1000", "napi/tap0-8193-1003")


def poll(work):
    return "napi poll on napi struct ffff888000000000 for device tap0 work %d budget 64" % work


# (event, rest) of the writers' tests: a 60-byte write() and NET_RX's bounds.
ENTER, EXIT = ("sys_enter", "NR 1 (3, 0, 3c, 0, 0, 0)"), ("sys_exit", "NR 1 = 60")
SIRQ_IN, SIRQ_OUT = ("softirq_entry", "vec=3 [action=NET_RX]"), ("softirq_exit", "vec=3 [action=NET_RX]")


# CPU 1: one softirq of two one-frame polls in a row (a re-poll cycle of
# 2000 ns: napi_poll 1000 -> gro entry 1600 -> netif_receive_skb 2000 ->
# kfree_skb 2100 -> napi_poll 3000), then softirq_exit at 3100.  CPU 0's
# sys_enter in between is skipped, and so is everything outside the softirq.
TRACE = "".join([
    "# tracer: nop\n",
    line(1, 0, "softirq_entry", "vec=3 [action=NET_RX]"),
    line(1, 1000, "napi_poll", poll(1)),
    line(0, 1200, "sys_enter", "NR 1 (3, 0, 3c, 0, 0, 0)"),
    line(1, 1600, "napi_gro_receive_entry", "dev=tap0 skbaddr=ffff888100000000"),
    line(1, 2000, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46"),
    line(1, 2100, "kfree_skb", "skbaddr=ffff888100000000"),
    line(1, 3000, "napi_poll", poll(1)),
    line(1, 3100, "softirq_exit", "vec=3 [action=NET_RX]"),
    line(1, 5000, "kfree_skb", "skbaddr=ffff888100000100"),
])


def run(*args):
    return subprocess.run(["/usr/bin/python3", SCRIPT] + list(args), capture_output=True, text=True)


class TraceSegments(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "k.trace.gz")
        with gzip.open(self.path, "wt") as f:
            f.write(TRACE)

    def tearDown(self):
        self.dir.cleanup()

    def write_trace(self, name, trace):
        """`trace` written to NAME in the test's folder; its path."""
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(trace)
        return path

    def writers(self, path, trace=None):
        """--writers 0,1 on `path` (written from `trace` first): label -> words of its first cell."""
        if trace is not None:
            with open(path, "w") as f:
                f.write(trace)
        r = run(path, "--writers", "0,1")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r, {x.split("|")[0].strip(): x.split("|")[1].split() for x in r.stdout.splitlines()[1:]}

    def rows(self, out):
        # segment name -> the first cell's "n N p10 .. p50 .. p90 .." numbers
        rows = {}
        for ln in out.splitlines()[1:]:
            name, cell = [c.strip() for c in ln.split("|")[:2]]
            nums = [int(x) for x in cell.split()[1::2]]
            rows[name] = nums
        return rows

    def test_consecutive_intervals(self):
        r = run(self.path, "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        # n, p10, p50, p90: one interval each, so all three percentiles are it.
        self.assertEqual(rows["cpu1 softirq_entry -> napi_poll"], [1, 1000, 1000, 1000])
        self.assertEqual(rows["cpu1 napi_poll -> napi_gro_receive_entry"], [1, 600, 600, 600])
        self.assertEqual(rows["cpu1 napi_gro_receive_entry -> netif_receive_skb"], [1, 400, 400, 400])
        self.assertEqual(rows["cpu1 kfree_skb -> napi_poll"], [1, 900, 900, 900])
        self.assertEqual(rows["cpu1 napi_poll -> softirq_exit"], [1, 100, 100, 100])
        # The kfree_skb at 5000 is outside any softirq: no row reaches it.
        self.assertNotIn("cpu1 softirq_exit -> kfree_skb", rows)
        # Two polls taken, neither empty.
        self.assertEqual(rows["napi_poll with work 0 (polls taken)"], [0, 2])
        self.assertEqual(len(rows), 7)

    def test_repoll_cycle(self):
        r = run(self.path, "--repoll", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["whole cycle (napi_poll -> napi_poll)"], [1, 2000, 2000, 2000])
        self.assertEqual(rows["netif_receive_skb -> kfree_skb"], [1, 100, 100, 100])
        self.assertEqual(len(rows), 6)  # four segments, the cycle and the empty polls' count

    def test_phase_of_the_writer_cpu(self):
        # CPU 0 enters write() (NR 1) at 1200 and leaves it at 1700; its
        # sys_enter of NR 12 at 1100 is another call.  CPU 1's segments
        # begin at 1000 (before CPU 0's first write), 1600 (CPU 0 in write(),
        # entered 400 ns before: 250-500), 2000 and 2100 (out of it, left 300
        # and 400 ns before: 0-500).
        # (A trace lists events in time order, as tracefs merges its CPUs.)
        phased = os.path.join(self.dir.name, "phased.trace")
        lines = TRACE.splitlines(keepends=True)
        at = lines.index(line(0, 1200, "sys_enter", "NR 1 (3, 0, 3c, 0, 0, 0)"))
        lines[at:at] = [line(0, 1100, "sys_enter", "NR 12 (0)"), line(0, 1150, "sys_exit", "NR 12 = 0")]
        at = lines.index(line(1, 2000, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46"))
        lines[at:at] = [line(0, 1700, "sys_exit", "NR 1 = 60")]
        with open(phased, "w") as f:
            f.write("".join(lines))
        r = run(phased, "--repoll", "--phase-of", "0", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["whole cycle (napi_poll -> napi_poll)  [cpu0 before its first write()]"],
                         [1, 2000, 2000, 2000])
        self.assertEqual(rows["napi_poll -> napi_gro_receive_entry  [cpu0 before its first write()]"],
                         [1, 600, 600, 600])
        self.assertEqual(rows["napi_gro_receive_entry -> netif_receive_skb  [cpu0 in write(), entered 250-500 ns "
                              "before]"], [1, 400, 400, 400])
        self.assertEqual(rows["netif_receive_skb -> kfree_skb  [cpu0 out of write(), left 0-500 ns before]"],
                         [1, 100, 100, 100])
        self.assertEqual(rows["kfree_skb -> napi_poll  [cpu0 out of write(), left 0-500 ns before]"],
                         [1, 900, 900, 900])
        self.assertEqual(len(rows), 6)
        # Without the sys_exit CPU 0 is still inside: 2000 and 2100 are 800
        # and 900 ns after its sys_enter.
        r = run(self.path, "--repoll", "--phase-of", "0", "--min-count", "1")
        rows = self.rows(r.stdout)
        self.assertEqual(rows["kfree_skb -> napi_poll  [cpu0 in write(), entered 500-1000 ns before]"],
                         [1, 900, 900, 900])

    def test_phase_detail_of_the_writer_cpu(self):
        # --phase-detail labels a segment by CPU 0's last write() entry (E),
        # sk_buff allocation (A: skbuff_head_cache), other allocation (C: the
        # head), write() exit (U) or task switch (S), and whether it was less
        # than 300 ns before.  The kthread (CPU 1) polls at 1000 and 3000
        # (work 1 both: one cycle); CPU 0 enters write() at 900, allocates the
        # sk_buff at 1450 and the head at 1700, leaves at 2050.  Segments:
        # poll 1000 -> gro entry 1500: E, 100 ns after the entry (0-300);
        # gro entry 1500 -> netif_receive_skb 2000: A, 50 ns after (0-300);
        # netif_receive_skb 2000 -> kfree_skb 2100: C, 300 ns after (300+);
        # kfree_skb 2100 -> poll 3000: U, 50 ns after; the cycle from 1000: E.
        slab = "call_site=__alloc_skb+0x179 ptr=0xffff88810242f300 name=%s bytes_req=224 bytes_alloc=256"
        trace = "".join([
            "# tracer: nop\n",
            line(0, 900, *ENTER),
            kline(1000, "napi_poll", poll(1)),
            line(0, 1450, "kmem_cache_alloc", slab % "skbuff_head_cache"),
            kline(1500, "napi_gro_receive_entry", "dev=tap0 skbaddr=ffff888100000000"),
            line(0, 1700, "kmem_cache_alloc", slab % "skbuff_small_head"),
            kline(2000, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46"),
            line(0, 2050, *EXIT),
            kline(2100, "kfree_skb", "skbaddr=ffff888100000000"),
            kline(3000, "napi_poll", poll(1)),
        ])
        path = self.write_trace("detail.trace", trace)
        r = run(path, "--threaded", "--repoll", "--phase-of", "0", "--phase-detail", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["napi_poll -> napi_gro_receive_entry  [cpu0 E: 0-300 ns after write() entered]"],
                         [1, 500, 500, 500])
        self.assertEqual(rows["napi_gro_receive_entry -> netif_receive_skb  [cpu0 A: 0-300 ns after its "
                              "sk_buff's allocation]"], [1, 500, 500, 500])
        self.assertEqual(rows["netif_receive_skb -> kfree_skb  [cpu0 C: 300+ ns after its head's allocation]"],
                         [1, 100, 100, 100])
        self.assertEqual(rows["kfree_skb -> napi_poll  [cpu0 U: 0-300 ns after write() returned]"],
                         [1, 900, 900, 900])
        self.assertEqual(rows["whole cycle (napi_poll -> napi_poll)  [cpu0 E: 0-300 ns after write() entered]"],
                         [1, 2000, 2000, 2000])
        self.assertEqual(len(rows), 6)
        # --phase-of's own rows are unchanged by the allocations: 1500 is
        # 600 ns into the write() (500-1000), 2100 50 ns after it (0-500).
        rows = self.rows(run(path, "--threaded", "--repoll", "--phase-of", "0", "--min-count", "1").stdout)
        self.assertEqual(rows["napi_gro_receive_entry -> netif_receive_skb  [cpu0 in write(), entered 500-1000 ns "
                              "before]"], [1, 500, 500, 500])
        self.assertEqual(rows["kfree_skb -> napi_poll  [cpu0 out of write(), left 0-500 ns before]"],
                         [1, 900, 900, 900])
        # It refines --phase-of and nothing else.
        for args in (["--phase-detail"], ["--phase-detail", "--phase-of", "0", "--poll-cost"]):
            r = run(path, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr, "trace-segments: --phase-detail: expected --phase-of M and no other report "
                                       "option (it refines --phase-of's rows)\n")

    def test_phase_detail_on_the_committed_threaded_capture(self):
        # results/reference/threaded-phase-2026-12-06/threaded-other-slab-2
        # (docs/validation.md, "threaded-other: the kthread's frames cost what
        # the writer is doing"): its kfree_skb -> kmem_cache_free row, the
        # counts and p50s the docs' table quotes (E < 300: 161 ns over 365,
        # E >= 300: 1002 over 167, A: 931 over 45, C: 762 over 110 and 611
        # over 63, U: 471 over 18 and 281 over 226), as writer-phase.py there
        # printed them (threaded-other-slab-2.phases.txt).
        path = os.path.join(ROOT, "results", "reference", "threaded-phase-2026-12-06", "threaded-other-slab-2.trace.gz")
        r = run(path, "--threaded", "--repoll", "--cpu", "1", "--phase-of", "0", "--phase-detail", "--min-count", "15")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {k.split("[cpu0 ")[1].rstrip("]"): (v[0], v[2]) for k, v in self.rows(r.stdout).items()
               if k.startswith("kfree_skb -> kmem_cache_free")}
        self.assertEqual(got, {"E: 0-300 ns after write() entered": (365, 161),
                               "E: 300+ ns after write() entered": (167, 1002),
                               "A: 0-300 ns after its sk_buff's allocation": (45, 931),
                               "C: 0-300 ns after its head's allocation": (110, 762),
                               "C: 300+ ns after its head's allocation": (63, 611),
                               "U: 0-300 ns after write() returned": (18, 471),
                               "U: 300+ ns after write() returned": (226, 281)})

    def test_min_count_hides_rare_rows(self):
        r = run(self.path)  # default 20: every row here has one interval
        self.assertEqual(r.returncode, 0, r.stderr)
        # Only the count of empty polls, which is always shown.
        self.assertEqual([x.split("|")[0].strip() for x in r.stdout.splitlines()[1:]],
                         ["napi_poll with work 0 (polls taken)"])

    def test_threaded_kthread_runs(self):
        # CPU 1 runs the kthread napi/tap0-8193 twice; between the runs its
        # sched_switch away, and its sched_wakeup traced by the writer on CPU
        # 0 (a wake-up the waker's CPU traces).  Kthread events: poll 1000 (work 1) -> gro entry
        # 1500 -> netif_receive_skb 1800 -> kfree_skb 1900 -> poll 2600 (work
        # 1: a 1600 ns cycle) -> sched_switch at 2800 (ends the run) -> CPU 0's
        # sched_wakeup of it at 9000 -> poll 9500 (work 1) -> poll 11000
        # (work 1: a 1500 ns cycle) -> poll 11100 (work 0).  The work 1 polls
        # at 2600 and 9500 make no 6900 ns cycle: the sched_switch cut the run.
        # The softirq events of the other tests are not there: --threaded
        # does not need them.  CPU 0's writer events are skipped.
        trace = "".join([
            "# tracer: nop\n",
            kline(1000, "napi_poll", poll(1)),
            line(0, 1200, "sys_enter", "NR 1 (3, 0, 3c, 0, 0, 0)"),
            kline(1500, "napi_gro_receive_entry", "dev=tap0 skbaddr=ffff888100000000"),
            kline(1800, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46"),
            kline(1900, "kfree_skb", "skbaddr=ffff888100000000"),
            kline(2600, "napi_poll", poll(1)),
            kline(2800, "sched_switch", "prev_comm=napi/tap0-8193 prev_pid=1003 prev_prio=120 prev_state=S ==> "
                                    "next_comm=swapper/1 next_pid=0 next_prio=120"),
            line(0, 9000, "sched_wakeup", "napi/tap0-8193:1003 [120] CPU:001"),
            kline(9500, "napi_poll", poll(1)),
            kline(11000, "napi_poll", poll(1)),
            kline(11100, "napi_poll", poll(0)),
        ])
        path = self.write_trace("threaded.trace", trace)
        r = run(path, "--threaded", "--repoll", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["whole cycle (napi_poll -> napi_poll)"], [2, 1500, 1600, 1600])
        self.assertEqual(rows["napi_poll -> napi_gro_receive_entry"], [1, 500, 500, 500])
        self.assertEqual(rows["kfree_skb -> napi_poll"], [1, 700, 700, 700])
        # Five polls taken, one of them empty.
        self.assertEqual(rows["napi_poll with work 0 (polls taken)"], [1, 5])
        # Without --threaded nothing is inside a NET_RX softirq.
        r = run(path, "--repoll", "--min-count", "1")
        self.assertEqual(self.rows(r.stdout), {"napi_poll with work 0 (polls taken)": [0, 0]})

    def test_poll_cost(self):
        # --poll-cost: each napi_poll after another in the same run (or
        # softirq), the time since that one over its work.  Kthread run 1 on
        # CPU 1: polls at 1000 (work 1, the first: not counted), 5000 (work 4:
        # 4000 / 4 = 1000 a frame), 6000 (work 2: 500), 6100 (work 0: not
        # counted), then its sched_switch; run 2: 20000 (work 8, first),
        # 28000 (work 8: 1000), 28000 + 64 x 900 (work 64: 900).  A NET_RX
        # softirq on CPU 0 (not a kthread's): two polls 3000 apart, work 3:
        # 1000, which only the softirq reading takes.
        trace = "".join([
            kline(1000, "napi_poll", poll(1)), kline(5000, "napi_poll", poll(4)), kline(6000, "napi_poll", poll(2)),
            kline(6100, "napi_poll", poll(0)),
            kline(6200, "sched_switch", "prev_comm=napi/tap0-8193 prev_pid=1003 prev_prio=120 prev_state=S ==> "
                                    "next_comm=swapper/1 next_pid=0 next_prio=120"),
            line(0, 7000, *SIRQ_IN), line(0, 7500, "napi_poll", poll(3)), line(0, 10500, "napi_poll", poll(3)),
            line(0, 10600, *SIRQ_OUT),
            kline(20000, "napi_poll", poll(8)), kline(28000, "napi_poll", poll(8)),
            kline(28000 + 64 * 900, "napi_poll", poll(64)),
        ])
        path = self.write_trace("polls.trace", trace)
        r = run(path, "--poll-cost", "--threaded", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows, {"poll of 2-3 frames, ns a frame": [1, 500, 500, 500],
                                "poll of 4-7 frames, ns a frame": [1, 1000, 1000, 1000],
                                "poll of 8-15 frames, ns a frame": [1, 1000, 1000, 1000],
                                "poll of 64+ frames, ns a frame": [1, 900, 900, 900]})
        # The rows come in size order.
        self.assertEqual([ln.split("|")[0].strip() for ln in r.stdout.splitlines()[1:]], list(rows))
        r = run(path, "--poll-cost", "--min-count", "1")
        self.assertEqual(self.rows(r.stdout), {"poll of 2-3 frames, ns a frame": [1, 1000, 1000, 1000]})
        r = run(path, "--poll-cost", "--repoll")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--poll-cost: expected no --repoll", r.stderr)

    def test_slab_period(self):
        # --slab-period: CPU 0 writes in three turns (sched_switch between
        # them) of 200, 200 and 100 write()s of 1000 ns, every one whose
        # index in its turn is 5 modulo 16 700 ns slower (a new slab of 16
        # objects).  The first 4 x 16 writes of a turn are left out: 136 a
        # long turn, residues 0-15 in step with the turn's; the 100-write
        # turn keeps 36 < 64 and is not counted.  Slowest residue 1700, all
        # others (median, second slowest) 1000: 700, 0, 2 turns, 272 writes.
        # CPU 1's slow writes (another CPU) are left out with --cpu 0.
        sw = ("sched_switch", "prev_comm=writer prev_pid=1000 prev_prio=120 prev_state=R ==> "
                              "next_comm=napi/tap0-8193 next_pid=1003 next_prio=120")
        lines, ns = [], 0
        for turn in (200, 200, 100):
            for i in range(turn):
                lines += [line(0, ns, *ENTER), line(0, ns + (1700 if i % 16 == 5 else 1000), *EXIT)]
                lines += [line(1, ns + 10, *ENTER), line(1, ns + 5000, *EXIT)] if i % 3 == 0 else []
                ns += 2000
            lines.append(line(0, ns, *sw))
            ns += 2000
        path = self.write_trace("slab.trace", "".join(lines))
        r = run(path, path, "--slab-period", "16", "--cpu", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        row = r.stdout.splitlines()[1].split(" | ")
        self.assertTrue(row[0].startswith("16 objects a slab"), r.stdout)
        self.assertEqual(row[1:], ["700, 0, 2, 272"] * 2)
        # A period no turn is long enough for (4 x 60 writes cut, 4 x 60 kept).
        r = run(path, "--slab-period", "60", "--cpu", "0")
        self.assertIn("no turn long enough", r.stdout)
        for bad in ("1", "16,x", ""):
            r = run(path, "--slab-period", bad)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--slab-period: expected objects per slab", r.stderr)
        r = run(path, "--slab-period", "16", "--threaded")
        self.assertEqual(r.returncode, 2)

    def test_bursts(self):
        # --bursts: CPU 0 writes 4 bursts of 64 write()s (1000 ns; those
        # whose index is 3 modulo 16 are 400 ns slower: a new slab of 16
        # objects), each followed by 64 read()s of the frames back (500 ns;
        # index 7 modulo 14 +60 ns: a put on the partial list; index 0
        # modulo 32 +300 ns: a drain).  Per index over the bursts the p50;
        # per period the 3 residues with the largest p50 (from index 2 P on)
        # over the others' p50.  A failed read (EAGAIN, -11) ends a burst of
        # reads and is not one.
        RD_IN, RD_OUT, RD_AGAIN = ("sys_enter", "NR 0 (4, 0, 800, 0, 0, 0)"), ("sys_exit", "NR 0 = 60"), \
            ("sys_exit", "NR 0 = -11")
        lines, ns = [], 0
        for _ in range(4):
            for i in range(64):
                lines += [line(0, ns, *ENTER), line(0, ns + (1400 if i % 16 == 3 else 1000), *EXIT)]
                ns += 2000
            for i in range(64):
                extra = (60 if i % 14 == 7 else 0) + (300 if i % 32 == 0 else 0)
                lines += [line(0, ns, *RD_IN), line(0, ns + 500 + extra, *RD_OUT)]
                ns += 1000
            lines += [line(0, ns, *RD_IN), line(0, ns + 100, *RD_AGAIN)]
            ns += 1000
        path = self.write_trace("bursts.trace", "".join(lines))
        r = run(path, "--bursts", "16,14,32", "--cpu", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {x.split(" | ")[0].strip(): x.split(" | ")[1] for x in r.stdout.splitlines()[1:]}
        w16 = rows["write()s, 16 a period: residue: p50 excess (ns), 3 largest; bursts, calls a burst"]
        self.assertTrue(w16.startswith("3: 400, "), w16)
        self.assertTrue(w16.endswith("; 4, 64"), w16)
        r14 = rows["read()s, 14 a period: residue: p50 excess (ns), 3 largest; bursts, calls a burst"]
        # From index 28 on: residue 7 holds 35, 49 and 63, all +60; residue
        # 4 holds 32 (+300), 46 and 60: p50 0, as every other residue.
        self.assertTrue(r14.startswith("7: 60, "), r14)
        self.assertTrue(r14.endswith(": 0; 4, 64"), r14)
        # A period whose first 2 P calls leave fewer than 2 P: no row.
        self.assertFalse(any(k.startswith("read()s, 32 a period") for k in rows), rows)
        # The reads cut the write()s into turns for --slab-period too: 4
        # turns of 64, the first 4 x 16 = 64 left out: no turn long enough.
        r = run(path, "--slab-period", "16", "--cpu", "0")
        self.assertIn("no turn long enough", r.stdout)
        r = run(path, "--bursts", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bursts: expected periods", r.stderr)
        r = run(self.path, "--bursts", "16")
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected bursts of write()s and read()s", r.stderr)
        # --json: every residue's p50 excess over the same base (the indices
        # outside the 3 largest residues), here 400 at write residue 3 of 16
        # and 0 elsewhere; 60 at read residue 7 of 14.  Three traces are
        # allowed with --bursts (one or two otherwise).
        r = run(path, path, path, "--bursts", "16,14", "--cpu", "0", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertEqual(list(d), [path])  # one key: the same trace three times
        self.assertEqual(d[path]["write 16"], {"excess_ns": [0, 0, 0, 400] + [0] * 12, "bursts": 4,
                                               "calls_a_burst": 64})
        self.assertEqual(d[path]["read 14"]["excess_ns"], [0] * 7 + [60] + [0] * 6)
        r = run(path, "--json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--json: expected --bursts", r.stderr)

    def test_two_traces_side_by_side(self):
        r = run(self.path, self.path, "--repoll", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        ln = [x for x in r.stdout.splitlines() if x.startswith("whole cycle")][0]
        self.assertEqual(ln.count("p50   2000"), 2)

    def test_writers_report(self):
        # Two writers.  CPU 0 writes at 0 (a softirq at 1000-4000: its own
        # frame's poll, kfree_skb 1700 -> napi_poll 2000, start -> receive
        # 600; then a re-poll of CPU 1's frame, kfree_skb 3000 -> napi_poll
        # 3900, start 2000 -> receive 2900), at 5000 (no softirq: MISSED) and
        # at 9000 (a softirq at 9500-10400, one poll: 200 and 500).  Outside
        # NET_RX: 4200 - 3000, 1000 and 1500 - 900, p50 1000; busy 3900 ns for
        # 3 frames in 2 softirqs; cycles 5000 and 4000 (p50 the upper: 5000,
        # spread (5000 - 4000) / 2).  CPU 1 enters at 2500 (half-way through
        # CPU 0's first cycle: tenth 5), 5500 (500 ns into the 4000 ns second
        # cycle: tenth 1) and 9600 (after CPU 0's last entry: no cycle).
        rx = ("netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46")
        kf = ("kfree_skb", "skbaddr=ffff888100000000")
        trace = "".join([line(0, 0, *ENTER), line(0, 1000, *SIRQ_IN), line(0, 1600, *rx), line(0, 1700, *kf),
                         line(0, 2000, "napi_poll", poll(1)), line(1, 2500, *ENTER), line(0, 2900, *rx),
                         line(0, 3000, *kf), line(1, 3300, *EXIT), line(0, 3900, "napi_poll", poll(1)),
                         line(0, 4000, *SIRQ_OUT), line(0, 4200, *EXIT), line(0, 5000, *ENTER), line(1, 5500, *ENTER),
                         line(0, 6000, *EXIT), line(1, 6500, *EXIT), line(0, 9000, *ENTER), line(0, 9500, *SIRQ_IN),
                         line(1, 9600, *ENTER), line(0, 10000, *rx), line(0, 10100, *kf),
                         line(0, 10300, "napi_poll", poll(1)), line(0, 10400, *SIRQ_OUT), line(1, 10400, *EXIT),
                         line(0, 10500, *EXIT)])
        path = os.path.join(self.dir.name, "writers.trace")
        r, rows = self.writers(path, trace)
        self.assertEqual(rows["cpu0"], "write() outside NET_RX p50 1000 NET_RX 1300 ns/frame 1.50 frames/softirq "
                                       "cycle p50 5000 spread 500".split())
        # CPU 1: outside 800, 1000, 800 (p50 800); no softirq; cycles 3000, 4100.
        self.assertEqual(rows["cpu1"], "write() outside NET_RX p50 800 NET_RX 0 ns/frame 0.00 frames/softirq "
                                       "cycle p50 4100 spread 550".split())
        self.assertEqual(rows["cpu1's sys_enter in cpu0's cycle, % by tenth"],
                         "0.0 50.0 0.0 0.0 0.0 50.0 0.0 0.0 0.0 0.0".split())
        # n, then the two p50s (the words that are whole numbers; none prints -1).
        polls = {k: [int(x) for x in v if x.isdigit()] for k, v in rows.items() if k.startswith("one-frame")}
        self.assertEqual(polls["one-frame polls, first -> exit"], [1, 200, 500])
        self.assertEqual(polls["one-frame polls, first -> re-poll"], [1, 300, 600])
        self.assertEqual(polls["one-frame polls, re-poll -> exit"], [1, 900, 900])
        self.assertEqual(polls["one-frame polls, re-poll -> re-poll"], [0])
        self.assertIn("p50    -1", r.stdout.splitlines()[-1])
        # Bad CPU pairs, and a CPU that never writes.
        for arg, want in (("0", "two different CPU numbers"), ("1,1", "two different CPU numbers")):
            r = run(path, "--writers", arg)
            self.assertEqual(r.returncode, 2, arg)
            self.assertIn(want, r.stderr)
        r = run(path, "--writers", "0,3")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("expected write()s (sys_enter NR 1) on both CPUs, found 3 and 0", r.stderr)

    def test_writers_report_with_slab_events(self):
        # capture-trace --slab-events adds kmem_cache_alloc/free of the skb
        # caches.  CPU 0's write at 0: sk_buff allocated at 400 (ptr A), head
        # at 550, softirq_raise 900, its softirq 1000-2000 receives A (own:
        # kfree_skb 1500 -> kmem_cache_free 1700, 200), sys_exit 2300
        # (softirq_exit -> sys_exit 300).  CPU 1's write at 1100: sk_buff B at
        # 1450, head 1600, no softirq (MISSED), sys_exit 2100.  CPU 0's second
        # write at 4000: sk_buff C at 4500, head 4650, raise 5100, softirq
        # 5200-7000 receives B (CPU 1's, which allocated at 1450, after
        # CPU 0's last free of its skbs (none): kfree_skb 5800 ->
        # kmem_cache_free 6300, 500) and C (own, 6500 -> 6600, 100), exit
        # 7200.  CPU 1 writes D (allocated at 7500) and E (7650) without
        # softirqs.  A third softirq of CPU 0 at 8000 frees D (kfree_skb
        # 8300 -> 8400: 100, CPU 1 "allocated since": 7650 > 5800) and E
        # right after (8500 -> 8550: 50, not since: 7650 < 8300).
        def alloc(ptr, name="skbuff_head_cache"):
            return ("kmem_cache_alloc", "(__alloc_skb+0x179) call_site=__alloc_skb+0x179 ptr=%s name=%s "
                    "bytes_req=224 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false" % (ptr, name))
        def kfree(ptr):
            return ("kmem_cache_free", "(f+0x1) call_site=f+0x1 ptr=%s name=skbuff_head_cache" % ptr)
        def rx(ptr):
            return ("netif_receive_skb", "dev=tap0 skbaddr=%s len=46" % ptr)
        def drop(ptr):
            return ("kfree_skb", "skbaddr=%s rx_sk=(nil) protocol=34997" % ptr)
        A, B, C, D, E = "0xa00", "0xb00", "0xc00", "0xd00", "0xe00"
        trace = "".join([
            line(0, 0, *ENTER), line(0, 400, *alloc(A)), line(0, 550, *alloc("0x1a0", "skbuff_small_head")),
            line(0, 900, "softirq_raise", "vec=3 [action=NET_RX]"), line(0, 1000, *SIRQ_IN), line(1, 1100, *ENTER),
            line(0, 1200, *rx(A)), line(1, 1450, *alloc(B)), line(0, 1500, *drop(A)),
            line(1, 1600, *alloc("0x1b0", "skbuff_small_head")), line(0, 1700, *kfree(A)),
            line(0, 1900, "napi_poll", poll(1)), line(0, 2000, *SIRQ_OUT), line(1, 2100, *EXIT),
            line(0, 2300, *EXIT),
            line(0, 4000, *ENTER), line(0, 4500, *alloc(C)), line(0, 4650, *alloc("0x1c0", "skbuff_small_head")),
            line(0, 5100, "softirq_raise", "vec=3 [action=NET_RX]"), line(0, 5200, *SIRQ_IN), line(0, 5600, *rx(B)),
            line(0, 5800, *drop(B)), line(0, 6300, *kfree(B)), line(0, 6400, *rx(C)), line(0, 6500, *drop(C)),
            line(0, 6600, *kfree(C)), line(0, 6900, "napi_poll", poll(2)), line(0, 7000, *SIRQ_OUT),
            line(0, 7200, *EXIT),
            line(1, 7400, *ENTER), line(1, 7500, *alloc(D)), line(1, 7520, *alloc("0x1d0", "skbuff_small_head")),
            line(1, 7550, *EXIT), line(1, 7600, *ENTER), line(1, 7650, *alloc(E)),
            line(1, 7670, *alloc("0x1e0", "skbuff_small_head")), line(1, 7700, *EXIT),
            line(0, 8000, *SIRQ_IN), line(0, 8200, *rx(D)), line(0, 8300, *drop(D)), line(0, 8400, *kfree(D)),
            line(0, 8450, *rx(E)), line(0, 8500, *drop(E)), line(0, 8550, *kfree(E)),
            line(0, 8600, "napi_poll", poll(2)), line(0, 8700, *SIRQ_OUT),
        ])
        _, rows = self.writers(os.path.join(self.dir.name, "slab.trace"), trace)
        # CPU 0's two writes: 400 and 500 ns to the sk_buff, 150 and 150 to
        # the head, 350 and 450 to softirq_raise, 300 and 200 from
        # softirq_exit (p50: the upper of two).
        self.assertEqual(rows["cpu0 write(), sys_enter -> sk_buff allocated"], "n 2 p50 500".split())
        self.assertEqual(rows["cpu0 write(), sk_buff allocated -> head allocated"], "n 2 p50 150".split())
        self.assertEqual(rows["cpu0 write(), head allocated -> softirq_raise"], "n 2 p50 450".split())
        self.assertEqual(rows["cpu0 write(), softirq_exit -> sys_exit"], "n 2 p50 300".split())
        # CPU 1 entered (1100) and left (2100) a write during CPU 0's first
        # one (0-2300), not during its second (4000-7200); in CPU 0's gap
        # before the second (2300-4000) it did neither.
        self.assertEqual(rows["cpu0 write(), softirq_exit -> sys_exit, other wrote meanwhile"], "n 1 p50 300".split())
        self.assertEqual(rows["cpu0 write(), softirq_exit -> sys_exit, other did not"], "n 1 p50 200".split())
        self.assertEqual(rows["cpu0 write(), sys_enter -> sk_buff allocated, other did not"], "n 1 p50 500".split())
        self.assertEqual(rows["cpu0 write(), sys_enter -> sk_buff allocated, other wrote in the gap before"],
                         "n 0 p50 -1".split())
        # CPU 1's second write (7400) has CPU 0's exit at 7200 in its gap
        # (2100-7400): 100 ns; its third (7600) nothing in 7550-7600: 50.
        self.assertEqual(rows["cpu1 write(), sys_enter -> sk_buff allocated, other wrote in the gap before"],
                         "n 1 p50 100".split())
        self.assertEqual(rows["cpu1 write(), sys_enter -> sk_buff allocated, other did not"], "n 1 p50 50".split())
        # CPU 1 never raised: its writes have the first two segments only.
        self.assertEqual(rows["cpu1 write(), sys_enter -> sk_buff allocated"], "n 3 p50 100".split())
        self.assertEqual(rows["cpu1 write(), head allocated -> softirq_raise"], "n 0 p50 -1".split())
        self.assertEqual(rows["free of an own skb"], "n 2 kfree_skb -> kmem_cache_free(sk_buff) p50 200".split())
        self.assertEqual(rows["free of an other's skb, its CPU allocated since"],
                         "n 2 kfree_skb -> kmem_cache_free(sk_buff) p50 500".split())
        self.assertEqual(rows["free of an other's skb, its CPU did not"],
                         "n 1 kfree_skb -> kmem_cache_free(sk_buff) p50 50".split())
        # Without the slab events the report stops after the polls.
        r, _ = self.writers(os.path.join(self.dir.name, "plain.trace"),
                            "".join(x for x in trace.splitlines(keepends=True) if "kmem_cache" not in x))
        self.assertTrue(r.stdout.splitlines()[-1].startswith("one-frame polls, re-poll -> re-poll"), r.stdout)

    def test_writers_on_the_committed_slab_capture(self):
        # results/reference/slab-2026-12-04/napi-2w (docs/validation.md,
        # "Where the two writers pay for their shared lines"): its 20,000
        # frees split by builder into 14,030 own, 4,840 of the other CPU's
        # after it allocated and 1,130 without, with the p50s the docs quote.
        _, rows = self.writers(os.path.join(ROOT, "results", "reference", "slab-2026-12-04", "napi-2w.trace.gz"))
        frees = {k: (int(v[1]), int(v[-1])) for k, v in rows.items() if k.startswith("free of an ")}
        self.assertEqual(frees, {"free of an own skb": (14030, 350),
                                 "free of an other's skb, its CPU allocated since": (4840, 541),
                                 "free of an other's skb, its CPU did not": (1130, 191)})

    def test_user_gaps(self):
        # One writer on CPU 0.  Write 0-2000 runs a NET_RX softirq (1000-1500),
        # gap 2000 -> 3300 (1300); write 3300-4000 does neither, gap -> 5200
        # (1200); write 5200-6000 wakes a thread (5500), gap -> 7400 (1400);
        # write 7400-8000, then a sched_switch at 8500 in the gap: left out;
        # write 10000-10600, then a read() (NR 0) at 11000 in the gap: left
        # out; write 12000-12500, gap -> 13700 (1200).  So "neither" has the
        # gaps 1200 and 1200 after write()s of 700 and 500 (p50 of two sorted
        # values: the upper, 700); the other kinds one gap each.
        wake = ("sched_wakeup", "napi/tap0-8193:1003 [120] CPU:000")
        trace = "".join([line(0, 0, *ENTER), line(0, 1000, *SIRQ_IN), line(0, 1500, *SIRQ_OUT), line(0, 2000, *EXIT),
                         line(0, 3300, *ENTER), line(0, 4000, *EXIT),
                         line(0, 5200, *ENTER), line(0, 5500, *wake), line(0, 6000, *EXIT),
                         line(0, 7400, *ENTER), line(0, 8000, *EXIT),
                         line(0, 8500, "sched_switch", "writer:1000 [120] R ==> other:7 [120]"),
                         line(0, 10000, *ENTER), line(0, 10600, *EXIT),
                         line(0, 11000, "sys_enter", "NR 0 (3, 0, 3c, 0, 0, 0)"), line(0, 11100, "sys_exit", "NR 0 = 0"),
                         line(0, 12000, *ENTER), line(0, 12500, *EXIT), line(0, 13700, *ENTER)])
        path = self.write_trace("gaps.trace", trace)
        r = run(path, path, "--user-gaps", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {}
        for ln in r.stdout.splitlines()[1:]:
            cells = [c.strip() for c in ln.split("|")]
            self.assertEqual(cells[1], cells[2])  # the same trace twice: the same cell
            rows[cells[0]] = [int(x) for x in cells[1].split() if x.isdigit()]
        # n, gap p25, p50, p75, write() p50
        self.assertEqual(rows, {"cpu0 ran a NET_RX softirq": [1, 1300, 1300, 1300, 2000],
                                "cpu0 woke a thread": [1, 1400, 1400, 1400, 800],
                                "cpu0 neither": [2, 1200, 1200, 1200, 700]})
        # The default --min-count (20) leaves only the counts.
        r = run(path, "--user-gaps")
        self.assertIn("cpu0 neither", r.stdout)
        self.assertNotIn("gap p25", r.stdout)
        r = run(path, "--user-gaps", "--writers", "0,1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--user-gaps: expected no", r.stderr)

    def test_wake_polls(self):
        # The kthread napi/tap0-8193 (pid 1003) on CPU 1: a run already going
        # when the trace starts (its poll of 5 is neither kind), a preemption
        # (switched out in R: its next poll is a re-poll), a sleep of 4000 ns
        # (S at 2000, in at 6000: the first poll after it holds 2), a re-poll
        # of 1, a sleep of 3000 ns (S at 8000, in at 11000: first poll 3,
        # then a re-poll of 0).  First polls: 2 and 3, half each; re-polls:
        # 1, 1 and 0; sleeps 3000 and 4000 (p10 3000, p50 and p90 4000).
        def switch(ns, prev, state, nxt):
            return line(1, ns, "sched_switch", "%s [120] %s ==> %s [120]" % (prev, state, nxt))
        k, idle, other = "napi/tap0-8193:1003", "swapper/1:0", "kworker/1:1:50"
        trace = "".join([
            kline(100, "napi_poll", poll(5)),
            switch(200, k, "R", other), switch(300, other, "S", k),
            kline(1000, "napi_poll", poll(1)),
            switch(2000, k, "S", idle), switch(6000, idle, "R", k),
            kline(6500, "napi_poll", poll(2)),
            kline(7500, "napi_poll", poll(1)),
            switch(8000, k, "S", idle), switch(11000, idle, "R", k),
            kline(11500, "napi_poll", poll(3)),
            kline(12000, "napi_poll", poll(0)),
        ])
        path = os.path.join(self.dir.name, "w.trace")
        with open(path, "w") as f:
            f.write(trace)
        r = run(path, "--wake-polls")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {l.split("|")[0].strip(): l.split("|")[1].strip() for l in r.stdout.splitlines()}
        self.assertEqual(rows["first poll after a sleep, work"], "n      2  0 0.0%, 1 0.0%, 2 50.0%, 3 50.0%, 4+ 0.0%")
        self.assertEqual(rows["poll after a poll, work"], "n      3  0 33.3%, 1 66.7%, 2 0.0%, 3 0.0%, 4+ 0.0%")
        self.assertEqual(rows["sleep, ns"], "n      2  p10   3000  p50   4000  p90   4000")
        r = run(path, "--wake-polls", "--repoll")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("--wake-polls: expected no other report option", r.stderr)

    def test_transitions(self):
        # CPU 1: a write() (sys_enter at 0) wakes the kthread at 1000 and
        # returns at 1300; the writer is switched out for the kthread at 2000
        # (preempted at its return to user space), which polls one frame at
        # 3000 and three at 3200 and sleeps at 3500; the writer enters its
        # next write() at 4000.  So, pair by pair: 1000, 300, 700, 1000, 200,
        # 300 and 500 ns.  CPU 0's events, in between, are not CPU 1's.
        def switch(ns, prev, state, nxt):
            return line(1, ns, "sched_switch", "%s [120] %s ==> %s [120]" % (prev, state, nxt))
        w, k = "writer-1000:1000", "napi/tap0-8193:1003"
        trace = "".join([
            line(1, 0, *ENTER),
            line(1, 1000, "sched_wakeup", "%s [120] CPU:001" % k),
            line(0, 1100, *ENTER),
            line(1, 1300, *EXIT),
            switch(2000, w, "R", k),
            kline(3000, "napi_poll", poll(1)),
            kline(3200, "napi_poll", poll(3)),
            line(0, 3300, *EXIT),
            kline(3500, "sched_switch", "%s [120] S ==> %s [120]" % (k, w)),
            line(1, 4000, *ENTER),
        ])
        path = self.write_trace("t.trace", trace)
        r = run(path, path, "--transitions", "--cpu", "1", "--min-count", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {l.split("|")[0].strip(): [c.split() for c in l.split("|")[1:]] for l in r.stdout.splitlines()[1:]}
        want = {
            "writer:sys_enter -> writer:sched_wakeup": 1000,
            "writer:sched_wakeup -> writer:sys_exit": 300,
            "writer:sys_exit -> writer:sched_switch->kthread": 700,
            "writer:sched_switch->kthread -> kthread:napi_poll(1)": 1000,
            "kthread:napi_poll(1) -> kthread:napi_poll(2+)": 200,
            "kthread:napi_poll(2+) -> kthread:sched_switch->writer": 300,
            "kthread:sched_switch->writer -> writer:sys_enter": 500,
        }
        self.assertEqual(set(rows), set(want), r.stdout)
        for k2, ns in want.items():
            for cell in rows[k2]:  # both traces alike: n 1, p10 = p50 = p90
                self.assertEqual(cell, ["n", "1", "p10", str(ns), "p50", str(ns), "p90", str(ns)], k2)
        self.assertEqual(r.stdout.splitlines()[0].split("|")[0].strip(), "cpu1 transition")
        # It needs --cpu, and takes no other report option: one line, exit 2.
        for args, want_err in ((["--transitions"], "--transitions: expected --cpu N"),
                               (["--transitions", "--cpu", "1", "--poll-cost"],
                                "--transitions: expected no other report option")):
            r = run(path, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn(want_err, r.stderr)

    def test_timeline(self):
        # Buckets of 1 ms from the first event (a wake-up at 0): in the
        # first, CPU 0's two write()s return (100 and 200 us) and CPU 1 runs
        # a NET_RX softirq that receives one frame and polls it (300-500
        # us); nothing in the second; in the third CPU 0 returns from one
        # write(), receives one frame and polls three (2.1-2.2 ms), and CPU
        # 1's read() (NR 0) is no write().
        w1 = ("sys_exit", "NR 1 = 60")
        trace = "".join([
            line(1, 0, "sched_wakeup", "writer-1001:1001 [120] CPU:000"),
            line(0, 100000, *w1),
            line(0, 200000, *w1),
            line(1, 300000, *SIRQ_IN),
            line(1, 400000, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000000 len=46"),
            line(1, 500000, "napi_poll", poll(1)),
            line(0, 2100000, *w1),
            line(0, 2150000, "netif_receive_skb", "dev=tap0 skbaddr=ffff888100000100 len=46"),
            line(0, 2200000, "napi_poll", poll(3)),
            line(1, 2300000, "sys_exit", "NR 0 = 60"),
        ])
        path = self.write_trace("tl.trace", trace)
        r = run(path, "--timeline", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            path,
            "| ms | writes cpu0 | writes cpu1 | rx cpu0 | rx cpu1 | softirqs cpu0 | softirqs cpu1 | polls(1) "
            "| polls(2+) |",
            "|---|---|---|---|---|---|---|---|---|",
            "| 0 | 2 | 0 | 0 | 1 | 0 | 1 | 1 | 0 |",
            "| 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "| 2 | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 1 |",
        ])
        for args, want in ((["--timeline", "0"], "--timeline: expected a bucket in ms"),
                           (["--timeline", "x"], "--timeline: expected a bucket in ms"),
                           (["--timeline", "1", "--cpu", "0"], "--timeline: expected no other report option")):
            r = run(path, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn(want, r.stderr)

    def test_bad_input_is_one_line_and_exit_2(self):
        us = os.path.join(self.dir.name, "us.trace")
        with open(us, "w") as f:
            f.write("  w-1 [001] ..s1.  12.345678: softirq_entry: vec=3 [action=NET_RX]\n")
        empty = os.path.join(self.dir.name, "empty.trace")
        open(empty, "w").close()
        for args, want in (([us], "9 digits after the point"),
                           ([empty], "found none"),
                           ([os.path.join(self.dir.name, "missing")], "No such file"),
                           ([self.path, self.path, self.path], "one or two traces")):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(want, r.stderr)

    def test_a_cpu_the_trace_never_names_is_refused(self):
        # --cpu 5 of a trace of CPUs 0 and 1 printed an empty table (every
        # report), exit 0: a typo checked nothing, as trace stats --dev of no
        # device did.  --writers 0,00 named CPU 0 twice (compared as text).
        for args in ([], ["--poll-cost"], ["--user-gaps"], ["--wake-polls"], ["--slab-period", "16"],
                     ["--bursts", "16"], ["--transitions"]):
            r = run(self.path, "--cpu", "5", *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr, "trace-segments: %s: --cpu 5: expected events on that CPU, found none (the "
                                       "trace's CPUs: 0, 1)\n" % self.path)
        self.assertEqual(run(self.path, "--cpu", "1").returncode, 0)
        r = run(self.path, "--writers", "0,00")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "trace-segments: --writers: expected two different CPU numbers A,B, found '0,00'\n")

    def test_a_long_line_is_refused_at_once(self):
        # The event regex was searched from every byte of a run of non-blanks:
        # a 20 000-byte line took 2.3 s, 200 000 bytes minutes (quadratic).
        # A line within tunsim's bound (64 KiB) without an event is skipped
        # quickly; a longer one is refused, naming its line (the third: the
        # comment line and an event come first).
        import time
        ok = self.write_trace("within.trace", "x" * 65000 + "\n" + TRACE)
        t0 = time.monotonic()
        r = run(ok, "--min-count", "1")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        # Without the fix about 25 s (65 000^2 / 2 steps); with it well under 1 s
        # (a few seconds leave room for a loaded machine).
        self.assertLess(took, 5)
        # The rows are those of TRACE alone (test_consecutive_intervals): the
        # long line is no event.
        self.assertEqual(self.rows(r.stdout), self.rows(run(self.path, "--min-count", "1").stdout))
        self.assertEqual(self.rows(r.stdout)["cpu1 napi_poll -> napi_gro_receive_entry"], [1, 600, 600, 600])
        head = "# tracer: nop\n" + line(1, 0, "softirq_entry", "vec=3 [action=NET_RX]")
        long_path = self.write_trace("long.trace", head + "x" * 70000 + "\n" + TRACE)
        r = run(long_path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "trace-segments: %s: line 3: expected a line of at most 65536 characters, found a "
                                   "longer one (not a text trace?)\n" % long_path)

    def test_a_command_line_error_is_one_line(self):
        # argparse printed two lines, the usage and then the error.
        for args, msg in (([], "the following arguments are required: TRACE"),
                          ([self.path, "--cpu", "abc"], "argument --cpu: invalid int value: 'abc'"),
                          ([self.path, "--bogus"], "unrecognized arguments: --bogus")):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr, "trace-segments: %s (see scripts/trace-segments --help)\n" % msg)

    def test_a_bad_timestamp_names_its_line_in_the_file(self):
        # The line number was the count of event lines before it, plus one:
        # here 2 (one event before), though the comment line makes it the 3rd.
        path = self.write_trace("us.trace", "# tracer: nop\n" + line(1, 0, "softirq_entry", "vec=3 [action=NET_RX]") +
                                "  w-1 [001] ..s1.  12.345678: softirq_exit: vec=3 [action=NET_RX]\n")
        r = run(path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "trace-segments: %s: line 3: expected a timestamp with 9 digits after the point "
                                   "(ns), found 6\n" % path)


if __name__ == "__main__":
    unittest.main()
