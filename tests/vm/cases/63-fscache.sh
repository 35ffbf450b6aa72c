#!/bin/bash
# vm-case-timeout: 600
# cache=local: an NFS volume read through the kernel's FS-Cache, whose cache lives on a
# dvol-prepared local volume (DVOLSER3, emptied first) and is run by
# dvol-cachefilesd.service, ordered by dvol-generator from fstab. The served files live on
# an xfs of their own (DVOLBIG1, free after 50-nvme-local), exported with fsid=63: the
# harness's /mnt/nfs-boot mounts the root disk's export at boot, and NFS would give a
# mount of that filesystem its superblock, without fsc. The server's link is throttled
# (netem on lo for the NFS port's replies), and the server's own counter of bytes read
# (/proc/net/rpc/nfsd, "io") tells what came from it:
#   - no cache running: the mount works, uncached, and says so;
#   - cache=local has a superblock of its own; with sharecache, one shared with a mount
#     without fsc is said;
#   - a file read twice: the second read comes from the cache (the server reads nothing
#     more) and is the same data;
#   - after a remount, the cache still serves;
#   - the cache's volume missing: the NFS volume mounts uncached, with a warning.
# 63-fscache.reboot.sh reads it again after a reboot, then fills the cache's volume.
# Timings are printed, not asserted.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

E=/srv/fsc
M=/mnt/dvol-fsc
C=/mnt/dvol-fsc-cache
STATE=/var/lib/dvol-tests/fscache
dev=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER3
big=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLBIG1
unit=$(systemd-escape -p --suffix=mount "$M")
mkdir -p "$M" "$C" "$E" "$STATE"
rm -f "$STATE/ready"

# served: bytes the server has read for its clients so far.
served() { awk '/^io /{print $2}' /proc/net/rpc/nfsd; }
drop() { sync && echo 3 >/proc/sys/vm/drop_caches; }
# timed_read FILE: read FILE through; sets SECS.
timed_read() {
	local s e
	s=$(date +%s.%N)
	cat "$1" >/dev/null || return 1
	e=$(date +%s.%N)
	SECS=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b-a}')
}
rate() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.0f MB/s", (s > 0 ? b / s / 1e6 : 0)}'; }
# cached_bytes: what the cache's files hold on disk (they are sparse: not their length).
cached_bytes() { du -s -B1 "$C/fscache" 2>/dev/null | cut -f1 | grep . || echo 0; }
# wait_cached BYTES: cachefiles writes behind the reads; until the cache holds BYTES (2 min).
wait_cached() {
	for _ in $(seq 1 120); do [ "$(cached_bytes)" -ge "$1" ] && return 0; sleep 1; done
	return 1
}
throttle() {
	tc qdisc add dev lo root handle 1: prio bands 4 &&
		tc qdisc add dev lo parent 1:4 handle 40: netem rate 200mbit &&
		tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport 2049 0xffff flowid 1:4
}
on_exit 'tc qdisc del dev lo root'
on_exit "umount '$M'; systemctl stop '$unit' dvol-cachefilesd.service; umount '$C'"

udevadm settle -t 30
for d in "$dev" "$big"; do
	for m in $(findmnt -rn -o TARGET -S "$(readlink -f "$d")"); do umount "$m"; done
done
# --- the served files: xfs on DVOLBIG1, its own export, before nfsd at boot too -------------
cp /etc/fstab "$STATE/fstab.orig"
cp /etc/exports "$STATE/exports.orig"
# noatime: this kernel's xfs counts an atime update as a change (i_version), which the NFS
# server hands on as the file's change attribute, and the client then drops what it cached
# of the file: the first read of a file would throw away its own cache.
echo "$big $E xfs noatime,nofail,x-systemd.before=nfs-server.service 0 0" >>/etc/fstab
echo "$E 127.0.0.0/8(ro,no_subtree_check,fsid=63)" >>/etc/exports
check "the served files' filesystem: xfs on DVOLBIG1, exported on its own" \
	sh -c "mkfs.xfs -q -f '$big' && mount -o noatime '$big' '$E' && exportfs -ra"

# --- the cache's volume: DVOLSER3 emptied, then prepared by dvol ---------------------------
wipefs -aq "$dev" && dd if=/dev/zero of="$dev" bs=1M count=8 oflag=direct status=none
expect_rc 0 "the cache's volume: nvme:serial=DVOLSER3 -o mkfs=ext4" \
	mount -t dvol nvme:serial=DVOLSER3 "$C" -o mkfs=ext4

# The file: 512 MiB. The NFS path reads about 5 MB/s under TCG (the link allows 25): a
# larger file costs the tier minutes and shows nothing more; bench/vm/82-fscache.sh reads
# 1 GiB.
size_mb=512
head -c "${size_mb}M" /dev/urandom >"$E/big"
want_md5=$(md5sum <"$E/big")
size=$((size_mb * 1024 * 1024))

# --- no cache running: mounted uncached, and said ------------------------------------------
expect_rc 0 "cache=local with no cache running: mounted" \
	mount -t dvol "nfs://127.0.0.1$E" "$M" -o cache=local,vers=4.2
expect_msg "WARNING: cache=local: no FS-Cache cache is active on this host" "...with a warning"
check "...with fsc" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -qw fsc"
umount "$M"

# --- a superblock shared with a mount made without fsc --------------------------------------
check "the root disk's export is mounted without fsc at /mnt/nfs-boot (the harness's fstab)" \
	sh -c "o=\$(findmnt -rn -o OPTIONS --mountpoint /mnt/nfs-boot) && [ -n \"\$o\" ] && ! echo \"\$o\" | grep -qw fsc"
expect_rc 0 "cache=local,sharecache on the same server filesystem: mounted" \
	mount -t dvol nfs://127.0.0.1/srv/nfs/export "$M" -o cache=local,sharecache,vers=4.2
expect_msg "WARNING: cache=local: nfs://127.0.0.1/srv/nfs/export on $M is read uncached: the kernel gave it the superblock of the mount on /mnt/nfs-boot" \
	"...and says it is read uncached, naming the mount whose superblock it shares"
umount "$M"
expect_rc 0 "cache=local there without sharecache: a superblock of its own" \
	mount -t dvol nfs://127.0.0.1/srv/nfs/export "$M" -o cache=local,vers=4.2
check "...with fsc, beside /mnt/nfs-boot's without" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -qw fsc"
umount "$M"

# --- fstab: the cache on DVOLSER3, the NFS line after it -----------------------------------
cat >>/etc/fstab <<EOF
nvme:serial=DVOLSER3 $C dvol mkfs=ext4,nofail 0 0
nfs://127.0.0.1$E $M dvol cache=local,cache-dir=$C/fscache,vers=4.2,_netdev,nofail 0 0
EOF
umount "$C"
systemctl daemon-reload
check "dvol-generator: the cache's unit waits for its folder's mounts" \
	sh -c "systemctl show -p RequiresMountsFor dvol-cachefilesd.service | grep -q '$C/fscache'"
check "...and the NFS mount comes after the cache" \
	sh -c "systemctl show -p After '$unit' | grep -q dvol-cachefilesd.service"
expect_rc 0 "systemctl start $unit" systemctl start "$unit"
check "the cache's volume was mounted first" sh -c "findmnt -rn --mountpoint '$C' >/dev/null"
check "dvol-cachefilesd.service is active" systemctl is-active -q dvol-cachefilesd.service
check "...the kernel has an active cache" grep -q ' A ' /proc/fs/fscache/caches
check "...whose configuration dvol-gc wrote for $C/fscache" grep -qx "dir $C/fscache" /run/dvol/cachefilesd.conf
check "the NFS volume is mounted with fsc" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -qw fsc"
check "...and mount.dvol did not warn" sh -c "! journalctl -b -u '$unit' | grep -q 'no FS-Cache cache is active'"

# --- read twice through the throttled link -------------------------------------------------
check "the link to the server throttled to 200 Mbit/s (netem on the NFS port's replies)" throttle
drop
s0=$(served)
check "first read through the cache=local mount" timed_read "$M/big"
s1=$(served)
first=$SECS
echo "first read: $first s, $(rate "$size" "$first"); the server read $((s1 - s0)) bytes" | diag
check "...the server sent the file" test $((s1 - s0)) -ge "$size"
check "...the cache holds it" wait_cached $((size * 95 / 100))
echo "$(cached_bytes) bytes in $C/fscache" | diag
drop
s=$(date +%s.%N)
got_md5=$(md5sum <"$M/big")
SECS=$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
s2=$(served)
echo "second read: $SECS s, $(rate "$size" "$SECS"); the server read $((s2 - s1)) bytes" | diag
check "second read: the same data" test "$got_md5" = "$want_md5"
check "...came from the cache: the server read less than 1% of the file" test $((s2 - s1)) -lt $((size / 100))

# --- a remount ------------------------------------------------------------------------------
expect_rc 0 "umount, and mount again (systemctl)" sh -c "systemctl stop '$unit' && systemctl start '$unit'"
drop
check "read after the remount" timed_read "$M/big"
s3=$(served)
echo "after the remount: $SECS s, $(rate "$size" "$SECS"); the server read $((s3 - s2)) bytes" | diag
check "...still from the cache" test $((s3 - s2)) -lt $((size / 100))

# --- dvol-warm fills the cache before a job reads ---------------------------------------------
head -c 256M /dev/urandom >"$E/shard1.safetensors"
head -c 128M /dev/urandom >"$E/shard2.safetensors"
warm_size=$((384 * 1024 * 1024))
printf 'root %s\n# the model\nshard*.safetensors\n' "$M" >"$T/model.manifest"
before=$(cached_bytes)
drop
s3=$(served)
expect_rc 0 "dvol-warm of a manifest (2 files, 384 MiB) over the throttled link" \
	dvol-warm --json "$T/model.manifest"
s4=$(served)
echo "dvol-warm: $(printf '%s\n' "$OUT" | grep '"summary"')" | diag
check "...its summary counts both files, all their bytes, no error" \
	sh -c "printf '%s\n' \"\$0\" | jq -e 'select(.type == \"summary\") | .files_ok == 2 and .bytes == $warm_size and .errors == 0' >/dev/null" "$OUT"
check "...the server sent them" test $((s4 - s3)) -ge "$warm_size"
check "...and the cache holds them" wait_cached $((before + warm_size * 95 / 100))
drop
check "a job's read after the warm-up" sh -c "cat '$M'/shard*.safetensors >/dev/null"
s5=$(served)
echo "after the warm-up, the job's read took $((s5 - s4)) bytes from the server" | diag
check "...comes from the cache: the server read less than 1% of it" test $((s5 - s4)) -lt $((warm_size / 100))
tc qdisc del dev lo root

# --- the cache's volume missing ---------------------------------------------------------------
systemctl stop "$unit" dvol-cachefilesd.service
umount "$C"
sed -i "s|^nvme:serial=DVOLSER3 $C dvol mkfs=ext4,nofail|nvme:serial=DVOLGONE $C dvol mkfs=ext4,nofail,device-timeout=3s|" /etc/fstab
systemctl daemon-reload
start=$(date +%s)
expect_rc 0 "the cache's volume missing: the NFS mount unit starts anyway" systemctl start "$unit"
check "...the cache did not start" sh -c "! systemctl is-active -q dvol-cachefilesd.service"
check "...the NFS volume is mounted" sh -c "findmnt -rn -o FSTYPE --mountpoint '$M' | grep -qx nfs4"
check "...uncached, and mount.dvol said so in the journal" \
	sh -c "journalctl -b -u '$unit' --since '@$start' | grep -q 'no FS-Cache cache is active'"
systemctl stop "$unit"

# Boot 2 reads the file again (63-fscache.reboot.sh), with fstab as it was.
sed -i "s|^nvme:serial=DVOLGONE $C dvol mkfs=ext4,nofail,device-timeout=3s|nvme:serial=DVOLSER3 $C dvol mkfs=ext4,nofail|" /etc/fstab
systemctl daemon-reload
[ "$T_FAIL" -eq 0 ] && echo "$size $want_md5" >"$STATE/ready"
done_testing
