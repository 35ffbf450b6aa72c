#!/bin/bash
# udev/60-dvol.rules on real kernel NVMe controllers with the clouds' model strings (made by
# the nvmet guest helper): /dev/disk/by-dvol/serial/ for every namespace,
# /dev/disk/by-dvol/instance-store/ for the instance-store models only, the prepare unit
# wanted for those only; names that survive mkfs, mount, change events and a reconnect in
# another order; partitions; an operator's own model in a drop-in.
# vm-case-timeout: 600
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
on_exit nvmet_clean
on_exit rm -f /etc/udev/rules.d/59-dvol-test.rules
BY=/dev/disk/by-dvol
udevadm settle -t 30

check "the rules are installed ($(ls /lib/udev/rules.d/60-dvol.rules 2>&1))" \
	test -f /lib/udev/rules.d/60-dvol.rules

# NAME MODEL SERIAL [NSIDS...]; serials with a blank and a slash are made '_' in names.
add() {
	local name=$1 model=$2 serial=$3 a=() n
	shift 3
	for n in "$@"; do a+=(--nsid "$n"); done
	expect_rc 0 "nvmet add $name: '$model', serial '$serial'" \
		nvmet add "$name" --model "$model" --serial "$serial" --size 16G "${a[@]}"
}
add aws "Amazon EC2 NVMe Instance Storage" AWS1INST
add gcp nvme_card0 nvme_card 1 2
add gcppd nvme_card-pd GCPPD1
add azure "Microsoft NVMe Direct Disk v2" "AZ 1/x"
add ebs "Amazon Elastic Block Store" vol0ebs1

# LINK NAME NSID: the link is there and is that namespace.
is_link() {
	local want
	want=$(nvmet dev "$2" "$3") || return 1
	[ -L "$1" ] && [ "$(readlink -f "$1")" = "$want" ]
}
gcp_both() { is_link "$BY/serial/nvme_card-n1" gcp 1 && is_link "$BY/serial/nvme_card-n2" gcp 2; }
# The names in $BY/DIR, partitions left out, sorted, on one line.
names() {
	local f
	for f in "$BY/$1"/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case $f in *-part[0-9]*) continue ;; esac
		basename "$f"
	done | sort | tr '\n' ' '
}
links_ok() {
	local ctx=$1
	check "$ctx: serial/AWS1INST-n1" is_link "$BY/serial/AWS1INST-n1" aws 1
	check "$ctx: serial/nvme_card-n1 and -n2 (one serial, two namespaces)" gcp_both
	check "$ctx: serial/GCPPD1-n1" is_link "$BY/serial/GCPPD1-n1" gcppd 1
	check "$ctx: serial/AZ_1_x-n1 (blank and slash made _)" is_link "$BY/serial/AZ_1_x-n1" azure 1
	check "$ctx: serial/vol0ebs1-n1" is_link "$BY/serial/vol0ebs1-n1" ebs 1
	check "$ctx: qemu's controllers are named too (serial/DVOLSER1-n1)" \
		test -b "$BY/serial/DVOLSER1-n1"
	local got want="AWS1INST-n1 AZ_1_x-n1 nvme_card-n1 nvme_card-n2 "
	got=$(names instance-store)
	check "$ctx: instance-store/ holds exactly $want(got: $got)" test "$got" = "$want"
	check "$ctx: instance-store/AWS1INST-n1 is aws" is_link "$BY/instance-store/AWS1INST-n1" aws 1
	check "$ctx: instance-store/AZ_1_x-n1 is azure" is_link "$BY/instance-store/AZ_1_x-n1" azure 1
	check "$ctx: instance-store/nvme_card-n2 is gcp's namespace 2" \
		is_link "$BY/instance-store/nvme_card-n2" gcp 2
}
links_ok "after hot-add"

# The prepare unit is wanted for instance-store namespaces only.
wants() { udevadm info -q property -n "$1" | sed -n 's/^SYSTEMD_WANTS=//p'; }
for n in aws azure; do
	d=$(nvmet dev $n)
	check "$n ($d): SYSTEMD_WANTS=dvol-prepare@$(basename "$d").service (got '$(wants "$d")')" \
		test "$(wants "$d")" = "dvol-prepare@$(basename "$d").service"
	check "$n: tagged for systemd" sh -c "udevadm info -q property -n $d | grep -q '^TAGS=.*:systemd:'"
done
for n in gcppd ebs; do
	d=$(nvmet dev $n)
	check "$n ($d): no SYSTEMD_WANTS (got '$(wants "$d")')" test -z "$(wants "$d")"
done
q=$(readlink -f "$BY/serial/DVOLSER1-n1")
check "qemu's DVOLSER1 ($q): no SYSTEMD_WANTS" test -z "$(wants "$q")"

# mkfs and mount send change events: the names stay.
aws=$(nvmet dev aws)
mkfs.xfs -q -K "$aws" && udevadm settle -t 30
links_ok "after mkfs.xfs on aws"
mkdir -p "$T/aws"
mount "$aws" "$T/aws" && udevadm settle -t 30
links_ok "with aws mounted"
# Not `trigger --settle`: it waits for an event from every device it wrote to, and the
# hidden per-path disks of NVMe multipath (nvmeXcYnZ, which every nvmet controller has)
# never send one, so it waits forever. A bounded settle after the trigger instead.
udevadm trigger --action=change --subsystem-match=block
udevadm settle -t 60
links_ok "after udevadm trigger --action=change"
umount "$T/aws"
udevadm settle -t 30

# A reconnect in another order: other kernel names, the same names here.
uuid=$(blkid -p -o value -s UUID "$aws")
before=$(basename "$aws")
for n in aws ebs gcppd; do nvmet disconnect $n; done
check "after disconnect: instance-store/AWS1INST-n1 is gone" test ! -e "$BY/instance-store/AWS1INST-n1"
check "...and serial/vol0ebs1-n1" test ! -e "$BY/serial/vol0ebs1-n1"
for n in gcppd ebs aws; do
	expect_rc 0 "nvmet connect $n" nvmet connect $n
done
aws=$(nvmet dev aws)
echo "# aws was $before, is $(basename "$aws") after the reconnect" | diag
links_ok "after a reconnect in another order"
check "instance-store/AWS1INST-n1 holds the xfs made before (UUID $uuid)" \
	test "$(blkid -p -o value -s UUID "$BY/instance-store/AWS1INST-n1")" = "$uuid"

# Partitions: -partN, in instance-store/ only for an instance store; no unit for them.
mbr() { # one partition from LBA 256, 2048 LBAs long
	{
		head -c 446 /dev/zero
		printf '\x00\x00\x00\x00\x83\x00\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00'
		head -c 48 /dev/zero
		printf '\x55\xaa'
	} | dd of="$1" bs=512 count=1 iflag=fullblock conv=notrunc,fsync status=none
	blockdev --rereadpt "$1"
	udevadm settle -t 30
}
az=$(nvmet dev azure)
ebs=$(nvmet dev ebs)
mbr "$az"
mbr "$ebs"
check "azure's partition: serial/AZ_1_x-n1-part1" test "$(readlink -f "$BY/serial/AZ_1_x-n1-part1")" = "${az}p1"
check "...and instance-store/AZ_1_x-n1-part1" \
	test "$(readlink -f "$BY/instance-store/AZ_1_x-n1-part1")" = "${az}p1"
check "...with no SYSTEMD_WANTS of its own (got '$(wants "${az}p1")')" test -z "$(wants "${az}p1")"
check "ebs's partition: serial/vol0ebs1-n1-part1" test "$(readlink -f "$BY/serial/vol0ebs1-n1-part1")" = "${ebs}p1"
check "...not in instance-store/" sh -c "! ls $BY/instance-store/ | grep -q vol0ebs1"
wipefs -aq "$az" "$ebs"
blockdev --rereadpt "$az"
blockdev --rereadpt "$ebs"
udevadm settle -t 30
check "partition names go with the partitions" test ! -e "$BY/serial/AZ_1_x-n1-part1"

# reload_rules: udevd reloads its rules on a quiet queue, not while an event is in flight
# (the watch's change event after a prepare unit closed the device, say).
reload_rules() {
	udevadm settle -t 30
	udevadm control --reload
}

# An operator's own model, in a drop-in that sorts before 60-dvol.rules.
cat >/etc/udev/rules.d/59-dvol-test.rules <<'RULES'
SUBSYSTEM=="block", KERNEL=="nvme*", ATTRS{model}=="Acme Local NVMe", ENV{DVOL_INSTANCE_STORE}="1"
RULES
reload_rules
add acme "Acme Local NVMe" ACME1
check "the drop-in's model: instance-store/ACME1-n1" is_link "$BY/instance-store/ACME1-n1" acme 1
d=$(nvmet dev acme)
check "...with its prepare unit wanted" test "$(wants "$d")" = "dvol-prepare@$(basename "$d").service"
rm -f /etc/udev/rules.d/59-dvol-test.rules
reload_rules
timeout 60 udevadm trigger --action=change --settle "$d"
check "without the drop-in, after a change event: no instance-store/ACME1-n1" \
	test ! -e "$BY/instance-store/ACME1-n1"
[ -e "$BY/instance-store/ACME1-n1" ] && udevadm info "$d" | diag
check "...serial/ACME1-n1 stays" is_link "$BY/serial/ACME1-n1" acme 1

# remove events leave nothing behind.
nvmet_clean
got=$(names instance-store)
check "after every nvmet controller is gone: instance-store/ is empty (got: $got)" test -z "$got"
check "...serial/ names qemu's controllers only" \
	sh -c "! ls $BY/serial | grep -qvE '^DVOL'"
done_testing
