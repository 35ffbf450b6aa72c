# shellcheck shell=bash
# Guest-tier test library, sourced by tests/vm/cases/NN-*.sh inside the guest:
#   . /dvol-tests/guest-lib.sh
# Same API as tests/host/lib.sh, on a whole booted system instead of a mount namespace:
# dvol is installed in the guest's /usr, $T is a scratch folder removed on exit, and
# $DVOL_TESTS is the test disk (the unit-test binaries are in $DVOL_TESTS/unit/).
set -u

# shellcheck source=../../tap-lib.sh
. /dvol-tests/tap-lib.sh
export DVOL_TESTS=/dvol-tests

finish() {
	local c m
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}

# test_hooks on|off: the installed helpers are the release build, which has no test
# switches; "on" binds the test build's helpers (on the test disk) over them, "off" undoes
# it. stage_status uses it around the one call it stops.
test_hooks() {
	local h n
	for h in "$DVOL_TESTS"/test-hooks/*; do
		n=$(basename "$h")
		for d in /usr/sbin /sbin; do
			[ -e "$d/$n" ] || continue
			if [ "$1" = on ]; then
				mount --bind "$h" "$(readlink -f "$d/$n")" || return 1
			else
				umount "$(readlink -f "$d/$n")" 2>/dev/null
			fi
			break
		done
	done
	return 0
}
on_exit test_hooks off

# nvmet ARGS...: the guest helper that makes NVMe controllers with any model and serial
# (tests/vm/guest/nvmet; tests/vm/README.md).
nvmet() { bash "$DVOL_TESTS/nvmet" "$@"; }
# nvmet_clean: remove every nvmet controller and its backing files, so that the cases
# after this one see the harness's qemu controllers only. A case that made some runs
# `on_exit nvmet_clean`.
nvmet_clean() {
	local n
	for n in $(nvmet list | cut -f1); do nvmet del "$n" --purge; done
}

T=$(mktemp -d /tmp/dvol-test.XXXXXX)
trap finish EXIT

# blk_stat FIELD DEV...: a field of /sys/block/DEV/stat summed over DEVs (7: sectors
# written, write-zeroes included; 12: discard requests; 14: sectors discarded). Native NVMe
# multipath counts nothing on the head node (nvmeSnN, queue/iostats 0) and everything on
# its hidden path nodes (nvmeScCnN): both are summed.
blk_stat() {
	local f=$1 d b p sum=0
	shift
	for d in "$@"; do
		b=${d#/dev/}
		for p in "/sys/block/$b" "/sys/block/${b%n*}"c*"n${b##*n}"; do
			[ -e "$p/stat" ] || continue
			sum=$((sum + $(awk -v f="$f" '{ print $f }' "$p/stat")))
		done
	done
	echo "$sum"
}

# hide_volumes: an empty /etc/dvol/volumes over the one an earlier case left (57-prepare
# leaves one for boot 2), until the case ends, so that udev and systemd do not prepare the
# case's controllers behind its back.
hide_volumes() {
	[ -e /etc/dvol/volumes ] || return 0
	: >"$T/volumes.empty"
	mount --bind "$T/volumes.empty" /etc/dvol/volumes && on_exit umount /etc/dvol/volumes
}
