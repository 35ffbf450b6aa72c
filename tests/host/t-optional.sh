#!/bin/bash
# optional: a volume that cannot be made ready gets an empty, size-capped tmpfs in its
# place, or with fallback=disk a bind of a folder under /var/lib/dvol/fallback (exit 0, a
# warning, dvol.degraded= in utab), and a later mount, once the volume is ready, puts the
# volume there; through the real mount(8), with real loop devices.
. "$(dirname "$0")/lib.sh" "$@"
need blkid sha256sum systemd-escape stat

mkdir -p "$T/t1" "$T/t2" "$T/t3" "$T/t4" "$T/t5"
utab_line() { grep "TARGET=$1 " /run/mount/utab 2>/dev/null; }
# dvol-volumes status --json, for one target: [kind, source, degraded, fallback]
status_of() { dvol-volumes status --json | jq -ce --arg t "$1" '.[] | select(.target == $t) | [.kind, .source, .degraded, .fallback]'; }
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
check "utab says it is degraded, and why" sh -c "utab_line() { grep \"TARGET=\$1 \" /run/mount/utab; }; utab_line '$T/t1' | grep -q 'ATTRS=dvol.kind=bind,dvol.degraded=missing,dvol.fallback=tmpfs'"
check "...the source folder was not made" test ! -e "$T/src"
expect_rc 0 "dvol-volumes status --json: exit 0 with a degraded volume" dvol-volumes status --json
check "...it says $T/t1 is degraded (missing), a tmpfs in its place" \
	test "$(status_of "$T/t1")" = "[\"bind\",\"$T/src/cache\",\"missing\",\"tmpfs\"]"
expect_rc 0 "dvol-volumes status: exit 0" dvol-volumes status
check "...a line for $T/t1 that says the same" \
	sh -c "printf '%s\n' \"\$0\" | grep -Eq '^$T/t1 +$T/src/cache +bind +missing +tmpfs\$'" "$OUT"
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
check "dvol-volumes status --json: no longer degraded (null)" \
	test "$(status_of "$T/t1")" = "[\"bind\",\"$T/src/cache\",null,null]"
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

# --- fallback=disk: a folder of the root disk, bound ------------------------------------
# /var/lib is this test's own tmpfs, in its own mount namespace: the host's is not touched.
mount -t tmpfs -o mode=0755 dvol-varlib /var/lib
mkdir -p "$T/t6" "$T/t7" "$T/elsewhere"
fb_of() { echo "/var/lib/dvol/fallback/$(systemd-escape --path "$1")"; }
same_file() { [ "$(stat -c %d:%i "$1")" = "$(stat -c %d:%i "$2")" ]; }
FB6=$(fb_of "$T/t6") FB7=$(fb_of "$T/t7")

expect_rc 0 "-f with fallback=disk shows the folder it would bind" \
	mount -f -t dvol "$T/src6" "$T/t6" -o optional,fallback=disk
check "...as a line of the plan" sh -c "printf '%s' \"\$0\" | grep -qF 'fallback: would be mounted (optional): the folder $FB6 of the root disk'" "$OUT"
check "...and makes nothing" test ! -e /var/lib/dvol

expect_rc 0 "optional,fallback=disk, the source folder missing: exit 0" \
	mount -t dvol "$T/src6" "$T/t6" -o optional,fallback=disk,mode=0750
expect_msg "WARNING: .*src6 is not ready \(missing\): an EMPTY folder is bound on $T/t6 .*what is written there goes to /var/lib/dvol/fallback/.*t6 on the root disk, with no size cap" \
	"...with a warning that says where writes go"
check "...the target is a bind of the fallback folder (the same inode)" same_file "$T/t6" "$FB6"
check "...mountinfo's root is the fallback folder" \
	sh -c "findmnt -rn -o FSROOT --mountpoint '$T/t6' | grep -q '^/dvol/fallback/.*t6\$'"
check "...not a tmpfs of its own" sh -c "! findmnt -rn -o SOURCE --mountpoint '$T/t6' | grep -q dvol-fallback"
check "...$FB6 made with mode= (0750)" test "$(stat -c %a "$FB6")" = 750
check "...the fallback folder itself is root's, 0700" test "$(stat -c %a:%u /var/lib/dvol/fallback)" = 700:0
check "...utab: degraded, and which fallback" sh -c "grep 'TARGET=$T/t6 ' /run/mount/utab | grep -q 'ATTRS=dvol.kind=bind,dvol.degraded=missing,dvol.fallback=disk'"
echo scratch >"$T/t6/written-while-degraded"
check "...a file written there is in the fallback folder" grep -qx scratch "$FB6/written-while-degraded"
check "...dvol-volumes status --json says so: degraded, fallback disk" \
	test "$(status_of "$T/t6")" = "[\"bind\",\"$T/src6\",\"missing\",\"disk\"]"

expect_rc 0 "the same mount again, still missing: exit 0" \
	mount -t dvol "$T/src6" "$T/t6" -o optional,fallback=disk
expect_msg "still not ready: the empty folder stays .*goes to /var/lib/dvol/fallback/.*t6 on the root disk" \
	"...the bind of the fallback folder is recognized, and the warning says where writes go"
check "...nothing is stacked" test "$(findmnt -rn --mountpoint "$T/t6" | wc -l)" = 1

mkdir -p "$T/src6" && echo real >"$T/src6/f"
expect_rc 0 "ready: the volume takes the disk fallback's place" \
	mount -t dvol "$T/src6" "$T/t6" -o optional,fallback=disk
expect_msg "ready: the fallback folder bound on $T/t6 in its place is unmounted. What was written there meanwhile is kept in /var/lib/dvol/fallback/" \
	"...saying where what was written meanwhile is kept"
check "...the folder is bound there" grep -qx real "$T/t6/f"
check "...one mount, not two stacked" test "$(findmnt -rn --mountpoint "$T/t6" | wc -l)" = 1
check "...the file written meanwhile is still in the fallback folder" \
	grep -qx scratch "$FB6/written-while-degraded"
check "...dvol-volumes status --json: not degraded" \
	test "$(status_of "$T/t6")" = "[\"bind\",\"$T/src6\",null,null]"
check "...utab: no longer degraded" sh -c "grep 'TARGET=$T/t6 ' /run/mount/utab | grep -q 'dvol.kind=bind' && ! grep 'TARGET=$T/t6 ' /run/mount/utab | grep -q degraded"
expect_rc 0 "umount" umount "$T/t6"

# Another folder bound on the target is not taken for the fallback.
mount --bind "$T/elsewhere" "$T/t7"
expect_rc 32 "a bind that is not the fallback folder is not replaced: exit 32" \
	mount -t dvol "$T/src7" "$T/t7" -o optional,fallback=disk
check "...nothing stacked on it" test "$(findmnt -rn --mountpoint "$T/t7" | wc -l)" = 1
umount "$T/t7"

# A link planted at the fallback folder, or at a target's folder in it, is never followed.
mv /var/lib/dvol/fallback /var/lib/dvol/fallback.kept
ln -s "$T/elsewhere" /var/lib/dvol/fallback
expect_rc 32 "/var/lib/dvol/fallback is a symbolic link: refused, exit 32" \
	mount -t dvol "$T/src7" "$T/t7" -o optional,fallback=disk
expect_msg "/var/lib/dvol/fallback .*is a symbolic link.*nothing is mounted on $T/t7" "...saying so"
check "...nothing is mounted there" not_mounted "$T/t7"
check "...nothing made where the link points" test -z "$(ls -A "$T/elsewhere")"
rm /var/lib/dvol/fallback && mv /var/lib/dvol/fallback.kept /var/lib/dvol/fallback
ln -s "$T/elsewhere" "$FB7"
expect_rc 32 "the target's fallback folder is a symbolic link: refused, exit 32" \
	mount -t dvol "$T/src7" "$T/t7" -o optional,fallback=disk
expect_msg "/var/lib/dvol/fallback/.*t7 .*is a symbolic link" "...naming the link"
check "...nothing is mounted there" not_mounted "$T/t7"
check "...nothing made where the link points" test -z "$(ls -A "$T/elsewhere")"
rm "$FB7"
chmod 0755 /var/lib/dvol/fallback
expect_rc 0 "a fallback folder with a wider mode: made 0700 again" \
	mount -t dvol "$T/src7" "$T/t7" -o optional,fallback=disk
check "...0700" test "$(stat -c %a /var/lib/dvol/fallback)" = 700
umount "$T/t7"

# --- fallback= usage errors ------------------------------------------------------------
expect_rc 1 "fallback=disk without optional: exit 1" mount -t dvol "$T/src6" "$T/t7" -o fallback=disk
expect_msg "option 'fallback=' .*'optional' is not given" "...saying optional is missing"
expect_rc 1 "fallback=bogus: exit 1" mount -t dvol "$T/src6" "$T/t7" -o optional,fallback=bogus
expect_msg "fallback=bogus.*tmpfs or disk" "...naming the kinds"
expect_rc 1 "fallback=disk,fallback-size=1M: exit 1 (no cap on a folder of the root disk)" \
	mount -t dvol "$T/src6" "$T/t7" -o optional,fallback=disk,fallback-size=1M
expect_msg "'fallback=disk' binds a folder of the root disk, which no size caps" "...saying why"
check "...nothing is mounted" not_mounted "$T/t7"
done_testing
