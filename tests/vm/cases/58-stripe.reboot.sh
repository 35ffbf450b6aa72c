#!/bin/bash
# vm-case-timeout: 600
# After a reboot: the 2-member stripe of 58-stripe.sh (controllers r1, r2; their backing
# files kept, the controllers gone with the configfs state) comes back in the other order.
# mount -t dvol nvme:instance-store finds the same array (assembled by udev or by
# mount.dvol) and the same filesystem with the file of boot 1: no create, no mkfs, and
# nothing of it written in /etc.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need mdadm blkid sha256sum findmnt
export DVOL_LOG=both
AWS="Amazon EC2 NVMe Instance Storage"
STATE=/var/lib/dvol-test-stripe
udevadm settle -t 30

# As in boot 1: an earlier case's /etc/dvol/volumes must not prepare these behind our back.
hide_volumes
clean() {
	local m
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m"; done
	for m in $(awk '/^md[0-9]+ :/ { print $1 }' /proc/mdstat); do mdadm --stop "/dev/$m"; done
	nvmet del r1 --purge
	nvmet del r2 --purge
	rm -rf "$STATE"
}
on_exit clean

check "boot 1 left the stripe's name and UUIDs" \
	test -s "$STATE/name" -a -s "$STATE/md-uuid" -a -s "$STATE/fs-uuid"
name=$(cat "$STATE/name") md=$(cat "$STATE/md-uuid") fs=$(cat "$STATE/fs-uuid")
check "...not empty ($name, md $md, filesystem $fs)" test -n "$name" -a -n "$md" -a -n "$fs"
check "...and its backing files" test -s /var/lib/dvol-nvmet/r1-n1.img -a -s /var/lib/dvol-nvmet/r2-n1.img
etc_list() { find /etc -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum 2>/dev/null; }
etc0=$(etc_list)
check "no md array before the controllers come back" test -z "$(awk '/^md[0-9]+ :/' /proc/mdstat)"

# Boot 1 added r1 first; here r2 first (other kernel names, another order).
expect_rc 0 "nvmet add r2, then r1 (the backing files of boot 1)" sh -c "
	bash /dvol-tests/nvmet add r2 --model '$AWS' --serial STRIPER2 --size 4G &&
	bash /dvol-tests/nvmet add r1 --model '$AWS' --serial STRIPER1 --size 4G"
r1=$(nvmet dev r1) r2=$(nvmet dev r2)
echo "# r1 is $r1, r2 is $r2; /proc/mdstat before the mount:"
grep -v '^Personalities\|^unused\|^ *$' /proc/mdstat | diag
mkdir -p "$T/a"
expect_rc 0 "mount -t dvol nvme:instance-store -o mkfs=xfs" \
	mount -t dvol nvme:instance-store "$T/a" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
src=$(findmnt -rn -o SOURCE --mountpoint "$T/a")
check "...mounted from an md device ($src), /dev/md/$name" \
	test -n "$src" -a -n "$name" -a "$(readlink -f "/dev/md/$name")" = "$src"
check "...the same md UUID as in boot 1 ($md)" test -n "$md" -a "$(cat "/sys/block/${src#/dev/}/md/uuid" 2>/dev/null)" = "$md"
check "...the same filesystem UUID ($fs)" test -n "$fs" -a "$(blkid -p -o value -s UUID "$src" 2>/dev/null)" = "$fs"
check "...no create, no mkfs" sh -c "test $RC -eq 0 && ! printf '%s' \"\$0\" | grep -qE 'creating stripe|formatt(ing|ed) '" "$ERR"
check "...the journal says the same for this boot" \
	sh -c "test $RC -eq 0 && ! journalctl -b --no-pager -o cat | grep -qE 'creating stripe $name|formatt(ing|ed) (stripe $name|$src)'"
check "...the file of boot 1" sh -c "mountpoint -q '$T/a' && grep -qx 'written in boot 1' '$T/a/file'"
check "...both controllers are its members" \
	test -e "/sys/block/${src#/dev/}/md/dev-${r1#/dev/}" -a -e "/sys/block/${src#/dev/}/md/dev-${r2#/dev/}"
check ".../etc/mdadm as in boot 1" \
	sh -c "cd /etc && find mdadm -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | cmp -s - '$STATE/etc-mdadm.sha256'"
check "...nothing in /etc changed in this boot's mount" test "$(etc_list)" = "$etc0"
mdc=$(printf '%s' "$md" | tr -d - | sed 's/\(.\{8\}\)/\1:/g; s/:$//')
check "...no file in /etc names the array or its UUID ($mdc)" sh -c "! grep -rIlqsE '$name|$md|$mdc' /etc"
umount "$T/a"
done_testing
