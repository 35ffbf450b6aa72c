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

T_N=0
T_FAIL=0
LOOPS=()
CLEANUPS=()

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
diag() { sed 's/^/# /'; }

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run_rc CMD...: runs CMD; sets RC, OUT (stdout) and ERR (stderr).
run_rc() {
	local e
	e=$(mktemp)
	OUT=$("$@" 2>"$e")
	RC=$?
	ERR=$(cat "$e")
	rm -f "$e"
}

# expect_rc WANT DESC CMD...: CMD must exit WANT.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	run_rc "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$desc (rc=$RC)"
	else
		not_ok "$desc (rc=$RC, wanted $want)"
		printf '%s\n%s\n' "$OUT" "$ERR" | diag
	fi
}

# expect_msg REGEX DESC: the last command's stderr matches REGEX.
expect_msg() {
	if printf '%s' "$ERR" | grep -qE -- "$1"; then
		ok "$2"
	else
		not_ok "$2: stderr does not match /$1/"
		printf '%s\n' "$ERR" | diag
	fi
}

mounted() { findmnt -rn --mountpoint "$1" >/dev/null; }
not_mounted() { ! mounted "$1"; }

mkloop() { # mkloop SIZE [NAME]: a sparse file on $T as a loop device; prints the device
	local img=$T/${2:-loop$RANDOM}.img dev
	truncate -s "$1" "$img" || return 1
	dev=$(losetup -f --show "$img") || return 1
	LOOPS+=("$dev")
	# Called as d=$(mkloop ...) it runs in a subshell: LOOPS alone would forget it.
	echo "$dev" >>"$T/.loops"
	echo "$dev"
}

on_exit() { CLEANUPS+=("$*"); }

finish() {
	local c
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	# Unmount everything below $T first, or the loop devices stay busy.
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	for d in "${LOOPS[@]}" $(cat "$T/.loops" 2>/dev/null); do losetup -d "$d" 2>/dev/null; done
}

done_testing() {
	echo "1..$T_N"
	exit $((T_FAIL > 0))
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
