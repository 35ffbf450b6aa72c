#!/bin/bash
# The wire fuzzer: dvol-nfs-probe and mount.dvol, built with ASan and UBSan
# (build/fuzz/wire/, `make -C fuzz wire-helpers`), against fuzz/wire/server.py on
# 127.0.0.1 in a network namespace of this test: random, truncated, oversized, reordered
# and dripped replies, wrong xids, RPC_MISMATCH, huge record markers, floods, connections
# closed mid-record. Each round has a seed, and each helper must end on its own, within its
# deadline and a small slack, with no sanitizer report (leaks included) and a classified
# error (the probe's JSON; mount.dvol's exit 32 and message), leaving no mount and no utab
# line behind.
#
#   DVOL_WIRE_TIME=S    start no round after S seconds (default 90)
#   DVOL_WIRE_ROUNDS=N  at most N rounds (default 1000)
#   DVOL_WIRE_SEED=S    the first round's seed (default: from the clock; printed)
# A failed round names its seed: DVOL_WIRE_SEED=that DVOL_WIRE_ROUNDS=1 replays it, and
# the server's log of every reply it chose is in the TAP output.
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DVOL_IN_NS:-}" ]; then
	# The sanitized helpers: where make check-host says (build/fuzz/wire, also when the
	# tier runs build/san under SANITIZE=1), or beside the build it hands over (BUILD/test).
	w=${DVOL_WIRE_DIR:-$(cd "${1:?usage: t-wire-fuzz.sh BUILD/test}/.." && pwd)/fuzz/wire}
	if [ ! -x "$w/dvol-nfs-probe" ] || [ ! -x "$w/mount.dvol" ]; then
		printf 'not ok 1 - no sanitized helpers in %s (make -C fuzz wire-helpers)\n1..1\n' "$w"
		exit 1
	fi
	set -- "$w"
fi
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nfs-lib.sh"
need python3 ss jq

SERVER=$here/../../fuzz/wire/server.py
TIMEOUT=2      # the probe's deadline, s (-t, probe-timeout=)
SLACK_MS=4000 # ASan start-up and exit (the leak check) on a loaded 2-core machine
CLASSES='^(refused|timeout|unreachable|unresolvable|rpc-mismatch|export-missing|access-denied|protocol-error|local-error)$'
export ASAN_OPTIONS=exitcode=66:detect_leaks=1:allocator_may_return_null=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=exitcode=66

netns_make wire NS || { not_ok "cannot make a network namespace"; done_testing; }
echo 0 >"$T/seed"
# Not through in_ns: a function run in the background is a subshell, and its pid is not
# the server's (killing it left the server running). ip netns exec execs the server.
ip netns exec "$NS" python3 "$SERVER" "$T/seed" 2049 111 20048 "$T/wire.log" >"$T/wire.out" 2>&1 &
echo $! >"$T/wire.pid"
# shellcheck disable=SC2016 # expanded when the test ends
on_exit 'kill "$(cat "$T/wire.pid")"'
for _ in $(seq 100); do grep -q ready "$T/wire.out" && break; sleep 0.2; done
check "the fuzzing server listens on 127.0.0.1:2049, :111 and :20048" grep -q ready "$T/wire.out"
mkdir -p "$T/mnt"
check "the helpers that mount(8) finds are the ASan build" \
	grep -qa __asan_init /usr/sbin/dvol-nfs-probe /usr/sbin/mount.dvol

# clean FILE: stderr with nothing of a sanitizer in it.
clean() { ! grep -qE 'Sanitizer|runtime error:|DEADLYSIGNAL' "$1"; }
# libnfs 4.0's decoder crashes on some hostile replies (an array length it trusts; see the
# end of this file). Both helpers run their probes in child processes of their own: one
# sanitizer report, from inside libnfs's decoder, and the parent says so in words MSG
# (found in FILE2, stderr by default) and mounts nothing. Anything else in the report is
# dvol's and fails the round.
contained() {
	[ "$(grep -c '^==[0-9]*==ERROR' "$1")" -eq 1 ] &&
		grep -qE '#0 .* in (libnfs_)?zdr_[A-Za-z0-9_]+ .*libnfs\.so' "$1" &&
		grep -q "$2" "${3:-$1}"
}
PROBE_CRASHED="crashed on the server's reply"
# jq_e ARGS...: jq -e, whose answer is its exit code; what it prints would land in the TAP.
# shellcheck disable=SC2317 # called through check
jq_e() { jq -e "$@" >/dev/null; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# why SEED WHAT: the evidence of a failed round.
why() {
	echo "# seed $1: $2; replay: DVOL_WIRE_SEED=$1 DVOL_WIRE_ROUNDS=1"
	diag <"$T/err"
	grep -F "seed $1 " -A40 "$T/wire.log" | head -80 | diag
}

targets=("nfs://127.0.0.1/export" "nfs://127.0.0.1/export?vers=3" "nfs://127.0.0.1/export/sub?vers=4.1"
	"127.0.0.1" "127.0.0.1:/export" "nfs://127.0.0.1/?vers=4")
seed=${DVOL_WIRE_SEED:-$(($(date +%s) % 100000 * 1000))}
echo "# first seed $seed"
start=$(ms)
rounds=0
declare -A seen
while [ $rounds -lt "${DVOL_WIRE_ROUNDS:-1000}" ] &&
	[ $(($(ms) - start)) -lt $((${DVOL_WIRE_TIME:-90} * 1000)) ]; do
	echo "$seed" >"$T/seed"
	tgt=${targets[$((seed % ${#targets[@]}))]}

	# dvol-nfs-probe: exit 0 or 2, on time, one JSON object with a verdict.
	t0=$(ms)
	in_ns "$NS" /usr/sbin/dvol-nfs-probe --json --exports --rtt 2 -t $TIMEOUT "$tgt" \
		>"$T/out" 2>"$T/err"
	rc=$? el=$(($(ms) - t0))
	cls=$(jq -r 'if .ok then "ok" else .error end' "$T/out" 2>/dev/null)
	if { [ $rc -eq 0 ] || [ $rc -eq 2 ]; } && [ $el -le $((TIMEOUT * 1000 + SLACK_MS)) ] &&
		[ "$(wc -l <"$T/out")" -eq 1 ] && { [ "$cls" = ok ] || [[ $cls =~ $CLASSES ]]; } &&
		{ clean "$T/err" || { [ "$cls" = protocol-error ] && contained "$T/err" "$PROBE_CRASHED" "$T/out"; }; }; then
		ok "seed $seed: dvol-nfs-probe $tgt: $cls in $el ms"
		seen[probe-$cls]=$((${seen[probe-$cls]:-0} + 1))
	else
		not_ok "seed $seed: dvol-nfs-probe $tgt: rc=$rc in $el ms, verdict '${cls}'"
		diag <"$T/out"
		why "$seed" "dvol-nfs-probe"
	fi

	# mount.dvol through mount(8): its probe (a child of its own) meets the same server. No
	# NFS client in this kernel, so even a probe that passes ends in exit 32.
	t0=$(ms)
	# shellcheck disable=SC2016 # the inner shell's arguments
	in_ns "$NS" sh -c 'mount -t dvol -o probe-timeout=$1,mount-timeout=$1 "$2" "$3"; rc=$?
		findmnt -rn --mountpoint "$3" >&2 && echo "LEFT MOUNTED" >&2; exit $rc' \
		sh $TIMEOUT "127.0.0.1:/export" "$T/mnt" >/dev/null 2>"$T/err"
	rc=$? el=$(($(ms) - t0))
	msg=$(grep -m1 -E '^mount.dvol' "$T/err" | cut -c1-150)
	if [ $rc -eq 32 ] && [ $el -le $((3 * TIMEOUT * 1000 + SLACK_MS)) ] &&
		{ clean "$T/err" || contained "$T/err" 'the probe process ended without a result'; } &&
		[ -n "$msg" ] && ! grep -q "LEFT MOUNTED" "$T/err" &&
		! grep -qs "$T/mnt" /run/mount/utab; then
		ok "seed $seed: mount.dvol: rc=32 in $el ms: $msg"
		seen[mount-rc32]=$((${seen[mount-rc32]:-0} + 1))
	else
		not_ok "seed $seed: mount.dvol: rc=$rc in $el ms"
		why "$seed" "mount.dvol"
	fi
	rounds=$((rounds + 1))
	seed=$((seed + 1))
done
# libnfs 4.0 dies of SIGSEGV on a COMPOUND reply that claims 2^32-1 results (fuzz/wire/
# server.py). Each helper's probe is a child process of its own: dvol-nfs-probe lives on
# to classify that target and report the others; mount.dvol to say so, exit 32 and mount
# nothing.
echo libnfs-array >"$T/seed"
in_ns "$NS" /usr/sbin/dvol-nfs-probe --json -t $TIMEOUT nfs://127.0.0.1/export 127.0.0.2:1 \
	>"$T/out" 2>"$T/err"
rc=$?
check "a reply that crashes libnfs: dvol-nfs-probe exits 2 ($rc), its probe child crashed" \
	test $rc -eq 2 -a "$(grep -c 'SEGV' "$T/err")" -ge 1
check "...that target is a protocol-error that says the probe crashed on the server's reply" \
	jq_e -s --arg m "$PROBE_CRASHED" '.[0].error == "protocol-error" and (.[0].detail | contains($m))' "$T/out"
check "...the other target in the same run still has its own verdict (refused)" \
	jq_e -s 'length == 2 and .[1].error == "refused"' "$T/out"
check "...and the only sanitizer report is the probe child's, inside libnfs" \
	contained "$T/err" "$PROBE_CRASHED" "$T/out"
# shellcheck disable=SC2016 # the inner shell's arguments
in_ns "$NS" sh -c 'mount -t dvol -o probe-timeout=$1 "$2" "$3"; rc=$?
	findmnt -rn --mountpoint "$3" >&2 && echo "LEFT MOUNTED" >&2; exit $rc' \
	sh $TIMEOUT "127.0.0.1:/export" "$T/mnt" >/dev/null 2>"$T/err"
rc=$?
check "a reply that crashes libnfs: mount.dvol exits 32 ($rc), its probe child crashed" \
	test $rc -eq 32 -a "$(grep -c 'SEGV' "$T/err")" -ge 1
check "...mount.dvol says the probe ended without a result, and mounted nothing" \
	sh -c "grep -q 'the probe process ended without a result' '$T/err' && ! grep -q 'LEFT MOUNTED' '$T/err' && ! grep -qs '$T/mnt' /run/mount/utab"
check "...and no sanitizer report from mount.dvol itself (only from its probe child)" \
	test "$(grep -c '^==[0-9]*==ERROR' "$T/err")" -eq 1

# A round takes 3 to 10 s: fewer than one per 15 s means the helpers or the server hang.
want=$((${DVOL_WIRE_TIME:-90} / 15))
[ $want -lt 1 ] && want=1
[ -n "${DVOL_WIRE_ROUNDS:-}" ] && [ "$DVOL_WIRE_ROUNDS" -lt $want ] && want=$DVOL_WIRE_ROUNDS
check "at least $want rounds ran ($rounds)" test "$rounds" -ge "$want"
for k in "${!seen[@]}"; do echo "# $k: ${seen[$k]}"; done | sort
done_testing
