#!/bin/bash
# mount -t dvol for NFS on the host tier: the probe before the mount, against real
# nfs-ganesha in a network namespace this test makes. This kernel has no NFS client, so
# here the kernel mount itself can only fail (it is tested in the VM tier); what is tested
# is that a dead, blackholed or wrong server fails with exit 32, a clear message and
# nothing mounted, that -f shows the exact kernel mount, that the user's NFS options are
# probed and used as given, and the privilege separation: only an unprivileged process
# of its own ever holds a socket to the server.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nfs-lib.sh"
need python3 ss nft

# Ports of this test: 20520-20529.
netns_make mnt NS || { not_ok "cannot make a network namespace"; done_testing; }
check "ganesha v4 is up on 127.0.0.1:20520" nfs_server "$NS" m 20520 4
printf 'table inet dvoltest {\n chain in {\n type filter hook input priority 0;\n ip daddr 127.0.0.2 drop;\n }\n}\n' |
	in_ns "$NS" nft -f - && ok "nft drops everything to 127.0.0.2" || not_ok "nft rule"
M=$T/mnt
mkdir -p "$M"
nothing_here() { not_mounted "$M" && ! grep -qs "TARGET=$M " /run/mount/utab; }
KERNEL_NFS=$(grep -qw nfs4 /proc/filesystems && echo yes || echo no)
echo "# kernel NFS client on this host: $KERNEL_NFS"

# --- failures before any mount --------------------------------------------------------------
expect_rc 32 "a closed port: exit 32" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20529/m "$M"
expect_msg "NFS server 127.0.0.1:20529 \(127.0.0.1\) is not usable: refused" "...naming the server and the class"
expect_msg "tried: TCP port 20529" "...saying what was tried"
expect_msg "answered: no TCP connection" "...and what answered"
check "...nothing mounted, nothing in utab" nothing_here

start=$(date +%s.%N)
expect_rc 32 "a blackholed server with probe-timeout=1: exit 32" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.2/m "$M" -o probe-timeout=1
end=$(date +%s.%N)
echo "# blackholed, probe-timeout=1: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s to exit 32"
expect_msg "127.0.0.2.*timeout \(TCP connect to 127.0.0.2 port 2049: no answer within 1.0 s\)" "...saying nothing answered within the probe timeout"
check "...nothing mounted" nothing_here

kill -STOP "$(nfs_pid m)"
expect_rc 32 "a server that accepts and never answers: exit 32" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o probe-timeout=1
expect_msg "timeout \(connected to 127.0.0.1 port 20520, but no RPC reply within 1.0 s" "...saying it connected but got no reply"
kill -CONT "$(nfs_pid m)"

expect_rc 32 "a missing export: exit 32" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/nope "$M"
expect_msg "export-missing \(the server at 127.0.0.1 answers, but has no export /nope\)" "...saying the export is missing"
expect_msg "answered: TCP ok; NFS versions answering: 4.2,4.1,4.0" "...and what the server does answer"
check "...nothing mounted" nothing_here

expect_rc 32 "vers=3 from a v4-only server: exit 32" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o vers=3
expect_msg "rpc-mismatch \(NFS 3 was asked for" "...rpc-mismatch, naming the version"

expect_rc 1 "vers=5: usage, exit 1" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o vers=5
expect_msg "vers=5" "...naming the option"
expect_rc 1 "mkfs= on an NFS source: usage" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o mkfs=xfs
expect_rc 32 "a mount point that does not exist: exit 32" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$T/none"

# --- retry= --------------------------------------------------------------------------------
expect_rc 32 "retry=2 on a closed port: exit 32 after retrying" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20529/m "$M" -o retry=2,probe-timeout=1
expect_msg "probed again until retry= ran out" "...and it says it retried"
expect_rc 32 "retry=30 with a missing export: a permanent error is not retried" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/nope "$M" -o retry=30
check "...so the message says no retry happened" sh -c "! echo '$ERR' | grep -q 'probed again'"
(sleep 1.5; nfs_server "$NS" late 20521 4 >/dev/null) &
late=$!
run_rc in_ns "$NS" mount -t dvol nfs://127.0.0.1:20521/late "$M" -o retry=30,probe-timeout=1
wait $late
if [ "$KERNEL_NFS" = no ]; then
	check "retry=30: a server that comes up later is probed ok, then the kernel mount is tried" \
		sh -c "[ $RC -eq 32 ] && echo '$ERR' | grep -q 'this kernel has no NFS client'"
else
	check "retry=30: a server that comes up later is mounted" test "$RC" -eq 0
	umount "$M" 2>/dev/null
fi

# --- -f: the probe result and the exact kernel mount ------------------------------------------
expect_rc 0 "-f on a live server: exit 0" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m/sub "$M" -o ro,nconnect=4
echo "$OUT" | diag
check "-f: prints the probe result" sh -c "echo '$OUT' | grep -q '^probe: .*ok in .*NFS versions answering: 4.2,4.1,4.0; .*export /m/sub present'"
check "-f: the kernel mount: highest version first, resolved addr, port, the user's option, ro" \
	sh -c "echo '$OUT' | grep -qF 'action:   mount(\"127.0.0.1:/m/sub\", \"$M\", \"nfs4\", MS:ro, \"vers=4.2,addr=127.0.0.1,port=20520,nconnect=4\")'"
check "-f: then the next versions down, 4.0 with clientaddr=" \
	sh -c "echo '$OUT' | grep -qF '\"vers=4.0,addr=127.0.0.1,clientaddr=127.0.0.1,port=20520,nconnect=4\"'"
check "-f: nothing mounted" nothing_here
expect_rc 0 "-f with vers=4.1: only that version" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o vers=4.1
check "-f: one mount line, vers=4.1" sh -c "[ \$(echo '$OUT' | grep -c 'mount(') -eq 1 ] && echo '$OUT' | grep -q 'vers=4.1,addr=127.0.0.1'"
expect_rc 32 "-f on a dead server: exit 32 (the dry run probes too)" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20529/m "$M"

# --- the kernel mount --------------------------------------------------------------------------
if [ "$KERNEL_NFS" = no ]; then
	expect_rc 32 "a live server, but no kernel NFS client here: exit 32" \
		in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M"
	expect_msg "this kernel has no NFS client \(vers=4.2: No such device; vers=4.1: No such device; vers=4.0: No such device\)" \
		"...after trying each version the server offered, highest first"
	check "...nothing mounted, nothing in utab" nothing_here
else
	ok "# SKIP this kernel has an NFS client: the kernel mount is tested in the VM tier"
fi

st=$(stage_status resolve ip netns exec "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M")
echo "# probing stage: $st"
sandbox_check "probing stage: Seccomp: 2, one filter, NoNewPrivs: 1" sh -c "echo '$st' | grep -q 'NoNewPrivs:1 Seccomp:2 Seccomp_filters:1 '"
st=$(stage_status act ip netns exec "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M")
echo "# mount stage: $st"
sandbox_check "mount stage: the same single filter: the process that mounts never had inet to drop" sh -c "echo '$st' | grep -q 'NoNewPrivs:1 Seccomp:2 Seccomp_filters:1 '"
# While it waits on a blackholed server it is in its probing stage.
in_ns "$NS" mount -t dvol nfs://127.0.0.2/m "$M" -o probe-timeout=3 >/dev/null 2>&1 &
bg=$!
sleep 0.5
st=''
for hp in $(ours mount.dvol); do
	[ "$(awk '/^State:/{print $2}' /proc/"$hp"/status 2>/dev/null)" = S ] || continue
	st="$st$(awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/"$hp"/status 2>/dev/null)| "
done
echo "# waiting on a blackholed server, each mount.dvol: $st"
sandbox_check "waiting on a blackholed server: both processes (it and its probe) confined: Seccomp: 2, a filter, NoNewPrivs: 1" \
	sh -c "[ \"\$(echo '$st' | grep -oE 'NoNewPrivs:1 Seccomp:2 Seccomp_filters:[1-9] ' | wc -l)\" -eq 2 ]"
wait $bg
check "...and then it failed with exit 32" test $? -eq 32

# --- privilege separation: who holds the socket while the probe waits ----------------------
# status PID: "uid=R,E,S,F gid=... caps=CAPEFF nnp=N filters=N"
status() {
	awk '/^Uid:/{u=$2","$3","$4","$5} /^Gid:/{g=$2","$3","$4","$5} /^CapEff:/{c=$2}
		/^NoNewPrivs:/{n=$2} /^Seccomp_filters:/{f=$2}
		END{printf "uid=%s gid=%s caps=%s nnp=%s filters=%s", u, g, c, n, f}' /proc/"$1"/status 2>/dev/null
}
# sockets PID: how many sockets PID holds open.
sockets() { find /proc/"$1"/fd -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l; }
in_ns "$NS" mount -t dvol nfs://127.0.0.2/m "$M" -o probe-timeout=4 >/dev/null 2>&1 &
bg=$!
holders='' pids=''
for _ in $(seq 50); do
	# The processes with a TCP socket to the blackholed server, from the kernel's table.
	holders=$(in_ns "$NS" ss -tanp dst 127.0.0.2 | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
	# Live ones: a probe process that handed its result over may linger as a zombie.
	pids=$(for h in $(ours mount.dvol); do
		[ "$(awk '/^State:/{print $2}' /proc/"$h"/status 2>/dev/null)" != Z ] && echo "$h"
	done)
	[ -n "$holders" ] && [ "$(echo "$pids" | wc -w)" -ge 2 ] && break
	sleep 0.1
done
echo "# mount.dvol processes: $(echo $pids); holding a socket to the server: $(echo $holders)"
for h in $(ours mount.dvol); do echo "# $h: $(awk '/^State:/{print $2}' /proc/"$h"/status) $(status "$h") fds: $(sockets "$h")"; done
check "while probing: two mount.dvol processes, and exactly one holds the socket" \
	test "$(echo "$pids" | wc -w)" -eq 2 -a "$(echo "$holders" | wc -w)" -eq 1
check "...the one with the socket is a mount.dvol of this run" sh -c "echo '$pids' | grep -qx '$holders'"
sandbox_check "...it is not root: every uid and gid 65534, no capabilities, NoNewPrivs, a filter" \
	sh -c "[ \"\$(awk '/^Uid:|^Gid:/{print \$2,\$3,\$4,\$5} /^CapEff:/{print \$2} /^NoNewPrivs:/{print \$2}' /proc/$holders/status | tr '\n' ' ')\" = '65534 65534 65534 65534 65534 65534 65534 65534 0000000000000000 1 ' ]"
parent=$(for h in $pids; do [ "$h" != "$holders" ] && echo "$h"; done | head -1)
check "...the other one (root, which will mount) holds no socket at all" \
	test -n "$parent" -a "$(sockets "$parent")" -eq 0
timing_check "...and it is the parent of the prober" \
	test "$(awk '/^PPid:/{print $2}' /proc/"$holders"/status 2>/dev/null)" = "$parent"
wait $bg
check "...and then the mount failed with exit 32" test $? -eq 32

# --- the user's NFS options: probed and used as given, or refused ------------------------------
expect_rc 0 "port= given (no port in the source): the probe goes there" \
	in_ns "$NS" mount -f -t dvol 127.0.0.1:/m "$M" -o port=20520,vers=4.1
check "...and the kernel mount uses it" sh -c "echo '$OUT' | grep -qF '\"vers=4.1,addr=127.0.0.1,port=20520\"'"
expect_rc 0 "addr= given: that address is probed instead of the name" \
	in_ns "$NS" mount -f -t dvol nfs://nfs.invalid:20520/m "$M" -o addr=127.0.0.1,vers=4.2
check "...and the kernel mount names it" sh -c "echo '$OUT' | grep -qF '\"vers=4.2,addr=127.0.0.1,port=20520\"'"
expect_rc 0 "clientaddr= given: used as given, not the probe's own end" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o vers=4.0,clientaddr=192.0.2.9
check "...clientaddr=192.0.2.9" sh -c "echo '$OUT' | grep -qF '\"vers=4.0,addr=127.0.0.1,clientaddr=192.0.2.9,port=20520\"'"
expect_rc 0 "legacy v4.1: normalised to dvol's vers=4.1, one mount, never passed beside it" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o v4.1,nconnect=2
check "...exactly one mount line, with vers=4.1 and no v4.1" \
	sh -c "[ \$(echo '$OUT' | grep -c 'mount(') -eq 1 ] && echo '$OUT' | grep -qF '\"vers=4.1,addr=127.0.0.1,port=20520,nconnect=2\"'"
expect_rc 1 "vers=4.1 with nfsvers=3: usage (exit 1)" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o vers=4.1,nfsvers=3
expect_msg "option 'nfsvers=3' names another NFS version" "...naming the option that disagrees"
expect_rc 1 "proto=udp: usage (exit 1), the probe speaks TCP" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o proto=udp
expect_msg "option 'proto=udp' is a transport dvol cannot probe" "...saying why"
expect_rc 1 "port=20521 against the source's :20520: usage" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o port=20521
expect_rc 0 "mount-timeout=7: the kernel mount's deadline, not a kernel option" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o mount-timeout=7,vers=4.2
check "...the plan names it, and no mount line carries it" \
	sh -c "echo '$OUT' | grep -q 'deadline: the kernel mount within 7.0 s' && ! echo '$OUT' | grep 'mount(' | grep -q timeout"
expect_rc 0 "no mount-timeout=: 10 probe timeouts" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o probe-timeout=2
check "...20.0 s" sh -c "echo '$OUT' | grep -q 'deadline: the kernel mount within 20.0 s'"
expect_rc 1 "mount-timeout=soon: usage" in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o mount-timeout=soon

# --- cache=local: fsc for the kernel, and the host's cache said when there is none ---------------
# This kernel has no FS-Cache (no /proc/fs/fscache): the mount goes on uncached, and says so.
expect_rc 0 "cache=local: the plan mounts with fsc" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache=local,vers=4.2,nconnect=2
check "...fsc and a superblock of its own after the user's options, and cache= itself never reaches the kernel" \
	sh -c "echo '$OUT' | grep -qF '\"vers=4.2,addr=127.0.0.1,port=20520,nconnect=2,fsc,nosharecache\"' && ! echo '$OUT' | grep 'mount(' | grep -q 'cache='"
if [ -e /proc/fs/fscache/caches ] && grep -q ' A ' /proc/fs/fscache/caches; then
	skip "...no cache active: this host has one"
else
	check "...the plan says no cache is active" sh -c "echo '$OUT' | grep -q '^cache: *local: mounted with fsc; no FS-Cache cache is active'"
	expect_msg "WARNING: cache=local: no FS-Cache cache is active on this host .*, so nfs://127.0.0.1:20520/m is read from its server, uncached" "...and warns, naming the volume"
fi
expect_rc 0 "cache=local with fsc given too: fsc once" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o fsc,cache=local,vers=4.2
check "...one fsc" sh -c "echo '$OUT' | grep -qF '\"vers=4.2,addr=127.0.0.1,port=20520,fsc,nosharecache\"'"
expect_rc 0 "cache=local with sharecache given: no nosharecache added" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache=local,sharecache,vers=4.2
check "...sharecache as given, and fsc" sh -c "echo '$OUT' | grep -qF '\"vers=4.2,addr=127.0.0.1,port=20520,sharecache,fsc\"'"
expect_rc 1 "cache=local with nofsc: usage" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache=local,nofsc
expect_msg "options 'cache=local' and 'nofsc' do not go together" "...naming both"
expect_rc 1 "cache-size= without cache=local: usage" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache-size=10G
expect_msg "option 'cache-size=' says where the local read cache lives, and 'cache=local' is not given" "...saying what is missing"
expect_rc 1 "cache-dir=relative: usage" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache=local,cache-dir=fscache
expect_rc 1 "cache=local on a folder: usage, an NFS export's option" mount -f -t dvol "$T" "$M" -o cache=local
expect_msg "option 'cache' does not apply to a folder" "...saying so"
expect_rc 0 "cache=none: no fsc" in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20520/m "$M" -o cache=none,vers=4.2
check "...and no cache row" sh -c "! echo '$OUT' | grep -q 'fsc' && ! echo '$OUT' | grep -q 'sharecache' && ! echo '$OUT' | grep -q '^cache:'"

# --- a name server that never answers: the name is resolved within probe-timeout= --------------
check "a name server that never answers, in $NS" hung_resolver "$NS"
start=$(date +%s.%N)
run_rc with_resolv ip netns exec "$NS" mount -t dvol nfs.example:/export "$M" -o probe-timeout=1
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
check "a name that does not resolve in time: exit 32 (rc=$RC)" test "$RC" -eq 32
expect_msg "unresolvable \(the name resolver gave no answer for nfs.example within 1.0 s\)" "...saying the resolver did not answer in time"
timing_check "...within probe-timeout=1 and a margin: ${elapsed} ms < 3000 (the resolver alone takes 10 s)" test "$elapsed" -lt 3000
printf '127.0.0.1 nfs-by-name.test\n' >"$T/hosts-local"
expect_rc 0 "a name from /etc/hosts, resolved by the probe process's resolver thread in its sandbox" \
	with_hosts "$T/hosts-local" ip netns exec "$NS" mount -f -t dvol nfs://nfs-by-name.test:20520/m "$M" -o vers=4.2
check "...the kernel mount gets its address" sh -c "echo '$OUT' | grep -qF '\"vers=4.2,addr=127.0.0.1,port=20520\"'"

# --- servers that answer, but not NFS ---------------------------------------------------------
fake_server "$NS" garbage 20522 garbage && fake_server "$NS" nullonly 20523 nullonly ||
	not_ok "fake servers did not come up"
start=$(date +%s.%N)
expect_rc 32 "a server that answers garbage, with retry=30: exit 32" \
	in_ns "$NS" mount -t dvol nfs://127.0.0.1:20522/m "$M" -o retry=30,probe-timeout=1
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%d", (b-a)*1000}')
expect_msg "is not usable: protocol-error" "...protocol-error"
check "...not retried: no 'probed again', and done in ${elapsed} ms < 5000 (retry=30)" \
	sh -c "! echo '$ERR' | grep -q 'probed again' && [ $elapsed -lt 5000 ]"
expect_rc 32 "a server that answers NULL but no COMPOUND: exit 32, even with -f" \
	in_ns "$NS" mount -f -t dvol nfs://127.0.0.1:20523/m "$M"
expect_msg "rpc-mismatch .*NULL, but no COMPOUND" "...rpc-mismatch, saying so"
check "...nothing mounted" nothing_here

# --- writer=exclusive: its staging folder -------------------------------------------------------
# An export with writer=exclusive is mounted first in /run/dvol/heal/new.PID, and moved from
# there. A run killed in between leaves the folder, maybe mounted (read-write, without a
# lease): the next run clears what no running mount.dvol owns, and leaves the others.
mkdir -p /run/dvol
mount -t tmpfs -o mode=0700 dvol-run /run/dvol
mkdir -p /run/dvol/heal
sleep 0 &
gone=$!
wait "$gone"
cp "$(command -v sleep)" "$T/mount.dvol"
"$T/mount.dvol" 600 &
alive=$!
mkdir "/run/dvol/heal/new.$gone" "/run/dvol/heal/new.$$" "/run/dvol/heal/new.$alive"
mount -t tmpfs left1 "/run/dvol/heal/new.$gone"
mount -t tmpfs left2 "/run/dvol/heal/new.$gone"
run_rc in_ns "$NS" mount -t dvol nfs://127.0.0.1:20520/m "$M" -o writer=exclusive,probe-timeout=2
printf '%s\n' "$ERR" | diag
check "writer=exclusive on an export: the run got past the probe to its mount (rc=$RC)" \
	test "$KERNEL_NFS" = yes -o "$RC" = 32
check "...the folder of a run that is gone: removed" test ! -e "/run/dvol/heal/new.$gone"
check "...its two mounts with it" sh -c "! findmnt -rn -S left1 >/dev/null && ! findmnt -rn -S left2 >/dev/null"
check "...said so" grep -q "new.$gone: unmounted what a run of mount.dvol that ended before it was done left mounted" <<<"$ERR"
check "...a folder named for a process that is not mount.dvol: removed" test ! -e "/run/dvol/heal/new.$$"
check "...a running mount.dvol's: kept" test -d "/run/dvol/heal/new.$alive"
check "...and none of the run's own is left" \
	test "$(find /run/dvol/heal -maxdepth 1 -name 'new.*' | wc -l)" = 1
kill "$alive"
umount /run/dvol/heal/* 2>/dev/null
umount /run/dvol

done_testing
