#!/bin/bash
# Harness self-check: the guest's kernel NFS server exports /srv/nfs/export, and plain
# mount(8) mounts it over loopback with NFSv4 and NFSv3.
# shellcheck source=tests/vm/guest/guest-lib.sh
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh

st=$(systemctl is-active nfs-server.service)
check "nfs-server.service is active (it is: $st)" test "$st" = active
run_rc exportfs -v
echo "$OUT" | diag
check "/srv/nfs/export is exported to 127.0.0.0/8" sh -c "exportfs -v | grep -q '^/srv/nfs/export'"

mkdir -p "$T/v4" "$T/v3"
expect_rc 0 "mount -t nfs4 127.0.0.1:/srv/nfs/export" timeout 60 mount -t nfs4 127.0.0.1:/srv/nfs/export "$T/v4"
check "...findmnt says nfs4" test "$(findmnt -rn -o FSTYPE --mountpoint "$T/v4")" = nfs4
check "...the exported file reads back" grep -q "kernel NFS server" "$T/v4/sub/hello"
echo "through v4" >"$T/v4/written-v4"
check "...and a write lands in the export" test -s /srv/nfs/export/written-v4
umount "$T/v4"

expect_rc 0 "mount -t nfs -o vers=3 127.0.0.1:/srv/nfs/export" timeout 60 mount -t nfs -o vers=3 127.0.0.1:/srv/nfs/export "$T/v3"
check "...findmnt says nfs with vers=3" sh -c "findmnt -rn -o FSTYPE,OPTIONS --mountpoint '$T/v3' | grep -qE '^nfs .*vers=3'"
check "...the exported file reads back" grep -q "kernel NFS server" "$T/v3/sub/hello"
umount "$T/v3"
rm -f /srv/nfs/export/written-v4
done_testing
