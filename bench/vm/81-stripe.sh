#!/bin/bash
# vm-case-timeout: 1500
# In the guest: mount -t dvol nvme:instance-store on blank members, to mounted, for a stripe
# of four 4 TiB instance stores against one 4 TiB instance store (nvmet controllers with
# AWS's model string); the sectors discarded (goal: none) and written on the way; and a
# sequential read of 1 GiB (O_DIRECT) from each filesystem. Medians of 3 runs; figures go
# out as "# bench:" lines.
# The nvmet backing files live on an xfs on the harness's DVOLBIG1 (4 TiB, sparse on the
# host), not on the guest's small root disk: each mkfs.xfs of a 4 TiB volume zeroes a 2 GiB
# log, and the target's file backend allocates what is zeroed.
# shellcheck source=../../tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u
need mdadm mkfs.xfs findmnt
AWS="Amazon EC2 NVMe Instance Storage"
RUNS=3
udevadm settle -t 30

big=/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_DVOLBIG1
back=/var/lib/dvol-bench-nvmet
mkdir -p "$back" /mnt/bench-stripe
check "the backing files' filesystem: xfs on DVOLBIG1" \
	sh -c "mkfs.xfs -q -K -f '$big' && mount '$big' '$back'"
export DVOL_NVMET_DIR=$back
clean() {
	local m n
	mountpoint -q /mnt/bench-stripe && umount /mnt/bench-stripe
	for m in $(awk '/^md[0-9]+ :/ { print $1 }' /proc/mdstat); do mdadm --stop "/dev/$m"; done
	for n in $(nvmet list | cut -f1); do nvmet del "$n" --purge; done
	umount "$back"
}
on_exit clean

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
since() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.2f", b - a }'; } # since T0 [T1]: seconds

# members_add N: N blank 4 TiB instance stores b1..bN; their nodes in DEVS.
members_add() {
	local i
	DEVS=()
	for ((i = 1; i <= $1; i++)); do
		nvmet add "b$i" --model "$AWS" --serial "BENCH$i" --size 4T --fresh || return 1
		DEVS+=("$(nvmet dev "b$i")")
	done
}
# members_drop N: the volume unmounted, every array stopped, b1..bN removed with their files.
members_drop() {
	local i m
	mountpoint -q /mnt/bench-stripe && umount /mnt/bench-stripe
	for m in $(awk '/^md[0-9]+ :/ { print $1 }' /proc/mdstat); do mdadm --stop "/dev/$m" >/dev/null 2>&1; done
	for ((i = 1; i <= $1; i++)); do nvmet del "b$i" --purge; done
}

# readback: write 1 GiB on the mounted volume, then read it back with O_DIRECT 3 times;
# prints the median MB/s.
readback() {
	local f=/mnt/bench-stripe/seq i t0 t1
	dd if=/dev/zero of="$f" bs=4M count=256 oflag=direct conv=fsync status=none || return 1
	for i in 1 2 3; do
		echo 3 >/proc/sys/vm/drop_caches
		t0=$(now)
		dd if="$f" of=/dev/null bs=4M iflag=direct status=none || return 1
		t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", 1073.741824 / (b - a) }'
	done | median
}

# prepare KIND N RUN: N blank 4 TiB instance stores, then mount -t dvol nvme:instance-store,
# timed to mounted. Sets T_PREP, WRITTEN, DISCARDED; on the last run also READ (MB/s).
prepare() {
	local kind=$1 n=$2 run=$3 w0 d0 t0 t1 rc err
	members_add "$n" || return 1
	local devs=("${DEVS[@]}")
	w0=$(blk_stat 7 "${devs[@]}") d0=$(blk_stat 14 "${devs[@]}")
	t0=$(now)
	err=$(mount -t dvol nvme:instance-store /mnt/bench-stripe -o mkfs=xfs 2>&1)
	rc=$?
	t1=$(now)
	T_PREP=$(since "$t0" "$t1")
	WRITTEN=$(($(blk_stat 7 "${devs[@]}") - w0)) DISCARDED=$(($(blk_stat 14 "${devs[@]}") - d0))
	check "$kind, run $run: mount -t dvol nvme:instance-store on $n blank 4 TiB members ($T_PREP s, rc=$rc)" \
		test "$rc" -eq 0
	printf '%s\n' "$err" | diag
	local src
	src=$(findmnt -rn -o SOURCE --mountpoint /mnt/bench-stripe)
	if [ "$n" -gt 1 ]; then
		check "...mounted from an md RAID0 of $n ($src)" \
			test "$(cat "/sys/block/${src#/dev/}/md/raid_disks" 2>/dev/null)" = "$n"
	else
		check "...mounted from the one namespace ($src)" test "$src" = "${devs[0]}"
	fi
	READ=
	# Only from the volume: without a mount the root disk would be measured.
	if [ "$run" -eq "$RUNS" ] && [ "$rc" -eq 0 ] && mountpoint -q /mnt/bench-stripe; then
		READ=$(readback)
		check "...1 GiB written and read back ($READ MB/s)" test -n "$READ"
	fi
	members_drop "$n"
	return 0
}

ps=() p1=() ws=() w1=() ds=() d1=()
for r in $(seq "$RUNS"); do
	prepare stripe 4 "$r" || not_ok "stripe, run $r: nvmet add failed"
	ps+=("$T_PREP") ws+=("$WRITTEN") ds+=("$DISCARDED")
	[ "$r" -eq "$RUNS" ] && rs=$READ
	prepare single 1 "$r" || not_ok "single, run $r: nvmet add failed"
	p1+=("$T_PREP") w1+=("$WRITTEN") d1+=("$DISCARDED")
	[ "$r" -eq "$RUNS" ] && r1=$READ
done
echo "prep stripe: ${ps[*]}; single: ${p1[*]}; written: ${ws[*]} / ${w1[*]}; discarded: ${ds[*]} / ${d1[*]}" | diag

# Where the stripe's time goes, and the chunk's trade: dvol's own mdadm and mkfs command
# lines (the 'mdadm:' and 'mkfs:' rows of mount -f), run by hand, each timed alone, with
# dvol's chunk of 256 KiB and with 1 MiB and 4 MiB; then a sequential read of each. And
# mkfs.xfs alone on one member. Sets T_MD, T_MKFS; on the last run also READ.
by_hand() {
	local chunk=$1 n=$2 run=$3 plan md mk t0 t1 t2 rc=0
	members_add "$n" || return 1
	local devs=("${DEVS[@]}")
	if [ "$n" -gt 1 ]; then
		plan=$(mount -f -t dvol nvme:instance-store /mnt/bench-stripe -o mkfs=xfs 2>&1)
		md=$(printf '%s\n' "$plan" | sed -n 's/^mdadm: *//p' | sed "s/--chunk=256 /--chunk=$chunk /")
		mk=$(printf '%s\n' "$plan" | sed -n 's/^mkfs: *\(.*\) (after the claim.*/\1/p')
	else
		md=: mk="mkfs.xfs -q -K ${devs[0]}"
	fi
	check "chunk $chunk KiB, $n member(s), run $run: command lines (${md:0:60}...; $mk)" \
		test -n "$md" -a -n "$mk" -a \( "$n" -eq 1 -o "$md" != "${md/--chunk=$chunk /}" \)
	udevadm settle -t 30
	t0=$(now)
	eval "$md" </dev/null >/dev/null 2>&1 || rc=1
	t1=$(now)
	udevadm settle -t 30
	t2=$(now)
	eval "$mk" >/dev/null 2>&1 || rc=1
	T_MD=$(since "$t0" "$t1")
	T_MKFS=$(since "$t2")
	check "...mdadm $T_MD s, mkfs.xfs $T_MKFS s" test "$rc" -eq 0
	READ=
	if [ "$run" -eq "$RUNS" ] && [ "$rc" -eq 0 ]; then
		mount -t xfs "${mk##* }" /mnt/bench-stripe && READ=$(readback)
		check "...1 GiB written and read back ($READ MB/s)" test -n "$READ"
	fi
	members_drop "$n"
	return 0
}
for c in 256 1024 4096 one; do
	tm=() tk=()
	for r in $(seq "$RUNS"); do
		if [ "$c" = one ]; then by_hand 256 1 "$r"; else by_hand "$c" 4 "$r"; fi ||
			not_ok "chunk $c, run $r: nvmet add failed"
		tm+=("$T_MD") tk+=("$T_MKFS")
	done
	echo "chunk $c: mdadm ${tm[*]}; mkfs ${tk[*]}; read $READ" | diag
	printf '# bench: %s\t%s\n' "mdadm_$c" "$(printf '%s\n' "${tm[@]}" | median)" \
		"mkfs_$c" "$(printf '%s\n' "${tk[@]}" | median)" "read_$c" "${READ:-}"
done
printf '# bench: %s\t%s\n' \
	prep_stripe "$(printf '%s\n' "${ps[@]}" | median)" \
	prep_single "$(printf '%s\n' "${p1[@]}" | median)" \
	written_stripe "$(printf '%s\n' "${ws[@]}" | median)" \
	written_single "$(printf '%s\n' "${w1[@]}" | median)" \
	discarded_stripe "$(printf '%s\n' "${ds[@]}" | sort -n | tail -n 1)" \
	discarded_single "$(printf '%s\n' "${d1[@]}" | sort -n | tail -n 1)" \
	read_stripe "${rs:-}" \
	read_single "${r1:-}"
done_testing
