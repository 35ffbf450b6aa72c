#!/bin/bash
# optional: a volume that cannot be made ready gets an empty, size-capped tmpfs in its
# place (exit 0, a warning, dvol.degraded= in utab), and a later mount, once the volume is
# ready, puts the volume there; through the real mount(8), with real loop devices.
. "$(dirname "$0")/lib.sh" "$@"
need blkid sha256sum

mkdir -p "$T/t1" "$T/t2" "$T/t3" "$T/t4" "$T/t5"
utab_line() { grep "TARGET=$1 " /run/mount/utab 2>/dev/null; }
fallback_on() { findmnt -rn -o FSTYPE,SOURCE --mountpoint "$1" | grep -qx 'tmpfs dvol-fallback'; }

# --- a folder that is missing ----------------------------------------------------------
expect_rc 0 "optional, the source folder missing: exit 0" \
	mount -t dvol "$T/src/cache" "$T/t1" -o optional,fallback-size=8M,mode=0700
expect_msg "WARNING: .*src/cache is not ready \(missing\): an EMPTY folder is mounted on $T/t1" \
	"...with a warning that names the volume, the reason and the target"
check "...an empty tmpfs is mounted there" fallback_on "$T/t1"
check "...of at most fallback-size=8M" sh -c "findmnt -rn -o OPTIONS --mountpoint '$T/t1' | grep -q 'size=8192k'"
check "...with mode= (0700)" test "$(stat -c %a "$T/t1")" = 700
check "...and it is empty" test -z "$(ls -A "$T/t1")"
check "utab says it is degraded, and why" sh -c "utab_line() { grep \"TARGET=\$1 \" /run/mount/utab; }; utab_line '$T/t1' | grep -q 'ATTRS=dvol.kind=bind,dvol.degraded=missing'"
check "...the source folder was not made" test ! -e "$T/src"
echo scratch >"$T/t1/written-while-degraded"
expect_rc 0 "the same mount again, still missing: exit 0" mount -t dvol "$T/src/cache" "$T/t1" -o optional
expect_msg "still not ready: the empty folder stays" "...saying the empty folder stays"
check "...nothing is stacked" test "$(findmnt -rn --mountpoint "$T/t1" | wc -l)" = 1
check "...and what was written there is still there" test -e "$T/t1/written-while-degraded"

mkdir -p "$T/src/cache" && echo real >"$T/src/cache/f"
exec 9<"$T/t1/written-while-degraded"
expect_rc 32 "ready, but a file on the fallback is open: exit 32" \
	mount -t dvol "$T/src/cache" "$T/t1" -o optional
expect_msg "in use .*left as it is" "...saying it is in use and left"
check "...the fallback is still there" fallback_on "$T/t1"
exec 9<&-
expect_rc 0 "ready, nothing uses the fallback: the volume takes its place" \
	mount -t dvol "$T/src/cache" "$T/t1" -o optional
expect_msg "ready: the empty folder mounted on $T/t1 in its place is gone" "...saying so"
check "...the folder is bound there" grep -qx real "$T/t1/f"
check "...one mount, not two stacked" test "$(findmnt -rn --mountpoint "$T/t1" | wc -l)" = 1
check "...and utab has one line for it, not degraded" \
	sh -c "[ \$(grep -c 'TARGET=$T/t1 ' /run/mount/utab) = 1 ] && ! grep 'TARGET=$T/t1 ' /run/mount/utab | grep -q degraded"
expect_rc 0 "umount" umount "$T/t1"

# --- without optional: as before -------------------------------------------------------
expect_rc 32 "without optional, a missing folder is exit 32" mount -t dvol "$T/nope" "$T/t2"
check "...nothing is mounted" not_mounted "$T/t2"
expect_rc 1 "fallback-size= without optional: exit 1" mount -t dvol "$T/src/cache" "$T/t2" -o fallback-size=1M
expect_rc 0 "-f with optional shows the fallback it would mount" \
	mount -f -t dvol "$T/nope" "$T/t2" -o optional
check "...as a line of the plan" sh -c "printf '%s' \"\$0\" | grep -q '^fallback: would be mounted'" "$OUT"
check "...and mounts nothing" not_mounted "$T/t2"

# --- a device refused as not blank, and a device missing ---------------------------------
full=$(mkloop 320M full)
mkfs.ext4 -q -L DVOLOPT "$full"
sum0=$(sha256sum "$full" | cut -d' ' -f1)
expect_rc 0 "optional, a device holding ext4 where mkfs=xfs is asked: exit 0" \
	mount -t dvol "$full" "$T/t3" -o optional,mkfs=xfs
expect_msg "not ready \(not-blank\)" "...the warning says it was refused as not blank"
check "...the fallback is there" fallback_on "$T/t3"
check "...utab: dvol.degraded=not-blank" sh -c "grep 'TARGET=$T/t3 ' /run/mount/utab | grep -q 'dvol.kind=local,dvol.degraded=not-blank'"
check "...and the device is unchanged, byte for byte" test "$(sha256sum "$full" | cut -d' ' -f1)" = "$sum0"

# Wiped (a stop/start of an instance store): blank now, so the same line formats it and
# puts it in the fallback's place.
dd if=/dev/zero of="$full" bs=1M count=320 status=none conv=fsync
expect_rc 0 "the device is blank now: the same mount formats it and puts it in the fallback's place" \
	mount -t dvol "$full" "$T/t3" -o optional,mkfs=xfs
check "...it is mounted there, xfs" sh -c "findmnt -rn -o SOURCE,FSTYPE --mountpoint '$T/t3' | grep -qx '$full xfs'"
check "...one mount, not two stacked" test "$(findmnt -rn --mountpoint "$T/t3" | wc -l)" = 1
check "...utab: no longer degraded" sh -c "grep 'TARGET=$T/t3 ' /run/mount/utab | grep -q 'dvol.kind=local' && ! grep 'TARGET=$T/t3 ' /run/mount/utab | grep -q degraded"

expect_rc 0 "optional, a device path that is not there (device-timeout=1): exit 0" \
	mount -t dvol /dev/disk/by-id/dvol-test-absent "$T/t4" -o optional,device-timeout=1
expect_msg "not ready \(missing\)" "...the warning says it is missing"
check "...the fallback is there" fallback_on "$T/t4"

# --- an NFS server that does not answer ---------------------------------------------------
expect_rc 0 "optional, an NFS server that refuses the connection: exit 0" \
	mount -t dvol 127.0.0.1:/export "$T/t5" -o optional,port=1,probe-timeout=1
expect_msg "not ready \(unreachable\)" "...the warning says the server is unreachable"
check "...the fallback is there" fallback_on "$T/t5"
expect_rc 0 "umount of the fallback" umount "$T/t5"
check "...its utab line goes" sh -c "! grep -q 'TARGET=$T/t5 ' /run/mount/utab"

# --- something else on the target: no fallback over it ------------------------------------
mount -t tmpfs other "$T/t2"
expect_rc 32 "optional, something else mounted on the target: exit 32" \
	mount -t dvol "$T/nope" "$T/t2" -o optional
check "...nothing stacked on it" test "$(findmnt -rn --mountpoint "$T/t2" | wc -l)" = 1
done_testing
