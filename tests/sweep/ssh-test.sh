#!/bin/bash
# The GNU parallel engine over ssh to a host that does not share the results folder:
# each chunk file goes to the host (--transferfile), the inline base scenario once
# (--basefile), and each chunk's summaries come back (--return); points.csv must equal the
# local engine's, byte for byte.
#
# The "host" is an sshd started here as root on 127.0.0.1 (a free port, keys of its own),
# whose sessions run in a private mount namespace where the results folder is another
# directory ($T/remote-disk bound over it): the remote side sees the repository and tunsim
# at the same paths, as docs/sweeps.md assumes, but not this side's results.
#
# The sessions start with an empty home of their own ($T/remote-home, sshd's SetEnv HOME):
# bash runs ~/.bashrc for a command sshd starts, and root's here runs `pyenv init` (about 20
# processes; `pyenv rehash` waits up to 60 s for a lock every shell of the machine takes), which
# made each of the test's logins take 2 s on an idle machine and 4-5 s on a loaded one (about
# 50 of its 70 s).  The waits for sshd and its first answer are bounded by time (WAIT_S), not by a
# number of tries, and never wait on a live sshd.
#
# Several copies may run at once (two checkouts, ctest -j): each has its own folder, keys
# and port (a port another process took meanwhile makes sshd fail to bind: another port is
# tried).  sshd needs its privilege separation directory /run/sshd (compiled in, shared by
# every sshd on the machine): the copy that created it removes it when it is the last copy
# running (a shared lock on /run/tunsim-ssh-test.lock while running, an exclusive one to
# remove), never while another copy's sshd still needs it.
#
# Needs $TUNSIM.  Exit 0 pass, 1 fail, 77 skipped with the reason (not root; sshd, rsync,
# GNU parallel, unshare or flock missing; sshd does not start).  Stops sshd and removes its
# files on every exit.
#   apt-get install -y --no-install-recommends openssh-server rsync parallel
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${TUNSIM:?set TUNSIM to the tunsim binary}"
export TUNSIM
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL (ssh): $*" >&2; [ -f "$T/sshd.log" ] && tail -5 "$T/sshd.log" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "sshd and the mount namespace need root"
for b in /usr/sbin/sshd ssh ssh-keygen rsync parallel unshare flock; do
  command -v "$b" > /dev/null || skip "$b not installed (apt-get install openssh-server rsync parallel)"
done

T=$(mktemp -d /tmp/sweep-ssh.XXXXXX)
chmod 755 "$T"
R=$T/results
mkdir -p "$R" "$T/remote-disk" "$T/remote-home"
# How long sshd may take to listen, and to answer a first login (each well under a second on an
# idle machine, seconds on a loaded one).
WAIT_S=60
SSHD=
LOCK=/run/tunsim-ssh-test.lock
MADE=/run/tunsim-ssh-test.made-run-sshd  # exists while /run/sshd is one a copy of this test made
cleanup() {
  if [ -n "$SSHD" ]; then kill -TERM "$SSHD" 2> /dev/null; wait "$SSHD" 2> /dev/null; fi
  # The last copy running (no other holds the shared lock) removes /run/sshd if a copy made it.
  if [ -n "${lockfd:-}" ] && flock -n -x "$lockfd"; then
    [ -e "$MADE" ] && rmdir /run/sshd 2> /dev/null; rm -f "$MADE"
  fi
  rm -rf "$T"
}
trap cleanup EXIT
exec {lockfd}> "$LOCK" || skip "cannot open $LOCK"
flock -s "$lockfd"  # waits only while another copy is removing /run/sshd
if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && touch "$MADE"; fi

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -f "$T/id" || fail "ssh-keygen"
cp "$T/id.pub" "$T/authorized_keys"
# Each session: a private mount namespace where $R is the remote disk, then the command.
cat > "$T/remote-shell" <<EOF2
#!/bin/bash
exec unshare --mount --propagation private bash -c 'mount --bind $T/remote-disk $R && exec bash -c "\$SSH_ORIGINAL_COMMAND"'
EOF2
chmod 755 "$T/remote-shell"
cat > "$T/sshd_config.common" <<EOF2
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ForceCommand $T/remote-shell
SetEnv HOME=$T/remote-home
EOF2
# A free port, then sshd on it; it writes its PidFile once it listens.  If another process
# took the port in between, sshd exits ("Cannot bind any address"): try another one.
for attempt in 1 2 3 4 5; do
  PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  { echo "Port $PORT"; cat "$T/sshd_config.common"; } > "$T/sshd_config"
  rm -f "$T/sshd.pid"
  : > "$T/sshd.log"
  /usr/sbin/sshd -D -f "$T/sshd_config" -E "$T/sshd.log" &
  SSHD=$!
  end=$((SECONDS + WAIT_S))
  while [ ! -s "$T/sshd.pid" ] && kill -0 "$SSHD" 2> /dev/null && [ $SECONDS -lt $end ]; do sleep 0.05; done
  [ -s "$T/sshd.pid" ] && kill -0 "$SSHD" 2> /dev/null && break
  # Not listening after WAIT_S (still running: stopped here, never waited for), or exited.
  kill -TERM "$SSHD" 2> /dev/null
  wait "$SSHD" 2> /dev/null; SSHD=
  grep -q "Bind to port\|Cannot bind" "$T/sshd.log" ||
    skip "sshd does not listen within $WAIT_S s: $(tail -1 "$T/sshd.log")"
done
[ -n "$SSHD" ] || skip "sshd could not bind a free port in 5 attempts: $(tail -1 "$T/sshd.log")"
SSH="ssh -p $PORT -i $T/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$T/known_hosts"
end=$((SECONDS + WAIT_S))
until $SSH root@127.0.0.1 true 2> "$T/ssh.err"; do
  [ $SECONDS -lt $end ] || skip "sshd on 127.0.0.1:$PORT does not answer within $WAIT_S s: $(tail -1 "$T/ssh.err")"
  sleep 0.1
done
# The remote side really does not see this side's results folder (ssh's own failure, 255, is
# not that):
touch "$R/only-here"
$SSH root@127.0.0.1 "test ! -e $R/only-here" 2> "$T/ssh.err"; rc=$?
[ $rc -eq 255 ] && fail "ssh to 127.0.0.1:$PORT failed: $(tail -1 "$T/ssh.err")"
[ $rc -eq 0 ] || fail "the remote side sees the local results folder"
# Its sessions do not run the machine's login files: their home is the empty one.
[ "$($SSH root@127.0.0.1 'echo $HOME')" = "$T/remote-home" ] || fail "the remote sessions' home is not $T/remote-home"

# 5 points with an inline base (written to results/ssh/base.json, sent by --basefile), in
# chunks of 2: 3 jobs, 2 at a time, all on the ssh host.
cat > "$T/ssh.json" <<'EOF2'
{"name": "ssh", "base": {"duration_ms": 2, "warmup_ms": 0.5},
 "axes": [{"path": "tun.rx_frames", "values": [0, 1, 2, 4, 8]}], "seeds": [1]}
EOF2
echo "2/$SSH root@127.0.0.1" > "$T/logins"
# The local engine first, in the same folder (a summary names its scenario file, here
# $R/ssh/base.json); its results are moved aside, then the same points run over ssh.
scripts/sweep --results-dir "$R" run "$T/ssh.json" > /dev/null 2>&1 || fail "local engine"
mkdir -p "$T/local" && mv "$R/ssh/points" "$R/ssh/points.csv" "$T/local/" || fail "moving the local results"
scripts/sweep --results-dir "$R" run "$T/ssh.json" --engine parallel --sshloginfile "$T/logins" --chunk-size 2 \
  > "$T/out" 2> "$T/err" || fail "run over ssh exited $?: $(tail -3 "$T/err")"
[ "$(tail -n +2 "$R/ssh/parallel/parallel.joblog" | awk '$2 != ":"' | wc -l)" -eq 3 ] \
  || fail "expected 3 jobs on the ssh host: $(cat "$R/ssh/parallel/parallel.joblog")"
[ "$(find "$T/remote-disk/ssh/parallel/out" -name '*.json' | wc -l)" -eq 5 ] \
  || fail "the summaries were not written on the remote disk"
[ -f "$T/remote-disk/ssh/base.json" ] || fail "the inline base was not sent (--basefile)"
grep -q '5 points (0 finished, 5 to run), engine parallel' "$T/err" || fail "$(head -1 "$T/err")"
cmp "$R/ssh/points.csv" "$T/local/points.csv" || fail "CSV over ssh differs from the local engine's"
for f in "$T"/local/points/*.json; do
  cmp -s "$f" "$R/ssh/points/$(basename "$f")" || fail "summary $(basename "$f") differs"
done
echo "PASS (ssh)"
