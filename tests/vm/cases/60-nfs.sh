#!/bin/bash
# NFS volumes with the guest's kernel NFS server and client: mount -t dvol for v3, v4.1,
# v4.2, a subdir and ro; x-systemd.automount; a blackholed server fails clearly within
# the probe timeout; a server that stalls after the probe fails within mount-timeout=;
# the sandbox's stages. The harness exports /srv/nfs/export (with
# sub/) to 127.0.0.0/8 for v3 and v4.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

E=/srv/nfs/export
M=/mnt/dvol-nfs
mkdir -p "$M" "$M-2" "$M-auto"
echo "from the server" >"$E/sub/hello"

expect_rc 0 "v4.2: mount -t dvol nfs://127.0.0.1$E" mount -t dvol "nfs://127.0.0.1$E" "$M" -o vers=4.2
check "...mounted as nfs4" sh -c "findmnt -rn -o FSTYPE --mountpoint '$M' | grep -qx nfs4"
check "...with vers=4.2" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -q 'vers=4.2'"
check "...utab records the dvol source with dvol.kind=nfs" grep -q "SRC=nfs://127.0.0.1$E TARGET=$M .*dvol.kind=nfs" /run/mount/utab
expect_rc 0 "the same again is a no-op (exit 0)" mount -t dvol "nfs://127.0.0.1$E" "$M" -o vers=4.2
check "...still one mount there" test "$(findmnt -rn --mountpoint "$M" | wc -l)" -eq 1
expect_rc 0 "umount" umount "$M"

expect_rc 0 "v4.1" mount -t dvol "127.0.0.1:$E" "$M" -o vers=4.1
check "...with vers=4.1" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -q 'vers=4.1'"
umount "$M"

expect_rc 0 "v3" mount -t dvol "127.0.0.1:$E" "$M" -o vers=3
check "...mounted as nfs, vers=3" sh -c "findmnt -rn -o FSTYPE,OPTIONS --mountpoint '$M' | grep -q '^nfs .*vers=3'"
umount "$M"

expect_rc 0 "no vers=: the highest the server answers" mount -t dvol "nfs://127.0.0.1$E" "$M"
check "...which is 4.2 for this kernel's server" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -q 'vers=4.2'"
umount "$M"

expect_rc 0 "a subdir of the export" mount -t dvol "nfs://127.0.0.1$E/sub" "$M"
check "...shows the subdir's files" test -e "$M/hello"
umount "$M"

expect_rc 0 "ro" mount -t dvol "nfs://127.0.0.1$E" "$M" -o ro
run_rc touch "$M/x"
check "...writes fail" test "$RC" -ne 0
umount "$M"

# fstab with x-systemd.automount: the mount happens on first access.
echo "nfs://127.0.0.1$E $M-auto dvol x-systemd.automount,_netdev,nofail,probe-timeout=3 0 0" >>/etc/fstab
systemctl daemon-reload
systemctl start "$(systemd-escape -p --suffix=automount "$M-auto")"
check "x-systemd.automount: an autofs trigger is there" sh -c "findmnt -rn -o FSTYPE --mountpoint '$M-auto' | grep -qx autofs"
check "...first access mounts it" sh -c "ls '$M-auto/sub' >/dev/null && findmnt -rn -o FSTYPE '$M-auto' | grep -q nfs4"
systemctl stop "$(systemd-escape -p --suffix=automount "$M-auto")" 2>/dev/null
umount "$M-auto" 2>/dev/null
sed -i "\|$M-auto|d" /etc/fstab
systemctl daemon-reload

# A blackholed server: nothing answers at 127.0.0.2.
nft add table inet dvoltest && nft add chain inet dvoltest in '{ type filter hook input priority 0; }' &&
	nft add rule inet dvoltest in ip daddr 127.0.0.2 drop
s=$(date +%s.%N)
expect_rc 32 "a blackholed server: exit 32" mount -t dvol "nfs://127.0.0.2$E" "$M" -o probe-timeout=3
e=$(date +%s.%N)
echo "# blackholed server: exit 32 after $(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}') s (probe-timeout=3)"
expect_msg "127.0.0.2.*timeout .*no answer within 3.0 s" "...saying the server did not answer within the probe timeout"
check "...nothing mounted" not_mounted "$M"
nft delete table inet dvoltest

# A stopped nfsd: refused.
systemctl stop nfs-server
expect_rc 32 "a stopped nfsd: exit 32" mount -t dvol "nfs://127.0.0.1$E" "$M" -o probe-timeout=3
expect_msg "refused" "...refused"
systemctl start nfs-server

# The kernel mount under its own deadline: the probe passes, then the server's traffic is
# dropped before the kernel mount (the helper waits at DVOL_DEBUG_STOP=act meanwhile).
# The kernel alone would hold mount(2) for minutes.
# The installed helpers are release builds, without DVOL_DEBUG_STOP: the test build's,
# for this one call.
test_hooks on
DVOL_DEBUG_STOP=act setsid mount -t dvol "nfs://127.0.0.2$E" "$M" -o probe-timeout=3,mount-timeout=5 \
	>"$T/stall.out" 2>"$T/stall.err" &
cpid=$!
hpid=$(stopped_helper "$cpid" 300)
check "a stalling server: the helper passed the probe and waits before the kernel mount" test -n "$hpid"
nft add table inet dvolstall && nft add chain inet dvolstall in '{ type filter hook input priority 0; }' &&
	nft add rule inet dvolstall in ip daddr 127.0.0.2 drop
s=$(date +%s.%N)
[ -n "$hpid" ] && kill -CONT "$hpid"
wait "$cpid"
RC=$?
test_hooks off
e=$(date +%s.%N)
ERR=$(cat "$T/stall.err")
el=$(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}')
echo "# stalled kernel mount: exit $RC after $el s (mount-timeout=5)"
check "...exit 32" test "$RC" -eq 32
check "...within the deadline and a margin: $el s < 9" awk -v t="$el" 'BEGIN{exit !(t < 9)}'
expect_msg "did not finish within 5.0 s \(mount-timeout=\)" "...saying the kernel mount did not finish in time"
check "...nothing mounted" not_mounted "$M"
nft delete table inet dvolstall
check "...and the same server mounts once it answers again" \
	sh -c "mount -t dvol 'nfs://127.0.0.2$E' '$M' -o vers=4.2 && umount '$M'"

# A legacy version option is normalised, not passed beside dvol's own vers=.
expect_rc 0 "v4.1 (legacy spelling)" mount -t dvol "nfs://127.0.0.1$E" "$M" -o v4.1
check "...mounted with vers=4.1" sh -c "findmnt -rn -o OPTIONS --mountpoint '$M' | grep -q 'vers=4.1'"
umount "$M"

# The probe runs as nobody, from a port above 1023, against a "secure" export.
expect_rc 0 "the export is 'secure' (the default); the unprivileged probe still finds it" \
	mount -t dvol "nfs://127.0.0.1$E/sub" "$M" -o vers=4.2
umount "$M"

# The sandbox: the process that mounts never had inet (its probe process had it).
st=$(stage_status act mount -t dvol "nfs://127.0.0.1$E" "$M")
check "before the kernel mount: one filter, without inet from the start, NoNewPrivs" \
	sh -c "echo '$st' | grep -q 'NoNewPrivs:1 Seccomp:2 Seccomp_filters:1 '"
check "...and the mount went on" mounted "$M"
umount "$M"

done_testing
