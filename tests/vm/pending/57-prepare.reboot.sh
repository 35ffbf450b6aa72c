#!/bin/bash
# vm-case-timeout: 600
# After a reboot: the instance-store controller of boot 1 (its backing file kept) comes
# back, and the same volume is mounted at the same places, not formatted again; after a
# stop/start (--fresh: blank) it is prepared again.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need blkid

STATE=/var/lib/dvol-tests/57-prepare
AWS="Amazon EC2 NVMe Instance Storage"
SCR=/var/lib/dvol/scratch
CACHE=/root/.cache
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 1
	done
}
on_exit "nvmet del is1 --purge"
check "boot 1 left its state and the volumes file" test -s "$STATE/is1.uuid" -a -s /etc/dvol/volumes
uuid=$(cat "$STATE/is1.uuid")

if ! { compgen -G "/lib/udev/rules.d/*dvol*.rules" || compgen -G "/usr/lib/udev/rules.d/*dvol*.rules"; } >/dev/null; then
	mkdir -p /run/udev/rules.d
	cat >/run/udev/rules.d/99-dvol-test-prepare.rules <<'EOR'
ACTION!="add|change", GOTO="dvol_test_end"
SUBSYSTEM!="block", GOTO="dvol_test_end"
KERNEL!="nvme*n*", GOTO="dvol_test_end"
KERNEL=="nvme*c*", GOTO="dvol_test_end"
ENV{DEVTYPE}!="disk", GOTO="dvol_test_end"
ATTRS{model}=="Amazon EC2 NVMe Instance Storage*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="dvol-prepare@%k.service"
LABEL="dvol_test_end"
EOR
	udevadm control --reload
fi

expect_rc 0 "nvmet add is1 again (the same backing file)" \
	nvmet add is1 --model "$AWS" --serial IS57 --size 1G
k=$(basename "$(nvmet dev is1)")
wait_for 60 mountpoint -q "$CACHE"
check "the same volume at the same places: $SCR and $CACHE mounted" \
	sh -c "mountpoint -q '$SCR' && mountpoint -q '$CACHE'"
check "...not formatted again (UUID $uuid)" test -n "$uuid" -a "$(blkid -p -o value -s UUID "/dev/$k")" = "$uuid"
check "...the file of boot 1 is there" grep -q "boot 1" "$CACHE/marker"
check "...the journal of the prepare step says nothing was formatted" \
	sh -c "! journalctl -b --no-pager -o cat -t mount.dvol | grep -q 'formatted .*IS57'"

expect_rc 0 "a stop/start: nvmet del is1, add it --fresh (blank)" \
	sh -c "bash /dvol-tests/nvmet del is1 && bash /dvol-tests/nvmet add is1 --fresh --model '$AWS' --serial IS57 --size 1G"
k=$(basename "$(nvmet dev is1)")
wait_for 60 mountpoint -q "$CACHE"
check "...prepared again: mounted, with the bind on top" \
	test "$(findmnt -rn -o SOURCE --mountpoint "$CACHE")" = "/dev/${k}[/cache]"
n=$(blkid -p -o value -s UUID "/dev/$k")
check "...a new filesystem (UUID $n)" test -n "$n" -a "$n" != "$uuid"
check "...with mode 1777" test "$(stat -c %a "$SCR")" = 1777
done_testing
