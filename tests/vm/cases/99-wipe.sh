#!/bin/bash
# Boot 1, last: mark DVOLSER1, whose backing file the harness replaces before boot 2 (an
# instance-store stop/start wipe). 00-wipe.reboot.sh then tells a wipe from a disk that
# was never written. Last, so that the cases before it found DVOLSER1 blank.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER1
state=/var/lib/dvol-tests/wipe
mkdir -p "$state"
check "DVOLSER1 is not mounted anywhere" sh -c "! findmnt -rn -S '$(readlink -f "$dev")' >/dev/null"
printf 'dvol-vm-marker DVOLSER1\n' | dd of="$dev" bs=4096 conv=sync,fsync oflag=direct status=none
check "the marker on DVOLSER1 reads back past the page cache" \
	sh -c "dd if='$dev' bs=4096 count=1 iflag=direct status=none | grep -qa 'dvol-vm-marker DVOLSER1'"
[ "$T_FAIL" -eq 0 ] && touch "$state/marked"
done_testing
