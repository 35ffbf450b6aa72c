# shellcheck shell=bash
# Guest-tier test library, sourced by tests/vm/cases/NN-*.sh inside the guest:
#   . /dvol-tests/guest-lib.sh
# Same API as tests/host/lib.sh, on a whole booted system instead of a mount namespace:
# dvol is installed in the guest's /usr, $T is a scratch folder removed on exit, and
# $DVOL_TESTS is the test disk (the unit-test binaries are in $DVOL_TESTS/unit/).
set -u

T_N=0
T_FAIL=0
CLEANUPS=()
export DVOL_TESTS=/dvol-tests

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

on_exit() { CLEANUPS+=("$*"); }

finish() {
	local c m
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}

done_testing() {
	echo "1..$T_N"
	exit $((T_FAIL > 0))
}

T=$(mktemp -d /tmp/dvol-test.XXXXXX)
trap finish EXIT
