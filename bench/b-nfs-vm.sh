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
# The guest run needs the test build beside the release one, as the VM tier does.
make --no-print-directory -C "$top" test-build >/dev/null || fail "make test-build failed"
mkdir -p "$w/test"
cp "$BUILD"/test/mount.dvol "$BUILD"/test/dvol-* "$w/test/"
ok=1
DVOL_VM_CASES_DIR=$here/vm DVOL_VM_CASE_TIMEOUT=900 DVOL_VM_TIMEOUT=1500 \
	"$top/tests/vm/run" "$w" >"$w/run.log" 2>&1 || ok=0
tap=$w/results/vm-80-nfs-blackhole.tap
# Every check in the guest passed: dvol's exit 32 each time, each anchor failed too.
if [ "$ok" = 0 ] || grep -qs '^not ok' "$w/results/"*.tap; then
	grep -E 'not ok|^#' "$w/results/"*.tap >&2
	fail "the guest run failed (log: $w/run.log)"
fi
val() { awk -F'\t' -v k="# bench: $1" '$1 == k { print $2 }' "$tap" 2>/dev/null; }
d=$(val dvol) a4=$(val nfs4) a3=$(val nfs3) at=$(val tuned)
[ -n "$d" ] && [ -n "$a4" ] && [ -n "$a3" ] && [ -n "$at" ] || fail "no figures from the guest"
row "VM: clear error, blackholed server (median of 5)" "$d s" "mount -t nfs4 (defaults)" "$a4 s" \
	"$(ratio "$d" "$a4")x" "<= 3.5 s (probe-timeout + 0.5)"
row "VM: the same" "$d s" "mount -t nfs -o vers=3 (defaults)" "$a3 s" "$(ratio "$d" "$a3")x" ">= 30x faster"
row "VM: the same" "$d s" "mount -t nfs4 -o soft,timeo=30,retrans=1" "$at s" "$(ratio "$d" "$at")x" "-"
