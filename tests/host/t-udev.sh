#!/bin/bash
# udev/60-dvol.rules on the host: installed where pkg-config's udevdir says, read by the
# real udev (udevadm test) without one complaint, and inert on a device that is no NVMe.
# On NVMe devices, with a running udev: tests/vm/cases/55-udev-names.sh. That the rules
# and mount.dvol's built-in table list the same models: tests/unit/test-blockdev.c.
. "$(dirname "$0")/lib.sh" "$@"
need udevadm pkg-config make
top=$(cd "$(dirname "$0")/../.." && pwd)
rules=$top/udev/60-dvol.rules

udevdir=$(pkg-config --variable=udevdir udev)
expect_rc 0 "make install DESTDIR=" make --no-print-directory -C "$top" install DESTDIR="$T/inst"
check "...puts 60-dvol.rules into $udevdir/rules.d (pkg-config's udevdir)" \
	cmp -s "$rules" "$T/inst$udevdir/rules.d/60-dvol.rules"
check "no RUN and no PROGRAM in the rules (identity from sysfs attributes only)" \
	sh -c "! grep -vE '^[[:space:]]*(#|\$)' '$rules' | grep -qE '(RUN|PROGRAM|IMPORT\\{program\\})'"
check "remove events are skipped" grep -qx 'ACTION!="add|change", GOTO="dvol_end"' "$rules"

# udevadm test runs the rules for real: in a namespace of its own, /dev, /run and the
# rules directory are scratch tmpfs, so that nothing it writes reaches the host.
dev=$(mkloop 64M udev)
out=$(unshare -m --propagation private sh -c '
	mount -t tmpfs none /etc/udev/rules.d && cp "$1" /etc/udev/rules.d/ &&
	mount -t tmpfs none /run && mount -t tmpfs none /dev &&
	udevadm test --action=add "/sys/class/block/$2" 2>&1' sh "$rules" "${dev#/dev/}")
check "udevadm test read 60-dvol.rules" \
	sh -c "printf '%s\n' \"\$0\" | grep -q 'Reading rules file: /etc/udev/rules.d/60-dvol.rules'" "$out"
if printf '%s\n' "$out" | grep -q '60-dvol.rules:[0-9]'; then
	not_ok "udev has something to say about 60-dvol.rules"
	printf '%s\n' "$out" | grep '60-dvol.rules:[0-9]' | diag
else
	ok "udev has nothing to say about 60-dvol.rules (no invalid key, value or substitution)"
fi
check "a loop device gets no by-dvol name and no prepare unit" \
	sh -c "! printf '%s\n' \"\$0\" | grep -qE 'by-dvol|dvol-prepare'" "$out"

# The check above can fail: a broken line is reported.
sed 's/ENV{DVOL_NSID}="\$attr{nsid}"/ENV{DVOL_NSID}="$attr{nsid"/' "$rules" >"$T/bad.rules"
out=$(unshare -m --propagation private sh -c '
	mount -t tmpfs none /etc/udev/rules.d && cp "$1" /etc/udev/rules.d/60-dvol.rules &&
	mount -t tmpfs none /run && mount -t tmpfs none /dev &&
	udevadm test --action=add "/sys/class/block/$2" 2>&1' sh "$T/bad.rules" "${dev#/dev/}")
check "...and a broken substitution is reported" \
	sh -c "printf '%s\n' \"\$0\" | grep -q '60-dvol.rules:[0-9]'" "$out"
done_testing
