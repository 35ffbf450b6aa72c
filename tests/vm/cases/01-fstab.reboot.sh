#!/bin/bash
# After a reboot of the same guest, the dvol fstab line is mounted at boot again.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

st=$(systemctl is-active data.mount)
check "data.mount is active again after the reboot (it is: $st)" test "$st" = active
check "findmnt shows /data" mounted /data
check "utab records the dvol source" grep -q "SRC=/srv/cache TARGET=/data .*ATTRS=dvol.kind=bind" /run/mount/utab
check "the file written to /data in boot 1 is there" grep -q "boot 1" /data/boot1-marker
done_testing
