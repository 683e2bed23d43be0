#!/bin/bash
# The Slurm engine against a real single-node Slurm (issue 13 item 19): Debian's munge and
# slurm-wlm daemons started here as root with a configuration of their own (one node with
# this machine's CPUs, MaxArraySize 3, private ports, socket and state in a temporary
# folder), then `scripts/sweep run --engine slurm` submits the array and the dependent merge
# job, the test waits for the merge job to end, and points.csv must equal the local engine's.
# With MaxArraySize 3 the 4 points of the sweep go into 2 array tasks of 2 points, run one at
# a time (--slurm-throttle 1).
#
# Needs $TUNSIM (tests/sweep.cmake passes it).  Exit 0 pass, 1 fail, 77 skipped with the
# reason (not root, slurm-wlm or munge not installed, the daemons do not start).  The
# daemons and the temporary folder are removed on every exit.
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${TUNSIM:?set TUNSIM to the tunsim binary}"
export TUNSIM
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL (slurm): $*" >&2; for f in "$T"/*.log "$R"/tiny/slurm-logs/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "the daemons are started as root; run as root"
for b in munged slurmctld slurmd sbatch scontrol squeue; do
  command -v "$b" > /dev/null || skip "$b not installed (apt-get install slurmctld slurmd slurm-client munge)"
done

T=$(mktemp -d /tmp/sweep-slurm.XXXXXX)
R=$T/results
chmod 700 "$T"
pids=()
cleanup() {  # slurmd, slurmctld, then munged (started in that reverse order)
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill -TERM "$p" 2> /dev/null
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2> /dev/null
    wait "$p" 2> /dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

# Free TCP ports for slurmctld and slurmd (bound to the node's name, so not loopback only).
read -r PCTL PD < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("", 0))
print(*[x.getsockname()[1] for x in s])')
NODE=$(hostname -s)
CPUS=$(nproc)

head -c 1024 /dev/urandom > "$T/munge.key" && chmod 400 "$T/munge.key"
# In the foreground (-F), as this script's child: the cleanup stops and reaps it.
munged -F --force --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
  --log-file="$T/munged.log" --seed-file="$T/munged.seed" 2> "$T/munged.err" &
pids+=($!)
for _ in $(seq 100); do [ -S "$T/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge.sock" ] || skip "munged does not start: $(tail -1 "$T/munged.err")"

mkdir -p "$T/state" "$T/spool"
cat > "$T/slurm.conf" <<CONF
ClusterName=tunsimtest
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PCTL
SlurmdPort=$PD
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MaxArraySize=3
NodeName=$NODE CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf

slurmctld -D -c -f "$SLURM_CONF" > "$T/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$T/slurmd.out" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 150); do
  state=$(sinfo -h -o %t 2> /dev/null | head -1)
  [ "$state" = idle ] && { ready=1; break; }
  sleep 0.2
done
[ $ready -eq 1 ] || skip "Slurm did not come up in 30 s (node state '${state:-none}'): $(tail -1 "$T/slurmctld.log" 2> /dev/null) / $(tail -1 "$T/slurmd.log" 2> /dev/null)"
[ "$(scontrol show config | sed -n 's/^MaxArraySize *= *//p')" = 3 ] || fail "MaxArraySize is not 3"

cat > "$T/tiny.json" <<'EOF2'
{"name": "tiny", "base": "configs/default.json",
 "set": {"duration_ms": 2, "warmup_ms": 0.5},
 "axes": [{"path": "tun.rx_frames", "values": [0, 8]},
          {"path": "senders.0.vhost.msg_more", "values": [true, false]}],
 "seeds": [1]}
EOF2

scripts/sweep --results-dir "$R" run "$T/tiny.json" --engine slurm --slurm-throttle 1 > "$T/out" 2> "$T/err" \
  || fail "run --engine slurm exited $?: $(cat "$T/err" "$T/out")"
grep -q '2 array task(s) of up to 2 point(s), at most 1 at a time; MaxArraySize 3 (scontrol show config)' "$T/out" \
  || fail "unexpected plan: $(cat "$T/out")"
grep -q '^#SBATCH --array=0-1%1$' "$R/tiny/slurm.sh" || fail "slurm.sh: expected --array=0-1%1"
read -r ARRAY MERGE < <(sed -n 's/.*submitted array job \([0-9]*\) .* merge job \([0-9]*\) .*/\1 \2/p' "$T/out")
[ -n "${MERGE:-}" ] || fail "no job ids in: $(cat "$T/out")"
grep -q "merge by hand with: scripts/sweep --results-dir $R merge $T/tiny.json" "$T/out" \
  || fail "the printed merge command lacks --results-dir"

# Wait for the merge job (it runs after the array, afterany) to end.
state=
for _ in $(seq 600); do
  state=$(scontrol show job "$MERGE" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 0.2
done
[ "$state" = COMPLETED ] || fail "merge job $MERGE ended $state"
for t in 0 1; do
  s=$(scontrol show job "${ARRAY}_$t" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
  [ "$s" = COMPLETED ] || fail "array task $t: $s"
done

# The merge job wrote points.csv; the local engine must give the same CSV, byte for byte.
[ -f "$R/tiny/points.csv" ] || fail "the merge job wrote no points.csv"
[ $(( $(wc -l < "$R/tiny/points.csv") - 1 )) -eq 4 ] || fail "expected 4 rows"
scripts/sweep --results-dir "$T/local" run "$T/tiny.json" > /dev/null 2>&1 || fail "local engine"
cmp "$R/tiny/points.csv" "$T/local/tiny/points.csv" || fail "CSV of the Slurm engine differs from the local engine's"
for f in "$T"/local/tiny/points/*.json; do
  cmp -s "$f" "$R/tiny/points/$(basename "$f")" || fail "summary $(basename "$f") differs"
done
echo "PASS (slurm)"
