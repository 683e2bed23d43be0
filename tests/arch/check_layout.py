#!/usr/bin/python3
"""The house rules of the source tree, checked (tests/CMakeLists.txt runs this).

1. Direction: cli -> {tools} -> {engine, config, output} -> io -> models.
   models/ includes nothing of the project outside models/; sim/io includes
   only the models' error type; engine, config and output include each other
   not at all; tools may include config (it reads and writes scenarios and
   calibrations); cli includes anything.
2. Outside models/, only the models' entry points are included: the machine
   (kernel/boot.hpp), its state and parameters, the design registry, the
   trace events and metrics, the distributions.  No file outside models/
   calls a mechanism (softirq, napi, backlog, sched, irq, stack, ...)
   directly.
3. No source file over 450 lines.

    check_layout.py [ROOT]      exit 0 when the tree follows the rules, 1 with one line per breach
    check_layout.py --self-test the checker finds a planted breach of each rule
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAX_LINES = 450

# Layer of a file by its path; the layers each may include.
ALLOWED = {
    "models": {"models"},
    "sim/io": {"sim/io", "models/stats/error.hpp"},
    "sim/engine": {"sim/engine", "sim/io", "models"},
    "sim/config": {"sim/config", "sim/io", "models"},
    "sim/output": {"sim/output", "sim/io", "models"},
    "sim/tools": {"sim/tools", "sim/config", "sim/io", "models"},
    "sim/cli": {"sim", "models"},
}
# The models' entry points: what code outside models/ may include of them.
ENTRY_POINTS = {
    "models/kernel/boot.hpp", "models/kernel/kernel.hpp", "models/kernel/params.hpp",
    "models/kernel/param.hpp", "models/kernel/version.hpp", "models/kernel/recorder.hpp",
    "models/tun/design.hpp", "models/trace/event.hpp", "models/trace/metrics.hpp",
    "models/stats/dist.hpp", "models/stats/error.hpp",
    "models/writer/cold.hpp",  # the kcold replay the cache calibration fits with
}


def layer_of(rel):
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if rel == layer or rel.startswith(layer + "/"):
            return layer
    return None


def allowed(target, rules):
    return any(target == r or target.startswith(r + "/") for r in rules)


def check(root):
    breaches = []
    for top in ("models", "sim", "scripts", "bench"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".cpp", ".hpp", ".py", ".c")):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                n = text.count("\n")
                if n > MAX_LINES:
                    breaches.append("%s: %d lines, more than %d: split it by job" % (rel, n, MAX_LINES))
                layer = layer_of(rel)
                if layer is None:
                    continue
                for inc in INCLUDE.findall(text):
                    if not (inc.startswith("models/") or inc.startswith("sim/")):
                        continue
                    if not allowed(inc, ALLOWED[layer]):
                        breaches.append("%s: includes %s: %s may include only %s"
                                        % (rel, inc, layer, ", ".join(sorted(ALLOWED[layer]))))
                    elif layer != "models" and inc.startswith("models/") and inc not in ENTRY_POINTS:
                        breaches.append("%s: includes %s: outside models/ only the models' entry points may be "
                                        "included (tests/arch/check_layout.py, ENTRY_POINTS)" % (rel, inc))
    return breaches


def self_test():
    plants = [
        ("models/tun/x.cpp", '#include "sim/io/files.hpp"\n', "models may include only models"),
        ("sim/engine/x.cpp", '#include "sim/config/loader.hpp"\n', "sim/engine may include only"),
        ("sim/output/x.cpp", '#include "models/softirq/softirq.hpp"\n', "only the models' entry points"),
        ("sim/io/x.cpp", "\n" * (MAX_LINES + 1), "more than %d" % MAX_LINES),
    ]
    for rel, text, expect in plants:
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, os.path.dirname(rel)))
            with open(os.path.join(root, rel), "w") as fh:
                fh.write(text)
            found = check(root)
            if len(found) != 1 or expect not in found[0]:
                print("self-test: planting %s gave %r, expected one breach with %r" % (rel, found, expect))
                return 1
    print("self-test: each planted breach found")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    breaches = check(root)
    for b in breaches:
        print(b)
    print("layout: %d breach(es)" % len(breaches))
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
