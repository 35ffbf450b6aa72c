#!/bin/bash
# Boot 1 of the reboot check: marks DVOLSER1 (wiped by the harness before boot 2) and
# DVOLPERS1 (kept), so that 05-wipe.reboot.sh can tell a wipe from a disk never written.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
for s in DVOLSER1 DVOLPERS1; do
	dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_$s
	printf 'dvol-vm-marker %s\n' "$s" | dd of="$dev" bs=4096 conv=sync,fsync status=none
	check "$s: the marker reads back" sh -c "head -c 4096 '$dev' | grep -qa 'dvol-vm-marker $s'"
done
done_testing
