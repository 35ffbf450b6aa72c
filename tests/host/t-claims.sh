#!/bin/bash
# Claims of the README and the man page that no other test holds to: -n records nothing,
# a utab that cannot be written is exit 16 (mounted, and said so), and an existing folder
# or filesystem root is never chmod'ed or chown'ed.
. "$(dirname "$0")/lib.sh" "$@"
need stat findmnt

in_utab() { grep -qs "TARGET=$1\( \|\$\)" /run/mount/utab; }

mkdir -p "$T/src" "$T/dst"

# --- -n: mounted, not recorded ---------------------------------------------------------
expect_rc 0 "mount -n -t dvol: a bind with no utab entry" mount -n -t dvol "$T/src" "$T/dst"
check "...mounted" mounted "$T/dst"
check "...and not in utab" sh -c "! grep -qs 'TARGET=$T/dst' /run/mount/utab"
umount "$T/dst"
expect_rc 0 "without -n, the same bind" mount -t dvol "$T/src" "$T/dst"
check "...is in utab (so the check above can fail)" in_utab "$T/dst"
umount "$T/dst"

# --- exit 16: utab cannot be written -------------------------------------------------
mount -o remount,ro /run/mount
expect_rc 16 "utab on a read-only /run/mount: exit 16" mount -t dvol "$T/src" "$T/dst"
expect_msg "mounted on .*recording it in utab failed" "...and the message says it is mounted but not recorded"
check "...and it is mounted (16 means mounted, record missing)" mounted "$T/dst"
umount "$T/dst" 2>/dev/null
mount -o remount,rw /run/mount
check "utab is writable again" touch /run/mount/.w

# The lock cannot be taken either: utab.lock is a folder where libmount wants a file.
rm -f /run/mount/utab /run/mount/utab.lock
mkdir /run/mount/utab.lock
expect_rc 16 "utab's lock cannot be taken: exit 16" mount -t dvol "$T/src" "$T/dst"
check "...and it is mounted" mounted "$T/dst"
umount "$T/dst" 2>/dev/null
rmdir /run/mount/utab.lock

# --- an existing folder is never chmod'ed or chown'ed ---------------------------------
mkdir -p "$T/have"
chown 0:0 "$T/have"
chmod 0751 "$T/have"
before=$(stat -c '%a %u %g' "$T/have")
expect_rc 0 "bind an existing folder with create,mode=0700,uid=4242,gid=4243" \
	mount -t dvol "$T/have" "$T/dst" -o create,mode=0700,uid=4242,gid=4243
check "...its mode and owner are unchanged ($before)" \
	test "$(stat -c '%a %u %g' "$T/have")" = "$before"
umount "$T/dst" 2>/dev/null
expect_rc 0 "create,mode=0700,uid=4242,gid=4243 on a missing folder" \
	mount -t dvol "$T/made/here" "$T/dst" -o create,mode=0700,uid=4242,gid=4243
check "...makes it with them (so the check above can fail)" \
	test "$(stat -c '%a %u %g' "$T/made/here")" = "700 4242 4243"
umount "$T/dst" 2>/dev/null

# ...nor the root of a filesystem this run did not make.
d=$(mkloop 256M claims)
expect_rc 0 "mkfs=ext4,mode=0755 on a blank device" mount -t dvol "$d" "$T/dst" -o mkfs=ext4,mode=0755
chmod 0751 "$T/dst"
chown 0:0 "$T/dst"
umount "$T/dst"
expect_rc 0 "the same device again with mode=0700,uid=4242" \
	mount -t dvol "$d" "$T/dst" -o mkfs=ext4,mode=0700,uid=4242,gid=4243
check "...its root keeps 751 0 0" test "$(stat -c '%a %u %g' "$T/dst")" = "751 0 0"
umount "$T/dst" 2>/dev/null

# --- make check as another user fails loudly --------------------------------------------
# The host and VM tiers need root; run as nobody they skip as a whole, and the summary
# must fail the run unless the skip is asked for, and say what was skipped.
need setpriv
here=$(cd "$(dirname "$0")/.." && pwd)
cp -r "$here" "$T/tests"
mkdir -p "$T/nb"
chmod 0777 "$T/nb"
chmod -R a+rX "$T/tests"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
expect_rc 0 "host tier run as nobody: it skips (and says so on stderr)" as_nobody "$T/tests/host/run" "$T/nb"
expect_msg "needs root" "...naming what it needs"
expect_rc 0 "VM tier run as nobody: it skips too" as_nobody "$T/tests/vm/run" "$T/nb"
check "...both wrote a whole-tier skip" sh -c "grep -q '^1..0 # SKIP' '$T/nb/results/host.tap' && grep -q '^1..0 # SKIP' '$T/nb/results/vm.tap'"
expect_rc 1 "the summary of those runs fails" env -u DVOL_ALLOW_SKIP "$T/tests/tap-summary" "$T/nb/results"
expect_msg "host: the whole tier was skipped .*DVOL_ALLOW_SKIP=host" "...saying which tier and how to accept it"
check "...and its closing lines say what was skipped" sh -c "printf '%s' '$OUT' | grep -q '^skipped: host (not root) vm (not root)'"
expect_rc 1 "DVOL_ALLOW_SKIP=host alone still fails (vm was skipped too)" \
	env DVOL_ALLOW_SKIP=host "$T/tests/tap-summary" "$T/nb/results"
expect_rc 0 "DVOL_ALLOW_SKIP=host,vm accepts both" env DVOL_ALLOW_SKIP=host,vm "$T/tests/tap-summary" "$T/nb/results"
check "...and still says what was skipped" sh -c "printf '%s' '$OUT' | grep -q '^skipped: '"

done_testing
