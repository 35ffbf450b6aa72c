#!/bin/bash
# dvol-writer on a volume that stops answering: a heartbeat that fails with EIO (an NFS
# client that lost its lock state), and one that blocks (a hard mount whose server is cut
# off). The host kernel has no NFS client; a FUSE filesystem (tests/host/faultfs.py) over
# a folder fails or blocks the writes of the lock file on demand, through the kernel's own
# blocking paths, and the fence is made on that real mount.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/writer-lib.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import fusepy' 2>/dev/null; then
	not_ok "python3-fusepy is missing (scripts/install-deps installs it)"
	done_testing
fi

mkdir -p "$T/back" "$T/fs"
echo ok >"$T/control"
"$PY" "$(dirname "$0")/faultfs.py" "$T/back" "$T/fs" "$T/control" 2>"$T/faultfs.err" &
FS_PID=$!
# First let every write through, so that nothing stays blocked in the filesystem.
on_exit "echo ok >'$T/control'; umount -l '$T/fs'; kill $FS_PID"
on_exit 'for p in $(pgrep -x dvol-writer); do kill -KILL "$p"; done'

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

check "the faulty filesystem is mounted" within 100 sh -c "findmnt -rn -o FSTYPE --mountpoint '$T/fs' | grep -q fuse"
check "...and writable" writable "$T/fs"

# --- EIO: fenced at once ------------------------------------------------------------------
hold E "$T/fs" --lease-time=3
check "a holder on it (lease 3 s: heartbeat 0.5 s, fence at 1.5 s): held" within 100 reported E held
check "...its mount writable" writable "$T/fs"
echo eio >"$T/control"
t0=$(date +%s%N)
check "a heartbeat fails with EIO: the mount is read-only within 3 s" within 30 read_only "$T/fs"
echo "# $(ms_since "$t0") ms"
check "...the holder ends" within 50 gone "$(pid_of E)"
check "...with exit 32 (fenced)" test "$(exit_of "$(pid_of E)")" = 32
check "...saying why" grep -q "a heartbeat failed (Input/output error); the server may have given the lease to another host.*read-only (fenced)" "$T/E.err"
echo ok >"$T/control"
expect_rc 3 "...and the lease is free" dvol-writer status "$T/fs"

# --- blocked: fenced by lease/2 -----------------------------------------------------------
mount -o remount,bind,rw "$T/fs"
check "the mount made writable again by hand" writable "$T/fs"
hold H "$T/fs" --lease-time=3
check "a new holder: held" within 100 reported H held
check "...generation 2" sh -c "sed -n 's/^held //p' '$T/H.ready' | jq -e '.generation == 2' >/dev/null"
echo hang >"$T/control"
t0=$(date +%s%N)
check "the heartbeat blocks: the mount is read-only within 5 s" within 50 read_only "$T/fs"
ms=$(ms_since "$t0")
# The fence waits for lease/2 after the last heartbeat that got through, which was at most
# one heartbeat (0.5 s) before the block: not sooner than 1 s.
check "...not before lease/2 has passed since the last good heartbeat (${ms} ms)" test "$ms" -ge 1000
check "...saying why" within 30 grep -q "no heartbeat reached the server for .* (lease/2 of 3 s).*read-only (fenced)" "$T/H.err"
# FUSE waits for a request its server already took, without a timeout, even for a killed
# process: the holder's exit waits for its blocked heartbeat. (NFS's waits end on a fatal
# signal; the VM tier sees that.) Once the filesystem answers, it ends.
echo ok >"$T/control"
check "...the holder ends once its blocked heartbeat returns" within 50 gone "$(pid_of H)"
check "...with exit 32 (fenced)" test "$(exit_of "$(pid_of H)")" = 32
expect_rc 3 "...and the lease is free" timeout 20 dvol-writer status "$T/fs"
check "...and the mount is still read-only: nothing made it writable behind the fence" \
	read_only "$T/fs"

# --- dvol-volumes status with a volume that answers nothing ---------------------------------
# Its dvol-writer status blocks in the filesystem; status kills it at its deadline (5 s) and
# says the lease is unknown, while another writer=exclusive volume answers as ever.
export DVOL_TEST_WRITER_ANY_FS=1
mkdir -p "$T/back/vol" "$T/wv" "$T/hv" "$T/h1"
expect_rc 0 "writer=exclusive on a folder of the faulty filesystem" \
	mount -t dvol "$T/fs/vol" "$T/wv" -o writer=exclusive,lease-time=60
expect_rc 0 "...and on a folder elsewhere" mount -t dvol "$T/hv" "$T/h1" -o writer=exclusive,lease-time=60
unset DVOL_TEST_WRITER_ANY_FS
state_of() { jq -r --arg t "$1" '.[] | select(.target == $t) | .writer.state' <<<"$2"; }
expect_rc 0 "dvol-volumes status --json: exit 0" timeout 30 dvol-volumes status --json
check "...both held by their own mount, while the filesystem answers" \
	jq -e --arg a "$T/wv" --arg b "$T/h1" '[.[] | select(.target == $a or .target == $b) | .writer | .state == "held" and .this_mount] == [true, true]' <<<"$OUT"
echo stall >"$T/control"
on_exit "echo ok >'$T/control'"
t0=$(date +%s%N)
expect_rc 0 "the filesystem answers nothing on writer.lock: dvol-volumes status --json still exits 0" \
	timeout 30 dvol-volumes status --json
ms=$(ms_since "$t0")
check "...after its deadline of 5 s, and promptly after it (${ms} ms)" test "$ms" -ge 5000 -a "$ms" -lt 8000
check "...the stalled volume's lease: unknown, saying why ($(jq -c --arg t "$T/wv" '.[] | select(.target == $t) | .writer' <<<"$OUT"))" \
	jq -e --arg t "$T/wv" '.[] | select(.target == $t) | .writer | .mode == "held" and .state == "unknown" and .reason == "the volume did not answer within 5 s" and (has("holder") | not)' <<<"$OUT"
check "...the other volume's: held by its own mount, as before" test "$(state_of "$T/h1" "$OUT")" = held
t0=$(date +%s%N)
expect_rc 0 "dvol-volumes status (for a person): exit 0" timeout 30 dvol-volumes status
ms=$(ms_since "$t0")
check "...within 8 s as well (${ms} ms)" test "$ms" -lt 8000
check "...saying the lease is unknown, and why" \
	sh -c "printf '%s\n' \"\$0\" | grep -A1 '^$T/wv ' | grep -q '^  writer: mounted read-write, as the lease.s holder; lease unknown: the volume did not answer within 5 s'" "$OUT"
echo ok >"$T/control"
check "once it answers, the killed dvol-writer status runs end" \
	within 50 sh -c '! pgrep -f "^dvol-writer status" >/dev/null'
check "...and status sees the lease held again" \
	sh -c "dvol-volumes status --json | jq -e --arg t '$T/wv' '.[] | select(.target == \$t) | .writer.state == \"held\"' >/dev/null"
expect_rc 0 "umount of both" umount "$T/wv" "$T/h1"

done_testing
