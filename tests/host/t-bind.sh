#!/bin/bash
# Instance volumes: a host folder bound through the real mount(8) and mount.dvol.
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$T/host" "$T/ctr/cache" "$T/ctr/ro" "$T/ctr/other"

# mount(8) finds the helper where it looks for helpers.
check "mount(8) sees mount.dvol in /sbin" test -x /sbin/mount.dvol

expect_rc 0 "create and bind a missing folder" \
	mount -t dvol "$T/host/cache" "$T/ctr/cache" -o create,mode=0750,uid=1234,gid=4321
check "the bind is mounted" mounted "$T/ctr/cache"
check "source created with mode 0750" test "$(stat -c %a "$T/host/cache")" = 750
check "source created with owner 1234:4321" test "$(stat -c %u:%g "$T/host/cache")" = 1234:4321
echo hello >"$T/ctr/cache/f"
check "a write through the target lands in the source" grep -q hello "$T/host/cache/f"
check "findmnt shows the bind of the folder" \
	sh -c "findmnt -rn -o SOURCE --mountpoint '$T/ctr/cache' | grep -q '\[.*/host/cache\]'"
check "utab records the dvol source" \
	grep -q "SRC=$T/host/cache TARGET=$T/ctr/cache .*ATTRS=dvol.kind=bind" /run/mount/utab
expect_rc 0 "findmnt --mountpoint finds it (libmount merges utab)" \
	findmnt --mountpoint "$T/ctr/cache"

n_before=$(findmnt -rn | wc -l)
expect_rc 0 "the same source on the same target again succeeds" \
	mount -t dvol "$T/host/cache" "$T/ctr/cache" -o create,mode=0750
check "...and changes nothing (no second mount)" test "$(findmnt -rn | wc -l)" -eq "$n_before"

mkdir -p "$T/host/other"
expect_rc 32 "a different source on a mounted target is exit 32" \
	mount -t dvol "$T/host/other" "$T/ctr/cache"
expect_msg "host/other" "...and the message names the new source"
expect_msg "host/cache" "...and the one already mounted"

expect_rc 0 "a read-only bind" mount -t dvol "$T/host/cache" "$T/ctr/ro" -o ro
check "findmnt says ro" sh -c "findmnt -rn -o OPTIONS --mountpoint '$T/ctr/ro' | grep -q '^ro'"
run_rc touch "$T/ctr/ro/new"
check "writing through the ro bind fails with EROFS" sh -c "[ $RC -ne 0 ] && echo '$ERR' | grep -q 'Read-only'"
check "the rw bind of the same folder stays writable" touch "$T/ctr/cache/still-rw"
expect_rc 32 "the same source again but rw on the ro target is refused" \
	mount -t dvol "$T/host/cache" "$T/ctr/ro"
expect_msg "read-only" "...saying it is mounted read-only"

mkdir -p "$T/ctr/flags"
expect_rc 0 "nosuid,nodev,noexec,noatime apply" \
	mount -t dvol "$T/host/cache" "$T/ctr/flags" -o nosuid,nodev,noexec,noatime
check "findmnt shows the flags" sh -c "findmnt -rn -o OPTIONS --mountpoint '$T/ctr/flags' | grep -q 'nosuid,nodev,noexec,noatime'"

expect_rc 0 "umount of the dvol mount works" umount "$T/ctr/cache"
check "...it is gone" not_mounted "$T/ctr/cache"
check "...and so is its utab entry" sh -c "! grep -q 'TARGET=$T/ctr/cache ' /run/mount/utab"
check "...and the data stays in the source" test -f "$T/host/cache/f"

# fstab: mount(8) reads the line and hands it to the helper.
mkdir -p "$T/ctr/fstab"
printf '%s %s dvol create,mode=0700,_netdev 0 0\n' "$T/host/fromfstab" "$T/ctr/fstab" >"$T/fstab"
expect_rc 0 "an fstab line of type dvol" mount -T "$T/fstab" "$T/ctr/fstab"
check "...is mounted with mode 0700 on the new source" test "$(stat -c %a "$T/host/fromfstab")" = 700
check "...and _netdev is in utab" grep -q "TARGET=$T/ctr/fstab .*OPTS=_netdev" /run/mount/utab

# Symlinks. mount(8) canonicalizes SOURCE and DIR before it runs the helper, so a link the
# user typed reaches mount.dvol already resolved; with -c (--no-canonicalize) it does not.
ln -s "$T/ctr/other" "$T/ctr/link"
expect_rc 32 "a symlink as the target is refused (mount -c)" \
	mount -c -t dvol "$T/host/cache" "$T/ctr/link"
expect_msg "mount point .*link is a symbolic link" "...with a message that says so"
check "...and nothing is mounted on the link's target" not_mounted "$T/ctr/other"
ln -s "$T/host/cache" "$T/host/srclink"
expect_rc 32 "a symlink as the source is refused (mount -c)" \
	mount -c -t dvol "$T/host/srclink" "$T/ctr/other"
expect_msg "source .*srclink is a symbolic link" "...with a message that says so"
check "...and nothing is mounted" not_mounted "$T/ctr/other"

# The race the fds close: the target is swapped for a symlink after mount(8) resolved it.
mkdir -p "$T/ctr/swap" "$T/elsewhere"
DVOL_DEBUG_STOP=resolve mount -t dvol "$T/host/cache" "$T/ctr/swap" 2>"$T/swap.err" &
mpid=$!
hpid=
for _ in $(seq 100); do
	hpid=$(pgrep -f "^/sbin/mount.dvol $T/host/cache $T/ctr/swap" || true)
	[ -n "$hpid" ] && [ "$(awk '/^State:/{print $2}' /proc/"$hpid"/status 2>/dev/null)" = T ] && break
	sleep 0.1
done
rmdir "$T/ctr/swap" && ln -s "$T/elsewhere" "$T/ctr/swap"
kill -CONT "$hpid" 2>/dev/null
wait $mpid
RC=$?
ERR=$(cat "$T/swap.err")
check "a target swapped for a symlink after mount(8) resolved it is refused (rc=$RC)" test "$RC" -eq 32
expect_msg "symbolic link" "...with a message that says so"
check "...and nothing is mounted where the link points" not_mounted "$T/elsewhere"

# Bad input: a clear error, the right exit code, no mount left.
expect_rc 32 "a missing source without create is exit 32" \
	mount -t dvol "$T/host/missing" "$T/ctr/other"
expect_msg "does not exist.*create" "...and the message says to use create"
check "...and no folder was made" test ! -e "$T/host/missing"
expect_rc 1 "an unknown option is exit 1" mount -t dvol "$T/host/cache" "$T/ctr/other" -o bogus=1
expect_msg "bogus=1" "...naming the option"
expect_rc 0 "with -s (sloppy) an unknown option is ignored" \
	mount -s -t dvol "$T/host/cache" "$T/ctr/other" -o bogus=1
umount "$T/ctr/other"
expect_rc 1 "a bad mode is exit 1" mount -t dvol "$T/host/cache" "$T/ctr/other" -o create,mode=999
expect_msg "mode=999" "...naming the option"
expect_rc 1 "a relative source is exit 1" /sbin/mount.dvol relative "$T/ctr/other"
expect_rc 1 "a '..' in the source is exit 1 (mount -c)" \
	mount -c -t dvol "$T/host/../host/cache" "$T/ctr/other"
expect_msg "'\.\.'" "...saying why"
expect_rc 1 "mkfs= on a folder is exit 1" mount -t dvol "$T/host/cache" "$T/ctr/other" -o mkfs=xfs
expect_rc 32 "a missing mount point is exit 32" mount -t dvol "$T/host/cache" "$T/ctr/nonexistent"
touch "$T/host/file"
expect_rc 32 "a file as the source is exit 32" mount -t dvol "$T/host/file" "$T/ctr/other"
check "no bad input left a mount behind" not_mounted "$T/ctr/other"

# -f: the plan, and nothing changes.
expect_rc 0 "-f prints the plan" mount -f -t dvol "$T/host/planned" "$T/ctr/other" -o create,mode=0700
check "...which says it would create the folder" sh -c "printf '%s' \"\$0\" | grep -q 'will be created'" "$OUT"
check "...and it was not created" test ! -e "$T/host/planned"
check "...and nothing is mounted" not_mounted "$T/ctr/other"

# An automount point (what x-systemd.automount leaves at the target) is mounted over.
# Nothing serves the automount here: any access to it would wait forever, so every
# access below is bounded.
if grep -qw autofs /proc/filesystems; then
	mkdir -p "$T/ctr/auto"
	mkfifo "$T/autofs.pipe"
	exec 7<>"$T/autofs.pipe"
	mount -t autofs -o "fd=7,pgrp=$$,minproto=5,maxproto=5,direct" dvol-test-autofs "$T/ctr/auto"
	check "an autofs automount point is in place" \
		sh -c "findmnt -rn -o FSTYPE --mountpoint '$T/ctr/auto' | grep -qx autofs"
	expect_rc 0 "a bind onto an automount point mounts over it" \
		timeout 10 mount -t dvol "$T/host/cache" "$T/ctr/auto"
	check "...and the folder is there" timeout 5 test -f "$T/ctr/auto/f"
	umount "$T/ctr/auto" 2>/dev/null
	umount "$T/ctr/auto" 2>/dev/null
	exec 7>&-
else
	skip "this kernel has no autofs: the VM tier mounts over x-systemd.automount points"
fi

# -N: act in another mount namespace, through mount(8) and given to the helper directly.
mkdir -p "$T/ns-src" "$T/ns-dst" "$T/ns-dst2"
unshare --mount --propagation private sleep 120 &
nspid=$!
for _ in $(seq 50); do [ "$(readlink /proc/$nspid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && break; sleep 0.1; done
expect_rc 0 "mount -N PID mounts in that namespace" mount -N "$nspid" -t dvol "$T/ns-src" "$T/ns-dst"
check "...where it is seen" nsenter -t "$nspid" -m findmnt --mountpoint "$T/ns-dst"
check "...and not in ours" not_mounted "$T/ns-dst"
expect_rc 0 "mount.dvol -N /proc/PID/ns/mnt (the helper enters it itself)" \
	/sbin/mount.dvol -N "/proc/$nspid/ns/mnt" "$T/ns-src" "$T/ns-dst2"
check "...where it is seen" nsenter -t "$nspid" -m findmnt --mountpoint "$T/ns-dst2"
check "...and not in ours" not_mounted "$T/ns-dst2"
expect_rc 2 "-N with a namespace that does not exist is exit 2" \
	/sbin/mount.dvol -N /proc/999999999/ns/mnt "$T/ns-src" "$T/ns-dst2"
expect_msg "cannot open the mount namespace" "...saying so"
kill "$nspid"

# Usage: --help, --version, and too few arguments.
expect_rc 0 "--help exits 0" /sbin/mount.dvol --help
check "...and prints usage on stdout" sh -c "printf '%s' \"\$0\" | grep -q '^Usage: mount.dvol'" "$OUT"
expect_rc 0 "--version exits 0" /sbin/mount.dvol --version
check "...naming the libraries" sh -c "printf '%s' \"\$0\" | grep -q 'libmount .*libblkid .*libnfs .*libseccomp .*json-c'" "$OUT"
expect_rc 1 "no arguments is exit 1" /sbin/mount.dvol
expect_msg "Try 'mount.dvol --help'" "...with the one-line hint"

done_testing
