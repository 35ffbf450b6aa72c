#!/bin/bash
# vm-case-timeout: 600
# /etc/dvol/volumes's nvme:instance-store line on two blank instance-store controllers that
# udev hands to dvol at the same moment (as coldplug does at boot): the two prepare units,
# the two mount units and a person's mount -t dvol, all at once, give exactly one
# mdadm --create and one mkfs; the stripe of both is mounted by the units, with xfs's
# stripe geometry; the units run with md allowed and nothing else widened.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need mdadm xfs_info udevadm journalctl
export DVOL_LOG=both

AWS="Amazon EC2 NVMe Instance Storage"
V=/etc/dvol/volumes
SCR=/var/lib/dvol/stripe59
saved=$T/volumes.saved
[ -e "$V" ] && cp "$V" "$saved"
restore() {
	umount "$SCR" 2>/dev/null
	for md in /dev/md/dvol-*; do [ -e "$md" ] && mdadm --stop "$md"; done
	rm -f "$V"
	if [ -e "$saved" ]; then cp "$saved" "$V"; fi
}
# In this order: the mount and the array go before their controllers.
on_exit restore
on_exit nvmet_clean

# Both controllers, before there is a volumes line: udev's prepare units find none.
rm -f "$V"
expect_rc 0 "nvmet add is59a ($AWS, 4 GiB, blank)" \
	nvmet add is59a --model "$AWS" --serial IS59A --size 4G --fresh
expect_rc 0 "nvmet add is59b ($AWS, 4 GiB, blank)" \
	nvmet add is59b --model "$AWS" --serial IS59B --size 4G --fresh
a=$(nvmet dev is59a) b=$(nvmet dev is59b)
ka=$(basename "$a") kb=$(basename "$b")
systemctl stop "dvol-prepare@$ka.service" "dvol-prepare@$kb.service" \
	"dvol-mount@$ka.service" "dvol-mount@$kb.service" 2>/dev/null
mkdir -p /etc/dvol
echo "nvme:instance-store  $SCR  dvol  mkfs=xfs,mode=1777  0 0" >"$V"

# Now udev hands both to dvol at once, and a person mounts the same line by hand.
since="@$(date +%s)"
sleep 1
mkdir -p "$SCR"
udevadm trigger --action=change "$a" "$b"
run_rc mount -t dvol nvme:instance-store "$SCR" -o mkfs=xfs,mode=1777,device-timeout=120s
check "a person's mount -t dvol at the same time exits 0 (rc=$RC)" test "$RC" -eq 0
printf '%s\n' "$ERR" | grep . | diag
wait_for 120 sh -c "systemctl is-active -q dvol-mount@$ka.service && systemctl is-active -q dvol-mount@$kb.service"
for k in "$ka" "$kb"; do
	check "dvol-prepare@$k.service ran and is active" systemctl is-active -q "dvol-prepare@$k.service"
	check "dvol-mount@$k.service ran and is active" systemctl is-active -q "dvol-mount@$k.service"
done
# Under the prepare units mount.dvol writes to its parent's stderr (dvol-volumes in the
# journal); the mount units' and the person's are mount.dvol's own.
J=$(journalctl --since "$since" --no-pager -o cat -t mount.dvol -t dvol-volumes)
printf '%s\n' "$J" | grep -E "stripe|formatted|mounted|refus" | diag
n=$(printf '%s\n' "$J" | grep -c "creating stripe dvol-")
check "exactly one mdadm --create among the units and the person ($n)" test "$n" -eq 1
n=$(printf '%s\n' "$J" | grep -c "formatted stripe dvol-.* as xfs")
check "exactly one mkfs ($n)" test "$n" -eq 1
check "no refusal and no failure in the journal" \
	sh -c "! printf '%s' \"\$0\" | grep -qiE 'refusing|failed|cannot'" "$J"

src=$(findmnt -rn -o SOURCE --mountpoint "$SCR")
check "$SCR is mounted from an md array ($src)" sh -c "case '$src' in /dev/md*) exit 0;; esac; exit 1"
md=$(basename "$(readlink -f "$src")")
check "...which runs RAID0 with both members" \
	sh -c "grep -A1 '^$md :' /proc/mdstat | grep -q 'active raid0' &&
		grep '^$md :' /proc/mdstat | grep -q '$ka' && grep '^$md :' /proc/mdstat | grep -q '$kb'"
check "...the only array there is" test "$(grep -c '^md' /proc/mdstat)" -eq 1
check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$SCR")" = xfs
run_rc xfs_info "$SCR"
check "...with the stripe's geometry: sunit=64 swidth=128 blks (256 KiB x 2)" \
	sh -c "printf '%s' \"\$0\" | grep -q 'sunit=64 *swidth=128 blks'" "$OUT"
check "...mode 1777 on the new root" test "$(stat -c %a "$SCR")" = 1777
cat /proc/mdstat | diag
done_testing
