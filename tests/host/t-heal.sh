#!/bin/bash
# heal, as far as this kernel goes (it has no NFS client: a stale NFS mount, the fresh
# mount and the watchdog's heal are the VM tier's, tests/vm/cases/61-heal.sh): the option
# is NFS's alone, one run at a time holds a target's lock, and the watchdog leaves what is
# not a stale NFS mount of dvol's alone.
. "$(dirname "$0")/lib.sh" "$@"

# /run/dvol is this test's own.
mkdir -p /run/dvol
mount -t tmpfs -o mode=0700 dvol-run /run/dvol

mkdir -p "$T/src" "$T/dst" "$T/nfs"
expect_rc 1 "heal on a folder: a usage error" mount -t dvol "$T/src" "$T/dst" -o heal
expect_msg "option 'heal' does not apply to a folder" "...saying heal is for NFS"
check "...nothing mounted" not_mounted "$T/dst"
expect_rc 1 "heal=1: a usage error" mount -t dvol "nfs://127.0.0.1/export" "$T/nfs" -o heal=1
expect_msg "heal=1' takes no value" "...saying heal takes no value"

# The lock is taken before anything else: a second run finds it held and does nothing.
lock=/run/dvol/heal/$(systemd-escape -p "$T/nfs").lock
mkdir -p /run/dvol/heal
exec 8>"$lock"
check "the test holds the target's lock" flock -n 8
expect_rc 32 "heal while another run holds the target's lock: exit 32" \
	mount -t dvol "nfs://127.0.0.1/export" "$T/nfs" -o heal,probe-timeout=1
expect_msg "another run of mount.dvol is mounting or healing $T/nfs" "...naming the target"
check "...nothing mounted" not_mounted "$T/nfs"
exec 8>&-

# A link planted where heal keeps its locks and makes its fresh mounts: refused, and
# nothing is made through it.
mkdir -p "$T/elsewhere"
rm -rf /run/dvol/heal
ln -s "$T/elsewhere" /run/dvol/heal
expect_rc 32 "/run/dvol/heal a symbolic link: exit 32" \
	mount -t dvol "nfs://127.0.0.1/export" "$T/nfs" -o heal,probe-timeout=1
expect_msg "/run/dvol/heal, or a folder above it, is a symbolic link" "...naming it"
check "...nothing made where it points" test -z "$(ls -A "$T/elsewhere")"
check "...nothing mounted" not_mounted "$T/nfs"
rm /run/dvol/heal
# (A link higher up, at /run/dvol, is test-heal's: /run here is the host's own.)

# The watchdog: a bind of dvol's, and a line of an NFS volume whose mount is gone, are
# not its business; it exits 0 and changes nothing.
expect_rc 0 "a bind of dvol's" mount -t dvol "$T/src" "$T/dst"
printf 'SRC=nfs://127.0.0.1/gone TARGET=%s/nfs ROOT=/ ATTRS=dvol.kind=nfs,dvol.heal,dvol.opts="heal"\n' \
	"$T" >>/run/mount/utab
cp /run/mount/utab "$T/utab.before"
n_before=$(findmnt -rn | wc -l)
expect_rc 0 "dvol-volumes heal with nothing stale: exit 0" dvol-volumes heal
check "...mounts nothing" test "$(findmnt -rn | wc -l)" -eq "$n_before"
check "...leaves utab as it was" cmp -s /run/mount/utab "$T/utab.before"
check "...and runs no heal" test ! -e "/run/dvol/heal/$(systemd-escape -p "$T/nfs").backoff"
expect_rc 1 "dvol-volumes heal takes no kernel name" dvol-volumes heal nvme1n1
umount "$T/dst"

done_testing
