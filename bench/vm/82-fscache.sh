#!/bin/bash
# vm-case-timeout: 1500
# In the guest: cache=local. A 1 GiB file on the guest's kernel NFS server, read through a
# cache=local mount whose cache lives on DVOLSER3 (ext4, made by dvol): the first read (from
# the server, filling the cache), the second (from the cache), against a plain read of a
# 1 GiB file of the cache's own volume. Then dvol-warm against cat of the same files into
# /dev/null, over the same plain NFS mount with its server's replies throttled to
# 200 Mbit/s (netem). Page caches dropped before each read; medians of 3 runs (the first
# read: one, it fills the cache); figures go out as "# bench:" lines.
# The served files live on an xfs on DVOLSER2, exported on its own (the guest's root disk
# is small), mounted noatime: see 63-fscache.sh on atime and the change attribute.
# shellcheck source=../../tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u
need exportfs tc mkfs.xfs
RUNS=3
SIZE_MB=1024
udevadm settle -t 30

S=/srv/bench-fsc
C=/mnt/bench-fsc-cache
M=/mnt/bench-fsc
P=/mnt/bench-fsc-plain
ser2=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER2
ser3=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLSER3
mkdir -p "$S" "$C" "$M" "$P"
for d in "$ser2" "$ser3"; do
	for m in $(findmnt -rn -o TARGET -S "$(readlink -f "$d")"); do umount "$m"; done
done
clean() {
	tc qdisc del dev lo root
	umount "$M" "$P"
	systemctl stop dvol-cachefilesd.service
	umount "$C"
	exportfs -u "127.0.0.0/8:$S"
	umount "$S"
}
on_exit clean

check "the served files' filesystem: xfs on DVOLSER2, exported" \
	sh -c "mkfs.xfs -q -f '$ser2' && mount -o noatime '$ser2' '$S' && exportfs -o ro,no_subtree_check,fsid=82 '127.0.0.0/8:$S'"
wipefs -aq "$ser3" && dd if=/dev/zero of="$ser3" bs=1M count=8 oflag=direct status=none
check "the cache's volume: nvme:serial=DVOLSER3 -o mkfs=ext4 (dvol)" \
	mount -t dvol nvme:serial=DVOLSER3 "$C" -o mkfs=ext4
head -c "${SIZE_MB}M" /dev/urandom >"$S/big"
head -c "${SIZE_MB}M" /dev/urandom >"$C/local"
for i in 1 2; do head -c 128M /dev/urandom >"$S/shard$i.safetensors"; done

drop() { sync && echo 3 >/proc/sys/vm/drop_caches; }
# secs CMD...: run CMD with its output dropped; print its seconds, or fail the check.
secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || return 1
	e=$(date +%s.%N)
	awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}'
}
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
cached_bytes() { du -s -B1 "$C/fscache" 2>/dev/null | cut -f1 | grep . || echo 0; }
# start_cache: an empty cache in $C/fscache, run as fstab's cache=local line would.
start_cache() {
	systemctl stop dvol-cachefilesd.service
	rm -rf "$C/fscache"
	mkdir -p /run/systemd/system/dvol-cachefilesd.service.d
	printf '[Service]\nEnvironment="DVOL_FSCACHE_DIR=%s"\n' "$C/fscache" \
		>/run/systemd/system/dvol-cachefilesd.service.d/50-bench.conf
	systemctl daemon-reload
	systemctl start dvol-cachefilesd.service
}

# The first read fills the cache once (it takes minutes under TCG); then the second read
# and the local read, in turn, RUNS times each.
first=() second=() local_=()
check "an empty cache, started" start_cache
check "cache=local mount" mount -t dvol "nfs://127.0.0.1$S" "$M" -o cache=local,vers=4.2,ro
drop
t=$(secs cat "$M/big") && first+=("$t")
check "first read, from the server ($t s)" test -n "$t"
for _ in $(seq 1 180); do [ "$(cached_bytes)" -ge $((SIZE_MB * 1024 * 1024 * 95 / 100)) ] && break; sleep 1; done
check "the cache holds the file" test "$(cached_bytes)" -ge $((SIZE_MB * 1024 * 1024 * 95 / 100))
for r in $(seq 1 "$RUNS"); do
	drop
	t=$(secs cat "$M/big") && second+=("$t")
	check "run $r: second read, from the cache ($t s)" test -n "$t"
	drop
	t=$(secs cat "$C/local") && local_+=("$t")
	check "run $r: a plain read of the cache's volume ($t s)" test -n "$t"
done
umount "$M"
rm -f /run/systemd/system/dvol-cachefilesd.service.d/50-bench.conf
systemctl stop dvol-cachefilesd.service
systemctl daemon-reload

# dvol-warm against cat, cold from the throttled server each time.
check "a plain NFS mount (no cache)" mount -t dvol "nfs://127.0.0.1$S" "$P" -o vers=4.2,ro
check "the server's replies throttled to 200 Mbit/s" sh -c "tc qdisc add dev lo root handle 1: prio bands 4 &&
	tc qdisc add dev lo parent 1:4 handle 40: netem rate 200mbit &&
	tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport 2049 0xffff flowid 1:4"
warm=() cat_=()
for r in $(seq 1 "$RUNS"); do
	drop
	t=$(secs dvol-warm --quiet --root "$P" 'shard*.safetensors') && warm+=("$t")
	check "run $r: dvol-warm of 2 x 128 MiB ($t s)" test -n "$t"
	drop
	t=$(secs sh -c "cat '$P'/shard*.safetensors") && cat_+=("$t")
	check "run $r: cat of the same ($t s)" test -n "$t"
done
printf '# bench: first\t%s\n# bench: second\t%s\n# bench: local\t%s\n# bench: warm\t%s\n# bench: cat\t%s\n' \
	"$(median "${first[@]}")" "$(median "${second[@]}")" "$(median "${local_[@]}")" \
	"$(median "${warm[@]}")" "$(median "${cat_[@]}")"
done_testing
