#!/bin/bash
# vm-case-timeout: 400
# The same fstab NFS lines in boot 2, where dvol-generator (installed in boot 1) ran at
# boot: each mount unit requires dvol-nfs-wait@ for its server after network-online.target.
# The guest's own server comes up late in the boot, and the line is mounted once it
# answers; the wait for the server that is gone fails at its deadline (DVOL_NFS_WAIT,
# 90 s), without holding up multi-user.target, and nothing is mounted there.
. /dvol-tests/guest-lib.sh
set -u

up=$(systemd-escape -p --suffix=mount /mnt/nfs-boot)
gone=$(systemd-escape -p --suffix=mount /mnt/nfs-gone)
wup="dvol-nfs-wait@$(systemd-escape nfs://127.0.0.1/srv/nfs/export/sub).service"
wgone="dvol-nfs-wait@$(systemd-escape nfs://127.0.0.3/srv/nfs/export).service"
G=/run/systemd/generator

check "dvol-generator ran at boot: a drop-in beside $up" test -s "$G/$up.d/50-dvol.conf"
check "...it requires $wup" grep -qx "Requires=$wup" "$G/$up.d/50-dvol.conf"
check "...after network-online.target" grep -qx "After=network-online.target" "$G/$up.d/50-dvol.conf"
check "...with a start timeout from the line's deadlines" grep -q '^TimeoutSec=' "$G/$up.d/50-dvol.conf"
check "systemd took it in: $up requires $wup" \
	sh -c "systemctl show -p Requires --value '$up' | grep -qF '$wup'"

check "the line for the late server is mounted: $up is active" systemctl is-active -q "$up"
check "...after its wait succeeded: $wup is active" systemctl is-active -q "$wup"
check "...by the kernel NFS client" \
	sh -c "findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-boot | grep -qx nfs4"
# 60-nfs.sh rewrites the export's file in boot 1: the mount shows what the export holds.
check "...with its files" cmp -s /mnt/nfs-boot/hello /srv/nfs/export/sub/hello

# The wait for the gone server may still run when the cases start (boot under TCG).
for _ in $(seq 150); do
	systemctl is-active -q "$wgone" || [ "$(systemctl show -p ActiveState --value "$wgone")" = activating ] ||
		break
	sleep 1
done
check "the wait for the server that is gone failed: $wgone" systemctl is-failed -q "$wgone"
s=$(systemctl show -p InactiveExitTimestampMonotonic --value "$wgone")
e=$(systemctl show -p InactiveEnterTimestampMonotonic --value "$wgone")
took=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", (e - s) / 1e6 }')
echo "# $wgone failed after $took s (DVOL_NFS_WAIT=90)"
check "...at its deadline: $took s in [89, 120]" awk -v t="$took" 'BEGIN { exit !(t >= 89 && t <= 120) }'
check "...and its mount was not attempted: $gone is not active" sh -c "! systemctl is-active -q '$gone'"
check "...nothing is mounted there" not_mounted /mnt/nfs-gone
mu=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)
check "multi-user.target was reached before that wait ended (the boot did not wait for it)" \
	test "$mu" -gt 0 -a "$mu" -lt "$e"
run_rc journalctl -b -u "$wgone" -o cat --no-pager
# shellcheck disable=SC2034 # read by expect_msg
ERR=$OUT
expect_msg "127\.0\.0\.3" "...the journal of the wait names the server"

# --- binds of folders of the late NFS line (written in boot 1) ---------------------------
fb=$(systemd-escape -p --suffix=mount /mnt/nfs-fbound)
vb=$(systemd-escape -p --suffix=mount /mnt/nfs-vbound)
EXP=/srv/nfs/export/sub
# systemctl show quotes a name with a backslash, and doubles the backslash.
upq=${up//\\/\\\\}
check "the fstab bind line got RequiresMountsFor= its source" \
	grep -qx 'RequiresMountsFor="/mnt/nfs-boot/fbind"' "$G/$fb.d/50-dvol.conf"
check "...systemd took it in: RequiresMountsFor= of $fb" \
	sh -c "systemctl show -p RequiresMountsFor --value '$fb' | grep -qw /mnt/nfs-boot/fbind"
check "...and so orders it after the NFS line: $fb After= $up" \
	sh -c "systemctl show -p After --value '$fb' | grep -qF '$upq'"
check "the volumes bind line is a mount unit of dvol-generator's" test -s "$G/$vb"
check "...with source-mounted and _netdev (its source is on NFS)" \
	grep -qx 'Options=create,source-mounted,_netdev' "$G/$vb"
check "...in remote-fs.target" test -L "$G/remote-fs.target.wants/$vb"
check "...systemd took it in: RequiresMountsFor= of $vb" \
	sh -c "systemctl show -p RequiresMountsFor --value '$vb' | grep -qw /mnt/nfs-boot/vbind"
check "...and so orders it after the NFS line: $vb After= $up" \
	sh -c "systemctl show -p After --value '$vb' | grep -qF '$upq'"
for u in "$fb" "$vb"; do
	for _ in $(seq 60); do
		[ "$(systemctl show -p ActiveState --value "$u")" = activating ] || break
		sleep 1
	done
	check "$u is active" systemctl is-active -q "$u"
	s_up=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$up")
	s_b=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$u")
	check "...mounted after the NFS line was ($s_b >= $s_up)" test "$s_up" -gt 0 -a "$s_b" -ge "$s_up"
done
check "both binds are of the NFS filesystem" sh -c \
	"findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-fbound | grep -qx nfs4 && findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-vbound | grep -qx nfs4"
m=marker-$$-$RANDOM
echo "$m" >"/mnt/nfs-fbound/$m" && echo "$m" >"/mnt/nfs-vbound/$m"
check "a file written through each bind landed on the server" \
	sh -c "grep -qx '$m' '$EXP/fbind/$m' && grep -qx '$m' '$EXP/vbind/$m'"
# The root disk beneath the NFS line's mount point: nothing was ever made there.
mkdir -p "$T/rootview" && mount --bind / "$T/rootview"
check "...and nothing was made on the root disk beneath /mnt/nfs-boot" \
	sh -c "test -z \"\$(ls -A '$T/rootview/mnt/nfs-boot')\""
umount "$T/rootview"
check "the consumer (RequiresMountsFor= both binds) ran after both were mounted" \
	sh -c "systemctl is-active -q dvol-test-consumer.service && [ \"\$(cat /run/dvol-consumer.seen | paste -sd' ')\" = 'nfs4 nfs4' ]"
done_testing
