#!/bin/bash
# Boot 2: after a power loss in the middle of mkfs.ext4 (95-powerloss.sh), the device
# carries dvol's claim and nothing but that format's own work, so the next mount formats
# it again and mounts it; the claim is gone afterwards.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLZPOWER
state=/var/lib/dvol-tests/powerloss
M=$T/pwr
has_line() { printf '%s\n' "$2" | grep -q -- "$1"; }
not() { ! "$@"; }
mkdir -p "$M"
check "boot 1 cut the power while mkfs.ext4 was running" test -e "$state/landed"
cat "$state"/* 2>/dev/null | diag
check "DVOLZPOWER is there" test -b "$dev"

expect_rc 0 "-f: the plan after the power loss" mount -f -t dvol nvme:serial=DVOLZPOWER "$M" -o mkfs=ext4
printf '%s\n' "$OUT" | diag
check "...finds dvol's own claim on the medium" has_line "^claim:    an unfinished format of dvol's own, ext4 UUID=" "$OUT"
check "...and plans to format it again" has_line "an interrupted format of dvol's own" "$OUT"

expect_rc 0 "mount -t dvol -o mkfs=ext4 converges" mount -t dvol nvme:serial=DVOLZPOWER "$M" -o mkfs=ext4
check "...an ext4 is mounted there" sh -c "findmnt -rn -o FSTYPE --mountpoint '$M' | grep -qx ext4"
check "...and it is writable" sh -c "echo ok >'$M/after-power-loss'"
umount "$M"

expect_rc 0 "-f again: nothing to redo" mount -f -t dvol nvme:serial=DVOLZPOWER "$M" -o mkfs=ext4
check "...no claim is left" not has_line "^claim:" "$OUT"
check "...the file written after the redo is kept" sh -c "mount -t dvol nvme:serial=DVOLZPOWER '$M' && test -f '$M/after-power-loss'"
umount "$M" 2>/dev/null
done_testing
