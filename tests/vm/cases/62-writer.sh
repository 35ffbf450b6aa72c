#!/bin/bash
# vm-case-timeout: 1500
# writer=exclusive between two "hosts" against the guest's nfsd (lease and grace 10 s): two
# network namespaces over veth, each with its own UTS name, so that nfsd sees two NFS
# clients ("Linux NFSv4.2 host1", "... host2"). Each host mounts the export with the
# kernel, then binds a folder of it with mount -t dvol -o writer=exclusive; the lease
# holder (dvol-writer) runs in the host's namespaces.
# - the first holds: read-write, its record names host1, generation 1;
# - a second comes up read-only naming host1; on-conflict=fail: exit 32 naming it;
# - the holder's dvol-writer killed: read-only within about a second, and a container's
#   bind of it (a mount namespace of its own) too;
# - a clean umount on the holder: a waiting host takes over within a few seconds, and the
#   generation grew;
# - every process of the holder's namespace killed (a dead host): the other takes over;
# - the holder cut off from the server (its link down): read-only by lease/2 + a margin,
#   no takeover before the lease ends, a takeover after it;
# - through the handovers and the cut: a writer loop on each host, each write checked
#   against the record it read first; never two writers at once;
# - a folder of an NFSv3 mount with local_lock=all: exit 1;
# - the export itself as SOURCE: the same lease; local_lock=all and vers=3 refused (exit 1);
#   a server restarted (its grace period): a second mount read-only (pending) without
#   waiting the grace period out, as the lock request alone would;
# - under systemd (a mount unit of Type=dvol): the holder lives in the unit's control group,
#   and stopping the unit releases the lease.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need ip nsenter unshare exportfs jq
export DVOL_LOG=both
LEASE=10
EXP=/srv/dvol-writer
say() { echo "$*" | diag; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

clean() {
	local h m
	for m in $(findmnt -rn -o TARGET | grep -E '^/(mnt/dvolw|srv/dvolw|srv/dvolx|srv/dvolsd)' | sort -r); do umount -l "$m"; done
	for h in 1 2; do
		for p in $(ip netns pids "h$h" 2>/dev/null); do kill -9 "$p"; done
		ip netns del "h$h" 2>/dev/null
		ip link del "v$h" 2>/dev/null
	done
	rm -f "$T/loops"
	exportfs -u "10.77.0.0/16:$EXP" 2>/dev/null
}
on_exit clean

# H N CMD...: CMD on host N (its network namespace, a UTS namespace named hostN).
H() {
	local h=$1
	shift
	nsenter --net=/run/netns/h"$h" unshare -u sh -c 'hostname "$0"; exec "$@"' "host$h" "$@"
}
nfs_up() { # nfs_up N [OPTS]: host N mounts the export on /mnt/dvolwN (with OPTS, /mnt/dvolwN-ll)
	local d=/mnt/dvolw$1${2:+-ll}
	mkdir -p "$d"
	H "$1" mount -t nfs -o "${2:-vers=4.2}" "10.77.$1.1:$EXP" "$d"
}
within() { # within SECONDS CMD...: CMD succeeds within SECONDS (tries every 0.2 s)
	local end
	end=$(awk -v a="$(now)" -v s="$1" 'BEGIN { printf "%.1f", a + s }')
	shift
	while :; do
		"$@" && return 0
		awk -v e="$end" -v n="$(now)" 'BEGIN { exit !(n > e) }' && return 1
		sleep 0.2
	done
}
read_only() { # read_only DIR: a write there fails with EROFS (at once: no server asked)
	local e
	e=$(timeout -s KILL 3 touch "$1/.probe" 2>&1) && { rm -f "$1/.probe"; return 1; }
	case $e in *"Read-only file system"*) return 0 ;; esac
	return 1
}
writable() { timeout -s KILL 3 touch "$1/.probe" 2>/dev/null && rm -f "$1/.probe"; }
# ro_flag DIR: the mount on DIR is read-only (its per-mount flag), read without asking the
# server: on a host cut off from it, a write would hang (a hard mount), and each hung probe
# would hold a file open for writing, which keeps a mount from turning read-only.
ro_flag() { findmnt -rn -o VFS-OPTIONS --mountpoint "$1" | grep -qE '(^|,)ro(,|$)'; }
record() { dvol-writer status "$1" --json 2>/dev/null; } # the holder's record, read on DIR
gen() { record "$1" | jq -r '(.holder // .last_holder).generation // empty' 2>/dev/null; }
holder() { record "$1" | jq -r '(.holder // .last_holder).hostname // empty' 2>/dev/null; }
writer_pid() { # writer_pid N: the dvol-writer holding on host N
	local p
	for p in $(ip netns pids "h$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dvol-writer ] && grep -qz '^hold$' "/proc/$p/cmdline" &&
			{ echo "$p"; return 0; }
	done
	return 1
}

# A writer loop on host N on DIR: every 0.3 s the generation the record there names, then a
# line in DIR/wN.log, written and fsync'ed; each write that completed is noted (start, end,
# host, generation) in $T/doneN, off the volume. It runs while $T/loops exists.
cat >"$T/wloop" <<'EOF'
#!/bin/bash
n=$1 d=$2 out=$3 run=$4
while [ -e "$run" ]; do
	s=$(date +%s.%N)
	g=$(jq -r .generation "$d/.dvol/writer.lock" 2>/dev/null)
	if [ -n "$g" ] && [ "$g" != null ] && printf '%s host%s %s\n' "$s" "$n" "$g" >>"$d/w$n.log" 2>/dev/null &&
		sync "$d/w$n.log" 2>/dev/null; then
		printf '%s %s host%s %s\n' "$s" "$(date +%s.%N)" "$n" "$g" >>"$out"
	fi
	sleep 0.3
done
EOF
chmod +x "$T/wloop"
# two_writers: the writes that completed, against each other: one generation is one host's,
# and every write of a generation ended before any write of a later one began. Prints each
# breach; fails if there is one.
two_writers() {
	cat "$T/done1" "$T/done2" 2>/dev/null | awk '
		{ s[NR] = $1; e[NR] = $2; h[NR] = $3; g[NR] = $4 + 0 }
		END {
			for (i = 1; i <= NR; i++)
				for (j = 1; j <= NR; j++) {
					if (g[i] == g[j] && h[i] != h[j] && i < j && bad++ < 10)
						print "generation " g[i] " written by " h[i] " and " h[j]
					if (g[i] < g[j] && e[i] > s[j] && bad++ < 10)
						printf "%s (generation %d) wrote until %s, after %s (generation %d) began at %s\n", h[i], g[i], e[i], h[j], g[j], s[j]
				}
			exit bad > 0
		}'
}
writes_by() { grep -c " host$1 " "$T/done$1" 2>/dev/null || echo 0; }

# --- two hosts and a server with a short lease ----------------------------------------------
for h in 1 2; do
	ip netns add "h$h"
	ip link add "v$h" type veth peer name "v${h}p"
	ip link set "v${h}p" netns "h$h"
	ip addr add "10.77.$h.1/24" dev "v$h"
	ip link set "v$h" up
	ip -n "h$h" addr add "10.77.$h.2/24" dev "v${h}p"
	ip -n "h$h" link set "v${h}p" up
	ip -n "h$h" link set lo up
done
systemctl stop nfs-server
echo "$LEASE" >/proc/fs/nfsd/nfsv4leasetime
echo "$LEASE" >/proc/fs/nfsd/nfsv4gracetime
systemctl start nfs-server
check "nfsd with a $LEASE s lease" test "$(cat /proc/fs/nfsd/nfsv4leasetime)" = "$LEASE"
mkdir -p "$EXP/vol"
exportfs -o rw,sync,no_subtree_check,no_root_squash "10.77.0.0/16:$EXP"
check "host1 mounts the export (NFSv4.2 over its veth)" nfs_up 1
check "host2 mounts the export" nfs_up 2
# A lock waits out the server's grace period inside the call (NFS4ERR_GRACE): wait here.
t0=$(now)
check "the grace period is over (a lock from host1 within 90 s)" \
	H 1 timeout 90 flock -n /mnt/dvolw1/vol/.grace true
say "grace ended after $(since "$t0") s"
cat /proc/fs/nfsd/clients/*/info 2>/dev/null | grep '^name' | diag
check "...nfsd sees host1 and host2 as two clients" \
	sh -c 'cat /proc/fs/nfsd/clients/*/info | grep -c "^name: \"Linux NFSv4.2 host[12]\"" | grep -qx 2'
W1=/srv/dvolw1 W2=/srv/dvolw2
mkdir -p "$W1" "$W2"

# --- one holds, the second is read-only or refused ----------------------------------------
run_rc H 1 mount -t dvol /mnt/dvolw1/vol "$W1" -o writer=exclusive
printf '%s\n' "$ERR" | diag
check "host1: mount -t dvol -o writer=exclusive: exit 0 (rc=$RC)" test "$RC" -eq 0
check "...read-write within 5 s (the holder flips it)" within 5 writable "$W1"
check "...dvol-writer holds on host1 (pid $(writer_pid 1))" writer_pid 1
record "$W1" | diag
check "...the record names host1" test "$(holder "$W1")" = host1
check "...generation 1" test "$(gen "$W1")" = 1
grep "$W1" /run/mount/utab | diag

t0=$(now)
run_rc H 2 mount -t dvol /mnt/dvolw2/vol "$W2" -o writer=exclusive
printf '%s\n' "$ERR" | diag
check "host2: the same: exit 0, in $(since "$t0") s (rc=$RC)" test "$RC" -eq 0
check "...read-only" read_only "$W2"
expect_msg "host1" "...the warning names the holder, host1"
check "...and stays read-only 3 s later" sh -c "sleep 3; $(declare -f read_only); read_only $W2"
umount "$W2"
run_rc H 2 mount -t dvol /mnt/dvolw2/vol "$W2" -o writer=exclusive,on-conflict=fail
check "host2, on-conflict=fail: exit 32 (rc=$RC)" test "$RC" -eq 32
expect_msg "host1" "...naming host1"
check "...nothing mounted" not_mounted "$W2"

# --- the holder's lease process killed ------------------------------------------------------
# A container on host1: a mount namespace of its own with a bind of host1's volume, as a
# container runtime makes it.
mkdir -p /srv/dvolc1
H 1 unshare -m --propagation private sh -c \
	"mount --bind $W1 /srv/dvolc1 && echo \$\$ >$T/c1.pid && exec sleep 600" &
check "a container on host1 with a bind of its volume" within 10 test -s "$T/c1.pid"
cpid=$(cat "$T/c1.pid")
in_c1() { nsenter -t "$cpid" -m "$@"; }
check "...a mount namespace of its own" test "$(readlink "/proc/$cpid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)"
check "...its bind mounted there" in_c1 findmnt -rn --mountpoint /srv/dvolc1
check "...writable there" in_c1 sh -c "$(declare -f writable); writable /srv/dvolc1"
p=$(writer_pid 1)
check "host1's dvol-writer killed (kill -9 $p)" kill -9 "$p"
t0=$(now)
check "...host1's mount read-only within 2 s" within 2 read_only "$W1"
say "read-only after $(since "$t0") s"
check "...the container's bind too, within 3 s" within 3 in_c1 sh -c "$(declare -f ro_flag); ro_flag /srv/dvolc1"
check "...EROFS there" in_c1 sh -c "$(declare -f read_only); read_only /srv/dvolc1"
kill "$cpid"
umount "$W1"

# --- a clean umount hands over ------------------------------------------------------------
run_rc H 1 mount -t dvol /mnt/dvolw1/vol "$W1" -o writer=exclusive
check "host1 holds again (rc=$RC)" within 5 writable "$W1"
: >"$T/loops"
H 1 "$T/wloop" 1 "$W1" "$T/done1" "$T/loops" &
H 2 "$T/wloop" 2 "$W2" "$T/done2" "$T/loops" &
sleep 1
g1=$(gen "$W1")
H 2 mount -t dvol /mnt/dvolw2/vol "$W2" -o writer=exclusive,on-conflict=wait,wait-timeout=60 \
	>"$T/w2.out" 2>"$T/w2.err" &
pw=$!
sleep 3
check "host2 waits (on-conflict=wait): not mounted yet" kill -0 "$pw"
t0=$(now)
check "umount on host1" umount "$W1"
check "...host2 writable within 4 s" within 4 writable "$W2"
say "host2 took over after $(since "$t0") s"
wait "$pw"
check "...its mount exited 0 ($?)" test "$?" -eq 0
check "...the record names host2, generation $g1 + 1 ($(gen "$W2"))" \
	test "$(holder "$W2")" = host2 -a "$(gen "$W2")" = "$((g1 + 1))"

# --- a dead host ------------------------------------------------------------------------------
H 1 mount -t dvol /mnt/dvolw1/vol "$W1" -o writer=exclusive,on-conflict=wait,wait-timeout=60 >"$T/w1d.out" 2>"$T/w1d.err" &
pw=$!
sleep 3
g2=$(gen "$W2")
t0=$(now)
for p in $(ip netns pids h2); do kill -9 "$p"; done
say "killed every process of host2: $(ip netns pids h2 | wc -l) left"
check "...host1 writable within lease + 2 s" within $((LEASE + 2)) writable "$W1"
say "host1 took over after $(since "$t0") s"
wait "$pw"
check "...generation $g2 + 1 ($(gen "$W1")), host1" test "$(gen "$W1")" = "$((g2 + 1))" -a "$(holder "$W1")" = host1
umount -l "$W2"

# --- the holder cut off from the server -----------------------------------------------------
g3=$(gen "$W1")
H 2 mount -t dvol /mnt/dvolw2/vol "$W2" -o writer=exclusive,on-conflict=wait,wait-timeout=90 \
	>"$T/w2c.out" 2>"$T/w2c.err" &
pw=$!
sleep 3
ip -n h1 link set v1p down
t0=$(now)
say "host1's link cut"
check "host1 read-only by lease/2 + 3 s (its mount's flag)" within $((LEASE / 2 + 3)) ro_flag "$W1"
say "host1 read-only after $(since "$t0") s"
sleep "$(awk -v a="$t0" -v n="$(now)" -v l="$LEASE" 'BEGIN { d = l - 1 - (n - a); print (d > 0 ? d : 0) }')"
check "...no takeover before the lease ends (host2 still waiting at $(since "$t0") s)" kill -0 "$pw"
check "...host2 takes over after it, within lease + 10 s" within 12 writable "$W2"
say "host2 took over after $(since "$t0") s"
wait "$pw"
check "...generation $g3 + 1 ($(gen "$W2"))" test "$(gen "$W2")" = "$((g3 + 1))"
ip -n h1 link set v1p up
sleep 3
check "host1, its link back: still read-only" within 10 read_only "$W1"
sleep 3
rm -f "$T/loops"
sleep 2
say "writes that completed: host1 $(writes_by 1), host2 $(writes_by 2)"
check "the writer loops wrote on both hosts" test "$(writes_by 1)" -gt 0 -a "$(writes_by 2)" -gt 0
check "...never two writers at once (each write against the generation it read)" two_writers
two_writers | diag
umount -l "$W1" "$W2"

# --- locks that stay on the host -------------------------------------------------------------
# The guest's kernel (6.1) ignores local_lock= on NFSv4 (mountinfo says local_lock=none even
# with local_lock=all,nosharecache), so the locks of a v4 mount always reach the server; a
# folder on an NFSv3 mount with local_lock=all is refused for its version first.
check "host1 mounts the export with vers=3,local_lock=all,nosharecache" nfs_up 1 vers=3,local_lock=all,nosharecache
findmnt -rn -o TARGET,FSTYPE,FS-OPTIONS --mountpoint /mnt/dvolw1-ll | diag
mkdir -p /srv/dvolw-ll
run_rc H 1 mount -t dvol /mnt/dvolw1-ll/vol /srv/dvolw-ll -o writer=exclusive
check "writer=exclusive on a folder of that mount: exit 1 (rc=$RC)" test "$RC" -eq 1
expect_msg "NFSv3" "...saying why (NFSv3, whose locks have no lease)"
printf '%s\n' "$ERR" | diag
check "...nothing mounted" not_mounted /srv/dvolw-ll

# --- the export itself as SOURCE -----------------------------------------------------------
umount -l /mnt/dvolw1-ll
X1=/srv/dvolx1 X2=/srv/dvolx2
mkdir -p "$X1" "$X2"
run_rc H 1 mount -t dvol "10.77.1.1:$EXP" "$X1" -o writer=exclusive
printf '%s\n' "$ERR" | diag
check "host1: the export with writer=exclusive: exit 0 (rc=$RC)" test "$RC" -eq 0
check "...read-write within 5 s" within 5 writable "$X1"
check "...an NFSv4 mount on $X1" test "$(findmnt -rn -o FSTYPE --mountpoint "$X1")" = nfs4
check "...utab says dvol.writer=held" grep -q "$X1 .*dvol.writer=held" /run/mount/utab
check "...the record names host1" test "$(holder "$X1")" = host1
check "...no staging folder left" test -z "$(find /run/dvol/heal -maxdepth 1 -name 'new.*' 2>/dev/null)"
t0=$(now)
run_rc H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o writer=exclusive
el=$(since "$t0")
printf '%s\n' "$ERR" | diag
check "host2: the same export: exit 0, in $el s (rc=$RC)" test "$RC" -eq 0
check "...read-only" read_only "$X2"
check "...within probe-timeout + 1 s (4 s)" awk -v e="$el" 'BEGIN { exit !(e <= 4) }'
expect_msg "host1" "...naming host1"
check "...utab says dvol.writer=ro" grep -q "$X2 .*dvol.writer=ro" /run/mount/utab
umount "$X2"
run_rc H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o writer=exclusive,on-conflict=fail
check "host2, on-conflict=fail: exit 32 (rc=$RC)" test "$RC" -eq 32
expect_msg "held by .*host1" "...naming host1"
check "...nothing mounted" not_mounted "$X2"
for o in local_lock=all vers=3; do
	run_rc H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o "writer=exclusive,$o"
	check "host2, writer=exclusive,$o: exit 1 (rc=$RC)" test "$RC" -eq 1
	printf '%s\n' "$ERR" | head -n 2 | diag
	check "...nothing mounted" not_mounted "$X2"
done

# The server restarts: a grace period of one lease, in which it grants no new lock.
systemctl restart nfs-server
# Its start exports what /etc/exports says, and this export is not there.
exportfs -o rw,sync,no_subtree_check,no_root_squash "10.77.0.0/16:$EXP"
say "nfsd restarted: lease $(cat /proc/fs/nfsd/nfsv4leasetime) s, grace $(cat /proc/fs/nfsd/nfsv4gracetime) s"
t0=$(now)
run_rc H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o writer=exclusive,probe-timeout=2
el=$(since "$t0")
printf '%s\n' "$ERR" | diag
check "host2 in the grace period, probe-timeout=2: exit 0 in $el s (rc=$RC)" test "$RC" -eq 0
check "...read-only (its mount's flag: a write would wait for the client's recovery)" ro_flag "$X2"
check "...before the grace period ends ($LEASE s): the lock was not waited for" \
	awk -v e="$el" -v l="$LEASE" 'BEGIN { exit !(e < l) }'
expect_msg "neither granted nor refused" "...saying the server did not answer the lock"
sleep "$LEASE"
# The holder reclaims its lock in the grace period, or, when its heartbeat did not reach
# the restarted server within lease/2, fences itself: either is safe, and the figure says
# which happened.
if writable "$X1"; then
	say "host1 kept its lease through the restart (its lock reclaimed)"
else
	say "host1 fenced itself during the restart (no heartbeat for lease/2)"
fi
check "host1 after the restart: still holding (writable) or fenced (read-only)" \
	sh -c "$(declare -f writable ro_flag); writable $X1 || ro_flag $X1"
check "...the record still names host1: nobody else took it" test "$(holder "$X1")" = host1
umount "$X2"
# The handover below is timed: the grace period must be over first (a lock asked for in it
# waits out the NFS client's backoff), and host1 holds afresh.
t0=$(now)
check "the grace period is over (a lock from host2 within 90 s)" \
	H 2 timeout 90 flock -n /mnt/dvolw2/vol/.grace true
say "grace ended $(since "$t0") s later"
umount "$X1"
run_rc H 1 mount -t dvol "10.77.1.1:$EXP" "$X1" -o writer=exclusive
check "host1 mounts the export again and holds (rc=$RC)" within 5 writable "$X1"
H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o writer=exclusive,on-conflict=wait,wait-timeout=60 \
	>"$T/x2.out" 2>"$T/x2.err" &
pw=$!
sleep 3
g=$(gen "$X1")
t0=$(now)
check "umount of the export on host1" umount "$X1"
check "...host2 writable within 4 s" within 4 writable "$X2"
say "host2 took the export over after $(since "$t0") s (umount at $t0)"
wait "$pw"
check "...its mount exited 0 ($?)" test "$?" -eq 0
diag <"$T/x2.err"
check "...generation $g + 1, host2" test "$(gen "$X2")" = "$((g + 1))" -a "$(holder "$X2")" = host2
umount "$X2"

# --- under systemd: a mount unit -------------------------------------------------------------
# A mount unit as fstab's line would make, started by PID 1 in the guest's own network
# namespace: a third NFS client. The holder lives on in the unit's control group, and
# stopping the unit releases the lease. That client reaches the server at 127.0.0.1 (it
# may already have a connection there from boot, which a mount of another of the
# server's addresses would share: the export is given to 127.0.0.1 too).
S=/srv/dvolsd
unit=$(systemd-escape -p --suffix=mount "$S")
mkdir -p "$S"
exportfs -o rw,sync,no_subtree_check,no_root_squash "127.0.0.1:$EXP"
on_exit "exportfs -u 127.0.0.1:$EXP"
cat >"/run/systemd/system/$unit" <<EOF
[Mount]
What=127.0.0.1:$EXP
Where=$S
Type=dvol
Options=writer=exclusive
EOF
on_exit "systemctl stop $unit 2>/dev/null; rm -f /run/systemd/system/$unit; systemctl daemon-reload"
systemctl daemon-reload
unit_has_writer() { # unit_has_writer UNIT: a dvol-writer runs in UNIT's control group
	local cg p
	cg=$(systemctl show -p ControlGroup --value "$1")
	[ -n "$cg" ] || return 1
	for p in $(cat "/sys/fs/cgroup$cg/cgroup.procs" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dvol-writer ] && return 0
	done
	return 1
}
check "systemctl start $unit (Type=dvol, writer=exclusive)" systemctl start "$unit"
systemctl status --no-pager "$unit" 2>&1 | tail -n 8 | diag
check "...mounted" mounted "$S"
check "...read-write within 5 s" within 5 sh -c "findmnt -rn --mountpoint $S >/dev/null && $(declare -f writable); writable $S"
check "...its holder runs in the unit's control group" unit_has_writer "$unit"
sleep 3
check "...and still holds 3 s later: writable" writable "$S"
check "...the record names this guest" test "$(holder "$S")" = "$(hostname)"
check "systemctl stop $unit" systemctl stop "$unit"
check "...unmounted" not_mounted "$S"
check "...no dvol-writer left in its control group" sh -c "! systemctl is-active -q $unit"
run_rc H 2 mount -t dvol "10.77.2.1:$EXP" "$X2" -o writer=exclusive
check "...the lease is free: host2 holds it (rc=$RC)" within 5 writable "$X2"
check "...its record names host2" test "$(holder "$X2")" = host2
umount "$X2"
journalctl -t dvol-writer --no-pager -o short-precise | tail -n 30 | diag
done_testing
