#!/bin/bash
# mount -t dvol nvme:instance-store on real kernel NVMe controllers with the clouds' model
# strings (the nvmet guest helper): with stripe=no, several instance stores are an error
# that lists them (striping them is the default: 58-stripe.sh); one is found through udev's /dev/disk/by-dvol/instance-store/ name, or through the
# built-in table where udev makes no dvol names, and mount -f says which; EBS and GCP's
# persistent disk are never taken and stay as they were; a mounted one is hot-removed.
# vm-case-timeout: 600
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
export DVOL_LOG=both
on_exit nvmet_clean
udevadm settle -t 30
mkdir -p "$T/s" "$T/x"

add() {
	expect_rc 0 "nvmet add $1: '$2', serial $3" nvmet add "$1" --model "$2" --serial "$3" --size 16G
}
add aws "Amazon EC2 NVMe Instance Storage" AWS1INST
add gcp nvme_card0 nvme_card
add azure "Microsoft NVMe Direct Disk v2" AZ1
add ebs "Amazon Elastic Block Store" vol0ebs1
add gcppd nvme_card-pd GCPPD1
aws=$(nvmet dev aws) gcp=$(nvmet dev gcp) azure=$(nvmet dev azure)
ebs=$(nvmet dev ebs) gcppd=$(nvmet dev gcppd)
# The first and last MiB of a disk that must never be touched.
ends() { { dd if="$1" bs=1M count=1 iflag=direct status=none
	dd if="$1" bs=1M skip=$(($(blockdev --getsize64 "$1") / 1048576 - 1)) iflag=direct status=none; } | sha256sum; }
ebs0=$(ends "$ebs") gcppd0=$(ends "$gcppd")

# Three instance stores with stripe=no: one device was asked for, and dvol does not guess
# which (without stripe=no they would be striped: 58-stripe.sh).
expect_rc 32 "three instance stores, stripe=no: nvme:instance-store is refused" \
	mount -t dvol nvme:instance-store "$T/s" -o mkfs=xfs,stripe=no,device-timeout=2
expect_msg "matches more than one block device" "...saying it matches more than one"
for d in "$aws" "$gcp" "$azure"; do
	expect_msg "$d: serial" "...listing $d"
done
check "...neither EBS ($ebs) nor GCP PD ($gcppd) among them" \
	sh -c "! printf '%s' \"\$0\" | grep -qE '($ebs|$gcppd):'" "$ERR"
check "...nothing mounted" not_mounted "$T/s"

# One instance store.
expect_rc 0 "nvmet del gcp azure" sh -c 'bash /dvol-tests/nvmet del gcp --purge &&
	bash /dvol-tests/nvmet del azure --purge'
expect_rc 0 "mount -f nvme:instance-store, with one left" \
	mount -f -t dvol nvme:instance-store "$T/s" -o mkfs=xfs
check "...plans aws ($aws)" sh -c "printf '%s' \"\$0\" | grep -q '^device:   serial AWS1INST ($aws)'" "$OUT"
check "...found through udev's name" sh -c "printf '%s' \"\$0\" |
	grep -q 'found by nvme-instance-store (/dev/disk/by-dvol/instance-store/AWS1INST-n1)'" "$OUT"
printf '%s\n' "$OUT" | grep '^device:' | diag
# Where udev makes no dvol names (here: a mount namespace with an empty /dev/disk), the
# built-in table decides, and finds the same device.
expect_rc 0 "...and without udev's names, through the built-in table" \
	unshare -m --propagation private sh -c 'mount -t tmpfs none /dev/disk &&
		mount -f -t dvol nvme:instance-store "$0" -o mkfs=xfs' "$T/s"
check "...the same device, and it says so" sh -c "printf '%s' \"\$0\" |
	grep -q '^device:   serial AWS1INST ($aws).*found by nvme-instance-store (the built-in model table)'" "$OUT"

expect_rc 0 "mount -t dvol nvme:instance-store -o mkfs=xfs,mode=1777" \
	mount -t dvol nvme:instance-store "$T/s" -o mkfs=xfs,mode=1777
check "...aws is mounted" test "$(findmnt -rn -o SOURCE --mountpoint "$T/s")" = "$aws"
check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/s")" = xfs
uuid=$(blkid -p -o value -s UUID "$aws")

# Never the persistent disks, blank as they are: with aws gone, nothing matches.
umount "$T/s"
expect_rc 0 "nvmet disconnect aws" nvmet disconnect aws
expect_rc 32 "only EBS and GCP PD left (blank): nvme:instance-store finds nothing" \
	mount -t dvol nvme:instance-store "$T/s" -o mkfs=xfs,device-timeout=2
expect_msg "no block device matches" "...saying so"
check "...nothing mounted" not_mounted "$T/s"
for n in ebs gcppd; do
	d=${!n}
	check "$n ($d): no signature" sh -c "[ -z \"\$(blkid -p -o value -s TYPE $d)\" ]"
done
check "ebs: first and last MiB as they were" test "$(ends "$ebs")" = "$ebs0"
check "gcppd: first and last MiB as they were" test "$(ends "$gcppd")" = "$gcppd0"
expect_rc 0 "nvmet connect aws" nvmet connect aws
aws=$(nvmet dev aws)
expect_rc 0 "nvme:instance-store mounts aws again ($aws)" \
	mount -t dvol nvme:instance-store "$T/s" -o mkfs=xfs
check "...not formatted again" test -n "$uuid" -a "$(blkid -p -o value -s UUID "$aws")" = "$uuid"

# Hot-remove of the mounted instance store. What is checked: the removal, a read of the
# mount and its umount (lazy if need be) each end within their timeouts, and the mount is
# gone after. What the kernel did on the way (mount still listed or not, errors) is
# written into the TAP as comments, for the record.
echo kept >"$T/s/file" && sync -f "$T/s/file"
t0=$SECONDS
expect_rc 0 "nvmet disconnect aws while mounted (a hot-remove)" timeout 60 bash /dvol-tests/nvmet disconnect aws
check "...within 60 s ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 60
check "...the block device is gone" test ! -e "$aws"
if mounted "$T/s"; then
	echo "# after the hot-remove the mount is still listed" | diag
	run_rc timeout 30 ls "$T/s"
	echo "# ls of it: rc=$RC $ERR" | diag
	check "...reading it does not hang (rc=$RC)" test "$RC" -ne 124
	run_rc timeout 30 umount "$T/s"
	echo "# umount: rc=$RC $ERR" | diag
	check "...umount does not hang (rc=$RC)" test "$RC" -ne 124
	[ "$RC" -eq 0 ] || timeout 30 umount -l "$T/s"
else
	echo "# after the hot-remove the kernel had unmounted it" | diag
fi
check "...and it is gone" not_mounted "$T/s"
dmesg | tail -n 8 | diag

expect_rc 0 "nvmet connect aws (it is back)" nvmet connect aws
expect_rc 0 "nvme:instance-store mounts it again" \
	mount -t dvol nvme:instance-store "$T/s" -o mkfs=xfs
check "...not formatted again (UUID $uuid)" \
	test -n "$uuid" -a "$(blkid -p -o value -s UUID "$(nvmet dev aws)")" = "$uuid"
check "...the file written before the hot-remove is there" grep -qx kept "$T/s/file"
umount "$T/s"
check "ebs: still untouched" test "$(ends "$ebs")" = "$ebs0"
done_testing
