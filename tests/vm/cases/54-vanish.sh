#!/bin/bash
# A device that vanishes under mount.dvol: the instance-store controller is hot-removed
# while the helper is stopped at one of its stages (the test build's DVOL_DEBUG_STOP),
# after it found the device blank and before it formats, while mkfs runs, and after the
# format before the mount. Each time: exit 32 (never a signal), a message naming the
# device, nothing mounted, no utab line; and once the controller is back, the next run
# converges: formatted if the format never finished, mounted, nothing lost.
# vm-case-timeout: 600
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need findmnt blkid
on_exit nvmet_clean
udevadm settle -t 30
AWS="Amazon EC2 NVMe Instance Storage"
M=$T/m
mkdir -p "$M"

# stopped_at STAGE SPEC OPTS: start `mount -t dvol SPEC $M -o OPTS` with the test build,
# wait until the helper stops at STAGE; sets CPID (the mount(8) process) and HPID (the
# stopped helper, empty if it never stopped).
stopped_at() {
	test_hooks on
	DVOL_DEBUG_STOP=$1 setsid mount -t dvol "$2" "$M" -o "$3" >"$T/out" 2>"$T/err" &
	CPID=$!
	HPID=$(stopped_helper "$CPID" 600)
}
# resumed: continue the stopped helper, wait for mount(8); RC, OUT, ERR as run_rc sets them.
resumed() {
	[ -n "$HPID" ] && kill -CONT "$HPID"
	wait "$CPID"
	RC=$?
	test_hooks off
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
	printf '%s\n' "$ERR" | grep . | diag
}
# after_vanish WHAT: the checks every vanish round makes.
after_vanish() {
	check "$1: exit 32 (rc=$RC)" test "$RC" -eq 32
	expect_msg "VAN58" "...the message names the device by its serial"
	check "...nothing mounted on $M" not_mounted "$M"
	check "...no utab line for $M" sh -c "! grep -qF ' $M ' /run/mount/utab 2>/dev/null"
	check "...no mount.dvol left running" sh -c "! pgrep -x mount.dvol"
}

expect_rc 0 "nvmet add van ($AWS, 1 GiB, blank)" \
	nvmet add van --model "$AWS" --serial VAN58 --size 1G --fresh
SPEC=nvme:serial=VAN58
OPTS=mkfs=ext4,device-timeout=3

# 1. Found blank, then gone before the plan is acted on.
stopped_at resolve "$SPEC" "$OPTS"
check "round 1: the helper stopped before its plan" test -n "$HPID"
expect_rc 0 "...nvmet disconnect van (a hot-remove)" nvmet disconnect van
resumed
after_vanish "round 1: gone before the plan"
expect_rc 0 "...nvmet connect van" nvmet connect van
dev=$(nvmet dev van)
check "...it is still blank ($dev)" sh -c "[ -z \"\$(blkid -p -o value -s TYPE $dev)\" ]"

# 2. Gone while mkfs runs: the format cannot finish; the claim keeps the next run formatting.
stopped_at mkfs "$SPEC" "$OPTS"
check "round 2: the helper stopped just before mkfs" test -n "$HPID"
expect_rc 0 "...nvmet disconnect van" nvmet disconnect van
resumed
after_vanish "round 2: gone under mkfs"
expect_rc 0 "...nvmet connect van" nvmet connect van
expect_rc 0 "...the next mount formats it and mounts" mount -t dvol "$SPEC" "$M" -o "$OPTS"
check "...as ext4" test "$(findmnt -rn -o FSTYPE --mountpoint "$M")" = ext4
echo kept >"$M/file" && umount "$M"
dev=$(nvmet dev van)
uuid=$(blkid -p -o value -s UUID "$dev")

# 3. Formatted, then gone before the mount: no reformat once it is back.
stopped_at act "$SPEC" "$OPTS"
check "round 3: the helper stopped before the mount" test -n "$HPID"
expect_rc 0 "...nvmet disconnect van" nvmet disconnect van
resumed
after_vanish "round 3: gone before the mount"
expect_rc 0 "...nvmet connect van" nvmet connect van
expect_rc 0 "...the next mount mounts it" mount -t dvol "$SPEC" "$M" -o "$OPTS"
check "...not formatted again (UUID $uuid)" \
	test -n "$uuid" -a "$(blkid -p -o value -s UUID "$(nvmet dev van)")" = "$uuid"
check "...the file is there" grep -qx kept "$M/file"
umount "$M"
done_testing
