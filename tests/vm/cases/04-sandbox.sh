#!/bin/bash
# The sandbox on the guest's Debian kernel (6.1) rather than the host's: the seccomp unit
# tests, and mount.dvol confined at its acting stage (as tests/host/t-sandbox.sh).
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

echo "# kernel $(uname -r)"
check "the suite runs with the sandbox in kill mode (DVOL_SANDBOX unset)" test -z "${DVOL_SANDBOX:-}"
t=$DVOL_TESTS/unit/test-sandbox
if [ -x "$t" ]; then
	run_rc env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
	printf '%s\n%s\n' "$OUT" "$ERR" | diag
	np=$(printf '%s\n' "$OUT" | grep -cE '^ok [0-9]+')
	nf=$(printf '%s\n' "$OUT" | grep -cE '^not ok [0-9]+')
	check "test-sandbox passes on this kernel ($np passed, $nf failed, rc=$RC)" \
		test "$RC" -eq 0 -a "$np" -gt 0 -a "$nf" -eq 0
else
	not_ok "test-sandbox is missing from the test disk"
fi


mkdir -p "$T/src" "$T/dst"
st=$(stage_status act mount -t dvol "$T/src" "$T/dst")
echo "# at act: $st"
check "right before mounting: Seccomp: 2 (filter mode)" sh -c "echo '$st' | grep -q 'Seccomp:2 '"
check "right before mounting: a filter stacked" sh -c "echo '$st' | grep -qE 'Seccomp_filters:[1-9] '"
check "right before mounting: NoNewPrivs: 1" sh -c "echo '$st' | grep -q 'NoNewPrivs:1 '"
check "...and the mount went on after SIGCONT" mounted "$T/dst"
umount "$T/dst"
done_testing
