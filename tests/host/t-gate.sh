#!/bin/bash
# The gate of a folder bind (source-mounted, source-fs=): never bind the bare folder on
# the root disk beneath a volume that is not mounted; through the real mount(8), with a
# real filesystem on a loop device as the volume.
. "$(dirname "$0")/lib.sh" "$@"

# $T is a tmpfs of its own: a folder on the root filesystem is needed for "bare".
if [ "$(findmnt -n -o TARGET -T /var/tmp)" = / ]; then
	BARE=$(mktemp -d /var/tmp/dvol-gate.XXXXXX)
	on_exit "rm -rf '$BARE'"
else
	BARE=
fi

dev=$(mkloop 320M vol)
mkfs.xfs -q "$dev" || { not_ok "mkfs.xfs on $dev"; done_testing; }
V=$T/vol
mkdir -p "$V/cache" "$T/ctr/a" "$T/ctr/b" "$T/ctr/c" "$T/ctr/d" "$T/other/cache" "$T/elsewhere"
echo bare >"$V/cache/marker"

utab_has() { grep -q "TARGET=$1 " /run/mount/utab 2>/dev/null; }

# 1. The volume is not mounted: the folder beneath its mount point is the bare one.
expect_rc 32 "source-mounted=VOL, VOL not mounted: exit 32" \
	mount -t dvol "$V/cache" "$T/ctr/a" -o source-mounted="$V"
expect_msg "nothing is mounted there.*nothing was bound" "...saying nothing is mounted at the volume's folder"
expect_msg "$V/cache" "...and naming the source"
check "...nothing is mounted on the target" not_mounted "$T/ctr/a"
check "...and utab has no line for it" sh -c "! grep -q 'TARGET=$T/ctr/a ' /run/mount/utab 2>/dev/null"

expect_rc 32 "create,source-mounted=VOL with VOL not mounted: exit 32" \
	mount -t dvol "$V/new/deeper" "$T/ctr/a" -o create,source-mounted="$V"
check "...and the folder was not made on the bare folder" test ! -e "$V/new"

if [ -n "$BARE" ]; then
	mkdir -p "$BARE/cache"
	expect_rc 32 "source-mounted, a folder on the root filesystem: exit 32" \
		mount -t dvol "$BARE/cache" "$T/ctr/a" -o source-mounted
	expect_msg "lies on the root filesystem.*nothing was bound" "...saying it lies on the root filesystem"
	check "...nothing is mounted" not_mounted "$T/ctr/a"
	expect_rc 32 "create,source-mounted beneath the root filesystem: exit 32" \
		mount -t dvol "$BARE/x/y" "$T/ctr/a" -o create,source-mounted
	check "...and nothing was made there" test ! -e "$BARE/x"
	printf '%s %s dvol source-mounted,nofail 0 0\n' "$BARE/cache" "$T/ctr/a" >"$T/fstab"
	expect_rc 32 "an fstab line with source-mounted on the root filesystem: exit 32" \
		mount -T "$T/fstab" "$T/ctr/a"
	check "...nothing is mounted" not_mounted "$T/ctr/a"
else
	skip "no folder of the root filesystem to try source-mounted on"
fi

# 2. The volume is mounted: the same lines bind the folder of the volume.
check "the volume is mounted (by hand)" mount "$dev" "$V"
mkdir -p "$V/cache"
echo vol >"$V/cache/marker"
expect_rc 0 "source-mounted=VOL with VOL mounted: bound" \
	mount -t dvol "$V/cache" "$T/ctr/a" -o source-mounted="$V"
check "...the file seen is the volume's" grep -qx vol "$T/ctr/a/marker"
check "...and findmnt shows the loop device" \
	sh -c "findmnt -rn -o SOURCE --mountpoint '$T/ctr/a' | grep -q '^$dev\['"
check "...and utab records it" utab_has "$T/ctr/a"
expect_rc 0 "source-mounted (any mount but /'s), the volume's folder: bound" \
	mount -t dvol "$V//cache/" "$T/ctr/b" -o source-mounted,source-fs=xfs
expect_rc 0 "source-fs=nfs|xfs: bound" mount -t dvol "$V/cache" "$T/ctr/c" -o 'source-fs=nfs|xfs'
expect_rc 32 "source-fs=nfs on xfs: exit 32" mount -t dvol "$V/cache" "$T/ctr/d" -o source-fs=nfs
expect_msg "lies on xfs mounted at $V, and source-fs=nfs" "...naming what was found and what was asked"
check "...nothing is mounted" not_mounted "$T/ctr/d"
expect_rc 0 "create,source-mounted=VOL makes the folder on the volume" \
	mount -t dvol "$V/made/here" "$T/ctr/d" -o create,source-mounted="$V"
check "...it is on the volume" sh -c "[ \"\$(stat -c %d '$V/made/here')\" = \"\$(stat -c %d '$V')\" ]"
umount "$T/ctr/d"

# 3. A symbolic link on the way leads out of the volume: onto another mount, or onto a
#    folder of the root filesystem (a container that can write to the volume plants it).
ln -s "$T/other" "$V/link"
expect_rc 32 "source-mounted=VOL, a link in the volume to another mount: exit 32" \
	mount -t dvol "$V/link/cache" "$T/ctr/d" -o source-mounted="$V"
expect_msg "not on the volume mounted at $V" "...saying it is not on the volume"
check "...nothing is mounted" not_mounted "$T/ctr/d"
if [ -n "$BARE" ]; then
	mkdir -p "$BARE/cache"
	ln -s "$BARE" "$V/rootlink"
	expect_rc 32 "source-mounted=VOL, a link in the volume to the root filesystem: exit 32" \
		mount -t dvol "$V/rootlink/cache" "$T/ctr/d" -o source-mounted="$V"
	check "...nothing is mounted" not_mounted "$T/ctr/d"
fi
# The helper called directly, as dvol-volumes' mount(8) would with a path it did not
# canonicalize: the link is in the path the helper opens.
expect_rc 32 "mount.dvol itself, a link in the path: exit 32" \
	/sbin/mount.dvol "$V/link/cache" "$T/ctr/d" -o source-mounted="$V"
check "...nothing is mounted" not_mounted "$T/ctr/d"

# 4. The plan shows the gate; bad values are usage errors.
expect_rc 0 "-f shows the gate" mount -f -v -t dvol "$V/cache" "$T/ctr/d" -o source-mounted="$V"
check "...as a row of the plan" sh -c "printf '%s' \"\$0\" | grep -q '^gate: *passed: on the volume at $V'" "$OUT"
expect_rc 1 "source-mounted=relative: exit 1" mount -t dvol "$V/cache" "$T/ctr/d" -o source-mounted=vol
expect_rc 1 "source-mounted=/a/../b: exit 1" mount -t dvol "$V/cache" "$T/ctr/d" -o source-mounted=/a/../b
expect_rc 1 "source-fs= empty: exit 1" mount -t dvol "$V/cache" "$T/ctr/d" -o source-fs=
expect_rc 1 "source-fs=XFS: exit 1" mount -t dvol "$V/cache" "$T/ctr/d" -o source-fs=XFS
expect_rc 1 "source-mounted on a block device: exit 1" mount -t dvol "$dev" "$T/ctr/d" -o source-mounted
expect_msg "does not apply to a block device" "...saying it applies to folders"
check "...nothing is mounted" not_mounted "$T/ctr/d"

# 5. A folder with a comma, quoted in the option.
mkdir -p "$T/c,d"
mount -t tmpfs tmpfs "$T/c,d"
mkdir "$T/c,d/x"
expect_rc 0 "source-mounted=\"VOL,WITH,COMMA\": bound" \
	mount -t dvol "$T/c,d/x" "$T/ctr/d" -o "source-mounted=\"$T/c,d\""

done_testing
