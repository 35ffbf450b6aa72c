#!/bin/bash
# dvol-nfs-wait@.service, as a mount would require it: for a server that comes up late it
# waits and succeeds once the server answers; for one that never does it fails at its
# deadline (DVOL_NFS_WAIT), not before and not much after. The guest's own nfsd serves
# 127.0.0.0/8; nftables drops 127.0.0.4 (late) and 127.0.0.5 (never).
# shellcheck source=../guest/guest-lib.sh
. /dvol-tests/guest-lib.sh
set -u
need systemd-escape nft

nft add table inet dvolwait &&
	nft add chain inet dvolwait in '{ type filter hook input priority 0; }' &&
	nft add rule inet dvolwait in ip daddr 127.0.0.4 drop &&
	nft add rule inet dvolwait in ip daddr 127.0.0.5 drop
on_exit nft delete table inet dvolwait
now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", e - s }'; }

# Deadlines shorter than the default 90 s, in runtime drop-ins, as an operator would set
# them: 40 s for the late server (it is let through after about 6 s), 20 s for the other.
unit() { echo "dvol-nfs-wait@$(systemd-escape "$1").service"; }
late=$(unit nfs://127.0.0.4/srv/nfs/export)
never=$(unit nfs://127.0.0.5/srv/nfs/export)
for uw in "$late:40" "$never:20"; do
	u=${uw%:*}
	mkdir -p "/run/systemd/system/$u.d"
	printf '[Service]\nEnvironment=DVOL_NFS_WAIT=%s\n' "${uw##*:}" >"/run/systemd/system/$u.d/wait.conf"
	on_exit rm -rf "/run/systemd/system/$u.d"
done
systemctl daemon-reload
check "the instance names its target: $late" \
	sh -c "systemctl show -p ExecStart --value '$late' | grep -q 'nfs://127.0.0.4/srv/nfs/export'"

# --- a server that comes up late --------------------------------------------------------
t0=$(now)
systemctl start --no-block "$late"
sleep 6
check "6 s in, with the server still blackholed, it is still waiting (activating)" \
	test "$(systemctl show -p ActiveState --value "$late")" = activating
nft flush chain inet dvolwait in
nft add rule inet dvolwait in ip daddr 127.0.0.5 drop
t1=$(now)
for _ in $(seq 60); do
	st=$(systemctl show -p ActiveState --value "$late")
	[ "$st" = activating ] || break
	sleep 0.5
done
t2=$(now)
echo "# the late server was let through after $(secs "$t0" "$t1") s; the unit left activating $(secs "$t1" "$t2") s later"
check "once the server answers, the unit is active (was: $st)" test "$st" = active
check "...within its deadline (40 s from the start)" awk -v s="$t0" -v e="$t2" 'BEGIN { exit !(e - s < 40) }'
check "...and within a few probe rounds of the server answering" \
	awk -v s="$t1" -v e="$t2" 'BEGIN { exit !(e - s < 10) }'
systemctl stop "$late"

# --- a server that never does ------------------------------------------------------------
t0=$(now)
run_rc timeout 120 systemctl start "$never"
t1=$(now)
el=$(secs "$t0" "$t1")
echo "# the unit for the server that never answers failed after $el s (DVOL_NFS_WAIT=20)"
check "for a server that never answers, starting the unit fails (rc=$RC)" test "$RC" -ne 0 -a "$RC" -ne 124
check "...and the unit is failed" systemctl is-failed -q "$never"
check "...not before its deadline (20 s): $el s" awk -v e="$el" 'BEGIN { exit !(e >= 19.5) }'
# Loose: the deadline plus one probe-timeout round and the unit's start-up, not minutes.
check "...nor long after it: $el s < 35 s" awk -v e="$el" 'BEGIN { exit !(e < 35) }'
run_rc journalctl -b -u "$never" -o cat --no-pager
ERR=$OUT
expect_msg "127\.0\.0\.5" "...the journal names the server"
expect_msg "timeout" "...and says it did not answer in time"
systemctl reset-failed "$never" 2>/dev/null
done_testing
