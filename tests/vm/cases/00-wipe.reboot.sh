#!/bin/bash
# Boot 2, first: DVOLSER1, marked at the end of boot 1 (99-wipe.sh), reads as zeros now
# that the harness replaced its backing file; before any case of this boot writes to it.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER1
check "boot 1 marked DVOLSER1" test -e /var/lib/dvol-tests/wipe/marked
check "DVOLSER1 is there" test -b "$dev"
nz=$(dd if="$dev" bs=1M count=1 iflag=direct status=none | tr -d '\0' | wc -c)
check "DVOLSER1's first MiB reads as zeros: wiped ($nz non-zero bytes)" test "$nz" -eq 0
done_testing
