#!/bin/bash
# Whole-process time of `mount -t dvol` (a folder bind) against `mount --bind` on the
# same folders. Each run mounts once; the unmount is outside the timing.
. "$(dirname "$0")/lib.sh" "$@"
mkdir -p "$B/src" "$B/t-dvol" "$B/t-bind" "$B/t-null"
# The helper protocol's own floor: mount(8) running a helper that does nothing at all.
cp /bin/true "$B/sbin/mount.dvolnull"
mount -t overlay overlay -o "lowerdir=$B/sbin:/usr/sbin" /usr/sbin
runs=${BENCH_RUNS:-300}
hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$B/bind.json" \
	--prepare "sh -c 'umount -q $B/t-dvol; true'" --prepare "sh -c 'umount -q $B/t-bind; true'" \
	--prepare "true" "mount -t dvol $B/src $B/t-dvol" "mount --bind $B/src $B/t-bind" \
	"mount -t dvolnull $B/src $B/t-null" >/dev/null
# hyperfine (without -i) already fails on a non-zero exit; the last run of each is left
# mounted: check that it is what was timed.
[ "$(findmnt -rn -o SOURCE --mountpoint "$B/t-dvol")" = "dvol-bench[/src]" ] ||
	fail "mount -t dvol did not leave $B/src bound on $B/t-dvol"
[ "$(findmnt -rn -o SOURCE --mountpoint "$B/t-bind")" = "dvol-bench[/src]" ] ||
	fail "mount --bind did not leave $B/src bound on $B/t-bind"
grep -qs "TARGET=$B/t-dvol" /run/mount/utab || fail "mount -t dvol recorded nothing in utab"
d=$(hyperfine_median "$B/bind.json" 0)
a=$(hyperfine_median "$B/bind.json" 1)
n=$(hyperfine_median "$B/bind.json" 2)
row "instance volume bind ($runs runs)" "$(ms "$d")" "mount --bind" "$(ms "$a")" "$(ratio "$d" "$a")x" "<= 1.2x"
row "  floor: mount(8) + a helper that does nothing" "$(ms "$n")" "mount --bind" "$(ms "$a")" "$(ratio "$n" "$a")x" "(protocol floor)"
row "  dvol over that floor" "$(ms "$d")" "do-nothing helper" "$(ms "$n")" "$(ratio "$d" "$n")x" ""
