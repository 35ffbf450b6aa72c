#!/bin/bash
# The sandbox in real runs: a helper caught at its acting stage is confined; a setuid or
# capability-carrying copy refuses to run; the whole suite runs in kill mode.
. "$(dirname "$0")/lib.sh" "$@"

check "the suite runs with the sandbox in kill mode (DVOL_SANDBOX unset)" test -z "${DVOL_SANDBOX:-}"


mkdir -p "$T/src" "$T/dst"
# A sanitizer build (make check SANITIZE=1) has no seccomp stage and no DVOL_SANDBOX
# switch: the normal build proves them.
SAN=${DVOL_SANITIZE:-}
if [ -n "$SAN" ]; then
	skip "sanitizer build: the seccomp sandbox steps aside (the normal build checks its stages)"
	mount -t dvol "$T/src" "$T/dst"
	check "...a bind still works" mounted "$T/dst"
	umount "$T/dst"
else
st=$(stage_status act mount -t dvol "$T/src" "$T/dst")
echo "# at act: $st"
check "right before mounting: Seccomp: 2 (filter mode)" sh -c "echo '$st' | grep -q 'Seccomp:2 '"
check "right before mounting: a filter stacked (a bind needs no narrower act stage than its parse stage)" sh -c "echo '$st' | grep -qE 'Seccomp_filters:[1-9] '"
check "right before mounting: NoNewPrivs: 1" sh -c "echo '$st' | grep -q 'NoNewPrivs:1 '"
check "...and the mount went on after SIGCONT" mounted "$T/dst"
umount "$T/dst"

st=$(stage_status resolve mount -t dvol "$T/src" "$T/dst")
check "while resolving: one filter already (Seccomp: 2, Seccomp_filters: 1)" \
	sh -c "echo '$st' | grep -q 'Seccomp:2 Seccomp_filters:1 '"
umount "$T/dst" 2>/dev/null
fi

# Options for which libmount would set up a loop or verity device while recording the mount:
# that runs after the mount, in a stage without those ioctls (SIGSYS, exit 159, a mount
# with no utab entry). mount(8) handles them itself; a direct call is refused up front.
for o in loop offset=0 sizelimit=1048576 loop=/dev/loop7 encryption=aes ro,loop,nodev \
	verity.hashdevice=/dev/null verity.roothash=00; do
	expect_rc 1 "mount.dvol called directly with -o $o: refused up front" \
		/usr/sbin/mount.dvol "$T/src" "$T/dst" -o "$o"
	expect_msg "option '[a-z.]+' asks for a (loop|dm-verity) device" "...and says why ($o)"
	check "...and mounted nothing ($o)" not_mounted "$T/dst"
	check "...and recorded nothing ($o)" sh -c "! grep -qs '$T/dst' /run/mount/utab"
	umount "$T/dst" 2>/dev/null
done
truncate -s 64M "$T/loop.img"
expect_rc 0 "through mount(8), -o loop still works: mount(8) attaches the image itself" \
	mount -t dvol "$T/loop.img" "$T/dst" -o loop,mkfs=ext4
check "...and the filesystem is mounted" sh -c "findmnt -rn -o FSTYPE --mountpoint '$T/dst' | grep -qx ext4"
umount "$T/dst" 2>/dev/null

# Switches for tests do not ship: the release build (make, make install) has neither
# DVOL_DEBUG_STOP (a helper stopped while it holds a device's lock) nor DVOL_SANDBOX=log (the
# kill turned into a log), and mount(8) would pass either through from its environment.
need strings
R=${DVOL_RELEASE_BUILD:-}
if [ -n "$R" ] && [ -x "$R/mount.dvol" ]; then
	for h in "$R"/mount.dvol "$R"/dvol-*; do
		[ -x "$h" ] || continue
		n=$(basename "$h")
		check "release $n: no DVOL_DEBUG_STOP in the binary" sh -c "! strings '$h' | grep -q DVOL_DEBUG_STOP"
		check "release $n: no DVOL_SANDBOX in the binary" sh -c "! strings '$h' | grep -q 'DVOL_SANDBOX$'"
		if [ -n "$SAN" ]; then
			check "test build $n: has DVOL_DEBUG_STOP (so the check above can fail)" \
				sh -c "strings '$BUILD/$n' | grep -q DVOL_DEBUG_STOP"
		else
			check "test build $n: has them (so the check above can fail)" \
				sh -c "strings '$BUILD/$n' | grep -q DVOL_DEBUG_STOP && strings '$BUILD/$n' | grep -q 'DVOL_SANDBOX$'"
		fi
	done
	mount --bind "$R/mount.dvol" /usr/sbin/mount.dvol
	expect_rc 0 "the release mount.dvol, through mount(8) with DVOL_DEBUG_STOP=act: does not stop" \
		env DVOL_DEBUG_STOP=act timeout -k 5 20 mount -t dvol "$T/src" "$T/dst"
	check "...and mounted" mounted "$T/dst"
	umount "$T/dst" 2>/dev/null
	expect_rc 0 "...nor with DVOL_DEBUG_STOP=resolve" \
		env DVOL_DEBUG_STOP=resolve timeout -k 5 20 mount -t dvol "$T/src" "$T/dst"
	umount "$T/dst" 2>/dev/null
	umount /usr/sbin/mount.dvol
	check "the test build is back in /usr/sbin" sh -c "strings /usr/sbin/mount.dvol | grep -q DVOL_DEBUG_STOP"
else
	not_ok "no release build named by DVOL_RELEASE_BUILD (tests/host/run sets it)"
fi

# Setuid-free, enforced.
mkdir -p "$T/suid"
cp "$BUILD/mount.dvol" "$T/suid/mount.dvol"
chmod u+s "$T/suid/mount.dvol"
expect_rc 1 "a setuid copy of mount.dvol refuses to run" "$T/suid/mount.dvol" "$T/src" "$T/dst"
expect_msg "setuid" "...and says why"
check "...and mounted nothing" not_mounted "$T/dst"
chmod u-s,g+s "$T/suid/mount.dvol"
expect_rc 1 "a setgid copy refuses too" "$T/suid/mount.dvol" "$T/src" "$T/dst"
chmod g-s "$T/suid/mount.dvol"
if command -v setcap >/dev/null; then
	setcap cap_sys_admin+ep "$T/suid/mount.dvol"
	expect_rc 1 "a copy with file capabilities refuses to run" "$T/suid/mount.dvol" "$T/src" "$T/dst"
	expect_msg "capabilities" "...and says why"
else
	not_ok "setcap is missing (libcap2-bin): cannot test the file-capability refusal"
fi
for h in "$BUILD"/dvol-*; do
	[ -x "$h" ] || continue
	cp "$h" "$T/suid/" && chmod u+s "$T/suid/$(basename "$h")"
	expect_rc 1 "a setuid copy of $(basename "$h") refuses to run" "$T/suid/$(basename "$h")" --help
done


done_testing
