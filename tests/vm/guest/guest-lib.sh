# shellcheck shell=bash
# Guest-tier test library, sourced by tests/vm/cases/NN-*.sh inside the guest:
#   . /dvol-tests/guest-lib.sh
# Same API as tests/host/lib.sh, on a whole booted system instead of a mount namespace:
# dvol is installed in the guest's /usr, $T is a scratch folder removed on exit, and
# $DVOL_TESTS is the test disk (the unit-test binaries are in $DVOL_TESTS/unit/).
set -u

. /dvol-tests/tap-lib.sh
export DVOL_TESTS=/dvol-tests

finish() {
	local c m
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}

T=$(mktemp -d /tmp/dvol-test.XXXXXX)
trap finish EXIT
