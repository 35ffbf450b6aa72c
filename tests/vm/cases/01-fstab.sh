#!/bin/bash
# An fstab line of type dvol is mounted at boot by systemd's fstab generator, through
# mount.dvol: /srv/cache /data dvol create,mode=0755 0 0 (baked into the image).
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

check "mount.dvol is installed where mount(8) looks for helpers" test -x /sbin/mount.dvol
check "the fstab line is there" grep -qE '^/srv/cache[[:space:]]+/data[[:space:]]+dvol[[:space:]]' /etc/fstab
check "systemd made data.mount from it" sh -c 'systemctl cat data.mount | grep -q "^What=/srv/cache"'
st=$(systemctl is-active data.mount)
check "data.mount is active (it is: $st)" test "$st" = active
check "findmnt shows /data" mounted /data
run_rc findmnt -rn -o SOURCE,TARGET --mountpoint /data
echo "# findmnt: $OUT"
check "...bound from the root filesystem's /srv/cache" sh -c "echo '$OUT' | grep -q '\[/srv/cache\] /data'"
check "create made the source folder" test -d /srv/cache
check "...with mode 0755" test "$(stat -c %a /srv/cache)" = 755
check "utab records the dvol source" grep -q "SRC=/srv/cache TARGET=/data .*ATTRS=dvol.kind=bind" /run/mount/utab
ino_src=$(stat -c %d:%i /srv/cache)
ino_dst=$(stat -c %d:%i /data)
check "/data and /srv/cache are the same folder" test "$ino_src" = "$ino_dst"
echo "written in boot 1" >/data/boot1-marker
check "a file written on /data lands in /srv/cache" test -s /srv/cache/boot1-marker
check "the unit's log names no failure" sh -c '! journalctl -b -u data.mount --no-pager | grep -qi fail'
done_testing
