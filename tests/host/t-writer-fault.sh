#!/bin/bash
# dvol-writer on a volume that stops answering: a heartbeat that fails with EIO (an NFS
# client that lost its lock state), and one that blocks (a hard mount whose server is cut
# off). The host kernel has no NFS client; a FUSE filesystem (tests/host/faultfs.py) over
# a folder fails or blocks the writes of the lock file on demand, through the kernel's own
# blocking paths, and the fence is made on that real mount.
. "$(dirname "$0")/lib.sh" "$@"
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

within() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
hold() {
	local n=$1
	shift
	: >"$T/$n.ready"
	dvol-writer hold "$@" --ready-fd=3 3>"$T/$n.ready" 2>"$T/$n.err" &
	echo $! >"$T/$n.pid"
}
pid_of() { cat "$T/$1.pid"; }
reported() { grep -q "^$2 " "$T/$1.ready"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
writable() { touch "$1/.probe" 2>/dev/null && rm -f "$1/.probe"; }
read_only() {
	local e
	e=$(touch "$1/.probe" 2>&1) && return 1
	case $e in *"Read-only file system"*) return 0 ;; esac
	return 1
}
exit_of() {
	wait "$1"
	echo $?
}
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

done_testing
