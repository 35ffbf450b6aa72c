#!/bin/bash
# heal (issue: NFS volumes that heal from ESTALE). The export's folder is re-exported from
# a new filesystem, so the server no longer knows the mounts' file handles and they answer
# ESTALE. The watchdog (dvol-heal.timer, every 30 s) puts a fresh mount in the place of
# the one mounted with heal, while a process holding a file open there keeps its old
# handle; the one mounted without heal is left stale and reported. One run at a time
# heals a target, and a failing heal backs off.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

S=/srv/nfs/heal
M=/mnt/dvol-heal
N=/mnt/dvol-noheal
mkdir -p "$S" "$M" "$N"
holder=
cleanup_heal() {
	systemctl stop dvol-heal.timer
	nft delete table inet dvolheal
	umount -l "$M-dead"
	[ -n "$holder" ] && kill "$holder"
	umount -l "$M"
	umount -l "$N"
	exportfs -u "127.0.0.0/8:$S"
	while findmnt -rn --mountpoint "$S" >/dev/null; do umount -l "$S" || break; done
	for l in $(for i in a b c; do losetup -j "$T/$i.img" -O NAME -n; done); do
		losetup -d "$l"
	done
	rm -rf /run/dvol/heal
}
on_exit cleanup_heal

for i in a b c; do
	truncate -s 64M "$T/$i.img" && mkfs.ext4 -q -F "$T/$i.img"
done
mount -o loop "$T/a.img" "$S" && echo "from a" >"$S/marker-a"
exportfs -o rw,sync,no_subtree_check,no_root_squash "127.0.0.0/8:$S"

expect_rc 0 "mount -t dvol -o heal" mount -t dvol "nfs://127.0.0.1$S" "$M" -o heal,vers=4.2
check "...utab records dvol.heal and the options to mount it again with" \
	grep -qE "TARGET=$M .*dvol\.heal,dvol\.opts=\"[^\"]*heal[^\"]*vers=4\.2" /run/mount/utab
expect_rc 0 "again while it answers: nothing to do" mount -t dvol "nfs://127.0.0.1$S" "$M" -o heal,vers=4.2
check "...still one mount there" test "$(findmnt -rn --mountpoint "$M" | wc -l)" -eq 1
expect_rc 0 "the same export on another folder, without heal" \
	mount -t dvol "nfs://127.0.0.1$S" "$N" -o vers=4.2
check "both show the first filesystem" sh -c "test -e '$M/marker-a' && test -e '$N/marker-a'"
expect_rc 0 "the watchdog with nothing stale: exit 0" systemctl start dvol-heal.service

sleep 100000 9<"$M/marker-a" &
holder=$!

# Re-exported from a new filesystem: mounted over the old one, the export's caches flushed.
mount -o loop "$T/b.img" "$S" && echo "from b" >"$S/marker-b"
exportfs -f
stale() {
	ls "$1" >/dev/null 2>"$T/ls.err"
	grep -q 'Stale file handle' "$T/ls.err"
}
check "the export re-exported from a new filesystem: the mounts answer ESTALE" \
	wait_for 60 stale "$N"

expect_rc 0 "systemctl start dvol-heal.timer" systemctl start dvol-heal.timer
t0=$SECONDS
if wait_for 120 test -e "$M/marker-b"; then
	ok "with heal: live again, on the new filesystem, $((SECONDS - t0)) s after the timer started (period 30 s)"
else
	not_ok "with heal: still not live after 120 s"
	journalctl -u dvol-heal.service --no-pager | tail -20 | diag
fi
check "...one mount on $M" test "$(findmnt -rn --mountpoint "$M" | wc -l)" -eq 1
check "...of the same export" sh -c "findmnt -rn -o SOURCE --mountpoint '$M' | grep -qx '127.0.0.1:$S'"
check "...one utab line for it, still with heal" \
	sh -c "test \"\$(grep -c 'TARGET=$M ' /run/mount/utab)\" -eq 1 && grep 'TARGET=$M ' /run/mount/utab | grep -q dvol.heal"
check "...no folder of the fresh mount left" sh -c "! ls /run/dvol/heal | grep -q '^new\.'"
check "...no mount left under /run/dvol/heal" sh -c "! findmnt -rn -o TARGET | grep -q '^/run/dvol/heal'"
check "the process holding a file open is alive and keeps its old handle" \
	sh -c "kill -0 $holder && readlink /proc/$holder/fd/9 | grep -q marker-a"
check "a write through the healed mount lands on the new filesystem" \
	sh -c "echo healed >'$M/written' && test \"\$(cat '$S/written')\" = healed"
check "the journal says it was healed" \
	sh -c "journalctl -u dvol-heal.service --no-pager | grep -q 'healed $M'"
check "without heal: still stale" stale "$N"
check "...and reported as such" \
	sh -c "journalctl -u dvol-heal.service --no-pager | grep -q '$N .*not mounted with heal'"

# One run at a time heals a target.
lock=/run/dvol/heal/$(systemd-escape -p "$M").lock
exec 8>"$lock"
check "the test holds the target's lock" flock -n 8
expect_rc 32 "a run of mount.dvol meanwhile: exit 32" \
	mount -t dvol "nfs://127.0.0.1$S" "$M" -o heal,vers=4.2
expect_msg "another run of mount.dvol is mounting or healing $M" "...saying another run holds it"
exec 8>&-

# A heal that fails backs off: the export goes away, so the fresh mount cannot be made.
systemctl stop dvol-heal.timer
exportfs -u "127.0.0.0/8:$S"
exportfs -f
check "the export withdrawn: the healed mount answers ESTALE" wait_for 60 stale "$M"
backoff=/run/dvol/heal/$(systemd-escape -p "$M").backoff
since=$(date +%s)
run_rc systemctl start dvol-heal.service
check "the watchdog fails while the heal cannot mount (rc=$RC)" test "$RC" -ne 0
journalctl -u dvol-heal.service --since "@$since" --no-pager >"$T/failed.log"
check "...because the mount failed, not because of the lock" \
	sh -c "grep -q 'the heal of $M .*failed' '$T/failed.log' && ! grep -q 'another run' '$T/failed.log'"
check "...and says it once (the journal is its stderr too)" \
	test "$(grep -c "the heal of $M .*failed" "$T/failed.log")" -eq 1
check "...leaving a backoff of one failure" grep -q '^1 ' "$backoff"
since=$(date +%s)
sleep 1
run_rc systemctl start dvol-heal.service
check "a run within the pause does not try again" \
	sh -c "journalctl -u dvol-heal.service --since @$since --no-pager | grep -q '1 heal failed in a row, the next in'"
check "...nor count another failure" grep -q '^1 ' "$backoff"
# Exported again, from a third filesystem: the mount stays stale, and the first run after
# the pause heals it.
mount -o loop "$T/c.img" "$S" && echo "from c" >"$S/marker-c"
exportfs -o rw,sync,no_subtree_check,no_root_squash "127.0.0.0/8:$S"
exportfs -f
check "exported from a third filesystem: still stale" stale "$M"
expect_rc 0 "the first run after the pause heals it" \
	sh -c "sleep 31; systemctl start dvol-heal.service"
check "...live again, on the third filesystem" test -e "$M/marker-c"
check "...and the backoff is cleared" test ! -e "$backoff"

# A mount that answers again by itself (its export came back) leaves no backoff behind.
echo "1 0" >"$backoff"
expect_rc 0 "a run while it answers" systemctl start dvol-heal.service
check "...clears a backoff left from before" test ! -e "$backoff"

# A server that does not answer at all (it half-answers: the mount was made, then its
# traffic is dropped). The watchdog's look at it gives up after 10 s and says so; the
# run ends, and nothing is mounted again.
# NFSv3: a 4.1 client would find 127.0.0.4 the same server as 127.0.0.1 (trunking) and
# go on talking to the one that answers.
H=$M-dead
mkdir -p "$H"
expect_rc 0 "a heal volume through another address of the server (v3)" \
	mount -t dvol "nfs://127.0.0.4$S" "$H" -o heal,vers=3
nft add table inet dvolheal &&
	nft add chain inet dvolheal in '{ type filter hook input priority 0; }' &&
	nft add rule inet dvolheal in ip daddr 127.0.0.4 drop
since=$(date +%s)
s=$SECONDS
expect_rc 0 "its traffic dropped: the watchdog run still ends, exit 0" systemctl start dvol-heal.service
echo "# the watchdog's run with a server that does not answer took $((SECONDS - s)) s"
check "...saying the mount does not answer" \
	sh -c "journalctl -u dvol-heal.service --since @$since --no-pager | grep -q '$H (.*) does not answer within 10 s'"
check "...one mount there still, the same" test "$(findmnt -rn --mountpoint "$H" | wc -l)" -eq 1
nft delete table inet dvolheal
umount -l "$H"

done_testing
