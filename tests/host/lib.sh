# shellcheck shell=bash
# Host-tier test library. A test script sources this with the build dir as $1:
#   . "$(dirname "$0")/lib.sh" "$@"
# It re-executes the script in a private mount namespace, where:
#   - the built helpers sit in /usr/sbin (an overlay), so that mount(8) finds mount.dvol
#     exactly as on an installed system;
#   - /run/mount is a fresh tmpfs, so utab is this test's alone (utab is a plain file,
#     shared by every mount namespace);
#   - $T is a scratch tmpfs.
# Loop devices made with mkloop are detached on exit, by the names that were made.
set -u

BUILD=$(cd "${1:?usage: test BUILD_DIR}" && pwd)
if [ -z "${DVOL_IN_NS:-}" ]; then
	export DVOL_IN_NS=1
	exec unshare --mount --propagation private -- bash "$0" "$@"
fi

. "$(dirname "${BASH_SOURCE[0]}")/../tap-lib.sh"
LOOPS=()
need findmnt losetup pgrep setsid jq timeout flock truncate sha256sum mkfs.ext4 mkfs.xfs

mkloop() { # mkloop SIZE [NAME]: a sparse file on $T as a loop device; prints the device
	local img=$T/${2:-loop$RANDOM}.img dev
	truncate -s "$1" "$img" || return 1
	dev=$(losetup -f --show "$img") || return 1
	LOOPS+=("$dev")
	# Called as d=$(mkloop ...) it runs in a subshell: LOOPS alone would forget it.
	echo "$dev" >>"$T/.loops"
	echo "$dev"
}

finish() {
	local c
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	# Unmount everything below $T first, or the loop devices stay busy.
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	for d in "${LOOPS[@]}" $(cat "$T/.loops" 2>/dev/null); do losetup -d "$d" 2>/dev/null; done
}

# --- the namespace ---------------------------------------------------------------------
T=$(mktemp -d /tmp/dvol-test.XXXXXX)
mount -t tmpfs -o mode=0755 dvol-test "$T"
mkdir -p "$T/sbin" /run/mount
for h in "$BUILD"/mount.dvol "$BUILD"/dvol-*; do
	[ -x "$h" ] && cp "$h" "$T/sbin/"
done
mount -t overlay overlay -o "lowerdir=$T/sbin:/usr/sbin" /usr/sbin
mount -t tmpfs -o mode=0755 dvol-utab /run/mount
trap 'finish; umount -l "$T" 2>/dev/null; rmdir "$T" 2>/dev/null' EXIT
