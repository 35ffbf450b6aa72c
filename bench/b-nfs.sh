#!/bin/bash
# dvol-nfs-probe on 256 endpoints, half of them blackholed, at once; against a serial
# loop probing the same endpoints one at a time with the same timeout. Real nfs-ganesha
# in a network namespace made here; the blackhole is an nft drop rule on 127.0.0.2.
. "$(dirname "$0")/lib.sh" "$@"
T=$B
CLEANUPS=()
on_exit() { CLEANUPS+=("$*"); }
diag() { sed 's/^/# /' >&2; }
# shellcheck source=../tests/host/nfs-lib.sh
. "$(dirname "$0")/../tests/host/nfs-lib.sh"
cleanup() {
	local c
	for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
	umount -R "$B" 2>/dev/null
	rmdir "$B" 2>/dev/null
}
trap cleanup EXIT

netns_make bench NS
nfs_server "$NS" b 20530 4 >&2
printf 'table inet dvolbench {\n chain in {\n type filter hook input priority 0;\n ip daddr 127.0.0.2 drop;\n }\n}\n' |
	in_ns "$NS" nft -f -
timeout=${BENCH_NFS_TIMEOUT:-0.5}
targets=""
for i in $(seq 0 127); do targets="$targets nfs://127.0.0.1:20530/b 127.0.0.2:$((30000 + i))"; done
echo "$targets" | tr ' ' '\n' | grep . >"$B/targets"
cat >"$B/serial.sh" <<S
: >"$B/serial.out"
while read -r t; do /usr/sbin/dvol-nfs-probe --json --timeout ${timeout} "\$t" >>"$B/serial.out"; done <"$B/targets"
S
P="ip netns exec $NS /usr/sbin/dvol-nfs-probe --json --timeout $timeout $targets"
# -i: exit 2 is the expected answer (half the targets fail). So check the answers: every
# live target ok, every blackholed one a timeout, in the timed commands' own output.
# answers FILE: "OK TIMEOUT OTHER" counts of a --json stream.
answers() {
	jq -rs '[(map(select(.ok == true)) | length), (map(select(.ok != true and .error == "timeout")) | length),
		(map(select(.ok != true and .error != "timeout")) | length)] | join(" ")' "$1"
}
$P >"$B/par.out" || true
[ "$(answers "$B/par.out")" = "128 128 0" ] ||
	fail "the parallel probe answered $(answers "$B/par.out") (ok, timeout, other), not 128 128 0"
hyperfine -N --style none --runs "${BENCH_RUNS_NFS:-5}" -i --export-json "$B/par.json" "$P" >/dev/null
hyperfine --style none --runs 1 -i --export-json "$B/ser.json" \
	"ip netns exec $NS bash $B/serial.sh" >/dev/null
[ "$(answers "$B/serial.out")" = "128 128 0" ] ||
	fail "the serial loop answered $(answers "$B/serial.out") (ok, timeout, other), not 128 128 0"
d=$(hyperfine_median "$B/par.json" 0)
a=$(hyperfine_median "$B/ser.json" 0)
s() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
row "NFS probe, 256 endpoints, 128 blackholed, timeout ${timeout} s" "$(s "$d")" \
	"serial loop, one at a time" "$(s "$a")" "$(ratio "$d" "$a")x" ""
row "  the same, against one timeout" "$(s "$d")" "one timeout" "$(s "$timeout")" \
	"$(ratio "$d" "$timeout")x" "<= 1.2x"
