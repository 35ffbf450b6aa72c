#!/bin/bash
# dvol-gc under systemd: the timer is active and fires the service, the service runs under
# its hardening and cleans a configured root, a root left out of ReadWritePaths= fails as
# read-only; an NFS mount recorded by dvol whose export was removed is reported as ESTALE
# and detached only with --unmount-stale.
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

NOW=$(date +%s)
mkf() { mkdir -p "$(dirname "$1")" && head -c 4096 /dev/zero >"$1" && touch -h -d "@$((NOW - $2 * 86400))" "$1"; }

# --- a configured root, made writable to the unit by a drop-in -------------------------
R=/var/cache/dvol-vm-gc
mkf "$R/old/a" 100
mkf "$R/old/b" 100
mkf "$R/new" 0
mkdir -p /etc/dvol/gc.d /etc/systemd/system/dvol-gc.service.d
# Its files were made just now (their ctime says so): grace=0 lets their old times count.
printf '%s  vm  max-age=30d,grace=0\n' "$R" >/etc/dvol/gc.d/70-vm.conf
printf '[Service]\nReadWritePaths=%s\n' "$R" >/etc/systemd/system/dvol-gc.service.d/70-vm.conf
systemctl daemon-reload

expect_rc 0 "systemctl enable --now dvol-gc.timer" systemctl enable --now dvol-gc.timer
check "the timer is active" test "$(systemctl is-active dvol-gc.timer)" = active
next=$(systemctl show dvol-gc.timer -p NextElapseUSecRealtime --value)
check "...and has a next elapse ($next)" test -n "$next"

# The timer fires: a drop-in makes it elapse 5 s after it is restarted.
mkdir -p /run/systemd/system/dvol-gc.timer.d
printf '[Timer]\nOnActiveSec=5s\nRandomizedDelaySec=0\n' >/run/systemd/system/dvol-gc.timer.d/fire.conf
systemctl daemon-reload
systemctl restart dvol-gc.timer
fired=
for _ in $(seq 120); do
	ts=$(systemctl show dvol-gc.service -p ExecMainExitTimestampMonotonic --value)
	[ -n "$ts" ] && [ "$ts" != 0 ] && fired=1 && break
	sleep 1
done
check "the timer fired the service within 2 minutes" test -n "$fired"
check "...which succeeded" test "$(systemctl show dvol-gc.service -p Result --value)" = success
check "...and removed the files older than 30 days" sh -c "[ ! -e $R/old/a ] && [ ! -e $R/old/b ]"
check "...and the folder they left empty" test ! -e "$R/old"
check "...and kept the new file" test -f "$R/new"
run_rc journalctl -u dvol-gc.service -o cat --no-pager
echo "$OUT" | tail -5 | diag
check "the journal has the summary line for the root" \
	sh -c "printf '%s\n' \"\$0\" | grep -q '^$R (vm): .* evicted 2 files'" "$OUT"
rm -rf /run/systemd/system/dvol-gc.timer.d
systemctl daemon-reload

# --- the hardening, as systemd applies it -----------------------------------------------
show() { systemctl show dvol-gc.service -p "$1" --value; }
check "ProtectSystem=strict" test "$(show ProtectSystem)" = strict
check "PrivateNetwork=yes" test "$(show PrivateNetwork)" = yes
check "NoNewPrivileges=yes" test "$(show NoNewPrivileges)" = yes
check "ProtectHome=read-only" test "$(show ProtectHome)" = read-only
check "a system-call filter is set, without mount" sh -c "f=\$(systemctl show dvol-gc.service -p SystemCallFilter --value); echo \"\$f\" | grep -qw statx && ! echo \"\$f\" | grep -qw mount"
check "ReadWritePaths has the root from the drop-in" sh -c "systemctl show dvol-gc.service -p ReadWritePaths --value | grep -q '$R'"
check "the capability bounding set is three capabilities" test \
	"$(show CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')" = "cap_dac_override cap_dac_read_search cap_fowner "

# A root the unit was not told about is read-only to it: the run fails, and says why.
R2=/var/cache/dvol-vm-gc-unlisted
mkf "$R2/old" 100
printf '%s  unlisted  max-age=30d\n' "$R2" >/etc/dvol/gc.d/71-unlisted.conf
systemctl start dvol-gc.service
check "a root left out of ReadWritePaths= fails the service (exit 2)" \
	test "$(systemctl show dvol-gc.service -p ExecMainStatus --value)" = 2
check "...and the file stays" test -f "$R2/old"
check "...and the journal says to add it to ReadWritePaths=" \
	sh -c "journalctl -u dvol-gc.service -o cat --no-pager | grep -q 'read-only here.*ReadWritePaths'"
rm -f /etc/dvol/gc.d/71-unlisted.conf
rm -rf "$R2"

# --- ESTALE: a dvol NFS mount whose export went away ----------------------------------------
E=/srv/nfs/export/gc-stale
M=$T/stale
mkdir -p "$E" "$M"
echo x >"$E/file"
expect_rc 0 "mount -t dvol the export's gc-stale folder over NFSv4" \
	timeout 60 mount -t dvol "nfs://127.0.0.1$E" "$M" -o vers=4.2
check "...recorded by mount.dvol in utab (dvol.kind=nfs)" \
	grep -q "TARGET=$M .*dvol.kind=nfs" /run/mount/utab
rm -rf "$E"
expect_rc 0 "dvol-gc with the export's folder removed on the server (exit 0: a report)" \
	dvol-gc --json --config /dev/null
check "...the JSON reports the mount as ESTALE" sh -c "printf '%s' '$OUT' | jq -e '.stale.nfs_estale[0].target == \"$M\"' >/dev/null"
expect_msg "stale \\(ESTALE\\).*--unmount-stale" "...and the warning says how to detach it"
check "...and it is still mounted" mounted "$M"
expect_rc 0 "dvol-gc --unmount-stale" dvol-gc --json --unmount-stale --config /dev/null
check "...reports it detached" sh -c "printf '%s' '$OUT' | jq -e '.stale.unmounted[0].target == \"$M\"' >/dev/null"
check "...it is no longer mounted" not_mounted "$M"
check "...and its utab entry is gone" sh -c "! grep -q 'TARGET=$M ' /run/mount/utab"

rm -f /etc/dvol/gc.d/70-vm.conf /etc/systemd/system/dvol-gc.service.d/70-vm.conf
systemctl daemon-reload
rm -rf "$R"
done_testing
