#!/bin/bash
# Whole-process time of `mount -t dvol` (a folder bind) against `mount --bind` on the
# same folders, and against mount(8) running helpers that do nothing: /bin/true, and a
# do-nothing binary linked with libmount (what loading libmount alone costs a helper that
# records in utab through it). Each run mounts once; the unmounts are outside the timing.
# The commands run in turn (bench/interleave.c): on a shared machine the load drifts, and
# timing all runs of one command before the next would put that drift into the ratios.
. "$(dirname "$0")/lib.sh" "$@"
mkdir -p "$B/src" "$B/t-dvol" "$B/t-bind" "$B/t-null" "$B/t-nullmnt"
cc -O2 -o "$B/interleave" "$(dirname "$0")/interleave.c" || fail "cannot build bench/interleave.c"
cp /bin/true "$B/sbin/mount.dvolnull"
# The same hardening as the helpers, libmount kept although unused.
echo 'int main(void) { return 0; }' |
	cc -x c -O2 -fPIE -pie -Wl,-z,relro,-z,now -Wl,--no-as-needed -o "$B/sbin/mount.dvolnullmnt" - \
		-lmount || fail "cannot build the do-nothing helper with libmount"
mount -t overlay overlay -o "lowerdir=$B/sbin:/usr/sbin" /usr/sbin
runs=${BENCH_RUNS:-300}
"$B/interleave" -w 10 -n "$runs" -p "umount -q $B/t-dvol $B/t-bind 2>/dev/null; true" \
	-- mount -t dvol "$B/src" "$B/t-dvol" -- mount --bind "$B/src" "$B/t-bind" \
	-- mount -t dvolnull "$B/src" "$B/t-null" -- mount -t dvolnullmnt "$B/src" "$B/t-nullmnt" \
	>"$B/bind.txt" || fail "a timed mount failed"
# The last run of each is left mounted: check that it is what was timed.
[ "$(findmnt -rn -o SOURCE --mountpoint "$B/t-dvol")" = "dvol-bench[/src]" ] ||
	fail "mount -t dvol did not leave $B/src bound on $B/t-dvol"
[ "$(findmnt -rn -o SOURCE --mountpoint "$B/t-bind")" = "dvol-bench[/src]" ] ||
	fail "mount --bind did not leave $B/src bound on $B/t-bind"
grep -qs "TARGET=$B/t-dvol" /run/mount/utab || fail "mount -t dvol recorded nothing in utab"
if findmnt -rn --mountpoint "$B/t-null" >/dev/null; then fail "the do-nothing helper mounted something"; fi
# bind.txt: per command, in order, "wall-median wall-p25 wall-p75 cpu-median command...".
col() { awk -v l="$1" -v c="$2" 'NR == l { print $c }' "$B/bind.txt"; }
d=$(col 1 1) a=$(col 2 1) n=$(col 3 1) m=$(col 4 1)
dc=$(col 1 4) nc=$(col 3 4) mc=$(col 4 4)
cpu() { awk -v s="$1" 'BEGIN { printf "%.2f ms CPU", s * 1000 }'; }
row "instance volume bind ($runs runs, in turn)" "$(ms "$d")" "mount --bind" "$(ms "$a")" "$(ratio "$d" "$a")x" "-"
row "  floor: mount(8) + a helper that does nothing" "$(ms "$n")" "mount --bind" "$(ms "$a")" "$(ratio "$n" "$a")x" "(protocol floor)"
row "  dvol over that floor" "$(ms "$d")" "do-nothing helper" "$(ms "$n")" "$(ratio "$d" "$n")x" "<= 1.2x"
row "  the same, CPU time of mount(8) and helper" "$(cpu "$dc")" "do-nothing helper" "$(cpu "$nc")" "$(ratio "$dc" "$nc")x" "<= 1.2x"
row "  a do-nothing helper linked with libmount" "$(ms "$m")" "do-nothing helper" "$(ms "$n")" "$(ratio "$m" "$n")x" "(libmount's floor)"
row "  the same, CPU time" "$(cpu "$mc")" "do-nothing helper" "$(cpu "$nc")" "$(ratio "$mc" "$nc")x" ""
