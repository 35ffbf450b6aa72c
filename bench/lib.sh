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
