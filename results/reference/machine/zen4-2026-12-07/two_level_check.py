#!/usr/bin/python3
"""Could any two branch-target levels follow this CPU's kcold curves?

    two_level_check.py MACHINE.json [MACHINE.json ...]

A check, not a model: the kernel's branch-site curves of a machine file
(summary.branch_sites.kernel_cold, 1 and 2 taken branches a line: the points
`tunsim calibrate --machine` fits) against the freest form two set-associative
levels and the L1i can take,

    cold - warm = a m(S / (E1 / w1); w1) + b m(S / (E2 / w2); w2) + c m(L / 64; 8)

S the polluter's sites, L its lines, m(x; w) = P[Poisson(x) >= w] (the cache
model's miss curve, models/cache/cache.hpp), a, b, c >= 0 by least squares
(each point weighed by 1 / its tolerance, 10 ns + half its runs' range, the
fit's own rule) for every w1 in 1, 2, 4, E1 in 1024-16384, w2 in 4-32, E2 in
4096-12288 (step 512).  Freer than the model (its amplitudes are free, not
the kernel's sites times a measured miss cost), so a file it misses points of
the model cannot fit either.  Several files: also their point-wise median
(the range over every file's runs as the tolerance).  Standard library only.
"""
import json
import math
import statistics
import sys


def miss(x, ways):
    """P[Poisson(x) >= ways]."""
    if x <= 0:
        return 0.0
    term, cdf = math.exp(-x), 0.0
    for k in range(ways):
        cdf += term
        term *= x / (k + 1)
    return max(0.0, min(1.0, 1.0 - cdf))


def solve3(a, y):
    """Least squares of a (rows of 3) against y: the coefficients, or None."""
    n = [[sum(r[i] * r[j] for r in a) for j in range(3)] for i in range(3)]
    v = [sum(r[i] * t for r, t in zip(a, y)) for i in range(3)]
    for c in range(3):  # Gauss-Jordan with partial pivoting
        p = max(range(c, 3), key=lambda r: abs(n[r][c]))
        if abs(n[p][c]) < 1e-12:
            return None
        n[c], n[p], v[c], v[p] = n[p], n[c], v[p], v[c]
        for r in range(3):
            if r != c:
                f = n[r][c] / n[c][c]
                n[r] = [x - f * z for x, z in zip(n[r], n[c])]
                v[r] -= f * v[c]
    return [v[i] / n[i][i] for i in range(3)]


def points(doc):
    out = []
    for p in doc["summary"]["branch_sites"]["kernel_cold"]:
        if p["sites_per_line"] <= 2:
            lines = p["code_bytes"] / 64
            out.append((lines * p["sites_per_line"], lines, p["sites_per_line"], p["minus_warm_ns"],
                        p["min_ns"], p["max_ns"]))
    return out


def check(name, pts):
    tol = [10 + (hi - lo) / 2 for (_, _, _, _, lo, hi) in pts]
    y = [p[3] / t for p, t in zip(pts, tol)]
    l1i = [miss(p[1] / 64, 8) for p in pts]
    best = None
    for w1 in (1, 2, 4):
        for e1 in (1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384):
            a1 = [miss(p[0] / (e1 / w1), w1) for p in pts]
            for w2 in (4, 8, 16, 32):
                for e2 in range(4096, 12289, 512):
                    a2 = [miss(p[0] / (e2 / w2), w2) for p in pts]
                    rows = [[u / t, v / t, z / t] for u, v, z, t in zip(a1, a2, l1i, tol)]
                    c = solve3(rows, y)
                    if c is None or min(c) < 0:
                        continue
                    pred = [c[0] * u + c[1] * v + c[2] * z for u, v, z in zip(a1, a2, l1i)]
                    e = sum(((q - p[3]) / t) ** 2 for q, p, t in zip(pred, pts, tol))
                    if best is None or e < best[0]:
                        best = (e, w1, e1, w2, e2, c, pred)
    e, w1, e1, w2, e2, c, pred = best
    missed = [(p, q, t) for p, q, t in zip(pts, pred, tol) if abs(q - p[3]) > t]
    print("%s: best levels %d entries %d-way and %d entries %d-way (a %.0f, b %.0f, c %.0f ns): misses %d of %d points"
          % (name, e1, w1, e2, w2, c[0], c[1], c[2], len(missed), len(pts)))
    for p, q, t in missed:
        print("  %6d bytes, %d a line (%d sites): kernel %.0f ns, form %.0f, tolerance %.0f"
              % (p[1] * 64, p[2], p[0], p[3], q, t))


def main():
    docs = [(f, json.load(open(f))) for f in sys.argv[1:]]
    if not docs:
        sys.exit("usage: two_level_check.py MACHINE.json [MACHINE.json ...]")
    for f, d in docs:
        check(f, points(d))
    if len(docs) > 1:
        each = [points(d) for _, d in docs]
        merged = []
        for i, p in enumerate(each[0]):
            vals = [e[i] for e in each]
            merged.append(p[:3] + (statistics.median(v[3] for v in vals), min(min(v[4], v[3]) for v in vals),
                                   max(max(v[5], v[3]) for v in vals)))
        check("the median of the %d files" % len(docs), merged)


if __name__ == "__main__":
    main()
