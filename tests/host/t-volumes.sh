#!/bin/bash
# /etc/dvol/volumes through dvol-volumes, as dvol-prepare@ and dvol-mount@ run it, on real
# loop devices: the format step judges and formats and mounts nothing; the mount step
# mounts the volume and then the binds beneath it, and never formats; a device that is
# not blank is left alone, and the binds beneath its line are never bound on the bare
# folder.
. "$(dirname "$0")/lib.sh" "$@"
need sha256sum blkid

SIZE=320M
mkdir -p /run/dvol
mount -t tmpfs -o mode=0700 dvol-run /run/dvol
V=$T/volumes
sum() { sha256sum "$1" | cut -d' ' -f1; }
dv() { dvol-volumes --config "$V" "$@"; }

blank=$(mkloop $SIZE blank)
full=$(mkloop $SIZE full)
other=$(mkloop $SIZE other)
mkfs.ext4 -q "$full" && mkdir -p "$T/fill" && mount "$full" "$T/fill" &&
	echo precious >"$T/fill/file" && umount "$T/fill"
check "three loop devices, one an ext4 with a file" test -b "$blank" -a -b "$full" -a -b "$other"
bk=${blank#/dev/} fk=${full#/dev/} ok=${other#/dev/}
full_sum=$(sum "$full")
other_sum=$(sum "$other")

cat >"$V" <<EOV
# the volume, and binds beneath it (one beneath a bind)
$blank $T/scratch dvol mkfs=xfs,mode=1777 0 0
$T/scratch/cache $T/cache dvol create,mode=0700 0 0
$T/cache/pip $T/pip dvol create 0 0
# a device holding ext4, where xfs is asked for
$full $T/full dvol mkfs=xfs 0 0
$T/full/models $T/models dvol create 0 0
EOV

# --- plan --------------------------------------------------------------------------------
expect_rc 0 "plan for the blank device" dv plan "$bk"
check "...the volume first, then the bind beneath it, then the bind beneath that" \
	sh -c "printf '%s\n' \"\$0\" | grep -E '^(volume|bind)' | awk '{print \$3}' | tr -d : | paste -sd' ' | grep -qx '2 3 4'" "$OUT"

# --- the mount step never formats ----------------------------------------------------------
blank_sum=$(sum "$blank")
expect_rc 32 "the mount step before the format step fails" dv mount "$bk"
expect_msg "line 2: $blank holds no filesystem, not the xfs the line asks for" \
	"...saying that the device holds no filesystem yet"
expect_msg "not bound on $T/cache, as its source lies under $T/scratch, which is not mounted" \
	"...and the bind beneath it waits, saying why"
check "...the device is still blank, byte for byte" test "$(sum "$blank")" = "$blank_sum"
check "...nothing is mounted on the volume's target" not_mounted "$T/scratch"
check "...nor on the bind's: the bare folder beneath the volume is never bound" not_mounted "$T/cache"

# --- format step, then mount step ----------------------------------------------------------
expect_rc 0 "the format step formats the blank device" dv format "$bk"
expect_msg "formatted $blank as xfs" "...mount.dvol says so"
check "...it holds xfs now" test "$(blkid -p -o value -s TYPE "$blank")" = xfs
check "...and nothing was mounted by the format step" not_mounted "$T/scratch"
uuid=$(blkid -p -o value -s UUID "$blank")
check "...which left the mark for mode= to the mount step" test -n "$uuid" -a -e "/run/dvol/fresh/$uuid"
expect_rc 0 "the format step again changes nothing" dv format "$bk"
check "...same filesystem (UUID $uuid)" test -n "$uuid" -a "$(blkid -p -o value -s UUID "$blank")" = "$uuid"
# Under dvol-prepare@ the log goes to syslog (/dev/log). mount.dvol runs beneath
# dvol-volumes's seccomp stage, which has no socket(2): it must not open a syslog socket of
# its own (it was killed by SIGSYS, exit 159, before it said a word).
run_rc env DVOL_LOG=syslog dvol-volumes --config "$V" format "$bk"
check "the format step with DVOL_LOG=syslog: mount.dvol beneath it lives (rc=$RC)" test "$RC" -eq 0

expect_rc 0 "the mount step" dv mount "$bk"
check "the volume is mounted" sh -c "findmnt -rn -o SOURCE --mountpoint '$T/scratch' | grep -qx '$blank'"
check "...with mode=1777 on the root of the new filesystem" test "$(stat -c %a "$T/scratch")" = 1777
check "...the mark is taken" test ! -e "/run/dvol/fresh/$uuid"
check "the bind beneath it is bound from the volume, on top" \
	sh -c "findmnt -rn -o SOURCE --mountpoint '$T/cache' | grep -qx '$blank\[/cache\]'"
check "...its source was made on the volume with mode 0700" test "$(stat -c %a "$T/scratch/cache")" = 700
check "the bind beneath the bind is bound as well" \
	sh -c "findmnt -rn -o SOURCE --mountpoint '$T/pip' | grep -qx '$blank\[/cache/pip\]'"
check "utab records the three" test "$(grep -c "TARGET=$T/\(scratch\|cache\|pip\) " /run/mount/utab)" = 3
check "what was mounted is recorded for the stop" test -s "/run/dvol/volumes/$bk"

expect_rc 0 "the mount step again is a no-op" dv mount "$bk"
check "...nothing is stacked twice" test "$(findmnt -rn --mountpoint "$T/cache" | wc -l)" = 1

expect_rc 0 "the stop unmounts" dv umount "$bk"
check "...the binds" sh -c "! findmnt -rn --mountpoint '$T/pip' && ! findmnt -rn --mountpoint '$T/cache'"
check "...and the volume" not_mounted "$T/scratch"
check "...and forgets the record" test ! -e "/run/dvol/volumes/$bk"

# --- a link planted in the volume, a bind beneath no volume -------------------------------
# Whoever can write to the volume (a container, through a bind of it) can plant a link
# where a line's source goes: the bind must stay on the volume, not follow it out.
mkdir -p "$T/plant" "$T/outside/secrets"
echo host-only >"$T/outside/secrets/f"
mount "$blank" "$T/plant" && ln -s "$T/outside" "$T/plant/data" && umount "$T/plant"
cat >"$T/v2" <<EOV
$blank $T/scratch dvol mkfs=xfs 0 0
$T/scratch/data/secrets $T/secrets dvol defaults 0 0
$T/scratch/cache $T/cache dvol defaults 0 0
EOV
expect_rc 32 "the mount step with a bind whose source leads out through a planted link" \
	dvol-volumes --config "$T/v2" mount "$bk"
expect_msg "secrets lies on .*, not on the volume mounted at $T/scratch" \
	"...mount.dvol says the folder is not on the volume"
expect_msg "v2, line 2: mounting $T/scratch/data/secrets on $T/secrets failed" "...and dvol-volumes names the line"
check "...nothing is bound on its target" not_mounted "$T/secrets"
check "...the volume and the other bind are mounted" sh -c "findmnt -rn --mountpoint '$T/scratch' >/dev/null && findmnt -rn -o SOURCE --mountpoint '$T/cache' | grep -qx '$blank\[/cache\]'"
expect_rc 0 "...and the stop unmounts what was mounted" dvol-volumes --config "$T/v2" umount "$bk"
check "...all of it" sh -c "! findmnt -rn --mountpoint '$T/cache' && ! findmnt -rn --mountpoint '$T/scratch'"

# A bind beneath no device line is dvol-generator's, mounted at boot: not the device's.
printf '%s %s dvol mkfs=xfs 0 0\n%s %s dvol create 0 0\n' "$blank" "$T/scratch" \
	"$T/scratchy/cache" "$T/c2" >"$T/v3"
expect_rc 0 "a bind line beneath no device line: the mount step brings up the device's" \
	dvol-volumes --config "$T/v3" mount "$bk"
check "...the volume is mounted" mounted "$T/scratch"
check "...and the other bind is not, nor its folder made" sh -c "! findmnt -rn --mountpoint '$T/c2' && test ! -e '$T/scratchy'"
expect_rc 0 "...and the stop unmounts the volume" dvol-volumes --config "$T/v3" umount "$bk"

# --- a device that is not blank --------------------------------------------------------
expect_rc 32 "the format step refuses the device holding ext4" dv format "$fk"
expect_msg "ext4 filesystem, but mkfs=xfs was asked" "...mount.dvol says what it found"
expect_msg "line 6 .*is left alone and nothing is mounted" "...and dvol-volumes names the line"
expect_rc 32 "the mount step for it fails too" dv mount "$fk"
expect_msg "holds ext4, not the xfs the line asks for" "...as the line asks for xfs"
check "...nothing is mounted" not_mounted "$T/full"
check "...nor the bind beneath it" not_mounted "$T/models"
check "...the device is unchanged, byte for byte" test "$(sum "$full")" = "$full_sum"

# --- a device no line names -------------------------------------------------------------
expect_rc 0 "a device no line names: the format step does nothing" env DVOL_LOG=stderr \
	dvol-volumes --config "$V" format "$ok"
expect_msg "no line of .* names it; left alone" "...and says so"
expect_rc 0 "...nor does the mount step" dv mount "$ok"
check "...the device is unchanged, byte for byte" test "$(sum "$other")" = "$other_sum"

# --- no file, a bad file, a bad name ------------------------------------------------------
expect_rc 0 "no volumes file: nothing to do" dvol-volumes --config "$T/none" format "$ok"
printf '%s %s xfs defaults 0 0\n' "$other" "$T/o" >"$T/bad"
expect_rc 1 "a line of another type is a configuration error" \
	dvol-volumes --config "$T/bad" format "$ok"
expect_msg "bad, line 1: is not of type dvol" "...naming the file and line"
check "...the device is unchanged" test "$(sum "$other")" = "$other_sum"
expect_rc 1 "a kernel name with a slash is refused" dv format ../loop0
expect_rc 32 "a device that is gone: the step fails, saying so" dv format loop-gone
expect_msg "no such block device" "...in words"

# --- mount.dvol --format-only, directly -------------------------------------------------
expect_rc 1 "--format-only is for block devices only" \
	/sbin/mount.dvol --format-only "$T/scratch" "$T/o" -o create
done_testing
