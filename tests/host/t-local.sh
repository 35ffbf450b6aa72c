#!/bin/bash
# Local volumes on real loop devices through the real mount(8): find, judge blank or not,
# format only what is blank (once), mount; refuse everything else and change no byte.
. "$(dirname "$0")/lib.sh" "$@"

SIZE=320M # mkfs.xfs wants at least 300 MiB; the signature matrix needs less
SMALL=128M
# A label other runs on this machine (loop devices are global) will not have.
L=l$$
mkdir -p "$T/m" "$T/$L" "$T/c"

sum() { sha256sum "$1" | cut -d' ' -f1; }
uuid_of() { blkid -p -o value -s UUID "$1"; }
type_of() { blkid -p -o value -s TYPE "$1"; }
fmt_count() { printf '%s\n' "$1" | grep -c "formatted .* as "; }

# --- the signature matrix: nothing with a signature or data is ever formatted ---------
declare -A DEV WANT
mk() { DEV[$1]=$(mkloop "${2:-$SMALL}" "sig-$1"); }
mk ext4 && mkfs.ext4 -q "${DEV[ext4]}" && WANT[ext4]="ext4 filesystem, but mkfs=xfs was asked"
mk xfs $SIZE && mkfs.xfs -q "${DEV[xfs]}" && WANT[xfs]="holds an xfs filesystem, but mkfs=ext4"
mk btrfs && mkfs.btrfs -q "${DEV[btrfs]}" >/dev/null && WANT[btrfs]="btrfs filesystem, but mkfs=xfs"
mk swap && mkswap "${DEV[swap]}" >/dev/null && WANT[swap]="found swap area"
mk vfat && mkfs.vfat "${DEV[vfat]}" >/dev/null && WANT[vfat]="vfat filesystem, but mkfs=xfs"
mk gpt && printf 'label: gpt\n,16M\n,16M\n,16M\n' | sfdisk -q "${DEV[gpt]}" >/dev/null 2>&1 &&
	WANT[gpt]="found GPT with 3 partitions"
mk mbr && printf 'label: dos\n,16M\n,16M\n' | sfdisk -q "${DEV[mbr]}" >/dev/null 2>&1 &&
	WANT[mbr]="found MBR \(dos\) partition table with 2 partitions"
mk luks && head -c 64 /dev/urandom >"$T/key" &&
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$T/key" "${DEV[luks]}" && WANT[luks]="found LUKS2 header"
mk random && dd if=/dev/urandom of="${DEV[random]}" bs=1M count=8 status=none &&
	WANT[random]="found non-zero data without a signature \(in the first MiB\)"
mk tail && dd if=/dev/urandom of="${DEV[tail]}" bs=1M count=1 seek=127 status=none &&
	WANT[tail]="found non-zero data without a signature \(in the last MiB\)"
for k in ext4 xfs btrfs swap vfat gpt mbr luks random tail; do
	check "matrix: $k device made (${DEV[$k]})" test -b "${DEV[$k]}"
done

for k in ext4 xfs btrfs swap vfat gpt mbr luks random tail; do
	d=${DEV[$k]}
	want=xfs
	[ "$k" = xfs ] && want=ext4
	before=$(sum "$d")
	expect_rc 32 "$k: mkfs=$want is refused" mount -t dvol "$d" "$T/m" -o mkfs=$want
	expect_msg "${WANT[$k]}" "$k: the refusal names what it found (${WANT[$k]})"
	check "$k: not a byte of the device changed" test "$(sum "$d")" = "$before"
	check "$k: nothing is mounted" not_mounted "$T/m"
done

# The opt-out skips the zero check only, never a signature.
before=$(sum "${DEV[luks]}")
expect_rc 32 "mkfs-ignore-nonzero-data does not get past a LUKS2 header" \
	mount -t dvol "${DEV[luks]}" "$T/m" -o mkfs=xfs,mkfs-ignore-nonzero-data
check "...and the header is unchanged" test "$(sum "${DEV[luks]}")" = "$before"
expect_rc 32 "...nor past a GPT" mount -t dvol "${DEV[gpt]}" "$T/m" -o mkfs=ext4,mkfs-ignore-nonzero-data
expect_msg "GPT with 3 partitions" "...saying so"
expect_rc 0 "with mkfs-ignore-nonzero-data, data without a signature is formatted" \
	mount -t dvol "${DEV[tail]}" "$T/m" -o mkfs=ext4,mkfs-ignore-nonzero-data
check "...as ext4" test "$(type_of "${DEV[tail]}")" = ext4
umount "$T/m"

# Without mkfs= a device that holds a filesystem is mounted as it is, with its own type.
mountable="ext4 xfs btrfs"
grep -qw vfat /proc/filesystems && mountable="$mountable vfat"
for k in $mountable; do
	u=$(uuid_of "${DEV[$k]}")
	expect_rc 0 "$k: mounted without mkfs=" mount -t dvol "${DEV[$k]}" "$T/m"
	check "$k: with its own type" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/m")" = "$k"
	check "$k: same UUID (not formatted)" test -n "$u" -a "$(uuid_of "${DEV[$k]}")" = "$u"
	umount "$T/m"
done
for k in swap luks gpt; do
	expect_rc 32 "$k: without mkfs= is refused too" mount -t dvol "${DEV[$k]}" "$T/m"
done
# The requested filesystem already there: simply mounted.
u=$(uuid_of "${DEV[ext4]}")
expect_rc 0 "ext4 device with mkfs=ext4 is mounted, not formatted" \
	mount -t dvol "${DEV[ext4]}" "$T/m" -o mkfs=ext4
check "...its UUID is unchanged" test -n "$u" -a "$(uuid_of "${DEV[ext4]}")" = "$u"
check "...no format was logged" test "$(fmt_count "$ERR")" -eq 0
umount "$T/m"

# --- a blank device: -f, format once, mount, re-mount without format ----------------
b=$(mkloop $SIZE blank)
expect_rc 0 "-f on a blank device prints the plan" mount -f -t dvol "$b" "$T/m" -o mkfs=xfs
check "...verdict blank, with the reason" sh -c "printf '%s' \"\$0\" | grep -q '^verdict:  blank: no signature.*first and last MiB all zeros'" "$OUT"
check "...the mkfs command line (no discard: -K)" sh -c "printf '%s' \"\$0\" | grep -q '^mkfs:     mkfs.xfs -q -K .*$b'" "$OUT"
check "...and the mount" sh -c "printf '%s' \"\$0\" | grep -q '^action:   mount xfs $b'" "$OUT"
check "...and changes nothing: the device is still all zeros" \
	sh -c "! blkid -p '$b' >/dev/null && cmp -s -n 335544320 '$b' /dev/zero"
check "...and nothing is mounted" not_mounted "$T/m"

expect_rc 32 "a blank device without mkfs= is refused" mount -t dvol "$b" "$T/m"
expect_msg "is blank .*no mkfs= was given" "...saying to add mkfs="

d0=$(awk '{print $14}' /sys/block/"${b#/dev/}"/stat)
expect_rc 0 "a blank device is formatted and mounted" \
	mount -t dvol "$b" "$T/m" -o mkfs=xfs,mode=0750,uid=1234,gid=4321,noatime
check "...it is mounted, as xfs" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/m")" = xfs
check "...with noatime" sh -c "findmnt -rn -o OPTIONS --mountpoint '$T/m' | grep -q noatime"
check "...one format logged" test "$(fmt_count "$ERR")" -eq 1
check "...without a discard pass (xfs -K)" test "$(awk '{print $14}' /sys/block/"${b#/dev/}"/stat)" -eq "$d0"
u=$(uuid_of "$b")
expect_msg "formatted $b as xfs, UUID=$u LABEL=m" "...the log names the new UUID and label"
check "...the root of the new filesystem has mode 0750, owner 1234:4321" \
	test "$(stat -c %a:%u:%g "$T/m")" = 750:1234:4321
check "utab records the source with dvol.kind=local" \
	grep -q "SRC=$b TARGET=$T/m .*ATTRS=dvol.kind=local" /run/mount/utab
echo data >"$T/m/file"
n_before=$(findmnt -rn | wc -l)
expect_rc 0 "the same device on the same target again: a no-op" mount -t dvol "$b" "$T/m" -o mkfs=xfs
check "...no second mount" test "$(findmnt -rn | wc -l)" -eq "$n_before"
expect_rc 32 "another device on that target is exit 32" mount -t dvol "${DEV[ext4]}" "$T/m"
expect_msg "$b" "...naming the one mounted"
expect_msg "${DEV[ext4]}" "...and the one asked for"
umount "$T/m"
expect_rc 0 "re-mount after umount" mount -t dvol "$b" "$T/m" -o mkfs=xfs,mode=0700,uid=1
check "...without formatting (same UUID)" test -n "$u" -a "$(uuid_of "$b")" = "$u"
check "...no format logged" test "$(fmt_count "$ERR")" -eq 0
check "...the data is there" grep -q data "$T/m/file"
check "...mode= and uid= left an existing filesystem alone" \
	test "$(stat -c %a:%u "$T/m")" = 750:1234
expect_rc 0 "-f on a mounted device says there is nothing to do" mount -f -t dvol "$b" "$T/m"
check "...so it says" sh -c "printf '%s' \"\$0\" | grep -q 'already mounted there'" "$OUT"
umount "$T/m"
expect_rc 0 "-f on a device with a filesystem plans a plain mount" mount -f -t dvol "$b" "$T/m" -o mkfs=xfs
check "...mkfs: none" sh -c "printf '%s' \"\$0\" | grep -q '^mkfs:     none'" "$OUT"
check "...not blank: xfs filesystem" sh -c "printf '%s' \"\$0\" | grep -q '^verdict:  not blank: xfs filesystem'" "$OUT"

# A blank device that another opener holds exclusively (as md, dm or a mount would).
h=$(mkloop $SIZE held)
python3 -c 'import os, sys, time; os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL); print(flush=True); time.sleep(60)' "$h" >"$T/held.fifo" &
hold=$!
for _ in $(seq 50); do [ -s "$T/held.fifo" ] && break; sleep 0.1; done
expect_rc 32 "a blank device held open with O_EXCL by another process is refused" \
	mount -t dvol "$h" "$T/m" -o mkfs=xfs
expect_msg "is in use \(mounted, or held by md, dm or swap\)" "...saying it is in use"
check "...and it is still blank" sh -c "! blkid -p '$h' >/dev/null && cmp -s -n 1048576 '$h' /dev/zero"
kill "$hold"
wait "$hold" 2>/dev/null

# ext4 is made with no discard and lazy init.
e=$(mkloop $SIZE blank-ext4)
discarded() { awk '{print $14}' /sys/block/"${1#/dev/}"/stat; }
d0=$(discarded "$e")
expect_rc 0 "mkfs=ext4 on a blank device" mount -t dvol "$e" "$T/$L" -o mkfs=ext4
check "...without a discard pass (the kernel counted $(($(discarded "$e") - d0)) sectors discarded)" \
	test "$(discarded "$e")" -eq "$d0"
check "...labelled after the mount point" test "$(blkid -p -o value -s LABEL "$e")" = $L
umount "$T/$L"

# --- finding by UUID=, LABEL=, /dev/disk/by-* ----------------------------------------
u=$(uuid_of "$e")
expect_rc 0 "UUID= through mount(8) (mount(8) evaluates the tag itself)" \
	mount -t dvol "UUID=$u" "$T/$L" -o mkfs=ext4
umount "$T/$L"
expect_rc 0 "UUID= given to mount.dvol itself (libblkid probes every device)" \
	/sbin/mount.dvol "UUID=$u" "$T/$L" -o mkfs=ext4
check "...the device with that UUID is mounted" \
	test "$(findmnt -rn -o SOURCE --mountpoint "$T/$L")" = "$e"
check "...recorded in utab as the device the tag named" \
	grep -q "SRC=$e TARGET=$T/$L .*ATTRS=dvol.kind=local" /run/mount/utab
umount "$T/$L"
expect_rc 0 "LABEL= given to mount.dvol" /sbin/mount.dvol LABEL=$L "$T/$L"
umount "$T/$L"
check "this host has no udev: /dev/disk/by-uuid is absent" test ! -e "/dev/disk/by-uuid/$u"
expect_rc 0 "/dev/disk/by-uuid/U without udev: the link's tag is evaluated" \
	mount -t dvol "/dev/disk/by-uuid/$u" "$T/$L"
check "...the right device" test "$(findmnt -rn -o SOURCE --mountpoint "$T/$L")" = "$e"
umount "$T/$L"
d2=$(mkloop 64M duplabel)
mkfs.ext4 -q -L $L "$d2"
expect_rc 32 "a LABEL= that two devices carry is refused" /sbin/mount.dvol LABEL=$L "$T/$L"
expect_msg "more than one block device" "...saying so"
expect_msg "$e" "...listing one candidate"
expect_msg "$d2" "...and the other"
check "...nothing is mounted" not_mounted "$T/$L"
expect_rc 32 "an unknown serial fails after device-timeout" \
	mount -t dvol nvme:serial=NO-SUCH-SERIAL "$T/$L" -o device-timeout=1
expect_msg "no block device matches 'nvme:serial=NO-SUCH-SERIAL' after waiting 1.0 s" \
	"...with a clear message"
expect_rc 32 "nvme:instance-store on a host without one fails clearly" \
	mount -t dvol nvme:instance-store "$T/$L" -o device-timeout=0
expect_rc 32 "a character device is not a block device" mount -t dvol /dev/null "$T/$L"
expect_msg "not a block device" "...saying so"

# --- bad input ------------------------------------------------------------------------
expect_rc 1 "mkfs=btrfs is a usage error" mount -t dvol "$b" "$T/m" -o mkfs=btrfs
expect_msg "mkfs=btrfs" "...naming the option"
expect_rc 1 "create on a block device is a usage error" mount -t dvol "$b" "$T/m" -o create
expect_rc 1 "mkfs-ignore-nonzero-data without mkfs= is a usage error" \
	mount -t dvol "$b" "$T/m" -o mkfs-ignore-nonzero-data
expect_rc 32 "a missing mount point is exit 32" mount -t dvol "$b" "$T/nonexistent" -o mkfs=xfs
check "no bad input left a mount behind" not_mounted "$T/m"

# --- concurrency: many at once on one blank device, exactly one mkfs -----------------
for fs in ext4 xfs; do
	c=$(mkloop $SIZE "conc-$fs")
	N=24
	for i in $(seq $N); do
		mount -t dvol "$c" "$T/c" -o mkfs=$fs >"$T/conc.$i.out" 2>"$T/conc.$i.err" &
	done
	fails=0
	for j in $(jobs -p); do wait "$j" || fails=$((fails + 1)); done
	log=$(cat "$T"/conc.*.err)
	check "$fs: $N concurrent mounts on one blank device all succeed ($fails failed)" test $fails -eq 0
	printf '%s\n' "$log" | grep -v "already mounted\|^$" | diag
	check "$fs: exactly one of them formatted ($(fmt_count "$log"))" test "$(fmt_count "$log")" -eq 1
	u=$(uuid_of "$c")
	check "$fs: the device carries the UUID that one format logged" \
		sh -c "printf '%s' \"\$0\" | grep -q 'formatted $c as $fs, UUID=$u '" "$log"
	check "$fs: mounted exactly once on the target" \
		test "$(findmnt -rn --mountpoint "$T/c" | wc -l)" -eq 1
	umount "$T/c"
	rm -f "$T"/conc.*
done

# --- SIGKILL: every kill provably lands, and the next run converges -----------------
# wait_stopped PATTERN [MOUNT_PID]: the pid of the mount.dvol matching PATTERN once it is
# stopped; '' if MOUNT_PID ended first.
wait_stopped() {
	local hpid=
	# Up to a minute: a loaded machine (a guest under TCG beside) is slow to get there.
	for _ in $(seq 1200); do
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return
		hpid=$(pgrep -f "^/sbin/mount.dvol $1" | head -1)
		[ -n "$hpid" ] && [ "$(pstate "$hpid")" = T ] && break
		sleep 0.05
	done
	echo "$hpid"
}
pstate() { sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f1; }
# alive PID COMM: PID is still the process COMM, not exited (pids are reused here soon).
alive() {
	local c s
	[ -n "$1" ] && read -r c 2>/dev/null <"/proc/$1/comm" && [ "$c" = "$2" ] || return 1
	read -r s 2>/dev/null <"/proc/$1/stat" && [[ $s != *") Z "* ]]
}
# freeze PID: stop it; true only if it stopped alive (not exited, not a zombie), so that
# the SIGKILL that follows provably lands in the middle of its work.
freeze() {
	[ -n "$1" ] || return 1
	kill -STOP "$1" 2>/dev/null || return 1
	for _ in $(seq 100); do
		case $(pstate "$1") in
		T | t) return 0 ;;
		'' | Z | X) return 1 ;;
		esac
		sleep 0.01
	done
	return 1
}
# find_child PPID COMM: set CHILD to the pid of PPID's child COMM, or ''. Builtins only,
# over the pids just after PPID (where its fork lands): pgrep is too slow to catch a mkfs
# of 30 ms.
find_child() {
	local p s
	CHILD=''
	for ((p = $1 + 1; p < $1 + 300; p++)); do
		[ -e /proc/$p/stat ] || continue
		read -r s 2>/dev/null </proc/$p/stat || continue
		if [[ $s =~ ^[0-9]+\ \(([^\)]*)\)\ .\ ([0-9]+) ]] &&
			[ "${BASH_REMATCH[1]}" = "$2" ] && [ "${BASH_REMATCH[2]}" = "$1" ]; then
			CHILD=$p
			return
		fi
	done
}
# kill_run FS WHERE DELAY DEV: a format of DEV killed at WHERE:
#   before-mkfs  the helper, stopped after writing its claim, before mkfs starts;
#   in-mkfs      the helper, while its mkfs runs (mkfs goes on as an orphan);
#   mkfs         mkfs itself, DELAY s after it started.
# Sets LANDED (1 if the victim was alive and stopped when killed) and RC1.
kill_run() {
	local fs=$1 where=$2 delay=$3 k=$4 hpid cpid='' victim mpid
	LANDED=0
	DVOL_DEBUG_STOP=mkfs mount -t dvol "$k" "$T/c" -o mkfs="$fs" 2>"$T/kill.err" &
	mpid=$!
	hpid=$(wait_stopped "$k " "$mpid")
	if [ -z "$hpid" ]; then
		# It may stop later: do not wait on it forever.
		kill -KILL $(pgrep -P "$mpid") 2>/dev/null
		wait "$mpid"
		RC1=$?
		echo "# kill_run: no helper stopped before mkfs on $k (rc=$RC1)" "$(cat "$T/kill.err")"
		return
	fi
	victim=$hpid
	if [ "$where" != before-mkfs ]; then
		kill -CONT "$hpid" 2>/dev/null
		# Until mkfs shows up, or the helper is gone (it ran too fast to be seen).
		while alive "$hpid" mount.dvol; do
			find_child "$hpid" "mkfs.$fs"
			cpid=$CHILD
			[ -n "$cpid" ] && break
		done
		sleep "$delay"
		# No mkfs seen: it ran too fast to be caught; this round kills nothing.
		[ -z "$cpid" ] && victim=''
		[ "$where" = mkfs ] && victim=$cpid
	fi
	if [ "$where" = in-mkfs ]; then
		# mkfs is held still while its helper dies, so that the helper provably dies
		# with its mkfs at work; then mkfs goes on as an orphan.
		if freeze "$cpid"; then
			freeze "$hpid" && kill -KILL "$hpid" 2>/dev/null && LANDED=1
			kill -CONT "$cpid"
		fi
	else
		freeze "$victim" && kill -KILL "$victim" 2>/dev/null && LANDED=1
	fi
	kill -CONT "$hpid" 2>/dev/null
	wait "$mpid"
	RC1=$?
	# Proof from the other side: a killed helper cannot have answered mount(8) (which
	# then exits 255), and a helper whose mkfs was killed says so.
	if [ "$where" = mkfs ]; then
		grep -q "was killed (signal 9)" "$T/kill.err" || LANDED=0
	elif [ "$RC1" -ne 255 ]; then
		LANDED=0
	fi
	# The orphaned mkfs of a killed helper holds the device lock until it ends.
	alive "$cpid" "mkfs.$fs" && while alive "$cpid" "mkfs.$fs"; do sleep 0.05; done
}
# Every device stays attached until the test ends (lib.sh detaches them): one detached
# and at once attached again by the next round came back of size 0 here.
delays=(0 0.001 0.002 0.004 0.008)
landed=0 redone=0 rounds=0
for fs in ext4 xfs; do
	for where in before-mkfs in-mkfs mkfs; do
		got=0
		for _ in $(seq 10); do
			[ $got -ge 2 ] && break
			rounds=$((rounds + 1))
			delay=${delays[$((RANDOM % ${#delays[@]}))]}
			# 8 GiB: a mkfs long enough (tens of ms) for a delayed kill to find it at work.
			k=$(mkloop 8G "kill-$rounds")
			kill_run "$fs" "$where" "$delay" "$k"
			echo "# round $rounds: $fs, killed $where after ${delay}s: landed=$LANDED rc=$RC1"
			if [ "$LANDED" -ne 1 ]; then
				while umount "$T/c" 2>/dev/null; do :; done
				continue
			fi
			got=$((got + 1))
			landed=$((landed + 1))
			expect_rc 0 "$fs, killed $where (after ${delay}s): the next run converges" \
				mount -t dvol "$k" "$T/c" -o mkfs=$fs
			printf '%s' "$ERR" | grep -q "formatting it again" && redone=$((redone + 1))
			check "...mounted as $fs" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/c")" = "$fs"
			check "...with the UUID that run logged" \
				sh -c "printf '%s' \"\$0\" | grep -q 'UUID=$(uuid_of "$k") '" "$ERR"
			umount "$T/c" 2>/dev/null
		done
		check "$fs, killed $where: 2 kills provably landed in at most 10 tries ($got)" test $got -ge 2
	done
done
check "every landed kill left a claim that the next run formatted again ($redone of $landed)" \
	test "$redone" -eq "$landed" -a "$landed" -ge 12

# --- after a kill, what was done to the device since decides: only dvol's own is redone
# attack DEV KIND: what a person or a program may do to a device after the kill. The
# filesystems are made as fast as dvol makes them, without a discard pass: a discard
# would zero the whole loop device, claim included, and leave a plain filesystem that is
# then mounted as any other (and not formatted).
attack() {
	case $2 in
	random) dd if=/dev/urandom of="$1" bs=1M status=none 2>/dev/null; true ;;
	otherfs) mkfs.ext4 -q -F -E nodiscard "$1" >/dev/null ;;
	nouuid) mkfs.ext4 -q -F -E nodiscard -U clear "$1" >/dev/null ;;
	offset) python3 - "$1" <<'PY'
import fcntl, os, struct, sys
# LOOP_GET_STATUS64 / LOOP_SET_STATUS64: the same loop device, 1 MiB further into its file.
fd = os.open(sys.argv[1], os.O_RDONLY)
info = bytearray(232)
fcntl.ioctl(fd, 0x4C05, info)
struct.pack_into("<Q", info, 24, struct.unpack_from("<Q", info, 24)[0] + (1 << 20))
fcntl.ioctl(fd, 0x4C04, bytes(info))
PY
		;;
	esac
}
# The type asked is the one each attack leaves (or the killed format's): the case where
# only the claim, not a type mismatch, can refuse. ext4, so that small devices do.
declare -A AFS=([random]=ext4 [otherfs]=ext4 [nouuid]=ext4 [offset]=ext4)
for where in before-mkfs mkfs in-mkfs; do
	for a in random otherfs nouuid offset; do
		fs=${AFS[$a]}
		# A mkfs of 64 MiB is over in milliseconds: some tries miss it.
		for try in $(seq 12); do
			k=$(mkloop 64M "atk-$where-$a-$try")
			kill_run "$fs" "$where" 0 "$k"
			[ "$LANDED" -eq 1 ] && break
			while umount "$T/c" 2>/dev/null; do :; done
		done
		check "attack $a after a kill of $where ($fs): the kill landed" test "$LANDED" -eq 1
		[ "$LANDED" -eq 1 ] || continue
		seq0=$(cat /sys/block/"${k#/dev/}"/diskseq)
		attack "$k" $a
		[ $a = offset ] && check "...the loop device kept its diskseq" \
			test "$(cat /sys/block/"${k#/dev/}"/diskseq)" = "$seq0"
		before=$(sum "$k")
		expect_rc 32 "killed $where, then $a: mkfs=$fs is refused" mount -t dvol "$k" "$T/c" -o mkfs=$fs
		check "...the whole device is unchanged (sha256)" test "$(sum "$k")" = "$before"
		check "...nothing is mounted" not_mounted "$T/c"
		umount "$T/c" 2>/dev/null
	done
done

# A failed mkfs clears its claim: the device is not taken for dvol's own afterwards.
f=$(mkloop 64M failed)
DVOL_DEBUG_STOP=mkfs mount -t dvol "$f" "$T/c" -o mkfs=ext4 2>"$T/fail.err" &
mpid=$!
hpid=$(wait_stopped "$f ")
python3 -c 'import os, sys, time; os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL); print(flush=True); time.sleep(60)' "$f" >"$T/held2.fifo" &
hold=$!
for _ in $(seq 50); do [ -s "$T/held2.fifo" ] && break; sleep 0.1; done
kill -CONT "$hpid"
wait "$mpid"
rc=$?
kill "$hold"
wait "$hold" 2>/dev/null
check "mkfs fails (the device was taken between the check and mkfs): exit 32 ($rc)" test $rc -eq 32
check "...mkfs's failure is logged" grep -q "mkfs.ext4 on .* failed (exit status" "$T/fail.err"
check "...with no errno text after the status (not 'Protocol error')" \
	sh -c "! grep 'failed (exit status' '$T/fail.err' | grep -q 'Protocol error'"
dd if=/dev/urandom of="$f" bs=1M status=none 2>/dev/null
before=$(sum "$f")
expect_rc 32 "...then random data written: mkfs=ext4 is refused" mount -t dvol "$f" "$T/c" -o mkfs=ext4
expect_msg "non-zero data without a signature" "...as data"
check "...the whole device is unchanged (sha256)" test "$(sum "$f")" = "$before"

# Data on a non-blank device survives a kill at any point.
dd if=/dev/urandom of="$T/payload" bs=1M count=4 status=none
want=$(sum "$T/payload")
for dev in "${DEV[ext4]}" "${DEV[xfs]}"; do
	fs=$(type_of "$dev")
	mount "$dev" "$T/m" && cp "$T/payload" "$T/m/payload" && umount "$T/m"
	for round in $(seq 6); do
		delay=${delays[$((RANDOM % ${#delays[@]}))]}
		asked=$([ $((round % 2)) = 0 ] && echo "$fs" || echo "$([ "$fs" = xfs ] && echo ext4 || echo xfs)")
		mount -t dvol "$dev" "$T/m" -o mkfs=$asked 2>/dev/null &
		mpid=$!
		sleep "$delay"
		hpid=$(pgrep -f "^/sbin/mount.dvol $dev " | head -1)
		[ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
		umount "$T/m" 2>/dev/null
	done
	check "$fs with data: after 6 killed runs the filesystem is still $fs" test "$(type_of "$dev")" = "$fs"
	expect_rc 0 "$fs with data: the next run mounts it" mount -t dvol "$dev" "$T/m" -o mkfs=$fs
	check "$fs with data: the data written before the kills is intact" \
		test "$(sum "$T/m/payload")" = "$want"
	umount "$T/m"
done

# --- ro: the superblock is read-only, and not one byte of the device changes ---------
sbopts() { findmnt -rn -o FS-OPTIONS --mountpoint "$1"; }
vfsopts() { findmnt -rn -o VFS-OPTIONS --mountpoint "$1"; }
r=$(mkloop 128M ro-ext4)
mkfs.ext4 -q "$r" && mount "$r" "$T/m" && echo kept >"$T/m/file" && umount "$T/m"
before=$(sum "$r")
expect_rc 0 "-o ro on an ext4 device" mount -t dvol "$r" "$T/m" -o ro
check "...the superblock is read-only (FS-OPTIONS: $(sbopts "$T/m"))" \
	sh -c "sbo=\$(findmnt -rn -o FS-OPTIONS --mountpoint '$T/m'); case ,\$sbo, in *,ro,*) true;; *) false;; esac"
check "...and the mount point too ($(vfsopts "$T/m"))" sh -c "findmnt -rn -o VFS-OPTIONS --mountpoint '$T/m' | grep -q '^ro'"
check "...the data is readable" grep -q kept "$T/m/file"
expect_rc 32 "the same device again, read-write, is refused: it is mounted read-only there" \
	mount -t dvol "$r" "$T/m"
expect_msg "already mounted on $T/m, but read-only" "...saying so"
expect_rc 0 "...read-only again is a no-op" mount -t dvol "$r" "$T/m" -o ro
umount "$T/m"
check "...after umount, not one byte of the device changed (sha256)" test "$(sum "$r")" = "$before"
expect_rc 0 "read-write, then" mount -t dvol "$r" "$T/m"
expect_rc 32 "...the same device again read-only is refused: it is mounted read-write" \
	mount -t dvol "$r" "$T/m" -o ro
expect_msg "already mounted on $T/m, but read-write" "...saying so"
umount "$T/m"

# A read-only device (losetup -r: BLKROGET) is mounted read-only, with a note.
img=$T/ro-dev.img
truncate -s 128M "$img" && mkfs.ext4 -q -F "$img" && echo kept >"$T/ro-payload"
rodev=$(losetup -r -f --show "$img")
echo "$rodev" >>"$T/.loops"
before=$(sum "$rodev")
expect_rc 0 "a read-only device (losetup -r) is mounted" mount -t dvol "$rodev" "$T/m"
expect_msg "write-protected, mounting it read-only" "...with a note that it is read-only"
check "...the superblock is read-only" \
	sh -c "case ,\$(findmnt -rn -o FS-OPTIONS --mountpoint '$T/m'), in *,ro,*) true;; *) false;; esac"
umount "$T/m"
check "...not one byte changed (sha256)" test "$(sum "$rodev")" = "$before"
robl=$(losetup -r -f --show "$(f=$T/ro-blank.img; truncate -s 64M "$f"; echo "$f")")
echo "$robl" >>"$T/.loops"
expect_rc 32 "a blank read-only device with mkfs= is refused" mount -t dvol "$robl" "$T/m" -o mkfs=ext4
expect_msg "is read-only .*cannot be formatted" "...saying it cannot be formatted"
check "...it is still blank" cmp -s -n 67108864 "$robl" /dev/zero

# --- a device that appears within device-timeout is used ----------------------------
lbl=late$$
late=$T/late.img
truncate -s 64M "$late" && mkfs.ext4 -q -F -L "$lbl" "$late"
start=$(date +%s%N)
( sleep 1.5; d=$(losetup -f --show "$late"); echo "$d" >>"$T/.loops" ) &
att=$!
expect_rc 0 "a device attached 1.5 s after the mount started is found (device-timeout=10s)" \
	mount -t dvol "/dev/disk/by-label/$lbl" "$T/m" -o device-timeout=10s
wait "$att"
ms=$((($(date +%s%N) - start) / 1000000))
check "...it waited for it (${ms} ms >= 1500)" test "$ms" -ge 1500
check "...and mounted the device labelled $lbl" \
	test "$(blkid -p -o value -s LABEL "$(findmnt -rn -o SOURCE --mountpoint "$T/m")")" = "$lbl"
umount "$T/m"

# --- NVMe identity that can never exist: refused at once ----------------------------
start=$(date +%s%N)
expect_rc 1 "an NVMe serial of 21 bytes is refused at once" \
	mount -t dvol nvme:serial=ABCDEFGHIJKLMNOPQRSTU "$T/m" -o device-timeout=10s
ms=$((($(date +%s%N) - start) / 1000000))
expect_msg "serial has at most 20 bytes" "...saying why"
check "...without waiting device-timeout (${ms} ms)" test "$ms" -lt 3000
start=$(date +%s%N)
expect_rc 1 "an NVMe model of 41 bytes is refused at once" \
	mount -t dvol "nvme:model=$(printf 'M%.0s' $(seq 41))" "$T/m" -o device-timeout=10s
ms=$((($(date +%s%N) - start) / 1000000))
check "...without waiting device-timeout (${ms} ms)" test "$ms" -lt 3000
expect_rc 32 "a serial of 20 bytes is looked for (and not found here)" \
	mount -t dvol nvme:serial=ABCDEFGHIJKLMNOPQRST "$T/m" -o device-timeout=0.2s

# --- a blank partition is formattable; its siblings are untouched ---------------------
pd=$(mkloop 96M parts)
printf 'label: gpt\n,32M\n,32M\n' | sfdisk -q "$pd" >/dev/null 2>&1
partx -a "$pd" 2>/dev/null
pn=${pd#/dev/}
for i in 1 2; do
	IFS=: read -r major minor <"/sys/block/$pn/${pn}p$i/dev"
	[ -e "/dev/${pn}p$i" ] || mknod "/dev/${pn}p$i" b "$major" "$minor"
	on_exit "rm -f /dev/${pn}p$i"
done
on_exit "partx -d $pd"
dd if=/dev/urandom of="/dev/${pn}p1" bs=1M status=none 2>/dev/null
p1=$(sum "/dev/${pn}p1")
head=$(head -c 1048576 "$pd" | sha256sum)
expect_rc 0 "a blank partition (${pn}p2 of a GPT disk) is formatted" \
	mount -t dvol "/dev/${pn}p2" "$T/m" -o mkfs=ext4
check "...it is ext4" test "$(type_of "/dev/${pn}p2")" = ext4
umount "$T/m"
check "...its sibling is untouched (sha256)" test "$(sum "/dev/${pn}p1")" = "$p1"
check "...and so is the partition table (first MiB)" test "$(head -c 1048576 "$pd" | sha256sum)" = "$head"
expect_rc 32 "a partition holding random data is refused" mount -t dvol "/dev/${pn}p1" "$T/m" -o mkfs=ext4
expect_msg "blkdiscard -z /dev/${pn}p1" "...naming a remedy (blkdiscard -z)"
blkdiscard -z "/dev/${pn}p1"
expect_rc 0 "...which works: after it the partition is formatted" \
	mount -t dvol "/dev/${pn}p1" "$T/m" -o mkfs=ext4
umount "$T/m"

# --- the sandbox: exec and device ioctls are gone before the mount -------------------
s=$(mkloop $SIZE sandbox)
filters() { awk '/^Seccomp_filters:/{print $2}' /proc/"$1"/status; }
DVOL_DEBUG_STOP=mkfs mount -t dvol "$s" "$T/c" -o mkfs=xfs 2>/dev/null &
mpid=$!
hpid=$(wait_stopped "$s ")
f1=$(filters "$hpid")
kill -CONT "$hpid"
wait "$mpid"
umount "$T/c"
DVOL_DEBUG_STOP=act mount -t dvol "$s" "$T/c" -o mkfs=xfs 2>/dev/null &
mpid=$!
hpid=$(wait_stopped "$s ")
f2=$(filters "$hpid")
kill -CONT "$hpid"
wait "$mpid"
sandbox_check "formatting runs under one filter (stage 1: exec, blkdev), mounting under one more ($f1 then $f2)" \
	test "$f1" = 1 -a "$f2" = 2
check "...and the mount went on" mounted "$T/c"
umount "$T/c"

done_testing
