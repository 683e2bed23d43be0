#!/usr/bin/python3
"""own_events.py: a capture's trace without the events of other traffic.

scripts/capture-trace records its workload's tracepoints in a tracing
instance of its own, but a tracepoint fires for every packet on the
machine.  The events that name a device are filtered in the instance by
the capture's tap (napi_poll, netif_receive_skb, napi_gro_receive_entry)
and those of tasks by the workload's tids (sys_enter/exit, sched_*).  The
rest name no device: this script keeps only those of the capture's own
packets, from the trace's text (tracefs `trace`, `trace-cmd report`,
`perf script`), in file order, which is time order:

  napi_gro_receive_exit   (fields: ret) kept when it closes a kept
                          napi_gro_receive_entry on its CPU: napi_gro_receive
                          runs entry, the GRO, exit, and never nests on a CPU.
  kfree_skb               (skbaddr) and kmem_cache_alloc / kmem_cache_free of
  kmem of skbuff_head_cache  skbuff_head_cache (ptr: the sk_buff, the same
                          address as skbaddr): the events of one address form
                          a life, from the sk_buff's allocation (or the first
                          event seen) to its free (kmem_cache_free, or after a
                          kfree_skb the next event but that free).  A life is
                          the capture's when a netif_receive_skb or
                          napi_gro_receive_entry of its tap names it, or when
                          its kfree_skb is a drop before any receive
                          (reason CPU_BACKLOG, or location
                          enqueue_to_backlog) in one of the writer tasks
                          (--writers): RPS's backlog full, inside the write().
  kmem of                 (a small frame's head) names no sk_buff.  An
  skbuff_small_head       allocation belongs to the sk_buff allocated last on
                          its CPU whose head is not yet allocated and that no
                          later event names yet (__alloc_skb takes the
                          sk_buff, then the head); a free to the next sk_buff
                          freed on its CPU after its kfree_skb (__kfree_skb
                          frees the head, then the sk_buff).  Kept when that
                          sk_buff's life is kept.
  kmem of the other       (skbuff_fclone_cache, skbuff_ext_cache: TCP's
  skbuff_* caches         sk_buffs, extensions) never a capture's frame.

A device event of another device (none, when the instance filtered them) is
dropped too.  Every other line is kept as it is.

What no trace can tell: a life with no traced end (the capture's frame that
the writer read back with --drain-every is freed by consume_skb, which is not
traced, unless --slab-events traces its kmem_cache_free) still names the
address when another device's 0x88B5 frame reuses it, so that frame's
kfree_skb would be kept; and an interrupt nested between an sk_buff's
allocation and its head's that allocates an sk_buff without such a head
would take the head.  The NET_RX softirq events name no device and no skb:
capture-trace keeps them to the workload's CPUs and counts the packets other
devices delivered there (the sidecar's other_rx_packets).

usage: own_events.py --dev TAP [--writers TID,...] TRACE OUT
  writes TRACE's kept lines to OUT and prints the events dropped per name as
  JSON ({"kfree_skb": N, ...}); exit 2 with one line on bad input.
"""
import json
import re
import sys

# One event line of the three texts; the task's pid is the number before the
# CPU (comm-PID in ftrace and trace-cmd, "comm PID" in perf script), the
# event name the word before ':' (perf prefixes its system: "skb:kfree_skb").
EVENT = re.compile(r"[- ](\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?\d+\.\d+:\s+(?:\w+:)?(\w+):\s?(.*)$")
# The events this script decides on (any other line is kept unparsed).
DECIDED = ("napi_poll:", "netif_receive_skb:", "napi_gro_receive_entry:", "napi_gro_receive_exit:", "kfree_skb:",
           "kmem_cache_alloc:", "kmem_cache_free:")
DEV = {"netif_receive_skb": re.compile(r"\bdev=(\S+)"), "napi_gro_receive_entry": re.compile(r"\bdev=(\S+)"),
       "napi_poll": re.compile(r"\bfor device (\S+)")}
SKBADDR = re.compile(r"\bskbaddr=(\S+)")
PTR = re.compile(r"\bptr=(\S+)")
CACHE = re.compile(r"\bname=(\S+)")
SK_BUFF = "skbuff_head_cache"
HEAD = "skbuff_small_head"  # a small frame's head (6.3+); a larger one's is kmalloc's
# The sk_buffs a CPU allocated that may still get their head: a bound, so a
# CPU that allocates sk_buffs without such heads keeps no growing list.
PENDING_MAX = 64
MAX_LINE = 65536


class BadInput(Exception):
    pass


class Life:
    """The events of one sk_buff address between its allocation and its free:
    [(line index, event name)], whether the capture's, whether its kfree_skb
    was seen, whether its head may still be allocated."""
    __slots__ = ("lines", "own", "kfreed", "window_open")

    def __init__(self):
        self.lines = []
        self.own = False
        self.kfreed = False
        self.window_open = False


def backlog_drop(rest):
    return "reason: CPU_BACKLOG" in rest or "location=enqueue_to_backlog" in rest


class Filter:
    """Decides line by line (feed), in file order; keep[i] says whether line
    i is kept once finish() has decided the lives still open."""

    def __init__(self, dev, writers):
        self.dev, self.writers = dev, writers
        self.keep = bytearray()
        self.dropped = {}
        self.lives = {}  # address -> its current Life
        self.open_gro = {}  # cpu -> a kept napi_gro_receive_entry awaits its exit
        self.alloc_pending = {}  # cpu -> [Life]: sk_buffs whose head may follow
        self.head_frees = {}  # cpu -> [line index]: heads freed, their sk_buff's free not yet seen

    def drop(self, i, name):
        self.keep[i] = 0
        self.dropped[name] = self.dropped.get(name, 0) + 1

    def end(self, life):
        """A life is over: its events go unless it was the capture's."""
        life.window_open = False
        if not life.own:
            for i, name in life.lines:
                self.drop(i, name)
        life.lines = []

    def life_of(self, addr, start=False):
        """The current life of addr; a new one at an allocation, or after a
        kfree_skb (the address was freed)."""
        life = self.lives.get(addr)
        if life is None or start or life.kfreed:
            if life is not None:
                self.end(life)
            life = self.lives[addr] = Life()
        return life

    def feed(self, line):
        i = len(self.keep)
        self.keep.append(1)
        if not any(d in line for d in DECIDED):
            return
        m = EVENT.search(line)
        if not m:
            return
        pid, cpu, name, rest = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        if name in DEV:
            d = DEV[name].search(rest)
            if not d or d.group(1) != self.dev:
                self.drop(i, name)
                if name == "napi_gro_receive_entry":
                    self.open_gro.pop(cpu, None)
                return
            if name == "napi_gro_receive_entry":
                self.open_gro[cpu] = True
            a = SKBADDR.search(rest)
            if a:
                life = self.life_of(a.group(1))
                life.own = True
                life.window_open = False  # its __alloc_skb has returned
        elif name == "napi_gro_receive_exit":
            if not self.open_gro.pop(cpu, False):
                self.drop(i, name)
        elif name == "kfree_skb":
            a = SKBADDR.search(rest)
            if a:
                life = self.life_of(a.group(1))
                life.lines.append((i, name))
                life.window_open = False
                if pid in self.writers and backlog_drop(rest):
                    life.own = True
                life.kfreed = True
        elif name in ("kmem_cache_alloc", "kmem_cache_free"):
            c, p = CACHE.search(rest), PTR.search(rest)
            cache = c.group(1) if c else ""
            if not p or not cache.startswith("skbuff_"):
                return
            if cache == SK_BUFF and name == "kmem_cache_alloc":
                life = self.life_of(p.group(1), start=True)
                life.lines.append((i, name))
                life.window_open = True
                stack = self.alloc_pending.setdefault(cpu, [])
                stack.append(life)
                del stack[:-PENDING_MAX]
            elif cache == SK_BUFF:
                # The free ends the life, also the one its kfree_skb ended for
                # every other event.
                life = self.lives.get(p.group(1)) or self.life_of(p.group(1))
                waiting = self.head_frees.get(cpu)
                # Its head's free came after the life's last event (its kfree_skb).
                if waiting and (not life.lines or waiting[-1] > life.lines[-1][0]):
                    life.lines.append((waiting.pop(), name))
                life.lines.append((i, name))
                self.end(life)
                del self.lives[p.group(1)]
            elif cache != HEAD:
                self.drop(i, name)  # fclone, ext: never a capture's frame
            elif name == "kmem_cache_alloc":
                stack = self.alloc_pending.get(cpu, [])
                while stack and not stack[-1].window_open:
                    stack.pop()
                if stack:
                    life = stack.pop()
                    life.lines.append((i, name))
                    life.window_open = False
                else:
                    self.drop(i, name)
            else:
                waiting = self.head_frees.setdefault(cpu, [])
                waiting.append(i)
                if len(waiting) > PENDING_MAX:
                    self.drop(waiting.pop(0), name)

    def finish(self):
        for life in list(self.lives.values()):
            self.end(life)
        self.lives = {}
        for waiting in self.head_frees.values():
            for i in waiting:
                self.drop(i, "kmem_cache_free")
        self.head_frees = {}


def lines_of(path):
    """The lines of a text trace, bounded."""
    try:
        with open(path, errors="replace") as f:
            for n, line in enumerate(iter(lambda: f.readline(MAX_LINE + 1), ""), 1):
                if len(line) > MAX_LINE:
                    raise BadInput("%s: line %d: expected a line of at most %d characters, found a longer one "
                                   "(not a text trace?)" % (path, n, MAX_LINE))
                yield line
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror or e))


def filter_trace(src, dst, dev, writers):
    """Writes src's kept lines to dst (two passes over src: the lives are
    decided at their ends); returns {event name: lines dropped}."""
    f = Filter(dev, writers)
    for line in lines_of(src):
        f.feed(line)
    f.finish()
    try:
        with open(dst, "w") as out:
            for i, line in enumerate(lines_of(src)):
                if i < len(f.keep) and f.keep[i]:
                    out.write(line)
    except OSError as e:
        raise BadInput("%s: %s" % (dst, e.strerror or e))
    return dict(sorted(f.dropped.items()))


def main(argv):
    dev, writers, files = None, set(), []
    it = iter(argv)
    for a in it:
        if a in ("--dev", "--writers"):
            v = next(it, None)
            if v is None:
                raise BadInput("%s: expected a value" % a)
            if a == "--dev":
                dev = v
            else:
                if not re.fullmatch(r"\d+(,\d+)*", v):
                    raise BadInput("--writers: expected a comma separated list of tids, found '%s'" % v)
                writers = {int(t) for t in v.split(",")}
        elif a.startswith("-") and a != "-":
            raise BadInput("unknown option '%s' (usage: own_events.py --dev TAP [--writers TID,...] TRACE OUT)" % a)
        else:
            files.append(a)
    if not dev:
        raise BadInput("--dev: expected the capture's tap, found none")
    if len(files) != 2:
        raise BadInput("expected TRACE and OUT, found %d file names" % len(files))
    print(json.dumps(filter_trace(files[0], files[1], dev, writers)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BadInput as e:
        sys.stderr.write("own_events.py: %s\n" % e)
        sys.exit(2)
