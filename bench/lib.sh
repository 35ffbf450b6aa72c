# shellcheck shell=bash
# Benchmark helpers. Timings are medians; rows go to $BENCH_OUT as
#   name<TAB>dvol<TAB>anchor name<TAB>anchor<TAB>ratio<TAB>goal
# and bench/run prints them as one table.
set -eu
BUILD=$(cd "${1:?usage: bench BUILD_DIR}" && pwd)
BENCH_OUT=${BENCH_OUT:-/dev/stdout}

if [ -z "${DVOL_IN_NS:-}" ]; then
	export DVOL_IN_NS=1
	exec unshare --mount --propagation private -- bash "$0" "$@"
fi
B=$(mktemp -d /tmp/dvol-bench.XXXXXX)
mount -t tmpfs -o mode=0755 dvol-bench "$B"
mkdir -p "$B/sbin" /run/mount
for h in "$BUILD"/mount.dvol "$BUILD"/dvol-*; do [ -x "$h" ] && cp "$h" "$B/sbin/"; done
mount -t overlay overlay -o "lowerdir=$B/sbin:/usr/sbin" /usr/sbin
mount -t tmpfs -o mode=0755 dvol-utab /run/mount
trap 'umount -R "$B" 2>/dev/null; rmdir "$B" 2>/dev/null' EXIT

# hyperfine_median JSON INDEX: the median of one command's runs, in seconds.
hyperfine_median() { jq -r ".results[$2].median" "$1"; }

row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_OUT"; }

# fail WHAT: a benchmark whose commands did not do what is timed stops, and bench/run fails.
fail() {
	echo "$(basename "$0" .sh): $*" >&2
	exit 1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }

# vm_bench: run the guest's benchmark cases (bench/vm/*.sh) in one boot of the VM tier;
# prints the folder whose results/ hold their TAP (vm-NN-name.tap). The b-*.sh that read
# the guest share that boot within one `make bench` (bench/run sets BENCH_STAMP): the first
# one boots, the others find its results. 1 if the harness failed (not a case: each
# b-*.sh judges its own case's TAP).
vm_bench() {
	local top w rc
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	# Kept in the build folder, like the VM tier's own runs: serial logs and the journal stay.
	w=$BUILD/vm-bench
	mkdir -p "$w"
	exec 7>>"$w/.lock"
	flock 7
	if [ -z "${BENCH_STAMP:-}" ] || [ "$(cat "$w/stamp" 2>/dev/null)" != "$BENCH_STAMP" ]; then
		rm -f "$w/stamp"
		# The guest run needs the test build beside the release one, as the VM tier does.
		make --no-print-directory -C "$top" test-build >/dev/null || fail "make test-build failed"
		mkdir -p "$w/test"
		cp "$BUILD"/test/mount.dvol "$BUILD"/test/dvol-* "$w/test/"
		# A failed check in one case is that benchmark's to judge (its own TAP); the run
		# fails here when the harness's own checks did (image, boot, install).
		# hardened_usercopy=off: Debian 12's kernel (6.1) hits a BUG in mm/usercopy.c from
		# nvmet_tcp_io_work now and then under the 1 GiB O_DIRECT writes of 81-stripe.sh
		# (NVMe over TCP on loopback), and the guest's NVMe target dies with it.
		DVOL_VM_CASES_DIR=$top/bench/vm DVOL_VM_CASE_TIMEOUT=900 DVOL_VM_TIMEOUT=3000 \
			DVOL_VM_CMDLINE="hardened_usercopy=off ${DVOL_VM_CMDLINE:-}" \
			"$top/tests/vm/run" "$w" >"$w/run.log" 2>&1 || true
		rc=0
		if [ ! -s "$w/results/vm.tap" ] || grep -q '^not ok' "$w/results/vm.tap"; then rc=1; fi
		echo "$rc" >"$w/rc"
		[ -n "${BENCH_STAMP:-}" ] && echo "$BENCH_STAMP" >"$w/stamp"
	fi
	exec 7>&-
	echo "$w"
	return "$(cat "$w/rc")"
}

# vm_val TAP KEY: the figure a guest case printed as "# bench: KEY<TAB>VALUE".
vm_val() { awk -F'\t' -v k="# bench: $2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
