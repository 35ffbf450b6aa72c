#!/bin/bash
# Harness self-check: the emulated NVMe controllers, with the serials and sizes the
# harness chose (tests/vm/README.md), as the kernel and udev show them.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
declare -A want=([DVOLSER1]=16 [DVOLSER2]=16 [DVOLSER3]=16 [DVOLPERS1]=16 [DVOLBIG1]=4096 [DVOLZPOWER]=4096)
for s in DVOLSER1 DVOLSER2 DVOLSER3 DVOLPERS1 DVOLBIG1 DVOLZPOWER; do
	# The kernel shows the serial field as the controller reports it: space-padded.
	c=
	for f in /sys/class/nvme/nvme*/serial; do
		[ "$(sed 's/[[:space:]]*$//' "$f")" = "$s" ] && c=$(dirname "$f") && break
	done
	if [ -z "$c" ]; then
		not_ok "$s: no controller with this serial under /sys/class/nvme"
		continue
	fi
	ok "$s: controller $(basename "$c")"
	model=$(sed 's/[[:space:]]*$//' "$c/model")
	check "$s: model is qemu's fixed 'QEMU NVMe Ctrl' (got '$model')" test "$model" = "QEMU NVMe Ctrl"
	link=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_$s
	if dev=$(readlink -e "$link"); then
		ok "$s: $link -> $dev"
		gib=$(($(blockdev --getsize64 "$dev") / 1024 / 1024 / 1024))
		check "$s: ${want[$s]} GiB (got $gib GiB)" test "$gib" -eq "${want[$s]}"
		ds=$(sed 's/[[:space:]]*$//' "/sys/class/block/$(basename "$dev")/device/serial" 2>/dev/null)
		check "$s: the kernel gives $(basename "$dev") the same serial (got '$ds')" test "$ds" = "$s"
	else
		not_ok "$s: $link is missing"
	fi
done
ctrls=(/sys/class/nvme/nvme*)
n=${#ctrls[@]}
check "exactly six NVMe controllers (got $n)" test "$n" -eq 6
done_testing
