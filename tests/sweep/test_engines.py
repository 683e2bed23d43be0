"""The engines and the run command (scripts/tunsim_sweep/engine_*.py, cli.py) against the fake
tunsim (fake_tunsim.py, the interface of `tunsim batch`): what each engine asks tunsim to do,
what it writes, and that every engine gives the same summaries and points.csv."""

import csv
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import unittest

from support import REPO, TINY, TempCase
from tunsim_sweep.capacity import check_load_rates
from tunsim_sweep.errors import SweepError


def seven(**over):
    """7 points: an axis of 7 values."""
    return dict(TINY, name="seven", axes=[{"path": "tun.rx_frames", "values": list(range(7))}], **over)


# What scripts/tunsim_sweep/tunsim.py's BATCH_ENV asks of glibc's malloc (written out here, so
# that a change of it is a change of this test too).
OUR_TUNABLES = "glibc.malloc.hugetlb=1:glibc.malloc.top_pad=4194304"


class Base(TempCase):
    def setUp(self):
        super().setUp()
        self.log = os.path.join(self.tmp, "tunsim.log")

    def env(self, **kw):
        return super().env(FAKE_TUNSIM_LOG=self.log, **kw)

    def calls(self):
        """The fake's log: [(argv, points read)]."""
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [(e["argv"], e.get("points")) for e in map(json.loads, f)]

    def batches(self):
        return [(a, p) for a, p in self.calls() if a[:1] == ["batch"]]

    def point_batches(self):
        """The fake's log entries of the batches that ran points (not --validate-only)."""
        with open(self.log) as f:
            return [e for e in map(json.loads, f)
                    if e["argv"][:1] == ["batch"] and e["argv"][1:2] != ["--validate-only"]]

    def bind_now(self):
        """LD_BIND_NOW of each batch that ran points (scripts/tunsim_sweep/tunsim.py, BATCH_ENV);
        each must also have asked malloc for huge pages and a 4 MiB heap growth."""
        runs = self.point_batches()
        for e in runs:
            self.assertTrue((e.get("glibc_tunables") or "").startswith(OUR_TUNABLES), e.get("glibc_tunables"))
        return [e.get("ld_bind_now") for e in runs]

    def tunables(self):
        """GLIBC_TUNABLES of each batch that ran points."""
        return [e.get("glibc_tunables") for e in self.point_batches()]

    def csv_rows(self, name="tiny", results=None):
        with open(os.path.join(results or self.results, name, "points.csv")) as f:
            return list(csv.reader(f))

    def summaries(self, results, name="tiny"):
        out = {}
        for f in glob.glob(os.path.join(results, name, "points", "*.json")):
            with open(f, "rb") as fh:
                out[os.path.basename(f)] = fh.read()
        return out


class Local(Base):
    def test_a_results_dir_that_is_a_file_or_cannot_be_made_is_one_line(self):
        # A file as --results-dir was "internal error: NotADirectoryError ...;
        # please report it", exit 3, in run (plan and merge read it as a folder
        # without points); a folder that cannot be made likewise.
        f = self.write("tiny.json", TINY)
        not_dir = self.write("a-file", "x")
        for cmd in ("run", "plan", "merge"):
            r = self.sweep("--results-dir", not_dir, cmd, f, results=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr, "sweep: --results-dir %s: expected a folder, found a file\n" % not_dir)
        below = os.path.join(not_dir, "results")
        r = self.sweep("--results-dir", below, "run", f, results=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr, "sweep: %s/tiny/points: cannot create the results folder: Not a directory\n" % below)
        self.assertEqual(self.batches(), [])  # nothing ran

    def test_a_users_glibc_tunables_come_after_ours(self):
        # glibc applies GLIBC_TUNABLES left to right, so the user's own setting of a tunable wins.
        f = self.write("tiny.json", TINY)
        r = self.sweep("run", f, "-j", "1", env=self.env(GLIBC_TUNABLES="glibc.malloc.top_pad=0"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.tunables(), [OUR_TUNABLES + ":glibc.malloc.top_pad=0"])

    def test_run_validates_once_then_runs_one_batch(self):
        f = self.write("tiny.json", TINY)
        r = self.sweep("run", f, "-j", "2", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        b = self.batches()
        # One validation of the whole sweep: the 4 axis values on their own, then the 4 points;
        # then one batch of the 4 points, -j 2.
        self.assertEqual([a[:2] for a, _ in b], [["batch", "--validate-only"], ["batch", b[1][0][1]]])
        self.assertEqual(b[1][0][2:], ["-j", "2"])
        # The batch binds every symbol once, before it forks its points.
        self.assertEqual(self.bind_now(), ["1"])
        checks = [json.loads(l) for l in b[0][1]]
        self.assertEqual([c["sets"][-1] for c in checks[:4]],
                         ["tun.rx_frames=0", "tun.rx_frames=8", "senders.0.vhost.msg_more=true",
                          "senders.0.vhost.msg_more=false"])
        run = [json.loads(l) for l in b[1][1]]
        self.assertEqual(checks[4:], run)
        base = os.path.join(REPO, "configs", "default.json")
        for p in run:
            self.assertEqual(set(p), {"id", "config", "sets", "seed", "out"})
            self.assertEqual(p["config"], base)
            self.assertEqual(p["out"], os.path.join(self.results, "tiny", "points", p["id"] + ".json"))
        # Every summary is there and is the point the CSV says (the fake echoes its --set list).
        rows = self.csv_rows()
        self.assertEqual(len(rows), 5)
        head = rows[0]
        for row in rows[1:]:
            d = dict(zip(head, row))
            with open(os.path.join(self.results, "tiny", "points", d["id"] + ".json")) as fh:
                s = json.load(fh)
            self.assertEqual(str(s["config_resolved"]["sets"]["tun.rx_frames"]), d["tun.rx_frames"])
            self.assertEqual(json.dumps(s["config_resolved"]["sets"]["senders.0.vhost.msg_more"]),
                             d["senders.0.vhost.msg_more"])
        self.assertRegex(r.stderr, r"\[4/4\] 100%  elapsed 0:\d\d  ETA 0:00")
        # A rerun validates again and runs nothing.
        r = self.sweep("run", f, env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 points (4 finished, 0 to run)", r.stderr)
        self.assertEqual([a[1] for a, _ in self.batches()], ["--validate-only", b[1][0][1], "--validate-only"])

    def test_failed_point_is_reported_and_retried(self):
        doc = dict(TINY, axes=[{"path": "fake.fail", "values": [False, True]}])
        f = self.write("fail.json", doc)
        r = self.sweep("run", f, env=self.env())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"point [0-9a-f]{12} \(fake.fail=true, seed 1\) FAILED \(exit 3\): fake failure of point")
        self.assertIn("1 point(s) failed; rerun to retry them", r.stderr)
        self.assertEqual(len(self.csv_rows()), 2)  # header and the point that ran
        r = self.sweep("run", f, env=self.env())
        self.assertEqual(r.returncode, 1)
        self.assertIn("2 points (1 finished, 1 to run)", r.stderr)
        self.assertEqual(len(json.loads("[%s]" % ",".join(self.batches()[-1][1]))), 1)

    def test_bad_value_names_its_axis_and_runs_nothing(self):
        doc = dict(TINY, axes=[{"path": "tun.rx_frames", "values": [0, -1]}])
        r = self.sweep("run", self.write("bad.json", doc), env=self.env())
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.splitlines(), [
            "sweep: %s: axis tun.rx_frames value -1: tunsim: %s: tun.rx_frames: expected an integer >= 0, found -1"
            % (os.path.join(self.tmp, "bad.json"), os.path.join(REPO, "configs", "default.json"))])
        self.assertEqual([a[1] for a, _ in self.batches()], ["--validate-only"])
        self.assertEqual(glob.glob(os.path.join(self.results, "bad", "points", "*")), [])

    def test_validation_progress(self):
        # 3000 points validated at 1 ms each (FAKE_VALIDATE_DELAY): about 3 s, so the driver
        # shows the validation's progress (after 2 s, then every 2 s without a terminal).
        doc = dict(TINY, axes=[{"path": "tun.rx_frames", "range": [0, 2999, 1]}])
        r = self.sweep("run", self.write("v.json", doc), "--engine", "slurm", "--no-submit",
                       env=self.env(FAKE_VALIDATE_DELAY="0.001"))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.splitlines() if "validating" in l]
        self.assertTrue(lines, r.stderr)
        self.assertRegex(lines[-1], r"^sweep: validating: 6000/6000$")  # 3000 axis values + 3000 points

    def test_bad_input_is_one_line(self):
        deep = '{"name": "d", "x": ' + "[" * 100000 + "]" * 100000 + "}"
        for text, pattern in ((deep, r"d.json:1:83: nested deeper than 64 levels"),
                              (json.dumps({"name": "r", "axes": [{"path": "x", "range": [0, 1e9, 1]}]}),
                               r"has about 1000000001 values; a plan may have at most 100000 points"),
                              ("{", r"d.json:1:2: invalid JSON")):
            for cmd in ("plan", "run"):
                with self.subTest(cmd=cmd, pattern=pattern):
                    r = self.sweep(cmd, self.write("d.json", text), env=self.env())
                    self.assertEqual(r.returncode, 2)
                    self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                    self.assertRegex(r.stderr, pattern)
                    self.assertNotIn("internal error", r.stderr)

    def test_options(self):
        f = self.write("tiny.json", TINY)
        for args, msg in ((["--chunk-size", "2"], "--chunk-size: only with --engine parallel"),
                          (["--slurm-throttle", "2"], "--slurm-throttle: only with --engine slurm"),
                          (["--engine", "slurm", "--slurm-throttle", "0"], "--slurm-throttle: expected a positive"),
                          (["-j", "-1"], "--jobs: expected a positive number"),
                          (["--engine", "parallel", "--sshloginfile", "/nonexistent"], "cannot read /nonexistent")):
            with self.subTest(args=args):
                r = self.sweep("run", f, *args, env=self.env())
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(msg, r.stderr)


@unittest.skipUnless(shutil.which("parallel"), "GNU parallel not installed")
class Parallel(Base):
    def test_same_results_as_local(self):
        f = self.write("seven.json", seven())
        local = os.path.join(self.tmp, "local")
        r = subprocess.run([os.path.join(REPO, "scripts", "sweep"), "--results-dir", local, "run", f, "-j", "2"],
                           env=self.env(), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # 7 points in chunks of 3: 3 GNU parallel jobs, each one `tunsim batch CHUNK -j 1`.
        r = self.sweep("run", f, "-j", "2", "--engine", "parallel", "--chunk-size", "3", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        runs = [(a, p) for a, p in self.batches() if a[1] != "--validate-only" and "/parallel/" in a[1]]
        self.assertEqual(sorted(len(p) for a, p in runs), [1, 3, 3])
        self.assertTrue(all(a[2:] == ["-j", "1"] for a, p in runs))
        self.assertEqual(self.bind_now(), ["1"] * 4)  # the local run's batch and the 3 chunks'
        with open(os.path.join(self.results, "seven", "parallel", "parallel.joblog")) as fh:
            self.assertEqual(len(fh.read().splitlines()), 1 + 3)
        # Byte-identical summaries, identical CSV; the chunk folders were emptied into points/.
        self.assertEqual(self.summaries(self.results, "seven"), self.summaries(local, "seven"))
        self.assertEqual(self.csv_rows("seven"), self.csv_rows("seven", local))
        self.assertEqual(os.listdir(os.path.join(self.results, "seven", "parallel", "out")), [])

    def test_sshloginfile_local_login(self):
        # ':' is this machine: --transferfile and --return are then no-ops for GNU parallel.
        logins = self.write("logins", "2/:\n")
        r = self.sweep("run", self.write("tiny.json", TINY), "--engine", "parallel", "--sshloginfile", logins,
                       env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.csv_rows()), 5)

    def left_summary(self):
        """The tiny sweep, and a summary of its first point left in parallel/out/chunk-0009/
        as a run killed after the job wrote it leaves it: (sweep file, point id, that folder)."""
        f = self.write("tiny.json", TINY)
        r = self.sweep("plan", "-v", f, env=self.env())
        pid = r.stdout.splitlines()[1].split()[0]
        d = os.path.join(self.results, "tiny", "parallel", "out", "chunk-0009")
        os.makedirs(d)
        with open(os.path.join(d, pid + ".json"), "w") as fh:
            # (A summary as the sweep reads it: merging.check_summary.)
            fh.write('{"tunsim_version": "kept", "schema": 1, "design": "beta", "throughput_mpps": 0.5}\n')
        return f, pid, d

    def test_adopts_what_an_interrupted_run_left(self):
        # A summary left in parallel/out/CHUNK/ (a run killed after the job wrote it) is moved
        # into points/ by the next run, which then does not run that point again.
        f, pid, _ = self.left_summary()
        os.makedirs(os.path.join(self.results, "tiny", "points"))
        r = self.sweep("run", f, "--engine", "parallel", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 points (1 finished, 3 to run)", r.stderr)
        with open(os.path.join(self.results, "tiny", "points", pid + ".json")) as fh:
            self.assertIn("kept", fh.read())

    def test_adopt_writes_through_a_link_in_points(self):
        # points/ID.json is a symlink a user made to a store of their own: the adopted
        # summary goes into the file it names; the link stays a link (never renamed over).
        f, pid, d = self.left_summary()
        store = os.path.join(self.tmp, "store")
        os.makedirs(store)
        target = os.path.join(store, pid + ".json")
        with open(target, "w") as fh:
            fh.write("old\n")
        points = os.path.join(self.results, "tiny", "points")
        os.makedirs(points)
        os.symlink(target, os.path.join(points, pid + ".json"))
        r = self.sweep("run", f, "--engine", "parallel", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.islink(os.path.join(points, pid + ".json")))
        with open(target) as fh:
            self.assertIn("kept", fh.read())
        self.assertEqual(os.listdir(d) if os.path.isdir(d) else [], [])


class Slurm(Base):
    def fake_slurm(self, max_array=3, sbatch=True, scontrol=True):
        """sbatch (logs its arguments, answers job ids 101, 102, ...) and scontrol (MaxArraySize)
        in self.tmp/bin, which goes first on PATH: they shadow a real Slurm's."""
        sb_log = os.path.join(self.tmp, "sbatch.log")
        if sbatch:
            self.tool("sbatch", "#!/bin/bash\necho \"$*\" >> %s\necho $((100 + $(wc -l < %s)))\n"
                      % (sb_log, sb_log))
        if scontrol:
            self.tool("scontrol", "#!/bin/bash\n[ \"$*\" = 'show config' ] || exit 1\n"
                      "echo 'Configuration data as of 2026-11-25T00:00:00'\necho 'MaxArraySize            = %d'\n"
                      "echo 'MaxJobCount             = 10000'\n" % max_array)
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        return bindir, sb_log

    def test_chunks_throttle_dependent_merge(self):
        bindir, sb_log = self.fake_slurm(max_array=3)
        f = self.write("seven.json", seven())
        r = self.sweep("run", f, "--engine", "slurm", "--slurm-throttle", "2", "--plot",
                       env=self.env(path_prefix=bindir))
        self.assertEqual(r.returncode, 0, r.stderr)
        root = os.path.join(self.results, "seven")
        # 7 points, MaxArraySize 3: ceil(7/3) = 3 points per task, 3 tasks (indices 0-2), 2 at a time.
        self.assertIn("3 array task(s) of up to 3 point(s), at most 2 at a time; MaxArraySize 3 "
                      "(scontrol show config)", r.stdout)
        with open(os.path.join(root, "slurm.sh")) as fh:
            self.assertIn("#SBATCH --array=0-2%2\n", fh.read())
        sizes = []
        for t in range(3):
            with open(os.path.join(root, "slurm-tasks", "task-%d.jsonl" % t)) as fh:
                sizes.append(len(fh.read().splitlines()))
        self.assertEqual(sizes, [3, 3, 1])
        # The array first, then the merge job after it (afterany: also when tasks failed).
        with open(sb_log) as fh:
            self.assertEqual(fh.read().splitlines(), ["--parsable %s/slurm.sh" % root,
                                                      "--parsable --dependency=afterany:101 %s/slurm-merge.sh" % root])
        self.assertRegex(r.stdout, r"submitted array job 101 .* and merge job 102 \(after the array: merge and plot\)")
        # The printed merge command keeps --results-dir (issue 13 item 17).
        self.assertIn("merge by hand with: scripts/sweep --results-dir %s merge %s" % (self.results, f), r.stdout)
        # Run the tasks as Slurm would, then the merge job's script: the CSV equals the local
        # engine's.  (The merge job plots: matplotlib or not, the merge comes first.)
        for t in range(3):
            subprocess.run(["bash", os.path.join(root, "slurm.sh")], env=dict(self.env(), SLURM_ARRAY_TASK_ID=str(t)),
                           check=True, capture_output=True)
        subprocess.run(["bash", os.path.join(root, "slurm-merge.sh")], env=self.env(), capture_output=True)
        local = os.path.join(self.tmp, "local")
        subprocess.run([os.path.join(REPO, "scripts", "sweep"), "--results-dir", local, "run", f],
                       env=self.env(), check=True, capture_output=True)
        self.assertEqual(self.csv_rows("seven"), self.csv_rows("seven", local))
        self.assertEqual(self.summaries(self.results, "seven"), self.summaries(local, "seven"))
        self.assertEqual(self.bind_now(), ["1"] * 4)  # the 3 array tasks' batches and the local one

    def test_printed_merge_command_merges_the_right_folder(self):
        # Issue 13 item 17: the command printed after --results-dir DIR run --engine slurm
        # must merge DIR/NAME, not the repository's results/NAME.
        f = self.write("tiny.json", TINY)
        r = self.sweep("run", f, "--engine", "slurm", "--no-submit", env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        cmd = re.search(r"merge by hand with: (.*)$", r.stdout.strip()).group(1)
        root = os.path.join(self.results, "tiny")
        for t in range(4):
            subprocess.run(["bash", os.path.join(root, "slurm.sh")], env=dict(self.env(), SLURM_ARRAY_TASK_ID=str(t)),
                           check=True, capture_output=True)
        m = subprocess.run(shlex.split(cmd), env=self.env(), cwd=REPO, capture_output=True, text=True)
        self.assertEqual(m.returncode, 0, m.stderr)
        self.assertEqual(m.stdout.strip(), "%s/points.csv: 4 of 4 points finished, 35 columns" % root)

    def no_slurm(self):
        """An environment whose PATH has no Slurm command (this machine may have Slurm)."""
        empty = os.path.join(self.tmp, "empty-bin")
        os.makedirs(empty, exist_ok=True)
        return dict(self.env(), PATH=empty)

    def test_default_max_array_size_and_points_per_task(self):
        f = self.write("seven.json", seven())
        r = self.sweep("run", f, "--engine", "slurm", "--no-submit", "--points-per-task", "2", env=self.no_slurm())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 array task(s) of up to 2 point(s); MaxArraySize 1001 (Slurm's default; scontrol not "
                      "found)", r.stdout)
        bindir, _ = self.fake_slurm(max_array=3)
        r = self.sweep("run", f, "--engine", "slurm", "--no-submit", "--points-per-task", "2",
                       env=self.env(path_prefix=bindir))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--points-per-task 2: 7 points make 4 array tasks, above MaxArraySize 3; expected at least 3",
                      r.stderr)
        # scontrol there but without an answer (no controller): Slurm's default, and why.
        self.tool("scontrol", "#!/bin/sh\necho 'slurm_load_ctl_conf error: Unable to contact slurm controller' >&2\n"
                              "exit 1\n")
        r = self.sweep("run", f, "--engine", "slurm", "--no-submit", env=self.env(path_prefix=bindir))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("7 array task(s) of up to 1 point(s); MaxArraySize 1001 (Slurm's default; scontrol show "
                      "config did not say)", r.stdout)


    def test_submit_needs_sbatch(self):
        r = self.sweep("run", self.write("tiny.json", TINY), "--engine", "slurm", env=self.no_slurm())
        self.assertEqual(r.returncode, 3)
        self.assertIn("sbatch not found: this machine cannot submit to Slurm; --no-submit writes the scripts only",
                      r.stderr)


class StandardOutput(Base):
    def test_a_full_disk_under_standard_output_is_bad_output_not_an_internal_error(self):
        # plan > /dev/full was "sweep: internal error: OSError: [Errno 28] ...", exit 3; standard
        # output is an output like any other (tunsim's rule): one line, exit 2.
        tiny = self.write("tiny.json", TINY)
        with open("/dev/full", "w") as full:
            r = subprocess.run([os.path.join(REPO, "scripts", "sweep"), "--results-dir", self.results, "plan", tiny],
                               env=self.env(), stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=120, cwd=REPO)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr, "sweep: standard output: write failed: No space left on device\n")


class Capacity(Base):
    def test_designs_come_from_tunsim(self):
        out = os.path.join(self.tmp, "load.json")
        r = self.sweep("capacity", "--percent", "50,100", "--load-sweep", out, env=self.env(), results=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(["designs", "--json"], [a for a, _ in self.calls()])
        cap = {l.split()[0]: float(l.split()[1]) for l in r.stdout.splitlines() if l.endswith("Mpps")}
        self.assertEqual(list(cap), ["alpha", "beta", "gamma"])  # the fake registry's order
        with open(out) as fh:
            sw = json.load(fh)
        d, pct, rate = (a["values"] for a in sw["axes"])
        self.assertEqual(d, ["alpha", "alpha", "beta", "beta", "gamma", "gamma"])
        self.assertEqual(pct, [50, 100] * 3)
        for di, pi, ri in zip(d, pct, rate):
            self.assertAlmostEqual(ri, round(cap[di] * pi / 100, 6), places=4)
        self.assertEqual(sw["plot"], {"x": "senders.0.guest.rate_mpps", "series": ["design"],
                                      "latency_x": "throughput_mpps",
                                      "capacity_on": ["senders.0.guest.rate_mpps", "throughput_mpps"],
                                      "at_column": "load_pct", "at": [100, 100]})
        r = self.sweep("plan", out, env=self.env())
        self.assertIn("sweep load: 6 points", r.stdout)

    def test_load_sweep_output_checked_before_the_runs(self):
        # An empty name wrote nothing (exit 0), a folder or a device ended in an internal error
        # (exit 3) after every capacity run, and a missing folder was made.
        cases = [("", "--load-sweep: expected a file name, found nothing"),
                 (self.tmp, "--load-sweep %s: expected a file, found a folder" % self.tmp),
                 ("/dev/full", "--load-sweep /dev/full: expected a regular file (a sweep file to run later), "
                               "found a device or a pipe"),
                 (os.path.join(self.tmp, "nodir", "x.json"),
                  "expected a file in a folder that exists, found no folder %s" % os.path.join(self.tmp, "nodir"))]
        for path, msg in cases:
            with self.subTest(path=path):
                r = self.sweep("capacity", "--load-sweep", path, env=self.env(), results=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(msg, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertEqual([a for a, _ in self.calls() if a and a[0] == "batch"], [])  # no capacity run
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "nodir")))

    def test_load_sweep_the_sweep_would_refuse_is_refused_before_the_runs(self):
        # capacity wrote, exit 0, sweep files that `sweep plan` then refused: --percent 1.5e400 put
        # Infinity in it (no JSON), 50,50 (or 50,50.0) and --designs a,a two points of the same
        # settings, and a file name with a space or a leading '.' a name that is no sweep name.
        out = os.path.join(self.tmp, "load.json")
        cases = [(["--percent", "1.5e400"], out, "--percent: expected finite numbers, found 1.5e400"),
                 (["--percent", "50,50.0"], out, "--percent: expected each percentage once, found 50,50.0"),
                 (["--designs", "alpha,alpha"], out, "--designs: expected each design once, found alpha,alpha"),
                 ([], os.path.join(self.tmp, "my load.json"),
                  "--load-sweep %s: name: expected a folder name of 1 to 100 characters without '/', spaces or "
                  "control characters, not starting with '.', found \"my load\"" % os.path.join(self.tmp, "my load.json")),
                 ([], os.path.join(self.tmp, ".load.json"), "name: expected a folder name")]
        for args, path, msg in cases:
            with self.subTest(args=args, path=path):
                r = self.sweep("capacity", *args, "--load-sweep", path, env=self.env(), results=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(msg, r.stderr)
                self.assertFalse(os.path.exists(path))
                self.assertEqual([a for a, _ in self.calls() if a and a[0] == "batch"], [])  # no capacity run

    def test_percentages_whose_rates_are_out_of_range_are_refused_at_capacity_time(self):
        # --percent 1000000000 wrote offered rates of millions of Mpps (exit 0), refused only when
        # `sweep run` validated the load sweep; 1e9 was "expected comma-separated numbers".  The
        # rates are checked against senders.*.guest.rate_mpps's range as tunsim declares it
        # (config-reference --json; the fake's is the real [1e-06, 10000]), once the capacities
        # are known: one line naming --percent and the percentages that design allows.
        out = os.path.join(self.tmp, "load.json")
        for pct, found in (("50,1000000000", "1000000000"), ("50,1e9", "1000000000"), ("1e-9,50", "1e-09")):
            with self.subTest(percent=pct):
                r = self.sweep("capacity", "--designs", "alpha", "--percent", pct, "--load-sweep", out,
                               env=self.env(), results=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertRegex(r.stderr, r"^sweep: --percent %s: expected percentages of alpha's capacity "
                                           r"\(0\.\d{4} Mpps\) in \[[0-9.e+-]+, [0-9.e+-]+\], which give an offered "
                                           r"rate in senders\.0\.guest\.rate_mpps's range \[1e-06, 10000\] Mpps, "
                                           r"found %s\n$" % (pct, re.escape(found)))
                self.assertEqual(r.stdout, "")
                self.assertFalse(os.path.exists(out))
        self.assertIn(["config-reference", "--json"], [a for a, _ in self.calls()])
        # In range (a percentage in exponent form too): written.
        r = self.sweep("capacity", "--designs", "alpha", "--percent", "5e1,100", "--load-sweep", out,
                       env=self.env(), results=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as fh:
            self.assertEqual(json.load(fh)["axes"][1]["values"], [50.0, 100])

    def test_load_rate_bounds_are_the_parameters(self):
        # A capacity of 0.5 Mpps and the range [1e-06, 10000] Mpps allow 0.0002 % to 2e6 %: the
        # bounds themselves give rates 1e-06 and 10000, just beyond is refused.
        check_load_rates({"a": 0.5}, [0.0002, 2e6], (1e-06, 10000), "x")
        for p in (2.000001e6, 0.0001):
            with self.assertRaises(SweepError) as e:
                check_load_rates({"a": 0.5}, [50, p], (1e-06, 10000), "50,%r" % p)
            self.assertEqual(str(e.exception),
                             "--percent 50,%r: expected percentages of a's capacity (0.5000 Mpps) in [0.0002, 2e+06], "
                             "which give an offered rate in senders.0.guest.rate_mpps's range [1e-06, 10000] Mpps, "
                             "found %.12g" % (p, p))

    def test_bad_design(self):
        r = self.sweep("capacity", "--designs", "nope", env=self.env(), results=False)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"^sweep: capacity of nope: tunsim: .*design: expected one of alpha, beta, gamma")

    def test_empty_designs_and_negative_jobs_are_refused_before_tunsim_runs(self):
        # --designs "" measured every design; -j -1 went on to `tunsim batch -j -1`
        # (which took it for "the number of CPUs", and now refuses it in its own words).
        for args, msg in ((["--designs", ""], "sweep: --designs: expected comma-separated design names, found ''\n"),
                          (["-j", "-1"], "sweep: --jobs: expected a positive number, found -1\n")):
            r = self.sweep("capacity", *args, env=self.env(), results=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr, msg)
            self.assertEqual([a for a, _ in self.calls() if a[:1] == ["batch"]], [])


if __name__ == "__main__":
    unittest.main()
