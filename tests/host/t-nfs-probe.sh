#!/bin/bash
# dvol-nfs-probe against real nfs-ganesha servers in network namespaces this test makes:
# v4 alone, v3 with rpcbind, a closed port, a missing export, a blackholed address, a
# server that stops answering or dies mid-probe, 256 targets at once, half dead, a name
# server that never answers, servers that answer garbage, and the probe's privileges.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nfs-lib.sh"
need python3 prlimit ss nft

P=/usr/sbin/dvol-nfs-probe
# Ports of this test: 20510-20519 (and MOUNT ports 1000 above).
netns_make v4 N4 && netns_make v3 N3 || { not_ok "cannot make network namespaces"; done_testing; }
check "ganesha v4-only is up on 127.0.0.1:20510 (no rpcbind)" nfs_server "$N4" v4 20510 4
check "ganesha v3+v4 is up on 127.0.0.1:20511 with rpcbind" nfs_server "$N3" v3 20511 3,4 21511
# Packets to 127.0.0.2 vanish: a blackholed server.
printf 'table inet dvoltest {\n chain in {\n type filter hook input priority 0;\n ip daddr 127.0.0.2 drop;\n }\n}\n' |
	in_ns "$N4" nft -f - && ok "nft drops everything to 127.0.0.2 in $N4" || not_ok "nft rule"

# jf FILE JQ-EXPR: the expression must be true for the (single-object) JSON in FILE.
jf() { jq -e "$2" "$1" >/dev/null; }
# jfs FILE JQ-EXPR: the same over every object of FILE at once (as one array).
jfs() { jq -e -s "$2" "$1" >/dev/null; }

# --- v4 ----------------------------------------------------------------------------------
expect_rc 0 "v4 server with its export: exit 0" in_ns "$N4" $P --json nfs://127.0.0.1:20510/v4
echo "$OUT" >"$T/v4.json"
check "json: one object, on one line (stdout is no tty)" test "$(wc -l <"$T/v4.json")" -eq 1
check "json: target as given" jf "$T/v4.json" '.target == "nfs://127.0.0.1:20510/v4"'
check "json: host, port, export" jf "$T/v4.json" '.host == "127.0.0.1" and .port == 20510 and .export == "/v4"'
check "json: ok true, no error key" jf "$T/v4.json" '.ok == true and (has("error") | not)'
check "json: address and client_address" jf "$T/v4.json" '.address == "127.0.0.1" and .client_address == "127.0.0.1"'
check "json: tcp true" jf "$T/v4.json" '.tcp == true'
check "json: versions exactly 4.2, 4.1, 4.0 (no v3)" jf "$T/v4.json" '.versions == ["4.2","4.1","4.0"]'
check "json: highest_version 4.2" jf "$T/v4.json" '.highest_version == "4.2"'
check "json: no portmapper here (none in this namespace)" jf "$T/v4.json" '.portmapper == false'
check "json: mount unknown without a portmapper: key omitted" jf "$T/v4.json" 'has("mount") | not'
check "json: export_v4 true (PUTROOTFH+LOOKUP)" jf "$T/v4.json" '.export_v4 == true'
check "json: rtt_ms > 0 from 3 samples" jf "$T/v4.json" '.rtt_ms > 0 and .rtt_samples == 3'
check "json: elapsed_ms is a number" jf "$T/v4.json" '.elapsed_ms | type == "number"'

expect_rc 0 "a subdir of the export is found" in_ns "$N4" $P --json --rtt 0 nfs://127.0.0.1:20510/v4/sub
check "...and --rtt 0 measures nothing (keys omitted)" sh -c "echo '$OUT' | jq -e 'has(\"rtt_ms\") | not' >/dev/null"
expect_rc 0 "vers=4.1 asked, the server has it" in_ns "$N4" $P --json "nfs://127.0.0.1:20510/v4?vers=4.1"
check "json: vers echoes the request" sh -c "echo '$OUT' | jq -e '.vers == \"4.1\"' >/dev/null"

expect_rc 2 "a missing export: exit 2" in_ns "$N4" $P --json nfs://127.0.0.1:20510/nope
echo "$OUT" >"$T/miss.json"
check "json: error export-missing" jf "$T/miss.json" '.ok == false and .error == "export-missing"'
check "json: the server did answer (versions, export_v4 false)" jf "$T/miss.json" '(.versions | length) == 3 and .export_v4 == false'
check "json: detail names the export" jf "$T/miss.json" '.detail | test("/nope")'

expect_rc 2 "vers=3 on a v4-only server: exit 2" in_ns "$N4" $P --json "nfs://127.0.0.1:20510/v4?vers=3"
check "json: error rpc-mismatch" sh -c "echo '$OUT' | jq -e '.error == \"rpc-mismatch\"' >/dev/null"

expect_rc 2 "a closed port: exit 2" in_ns "$N4" $P --json 127.0.0.1:20519
echo "$OUT" >"$T/closed.json"
check "json: error refused, errno ECONNREFUSED, tcp false" jf "$T/closed.json" '.error == "refused" and .errno == "ECONNREFUSED" and .tcp == false'
check "json: no versions key when there was no connection" jf "$T/closed.json" 'has("versions") | not'

expect_rc 2 "IPv6 literal where nothing listens: refused" in_ns "$N4" $P --json '[::1]:20510'
check "json: address ::1" sh -c "echo '$OUT' | jq -e '.address == \"::1\" and .error == \"refused\"' >/dev/null"
expect_rc 2 "a name that does not resolve: exit 2" in_ns "$N4" $P --json no-such-host.invalid
check "json: error unresolvable, no address" sh -c "echo '$OUT' | jq -e '.error == \"unresolvable\" and (has(\"address\") | not)' >/dev/null"
run_rc in_ns "$N4" $P --json localhost:20510
check "a name is resolved (localhost: an address is reported)" sh -c "echo '$OUT' | jq -e '.address | test(\"^(127\\\\.0\\\\.0\\\\.1|::1)$\")' >/dev/null"

# The human table says the same things.
expect_rc 2 "table output: exit 2 when one target fails" in_ns "$N4" $P nfs://127.0.0.1:20510/v4 127.0.0.1:20519
check "table: the good target is ok with its versions" sh -c "echo '$OUT' | grep -E '^nfs://127.0.0.1:20510/v4 +127.0.0.1 +ok +4.2,4.1,4.0'"
check "table: the closed port is refused, with why" sh -c "echo '$OUT' | grep -q '127.0.0.1:20519: refused: TCP connect to 127.0.0.1 port 20519: Connection refused'"

# --- v3 with rpcbind ----------------------------------------------------------------------
V3P="$T/nfs-v3/export"
expect_rc 2 "host:/export form means port 2049, where nothing listens here: exit 2" \
	in_ns "$N3" $P --json --exports "127.0.0.1:$V3P"
echo "$OUT" >"$T/v3.json"
check "json: port 2049, refused" jf "$T/v3.json" '.port == 2049 and .error == "refused"'
check "json: ...while the portmapper and MOUNT on the same host answer" jf "$T/v3.json" '.portmapper and .mount and .export_v3'
expect_rc 0 "v3 server on its port: exit 0" in_ns "$N3" $P --json --exports "nfs://127.0.0.1:20511$V3P"
echo "$OUT" >"$T/v3.json"
check "json: versions include 3 and 4.x" jf "$T/v3.json" '(.versions | index("3")) and (.versions | index("4.0"))'
check "json: portmapper true, mount true, mount_port 21511" jf "$T/v3.json" '.portmapper == true and .mount == true and .mount_port == 21511'
check "json: exports lists the export" sh -c "jq -e --arg p '$V3P' '.exports == [\$p]' '$T/v3.json' >/dev/null"
check "json: export_v3 true" jf "$T/v3.json" '.export_v3 == true'
expect_rc 0 "vers=3 on the v3 server" in_ns "$N3" $P --json "nfs://127.0.0.1:20511$V3P/sub?vers=3"
expect_rc 2 "vers=3 with a missing v3 export: exit 2" in_ns "$N3" $P --json --exports "nfs://127.0.0.1:20511/srv/none?vers=3"
check "json: export-missing, export_v3 false, and the list is there" sh -c "echo '$OUT' | jq -e '.error == \"export-missing\" and .export_v3 == false and (.exports | length) >= 1' >/dev/null"

# --- the deadline -------------------------------------------------------------------------
start=$(date +%s.%N)
expect_rc 2 "a blackholed address: exit 2" in_ns "$N4" $P --json --timeout 1 127.0.0.2:20510
end=$(date +%s.%N)
echo "$OUT" >"$T/bh.json"
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
check "...in one timeout and a margin, start-up included: ${elapsed} ms < 3000" test "$elapsed" -lt 3000
check "json: error timeout, tcp false" jf "$T/bh.json" '.error == "timeout" and .tcp == false'
check "json: detail says what got no answer" jf "$T/bh.json" '.detail | test("TCP connect to 127.0.0.2 port 20510: no answer within 1.0 s")'
echo "# blackholed, --timeout 1: $(jq .elapsed_ms "$T/bh.json") ms"

# A server that accepts (the kernel does, for a stopped process) and never answers.
kill -STOP "$(nfs_pid v4)"
expect_rc 2 "a stopped server (accepts, never answers): exit 2" in_ns "$N4" $P --json --timeout 1 nfs://127.0.0.1:20510/v4
check "json: timeout after a TCP connection" sh -c "echo '$OUT' | jq -e '.error == \"timeout\" and .tcp == true' >/dev/null"
check "json: detail says connected, but no RPC reply" sh -c "echo '$OUT' | jq -e '.detail | test(\"connected to 127.0.0.1 port 20510, but no RPC reply\")' >/dev/null"
kill -CONT "$(nfs_pid v4)"
expect_rc 0 "the same server, continued, answers again" in_ns "$N4" $P --json nfs://127.0.0.1:20510/v4

# The sandbox while it waits on the network, of the process that holds the socket.
# inet_socks PID: how many of PID's sockets are IPv4/IPv6 ones (their inodes listed in its
# network namespace's /proc/net/{tcp,udp}{,6}).
inet_socks() {
	local i n=0
	for i in $(find /proc/"$1"/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
		awk -v i="$i" '$10 == i { f = 1 } END { exit !f }' /proc/"$1"/net/tcp \
			/proc/"$1"/net/tcp6 /proc/"$1"/net/udp /proc/"$1"/net/udp6 && n=$((n + 1))
	done
	echo $n
}
in_ns "$N4" $P --timeout 5 127.0.0.2:20510 >/dev/null 2>&1 &
bg=$!
hp=
for _ in $(seq 50); do
	for p in $(ours dvol-nfs-probe); do [ "$(inet_socks "$p")" -gt 0 ] && hp=$p; done
	[ -n "$hp" ] && break
	sleep 0.1
done
sleep 0.3
pp=$(awk '/^PPid:/{print $2}' /proc/"$hp"/status 2>/dev/null)
check "while probing: the socket is a probe process's, a child of dvol-nfs-probe" \
	test -n "$hp" -a "$(cat /proc/"$pp"/comm 2>/dev/null)" = dvol-nfs-probe
check "...and dvol-nfs-probe itself holds no inet socket" test "$(inet_socks "$pp")" -eq 0
st=$(awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/"$hp"/status 2>/dev/null)
echo "# while probing: $st"
sandbox_check "while probing: Seccomp: 2" sh -c "echo '$st' | grep -q 'Seccomp:2 '"
sandbox_check "while probing: Seccomp_filters >= 1" sh -c "echo '$st' | grep -qE 'Seccomp_filters:[1-9]'"
sandbox_check "while probing: NoNewPrivs: 1" sh -c "echo '$st' | grep -q 'NoNewPrivs:1 '"
check "while probing, started as root: no capabilities left (CapEff 0)" \
	test "$(awk '/^CapEff:/{print $2}' /proc/"$hp"/status 2>/dev/null)" = 0000000000000000
ids=$(awk '/^(Uid|Gid):/{printf "%s %s %s %s %s ", $1, $2, $3, $4, $5} /^Groups:/{printf "Groups:%s", $2}' /proc/"$hp"/status 2>/dev/null)
echo "# while probing: $ids"
check "while probing, started as root: it is nobody (every uid and gid 65534, no groups)" \
	test "$ids" = "Uid: 65534 65534 65534 65534 Gid: 65534 65534 65534 65534 Groups:"
wait $bg
DVOL_DEBUG_STOP=probe in_ns "$N4" $P 127.0.0.1:20510 >/dev/null 2>&1 &
bg=$!
# The stopped one is the probe process (dvol-nfs-probe waits for it, not stopped).
hp=
for _ in $(seq 50); do
	for p in $(ours dvol-nfs-probe); do
		[ "$(awk '/^State:/{print $2}' /proc/"$p"/status 2>/dev/null)" = T ] && hp=$p
	done
	[ -n "$hp" ] && break
	sleep 0.1
done
st=$(awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/"$hp"/status 2>/dev/null)
echo "# stopped before the first packet: $st"
sandbox_check "before the first packet (DVOL_DEBUG_STOP=probe): Seccomp:2, one filter, NoNewPrivs:1" \
	sh -c "echo '$st' | grep -q 'NoNewPrivs:1 Seccomp:2 Seccomp_filters:1 '"
ids=$(awk '/^(Uid|Gid):/{printf "%s %s %s %s %s ", $1, $2, $3, $4, $5} /^Groups:/{printf "Groups:%s", $2} /^CapEff:/{c = $2} END {printf " CapEff:%s", c}' /proc/"$hp"/status 2>/dev/null)
check "...the stopped probe process is nobody, no groups, no capabilities ($ids)" \
	test "$ids" = "Uid: 65534 65534 65534 65534 Gid: 65534 65534 65534 65534 Groups: CapEff:0000000000000000"
kill -CONT "$hp"
wait $bg
check "...and it went on to probe after SIGCONT (exit 0)" test $? -eq 0

expect_rc 0 "as an unprivileged user (nobody)" in_ns "$N4" setpriv --reuid 65534 --regid 65534 --clear-groups $P nfs://127.0.0.1:20510/v4

# --- many at once -------------------------------------------------------------------------
targets=()
for i in $(seq 0 127); do
	targets+=("nfs://127.0.0.1:20510/v4" "127.0.0.2:$((30000 + i))")
done
start=$(date +%s.%N)
run_rc in_ns "$N4" $P --json --timeout 2 "${targets[@]}"
end=$(date +%s.%N)
echo "$OUT" >"$T/many.json"
echo "# 256 targets, 128 blackholed, --timeout 2: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s"
check "256 targets: exit 2 (some failed)" test "$RC" -eq 2
check "256 targets: 256 objects, one per line" test "$(wc -l <"$T/many.json")" -eq 256
timing_check "256 targets: every live one is ok with its export" \
	test "$(jq -c 'select(.address == "127.0.0.1") | select(.ok and .export_v4 and .versions == ["4.2","4.1","4.0"])' "$T/many.json" | wc -l)" -eq 128
check "256 targets: every blackholed one is a timeout with no TCP" \
	test "$(jq -c 'select(.address == "127.0.0.2") | select(.error == "timeout" and .tcp == false)' "$T/many.json" | wc -l)" -eq 128
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
check "256 targets, half blackholed: done within 3 timeouts (a serial prober needs 128): ${elapsed} ms < 6000" \
	test "$elapsed" -lt 6000
check "256 targets: reported in the order given" \
	test "$(jq -r .target "$T/many.json" | head -2 | tr '\n' ' ')" = "nfs://127.0.0.1:20510/v4 127.0.0.2:30000 "

# --- names: resolved within the deadline, all at once, every address tried --------------------
check "a name server that reads every query and never answers, in $N4" hung_resolver "$N4"
start=$(date +%s.%N)
run_rc with_resolv ip netns exec "$N4" $P --json --timeout 2 slow-name.example nfs://127.0.0.1:20510/v4
end=$(date +%s.%N)
echo "$OUT" >"$T/slow.json"
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
echo "# a hung resolver and a healthy server, --timeout 2: ${elapsed} ms"
check "hung resolver: the healthy target beside it is ok" \
	jfs "$T/slow.json" '.[] | select(.target == "nfs://127.0.0.1:20510/v4") | .ok'
jq -c . "$T/slow.json" | diag
check "hung resolver: the name is unresolvable, the resolver gave no answer within 2.0 s" \
	jfs "$T/slow.json" '.[] | select(.target == "slow-name.example") | .error == "unresolvable" and (.detail | test("no answer for slow-name.example within 2.0 s"))'
check "hung resolver: the run takes under 2 timeouts (the resolver alone would take 10 s): ${elapsed} ms < 4000" \
	test "$elapsed" -lt 4000
names=()
for i in $(seq 1 8); do names+=("slow-$i.example"); done
start=$(date +%s.%N)
run_rc with_resolv ip netns exec "$N4" $P --json --timeout 1 "${names[@]}"
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
timing_check "8 names on a hung resolver are resolved at once: ${elapsed} ms < 3000 (one after another: 8 s)" \
	test "$elapsed" -lt 3000
printf '::1 multi.test\n127.0.0.1 multi.test\n' >"$T/hosts-multi"
run_rc with_hosts "$T/hosts-multi" ip netns exec "$N4" getent ahostsv6 multi.test
echo "$OUT" | diag
run_rc with_hosts "$T/hosts-multi" ip netns exec "$N4" $P --json nfs://multi.test:20510/v4
echo "$OUT" >"$T/multi.json"
check "a name with ::1 first (refused: ganesha is on 127.0.0.1 only) and 127.0.0.1: ok" jf "$T/multi.json" '.ok'
check "...on the address that answered" jf "$T/multi.json" '.address == "127.0.0.1"'

# --- servers that answer, but not NFS --------------------------------------------------------
fakes() {
	fake_server "$N4" garbage 20513 garbage && fake_server "$N4" huge 20514 huge &&
		fake_server "$N4" flood 20515 flood && fake_server "$N4" nullonly 20516 nullonly
}
check "fake servers are up (garbage, a huge record marker, a flood, NULL without COMPOUND)" fakes
for c in garbage:20513 huge:20514 flood:20515; do
	expect_rc 2 "a server that sends ${c%%:*}: exit 2" in_ns "$N4" $P --json --timeout 3 "127.0.0.1:${c#*:}"
	echo "$OUT" >"$T/${c%%:*}.json"
	check "...protocol-error (not refused, which retry= would retry)" jf "$T/${c%%:*}.json" '.error == "protocol-error" and .tcp == true'
	jq -r .detail "$T/${c%%:*}.json" | diag
done
check "...the flood does not hold the probe past its deadline (3 s)" jf "$T/flood.json" '.elapsed_ms < 3500'
expect_rc 2 "a server that answers NULL but no COMPOUND: exit 2 (not ok)" in_ns "$N4" $P --json --timeout 2 nfs://127.0.0.1:20516/x
echo "$OUT" >"$T/nullonly.json"
check "...rpc-mismatch: NULL, but no COMPOUND" jf "$T/nullonly.json" '.ok == false and .error == "rpc-mismatch" and (.detail | test("NULL, but no COMPOUND"))'
check "...no highest_version a mount could use beyond plain 4" jf "$T/nullonly.json" '.versions == ["4"]'

# --- local limits are not the server's fault ---------------------------------------------------
bh=()
for i in $(seq 0 19); do bh+=("127.0.0.2:$((31000 + i))"); done
expect_rc 2 "out of file descriptors (prlimit --nofile=16, 20 targets): exit 2" \
	in_ns "$N4" prlimit --nofile=16 $P --json --timeout 1 "${bh[@]}"
echo "$OUT" >"$T/emfile.json"
check "...the targets past the limit are local-error EMFILE" \
	test "$(jq -c 'select(.error == "local-error" and .errno == "EMFILE" and (.detail | test("ulimit -n")))' "$T/emfile.json" | wc -l)" -ge 5
check "...and none of them is called unreachable" \
	test "$(jq -c 'select(.error == "unreachable")' "$T/emfile.json" | wc -l)" -eq 0

# --- --wait -------------------------------------------------------------------------------
(sleep 1.5; nfs_server "$N4" late 20512 4 >/dev/null) &
late=$!
expect_rc 0 "--wait: a server that comes up later is waited for" in_ns "$N4" $P --json --wait 30 --timeout 1 nfs://127.0.0.1:20512/late
check "...after more than one attempt" sh -c "echo '$OUT' | jq -e '.ok and .attempts > 1' >/dev/null"
wait $late
expect_rc 2 "--wait gives up when the time is over" in_ns "$N4" $P --json --wait 1 --timeout 1 127.0.0.1:20519

# --- a server killed in mid-probe ----------------------------------------------------------
kill -STOP "$(nfs_pid v4)"
in_ns "$N4" $P --json --timeout 10 nfs://127.0.0.1:20510/v4 >"$T/killed.json" 2>"$T/killed.err" &
bg=$!
sleep 1
kill -9 "$(nfs_pid v4)"
wait $bg
check "killed mid-probe: exit 2" test $? -eq 2
timing_check "killed mid-probe: the verdict comes when the server dies, not at the 10 s deadline" jf "$T/killed.json" '.elapsed_ms < 5000'
check "killed mid-probe: refused, the server closed the connection" jf "$T/killed.json" '.error == "refused" and .tcp == true and (.detail | test("closed the connection"))'
echo "# killed mid-probe, --timeout 10: verdict after $(jq .elapsed_ms "$T/killed.json") ms"

# --- usage --------------------------------------------------------------------------------
expect_rc 1 "no target: usage (exit 1)" $P
expect_rc 1 "a bad target: usage" $P 'nfs://bad host/x'
expect_msg "target 'nfs://bad host/x'" "...naming the target"
expect_rc 1 "a bad --timeout: usage" $P --timeout soon 127.0.0.1
expect_rc 0 "--help" $P --help
expect_rc 0 "--version names libnfs" $P --version
check "...it does" sh -c "echo '$OUT' | grep -q libnfs"

done_testing
