#!/bin/bash
# Harness self-check: the nvmet guest helper (tests/vm/guest/nvmet) gives real kernel NVMe
# controllers with the cloud model strings qemu cannot set, over NVMe/TCP on 127.0.0.1;
# disconnect and connect are a hot-remove and a hot-add, and the data stays.
# vm-case-timeout: 600
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
on_exit nvmet_clean
udevadm settle -t 30
ctrls() { ls -d /sys/class/nvme/nvme* 2>/dev/null | wc -l; }
n0=$(ctrls)

# Two of the clouds' models here; 55-udev-names.sh and 56-instance-store.sh use them all.
declare -A model=([aws]="Amazon EC2 NVMe Instance Storage" [ebs]="Amazon Elastic Block Store")
declare -A serial=([aws]=AWS1INST [ebs]=vol0ebs1)
for n in aws ebs; do
	expect_rc 0 "nvmet add $n (${model[$n]})" \
		nvmet add "$n" --model "${model[$n]}" --serial "${serial[$n]}" --size 16G
	if ! dev=$(nvmet dev "$n"); then
		not_ok "$n: nvmet dev names no block device"
		continue
	fi
	b=$(basename "$dev")
	check "$n: $dev is a block device" test -b "$dev"
	m=$(sed 's/[[:space:]]*$//' "/sys/block/$b/device/model")
	check "$n: sysfs shows the model '${model[$n]}' (got '$m')" test "$m" = "${model[$n]}"
	s=$(sed 's/[[:space:]]*$//' "/sys/block/$b/device/serial")
	check "$n: and the serial ${serial[$n]} (got '$s')" test "$s" = "${serial[$n]}"
	check "$n: 16 GiB" test "$(blockdev --getsize64 "$dev")" -eq $((16 << 30))
	link=/dev/disk/by-id/nvme-${model[$n]// /_}_${serial[$n]}
	check "$n: udev made $link" test "$(readlink -f "$link")" = "$dev"
done
check "two controllers more than the harness's ($(ctrls) in all)" test "$(ctrls)" -eq $((n0 + 2))

# Two namespaces that share a serial, as GCP's local SSDs do.
expect_rc 0 "nvmet add gcp2: nvme_card1 with nsids 1 and 2" \
	nvmet add gcp2 --model nvme_card1 --serial nvme_card --size 1G --nsid 1 --nsid 2
d2=$(nvmet dev gcp2 2)
check "gcp2: namespace 2 is $d2, nsid 2 in sysfs" test "$(cat "/sys/block/$(basename "$d2")/nsid")" = 2
check "nvmet list names three subsystems" test "$(nvmet list | wc -l)" -eq 3
nvmet list | diag

# Hot-remove and hot-add: the data stays on the backing file.
dev=$(nvmet dev aws)
printf 'dvol-nvmet-marker\n' | dd of="$dev" bs=4096 conv=sync oflag=direct status=none
expect_rc 0 "nvmet disconnect aws (a hot-remove)" nvmet disconnect aws
check "...the block device is gone" test ! -e "$dev"
check "...nvmet dev aws fails" sh -c '! bash /dvol-tests/nvmet dev aws'
expect_rc 0 "nvmet connect aws (a hot-add)" nvmet connect aws
dev=$(nvmet dev aws)
check "...the marker is there again ($dev)" \
	sh -c "dd if='$dev' bs=4096 count=1 iflag=direct status=none | grep -qa dvol-nvmet-marker"
expect_rc 0 "nvmet del aws, add it again" sh -c 'bash /dvol-tests/nvmet del aws &&
	bash /dvol-tests/nvmet add aws --model "Amazon EC2 NVMe Instance Storage" --serial AWS1INST'
dev=$(nvmet dev aws)
check "...the backing file kept the marker" \
	sh -c "dd if='$dev' bs=4096 count=1 iflag=direct status=none | grep -qa dvol-nvmet-marker"
expect_rc 0 "nvmet del aws, add it --fresh (a stop/start)" sh -c 'bash /dvol-tests/nvmet del aws &&
	bash /dvol-tests/nvmet add aws --fresh --model "Amazon EC2 NVMe Instance Storage" --serial AWS1INST'
dev=$(nvmet dev aws)
check "...blank" sh -c "! dd if='$dev' bs=1M count=1 iflag=direct status=none | tr -d '\\0' | grep -q ."
expect_rc 1 "a second subsystem of one name is refused" nvmet add aws --model x --serial y
expect_rc 1 "a model over 40 bytes is refused" nvmet add long --model "$(printf 'm%.0s' {1..41})" --serial y

nvmet_clean
check "after nvmet_clean: nothing listed" test -z "$(nvmet list)"
check "...and the harness's $n0 controllers are left" test "$(ctrls)" -eq "$n0"
check "...backing files removed" sh -c '! ls /var/lib/dvol-nvmet/*.img 2>/dev/null | grep -q .'
done_testing
