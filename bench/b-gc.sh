#!/bin/bash
# shellcheck disable=SC2046,SC2091 # scan, age and both print a command line: run as its words
# dvol-gc's walk over a tree of 1M (and 100k) empty files on tmpfs, against
# `find -printf '%A@ %s %p\n'` (the same stat of every entry, printed) and against
# `systemd-tmpfiles --clean` with an equivalent age rule. Peak RSS by GNU time at 100k and
# at 1M files. The trees are made by tests/mkfiles.c: 1000 files a folder.
. "$(dirname "$0")/lib.sh" "$@"

cc -O2 -o "$B/gen" "$(dirname "$0")/../tests/mkfiles.c"
"$B/gen" "$B/t100k" 100000 aged
"$B/gen" "$B/t1m" 1000000 aged

# One pass: a budget that needs nothing (max-size far above) and no max-age.
scan() { echo "dvol-gc --dry-run --grace 0 --max-size 1P --root $1"; }
# max-age alone: one walk that would also evict (nothing is that old).
age() { echo "dvol-gc --dry-run --grace 0 --max-age 3650d --root $1"; }
# A size budget and a max-age: pass 1 for the size, pass 2 for the eviction.
both() { echo "dvol-gc --dry-run --grace 0 --max-size 1P --max-age 3650d --root $1"; }
printf 'e %s - - - 30d\n' "$B/t1m" >"$B/tmpfiles.conf"
runs=${BENCH_GC_RUNS:-5}
# Interleaved rounds (each command once per round, after one warm-up round), so that the
# load of a shared machine drifting over minutes does not fall on one command only.
cmd() {
	case $1 in
	0) $(scan "$B/t1m") ;;
	1) find "$B/t1m" -printf '%A@ %s %p\n' ;;
	2) systemd-tmpfiles --clean "$B/tmpfiles.conf" ;;
	3) $(age "$B/t1m") ;;
	4) $(both "$B/t1m") ;;
	esac
}
# The walk that is timed saw every file: dvol-gc's own count, and find's lines.
for q in "$(scan "$B/t1m")" "$(both "$B/t1m")"; do
	n=$($q --json 2>/dev/null | jq -r '.roots[0].files') || fail "$q --json failed"
	[ "$n" = 1000000 ] || fail "$q saw $n files, not 1000000"
done
n=$(find "$B/t1m" -type f -printf '%A@ %s %p\n' | wc -l)
[ "$n" = 1000000 ] || fail "find -printf listed $n files, not 1000000"
for r in $(seq 0 "$runs"); do
	for i in 0 1 2 3 4; do
		t0=$(date +%s%N)
		cmd "$i" >/dev/null 2>&1 || fail "command $i of the round failed (rc=$?): see cmd() in $0"
		t1=$(date +%s%N)
		[ "$r" -gt 0 ] && echo "$(((t1 - t0) / 1000))" >>"$B/times.$i"
	done
done
# ...and every round walked the same tree (systemd-tmpfiles ages by ctime too: it removes none).
n=$(find "$B/t1m" -type f | wc -l)
[ "$n" = 1000000 ] || fail "the tree holds $n files after the rounds, not 1000000"
median() { sort -n "$B/times.$1" | awk '{ a[NR] = $1 } END { printf "%.6f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1e6 }'; }
s() { awk -v x="$1" 'BEGIN { printf "%.3f s", x }'; }
d=$(median 0)
f=$(median 1)
t=$(median 2)
a=$(median 3)
b=$(median 4)
row "gc scan, 1M files, one pass ($runs interleaved runs)" "$(s "$d")" "find -printf" "$(s "$f")" "$(ratio "$d" "$f")x" "<= 1.2x"
row "gc scan, 1M files, one pass" "$(s "$d")" "systemd-tmpfiles --clean" "$(s "$t")" "$(ratio "$d" "$t")x" "-"
row "gc max-age only (one walk), 1M files" "$(s "$a")" "systemd-tmpfiles --clean" "$(s "$t")" "$(ratio "$a" "$t")x" "-"
row "gc size budget and max-age (two passes), 1M files" "$(s "$b")" "find -printf" "$(s "$f")" "$(ratio "$b" "$f")x" "-"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
r100=$(rss $(both "$B/t100k"))
r1m=$(rss $(both "$B/t1m"))
f1m=$(rss find "$B/t1m" -printf '%A@ %s %p\n')
for v in "$r100" "$r1m" "$f1m"; do
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || fail "GNU time gave no peak RSS ($v)"
done
# bench/run reads rows with IFS=tab, which folds empty fields: "-" marks them.
row "gc peak RSS, 100k files" "$(mib "$r100")" "-" "-" "-" "<= 32 MiB"
row "gc peak RSS, 1M files" "$(mib "$r1m")" "gc at 100k files" "$(mib "$r100")" "$(ratio "$r1m" "$r100")x" "<= 32 MiB, flat"
row "  (find -printf at 1M files)" "-" "find" "$(mib "$f1m")" "-" "-"
