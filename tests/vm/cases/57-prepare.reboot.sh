#!/bin/bash
# vm-case-timeout: 600
# After a reboot: the instance-store controller of boot 1 (its backing file kept) is there
# during the boot (dvol-test-nvme-at-boot.service, from 57-prepare.sh, connects it after an
# EBS controller: other kernel names than in boot 1), and the same volume is mounted at the
# same places with no one acting, not formatted again; the EBS volume is untouched; after a
# stop/start (--fresh: blank) it is prepared again.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need blkid

STATE=/var/lib/dvol-tests/57-prepare
AWS="Amazon EC2 NVMe Instance Storage"
SCR=/var/lib/dvol/scratch
CACHE=/root/.cache
on_exit "nvmet del is1 --purge; nvmet del ebs --purge"
on_exit systemctl disable dvol-test-nvme-at-boot.service
check "boot 1 left its state and the volumes file" test -s "$STATE/is1.uuid" -a -s /etc/dvol/volumes
uuid=$(cat "$STATE/is1.uuid")
sum() { sha256sum "$1" | cut -d' ' -f1; }

check "the controllers were connected during the boot" \
	systemctl is-active -q dvol-test-nvme-at-boot.service
k=$(basename "$(nvmet dev is1)")
ke=$(basename "$(nvmet dev ebs)")
echo "# at boot: is1 is $k, ebs is $ke" | diag
wait_for 60 mountpoint -q "$CACHE"
check "with no one acting, the same volume at the same places: $SCR and $CACHE mounted" \
	sh -c "mountpoint -q '$SCR' && mountpoint -q '$CACHE'"
check "...$SCR is is1 ($k)" test "$(findmnt -rn -o SOURCE --mountpoint "$SCR")" = "/dev/$k"
check "...not formatted again (UUID $uuid)" test -n "$uuid" -a "$(blkid -p -o value -s UUID "/dev/$k")" = "$uuid"
check "...the file of boot 1 is there" sh -c "mountpoint -q '$CACHE' && grep -q 'boot 1' '$CACHE/marker'"
check "...the journal says nothing was formatted in this boot" \
	sh -c "! journalctl -b --no-pager -o cat -t mount.dvol -t dvol-volumes | grep -q 'formatted .*IS57'"
check "...dvol-mount@$k.service is active" systemctl is-active -q "dvol-mount@$k.service"
check "the EBS volume ($ke): no prepare unit ran for it" \
	test -z "$(journalctl -b --no-pager -o cat -u "dvol-prepare@$ke.service")"
check "...unchanged, byte for byte (sha256)" test "$(sum "/dev/$ke")" = "$(cat "$STATE/ebs.sha256")"

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
