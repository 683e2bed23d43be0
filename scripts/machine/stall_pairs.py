#!/usr/bin/python3
"""stall_pairs.py GAPS --period-us P [--slots K] [-o OUT.json]

cpus.stall.partner from a record of the gaps of two vCPUs measured at once:
GAPS holds one line per gap, "CPU START_NS LENGTH_NS SWITCHED" (CPU 0 or 1,
START_NS from a start both share, SWITCHED 1 when another task of this
kernel ran: scripts/machine/pairgaps.c, the loop of stall.c on two CPUs at
once; a .gz is read as such).

Each whole window of one period (P us, cpus.stall.period_us) gets the
time each CPU lost in it, as stall.c counts it (a gap split between the
windows it spans); a window where either CPU was switched out is left out,
as stall.c leaves it out.  Each CPU's loss is ranked among that CPU's
windows, (position + 0.5) / n.  The windows are ordered by CPU 1's rank
(the pair's "leader", which draws its loss from cpus.stall.ns as a CPU
alone does), and slot k of K takes CPU 0's rank in the window at position
floor((k + 0.5) n / K): when the leader loses its table's quantile
(k + 0.5) / K, its partner loses quantile partner[k] in the same window.
K is n by default (--slots 0: every window, the record's dependence as it
is); fewer slots keep one window in n / K, a sample of the tail.
Prints (or writes) JSON: {"partner": [K ranks], "windows": n, ...}.
Exit 2 on bad input, naming the file and line."""
import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outfile import write_output  # noqa: E402


def read_gaps(path):
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for no, line in enumerate(f, 1):
            parts = line.split()
            try:
                cpu, start, length, switched = int(parts[0]), float(parts[1]), float(parts[2]), int(parts[3])
                if len(parts) != 4 or cpu not in (0, 1) or switched not in (0, 1) or start < 0 or length <= 0:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{path}:{no}: expected 'CPU START_NS LENGTH_NS SWITCHED' "
                                 f"(CPU 0 or 1, SWITCHED 0 or 1), found {line.strip()[:60]!r}") from None
            out.append((cpu, start, length, switched))
    return out


def ranks(values):
    """(position + 0.5) / n of each value among all, ties in window order."""
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    r = [0.0] * len(values)
    for pos, i in enumerate(order):
        r[i] = (pos + 0.5) / len(values)
    return r


def partner(gaps, period_ns, slots):
    """(the K ranks, windows kept, windows left out).  As stall.c counts a
    window: the part of every gap inside it (a gap longer than what is left
    of its window goes on into the next), over the whole windows up to the
    end of the last gap; a window touching a gap in which another task ran
    is left out on both CPUs."""
    end = max((start + length for _, start, length, _ in gaps), default=0)
    nwin = int(end // period_ns)
    lost = [[0.0, 0.0] for _ in range(nwin)]
    switched = set()
    for cpu, start, length, sw in gaps:
        w = int(start // period_ns)
        while w < nwin and w * period_ns < start + length:
            part = min(start + length, (w + 1) * period_ns) - max(start, w * period_ns)
            if sw:
                switched.add(w)
            else:
                lost[w][cpu] += part
            w += 1
    windows = [w for w in range(nwin) if w not in switched]
    n = len(windows)
    slots = slots or n
    if n == 0 or n < slots:
        raise ValueError(f"{n} windows without a switch, fewer than the {slots} slots asked for")
    r0 = ranks([lost[w][0] for w in windows])
    r1 = ranks([lost[w][1] for w in windows])
    by_leader = sorted(range(n), key=lambda i: (r1[i], i))
    digits = max(4, len(str(n)))  # a rank a window stays distinct and above 0
    return [round(r0[by_leader[int((k + 0.5) * n / slots)]], digits) for k in range(slots)], n, len(switched)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("gaps")
    ap.add_argument("--period-us", type=float, required=True)
    ap.add_argument("--slots", type=int, default=0)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    if not (10 <= a.period_us <= 1e6) or not (0 <= a.slots <= 100000):
        raise SystemExit("stall_pairs.py: expected --period-us in [10, 1e6] and --slots in [0, 100000] "
                         "(0: one a window)")
    try:
        gaps = read_gaps(a.gaps)  # its errors name the file and line
    except OSError as e:
        raise SystemExit(f"stall_pairs.py: {a.gaps}: {e.strerror or e}")
    except ValueError as e:
        raise SystemExit(f"stall_pairs.py: {e}")
    try:
        table, n, dropped = partner(gaps, a.period_us * 1e3, a.slots)
    except ValueError as e:
        raise SystemExit(f"stall_pairs.py: {a.gaps}: {e}")
    doc = {"partner": table, "windows": n, "windows_switched": dropped, "period_us": a.period_us,
           "from": a.gaps, "rule": "slot k: CPU 0's rank in the window at position floor((k + 0.5) n / K) "
                                   "of the windows ordered by CPU 1's rank"}
    text = json.dumps(doc, indent=1) + "\n"
    if a.output == "-":
        sys.stdout.write(text)
    else:
        try:
            write_output(a.output, text)
        except OSError as e:
            raise SystemExit(f"stall_pairs.py: {a.output}: cannot write: {e.strerror or e}")


if __name__ == "__main__":
    try:
        main()
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
