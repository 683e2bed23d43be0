#!/usr/bin/python3
"""trust.py: whether the host ran a capture as the calibration assumes.

Issue 12's goals hold "on every capture where the host ran the CPUs at the
calibrated speed".  These are the checks that decide it, used by the
end-to-end test (tests/e2e/e2e-test.sh, which skips a workload no capture
of which passes) and by scripts/validation-table (its "host" column):

  trust.py capture SIDECAR.json [SCENARIO.json]
      prints nothing when the capture passes, else its reasons on one line
      ("; " between them):
        - trace events lost;
        - a workload CPU preempted more than PREEMPT_MAX of the capture
          (the sidecar's preempted_ns: other tasks held the CPU while a
          workload task was ready to run there);
        - no trusted line transfer (scripts/linexfer.c refused);
        - threaded NAPI with the kthread on a CPU no writer uses and no
          wake-up measured with the capture (scripts/machine/wakeup.c);
        - with SCENARIO (what `tunsim trace config` made of the capture): a
          writer CPU whose speed (the calibration's writer user time over
          the capture's) is outside [SPEED_MIN, SPEED_MAX].  On 2026-12-04
          a vCPU at 0.75-0.82 ran every part of the write slower, also while
          the other writer had finished and it wrote alone (its user time
          between writes 1558-1698 ns against 1333-1352 in a capture of the
          same minutes at 0.96), so it is the host's, not the workload's.
        - with SCENARIO naming its calibration (trace config --calibration):
          a capture whose CPU (the sidecar's cpu_signature: vendor, family,
          model) is not the one the calibration's captures or its cache
          model were measured on.  "AMD EPYC" named a Zen 5 until 2026-12-04
          and a Zen 1 from 2026-12-05 on the same VM; a calibration of one
          describes nothing of the other (docs/calibration.md, "Which CPU a
          calibration describes").
  trust.py cpu SIDECAR.json [CALIBRATION.json]
      prints nothing when the calibration (without one: the shipped
      defaults' cache model, DEFAULTS_MACHINE) describes the CPU the capture
      ran on (the check above alone), else why not.
  trust.py spread CALIBRATION.json
      prints nothing when the calibration's write() spread
      (costs.spread.process) has a mean within [SPREAD_MEAN_MIN,
      SPREAD_MEAN_MAX] x its median, else why not: such a host ran the
      writer at two speeds in stretches of time, which independent draws
      per write do not make.  Above: a slow mode (2026-12-03, half the
      writes at 1.10-1.74 x the median); below: a fast one (CI of
      2026-12-06, 3 of 16 quantiles at 0.55-0.57 x the median, mean 0.949;
      a plain write is one path, and this host's quiet captures have no
      quantile below 0.96).

Exit status 0 (whatever the verdict), 2 with a one-line message when a file
cannot be read or lacks what is needed.
"""
import json
import os
import sys

# The machine measurement the shipped cache model comes from
# (models/cache/params.cpp, sim/tools/calibrate/cpu_id.cpp).
DEFAULTS_MACHINE = "results/reference/machine/epyc-2vcpu.json"
PREEMPT_MAX = 0.02
SPEED_MIN, SPEED_MAX = 0.93, 1.07
SPREAD_MEAN_MIN, SPREAD_MEAN_MAX = 0.98, 1.02


class InputError(Exception):
    pass


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))


def capture_reasons(side, scen=None):
    """The reasons a capture (its sidecar dict, and the scenario dict trace
    config made of it, if any) is not one the host ran as calibrated."""
    why = []
    lost = side.get("lost_events", 0) if isinstance(side, dict) else 0
    if isinstance(lost, bool) or not isinstance(lost, int) or lost < 0:
        # "%d" of a string named neither the key nor the value.
        raise InputError("lost_events: expected a count of trace events >= 0, found %s" % json.dumps(lost)[:60])
    try:
        if lost:
            why.append("%d trace events lost" % lost)
        writers = {t["cpu"] for t in side["threads"]}
        threaded = bool(side.get("threaded"))
        cpus = sorted(writers | ({side["napi_thread"]["cpu"]} if threaded else set()))
        pre = side.get("preempted_ns")
        if not isinstance(pre, dict):
            why.append("no preemption record in the sidecar (capture-trace too old)")
        else:
            for c in cpus:
                f = pre.get(str(c), 0) / side["elapsed_ns"]
                if f > PREEMPT_MAX:
                    why.append("CPU %d preempted %.1f %% of the capture (at most %.0f %%)" % (c, 100 * f, 100 * PREEMPT_MAX))
        if not side.get("line_transfer_ns"):
            why.append("line transfer refused (%s)" % side.get("line_transfer_refused", "no line_transfer_ns"))
        # A workload that wakes a CPU no writer uses (the kthread elsewhere) is
        # simulated with the wake-up measured with it; without one it would
        # take a calibration's, from another hour of the host.
        if threaded and side["napi_thread"]["cpu"] not in writers and "wakeup_waker_ns" not in side:
            why.append("wake-up of the other CPU not measured (%s)" % side.get("wakeup_refused", "no wakeup_waker_ns"))
        if scen is not None:
            sp = scen["cpus"].get("speed", [])
            for c in sorted({x["cpu"] for x in scen["senders"]}):
                if c < len(sp) and not SPEED_MIN <= sp[c] <= SPEED_MAX:
                    why.append("writer CPU %d ran at speed %.3f (the fit saw 1)" % (c, sp[c]))
    except (KeyError, TypeError, AttributeError, ZeroDivisionError) as e:
        raise InputError("expected a capture-trace sidecar (and a tunsim scenario): missing or bad %s" % e)
    if scen is not None and isinstance(scen.get("calibration"), str) and os.path.isfile(scen["calibration"]):
        why += cpu_reasons(side, _load(scen["calibration"]))
    return why


def machine_signature(m):
    """The CPU signature of a tunsim-machine/1 dict: host.cpu_signature, else
    its cpuid record's (sim/tools/calibrate/cpu_id.cpp), else None."""
    sig = (m.get("host") or {}).get("cpu_signature")
    if isinstance(sig, str):
        return sig
    raw = (m.get("cache_geometry") or {}).get("raw") or {}
    v, f, mo = raw.get("vendor"), raw.get("family"), raw.get("model")
    if isinstance(v, str) and isinstance(f, int) and isinstance(mo, int):
        return "%s family %d model %d" % (v, f, mo)
    return None


def defaults_calibration():
    """What a calibration without --machine says of its cache model."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    m = _load(os.path.join(repo, DEFAULTS_MACHINE))
    return {"provenance": {"cache_model": {"machine": DEFAULTS_MACHINE + ", the shipped defaults",
                                           "cpu_signature": machine_signature(m)}}}


def cpu_reasons(side, cal):
    """Why a calibration (dict) does not describe the CPU a capture (its
    sidecar dict) ran on: [] when it does or either side does not say."""
    if not isinstance(side, dict):
        # (side.get was an AttributeError traceback.)
        raise InputError("expected a capture-trace sidecar (a JSON object), found %s" % json.dumps(side)[:60])
    cpu = side.get("cpu_signature")
    prov = cal.get("provenance") if isinstance(cal, dict) else None
    if not isinstance(cpu, str) or not isinstance(prov, dict):
        return []
    why = []
    fitted = prov.get("cpu_signature")
    if isinstance(fitted, str) and fitted != cpu:
        why.append("the capture ran on %s, the calibration's captures on %s" % (cpu, fitted))
    cache = prov.get("cache_model")
    if isinstance(cache, dict) and isinstance(cache.get("cpu_signature"), str) and cache["cpu_signature"] != cpu:
        why.append("the capture ran on %s, the calibration's cache model was measured on %s (%s): measure this "
                   "machine with scripts/calibrate-machine" % (cpu, cache["cpu_signature"], cache.get("machine")))
    if isinstance(cache, dict) and isinstance(cache.get("misfit"), dict):
        why.append("the calibration's cache model misses the kernel cold-path curves of %s (%s; kept with "
                   "--accept-cache-misfit): it describes no CPU" % (cache.get("machine"), cache["misfit"].get("first")))
    return why


def spread_reason(cal):
    """Why a calibration's write() spread cannot be trusted, or ""."""
    try:
        t = cal["parameters"]["costs.spread.process"]["value"]
        m = sum(t) / len(t)
    except (KeyError, TypeError, AttributeError, ZeroDivisionError) as e:
        raise InputError("expected a tunsim calibration with parameters.costs.spread.process: missing or bad %s" % e)
    if SPREAD_MEAN_MIN <= m <= SPREAD_MEAN_MAX:
        return ""
    if m > SPREAD_MEAN_MAX:
        bound, side, n = "at most %s" % SPREAD_MEAN_MAX, "above 1.05", sum(1 for x in t if x > 1.05)
    else:
        bound, side, n = "at least %s" % SPREAD_MEAN_MIN, "below 0.95", sum(1 for x in t if x < 0.95)
    return ("the single-writer writes spread to a mean of %.3f x their median (%s; "
            "%d of %d quantiles %s): the host ran the writer at two speeds" % (m, bound, n, len(t), side))


def main(argv):
    try:
        if len(argv) in (2, 3) and argv[0] == "capture":
            side = _load(argv[1])
            scen = _load(argv[2]) if len(argv) == 3 else None
            check = lambda: "; ".join(capture_reasons(side, scen))  # noqa: E731
        elif len(argv) in (2, 3) and argv[0] == "cpu":
            side = _load(argv[1])
            cal = _load(argv[2]) if len(argv) == 3 else defaults_calibration()
            check = lambda: "; ".join(cpu_reasons(side, cal))  # noqa: E731
        elif len(argv) == 2 and argv[0] == "spread":
            cal = _load(argv[1])
            check = lambda: spread_reason(cal)  # noqa: E731
        else:
            raise InputError("usage: trust.py capture SIDECAR.json [SCENARIO.json] | trust.py cpu SIDECAR.json [CALIBRATION.json] | "
                             "trust.py spread CALIBRATION.json")
        # _load names the file it could not read; what a document lacks is
        # named after the first file.
        try:
            print(check())
        except InputError as e:
            raise InputError("%s: %s" % (argv[1], e))
    except InputError as e:
        print("trust.py: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    import stdout
    stdout.run("trust.py", main, sys.argv[1:])
