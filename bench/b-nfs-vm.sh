#!/bin/bash
# Time to a clear error on a blackholed NFS server, in the VM tier's guest (the host has no
# kernel NFS client): mount -t dvol against mount -t nfs4 and mount -t nfs -o vers=3 with
# their defaults. One guest boot; the anchors alone take minutes.
. "$(dirname "$0")/lib.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# Kept in the build folder, like the VM tier's own runs: serial logs and the journal stay.
w=$BUILD/vm-bench
mkdir -p "$w"
DVOL_VM_CASES_DIR=$here/vm DVOL_VM_CASE_TIMEOUT=900 DVOL_VM_TIMEOUT=1500 \
	"$top/tests/vm/run" "$w" >"$w/run.log" 2>&1 || {
	echo "b-nfs-vm: the guest run failed (log: $w/run.log):" >&2
	grep -E 'not ok|^#' "$w/results/"*.tap >&2
}
tap=$w/results/vm-80-nfs-blackhole.tap
val() { awk -F'\t' -v k="# bench: $1" '$1 == k { print $2 }' "$tap" 2>/dev/null; }
d=$(val dvol) a4=$(val nfs4) a3=$(val nfs3)
[ -n "$d" ] && [ -n "$a4" ] && [ -n "$a3" ] || { echo "b-nfs-vm: no figures from the guest" >&2; exit 1; }
row "VM: clear error, blackholed server (median of 5)" "$d s" "mount -t nfs4 (defaults)" "$a4 s" \
	"$(ratio "$d" "$a4")x" "<= 3.5 s (probe-timeout + 0.5)"
row "VM: the same" "$d s" "mount -t nfs -o vers=3 (defaults)" "$a3 s" "$(ratio "$d" "$a3")x" ">= 30x faster"
