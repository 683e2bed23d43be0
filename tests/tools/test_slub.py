"""scripts/machine/slub.py: SLUB's slow-path costs from capture-trace
--drain-every captures (calibrate-machine part "slub"; docs/calibration.md,
"SLUB's slow paths").

    /usr/bin/python3 tests/tools/test_slub.py -v
"""
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "machine"))
import slub  # noqa: E402

BURSTS = os.path.join(ROOT, "results", "reference", "slab-bursts-2026-12-05")
# Linux 6.18.44 on the development machine (/sys/kernel/slab, 2026-12-05):
# skbuff_head_cache 16 objects a one-page slab, skbuff_small_head 14 a
# two-page slab, cpu_partial 52 objects each.
CACHES_618 = {"head": {"name": "skbuff_head_cache", "objs_per_slab": 16, "pages": 1, "cpu_partial_slabs": 7},
              "small": {"name": "skbuff_small_head", "objs_per_slab": 14, "pages": 2, "cpu_partial_slabs": 8}}


def table(new=(357, 452), put=(58, 66), drain=(340, 521), noise=10):
    """A residue table as trace-segments --bursts --json gives it: the head
    cache's new slab and put at residue 13 of 16, its drain at 61 of 112;
    the small head's at 0 of 14 and 0 of 112; every other residue `noise`
    or 0."""
    w16, r16, w14, r14, r112 = [0.0] * 16, [0.0] * 16, [0.0] * 14, [0.0] * 14, [0.0] * 112
    w16[14] = w14[1] = r16[14] = r14[1] = noise
    w16[13], w14[0], r16[13], r14[0] = new[0], new[1], put[0], put[1]
    r112[13], r112[29], r112[0], r112[28] = put[0], put[0], put[1], put[1]
    r112[61], r112[0] = drain
    return {"write 16": {"excess_ns": w16}, "read 16": {"excess_ns": r16}, "write 14": {"excess_ns": w14},
            "read 14": {"excess_ns": r14}, "read 112": {"excess_ns": r112}}


class Caches(unittest.TestCase):
    def test_sysfs(self):
        # cpu_partial_slabs = ceil(2 x cpu_partial / objs_per_slab)
        # (slub_set_cpu_partial, 6.18): ceil(104 / 16) = 7, ceil(104 / 14) = 8;
        # pages = 1 << order.
        with tempfile.TemporaryDirectory() as d:
            for name, vals in (("skbuff_head_cache", (16, 0, 52, 5, 224)), ("skbuff_small_head", (14, 1, 52, 5, 576))):
                os.mkdir(os.path.join(d, name))
                for f, v in zip(("objs_per_slab", "order", "cpu_partial", "min_partial", "object_size"), vals):
                    with open(os.path.join(d, name, f), "w") as fh:
                        fh.write("%d\n" % v)
            cs = slub.caches(d)
            self.assertEqual((cs["head"]["pages"], cs["head"]["cpu_partial_slabs"]), (1, 7))
            self.assertEqual((cs["small"]["pages"], cs["small"]["cpu_partial_slabs"]), (2, 8))
            # Periods: 16, 7 x 16, 14, 8 x 14 (= 112 again); the burst the
            # multiple of their lcm (112) nearest 2240: 2240 itself.
            self.assertEqual(slub.periods(cs), [16, 112, 14])
            self.assertEqual(slub.burst_length(cs), 2240)
            # A kernel without skbuff_small_head (before 6.7): refused, naming the file.
            os.remove(os.path.join(d, "skbuff_small_head", "order"))
            with self.assertRaisesRegex(slub.Refused, "skbuff_small_head/order: expected a number"):
                slub.caches(d)


class Derive(unittest.TestCase):
    def test_committed_captures(self):
        # The three committed captures of 2026-12-05 23:44 give the values
        # docs/calibration.md's table derives by hand (the declared
        # defaults, rounded there to the ns): new slab 357 (median of 351,
        # 357, 389), a page 452 - 357 = 95, put 59.5 (median of the six
        # puts), a discard (340 - 58) / 7 = 40.3, a page (521 - 66) / 8 - 40.3
        # = 16.6.  The exact p50 excesses have fractions (356.75 for 357).
        traces = [os.path.join(BURSTS, "burst%d.trace.gz" % i) for i in (1, 2, 3)]
        tables = slub.residues(traces, 0, CACHES_618)
        d = slub.derive([(t, tables[t]) for t in traces], CACHES_618)
        self.assertEqual(d["refused"], [])
        v = d["values"]
        self.assertAlmostEqual(v["slab_new_ns"], 356.8, delta=0.05)
        self.assertAlmostEqual(v["slab_new_page_ns"], 452 - 356.8, delta=0.1)
        self.assertEqual(v["slab_put_partial_ns"], 59.5)
        self.assertAlmostEqual(v["slab_discard_ns"], (340 - 57.75) / 7, delta=0.05)
        self.assertAlmostEqual(v["slab_discard_page_ns"], (521 - 65.5) / 8 - (340 - 57.75) / 7, delta=0.1)
        for c in d["captures"]:
            self.assertEqual((c["head"]["new_residue"], c["head"]["drain_residue"]), (13, 61))
            self.assertEqual((c["small"]["new_residue"], c["small"]["drain_residue"]), (0, 0))

    def test_rules_by_hand(self):
        # Two synthetic captures: medians of two values are their means.
        # new: head (357 + 337) / 2 = 347, small 452: page 105, slab 347.
        # puts 58, 66, 58, 66: median 62.  Per slab drained: head
        # (340 - 58) / 7 = 40.29, small (521 - 66) / 8 = 56.875: page 16.59.
        d = slub.derive([("a", table()), ("b", table(new=(337, 452)))], CACHES_618)
        self.assertEqual(d["refused"], [])
        self.assertEqual(d["values"], {"slab_new_ns": 347.0, "slab_new_page_ns": 105.0, "slab_put_partial_ns": 62.0,
                                       "slab_discard_ns": 40.3, "slab_discard_page_ns": 16.6})

    def test_refusals(self):
        # A new slab that does not stand out (150 ns against 90 of noise:
        # under 2 x) refuses its capture; one capture left is too few.
        d = slub.derive([("a", table()), ("b", table(new=(150, 452), noise=90))], CACHES_618)
        self.assertNotIn("values", d)
        self.assertEqual(d["refused"][0]["what"], "b")
        self.assertIn("skbuff_head_cache: the new slab does not stand out", d["refused"][0]["why"])
        self.assertIn("1 capture(s) with clear slow paths", d["refused"][1]["why"])
        # Captures whose new slabs disagree by more than 1.25x (500 against
        # 357 ns: 1.40x): the host's speed changed, nothing derived.
        d = slub.derive([("a", table()), ("b", table(new=(500, 452)))], CACHES_618)
        self.assertNotIn("values", d)
        self.assertIn("skbuff_head_cache's new slab differs between the captures, 357 to 500 ns", d["refused"][0]["why"])
        # A put that is not among its period's 3 largest reads.
        t = table()
        t["read 16"]["excess_ns"][1:4] = [80, 80, 80]
        d = slub.derive([("a", t), ("b", table())], CACHES_618)
        self.assertIn("is not among the 3 largest reads", d["refused"][0]["why"])
        # Both caches one page a slab: no per-page parts, the others kept.
        same = {k: dict(c, pages=1) for k, c in CACHES_618.items()}
        d = slub.derive([("a", table()), ("b", table())], same)
        self.assertNotIn("slab_new_page_ns", d["values"])
        self.assertEqual(d["values"]["slab_new_ns"], (357 + 452) / 2)
        self.assertIn("no per-page part", d["refused"][0]["why"])


    def test_a_capture_that_is_no_trace_is_bad_input(self):
        # A capture trace-segments refuses as bad input (exit 2) was a
        # Refused measurement: `slub.py derive` exited 4, and said
        # "trace-segments: trace-segments: ...".  It is BadInput (a Refused,
        # so calibrate-machine records it as before), and slub.py exits 2.
        import subprocess
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "empty.trace")
            open(bad, "w").close()
            with self.assertRaises(slub.BadInput) as cm:
                slub.residues([bad], 0, CACHES_618)
            self.assertIsInstance(cm.exception, slub.Refused)
            want = ("trace-segments: %s: expected tracepoint event lines (CPU in brackets, then "
                    "SECONDS.NANOSECONDS:), found none" % bad)
            self.assertEqual(str(cm.exception), want)
            try:
                slub.caches()
            except (OSError, slub.Refused) as e:
                self.skipTest("this kernel's skb caches, which slub.py derive reads first: %s" % e)
            r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "machine", "slub.py"), "derive", bad],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr, "slub.py: %s\n" % want)


if __name__ == "__main__":
    unittest.main()
