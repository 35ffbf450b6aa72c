#!/bin/bash
# In the guest: the time to a clear error from a blackholed NFS server (nftables drops
# 127.0.0.2), mount -t dvol (probe-timeout=3, the default) against the kernel NFS
# client's own mount with its defaults, v4 and v3, and with soft,timeo=30,retrans=1 (what a
# careful operator would set). Figures go out as "# bench:" lines.
# shellcheck source=../../tests/vm/guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u

nft add table inet dvolbench &&
	nft add chain inet dvolbench in '{ type filter hook input priority 0; }' &&
	nft add rule inet dvolbench in ip daddr 127.0.0.2 drop
mkdir -p /mnt/blackholed

# timed CMD...: run CMD; print "SECONDS EXIT-STATUS".
timed() {
	local s e rc
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	rc=$?
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" -v rc="$rc" 'BEGIN { printf "%.2f %d", e - s, rc }'
}

runs=()
for i in 1 2 3 4 5; do
	read -r t rc < <(timed mount -t dvol nfs://127.0.0.2/srv/nfs/export /mnt/blackholed; echo)
	runs+=("$t")
	check "mount -t dvol on the blackholed server fails with exit 32 (run $i: $t s)" test "$rc" -eq 32
done
med=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
read -r v4 rc < <(timed mount -t nfs4 127.0.0.2:/srv/nfs/export /mnt/blackholed; echo)
check "mount -t nfs4 with defaults fails too (after $v4 s)" test "$rc" -ne 0
read -r v3 rc < <(timed mount -t nfs -o vers=3 127.0.0.2:/srv/nfs/export /mnt/blackholed; echo)
check "mount -t nfs -o vers=3 with defaults fails too (after $v3 s)" test "$rc" -ne 0
# A careful operator's kernel mount: soft, 3 s per try, one retransmission.
read -r vt rc < <(timed mount -t nfs4 -o soft,timeo=30,retrans=1 127.0.0.2:/srv/nfs/export /mnt/blackholed; echo)
check "mount -t nfs4 -o soft,timeo=30,retrans=1 fails too (after $vt s)" test "$rc" -ne 0
check "nothing is mounted" not_mounted /mnt/blackholed
printf '# bench: dvol\t%s\n# bench: nfs4\t%s\n# bench: nfs3\t%s\n# bench: tuned\t%s\n' \
	"$med" "$v4" "$v3" "$vt"
nft delete table inet dvolbench
done_testing
