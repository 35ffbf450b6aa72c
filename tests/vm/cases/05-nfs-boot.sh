#!/bin/bash
# NFS lines in fstab at boot (the image's /etc/fstab): one mounted once the guest's own
# server is up; one for a server that is gone (nftables drops 127.0.0.3), which fails
# within its probe-timeout while boot goes on.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u

up=$(systemd-escape -p --suffix=mount /mnt/nfs-boot)
gone=$(systemd-escape -p --suffix=mount /mnt/nfs-gone)

# The guest's server starts late in the boot: when this case runs first, the mount may
# still be under way.
for _ in $(seq 120); do
	[ "$(systemctl show -p ActiveState --value "$up")" = activating ] ||
		[ -n "$(systemctl show -p Job --value "$up")" ] || break
	sleep 1
done
check "an fstab NFS line (_netdev,nofail) was mounted at boot: $up is active" \
	systemctl is-active -q "$up"
check "...by the kernel NFS client" \
	sh -c "findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-boot | grep -qx nfs4"
check "...from the guest's server, the subdir as given" \
	sh -c "findmnt -rn -o SOURCE --mountpoint /mnt/nfs-boot | grep -qx '127.0.0.1:/srv/nfs/export/sub'"
check "...with its files" grep -q "served by" /mnt/nfs-boot/hello
check "...recorded in utab with the dvol source and dvol.kind=nfs" \
	grep -q 'SRC=nfs://127.0.0.1/srv/nfs/export/sub TARGET=/mnt/nfs-boot .*dvol.kind=nfs' /run/mount/utab

check "the line for a server that is gone failed: $gone" systemctl is-failed -q "$gone"
check "...and nothing is mounted there" not_mounted /mnt/nfs-gone
# A process that exits at once may have its syslog lines read by journald only after its
# cgroup is gone, and then they carry no unit: look for the helper's own lines as well.
ERR=$({
	journalctl -b -u "$gone" -o cat --no-pager
	journalctl -b -t mount.dvol -t mount -o cat --no-pager
} 2>&1)
expect_msg "127\.0\.0\.3.*timeout" "...the journal names the server and says it did not answer in time"
s=$(systemctl show -p InactiveExitTimestampMonotonic --value "$gone")
e=$(systemctl show -p InactiveEnterTimestampMonotonic --value "$gone")
took=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", (e - s) / 1e6 }')
echo "# the mount unit for the gone server failed after $took s (probe-timeout=3)"
check "...within its probe timeout and a margin for a booting guest: $took s < 10 (the kernel: minutes)" \
	awk -v t="$took" 'BEGIN { exit !(t > 0 && t < 10) }'
check "boot went on: multi-user.target is active" systemctl is-active -q multi-user.target

# For boot 2 (05-nfs-boot.reboot.sh): a bind of a folder of the NFS line, from fstab, and
# one from /etc/dvol/volumes (57-prepare.sh writes that file); and a unit that needs both,
# as a container runtime would, through the recipe in the README.
cat >>/etc/fstab <<'EOF2'
# A folder of the NFS share above, for containers: after that mount, never the bare folder.
/mnt/nfs-boot/fbind	/mnt/nfs-fbound	dvol	_netdev,nofail,create,source-mounted=/mnt/nfs-boot	0 0
EOF2
cat >/etc/systemd/system/dvol-test-consumer.service <<'EOF2'
[Unit]
Description=a consumer of dvol's binds (a container runtime, in the README's recipe)
RequiresMountsFor=/mnt/nfs-fbound /mnt/nfs-vbound

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-fbound >/run/dvol-consumer.seen; findmnt -rn -o FSTYPE --mountpoint /mnt/nfs-vbound >>/run/dvol-consumer.seen'

[Install]
WantedBy=multi-user.target
EOF2
check "the consumer unit is enabled for boot 2" systemctl enable -q dvol-test-consumer.service
done_testing
