#!/bin/bash
# vm-case-timeout: 1500
# nvme:instance-store with several instance-store namespaces: all of them as one md RAID0
# (nvmet controllers with AWS's model string).
# - 2 and 4 members: created once ("creating stripe" once, one mkfs), mounted from the md
#   device, xfs with sunit/swidth of the 256 KiB chunk times the members, nothing
#   discarded; mount -f says what it would do and changes nothing.
# - assembled again from the members alone (after mdadm --stop, and with the controllers
#   back in another order, where udev's incremental assembly may start it first): the same
#   md and filesystem UUIDs, no mkfs, the file written before, nothing written in /etc.
# - all members blank again (a stop/start): a new array and a new filesystem.
# - refused (exit 32, "refusing to stripe", each member named, nothing written, no inactive
#   array left): one member wiped, a member holding ext4, a member of another array, a fifth
#   member added; count=3 with four; stripe=no with several.
# - 16 concurrent mounts of blank members: one create, one mkfs, one array, one mount.
# - mkfs.xfs killed half-way on a new array: the mount fails, the array stays; the next
#   mount (with the array still running, or stopped as a reboot leaves it) formats the same
#   array again (dvol's claim on it) and mounts it.
# - leaves a 2-member stripe with a file (controllers r1, r2; backing files kept, controllers
#   gone) for 58-stripe.reboot.sh.
# shellcheck source=tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
need mdadm xfs_info blkid sha256sum mkfs.ext4 findmnt
export DVOL_LOG=both
AWS="Amazon EC2 NVMe Instance Storage"
SZ=4G
STATE=/var/lib/dvol-test-stripe
udevadm settle -t 30

# An /etc/dvol/volumes line of an earlier case (57-prepare.sh) would have udev and systemd
# prepare these instance stores behind this case's back: an empty one over it, for this
# case only (a bind mount: gone at the reboot in any case).
hide_volumes

# At the end: no mount, no array, no controller left for the cases after this one, but r1
# and r2 keep their backing files for boot 2.
clean() {
	local m n
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m"; done
	for m in $(awk '/^md[0-9]+ :/ { print $1 }' /proc/mdstat); do mdadm --stop "/dev/$m"; done
	for n in $(nvmet list | cut -f1); do
		case $n in
		r1 | r2) nvmet del "$n" ;;
		*) nvmet del "$n" --purge ;;
		esac
	done
}
on_exit clean

add() { # add NAME SERIAL [--fresh]: an instance-store controller
	nvmet add "$1" --model "$AWS" --serial "$2" --size "$SZ" "${@:3}"
}
devs() { # devs NAME...: their block devices
	local n
	for n in "$@"; do nvmet dev "$n"; done
}
arrays() { awk '/^md[0-9]+ :/ { print $1 }' /proc/mdstat; }
narrays() { arrays | wc -l; }
no_inactive() { ! grep -q ': inactive' /proc/mdstat; }
blank() { [ -z "$(blkid -p -o value -s TYPE "$1" 2>/dev/null)" ]; }
# sums DEV: sha256 of its first and last MiB and of the MiB where an md member's data
# starts (its superblock is in the first MiB): what a refused mount must not touch.
sums() {
	local off
	off=$(mdadm --examine "$1" 2>/dev/null | awk '/Data Offset/ { print $4; exit }')
	{
		dd if="$1" bs=1M count=1 iflag=direct status=none
		dd if="$1" bs=1M skip=$(($(blockdev --getsize64 "$1") / 1048576 - 1)) iflag=direct status=none
		# In 4 KiB blocks: these namespaces have a 4 KiB logical block (O_DIRECT).
		[ -n "$off" ] && dd if="$1" bs=4096 skip=$((off / 8)) count=256 iflag=direct status=none
	} | sha256sum | cut -c1-64
}
allsums() {
	local d
	for d in "$@"; do echo "$d $(sums "$d")"; done
}
# What is in /etc, names and contents: mount.dvol writes nothing there.
etc_list() { find /etc -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum 2>/dev/null; }
has() { printf '%s\n' "$2" | grep -qE -- "$1"; }
count() { printf '%s\n' "$2" | grep -cE -- "$1"; }
md_uuid() { cat "/sys/block/${1#/dev/}/md/uuid" 2>/dev/null; }
fs_uuid() { blkid -p -o value -s UUID "$1" 2>/dev/null; }
source_of() { findmnt -rn -o SOURCE --mountpoint "$1"; }
mdstat() { grep -v '^Personalities\|^unused\|^ *$' /proc/mdstat | diag; }

# xfs_geometry DIR N: the filesystem on DIR has the chunk (256 KiB) as stripe unit and N
# chunks as stripe width.
xfs_geometry() {
	local xi bs su sw
	xi=$(xfs_info "$1")
	bs=$(printf '%s\n' "$xi" | sed -n 's/^data *= *bsize=\([0-9]*\).*/\1/p')
	read -r su sw < <(printf '%s\n' "$xi" | sed -n 's/.*sunit=\([0-9]*\) *swidth=\([0-9]*\) blks.*/\1 \2/p' | head -n 1)
	check "...xfs stripe unit = 256 KiB (sunit=$su x bsize=$bs)" test "$((${su:-0} * ${bs:-0}))" -eq 262144
	check "...xfs stripe width = $2 x the unit (swidth=$sw)" test "${sw:-0}" -gt 0 -a "${sw:-0}" -eq "$((${su:-0} * $2))"
}

# created N DIR MEMBERS...: after a mount that should have created a stripe of MEMBERS on
# DIR ($ERR its stderr, $W0/$D0 the members' written and discarded sectors before): the
# checks every new stripe passes. Sets NAME, MD, MDU, FSU.
created() {
	local n=$1 dir=$2 d
	shift 2
	NAME=$(printf '%s\n' "$ERR" | sed -n 's/.*creating stripe \(dvol-[0-9a-f]\{16\}\).*/\1/p' | head -n 1)
	check "...exactly one 'creating stripe dvol-<16 hex>' line ($NAME)" \
		test "$(count 'creating stripe dvol-[0-9a-f]{16}' "$ERR")" -eq 1
	check "...exactly one mkfs ('formatted ... as xfs' once)" test "$(count 'formatted .* as xfs' "$ERR")" -eq 1
	MD=$(source_of "$dir")
	check "...mounted from an md device ($MD)" sh -c "case '$MD' in /dev/md[0-9]*) exit 0 ;; esac; exit 1"
	check "...which is /dev/md/$NAME" test -n "$NAME" -a -n "$MD" -a "$(readlink -f "/dev/md/$NAME")" = "$MD"
	check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$dir")" = xfs
	check "...RAID0 of $n members, 256 KiB chunk" test "$(cat "/sys/block/${MD#/dev/}/md/level" \
		"/sys/block/${MD#/dev/}/md/raid_disks" "/sys/block/${MD#/dev/}/md/chunk_size" | tr '\n' ' ')" = "raid0 $n 262144 "
	for d in "$@"; do
		check "...$d is a member" test -e "/sys/block/${MD#/dev/}/md/dev-${d#/dev/}"
	done
	xfs_geometry "$dir" "$n"
	local w1 d1
	w1=$(blk_stat 7 "$@") d1=$(blk_stat 14 "$@")
	check "...the members' I/O is counted (sectors written: $((w1 - W0)))" test "$((w1 - W0))" -gt 0
	check "...zero sectors discarded on the members ($((d1 - D0)))" test "$((d1 - D0))" -eq 0
	check "...zero discard requests on the members" test "$(blk_stat 12 "$@")" -eq "$D0R"
	MDU=$(md_uuid "$MD") FSU=$(fs_uuid "$MD")
	check "...md UUID $MDU, filesystem UUID $FSU" test -n "$MDU" -a -n "$FSU"
	check "...each member's md superblock names the array $NAME" \
		sh -c 'for d; do blkid -p -o value -s LABEL "$d" | grep -q "'"$NAME"'\$" || exit 1; done' - "$@"
}
# steps CMD...: each CMD (a string, eval'd) in turn; 1 at the first that fails, naming it.
steps() {
	local c
	for c in "$@"; do
		eval "$c" || { echo "# failed: $c"; return 1; }
	done
}
io0() { W0=$(blk_stat 7 "$@") D0=$(blk_stat 14 "$@") D0R=$(blk_stat 12 "$@"); }

# same_as N DIR MD FS TEXT: the last mount ($RC, $ERR) put the stripe of N members with md
# UUID MD and filesystem UUID FS on DIR, with its file holding TEXT: nothing made anew.
same_as() {
	local src
	src=$(source_of "$2")
	check "...mounted from an md device of $1 members ($src)" \
		test "$RC" -eq 0 -a "$(cat "/sys/block/${src#/dev/}/md/raid_disks" 2>/dev/null)" = "$1"
	check "...the same md UUID ($3)" test -n "$3" -a "$(md_uuid "$src")" = "$3"
	check "...the same filesystem UUID ($4)" test -n "$4" -a "$(fs_uuid "$src")" = "$4"
	check "...no create, no mkfs" sh -c "test $RC -eq 0 && ! printf '%s' \"\$0\" | grep -qE 'creating stripe|formatt(ing|ed) '" "$ERR"
	check "...the file written before" sh -c "mountpoint -q '$2' && grep -qx '$5' '$2/file'"
}

# dryrun N ACTION DIR MEMBERS...: mount -f plans ACTION for a stripe of N MEMBERS and
# changes nothing.
dryrun() {
	local n=$1 act=$2 dir=$3 s0 d a0
	shift 3
	s0=$(allsums "$@") a0=$(narrays)
	expect_rc 0 "mount -f nvme:instance-store with $n instance stores" \
		mount -f -t dvol nvme:instance-store "$dir" -o mkfs=xfs
	printf '%s\n' "$OUT" | diag
	check "...a 'stripe:' row: dvol-<16 hex>, $n members: $act" \
		has "^stripe: +dvol-[0-9a-f]{16}, $n members: ($act)" "$OUT"
	check "...one 'member:' row per member ($n)" test "$(count '^member: ' "$OUT")" -eq "$n"
	for d in "$@"; do
		check "...naming $d" has "^member: .*$d" "$OUT"
	done
	if [ "$act" = create ]; then
		check "...an 'mdadm:' row with mdadm --create, RAID0, chunk 256, $n devices" \
			has "^mdadm: +mdadm --create /dev/md/dvol-[0-9a-f]{16} .*--level=0 .*--chunk=256 .*--raid-devices=$n" "$OUT"
		check "...a 'mkfs:' row" has '^mkfs: ' "$OUT"
	fi
	check "...an 'action:' row" has '^action: ' "$OUT"
	check "...nothing mounted" not_mounted "$dir"
	check "...the members as they were (first, last MiB, md data start)" test "$(allsums "$@")" = "$s0"
	check "...no mdadm --create/--assemble ran: no new array ($(arrays | tr '\n' ' '))" test "$(narrays)" -eq "$a0"
}

# refused MSG DIR MEMBERS...: the last mount was refused the way a stripe is: exit 32,
# "refusing to stripe", each member named, nothing mounted, no inactive array. MSG says
# why this one.
refused() {
	local what=$1 dir=$2 d
	shift 2
	check "$what: refused with exit 32 (rc=$RC)" test "$RC" -eq 32
	expect_msg "refusing to stripe" "...saying 'refusing to stripe'"
	for d in "$@"; do
		expect_msg "$d([^0-9]|\$)" "...naming $d"
	done
	check "...nothing mounted" not_mounted "$dir"
	check "...no inactive array left in /proc/mdstat" no_inactive
	mdstat
}

mkdir -p "$T/a" "$T/b" "$T/c" "$T/x" "$STATE"
NA0=$(narrays)
check "no md array before this case ($NA0)" test "$NA0" -eq 0
etc_list >"$T/etc0"

# --- two members (r1, r2: boot 2 finds them again) ---------------------------------------
rm -f "$STATE"/*
check "nvmet add r1, r2: two blank instance stores" steps 'add r1 STRIPER1 --fresh' \
	'add r2 STRIPER2 --fresh'
mapfile -t R < <(devs r1 r2)
echo "r1, r2: ${R[*]}" | diag
dryrun 2 create "$T/a" "${R[@]}"
io0 "${R[@]}"
expect_rc 0 "mount -t dvol nvme:instance-store -o mkfs=xfs, two blank instance stores" \
	mount -t dvol nvme:instance-store "$T/a" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
created 2 "$T/a" "${R[@]}"
name2=$NAME md2=$MDU fs2=$FSU
mounted "$T/a" && echo "written in boot 1" >"$T/a/file" && sync -f "$T/a/file"

# Again: already mounted.
expect_rc 0 "the same mount again: already mounted, exit 0" \
	mount -t dvol nvme:instance-store "$T/a" -o mkfs=xfs
check "...no second create" sh -c "! printf '%s' \"\$0\" | grep -q 'creating stripe'" "$ERR"
check "...one mount on $T/a" test "$(awk -v d="$T/a" '$5 == d' /proc/self/mountinfo | wc -l)" -eq 1

# mdadm --stop, then mount: assembled from the members' superblocks.
umount "$T/a"
check "umount, mdadm --stop /dev/md/$name2" mdadm --stop "/dev/md/$name2"
dryrun 2 assemble "$T/a" "${R[@]}"
expect_rc 0 "mount again after mdadm --stop" mount -t dvol nvme:instance-store "$T/a" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
check "...'assembling stripe $name2' once" test "$(count "assembling stripe $name2" "$ERR")" -eq 1
same_as 2 "$T/a" "$md2" "$fs2" "written in boot 1"

# The controllers back in the other order (other kernel names); udev may assemble first.
umount "$T/a"
mdadm --stop "/dev/md/$name2" >/dev/null 2>&1
check "nvmet del r1, r2; add r2, r1 (the other order)" steps 'nvmet del r1' \
	'nvmet del r2' \
	'add r2 STRIPER2' \
	'add r1 STRIPER1'
mapfile -t R < <(devs r1 r2)
echo "r1, r2 now: ${R[*]}; /proc/mdstat before the mount:" | diag
mdstat
expect_rc 0 "mount after the re-add in the other order" mount -t dvol nvme:instance-store "$T/a" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
same_as 2 "$T/a" "$md2" "$fs2" "written in boot 1"
check "...one array" test "$(narrays)" -eq 1
etc_list >"$T/etc1"
check "...nothing in /etc changed (names and contents)" cmp -s "$T/etc0" "$T/etc1"
diff "$T/etc0" "$T/etc1" | head -n 20 | diag
check "...no file in /etc names the array or its UUID" \
	sh -c "! grep -rIlqsE '$name2|$md2|$(mdadm --detail --export "/dev/md/$name2" 2>/dev/null | sed -n 's/^MD_UUID=//p')' /etc"

# Left for boot 2: the stripe with its file; the controllers gone, their files kept.
printf '%s\n' "$name2" >"$STATE/name"
printf '%s\n' "$md2" >"$STATE/md-uuid"
printf '%s\n' "$fs2" >"$STATE/fs-uuid"
(cd /etc && find mdadm -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$STATE/etc-mdadm.sha256"
umount "$T/a"
mdadm --stop "/dev/md/$name2" >/dev/null 2>&1
check "r1, r2 disconnected for boot 2 (nvmet del, files kept)" steps 'nvmet del r1' \
	'nvmet del r2'
check "...and no array left" test "$(narrays)" -eq 0

# --- four members ---------------------------------------------------------------------------
check "nvmet add s1..s4: four blank instance stores" steps 'add s1 STRIPE1 --fresh' \
	'add s2 STRIPE2 --fresh' 'add s3 STRIPE3 --fresh' 'add s4 STRIPE4 --fresh'
mapfile -t S < <(devs s1 s2 s3 s4)
echo "s1..s4: ${S[*]}" | diag
dryrun 4 create "$T/b" "${S[@]}"
io0 "${S[@]}"
expect_rc 0 "mount -t dvol nvme:instance-store -o mkfs=xfs, four blank instance stores" \
	mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
created 4 "$T/b" "${S[@]}"
name4=$NAME md4=$MDU fs4=$FSU
check "...another name than the two-member stripe's" test "$name4" != "$name2"
mounted "$T/b" && echo "four" >"$T/b/file" && sync -f "$T/b/file"
umount "$T/b"
mdadm --stop "/dev/md/$name4" >/dev/null 2>&1
s0=$(allsums "${S[@]}")

# count=3 with four, stripe=no with four: refused before anything.
expect_rc 32 "count=3 with four instance stores: exit 32" \
	mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,count=3,device-timeout=2
expect_msg "count=3" "...the message names count=3"
check "...nothing mounted" not_mounted "$T/b"
expect_rc 32 "stripe=no with four instance stores: exit 32" \
	mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,stripe=no,device-timeout=2
expect_msg "matches more than one block device" "...saying it matches more than one block device"
check "...nothing mounted" not_mounted "$T/b"
check "count=3, stripe=no: the members untouched, no array" \
	test "$(allsums "${S[@]}")" = "$s0" -a "$(narrays)" -eq 0

# A fifth instance store, blank: a changed member set.
check "nvmet add s5 (blank): a fifth member" add s5 STRIPE5 --fresh
s5=$(nvmet dev s5)
run_rc mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,device-timeout=2
refused "a fifth (blank) instance store beside a four-member stripe" "$T/b" "${S[@]}" "$s5"
check "...the four members untouched" test "$(allsums "${S[@]}")" = "$s0"
check "...$s5 still blank" blank "$s5"
check "...no array" test "$(narrays)" -eq 0
check "nvmet del s5 --purge" nvmet del s5 --purge

# Without it, the four again: assembled, not made anew.
expect_rc 0 "mount with the four members again" mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs
same_as 4 "$T/b" "$md4" "$fs4" four

# The four back in reverse order (udev assembles the array itself once all are there).
umount "$T/b"
mdadm --stop "/dev/md/$name4" >/dev/null 2>&1
check "nvmet del s1..s4; add s4, s3, s2, s1" steps 'nvmet del s1' \
	'nvmet del s2' \
	'nvmet del s3' \
	'nvmet del s4' \
	'add s4 STRIPE4' \
	'add s3 STRIPE3' \
	'add s2 STRIPE2' \
	'add s1 STRIPE1'
mapfile -t S < <(devs s1 s2 s3 s4)
echo "s1..s4 now: ${S[*]}; /proc/mdstat before the mount:" | diag
mdstat
dryrun 4 'assemble|use' "$T/b" "${S[@]}"
expect_rc 0 "mount after the re-add in reverse order" mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
same_as 4 "$T/b" "$md4" "$fs4" four
check "...one array" test "$(narrays)" -eq 1
etc_list >"$T/etc1"
check "...nothing in /etc changed" cmp -s "$T/etc0" "$T/etc1"
umount "$T/b"
mdadm --stop "/dev/md/$name4" >/dev/null 2>&1

# One member wiped (a replaced drive), the others re-added as after a reboot: udev may hold
# them in an inactive array.
check "s3 wiped (nvmet del, add --fresh); s1, s2, s4 re-added" steps \
	'nvmet del s1' 'nvmet del s2' 'nvmet del s3' 'nvmet del s4' \
	'add s1 STRIPE1' 'add s2 STRIPE2' 'add s3 STRIPE3 --fresh' 'add s4 STRIPE4'
mapfile -t S < <(devs s1 s2 s3 s4)
echo "/proc/mdstat before the mount:" | diag
mdstat
s0=$(allsums "${S[0]}" "${S[1]}" "${S[3]}")
run_rc mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,device-timeout=2
refused "one member wiped, three holding the array" "$T/b" "${S[@]}"
check "...the three others untouched (first, last MiB, md data start)" \
	test "$(allsums "${S[0]}" "${S[1]}" "${S[3]}")" = "$s0"
check "...the wiped one still blank" blank "${S[2]}"
check "...the three still hold the array's superblock (md UUID $md4)" sh -c "test -n '$md4' || exit 1
	for d in ${S[0]} ${S[1]} ${S[3]}; do
		test \"\$(blkid -p -o value -s UUID \$d)\" = '$md4' || exit 1
	done"

# All wiped (a stop/start): a new array, a new filesystem.
check "all four wiped (nvmet del, add --fresh)" steps \
	'nvmet del s1' 'nvmet del s2' 'nvmet del s3' 'nvmet del s4' \
	'add s2 STRIPE2 --fresh' 'add s1 STRIPE1 --fresh' 'add s4 STRIPE4 --fresh' 'add s3 STRIPE3 --fresh'
mapfile -t S < <(devs s1 s2 s3 s4)
io0 "${S[@]}"
expect_rc 0 "mount on the four wiped members" mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs
printf '%s\n' "$ERR" | diag
created 4 "$T/b" "${S[@]}"
check "...the same name ($name4): the same drives" test -n "$NAME" -a "$NAME" = "$name4"
check "...a new md UUID ($MDU, was $md4)" test -n "$MDU" -a "$MDU" != "$md4"
check "...a new filesystem UUID ($FSU, was $fs4)" test -n "$FSU" -a "$FSU" != "$fs4"
check "...without the old file" sh -c "mountpoint -q '$T/b' && test ! -e '$T/b/file'"
umount "$T/b"
mdadm --stop "/dev/md/$name4" >/dev/null 2>&1

# A member that holds a filesystem, the others blank.
check "all four wiped again, ext4 made by hand on s2" steps \
	'nvmet del s1' 'nvmet del s2' 'nvmet del s3' 'nvmet del s4' \
	'add s1 STRIPE1 --fresh' 'add s2 STRIPE2 --fresh' 'add s3 STRIPE3 --fresh' 'add s4 STRIPE4 --fresh' \
	'mkfs.ext4 -q -F "$(nvmet dev s2)"'
mapfile -t S < <(devs s1 s2 s3 s4)
ext=$(fs_uuid "${S[1]}")
s0=$(allsums "${S[@]}")
run_rc mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,device-timeout=2
refused "a member holds ext4, the three others blank" "$T/b" "${S[@]}"
check "...ext4 still on s2 (UUID $ext)" test "$(blkid -p -o value -s TYPE "${S[1]}")" = ext4 -a \
	"$(fs_uuid "${S[1]}")" = "$ext"
check "...all four untouched" test "$(allsums "${S[@]}")" = "$s0"
check "...the others still blank" steps "blank ${S[0]}" "blank ${S[2]}" "blank ${S[3]}"

# Two members of another array (a RAID1 made by hand), two blank.
check "s2 wiped; s1+s2 made a RAID1 'other' by hand, stopped" steps 'nvmet del s2' \
	'add s2 STRIPE2 --fresh' \
	'mdadm --create /dev/md/other --run --metadata=1.2 --homehost=any --name=other --level=1 \
		--raid-devices=2 "$(nvmet dev s1)" "$(nvmet dev s2)" </dev/null >/dev/null 2>&1' \
	'mdadm --stop /dev/md/other >/dev/null 2>&1'
mapfile -t S < <(devs s1 s2 s3 s4)
other=$(fs_uuid "${S[0]}")
s0=$(allsums "${S[@]}")
run_rc mount -t dvol nvme:instance-store "$T/b" -o mkfs=xfs,device-timeout=2
refused "two members of another array, two blank" "$T/b" "${S[@]}"
check "...all four untouched" test "$(allsums "${S[@]}")" = "$s0"
check "...s1 still a member of 'other' ($other)" test -n "$other" -a "$(fs_uuid "${S[0]}")" = "$other"

# --- 16 at once on blank members --------------------------------------------------------------
check "s1, s2 wiped: four blank members for the concurrent mounts" steps 'nvmet del s1' \
	'nvmet del s2' 'add s1 STRIPE1 --fresh' 'add s2 STRIPE2 --fresh'
mapfile -t S < <(devs s1 s2 s3 s4)
check "...all blank" steps "blank ${S[0]}" "blank ${S[1]}" "blank ${S[2]}" "blank ${S[3]}"
since="@$(date +%s)"
sleep 1
pids=()
for i in $(seq 16); do
	mount -t dvol nvme:instance-store "$T/c" -o mkfs=xfs,device-timeout=300s \
		>"$T/c.$i.out" 2>"$T/c.$i.err" &
	pids+=($!)
done
rcs=()
for p in "${pids[@]}"; do
	wait "$p"
	rcs+=($?)
done
ERR=$(cat "$T"/c.*.err)
check "16 concurrent mounts on one folder: all exit 0 (${rcs[*]})" test "$(printf '%s\n' "${rcs[@]}" | grep -cvx 0)" -eq 0
check "...one mount on $T/c" test "$(awk -v d="$T/c" '$5 == d' /proc/self/mountinfo | wc -l)" -eq 1
check "...exactly one 'creating stripe' among them ($(count 'creating stripe' "$ERR"))" \
	test "$(count 'creating stripe' "$ERR")" -eq 1
check "...exactly one mkfs ($(count 'formatted .* as xfs' "$ERR") 'formatted ... as xfs' lines)" \
	test "$(count 'formatted .* as xfs' "$ERR")" -eq 1
check "...exactly one md array ($(arrays | tr '\n' ' '))" test "$(narrays)" -eq 1
check "...mounted from it" test "$(source_of "$T/c")" = "/dev/$(arrays | head -n 1)"
j=$(journalctl --since "$since" --no-pager -o cat | grep -cE 'creating stripe dvol-')
check "...the journal too: one 'creating stripe' ($j)" test "$j" -eq 1
printf '%s\n' "$ERR" | sort | uniq -c | sort -rn | head -n 20 | diag
umount "$T/c"
for m in $(arrays); do mdadm --stop "/dev/$m" >/dev/null 2>&1; done

# --- mkfs killed half-way on a new array ---------------------------------------------------
# killed_mkfs: four blank 128 GiB members (mkfs.xfs zeroes a 256 MiB log: long enough here
# to be caught), mount in the background, mkfs.xfs frozen as soon as it runs and killed.
# Sets RC, ERR, KMD (the array), KMDU (its md UUID).
killed_mkfs() {
	local p i
	for m in $(arrays); do mdadm --stop "/dev/$m" >/dev/null 2>&1; done
	steps 'nvmet del s1' 'nvmet del s2' 'nvmet del s3' 'nvmet del s4' \
		'add s1 STRIPE1 --fresh --size 128G' 'add s2 STRIPE2 --fresh --size 128G' \
		'add s3 STRIPE3 --fresh --size 128G' 'add s4 STRIPE4 --fresh --size 128G' || return 1
	mapfile -t S < <(devs s1 s2 s3 s4)
	mount -t dvol nvme:instance-store "$T/x" -o mkfs=xfs >"$T/k.out" 2>"$T/k.err" &
	p=$!
	for i in $(seq 2000); do
		pkill -STOP -x mkfs.xfs && break
		kill -0 "$p" 2>/dev/null || break
		sleep 0.01
	done
	pgrep -x mkfs.xfs >/dev/null && KILLED=1 || KILLED=0
	sleep 0.3
	pkill -KILL -x mkfs.xfs
	wait "$p"
	RC=$?
	ERR=$(cat "$T/k.err")
	KMD=$(arrays | head -n 1)
	KMDU=$(md_uuid "/dev/$KMD")
	return 0
}
# after_kill HOW: the checks on a mount whose mkfs was killed.
after_kill() {
	printf '%s\n' "$ERR" | diag
	check "$1: mkfs.xfs was caught running and killed" test "$KILLED" -eq 1
	check "...the mount failed (rc=$RC)" test "$RC" -ne 0
	expect_msg "mkfs.xfs on .* was killed \(signal 9\)" "...saying mkfs.xfs was killed (signal 9)"
	check "...with no errno text after it (not 'Protocol error')" \
		sh -c '! printf "%s\n" "$0" | grep "was killed" | grep -q "Protocol error"' "$ERR"
	check "...nothing mounted" not_mounted "$T/x"
	check "...the array stays, with its 4 members ($KMD, md UUID $KMDU)" \
		test -n "$KMD" -a -n "$KMDU" -a "$(cat "/sys/block/$KMD/md/raid_disks" 2>/dev/null)" = 4
}
# reformatted ACT: the last mount ($RC, $ERR) formatted the array left by the killed run
# (the array ACT, "using" or "assembling") and mounted it.
reformatted() {
	printf '%s\n' "$ERR" | diag
	check "...exit 0 (rc=$RC)" test "$RC" -eq 0
	check "...no new array ('creating stripe' $(count 'creating stripe' "$ERR") times)" \
		test "$(count 'creating stripe' "$ERR")" -eq 0
	[ "$1" = assembling ] &&
		check "...'assembling stripe' once" test "$(count 'assembling stripe' "$ERR")" -eq 1
	check "...one mkfs: the claim on the array let it format again ('formatted ... as xfs')" \
		test "$(count 'formatted .* as xfs' "$ERR")" -eq 1
	MD=$(source_of "$T/x")
	check "...mounted from the same array (md UUID $KMDU)" test -n "$MD" -a "$(md_uuid "$MD")" = "$KMDU"
	check "...as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/x")" = xfs
	xfs_geometry "$T/x" 4
	check "...one array" test "$(narrays)" -eq 1
}

killed_mkfs || not_ok "nvmet re-add of s1..s4 for the killed mkfs"
after_kill "mkfs.xfs killed on a new array"
run_rc mount -t dvol nvme:instance-store "$T/x" -o mkfs=xfs
reformatted using
mounted "$T/x" && umount "$T/x"

# The same, and the array stopped before the next run (as after a reboot or power loss).
killed_mkfs || not_ok "nvmet re-add of s1..s4 for the second killed mkfs"
after_kill "mkfs.xfs killed again on a new array"
check "...mdadm --stop /dev/$KMD (as a reboot would)" mdadm --stop "/dev/$KMD"
run_rc mount -t dvol nvme:instance-store "$T/x" -o mkfs=xfs
reformatted assembling
mounted "$T/x" && umount "$T/x"
done_testing
