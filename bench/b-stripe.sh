#!/bin/bash
# An instance-store stripe in the VM tier's guest (md, NVMe target with the clouds' models:
# the host has neither): mount -t dvol nvme:instance-store on four blank 4 TiB instance
# stores against one, to mounted; what was discarded and written on the way; a sequential
# read of 1 GiB from each. In the guest boot of bench/vm/ (bench/vm/81-stripe.sh).
. "$(dirname "$0")/lib.sh" "$@"
ok=1
w=$(vm_bench) || ok=0
w=${w:-$BUILD/vm-bench}
tap=$w/results/vm-81-stripe.tap
if [ "$ok" = 0 ] || grep -qs '^not ok' "$w/results/vm.tap" "$tap" || [ ! -s "$tap" ]; then
	grep -sE 'not ok|^#' "$w/results/vm.tap" "$tap" >&2 || true
	fail "the guest run failed (log: $w/run.log)"
fi
val() { vm_val "$tap" "$1"; }
ps=$(val prep_stripe) p1=$(val prep_single) ws=$(val written_stripe) w1=$(val written_single)
ds=$(val discarded_stripe) d1=$(val discarded_single) rs=$(val read_stripe) r1=$(val read_single)
for v in "$ps" "$p1" "$ws" "$w1" "$ds" "$d1" "$rs" "$r1"; do
	[ -n "$v" ] || fail "no figures from the guest"
done
row "VM: prepare 4 x 4 TiB instance stores as a stripe, blank to mounted (median of 3)" "$ps s" \
	"one 4 TiB instance store" "$p1 s" "$(ratio "$ps" "$p1")x" "<= 1.5x"
row "VM: the same, sectors discarded (all members, worst of 3)" "$ds" "one instance store" "$d1" "-" "0"
row "VM: the same, sectors written (all members, median of 3)" "$ws" "one instance store" "$w1" \
	"$(ratio "$ws" "$w1")x" "-"
row "VM: sequential read, 1 GiB O_DIRECT from the stripe (median of 3)" "$rs MB/s" \
	"one instance store" "$r1 MB/s" "$(ratio "$rs" "$r1")x" "-"
# Where the time goes: dvol's mdadm and mkfs command lines run by hand, each alone, with
# dvol's chunk and two larger ones (bench/vm/81-stripe.sh).
for c in 256 1024 4096; do
	mk=$(val "mkfs_$c") md=$(val "mdadm_$c") rd=$(val "read_$c")
	[ -n "$mk" ] && [ -n "$md" ] || fail "no by-hand figures for chunk $c from the guest"
	[ "$c" = 256 ] && row "VM:   mdadm --create alone, 4 x 4 TiB (dvol's command line, median of 3)" \
		"$md s" "one 4 TiB instance store, blank to mounted" "$p1 s" "$(ratio "$md" "$p1")x" "-"
	row "VM:   mkfs.xfs -K alone on the stripe, chunk $c KiB (median of 3)" "$mk s" \
		"mkfs.xfs -K alone on one member" "$(val mkfs_one) s" "$(ratio "$mk" "$(val mkfs_one)")x" "-"
	[ "$c" = 256 ] && continue
	row "VM:   sequential read, 1 GiB O_DIRECT, chunk $c KiB (by hand)" "$rd MB/s" \
		"one member (by hand)" "$(val read_one) MB/s" "$(ratio "$rd" "$(val read_one)")x" "-"
done
