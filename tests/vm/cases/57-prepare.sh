#!/bin/bash
# vm-case-timeout: 600
# /etc/dvol/volumes brought up by udev and systemd with no one acting: a blank
# instance-store controller hot-added is formatted and mounted, the bind line bound on top;
# an EBS controller and an instance-store controller holding ext4 with a file are never
# formatted (sha256 of the whole device unchanged), each with a clear journal message; a
# hot-remove stops the units and the mounts go, a hot-add brings them back unformatted.
# The units' verify and security scores, live in the guest.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need systemd-analyze sha256sum blkid

STATE=/var/lib/dvol-tests/57-prepare
mkdir -p "$STATE"
AWS="Amazon EC2 NVMe Instance Storage"
V=/etc/dvol/volumes
SCR=/var/lib/dvol/scratch
CACHE=/root/.cache
sum() { sha256sum "$1" | cut -d' ' -f1; }
k_of() { basename "$(nvmet dev "$1")"; }
# Kernel names come back: an earlier case's controller may have had this one's name.
since="@$(date +%s)"
jnl() { # jnl KNAME: what the two units and the helpers said about the device, in this case
	journalctl --since "$since" --no-pager -o cat -u "dvol-prepare@$1.service" -u "dvol-mount@$1.service"
	journalctl --since "$since" --no-pager -o cat -t mount.dvol -t dvol-volumes | grep -F "$1"
}
# ebs and is1 keep their backing files: boot 2 has them again (57-prepare.reboot.sh).
on_exit "nvmet del full --purge; nvmet del ebs; nvmet del is1"

# The udev rules are the other half of this work; until they are installed, the rule the
# contract names, for this case only.
RULE=/run/udev/rules.d/99-dvol-test-prepare.rules
rules() {
	compgen -G "/lib/udev/rules.d/*dvol*.rules" >/dev/null || compgen -G "/usr/lib/udev/rules.d/*dvol*.rules" >/dev/null &&
		return 0
	mkdir -p /run/udev/rules.d
	cat >"$RULE" <<'EOR'
ACTION!="add|change", GOTO="dvol_test_end"
SUBSYSTEM!="block", GOTO="dvol_test_end"
KERNEL!="nvme*n*", GOTO="dvol_test_end"
KERNEL=="nvme*c*", GOTO="dvol_test_end"
ENV{DEVTYPE}!="disk", GOTO="dvol_test_end"
ATTRS{model}=="Amazon EC2 NVMe Instance Storage*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="dvol-prepare@%k.service"
LABEL="dvol_test_end"
EOR
	udevadm control --reload
	echo "# no dvol udev rules installed: using $RULE"
}

# --- an instance-store controller that holds ext4 with a file, before any volumes line ----
rm -f "$V"
expect_rc 0 "nvmet add full ($AWS, 1 GiB), before any volumes line" \
	nvmet add full --model "$AWS" --serial FULL57 --size 1G
dev=$(nvmet dev full)
mkdir -p "$T/m" && mkfs.ext4 -q "$dev" && mount "$dev" "$T/m"
echo precious >"$T/m/file" && umount "$T/m"
full_sum=$(sum "$dev")
nvmet disconnect full
rules
# The volumes file only now: with the udev rules installed, the blank device above was
# already handed to dvol-prepare@, which found no file and left it alone.
mkdir -p /etc/dvol
cat >"$V" <<EOV
nvme:instance-store  $SCR  dvol  mkfs=xfs,mode=1777  0 0
$SCR/cache  $CACHE  dvol  create,mode=0755  0 0
# beneath no device line: a folder of fstab's NFS line, mounted at boot (05-nfs-boot.reboot)
/mnt/nfs-boot/vbind  /mnt/nfs-vbound  dvol  create  0 0
EOV
# The rule must not depend on the kernel names this boot gave.
t0=$SECONDS
expect_rc 0 "nvmet connect full (a hot-add of a device holding ext4)" nvmet connect full
k=$(k_of full)
wait_for 60 sh -c "systemctl is-failed -q dvol-prepare@$k.service"
check "dvol-prepare@$k.service ran by itself and failed within a minute" \
	systemctl is-failed -q "dvol-prepare@$k.service"
ERR=$(jnl "$k")
expect_msg "holds an ext4 filesystem, but mkfs=xfs was asked" "...the journal says what it found"
expect_msg "is left alone and nothing is mounted" "...and that the device is left alone"
check "...dvol-mount@$k.service did not run" sh -c "! systemctl is-active -q dvol-mount@$k.service"
check "...nothing is mounted on $SCR" not_mounted "$SCR"
check "...nor on $CACHE" not_mounted "$CACHE"
check "...the device is unchanged, byte for byte (sha256)" test "$(sum "/dev/$k")" = "$full_sum"
echo "# full: $((SECONDS - t0)) s"
nvmet disconnect full

# --- an EBS controller ----------------------------------------------------------------
ts=$(date +%s)
sleep 1
expect_rc 0 "nvmet add ebs (Amazon Elastic Block Store, 1 GiB, blank)" \
	nvmet add ebs --model "Amazon Elastic Block Store" --serial vol0ebs57 --size 1G
ke=$(k_of ebs)
ebs_sum=$(sum "/dev/$ke")
echo "$ebs_sum" >"$STATE/ebs.sha256"
sleep 5
# Its kernel name may be one an earlier controller had: look at what happened since.
check "udev pulled in no prepare unit for the EBS volume" \
	test -z "$(journalctl --no-pager -o cat --since="@$ts" -u "dvol-prepare@$ke.service")"
expect_rc 0 "started by hand, dvol-prepare@$ke.service changes nothing" \
	systemctl start "dvol-prepare@$ke.service"
ERR=$(jnl "$ke")
expect_msg "no line of /etc/dvol/volumes names it; left alone" "...and says it leaves it alone"
check "...the EBS device is unchanged, byte for byte (sha256)" test "$(sum "/dev/$ke")" = "$ebs_sum"
systemctl stop "dvol-prepare@$ke.service" "dvol-mount@$ke.service"

# --- a blank instance-store controller, hot-added -----------------------------------------
t0=$SECONDS
expect_rc 0 "nvmet add is1 ($AWS, 1 GiB, blank): a hot-add" \
	nvmet add is1 --model "$AWS" --serial IS57 --size 1G --fresh
k=$(k_of is1)
wait_for 60 mountpoint -q "$CACHE"
took=$((SECONDS - t0))
check "with no one acting, $SCR and $CACHE are mounted within a minute (${took} s)" \
	sh -c "mountpoint -q '$SCR' && mountpoint -q '$CACHE'"
check "...$SCR is the new controller's namespace /dev/$k" \
	test "$(findmnt -rn -o SOURCE --mountpoint "$SCR")" = "/dev/$k"
check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$SCR")" = xfs
check "...with mode 1777" test "$(stat -c %a "$SCR")" = 1777
check "...and $CACHE is bound on top, from the volume's cache folder" \
	test "$(findmnt -rn -o SOURCE --mountpoint "$CACHE")" = "/dev/${k}[/cache]"
check "dvol-prepare@$k.service is active" systemctl is-active -q "dvol-prepare@$k.service"
check "dvol-mount@$k.service is active" systemctl is-active -q "dvol-mount@$k.service"
ERR=$(jnl "$k")
expect_msg "formatted .*serial IS57.* as xfs" "...the journal says it was formatted"
expect_msg "mounted .*$CACHE" "...and what was mounted where"
uuid=$(blkid -p -o value -s UUID "/dev/$k")
echo "$uuid" >"$STATE/is1.uuid"
echo "written in boot 1" >"$CACHE/marker" && sync -f "$CACHE/marker"

# --- the units, live ------------------------------------------------------------------------
# The image has no man(1) (a minbase system): verify checks the man pages below instead.
units=("dvol-prepare@$k.service" "dvol-mount@$k.service" dvol-gc.service dvol-gc.timer dvol-heal.service dvol-heal.timer
	dvol-nfs-wait@srv.service)
run_rc systemd-analyze verify --man=no "${units[@]}"
check "systemd-analyze verify prints nothing for the installed units (rc=$RC)" \
	test "$RC" -eq 0 -a -z "$OUT$ERR"
printf '%s\n%s\n' "$OUT" "$ERR" | grep . | diag
for u in "${units[@]}"; do
	for m in $(systemctl show -p Documentation --value "$u" | tr -d '"'); do
		p=${m#man:} sec=${m##*(} p=${p%(*}
		sec=${sec%)}
		check "$u: its Documentation $m is installed" test -f "/usr/share/man/man$sec/$p.$sec"
	done
done
for um in "dvol-prepare@$k.service:2.0" "dvol-mount@$k.service:3.5" dvol-gc.service:2.0 \
	dvol-nfs-wait@srv.service:2.0; do
	u=${um%:*} max=${um##*:}
	s=$(systemd-analyze security --no-pager "$u" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	check "systemd-analyze security $u: ${s:-nothing} <= $max" \
		awk -v s="$s" -v m="$max" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'
done

# --- hot-remove, hot-add -------------------------------------------------------------------
t0=$SECONDS
run_rc timeout 60 bash /dvol-tests/nvmet disconnect is1
check "nvmet disconnect is1 (a hot-remove) returns (rc=$RC, $((SECONDS - t0)) s)" test "$RC" -eq 0
wait_for 30 sh -c "! mountpoint -q '$SCR' && ! mountpoint -q '$CACHE'"
check "...the mounts go ($((SECONDS - t0)) s)" sh -c "! mountpoint -q '$SCR' && ! mountpoint -q '$CACHE'"
check "...dvol-mount@$k.service stopped" sh -c "! systemctl is-active -q dvol-mount@$k.service"
expect_rc 0 "nvmet connect is1 (a hot-add of the same device)" nvmet connect is1
k=$(k_of is1)
wait_for 60 mountpoint -q "$CACHE"
check "...mounted again, with the bind on top" \
	test "$(findmnt -rn -o SOURCE --mountpoint "$CACHE")" = "/dev/${k}[/cache]"
check "...the same filesystem: not formatted again (UUID $uuid)" \
	test -n "$uuid" -a "$(blkid -p -o value -s UUID "/dev/$k")" = "$uuid"
check "...with the file written before" sh -c "mountpoint -q '$CACHE' && grep -q 'boot 1' '$CACHE/marker'"
nvmet del is1
check "after nvmet del is1 the mounts are gone" sh -c "! mountpoint -q '$SCR'"

# Boot 2 starts with both controllers there: a unit of this test connects them during the
# boot, before multi-user.target, in the other order (EBS first: other kernel names).
cat >/etc/systemd/system/dvol-test-nvme-at-boot.service <<EOU
[Unit]
Description=dvol test: instance-store and EBS controllers present at boot
DefaultDependencies=no
Requires=dvol-vm-install.service
After=dvol-vm-install.service systemd-udevd.service
Before=multi-user.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/bash /dvol-tests/nvmet add ebs --model "Amazon Elastic Block Store" --serial vol0ebs57 --size 1G
ExecStart=/bin/bash /dvol-tests/nvmet add is1 --model "$AWS" --serial IS57 --size 1G

[Install]
WantedBy=multi-user.target
EOU
expect_rc 0 "a unit connects both controllers in boot 2's boot" \
	systemctl enable dvol-test-nvme-at-boot.service
done_testing
