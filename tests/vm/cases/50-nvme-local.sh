#!/bin/bash
# Local NVMe volumes on real (emulated) NVMe controllers, with udev running: identity by
# serial and by model with an index, never by kernel name; md and LVM members refused.
# Guest hardware (tests/vm/README.md): DVOLSER1..3, DVOLPERS1 (16 GiB), DVOLBIG1 (4 TiB),
# all of model "QEMU NVMe Ctrl".
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u
# The guest has a syslog (journald), and stderr is no terminal here: mount.dvol's notices
# go to the journal. These checks read them on stderr as well.
export DVOL_LOG=both

M=$(mktemp -d /tmp/dvol-nvme.XXXXXX)
STATE=/var/lib/dvol-tests/50-nvme-local
mkdir -p "$M/ser1" "$M/ser2" "$M/pers1" "$M/big" "$M/x" "$STATE"
MODEL="QEMU NVMe Ctrl"

# The node of a controller serial as lsblk sees it (udev or sysfs): the truth to compare with.
node_of() { lsblk -dnp -o NAME,SERIAL | awk -v s="$1" '$2 == s { print $1; f = 1; exit } END { exit !f }'; }
source_of() { findmnt -rn -o SOURCE --mountpoint "$1"; }

for s in DVOLSER1 DVOLSER2 DVOLSER3 DVOLPERS1 DVOLBIG1; do
	check "controller $s is present ($(node_of $s))" node_of $s
done

# --- by serial -------------------------------------------------------------------------
expect_rc 0 "-f nvme:serial=DVOLSER1 plans a format" mount -f -t dvol nvme:serial=DVOLSER1 "$M/ser1" -o mkfs=xfs
check "...the plan names the device by serial and node" \
	sh -c "printf '%s' \"\$0\" | grep -q '^device:   serial DVOLSER1 ($(node_of DVOLSER1))'" "$OUT"
check "...blank, first and last MiB zeros" sh -c "printf '%s' \"\$0\" | grep -q '^verdict:  blank'" "$OUT"
expect_rc 0 "nvme:serial=DVOLSER1 -o mkfs=xfs formats and mounts" \
	mount -t dvol nvme:serial=DVOLSER1 "$M/ser1" -o mkfs=xfs
check "...the device with that serial is mounted" test "$(source_of "$M/ser1")" = "$(node_of DVOLSER1)"
check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$M/ser1")" = xfs
expect_msg "formatted serial DVOLSER1 .* as xfs, UUID=" "...the log names the serial and the UUID"
blkid -p -o value -s UUID "$(node_of DVOLSER1)" >"$STATE/ser1.uuid"
node_of DVOLSER1 >"$STATE/ser1.node"
umount "$M/ser1"
expect_rc 0 "mounted again: no format" mount -t dvol nvme:serial=DVOLSER1 "$M/ser1" -o mkfs=xfs
check "...same UUID" test "$(blkid -p -o value -s UUID "$(node_of DVOLSER1)")" = "$(cat "$STATE/ser1.uuid")"
umount "$M/ser1"

# A persistent disk for the reboot case: ext4 with a file on it.
expect_rc 0 "nvme:serial=DVOLPERS1 -o mkfs=ext4" mount -t dvol nvme:serial=DVOLPERS1 "$M/pers1" -o mkfs=ext4
echo "written before reboot" >"$M/pers1/keep"
blkid -p -o value -s UUID "$(node_of DVOLPERS1)" >"$STATE/pers1.uuid"
node_of DVOLPERS1 >"$STATE/pers1.node"
umount "$M/pers1"

# --- by model and index: counted in serial order, not in kernel-name order -------------
# Serials sorted: DVOLBIG1 DVOLPERS1 DVOLSER1 DVOLSER2 DVOLSER3 DVOLZPOWER (index 5, kept
# blank for 95-powerloss).
# A blank device is planned with mkfs= (a real run without it is refused); one that holds
# a filesystem by now, with that filesystem's mkfs= (any other is refused).
declare -A has=([DVOLPERS1]=ext4 [DVOLSER1]=xfs)
i=0
for s in DVOLBIG1 DVOLPERS1 DVOLSER1 DVOLSER2 DVOLSER3; do
	expect_rc 0 "nvme:model=$MODEL,index=$i is planned" \
		mount -f -t dvol "nvme:model=$MODEL,index=$i" "$M/x" -o "mkfs=${has[$s]:-xfs}"
	check "...and is $s" sh -c "printf '%s' \"\$0\" | grep -q '^device:   serial $s '" "$OUT"
	i=$((i + 1))
done
expect_rc 0 "nvme:model=$MODEL without index is index 0" \
	mount -f -t dvol "nvme:model=$MODEL" "$M/x" -o mkfs=xfs
check "...DVOLBIG1" sh -c "printf '%s' \"\$0\" | grep -q '^device:   serial DVOLBIG1 '" "$OUT"
expect_rc 32 "index=6 does not exist: exit 32 after device-timeout" \
	mount -t dvol "nvme:model=$MODEL,index=6" "$M/x" -o device-timeout=1
expect_msg "no block device matches" "...saying so"
expect_rc 32 "nvme:instance-store: QEMU's model is not an instance store" \
	mount -t dvol nvme:instance-store "$M/x" -o device-timeout=1
expect_rc 0 "nvme:model=$MODEL,index=3 mounts DVOLSER2 with mkfs=ext4" \
	mount -t dvol "nvme:model=$MODEL,index=3" "$M/ser2" -o mkfs=ext4
check "...the right device" test "$(source_of "$M/ser2")" = "$(node_of DVOLSER2)"
umount "$M/ser2"

# udev's persistent links work as SOURCE.
link=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER2
check "udev made $link" test -L "$link"
expect_rc 0 "a /dev/disk/by-id link as SOURCE" mount -t dvol "$link" "$M/ser2"
check "...the right device" test "$(source_of "$M/ser2")" = "$(node_of DVOLSER2)"
umount "$M/ser2"

# --- 4 TiB: no discard, ready at once -------------------------------------------------
big=$(node_of DVOLBIG1)
read -r w0 d0 < <(awk '{print $7, $14}' /sys/block/"${big#/dev/}"/stat)
expect_rc 0 "DVOLBIG1 (4 TiB) -o mkfs=ext4" mount -t dvol nvme:serial=DVOLBIG1 "$M/big" -o mkfs=ext4
read -r w1 d1 < <(awk '{print $7, $14}' /sys/block/"${big#/dev/}"/stat)
check "...0 sectors discarded ($((d1 - d0)))" test $((d1 - d0)) -eq 0
check "...at most 64 MiB written by the format ($(((w1 - w0) / 2048)) MiB)" test $((w1 - w0)) -le $((64 * 2048))
umount "$M/big"

# --- md and LVM members are refused, and stay as they were --------------------------
n2=$(node_of DVOLSER2)
n3=$(node_of DVOLSER3)
if command -v mdadm >/dev/null; then
	wipefs -aq "$n2" "$n3"
	mdadm --create /dev/md/dvoltest --run --quiet --level=1 --raid-devices=2 --metadata=1.2 "$n2" "$n3" 2>/dev/null
	check "mdadm made an array of DVOLSER2 and DVOLSER3" test -b /dev/md/dvoltest
	expect_rc 32 "an active md member is refused" mount -t dvol nvme:serial=DVOLSER2 "$M/x" -o mkfs=xfs
	expect_msg "mdraid member|held by md" "...naming what it is"
	mdadm --stop /dev/md/dvoltest >/dev/null 2>&1
	expect_rc 32 "a stopped md member is refused" mount -t dvol nvme:serial=DVOLSER3 "$M/x" -o mkfs=xfs
	expect_msg "found mdraid member" "...as an mdraid member"
	check "...and is still one" test "$(blkid -p -o value -s TYPE "$n3")" = linux_raid_member
	check "nothing was mounted" not_mounted "$M/x"
	mdadm --stop /dev/md/dvoltest >/dev/null 2>&1
	wipefs -aq "$n2" "$n3"
else
	not_ok "mdadm is not in the guest image: cannot test the md member refusal"
fi
if command -v pvcreate >/dev/null; then
	pvcreate -qq "$n3"
	expect_rc 32 "an LVM physical volume is refused" mount -t dvol nvme:serial=DVOLSER3 "$M/x" -o mkfs=ext4
	expect_msg "found LVM physical volume" "...naming it"
	check "...and is still one" test "$(blkid -p -o value -s TYPE "$n3")" = LVM2_member
	pvremove -qq "$n3"
	wipefs -aq "$n3"
else
	not_ok "lvm2 is not in the guest image: cannot test the LVM PV refusal"
fi

done_testing
