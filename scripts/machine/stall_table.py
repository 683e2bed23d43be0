#!/usr/bin/python3
"""stall_table.py: cpus.stall from scripts/machine/stall.c records, one rule
for capture-trace (its sidecar's stall_period_us, stall_ns) and
calibrate-machine (summary.stall): the median of the records' periods, and
per quantile the median of their per_period_ns, each kept below the period
(a wholly lost window 1 ns short: tunsim refuses a CPU that never runs)."""
import statistics


def table(records, digits):
    """(period in us rounded to `digits` decimals, [ns values, as many as the
    records' quantiles]) of trusted records, which all have the same number."""
    period = round(statistics.median(r["period_ns"] for r in records) / 1e3, digits)
    n = len(records[0]["per_period_ns"])
    if any(len(r["per_period_ns"]) != n for r in records):
        raise ValueError("stall records with different numbers of quantiles: %s" %
                         sorted({len(r["per_period_ns"]) for r in records}))
    ns = [min(round(statistics.median(r["per_period_ns"][q] for r in records)), round(period * 1e3) - 1)
          for q in range(n)]
    return period, ns
