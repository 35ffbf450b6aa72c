#!/bin/bash
# vm-case-timeout: 600
# Boot 2 of 63-fscache.sh: fstab mounts the cache's volume, dvol-cachefilesd.service and
# the cache=local NFS line at boot, in that order; the file cached in boot 1 is read from
# the cache (the server, restarted with the guest, reads less than 1% of it). The served
# files' xfs (DVOLBIG1) is mounted before nfsd by its own fstab line. Then the cache's
# volume fills up: a ballast file leaves it 8% free, and 1 GiB more is read through the
# cache than that room; culling (below 7% free, cachefilesd's limits from dvol-gc) keeps
# it above its stop limit (4%), every read succeeds, and the data is whole.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

E=/srv/fsc
M=/mnt/dvol-fsc
C=/mnt/dvol-fsc-cache
STATE=/var/lib/dvol-tests/fscache
unit=$(systemd-escape -p --suffix=mount "$M")
cleanup() {
	umount "$M"
	systemctl stop dvol-cachefilesd.service
	umount "$C"
	[ -e "$STATE/fstab.orig" ] && cp "$STATE/fstab.orig" /etc/fstab
	[ -e "$STATE/exports.orig" ] && cp "$STATE/exports.orig" /etc/exports
	exportfs -ra
	umount "$E"
	systemctl daemon-reload
}
on_exit cleanup

if [ ! -e "$STATE/ready" ]; then
	not_ok "boot 1 left no cached file (63-fscache.sh failed)"
	done_testing
fi
read -r size want_md5 <"$STATE/ready"
served() { awk '/^io /{print $2}' /proc/net/rpc/nfsd; }

# nofail: the mount is not waited for by remote-fs.target, so maybe not yet by this case.
timeout 120 sh -c "until systemctl is-active -q '$unit'; do sleep 1; done"
check "at boot: the cache's volume is mounted" sh -c "findmnt -rn --mountpoint '$C' >/dev/null"
check "...dvol-cachefilesd.service is active" systemctl is-active -q dvol-cachefilesd.service
check "...the NFS volume is mounted with fsc" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -qw fsc"
a=$(systemctl show -p ActiveEnterTimestampMonotonic --value dvol-cachefilesd.service)
b=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$unit")
check "...after the cache had started ($a < $b)" test "$a" -lt "$b"
check "...and mount.dvol did not warn" sh -c "! journalctl -b -u '$unit' | grep -q 'no FS-Cache cache is active'"
sync && echo 3 >/proc/sys/vm/drop_caches
s0=$(served)
check "the file cached before the reboot reads whole" test "$(md5sum <"$M/big")" = "$want_md5"
s1=$(served)
echo "the server read $((s1 - s0)) bytes of $size" | diag
check "...from the cache: the server read less than 1% of it" test $((s1 - s0)) -lt $((size / 100))

# --- the cache's volume filling up -----------------------------------------------------------
stop_pct=$(awk '/^bstop/{sub("%","",$2); print $2}' /run/dvol/cachefilesd.conf)
check "cachefilesd stops caching below ${stop_pct:-?}% free (dvol-gc's limits)" test -n "$stop_pct"
free_kb() { df -k --output=avail "$C" | tail -1; }
size_kb() { df -k --output=size "$C" | tail -1; }
ballast=$(($(free_kb) - $(size_kb) * 8 / 100))
check "a ballast file leaves the cache's volume 8% free" \
	fallocate -l "${ballast}K" "$C/ballast"
for i in 1 2 3 4; do yes "dvol fill $i" 2>/dev/null | head -c 256M >"$E/fill$i"; done
fill_ok=1
for i in 1 2 3 4; do
	sync && echo 3 >/proc/sys/vm/drop_caches
	cat "$M/fill$i" >/dev/null || fill_ok=0
done
check "1 GiB more than that room read through the cache: every read succeeded" test "$fill_ok" -eq 1
sleep 5
free_pct=$(($(free_kb) * 100 / $(size_kb)))
echo "the cache's volume: ${free_pct}% free; $(grep -h 'Cache\(Ev\|n\)' /proc/fs/fscache/stats 2>/dev/null | tr '\n' ' ')" | diag
check "...the volume kept at least its stop limit free (${free_pct}% >= $((stop_pct - 1))%)" \
	test "$free_pct" -ge $((stop_pct - 1))
check "...and a file read then is whole" test "$(md5sum <"$M/fill1")" = "$(md5sum <"$E/fill1")"
rm -f "$C/ballast" "$E"/fill?
done_testing
