#!/bin/bash
# Boot 2, after a reboot in which the harness replaced DVOLSER1's backing file: the fstab
# mount came back, DVOLSER1 is wiped, DVOLPERS1 kept what boot 1 wrote.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
st=$(systemctl is-active data.mount)
check "data.mount is active again after the reboot (it is: $st)" test "$st" = active
check "findmnt shows /data" mounted /data
check "the file written to /data in boot 1 is there" grep -q "boot 1" /data/boot1-marker
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER1
check "DVOLSER1 is there" test -b "$dev"
nz=$(head -c 1048576 "$dev" | tr -d '\0' | wc -c)
check "DVOLSER1's first MiB reads as zeros (wiped; $nz non-zero bytes)" test "$nz" -eq 0
check "DVOLPERS1 kept the marker written in boot 1" \
	sh -c "head -c 4096 /dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLPERS1 | grep -qa 'dvol-vm-marker DVOLPERS1'"
done_testing
