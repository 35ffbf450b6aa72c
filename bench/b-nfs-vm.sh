#!/bin/bash
# Time to a clear error on a blackholed NFS server, in the VM tier's guest (the host has no
# kernel NFS client): mount -t dvol against mount -t nfs4 and mount -t nfs -o vers=3 with
# their defaults. In the guest boot of bench/vm/; the anchors alone take minutes.
. "$(dirname "$0")/lib.sh" "$@"
# One guest boot, shared with the other benchmarks of bench/vm/ (vm_bench, lib.sh).
ok=1
w=$(vm_bench) || ok=0
w=${w:-$BUILD/vm-bench}
tap=$w/results/vm-80-nfs-blackhole.tap
# Every check in the guest passed: dvol's exit 32 each time, each anchor failed too.
if [ "$ok" = 0 ] || grep -qs '^not ok' "$w/results/vm.tap" "$tap" || [ ! -s "$tap" ]; then
	grep -sE 'not ok|^#' "$w/results/vm.tap" "$tap" >&2 || true
	fail "the guest run failed (log: $w/run.log)"
fi
val() { vm_val "$tap" "$1"; }
d=$(val dvol) a4=$(val nfs4) a3=$(val nfs3) at=$(val tuned)
[ -n "$d" ] && [ -n "$a4" ] && [ -n "$a3" ] && [ -n "$at" ] || fail "no figures from the guest"
row "VM: clear error, blackholed server (median of 5)" "$d s" "mount -t nfs4 (defaults)" "$a4 s" \
	"$(ratio "$d" "$a4")x" "<= 3.5 s (probe-timeout + 0.5)"
row "VM: the same" "$d s" "mount -t nfs -o vers=3 (defaults)" "$a3 s" "$(ratio "$d" "$a3")x" ">= 30x faster"
row "VM: the same" "$d s" "mount -t nfs4 -o soft,timeo=30,retrans=1" "$at s" "$(ratio "$d" "$at")x" "-"
