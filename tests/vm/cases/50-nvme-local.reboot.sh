#!/bin/bash
# After a reboot: the same serial resolves to the same controller even if kernel names
# changed; a persistent disk is mounted as it was; DVOLSER1, whose backing file the
# harness replaced (an instance-store wipe), is blank again and is formatted anew.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u
# The guest has a syslog (journald), and stderr is no terminal here: mount.dvol's notices
# go to the journal. These checks read them on stderr as well.
export DVOL_LOG=both

M=$(mktemp -d /tmp/dvol-nvme.XXXXXX)
STATE=/var/lib/dvol-tests/50-nvme-local
mkdir -p "$M/ser1" "$M/pers1"

# The node of a controller serial as lsblk sees it (udev or sysfs): the truth to compare with.
node_of() { lsblk -dnp -o NAME,SERIAL | awk -v s="$1" '$2 == s { print $1; f = 1; exit } END { exit !f }'; }
source_of() { findmnt -rn -o SOURCE --mountpoint "$1"; }

check "the first boot left its state" test -s "$STATE/pers1.uuid" -a -s "$STATE/ser1.uuid"
echo "# DVOLPERS1: $(cat "$STATE/pers1.node") before, $(node_of DVOLPERS1) now;" \
	"DVOLSER1: $(cat "$STATE/ser1.node") before, $(node_of DVOLSER1) now"

expect_rc 0 "nvme:serial=DVOLPERS1 after reboot" mount -t dvol nvme:serial=DVOLPERS1 "$M/pers1" -o mkfs=ext4
check "...is the controller with that serial now, whatever its kernel name" \
	test "$(source_of "$M/pers1")" = "$(node_of DVOLPERS1)"
check "...not formatted again (same UUID)" \
	test "$(blkid -p -o value -s UUID "$(node_of DVOLPERS1)")" = "$(cat "$STATE/pers1.uuid")"
check "...the file written before the reboot is there" grep -q "written before reboot" "$M/pers1/keep"
umount "$M/pers1"
expect_rc 0 "UUID= of DVOLPERS1 through mount(8) and udev's links" \
	mount -t dvol "UUID=$(cat "$STATE/pers1.uuid")" "$M/pers1"
check "...the right device" test "$(source_of "$M/pers1")" = "$(node_of DVOLPERS1)"
umount "$M/pers1"

expect_rc 0 "-f on the wiped DVOLSER1 plans a format" mount -f -t dvol nvme:serial=DVOLSER1 "$M/ser1" -o mkfs=xfs
check "...blank again" sh -c "printf '%s' \"\$0\" | grep -q '^verdict:  blank'" "$OUT"
expect_rc 0 "the wiped DVOLSER1 is formatted and mounted" mount -t dvol nvme:serial=DVOLSER1 "$M/ser1" -o mkfs=xfs
expect_msg "formatted serial DVOLSER1" "...it was formatted"
check "...with a new UUID" \
	test "$(blkid -p -o value -s UUID "$(node_of DVOLSER1)")" != "$(cat "$STATE/ser1.uuid")"
check "...the device with that serial" test "$(source_of "$M/ser1")" = "$(node_of DVOLSER1)"
umount "$M/ser1"

done_testing
