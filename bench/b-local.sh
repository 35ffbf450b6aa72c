#!/bin/bash
# Preparing a blank local volume (format and mount): `mount -t dvol DEV DIR -o mkfs=FS`
# against the mkfs defaults that systemd-makefs and per-disk setups use (`mkfs.FS DEV`,
# then `mount`), on blank sparse loop devices of 16 GiB and 4 TiB.
# Loop devices do not show how slow a discard or an inode-table write is on real NVMe, but
# the kernel counts the work: /sys/block/loopN/stat fields 7 (sectors written) and 14
# (sectors discarded), read before and after, next to the time.
. "$(dirname "$0")/lib.sh" "$@"
runs=${BENCH_LOCAL_RUNS:-3}
mkdir -p "$B/img" "$B/mnt"
# Sparse backing files on ext4, itself on a sparse file in memory: the anchors' discards
# punch holes in it, and xfs's log zeroing goes down as write-zeroes (ext4 has
# FALLOC_FL_ZERO_RANGE; tmpfs has not, and the loop driver would count it twice).
mkdir -p "$B/mem"
mount -t tmpfs -o size=8G,mode=0700 dvol-bench-mem "$B/mem"
truncate -s 64G "$B/mem/backing.img"
mkfs.ext4 -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$B/mem/backing.img"
mount -o loop "$B/mem/backing.img" "$B/img"

# prep_once dvol|anchor FS SIZE: prints "seconds written_sectors discarded_sectors".
prep_once() {
	local how=$1 fs=$2 size=$3 dev n t0 t1 w0 d0 w1 d1 rc
	truncate -s "$size" "$B/img/dev.img"
	dev=$(losetup -f --show "$B/img/dev.img")
	n=${dev#/dev/}
	read -r w0 d0 < <(awk '{print $7, $14}' /sys/block/"$n"/stat)
	t0=$(date +%s.%N)
	rc=0
	if [ "$how" = dvol ]; then
		mount -t dvol "$dev" "$B/mnt" -o mkfs="$fs" 2>"$B/err" || rc=$?
	else
		{ "mkfs.$fs" -q "$dev" >/dev/null 2>"$B/err" && mount "$dev" "$B/mnt" 2>>"$B/err"; } || rc=$?
	fi
	t1=$(date +%s.%N)
	# What was timed must have made and mounted the filesystem asked for.
	if [ "$rc" -ne 0 ] || [ "$(findmnt -rn -o FSTYPE --mountpoint "$B/mnt")" != "$fs" ] ||
		[ "$(blkid -o value -s TYPE "$dev")" != "$fs" ]; then
		cat "$B/err" >&2
		umount "$B/mnt" 2>/dev/null
		losetup -d "$dev"
		fail "$how $fs $size: rc=$rc, no $fs mounted on $B/mnt"
	fi
	sync -f "$B/mnt"
	read -r w1 d1 < <(awk '{print $7, $14}' /sys/block/"$n"/stat)
	umount "$B/mnt"
	losetup -d "$dev"
	rm -f "$B/img/dev.img"
	awk -v a="$t0" -v b="$t1" -v w=$((w1 - w0)) -v d=$((d1 - d0)) 'BEGIN { print b - a, w, d }'
}

# prep HOW FS SIZE: the median time of $runs runs, with the device work of that run.
prep() {
	: >"$B/prep"
	for _ in $(seq "$runs"); do prep_once "$@" >>"$B/prep" || exit 1; done
	sort -n "$B/prep" | awk -v m=$(((runs + 1) / 2)) 'NR == m'
}

human() { # sectors -> "N MiB" or "N GiB"
	awk -v s="$1" 'BEGIN { b = s * 512; if (b >= 10 * 2^30) printf "%.0f GiB", b / 2^30;
		else printf "%.0f MiB", b / 2^20 }'
}
label() { case $1 in *G) echo "${1%G} GiB" ;; *T) echo "${1%T} TiB" ;; esac; }
secs() { awk -v s="${1%% *}" 'BEGIN { printf "%.2f s", s }'; }
cell() { # "seconds written discarded" -> "1.23 s, 56 MiB written, 0 MiB discarded"
	set -- $1
	printf '%.2f s, %s written, %s discarded' "$1" "$(human "$2")" "$(human "$3")"
}

for fs in ext4 xfs; do
	small=
	for size in 16G 4T; do
		d=$(prep dvol "$fs" "$size") || exit 1
		a=$(prep anchor "$fs" "$size") || exit 1
		[ "$size" = 16G ] && small=$d
		goal=""
		if [ "$size" = 4T ]; then
			goal="0 discarded"
			[ "$fs" = ext4 ] && goal="$goal, <= 64 MiB written"
		fi
		row "local $fs prep, $(label "$size") (median of $runs)" "$(cell "$d")" "mkfs.$fs defaults + mount" \
			"$(cell "$a")" "$(ratio "${d%% *}" "${a%% *}")x" "$goal"
	done
	row "  dvol $fs at 4 TiB over its time at 16 GiB" "$(secs "$d")" "dvol at 16 GiB" "$(secs "$small")" \
		"$(ratio "${d%% *}" "${small%% *}")x" "<= 2x"
done
umount "$B/img"
umount "$B/mem"
