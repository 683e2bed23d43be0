#!/usr/bin/python3
"""writer-phase.py TRACE: the threaded NAPI kthread's one-frame re-poll cycles
(a napi_poll with work 1, then the next napi_poll with work 1 of the same run
on CPU 1, no sched_switch between) cut at each of its tracepoints, every
segment labelled with what the writer on CPU 0 was doing when it began: the
writer's last event before it (E sys_enter of a write, A its sk_buff's
kmem_cache_alloc, C its head's kmem_cache_alloc, U its sys_exit, S a
sched_switch) and how long before, below or from 300 ns.  A capture without
--slab-events has only E and U.  Prints count and p10 / p50 / p90 in ns of
each segment per label with at least 15 segments.  Kernel captures
(capture-trace text) and `tunsim run --trace` output alike.  Used for
docs/validation.md, "threaded-other: the kthread's frames cost what the
writer is doing" (2026-12-06)."""
import bisect
import collections
import re
import sys

PAT = re.compile(r'^(?:tunsim-\d+:)?\s*(.+?)-(\d+)\s+\[(\d+)\]\s+(?:[\w.]{4,5}\s+)?(\d+\.\d+):\s+(\w+):\s*(.*)$')
KTHREAD_EVENTS = ('napi_poll', 'napi_gro_receive_entry', 'napi_gro_receive_exit', 'netif_receive_skb',
                  'kfree_skb', 'kmem_cache_free', 'sched_switch')


def main(path):
    ev = []
    opener = open
    if path.endswith('.gz'):
        import gzip
        opener = lambda p: gzip.open(p, 'rt')  # noqa: E731
    with opener(path) as f:
        for line in f:
            m = PAT.match(line)
            if m:
                comm, _pid, cpu, ts, name, rest = m.groups()
                ev.append((int(round(float(ts) * 1e9)), int(cpu), comm, name, rest))
    wt, wp = [], []
    for t, cpu, comm, name, rest in ev:
        if cpu != 0 or not (comm.startswith('tapwriter') or comm.startswith('writer')):
            continue
        if name == 'sys_enter' and rest.startswith('NR 1 '):
            ph = 'E'
        elif name == 'kmem_cache_alloc':
            ph = 'A' if 'skbuff_head_cache' in rest else 'C'
        elif name == 'sys_exit' and rest.startswith('NR 1 '):
            ph = 'U'
        elif name == 'sched_switch':
            ph = 'S'
        else:
            continue
        wt.append(t)
        wp.append(ph)

    def phase(t):
        i = bisect.bisect_right(wt, t) - 1
        if i < 0:
            return '?'
        return wp[i] + ('<300' if t - wt[i] < 300 else '>=300')

    k = [(t, name, rest) for t, cpu, comm, name, rest in ev
         if cpu == 1 and comm.startswith('napi/') and name in KTHREAD_EVENTS]
    polls = [j for j, (t, n, r) in enumerate(k) if n == 'napi_poll']
    res = collections.defaultdict(list)
    for a, b in zip(polls, polls[1:]):
        if ' work 1 ' not in k[a][2] or ' work 1 ' not in k[b][2]:
            continue
        seg = k[a:b + 1]
        if any(n == 'sched_switch' for t, n, r in seg):
            continue
        for (t0, n0, _), (t1, n1, _) in zip(seg, seg[1:]):
            res[(n0 + ' -> ' + n1, phase(t0))].append(t1 - t0)
        res[('whole cycle', phase(seg[0][0]))].append(seg[-1][0] - seg[0][0])

    def q(v, p):
        return v[min(len(v) - 1, int(p * len(v)))]
    for key in sorted(res):
        v = sorted(res[key])
        if len(v) >= 15:
            print("%-48s %-6s n %4d  p10 %5d  p50 %5d  p90 %5d" % (key[0], key[1], len(v), q(v, .1), q(v, .5), q(v, .9)))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit("usage: writer-phase.py TRACE[.gz]")
    main(sys.argv[1])
