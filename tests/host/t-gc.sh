#!/bin/bash
# dvol-gc on real trees: budgets by size, age and free space; an adversarial tree (links
# out of the root, mounts inside it, locks, FIFOs, sockets, hard links, a folder swapped
# for a symlink mid-walk); dry runs; .dvol-keep; configuration errors; JSON; stale utab.
. "$(dirname "$0")/lib.sh" "$@"

NOW=$(date +%s)
# mkf PATH KIB DAYS_OLD: a file of KIB KiB last used DAYS_OLD days ago (atime = mtime).
mkf() {
	mkdir -p "$(dirname "$1")"
	head -c "$(($2 * 1024))" /dev/zero >"$1"
	touch -h -d "@$((NOW - $3 * 86400))" "$1"
}
old() { touch -h -d "@$((NOW - ${2:-100} * 86400))" "$1"; }
tree() { (cd "$1" && find . -mindepth 1 | sort); }

# --- budget by size ----------------------------------------------------------------------
R=$T/size
for i in 1 2 3 4 5 6 7 8 9 10; do mkf "$R/d$((i % 3))/f$i" 1024 "$i"; done
mkf "$R/fresh" 1024 0 # within the grace period, whatever the budget
expect_rc 0 "max-size 4M on 11 MiB: runs" dvol-gc --root "$R" --max-size 4M --grace 0
# 11 MiB, the file under grace included: 7 MiB must go, the oldest first.
check "the seven oldest files went (f4..f10)" \
	sh -c "! ls $R/d*/f4 $R/d*/f5 $R/d*/f6 $R/d*/f7 $R/d*/f8 $R/d*/f9 $R/d*/f10 2>/dev/null"
check "the three youngest stayed (f1..f3)" sh -c "ls $R/d1/f1 $R/d2/f2 $R/d0/f3 >/dev/null"
check "a file within the grace period stayed" test -f "$R/fresh"
check "the root is within its 4 MiB" test "$(du -sk "$R" | cut -f1)" -le $((4 * 1024 + 16))
check "the summary names the root and the counts" \
	sh -c "echo '$OUT' | grep -q '^$R: 11 files .* evicted 7 files (7.0M)'"

# --- budget by age; empty folders --------------------------------------------------------
R=$T/age
mkf "$R/a/b/old1" 4 40
mkf "$R/a/old2" 4 31
mkf "$R/a/new" 4 29
mkf "$R/c/old3" 4 60
mkdir -p "$R/empty-before"
expect_rc 0 "max-age 30d: runs" dvol-gc --root "$R" --max-age 30d --grace 0
check "files older than 30 days went" sh -c "! ls $R/a/b/old1 $R/a/old2 $R/c/old3 2>/dev/null"
check "a file 29 days old stayed" test -f "$R/a/new"
check "folders left empty went (a/b, c)" sh -c "[ ! -e $R/a/b ] && [ ! -e $R/c ]"
check "a folder that still holds a file stayed (a)" test -d "$R/a"
check "a folder that was empty before is left alone" test -d "$R/empty-before"
mkf "$R/a/new" 4 100
rm -rf "$R/empty-before"
expect_rc 0 "the root itself is never removed" dvol-gc --root "$R" --max-age 30d --grace 0
check "...the root exists and is empty" sh -c "[ -d $R ] && [ -z \"\$(ls -A $R)\" ]"

# --- budget by free space, on a filesystem of its own -------------------------------------
R=$T/small
mkdir -p "$R"
mount -t tmpfs -o size=16m dvol-gc-small "$R"
for i in $(seq 1 12); do mkf "$R/f$i" 1024 "$i"; done
expect_rc 0 "min-free 50% on a 16 MiB tmpfs holding 12 MiB" dvol-gc --root "$R" --min-free 50% --grace 0
avail=$(df -k --output=avail "$R" | tail -1)
check "at least 8 MiB are free afterwards ($avail KiB)" test "$avail" -ge 8192
kept=$(ls "$R" | sed 's/f//' | sort -n | tail -1)
gone=$(for i in $(seq 1 12); do [ -e "$R/f$i" ] || echo "$i"; done | sort -n | head -1)
check "the oldest went first (youngest removed: $gone days, oldest kept: $kept days)" \
	test "${gone:-0}" -gt "${kept:-99}"
check "no more than needed went (f1..f7 stay)" sh -c "ls $R/f1 $R/f7 >/dev/null"

# --- grace --------------------------------------------------------------------------------
R=$T/grace
mkdir -p "$R"
head -c 4096 /dev/zero >"$R/ten-minutes"
touch -d "@$((NOW - 600))" "$R/ten-minutes"
expect_rc 0 "max-age 1s with the default grace of 1h" dvol-gc --root "$R" --max-age 1s
check "a file used 10 minutes ago stayed" test -f "$R/ten-minutes"
# Its ctime says it arrived just now, and grace counts from that too (see t-gc-safety).
sleep 2
expect_rc 0 "...and with --grace 1s, two seconds after it arrived" \
	dvol-gc --root "$R" --max-age 1s --grace 1s
check "...it went" test ! -e "$R/ten-minutes"

# --- .dvol-keep ---------------------------------------------------------------------------
R=$T/keep
mkf "$R/kept/old" 4 100
mkf "$R/kept/sub/old" 4 100
touch "$R/kept/.dvol-keep"
mkf "$R/other/old" 4 100
expect_rc 0 "a tree with a .dvol-keep folder" dvol-gc --root "$R" --max-age 1d --grace 0
check "everything inside the kept folder stayed" \
	sh -c "[ -f $R/kept/old ] && [ -f $R/kept/sub/old ] && [ -f $R/kept/.dvol-keep ]"
check "outside it, old files went" test ! -e "$R/other/old"

# --- the adversarial tree -----------------------------------------------------------------
A=$T/adv
R=$A/root
mkf "$A/outside/victim" 4 100
mkf "$A/outside/dir/victim" 4 100
mkf "$A/bindsrc/victim" 4 100
mkf "$R/plain" 4 100
ln -s "$A/outside/victim" "$R/link-to-file"
ln -s "$A/outside/dir" "$R/link-to-dir"
old "$R/link-to-file"
old "$R/link-to-dir"
mkdir -p "$R/bind" "$R/tmpfs"
mount --bind "$A/bindsrc" "$R/bind" # the same filesystem: only the mount id differs
mount -t tmpfs dvol-gc-inner "$R/tmpfs"
mkf "$R/tmpfs/victim" 4 100
mkf "$R/locked" 4 100
# -o: the lock stays with flock itself, not with sleep, so killing flock frees it.
flock -o -n "$R/locked" sleep 600 &
locker=$!
on_exit "kill $locker"
mkf "$R/posix-locked" 4 100
python3 -c 'import fcntl,sys,time; f=open(sys.argv[1],"r+"); fcntl.lockf(f,fcntl.LOCK_EX); print("locked",flush=True); time.sleep(600)' "$R/posix-locked" >"$A/lockf.out" &
plocker=$!
on_exit "kill $plocker"
mkfifo "$R/fifo"
old "$R/fifo"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); print("up",flush=True); time.sleep(600)' "$R/sock" >"$A/sock.out" &
sockpid=$!
on_exit "kill $sockpid"
mkf "$A/outside/hardlink" 4 100
ln "$A/outside/hardlink" "$R/hardlink"
for _ in $(seq 50); do
	[ -s "$A/sock.out" ] && [ -s "$A/lockf.out" ] && ! flock -n "$R/locked" true && break
	sleep 0.1
done
old "$R/sock"
check "the socket is live" test -S "$R/sock"
check "the flock is held" sh -c "! flock -n '$R/locked' true"

before=$(tree "$R")
expect_rc 0 "dry run on the adversarial tree" dvol-gc --dry-run --root "$R" --max-age 1d --grace 0
dry=$(printf '%s\n' "$OUT" | sed -n 's/^would remove //p' | sort)
check "the dry run deleted nothing" test "$before" = "$(tree "$R")"
printf '%s\n' "$dry" | diag
expect_rc 0 "the real run" dvol-gc -v --root "$R" --max-age 1d --grace 0
real=$(printf '%s\n' "$OUT" | sed -n 's/^removed //p' | sort)
check "the dry run listed exactly what the real run removed" test "$dry" = "$real"
check "...which is: plain, both links, the hard link" test "$real" = "$(printf '%s\n' \
	"$R/hardlink" "$R/link-to-dir" "$R/link-to-file" "$R/plain" | sort)"
check "the symlinks' targets outside the root are intact" \
	sh -c "[ -f $A/outside/victim ] && [ -f $A/outside/dir/victim ]"
check "the hard link's other name outside the root is intact" \
	sh -c "[ \$(stat -c %h $A/outside/hardlink) = 1 ] && [ \$(stat -c %s $A/outside/hardlink) = 4096 ]"
check "nothing across the bind mount was deleted" test -f "$A/bindsrc/victim"
check "nothing inside the inner tmpfs was deleted" test -f "$R/tmpfs/victim"
check "the mount points themselves stayed" sh -c "findmnt $R/bind >/dev/null && findmnt $R/tmpfs >/dev/null"
check "the flock-held file stayed" test -f "$R/locked"
check "the POSIX-locked file stayed" test -f "$R/posix-locked"
check "the FIFO stayed" test -p "$R/fifo"
check "the live socket stayed" test -S "$R/sock"

expect_rc 0 "--json on the same tree" dvol-gc --json --root "$R" --max-age 1d --grace 0
j=$OUT
check "the JSON parses" sh -c "printf '%s' '$j' | jq -e . >/dev/null"
check "JSON: 2 locked, 2 special, 2 mounts skipped, nothing evicted" sh -c "printf '%s' '$j' | jq -e '.roots[0] | .skipped.locked == 2 and .skipped.special == 2 and .skipped.mount == 2 and .evicted == 0 and .budget_met == true' >/dev/null"
check "JSON: the root and dry_run are reported, unset keys are omitted" sh -c "printf '%s' '$j' | jq -e '.dry_run == false and .roots[0].root == \"$R\" and (.roots[0] | has(\"name\") | not) and (.roots[0] | has(\"cutoff_age_s\") | not)' >/dev/null"
kill "$locker" "$plocker" 2>/dev/null
wait "$locker" "$plocker" 2>/dev/null
expect_rc 0 "once the locks are released" dvol-gc --json --root "$R" --max-age 1d --grace 0
check "...both locked files go" sh -c "[ ! -e $R/locked ] && [ ! -e $R/posix-locked ]"
check "...and JSON says 2 evicted, 8192 bytes" sh -c "printf '%s' '$OUT' | jq -e '.roots[0].evicted == 2 and .roots[0].bytes_freed == 8192' >/dev/null"

# A folder swapped for a symlink to the outside, again and again, while dvol-gc walks.
# 200 folders, each exchanged atomically with a symlink to the outside (renameat2
# RENAME_EXCHANGE) by a tight C loop, so that a walk keeps finding a symlink where it just
# saw a folder. A young file keeps every folder non-empty (and so in place).
S=$A/race
mkdir -p "$S/root"
for i in $(seq 200); do
	mkf "$A/bait/BAIT$i" 1 100
	mkdir "$S/root/d$i" && touch "$S/root/d$i/young"
	ln -s "$A/bait" "$S/root/l$i"
done
cat >"$A/racer.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char d[200][4096], l[200][4096];
	unsigned long n;

	for (int i = 0; i < 200; i++) {
		snprintf(d[i], sizeof(d[i]), "%s/d%d", argv[1], i + 1);
		snprintf(l[i], sizeof(l[i]), "%s/l%d", argv[1], i + 1);
	}
	for (n = 0;; n++) {
		if (renameat2(AT_FDCWD, d[n % 200], AT_FDCWD, l[n % 200], RENAME_EXCHANGE) < 0)
			return perror("renameat2"), 1;
		if (n % (1 << 16) == 0)
			printf("%lu\n", n), fflush(stdout);
	}
}
C
cc -O2 -o "$A/racer" "$A/racer.c"
"$A/racer" "$S/root" >"$A/race.out" 2>&1 &
racer=$!
on_exit "kill $racer"
changed=0
followed=0
# A walk meets the race about once in twenty (the window between statx and open is short):
# 200 runs of each kind.
for _ in $(seq 200); do
	run_rc dvol-gc --json --root "$S/root" --max-age 1d --grace 0
	changed=$((changed + $(printf '%s' "$OUT" | jq '.roots[0].skipped.changed // 0')))
	run_rc dvol-gc --dry-run --root "$S/root" --max-age 1d --grace 0
	printf '%s' "$OUT" | grep -q BAIT && followed=$((followed + 1))
done
check "the racer was still running at the end" kill -0 "$racer"
kill "$racer"
wait "$racer" 2>/dev/null
echo "# racer: $(tail -1 "$A/race.out") exchanges; the real runs skipped $changed swapped folders"
check "200 runs against 200 racing folder/symlink exchanges: all 200 files behind the links survive" \
	test "$(find "$A/bait" -name 'BAIT*' | wc -l)" -eq 200
check "...and 200 dry runs never listed a file behind a link" test "$followed" -eq 0
check "...and the runs did meet the race (folders skipped as changed)" test "$changed" -gt 0

# --- configuration ------------------------------------------------------------------------
C=$T/conf
mkdir -p "$C" "$T/cfgroot"
mkf "$T/cfgroot/old" 4 100
printf '# roots\n%s  cfg  max-age=30d,grace=0\n' "$T/cfgroot" >"$C/good.conf"
expect_rc 0 "a root from --config" dvol-gc --config "$C/good.conf"
check "...was cleaned" test ! -e "$T/cfgroot/old"
check "...and the summary carries its name" sh -c "echo '$OUT' | grep -q '(cfg)'"
printf '# roots\n\n%s  cfg  max-age=30d,max-sise=3G\n' "$T/cfgroot" >"$C/bad.conf"
expect_rc 1 "an unknown key is exit 1" dvol-gc --config "$C/bad.conf"
expect_msg "$C/bad.conf:3: option 'max-sise'" "...naming the file, the line and the key"
printf '%s  cfg  max-age=thirty\n' "$T/cfgroot" >"$C/bad2.conf"
expect_rc 1 "a bad value is exit 1" dvol-gc --config "$C/bad2.conf"
expect_msg "bad2.conf:1: option 'max-age' is not a duration" "...naming file, line, key and why"
printf '%s max-age=30d\n' "$T/cfgroot" >"$C/bad3.conf"
expect_rc 1 "a line with two fields is exit 1" dvol-gc --config "$C/bad3.conf"
expect_msg "bad3.conf:1: the line" "...naming the file and the line"
expect_rc 1 "a missing config file is exit 1" dvol-gc --config "$C/none.conf"
expect_msg "none.conf" "...naming it"
expect_rc 1 "--max-size without --root is a usage error" dvol-gc --max-size 1G
expect_rc 1 "--root without a budget is a usage error" dvol-gc --root "$T/cfgroot"
expect_rc 1 "a bad size on the command line is a usage error" dvol-gc --root "$T/cfgroot" --max-size 12Q
expect_msg "max-size=12Q" "...naming it"
expect_rc 1 "the same --root twice is a usage error" dvol-gc --root "$T/cfgroot" --root "$T/cfgroot" --max-age 1d
expect_msg "given twice" "...saying so"
expect_rc 2 "a missing root is exit 2" dvol-gc --root "$T/nonexistent" --max-age 1d
expect_msg "nonexistent.*does not exist" "...saying so"
ln -s "$T/cfgroot" "$T/rootlink"
expect_rc 2 "a symlink as the root is refused (exit 2)" dvol-gc --root "$T/rootlink" --max-age 1d
expect_msg "symbolic link" "...saying so"
mkdir -p "$T/rofs"
mkf "$T/rofs/old" 4 100
mount --bind "$T/rofs" "$T/rofs" && mount -o remount,bind,ro "$T/rofs"
expect_rc 2 "a read-only root (as under ProtectSystem=strict without ReadWritePaths=) is exit 2" \
	dvol-gc --root "$T/rofs" --max-age 1d --grace 0
expect_msg "read-only here.*ReadWritePaths" "...saying what to add to the unit"
expect_rc 0 "...while a dry run of it works" dvol-gc --dry-run --root "$T/rofs" --max-age 1d --grace 0
check "...and lists the old file" sh -c "echo '$OUT' | grep -q '^would remove $T/rofs/old$'"
expect_rc 2 "one root failing among good ones is exit 2" \
	dvol-gc --root "$T/nonexistent" --root "$T/cfgroot" --max-age 1d --grace 0
check "...and the good root is still reported" sh -c "echo '$OUT' | grep -q '^$T/cfgroot:'"

# --- the same root under other spellings: walked once, with the first line's budget --------
D=$T/dup
mkf "$D/x/old" 4 100
mkf "$D/x/mid" 4 10
mkdir -p "$D/bound"
mount --bind "$D/x" "$D/bound"
printf '%s first max-age=30d,grace=0\n%s second max-age=5d,grace=0\n%s third max-age=5d,grace=0\n' \
	"$D/x" "$D//x/" "$D/bound" >"$C/dup.conf"
expect_rc 0 "one root named three ways (a path, with // and /, a bind mount of it)" \
	dvol-gc --json --config "$C/dup.conf"
check "...is walked and reported once, as the first line" \
	sh -c "printf '%s' '$OUT' | jq -e '[.roots[].root] == [\"$D/x\"]' >/dev/null"
check "...with the first line's budget: the 100-day-old file went, the 10-day-old stayed" \
	sh -c "[ ! -e $D/x/old ] && [ -f $D/x/mid ]"
expect_msg "$D//x/: the same folder as the root $D/x named before it" "...and the second is said"
expect_msg "$D/bound: the same folder as the root $D/x named before it" "...and the third"
expect_rc 0 "the same on the command line" dvol-gc --root "$D/x" --root "$D/./x" --max-age 5d --grace 0
check "...walks it once" test "$(printf '%s\n' "$OUT" | grep -c "^$D/")" -eq 1
expect_msg "$D/\./x: the same folder as the root $D/x" "...and says so"
check "...and applies the budget once, to the first" test ! -e "$D/x/mid"

# --- stale dvol state in utab -------------------------------------------------------------
mkdir -p "$T/vol/src" "$T/vol/live" "$T/vol/gone"
expect_rc 0 "a live dvol mount" mount -t dvol "$T/vol/src" "$T/vol/live"
printf 'SRC=%s TARGET=%s ROOT=/ ATTRS=dvol.kind=bind\n' "$T/vol/src" "$T/vol/gone" >>/run/mount/utab
printf 'SRC=/dev/sdz TARGET=%s ROOT=/ OPTS=_netdev\n' "$T/vol/gone2" >>/run/mount/utab
echo "# utab before:" && diag </run/mount/utab
: >"$C/empty.conf"
expect_rc 0 "dry run over stale state" dvol-gc --dry-run --config "$C/empty.conf"
check "...lists the stale dvol entry" sh -c "echo '$OUT' | grep -q 'would remove stale utab entry: .* on $T/vol/gone '"
check "...and removes nothing" grep -q "TARGET=$T/vol/gone " /run/mount/utab
expect_rc 0 "the real run" dvol-gc --json --config "$C/empty.conf"
check "...reports it in JSON" sh -c "printf '%s' '$OUT' | jq -e '.stale.records == [{\"source\":\"$T/vol/src\",\"target\":\"$T/vol/gone\",\"kind\":\"bind\"}]' >/dev/null"
check "the stale dvol entry is gone from utab" sh -c "! grep -q 'TARGET=$T/vol/gone ' /run/mount/utab"
check "the live dvol mount's entry stayed" grep -q "TARGET=$T/vol/live .*dvol.kind=bind" /run/mount/utab
check "an entry that is not dvol's stayed" grep -q "TARGET=$T/vol/gone2 " /run/mount/utab
expect_rc 0 "umount still finds the live entry" umount "$T/vol/live"

# --- the sandbox at the walk --------------------------------------------------------------
R=$T/sb
mkf "$R/f" 4 100
DVOL_DEBUG_STOP=walk dvol-gc --root "$R" --max-age 1d --grace 0 >/dev/null 2>&1 &
gpid=$!
for _ in $(seq 100); do
	[ "$(awk '/^State:/{print $2}' /proc/$gpid/status 2>/dev/null)" = T ] && break
	sleep 0.05
done
st=$(awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/$gpid/status)
echo "# at walk: $st"
sandbox_check "walking: seccomp filter mode, two stacked filters (start; after argv, without mount)" \
	sh -c "echo '$st' | grep -q 'Seccomp:2 Seccomp_filters:2 '"
kill -CONT "$gpid"
wait "$gpid"
check "...and it went on to remove the file" test ! -e "$R/f"

# --- --fscache-conf: cachefilesd's limits from the cache's share and the budgets beside it ----
F=$T/fsc
mkdir -p "$F"
# conf_has LINE...: the last command's output has each LINE, whole.
conf_has() { for l; do printf '%s\n' "$OUT" | grep -qxF -- "$l" || return 1; done; }
mount -t tmpfs -o size=100M dvol-test-fsc "$F"
printf '%s\n' "$F/models - max-size=20M" "$T/elsewhere - max-size=1G" >"$T/fsc.conf"
mkdir -p "$F/models" "$T/elsewhere"
expect_rc 0 "--fscache-conf, no share given: runs" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache"
check "...the cache's folder was made, 0700" test "$(stat -c %a "$F/cache")" = 700
check "...dir, and cachefilesd's usual limits" \
	conf_has "dir $F/cache" "brun 10%" "bcull 7%" "bstop 4%" "frun 10%" "fcull 7%" "fstop 4%"
expect_rc 0 "--cache-size 50%: runs" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --cache-size 50%
# 100M: 50M of cache and the 20M budget of the root on the same filesystem leave 30M; the
# 1G budget of a root on another filesystem does not count.
check "...culling starts where the cache passes its share: 31% free" \
	conf_has "bcull 31%" "brun 34%" "bstop 28%" "fcull 31%"
expect_rc 0 "--cache-size 40M: the same in bytes" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --cache-size 40M
check "...41% free" conf_has "bcull 41%"
printf '%s\n' "$F/models - max-size=20M,min-free=60%" >"$T/fsc-free.conf"
expect_rc 0 "a root's min-free=60% on the same filesystem: runs" dvol-gc --config "$T/fsc-free.conf" --fscache-conf "$F/cache"
check "...the cache gives way first: culling below 61%" conf_has "bcull 61%"
expect_rc 1 "--cache-size 80% beside a 20M budget: exit 1" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --cache-size 80%
expect_msg "cache-size= and the max-size= budgets of dvol-gc's roots on the same filesystem leave less than 5% of it free" "...saying why"
printf '%s\n' "$F - max-size=20M" >"$T/fsc-over.conf"
expect_rc 1 "the cache inside a root: refused" dvol-gc --config "$T/fsc-over.conf" --fscache-conf "$F/cache"
expect_msg "the cache's folder $F/cache and dvol-gc's root $F .* lie one inside the other" "...naming both"
check "...and nothing written" sh -c "[ -z '$OUT' ]"
printf '%s\n' "$F/cache/sub - max-size=1M" >"$T/fsc-under.conf"
expect_rc 1 "a root inside the cache: refused" dvol-gc --config "$T/fsc-under.conf" --fscache-conf "$F/cache"
ln -s "$F" "$T/fsc-link"
expect_rc 1 "...also when the cache is named through a symlink" dvol-gc --config "$T/fsc-over.conf" --fscache-conf "$T/fsc-link/cache"
expect_rc 0 "--output: written whole" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --output "$T/cachefilesd.conf"
check "...the file, and no temporary left" sh -c "grep -qxF 'dir $F/cache' '$T/cachefilesd.conf' && [ ! -e '$T/cachefilesd.conf.new' ]"
ln -s "$T/victim" "$T/out-link.new"
expect_rc 2 "--output whose temporary is a planted symlink: refused" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --output "$T/out-link"
check "...nothing written through it" test ! -e "$T/victim"
expect_rc 1 "--cache-size without --fscache-conf: usage" dvol-gc --cache-size 10G
expect_rc 1 "--fscache-conf with --root: usage" dvol-gc --fscache-conf "$F/cache" --root "$T" --max-size 1G
expect_rc 1 "--cache-size 96%: usage" dvol-gc --config "$T/fsc.conf" --fscache-conf "$F/cache" --cache-size 96%
expect_rc 1 "a relative cache folder: usage" dvol-gc --config "$T/fsc.conf" --fscache-conf cache
expect_rc 2 "a cache folder whose parent is not there (its volume not mounted): exit 2" dvol-gc --config "$T/fsc.conf" --fscache-conf "$T/not-mounted/cache"
expect_msg "cannot make the cache's folder $T/not-mounted/cache \\(is its volume mounted\\?\\)" "...saying so"
umount "$F"

done_testing
