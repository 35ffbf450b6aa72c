#!/bin/bash
# cache=local in the VM tier's guest (the host has no kernel NFS client nor FS-Cache): the
# second read of a 1 GiB file through the cache against the first read from NFS and a
# plain read of the cache's local volume; dvol-warm against cat over a throttled link.
# In the guest boot of bench/vm/.
. "$(dirname "$0")/lib.sh" "$@"
ok=1
w=$(vm_bench) || ok=0
w=${w:-$BUILD/vm-bench}
tap=$w/results/vm-82-fscache.tap
if [ "$ok" = 0 ] || grep -qs '^not ok' "$w/results/vm.tap" "$tap" || [ ! -s "$tap" ]; then
	grep -sE 'not ok|^#' "$w/results/vm.tap" "$tap" >&2 || true
	fail "the guest run failed (log: $w/run.log)"
fi
val() { vm_val "$tap" "$1"; }
f=$(val first) s=$(val second) l=$(val local) wm=$(val warm) c=$(val cat)
[ -n "$f" ] && [ -n "$s" ] && [ -n "$l" ] && [ -n "$wm" ] && [ -n "$c" ] || fail "no figures from the guest"
row "VM: 1 GiB, second read through cache=local (median of 3)" "$s s" "plain read of the local volume" "$l s" \
	"$(ratio "$s" "$l")x" "<= 1.5x"
row "VM: the same" "$s s" "first read, from NFS (one run)" "$f s" "$(ratio "$s" "$f")x" "< 1x"
# Throughput: 256 MiB each way; the ratio is cat's time over dvol-warm's (>= 1: warm is faster).
row "VM: dvol-warm, 2 x 128 MiB over 200 Mbit/s (median of 3)" "$wm s" "cat into /dev/null" "$c s" \
	"$(ratio "$c" "$wm")x throughput" ">= 1x"
