#!/usr/bin/python3
"""stall_table.py: cpus.stall from scripts/machine/stall.c records, one rule
for capture-trace (its sidecar's stall_period_us, stall_ns) and
calibrate-machine (summary.stall): the median of the records' periods, and
per quantile the median of their per_period_ns, each kept below the period
(a wholly lost window 1 ns short: tunsim refuses a CPU that never runs)."""
import statistics


def table(records, digits):
    """(period in us rounded to `digits` decimals, [16 ns values]) of trusted records."""
    period = round(statistics.median(r["period_ns"] for r in records) / 1e3, digits)
    ns = [min(round(statistics.median(r["per_period_ns"][q] for r in records)), round(period * 1e3) - 1)
          for q in range(16)]
    return period, ns
