#!/bin/bash
# dvol-writer, the one writer's lease, as far as this kernel goes. It has no NFS client:
# a lease across two hosts, a server's lease running out and a holder cut off from its
# server are the VM tier's. Here the volume is a folder of a tmpfs bound on several
# targets, as if each were another host's mount; open file description locks on it give
# real mutual exclusion between processes, which is what dvol-writer builds on, and the
# mounts, the fences and the takeovers are real.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/writer-lib.sh"
need jq stat strings

V=$T/vol
mkdir -p "$V" "$T/a" "$T/b" "$T/plain"
mount --bind "$V" "$T/a"
mount --bind "$V" "$T/b"
on_exit 'for p in $(pgrep -x dvol-writer); do kill -KILL "$p"; done'

json_has() { jq -e "$1" >/dev/null <<<"$2"; } # json_has FILTER JSON
# writer_of TARGET JSON: the writer object of TARGET's entry in dvol-volumes status --json
# (null without one; nothing when there is no entry).
writer_of() { jq -c --arg t "$1" '.[] | select(.target == $t) | .writer' <<<"$2"; }
# gen_of TARGET: the generation dvol-writer status --json reports through TARGET.
gen_of() { dvol-writer status "$1" --json | jq -r '(.holder // .last_holder).generation'; }
# field NAME WORD KEY: KEY of the record on NAME's WORD line.
field() { sed -n "s/^$2 //p" "$T/$1.ready" | head -1 | jq -r ".$3"; }

# --- usage -------------------------------------------------------------------------------
expect_rc 0 "dvol-writer --help" dvol-writer --help
check "...names the commands" sh -c "printf '%s' \"\$1\" | grep -q 'hold TARGET' && printf '%s' \"\$1\" | grep -q 'status TARGET'" _ "$OUT"
expect_rc 0 "dvol-writer --version" dvol-writer --version
expect_rc 1 "no command: a usage error" dvol-writer
expect_msg "Try 'dvol-writer --help'" "...pointing at --help"
expect_rc 1 "an unknown command" dvol-writer grab "$T/a"
expect_msg "unknown command 'grab'" "...named"
expect_rc 1 "a relative TARGET" dvol-writer hold a
expect_msg "not an absolute path" "...said so"
expect_rc 1 "--lease-time=1: shorter than the 2 s a lease can be" dvol-writer hold "$T/a" --lease-time=1
expect_msg "lease-time=1: the server's lease is 2 s to 1 h" "...said so"
expect_rc 1 "--on-conflict=steal" dvol-writer hold "$T/a" --on-conflict=steal
expect_msg "ro, fail or wait" "...with the choices"
expect_rc 1 "--ready-fd that is not open" dvol-writer hold "$T/a" --ready-fd=77
expect_rc 2 "hold on a folder that is not a mount point: exit 2" dvol-writer hold "$T/plain"
expect_msg "is not a mount point" "...said so"
check "...and nothing was made there" test -z "$(ls -A "$T/plain")"

# --- mount.dvol's options -----------------------------------------------------------------
NFS=nfs://127.0.0.1:9/export
mkdir -p "$T/src" "$T/dst"
expect_rc 1 "mount.dvol: writer=exclusive on a folder that is not on NFS: a usage error" \
	mount -t dvol "$T/src" "$T/dst" -o writer=exclusive
expect_msg "option 'writer=exclusive' needs a folder on NFS.*$T/src is not on NFS" \
	"...saying where writer= applies"
check "...nothing mounted" not_mounted "$T/dst"
expect_rc 1 "...on-conflict= without writer=exclusive" mount -t dvol "$T/src" "$T/dst" -o on-conflict=wait
expect_msg "option 'on-conflict=' sets how the one writer's lease is kept" "...naming it"
LOOPDEV=$(mkloop 16M)
expect_rc 1 "...writer=exclusive on a block device" mount -t dvol "$LOOPDEV" "$T/dst" -o writer=exclusive
expect_msg "option 'writer=' applies to NFS exports and folders on NFS" "...saying where it applies"
expect_rc 1 "NFS, on-conflict= without writer=exclusive: a usage error" \
	mount -t dvol "$NFS" "$T/dst" -o on-conflict=fail,probe-timeout=1
expect_msg "'writer=exclusive' is not given" "...saying so"
expect_rc 1 "NFS, wait-timeout= without on-conflict=wait" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,wait-timeout=5,probe-timeout=1
expect_msg "'on-conflict=wait' is not given" "...saying so"
for o in nolock local_lock=all local_lock=posix local_lock=flock; do
	expect_rc 1 "NFS, writer=exclusive with $o: a usage error" \
		mount -t dvol "$NFS" "$T/dst" -o "writer=exclusive,$o,probe-timeout=1"
	expect_msg "option '${o%%=*}' keeps locks on this host, so that another host could write" \
		"...saying that locks would stay on this host"
done
expect_rc 1 "NFS, writer=exclusive with ro: a usage error" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,ro,probe-timeout=1
expect_msg "'writer=exclusive' and 'ro' do not go together" "...saying so"
expect_rc 1 "NFS, lease-time=1s: out of range" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,lease-time=1s,probe-timeout=1
expect_msg "lease-time=1s' is not the server's lease time" "...saying so"
expect_rc 1 "NFS, writer=exclusive with heal: a usage error" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,heal,probe-timeout=1
expect_msg "'writer=exclusive' and 'heal' on $NFS do not go together.*nothing was mounted" \
	"...saying so, before any probe"
check "...nothing mounted" not_mounted "$T/dst"
# No server here: the probe fails, and the lease's holder, forked before it, ends unasked.
staged() { find /run/dvol/heal -maxdepth 1 -name 'new.*' 2>/dev/null | wc -l; }
before=$(staged)
expect_rc 32 "NFS, writer=exclusive, no server: exit 32" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,local_lock=none,probe-timeout=1
expect_msg "NFS server 127.0.0.1:9 .*is not usable" "...the probe's failure, as without the lease"
check "...nothing mounted" not_mounted "$T/dst"
check "...no dvol-writer left waiting" within 20 eval '! pgrep -x dvol-writer >/dev/null'
check "...no staging folder left" test "$(staged)" = "$before"
expect_rc 32 "NFS, writer=shared: the default, on to the probe (no server here: exit 32)" \
	mount -t dvol "$NFS" "$T/dst" -o writer=shared,probe-timeout=1
check "...nothing mounted" not_mounted "$T/dst"
# An export is mounted first in heal's staging folder, /run/dvol/heal (t-heal): a link
# planted there is refused before anything is mounted or a holder started. /run/dvol is
# this test's own here.
mkdir -p /run/dvol "$T/elsewhere-heal"
mount -t tmpfs -o mode=0700 dvol-run /run/dvol
ln -s "$T/elsewhere-heal" /run/dvol/heal
expect_rc 32 "NFS, writer=exclusive, /run/dvol/heal a symbolic link: exit 32" \
	mount -t dvol "$NFS" "$T/dst" -o writer=exclusive,local_lock=none,probe-timeout=1
expect_msg "writer=exclusive: /run/dvol/heal, or a folder above it, is a symbolic link.*nothing was mounted" \
	"...naming it"
check "...nothing made where it points" test -z "$(ls -A "$T/elsewhere-heal")"
check "...nothing mounted" not_mounted "$T/dst"
check "...and no holder started" within 20 eval '! pgrep -x dvol-writer >/dev/null'
umount /run/dvol

# --- through mount(8) ------------------------------------------------------------------------
# The host has no NFS client: the test build of mount.dvol takes a folder of any filesystem
# for writer=exclusive when DVOL_TEST_WRITER_ANY_FS is set (the release build never does).
R=${DVOL_RELEASE_BUILD:-}
if [ -n "$R" ] && [ -x "$R/mount.dvol" ]; then
	check "the release mount.dvol has no DVOL_TEST_WRITER_ANY_FS" \
		sh -c "! strings '$R/mount.dvol' | grep -q DVOL_TEST_WRITER_ANY_FS"
	check "...the test build has it (so the check above can fail)" \
		sh -c "strings '$BUILD/mount.dvol' | grep -q DVOL_TEST_WRITER_ANY_FS"
else
	not_ok "no release build named by DVOL_RELEASE_BUILD (tests/host/run sets it)"
fi
export DVOL_TEST_WRITER_ANY_FS=1
W=$T/wvol
mkdir -p "$W" "$T/m1" "$T/m2" "$T/m3" "$T/m4" "$T/m5"
expect_rc 0 "mount -t dvol -o writer=exclusive: exit 0" mount -t dvol "$W" "$T/m1" -o writer=exclusive,lease-time=6
check "...read-write: the lease is held" writable "$T/m1"
check "...utab records dvol.writer=held" grep -q "TARGET=$T/m1 .*dvol.writer=held" /run/mount/utab
expect_rc 0 "...dvol-writer status: held there" dvol-writer status "$T/m1" --json
check "...with its mount point ($OUT)" json_has ".state == \"held\" and .holder.mount_point == \"$T/m1\" and .holder.generation == 1" "$OUT"
check "...the holder outlives mount.dvol" sh -c 'pgrep -x dvol-writer >/dev/null'
n_writers=$(pgrep -cx dvol-writer)
expect_rc 0 "mount.dvol -f with writer=exclusive prints the plan" \
	mount.dvol -f "$W" "$T/m5" -o writer=exclusive,on-conflict=wait
check "...a writer row ($OUT)" grep -q "^writer: *exclusive: bound read-only.*on-conflict=wait" <<<"$OUT"
check "...and starts no holder" test "$(pgrep -cx dvol-writer)" = "$n_writers"
expect_rc 0 "a second mount of the volume (on-conflict=ro): exit 0" \
	mount -t dvol "$W" "$T/m2" -o writer=exclusive
check "...read-only" read_only "$T/m2"
expect_msg "$T/m2 is mounted read-only: the writer's lease is held by $(uname -n) .*mount point $T/m1" \
	"...naming the holder"
check "...utab records dvol.writer=ro" grep -q "TARGET=$T/m2 .*dvol.writer=ro" /run/mount/utab
check "...and the first is still writable" writable "$T/m1"

# dvol-volumes status: the lease of each writer=exclusive volume, as dvol-writer says it.
mkdir -p "$T/plainsrc" "$T/plain1"
mount -t dvol "$T/plainsrc" "$T/plain1"
gen=$(gen_of "$T/m1")
check "dvol-writer status --json names a generation ($gen)" test "$gen" -ge 1
t0=$(date +%s%N)
expect_rc 0 "dvol-volumes status --json with two writer=exclusive volumes: exit 0" \
	dvol-volumes status --json
ms=$((($(date +%s%N) - t0) / 1000000))
check "...within 3 s (${ms} ms)" test "$ms" -lt 3000
st=$OUT
w1=$(writer_of "$T/m1" "$st")
w2=$(writer_of "$T/m2" "$st")
check "...the holder's mount: mode held, held by this very mount ($w1)" \
	json_has ".mode == \"held\" and .state == \"held\" and .record == \"valid\" and .this_mount == true" "$w1"
check "...naming this host, its mount point, and dvol-writer's generation" \
	json_has ".holder.this_host == true and .holder.hostname == \"$(uname -n)\" and .holder.mount_point == \"$T/m1\" and .holder.generation == $gen and .holder.heartbeat_age >= 0" "$w1"
check "...the read-only one: mode ro, held by another mount ($w2)" \
	json_has ".mode == \"ro\" and .state == \"held\" and .this_mount == false" "$w2"
check "...naming the holder: its host, mount point and generation, as dvol-writer status there" \
	json_has ".holder.hostname == \"$(uname -n)\" and .holder.mount_point == \"$T/m1\" and .holder.generation == $(gen_of "$T/m2")" "$w2"
check "...and a volume without writer=exclusive has no writer key" \
	test "$(writer_of "$T/plain1" "$st")" = null
expect_rc 0 "dvol-volumes status (for a person): exit 0" dvol-volumes status
check "...below the holder's line: held by this mount" \
	sh -c "printf '%s\n' \"\$0\" | grep -A1 '^$T/m1 ' | grep -q '^  writer: mounted read-write, as the lease.s holder; lease held by this mount: $(uname -n), this host .*mount point $T/m1.*generation $gen'" "$OUT"
check "...below the read-only one's: held by the other, named" \
	sh -c "printf '%s\n' \"\$0\" | grep -A1 '^$T/m2 ' | grep -q '^  writer: mounted read-only, as another held the lease; lease held by $(uname -n), this host .*mount point $T/m1), since .*generation $gen.*s ago)'" "$OUT"
check "...and no writer line below the plain volume's" \
	sh -c "printf '%s\n' \"\$0\" | grep -A1 '^$T/plain1 ' | tail -1 | grep -vq 'writer:'" "$OUT"
umount "$T/plain1"
expect_rc 32 "on-conflict=fail: exit 32" mount -t dvol "$W" "$T/m3" -o writer=exclusive,on-conflict=fail
expect_msg "the writer's lease is held by $(uname -n) .*nothing was mounted \\(on-conflict=fail\\)" \
	"...naming the holder"
check "...nothing mounted" not_mounted "$T/m3"
expect_rc 32 "on-conflict=wait with wait-timeout=1 while it is held: exit 32" \
	mount -t dvol "$W" "$T/m3" -o writer=exclusive,on-conflict=wait,wait-timeout=1
expect_msg "still held by .* after 1 s \\(wait-timeout=\\); nothing was mounted" "...saying so"
check "...nothing mounted" not_mounted "$T/m3"
mount -t dvol "$W" "$T/m4" -o writer=exclusive,on-conflict=wait,wait-timeout=60,lease-time=6 \
	2>"$T/m4.err" &
m4=$!
sleep 1
check "on-conflict=wait: still waiting while the first holds it" kill -0 "$m4"
check "...nothing mounted there yet, or only read-only" sh -c "! findmnt -rn -o OPTIONS --mountpoint '$T/m4' | grep -q '^rw'"
expect_rc 0 "umount of the first: works" umount "$T/m1"
t0=$(date +%s%N)
check "...the waiting mount ends within 3 s" within 30 gone "$m4"
check "...with exit 0" test "$(exit_of "$m4")" = 0
echo "# $((($(date +%s%N) - t0) / 1000000)) ms after the umount"
check "...read-write" writable "$T/m4"
check "...generation 2" test "$(jq -r .generation "$W/.dvol/writer.lock")" = 2
check "...utab says held" grep -q "TARGET=$T/m4 .*dvol.writer=held" /run/mount/utab
expect_rc 0 "dvol-volumes status --json after the holder's umount" dvol-volumes status --json
st=$OUT
check "...the unmounted holder's entry is gone" test -z "$(writer_of "$T/m1" "$st")"
check "...the waiting mount that took over: held by this very mount, generation 2" \
	json_has ".mode == \"held\" and .state == \"held\" and .this_mount and .holder.generation == 2" "$(writer_of "$T/m4" "$st")"
check "...the read-only one names the new holder ($(writer_of "$T/m2" "$st"))" \
	json_has ".mode == \"ro\" and .state == \"held\" and .this_mount == false and .holder.mount_point == \"$T/m4\" and .holder.generation == 2" "$(writer_of "$T/m2" "$st")"
pid=$(jq -r .pid "$W/.dvol/writer.lock")
kill -KILL "$pid"
check "kill -9 of its holder: read-only within 3 s" within 30 read_only "$T/m4"
check "...dvol-volumes status --json: the lease is free on both, within 3 s" within 30 \
	sh -c "dvol-volumes status --json | jq -e '[.[] | select(.writer) | .writer.state] == [\"free\", \"free\"]' >/dev/null"
st=$(dvol-volumes status --json)
check "...the fenced holder's mount: mode still held, the lease free, its last holder itself" \
	json_has ".mode == \"held\" and .state == \"free\" and .last_holder.mount_point == \"$T/m4\" and .last_holder.generation == 2 and (has(\"this_mount\") | not)" "$(writer_of "$T/m4" "$st")"
expect_rc 0 "dvol-volumes status: exit 0" dvol-volumes status
check "...says free, and who held it last" \
	sh -c "printf '%s\n' \"\$0\" | grep -A1 '^$T/m2 ' | grep -q '^  writer: mounted read-only, as another held the lease; lease free; last held by $(uname -n), this host .*mount point $T/m4.*generation 2'" "$OUT"
umount "$T/m4" "$T/m2"
check "no holder left" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'
unset DVOL_TEST_WRITER_ANY_FS

# --- nothing held yet ----------------------------------------------------------------------
expect_rc 3 "status before any lease: exit 3" dvol-writer status "$T/b"
check "...'no writer's lease was taken here yet' ($OUT)" grep -q "no writer's lease was taken" <<<"$OUT"
for s in / //; do
	expect_rc 3 "...the same through TARGET$s" dvol-writer status "$T/b$s" --json
	check "...at the mount TARGET names ($OUT)" json_has ".target == \"$T/b\" and .record == \"none\"" "$OUT"
done
for s in / //; do
	expect_rc 3 "status $s: exit 3, as before" dvol-writer status "$s" --json
	check "...the root mount ($OUT)" json_has '.target == "/" and .state == "free"' "$OUT"
done
check "...and status made nothing in the volume" test ! -e "$V/.dvol"

# --- the first holder ----------------------------------------------------------------------
hold A "$T/a" --lease-time=6
check "the first holder reports 'held' within 5 s" within 50 reported A held
rec=$V/.dvol/writer.lock
check "...its record is there, one block of 4096 bytes" test "$(stat -c %s "$rec" 2>/dev/null)" = 4096
check "...a JSON object that jq reads" sh -c "jq -e . '$rec' >/dev/null"
check "...generation 1" test "$(jq -r .generation "$rec")" = 1
check "...its mount point" test "$(jq -r .mount_point "$rec")" = "$T/a"
check "...its pid" test "$(jq -r .pid "$rec")" = "$(pid_of A)"
check "...this machine's id" test "$(jq -r .machine_id "$rec")" = "$(cat /etc/machine-id)"
check "...this boot's id" test "$(jq -r .boot_id "$rec")" = "$(cat /proc/sys/kernel/random/boot_id)"
check "...this host's name" test "$(jq -r .hostname "$rec")" = "$(uname -n)"
check "...the same record it reported" test "$(field A held since)" = "$(jq -r .since "$rec")"
check "...in .dvol (0755) as a file of mode 0644" \
	test "$(stat -c %a "$V/.dvol")/$(stat -c %a "$rec")" = 755/644
check "...and its mount stays writable" writable "$T/a"
sandbox_check "...the holder runs under seccomp (Seccomp: 2)" \
	grep -qx 'Seccomp:[[:space:]]*2' "/proc/$(pid_of A)/status"
since=$(jq -r .since "$rec")
check "...its heartbeat (every lease/6, 1 s here) moves on" \
	within 50 sh -c "[ \"\$(jq -r .heartbeat '$rec')\" -ge $((since + 2)) ]"

expect_rc 0 "status while held: exit 0" dvol-writer status "$T/b"
check "...'held by' the host, its mount point and generation ($OUT)" \
	grep -q "held by $(uname -n), this host .*mount point $T/a.*generation 1" <<<"$OUT"
expect_rc 0 "status --json" dvol-writer status "$T/b" --json
check "...state held, holder's pid and generation ($OUT)" \
	json_has ".state == \"held\" and .record == \"valid\" and .holder.pid == $(pid_of A) and .holder.generation == 1 and .holder.this_host" "$OUT"
# TARGET/ and TARGET// name TARGET, as for mount(8).
for s in / //; do
	expect_rc 0 "status through TARGET$s: held" dvol-writer status "$T/b$s"
	check "...by the first holder ($OUT)" grep -q "held by $(uname -n), this host .*mount point $T/a.*generation 1" <<<"$OUT"
	expect_rc 0 "...--json" dvol-writer status "$T/b$s" --json
	check "...at the mount TARGET names, the holder's pid ($OUT)" \
		json_has ".target == \"$T/b\" and .state == \"held\" and .holder.pid == $(pid_of A)" "$OUT"
done

# --- a second writer -----------------------------------------------------------------------
hold B "$T/b" --on-conflict=ro
check "a second holder (on-conflict=ro) ends" within 50 gone "$(pid_of B)"
check "...with exit 3" test "$(exit_of "$(pid_of B)")" = 3
check "...reporting 'conflict' with the first's record" test "$(field B conflict mount_point)" = "$T/a"
check "...its pid" test "$(field B conflict pid)" = "$(pid_of A)"
check "...and saying who holds it" grep -q "lease is held by $(uname -n), this host .*mount point $T/a" "$T/B.err"
check "...its mount left as it was (writable: mount.dvol decides)" writable "$T/b"
check "...and the first still holds it" kill -0 "$(pid_of A)"
expect_rc 3 "on-conflict=fail: exit 3 as well" timeout 20 dvol-writer hold "$T/b" --on-conflict=fail
t0=$(date +%s%N)
expect_rc 3 "on-conflict=wait, wait-timeout=1: exit 3 after the wait" \
	timeout 20 dvol-writer hold "$T/b" --on-conflict=wait --wait-timeout=1
ms=$((($(date +%s%N) - t0) / 1000000))
check "...which took about a second (${ms} ms)" test "$ms" -ge 900 -a "$ms" -lt 5000
expect_msg "still, after the wait" "...and said it waited"
check "...the record is still the first's" test "$(jq -r .pid "$rec")" = "$(pid_of A)"

# --- a clean takeover ----------------------------------------------------------------------
hold C "$T/b" --on-conflict=wait --wait-timeout=60 --lease-time=6
check "a waiting holder reports the conflict first" within 50 reported C conflict
check "...and waits" kill -0 "$(pid_of C)"
expect_rc 0 "a plain umount of the first holder's mount works: nothing pins it" umount "$T/a"
t0=$(date +%s%N)
check "...the first holder lets go at once (within 2 s)" within 20 gone "$(pid_of A)"
check "...with exit 0" test "$(exit_of "$(pid_of A)")" = 0
check "...the waiting one holds it within 3 s" within 30 reported C held
ms=$((($(date +%s%N) - t0) / 1000000))
check "...(${ms} ms after the umount)" test "$ms" -lt 3000
check "...generation 2" test "$(field C held generation)" = 2
check "...and the record says so: its mount point and pid" \
	test "$(jq -r '"\(.generation) \(.mount_point) \(.pid)"' "$rec")" = "2 $T/b $(pid_of C)"
check "...its mount is writable" writable "$T/b"

# --- the holder dies -----------------------------------------------------------------------
kill -KILL "$(pid_of C)"
check "kill -9 of the holder: its mount is read-only within 3 s" within 30 read_only "$T/b"
check "...findmnt says ro" sh -c "findmnt -rn -o OPTIONS --mountpoint '$T/b' | grep -q '^ro'"
check "...and the lock is free" within 30 sh -c "dvol-writer status '$T/b' >/dev/null; [ \$? = 3 ]"
expect_rc 3 "status: free, naming the last holder" dvol-writer status "$T/b"
check "...'last held by' ($OUT)" grep -q "free; last held by .*generation 2" <<<"$OUT"
check "...no helper left behind" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'

# --- stopped by a signal -------------------------------------------------------------------
mkdir -p "$T/d"
mount --bind "$V" "$T/d"
hold D "$T/d" --lease-time=6
check "a holder on a fresh mount: held" within 50 reported D held
check "...generation 3" test "$(field D held generation)" = 3
kill -TERM "$(pid_of D)"
check "SIGTERM: it ends" within 30 gone "$(pid_of D)"
check "...with exit 0" test "$(exit_of "$(pid_of D)")" = 0
check "...its mount made read-only first" read_only "$T/d"
check "...and said so" grep -q "stopped.*read-only (fenced)" "$T/D.err"
expect_rc 3 "...and the lease is free" dvol-writer status "$T/d"

# --- stopped (SIGSTOP): it cannot fence itself, its watcher does ---------------------------------
mkdir -p "$T/s"
mount --bind "$V" "$T/s"
hold S "$T/s" --lease-time=2
check "a holder with a 2 s lease: held" within 50 reported S held
check "...writable" writable "$T/s"
kill -STOP "$(pid_of S)"
check "SIGSTOP: its mount is read-only within 4 s (no heartbeat for lease/2 and one more)" within 40 read_only "$T/s"
kill -CONT "$(pid_of S)"
check "...SIGCONT: the holder finds its watcher gone, and ends" within 50 gone "$(pid_of S)"
check "...with exit 32 (fenced)" test "$(exit_of "$(pid_of S)")" = 32
expect_rc 3 "...and the lease is free" dvol-writer status "$T/s"

# --- fence by hand --------------------------------------------------------------------------
mkdir -p "$T/e"
mount --bind "$V" "$T/e"
check "a fresh mount is writable" writable "$T/e"
expect_rc 0 "dvol-writer fence: exit 0" dvol-writer fence "$T/e"
check "...the mount is read-only" read_only "$T/e"
expect_msg "read-only \\(fenced\\)" "...and it says so"
check "...the other mounts of the volume are not" writable "$V"
# A file open for writing keeps a mount from turning read-only (EBUSY): the fence detaches it.
mkdir -p "$T/f"
mount --bind "$V" "$T/f"
sleep 60 3>"$T/f/open-for-writing" &
writer_pid=$!
expect_rc 0 "fence with a file open for writing there: exit 0" dvol-writer fence "$T/f"
expect_msg "could not be made read-only, and was detached \\(fenced\\)" "...it was detached instead, and says so"
check "...nothing is mounted there any more" not_mounted "$T/f"
check "...the writer keeps its file (detached, not gone)" kill -0 "$writer_pid"
kill "$writer_pid"
wait "$writer_pid" 2>/dev/null

# --- files still open for writing keep the lease ----------------------------------------------
# free: the lease is free, as status sees it from another mount of the volume.
free() { dvol-writer status "$T/b" >/dev/null 2>&1; [ $? = 3 ]; }
# The holder dies while a program has a file open for writing on its mount: the fence can
# only detach it, and the program keeps writing to the volume; so the watcher, which shares
# the lock, keeps it until the file is closed.
mkdir -p "$T/g" "$T/h"
mount --bind "$V" "$T/g"
mount --bind "$V" "$T/h"
hold G "$T/g" --lease-time=6
check "a holder on a fresh mount: held" within 50 reported G held
sleep 600 3>"$T/g/kept-open" &
wpid=$!
kill -KILL "$(pid_of G)"
check "kill -9 of the holder with a file open for writing: the mount is detached" \
	within 30 not_mounted "$T/g"
sleep 2
check "...the lease is still held 2 s later" sh -c "dvol-writer status '$T/b' >/dev/null"
hold H "$T/h" --on-conflict=ro
check "...a second holder finds it held (exit 3)" within 50 gone "$(pid_of H)"
check "...exit 3" test "$(exit_of "$(pid_of H)")" = 3
check "...the watcher says why" grep -q "still open for writing on the volume (process $wpid).*kept until it is closed" "$T/G.err"
kill "$wpid"
wait "$wpid" 2>/dev/null
check "...the file closed: the lease is free within 3 s" within 30 free
check "...and no dvol-writer is left" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'
# A lazy umount with a file open for writing: the holder keeps the lease, heartbeat and all,
# until it is closed.
mkdir -p "$T/l"
mount --bind "$V" "$T/l"
hold L "$T/l" --lease-time=6
check "a holder on a fresh mount: held" within 50 reported L held
sleep 600 3>"$T/l/kept-open" &
wpid=$!
umount -l "$T/l"
sleep 2
check "umount -l with a file open for writing: the holder still runs 2 s later" kill -0 "$(pid_of L)"
check "...the lease is held" sh -c "dvol-writer status '$T/b' >/dev/null"
check "...and it says why" grep -q "was unmounted, but 1 file is still open for writing on the volume (process $wpid)" "$T/L.err"
kill "$wpid"
wait "$wpid" 2>/dev/null
check "...the file closed: the holder ends within 3 s" within 30 gone "$(pid_of L)"
check "...with exit 0" test "$(exit_of "$(pid_of L)")" = 0
check "...the lease is free" free
# The same umount -l with no file open: released at once.
mount --bind "$V" "$T/l"
hold M "$T/l" --lease-time=6
check "a holder again: held" within 50 reported M held
umount -l "$T/l"
check "umount -l, nothing open: the holder ends within 2 s" within 20 gone "$(pid_of M)"
check "...the lease is free" free

# --- a container's bind of the volume ---------------------------------------------------------
# A "container": a mount namespace of its own, with a bind of the holder's mount made in it,
# as a runtime gives a container its volume. The fence makes that bind read-only too.
mkdir -p "$T/k" "$T/kc"
mount --bind "$V" "$T/k"
hold K "$T/k" --lease-time=6
check "a holder on a fresh mount: held" within 50 reported K held
unshare -m --propagation private sh -c \
	"mount --bind '$T/k' '$T/kc' && echo ready >'$T/kc.ready' && exec sleep 600" &
cpid=$!
in_container() { nsenter -t "$cpid" -m "$@"; }
check "the container's bind is made" within 50 test -s "$T/kc.ready"
check "...and writable" in_container sh -c "touch '$T/kc/c1' && rm '$T/kc/c1'"
check "...not a mount in this namespace" not_mounted "$T/kc"
kill -KILL "$(pid_of K)"
check "kill -9 of the holder: the container's bind is read-only within 3 s" \
	within 30 in_container sh -c "! touch '$T/kc/c2' 2>/dev/null"
check "...findmnt there says ro" \
	in_container sh -c "findmnt -rn -o VFS-OPTIONS --mountpoint '$T/kc' | grep -q '^ro'"
check "...the watcher said so" grep -q "other mounts\? of the volume in other mount namespaces.*made read-only" "$T/K.err"
check "...and the lease is free" within 30 free
# The same with a file open for writing in the container: its bind is detached, and the
# lease kept until the file is closed.
kill "$cpid"
wait "$cpid" 2>/dev/null
mkdir -p "$T/k2"
mount --bind "$V" "$T/k2"
hold K2 "$T/k2" --lease-time=6
check "a holder on a fresh mount: held" within 50 reported K2 held
rm -f "$T/kc.ready"
unshare -m --propagation private sh -c \
	"mount --bind '$T/k2' '$T/kc' && echo ready >'$T/kc.ready' && exec sleep 600 3>'$T/kc/container-file'" &
cpid=$!
check "a container with a file open for writing on its bind" within 50 test -s "$T/kc.ready"
check "...the file is on the volume" within 50 test -e "$V/container-file"
kill -KILL "$(pid_of K2)"
check "kill -9 of the holder: the container's bind, busy, is detached" \
	within 30 in_container sh -c "! findmnt -rn --mountpoint '$T/kc' >/dev/null"
check "...and said so" grep -q "1 other mount of the volume in other mount namespaces.*detached (a write kept it busy)" "$T/K2.err"
diag <"$T/K2.err"
sleep 2
check "...the lease is still held 2 s later (the container's file is open)" \
	sh -c "dvol-writer status '$T/b' >/dev/null"
check "...the watcher names the container's process" \
	grep -q "still open for writing on the volume (process $cpid)" "$T/K2.err"
kill "$cpid"
wait "$cpid" 2>/dev/null
check "...the container gone: the lease is free within 3 s" within 30 free
check "...and no dvol-writer is left" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'

# --- TARGET's spelling, and the mount behind it ------------------------------------------------
# The holder names its mount as mountinfo spells it and fences it by its mount id: a link on
# the way to TARGET, or another spelling of it, turns no other mount read-only.
X=$T/x
mkdir -p "$X/real/m" "$X/other/m"
mount --bind "$V" "$X/real/m"
mount --bind "$V" "$X/other/m"
ln -s real "$X/link"
id_real=$(findmnt -rn -o ID --mountpoint "$X/real/m")
hold N "$X/link/m" --lease-time=6
check "TARGET through a symbolic link (x/link -> x/real): held" within 50 reported N held
check "...the record names the mount it leads to" test "$(field N held mount_point)" = "$X/real/m"
expect_rc 0 "...status through the link: held" dvol-writer status "$X/link/m" --json
check "...at that mount ($OUT)" \
	json_has ".target == \"$X/real/m\" and .holder.pid == $(pid_of N)" "$OUT"
ln -sfn other "$X/link"
kill -KILL "$(pid_of N)"
check "the link moved to another mount of the volume, then kill -9: the mount it led to is read-only within 3 s" \
	within 30 read_only "$X/real/m"
check "...that very mount (id $id_real)" \
	test "$(findmnt -rn -o ID,VFS-OPTIONS --mountpoint "$X/real/m" | cut -d, -f1)" = "$id_real ro"
check "...and the mount the link leads to now is left writable" writable "$X/other/m"
check "...the lease is free" within 30 free

# The mount replaced behind the same name: unmounted lazily while its holder is stopped,
# and another folder bound there. The kernel gives the new mount the lowest free id, most
# often the one just freed: that id alone does not tell the two apart.
# replace_at MNT DIR: MNT unmounted lazily, DIR bound there instead (again, up to 5 times,
# until the new mount has the old one's id); prints both ids.
replace_at() {
	local old new i
	old=$(findmnt -rn -o ID --mountpoint "$1")
	umount -l "$1"
	for ((i = 1; ; i++)); do
		sleep 0.2
		mount --bind "$2" "$1"
		new=$(findmnt -rn -o ID --mountpoint "$1")
		[ "$new" = "$old" ] || [ "$i" = 5 ] && break
		umount "$1"
	done
	echo "mount id $old, then $new"
}
mkdir -p "$X/s" "$X/s-new"
mount --bind "$V" "$X/s"
hold Q "$X/s" --lease-time=6
check "a holder on x/s: held" within 50 reported Q held
kill -STOP "$(pid_of Q)"
replace_at "$X/s" "$X/s-new" | diag
kill -KILL "$(pid_of Q)"
check "x/s replaced while its holder was stopped, then kill -9: the watcher ends" \
	within 50 sh -c '! pgrep -x dvol-writer >/dev/null'
check "...the watcher's fence leaves the new mount alone (still writable)" writable "$X/s"
check "...saying x/s is not the volume's mount any more" \
	grep -q "no longer the volume's mount; nothing to fence" "$T/Q.err"
check "...the lease is free" within 30 free
umount "$X/s"
mount --bind "$V" "$X/s"
hold U "$X/s" --lease-time=6 -v
check "a holder on x/s again: held" within 50 reported U held
# Its first heartbeat: it watches the mount table by then.
hb=$(jq -r .heartbeat "$V/.dvol/writer.lock")
check "...its heartbeat moves on" within 30 sh -c "[ \"\$(jq -r .heartbeat '$V/.dvol/writer.lock')\" != '$hb' ]"
kill -STOP "$(pid_of U)"
replace_at "$X/s" "$X/s-new" | diag
kill -CONT "$(pid_of U)"
check "x/s replaced while its holder was stopped: the holder lets go within 3 s" \
	within 30 gone "$(pid_of U)"
kill -TERM "$(pid_of U)" 2>/dev/null && within 30 gone "$(pid_of U)"
check "...with exit 0" test "$(exit_of "$(pid_of U)")" = 0
check "...saying x/s was unmounted" grep -q "was unmounted; the writer's lease is released" "$T/U.err"
check "...the holder's release leaves the new mount alone (still writable)" writable "$X/s"
check "...the lease is free" within 30 free

# //x/n and x/./n name x/n; x/nothing/../n, with no x/nothing, names nothing.
mkdir -p "$X/n"
mount --bind "$V" "$X/n"
hold P "/$X/./n" --lease-time=6
check "TARGET spelled //x/./n: held" within 50 reported P held
check "...the record names x/n" test "$(field P held mount_point)" = "$X/n"
for s in "/$X/n" "$X/./n" "$X/n/" "/$X/./n//"; do
	expect_rc 0 "status through $s: held" dvol-writer status "$s" --json
	check "...by that holder, at x/n" \
		json_has ".target == \"$X/n\" and .holder.pid == $(pid_of P)" "$OUT"
done
kill -TERM "$(pid_of P)"
check "...(stopped)" within 30 gone "$(pid_of P)"
mkdir -p "$X/fresh" "$X/f"
mount --bind "$X/fresh" "$X/f"
expect_rc 2 "hold x/nothing/../f, no x/nothing: exit 2" timeout 20 dvol-writer hold "$X/nothing/../f"
expect_msg "cannot open $X/nothing/\.\./f: No such file or directory" "...ENOENT, as the kernel says"
expect_rc 3 "...nothing held at x/f" dvol-writer status "$X/f"
check "...nothing made in the volume" test -z "$(ls -A "$X/fresh")"
check "...its mount left writable" writable "$X/f"
check "...and no holder left" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'

expect_rc 2 "fence on a folder that is not a mount point: exit 2" dvol-writer fence "$T/plain"
expect_msg "is not a mount point" "...said so"

# --- what a hostile volume may hold ----------------------------------------------------------
# new_volume NAME: a fresh volume folder bound on $T/NAME.mnt; prints nothing.
new_volume() {
	mkdir -p "$T/$1" "$T/$1.mnt"
	mount --bind "$T/$1" "$T/$1.mnt"
}
mkdir -p "$T/elsewhere"
new_volume v1
ln -s "$T/elsewhere" "$T/v1/.dvol"
expect_rc 2 ".dvol a symbolic link: refused, exit 2" timeout 20 dvol-writer hold "$T/v1.mnt"
expect_msg "symbolic link; refused" "...saying so"
check "...nothing made where it points" test -z "$(ls -A "$T/elsewhere")"
check "...and the mount left writable (nothing was held)" writable "$T/v1.mnt"
expect_rc 2 "...status refuses it too" dvol-writer status "$T/v1.mnt"

new_volume v2
mkdir "$T/v2/.dvol"
ln -s "$T/elsewhere/target" "$T/v2/.dvol/writer.lock"
expect_rc 2 ".dvol/writer.lock a dangling symbolic link: refused" timeout 20 dvol-writer hold "$T/v2.mnt"
check "...nothing made where it points" test -z "$(ls -A "$T/elsewhere")"
echo data >"$T/elsewhere/file"
ln -sf "$T/elsewhere/file" "$T/v2/.dvol/writer.lock"
expect_rc 2 "...one to an existing file: refused" timeout 20 dvol-writer hold "$T/v2.mnt"
check "...and that file is untouched" test "$(cat "$T/elsewhere/file")" = data

new_volume v3
mkdir "$T/v3/.dvol"
echo "precious data" >"$T/v3/data"
ln "$T/v3/data" "$T/v3/.dvol/writer.lock"
expect_rc 2 "writer.lock a hard link to another file of the volume: refused" \
	timeout 20 dvol-writer hold "$T/v3.mnt"
expect_msg "other hard links" "...saying so"
check "...and that file is untouched" test "$(cat "$T/v3/data")" = "precious data"

new_volume v4
mkdir "$T/v4/.dvol"
mkfifo "$T/v4/.dvol/writer.lock"
expect_rc 2 "writer.lock a FIFO: refused at once, no hang" timeout 20 dvol-writer hold "$T/v4.mnt"
expect_msg "not a regular file" "...saying so"

new_volume v5
touch "$T/v5/.dvol"
expect_rc 2 ".dvol a file: refused" timeout 20 dvol-writer hold "$T/v5.mnt"

new_volume v6
mkdir "$T/v6/.dvol"
printf 'garbage, not a record\n' >"$T/v6/.dvol/writer.lock"
expect_rc 3 "a garbage record: status exit 3" dvol-writer status "$T/v6.mnt"
check "...'unreadable', not trusted ($OUT)" grep -q "record left in .dvol/writer.lock is unreadable" <<<"$OUT"
expect_rc 3 "...status --json says record unreadable, and names no holder" dvol-writer status "$T/v6.mnt" --json
check "...($OUT)" json_has '.state == "free" and .record == "unreadable" and (has("last_holder") | not)' "$OUT"
hold G "$T/v6.mnt" --lease-time=6
check "a takeover over it: held" within 50 reported G held
check "...generation 1" test "$(field G held generation)" = 1
check "...warning that the old record was unreadable" grep -q "unreadable; overwriting it, generation 1" "$T/G.err"
check "...and the file is a good record now" test "$(jq -r .generation "$T/v6/.dvol/writer.lock")" = 1
hold H "$T/v6.mnt"
check "a second holder there meets the first" within 50 gone "$(pid_of H)"
check "...'conflict' naming it" test "$(field H conflict pid)" = "$(pid_of G)"
kill -TERM "$(pid_of G)"
check "...(stopped)" within 30 gone "$(pid_of G)"

new_volume v7
mkdir "$T/v7/.dvol"
# A good record followed by more than a record's worth: oversized, so not a record.
jq -c '.mount_point = "/planted" | .generation = 41' "$rec" >"$T/v7/.dvol/writer.lock"
head -c 6000 /dev/zero | tr '\0' ' ' >>"$T/v7/.dvol/writer.lock"
expect_rc 3 "an oversized record: status says unreadable" dvol-writer status "$T/v7.mnt"
check "...($OUT)" grep -q "unreadable" <<<"$OUT"
hold I "$T/v7.mnt" --lease-time=6
check "a takeover over it: held, generation 1" within 50 sh -c "grep -q '^held ' '$T/I.ready' && [ \"\$(sed -n 's/^held //p' '$T/I.ready' | jq -r .generation)\" = 1 ]"
check "...the file cut to one record" test "$(stat -c %s "$T/v7/.dvol/writer.lock")" = 4096
check "...nothing planted left in it" sh -c "! grep -q planted '$T/v7/.dvol/writer.lock'"
umount "$T/v7.mnt"
check "...and released on umount" within 30 gone "$(pid_of I)"

# A record that names another machine is believed for what it is: the holder's name.
new_volume v8
mkdir "$T/v8/.dvol"
jq -c '.hostname = "gpu-b" | .machine_id = "00000000000000000000000000000000" | .generation = 9' \
	"$rec" >"$T/v8/.dvol/writer.lock"
expect_rc 3 "a record of another host, not held: 'free; last held by gpu-b'" dvol-writer status "$T/v8.mnt"
check "...($OUT)" grep -q "free; last held by gpu-b (machine 00000000" <<<"$OUT"
hold J "$T/v8.mnt" --lease-time=6
check "a takeover from it: generation 10" within 50 sh -c "[ \"\$(sed -n 's/^held //p' '$T/J.ready' | jq -r .generation)\" = 10 ]"
umount "$T/v8.mnt"
check "...released on umount" within 30 gone "$(pid_of J)"

check "no dvol-writer left at the end" within 30 sh -c '! pgrep -x dvol-writer >/dev/null'
done_testing
