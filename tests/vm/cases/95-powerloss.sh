#!/bin/bash
# Boot 1: a power loss in the middle of a format. This case checks that DVOLZPOWER is
# blank and leaves the runner a last act, run once every result of this boot is safe on
# the test disk: start `mount -t dvol ... -o mkfs=ext4` on DVOLZPOWER (4 TiB, so that mkfs
# runs long enough under emulation), wait until mkfs.ext4 is running, freeze it there, and
# cut the power (sysrq 'o': no sync, no unmount). 95-powerloss.reboot.sh judges the device in boot 2.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

udevadm settle -t 30
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLZPOWER
state=/var/lib/dvol-tests/powerloss
rm -rf "$state"
mkdir -p "$state"
check "DVOLZPOWER is there" test -b "$dev"
check "...and blank (nothing libblkid knows)" sh -c "! blkid -p '$dev' >/dev/null 2>&1"
nz=$(dd if="$dev" bs=1M count=1 iflag=direct status=none | tr -d '\0' | wc -c)
check "...and its first MiB is zeros ($nz non-zero bytes)" test "$nz" -eq 0

cat >/run/dvol-vm-last <<EOS
#!/bin/bash
# Written by 95-powerloss.sh. Records where the power went, on the root disk (syncfs of
# that filesystem alone: the NVMe device's own dirty pages stay unwritten, as in a power
# loss), then cuts the power.
mkdir -p /mnt/dvol-powerloss
mount -t dvol nvme:serial=DVOLZPOWER /mnt/dvol-powerloss -o mkfs=ext4 >$state/mount.out 2>&1 &
for _ in \$(seq 1200); do
	pgrep -x mkfs.ext4 >/dev/null && break
	sleep 0.05
done
sleep 0.\$((RANDOM % 3))
# Freeze mkfs.ext4 where it is: the power must go while it is in the middle, and a
# running mkfs (and dvol's cleanup after it) could otherwise finish between this
# check and the sysrq below, while the root filesystem syncs.
if pkill -STOP -x mkfs.ext4; then
	echo "mkfs.ext4 running" >$state/landed
else
	echo "mkfs.ext4 not running" >$state/missed
fi
sync -f $state
echo "dvol-vm: power loss now (\$(cat $state/* 2>/dev/null | tr '\n' ' '))" >/dev/kmsg
echo o >/proc/sysrq-trigger
sleep 30
EOS
check "the power loss is set up for the end of this boot" test -s /run/dvol-vm-last
done_testing
