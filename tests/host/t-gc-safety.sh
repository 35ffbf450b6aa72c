#!/bin/bash
# dvol-gc's promise, "only budgeted, unlocked files inside its roots", on real trees: a
# root reached through a symlink in any component, "/" and the system's folders in any
# spelling (command line, gc.conf, dry run), and a bind mount of "/" are refused. Budgets
# that hold: the next-oldest goes when a file cannot, grace counts from ctime as well,
# bytes are freed by the last name only, what cannot be walked fails the run; dry-run
# names are escaped; memory does not grow with the number of files.
#
# Every run whose root lies outside $T goes through `guard`: in a mount namespace of its
# own where "/" is read-only, so that a regression cannot delete a thing of this system.
. "$(dirname "$0")/lib.sh" "$@"
need setpriv

NOW=$(date +%s)
mkf() {
	mkdir -p "$(dirname "$1")"
	head -c "$(($2 * 1024))" /dev/zero >"$1"
	touch -h -d "@$((NOW - $3 * 86400))" "$1"
}
guard() {
	unshare --mount --propagation private -- sh -c \
		'mount -o remount,bind,ro / && exec "$@"' guard "$@"
}
# no_listing: the last run listed nothing it would remove (a "/" walk lists the system).
no_listing() { ! printf '%s\n' "$OUT" | grep -q '^would remove \|^removed '; }

# --- a symlink above the root ---------------------------------------------------------------
mkf "$T/victim/hub/model.bin" 64 100
mkf "$T/victim/hub/blobs/a" 64 100
mkf "$T/srv/tenant/real/hub/old" 4 100
mkdir -p "$T/srv/tenant"
ln -s "$T/victim" "$T/srv/tenant/cache" # what a container with write access could do
expect_rc 2 "a symlink in the middle of --root is refused (exit 2)" \
	dvol-gc --root "$T/srv/tenant/cache/hub" --max-age 1d
expect_msg "$T/srv/tenant/cache is a symbolic link" "...naming the symlink"
check "...and nothing behind it was touched" \
	sh -c "[ -f $T/victim/hub/model.bin ] && [ -f $T/victim/hub/blobs/a ]"
expect_rc 2 "...also with --dry-run" dvol-gc --dry-run --root "$T/srv/tenant/cache/hub" --max-age 1d
expect_msg "$T/srv/tenant/cache is a symbolic link" "...naming it"
check "...which lists nothing behind it" no_listing
ln -s "$T/srv" "$T/srvlink"
expect_rc 2 "a symlink as the first component below the scratch folder is refused" \
	dvol-gc --root "$T/srvlink/tenant/real/hub" --max-age 1d
expect_msg "$T/srvlink is a symbolic link" "...naming it"
check "...and the file behind it stayed" test -f "$T/srv/tenant/real/hub/old"
printf '%s  hub  max-age=1d\n' "$T/srv/tenant/cache/hub" >"$T/link.conf"
expect_rc 2 "the same root from gc.conf is refused (exit 2)" dvol-gc --config "$T/link.conf"
expect_msg "$T/srv/tenant/cache is a symbolic link" "...naming the symlink"
check "...and nothing behind it was touched" \
	sh -c "[ -f $T/victim/hub/model.bin ] && [ -f $T/victim/hub/blobs/a ]"
printf '%s  good  max-age=1d,grace=0\n%s  hub  max-age=1d\n' "$T/srv/tenant/real/hub" \
	"$T/srv/tenant/cache/hub" >"$T/mixed.conf"
expect_rc 2 "a good root next to a refused one: exit 2" dvol-gc --config "$T/mixed.conf"
check "...the good root is still cleaned" test ! -e "$T/srv/tenant/real/hub/old"
check "...the refused one is not" test -f "$T/victim/hub/model.bin"

# --- "/" in disguise --------------------------------------------------------------------------
for r in // /. /etc/.. /usr/../ /./ /// /usr/lib/../.. "$T/.."/..; do
	run_rc guard dvol-gc --root "$r" --max-age 100000d
	check "--root '$r' is refused as \"/\" (rc=$RC)" test "$RC" -eq 2
	expect_msg "the same folder as /;" "...saying it is \"/\" ($r)"
	run_rc guard dvol-gc --dry-run --root "$r" --max-age 100000d
	check "--dry-run --root '$r' is refused too (rc=$RC)" test "$RC" -eq 2
	check "...and lists nothing of the system" no_listing
done
for r in // /etc/.. /usr/../; do
	printf '%s  slash  max-age=100000d\n' "$r" >"$T/slash.conf"
	run_rc guard dvol-gc --config "$T/slash.conf"
	check "gc.conf root '$r' is refused as \"/\" (rc=$RC)" test "$RC" -eq 2
	expect_msg "the same folder as /;" "...saying it is \"/\""
	run_rc guard dvol-gc --dry-run --config "$T/slash.conf"
	check "...and a dry run of it too, listing nothing (rc=$RC)" sh -c "[ $RC -eq 2 ] && ! printf '%s' \"\$0\" | grep -q '^would remove '" "$OUT"
done

# --- the system's own folders, and "/" through a bind mount ------------------------------------
for r in /etc /usr/ /var/. /usr/../var /boot /root /home /proc /sys /dev /run /tmp /usr/bin; do
	[ -d "$r" ] || continue
	run_rc guard dvol-gc --dry-run --root "$r" --max-age 100000d
	check "--root $r is refused as a system folder (rc=$RC)" \
		sh -c "[ $RC -eq 2 ] && printf '%s' \"\$0\" | grep -q 'the same folder as /'" "$ERR"
	check "...listing nothing" no_listing
done
mkdir -p "$T/slash" "$T/etc2"
mount --bind / "$T/slash"
mount --bind /etc "$T/etc2"
run_rc guard dvol-gc --root "$T/slash" --max-age 100000d
check "a bind mount of / is refused as \"/\" (rc=$RC)" test "$RC" -eq 2
expect_msg "the same folder as /;" "...saying so"
run_rc guard dvol-gc --dry-run --root "$T/etc2" --max-age 100000d
check "a bind mount of /etc is refused as /etc (rc=$RC)" test "$RC" -eq 2
expect_msg "the same folder as /etc;" "...saying so"
umount "$T/slash" "$T/etc2"

# --- configuration values --------------------------------------------------------------------
mkdir -p "$T/cfg"
for o in 'max-age=' 'max-age=1d,grace=' 'max-size=,max-age=1d' 'min-free=,max-age=1d'; do
	printf '%s  cfg  %s\n' "$T/cfg" "$o" >"$T/empty.conf"
	expect_rc 1 "gc.conf '$o': a key with nothing after '=' is an error" \
		dvol-gc --dry-run --config "$T/empty.conf"
	expect_msg "empty.conf:1: option '[a-z-]+' needs a value" "...naming file, line and key"
done

# --- a size budget met although the oldest files are locked -----------------------------------
R=$T/locked
for i in 1 2 3 4 5 6 7 8 9 10; do mkf "$R/f$i" 1024 "$i"; done
flock -o -n "$R/f10" sleep 600 &
l1=$!
flock -o -n "$R/f9" sleep 600 &
l2=$!
on_exit "kill $l1 $l2"
for _ in $(seq 50); do ! flock -n "$R/f10" true && ! flock -n "$R/f9" true && break; sleep 0.1; done
expect_rc 0 "dry run: max-size 6M on 10 MiB whose two oldest files are locked" \
	dvol-gc --dry-run --root "$R" --max-size 6M --grace 0
dry=$(printf '%s\n' "$OUT" | sed -n 's/^would remove //p' | sort)
expect_rc 0 "the real run" dvol-gc -v --root "$R" --max-size 6M --grace 0
real=$(printf '%s\n' "$OUT" | sed -n 's/^removed //p' | sort)
check "the next-oldest went instead (f5..f8), the younger stayed (f1..f4)" \
	sh -c "[ ! -e $R/f8 ] && [ ! -e $R/f7 ] && [ ! -e $R/f6 ] && [ ! -e $R/f5 ] && ls $R/f1 $R/f2 $R/f3 $R/f4 >/dev/null"
check "the locked files stayed" sh -c "[ -f $R/f10 ] && [ -f $R/f9 ]"
check "...and the budget is reported met" sh -c "printf '%s' \"\$0\" | grep -q 'budget met'" "$OUT"
check "the dry run listed exactly what the real run removed" test "$dry" = "$real"
kill "$l1" "$l2" 2>/dev/null

# --- grace counts from the newest of atime, mtime and ctime -------------------------------------
R=$T/grace
mkf "$T/src/old-model.bin" 64 200
mkdir -p "$R"
cp -p "$T/src/old-model.bin" "$R/copied-p"
head -c 65536 /dev/zero >"$R/touched-old"
touch -d "@$((NOW - 300 * 86400))" "$R/touched-old"
tar -C "$T/src" -cf "$T/src.tar" old-model.bin && tar -C "$R" -xf "$T/src.tar"
check "the files arrived with old atime and mtime" \
	test "$(stat -c %Y "$R/copied-p")" -lt $((NOW - 100 * 86400))
expect_rc 0 "max-age 1d, the default grace of 1h, right after they arrived" \
	dvol-gc --root "$R" --max-age 1d
check "a file copied in with cp -p stayed" test -f "$R/copied-p"
check "a file given an old date with touch -d stayed" test -f "$R/touched-old"
check "a file unpacked from an archive with its old mtime stayed" test -f "$R/old-model.bin"
sleep 2
expect_rc 0 "with --grace 1s, two seconds later" dvol-gc --root "$R" --max-age 1d --grace 1s
check "...the two whose atime is old went (tar set the third's atime to now)" \
	sh -c "[ ! -e $R/copied-p ] && [ ! -e $R/touched-old ]"

# --- hard links: bytes are freed with the last name only ------------------------------------------
R=$T/hl
mkf "$T/hl-outside/shared" 1024 100
mkdir -p "$R"
ln "$T/hl-outside/shared" "$R/other-name"
mkf "$R/both/a" 1024 100
ln "$R/both/a" "$R/both/b"
expect_rc 0 "max-age 1d on a root with a hard link out of it, and one with both names in it" \
	dvol-gc --json --root "$R" --max-age 1d --grace 0
check "all three names went" sh -c "[ ! -e $R/other-name ] && [ ! -e $R/both/a ] && [ ! -e $R/both/b ]"
check "the name outside the root stayed" test -f "$T/hl-outside/shared"
check "bytes_freed is 1 MiB: the file whose both names went, not the one still held outside" \
	sh -c "printf '%s' \"\$0\" | jq -e '.roots[0].evicted == 3 and .roots[0].bytes_freed == 1048576' >/dev/null" "$OUT"

# --- what the walk cannot reach fails the run --------------------------------------------------
R=$T/deep
d=$R
for _ in $(seq 300); do d=$d/d; done
mkf "$d/hidden-8M" 8192 100
mkf "$R/top" 1024 100
expect_rc 1 "a file 300 levels down, past the depth cap: exit 1" \
	dvol-gc --root "$R" --max-size 4M
expect_msg "$R/d/d/d/.*deeper than 256 levels" "...naming the folder not walked"
check "...and the summary does not call the budget met" \
	sh -c "printf '%s' \"\$0\" | grep -q 'not walked: budget NOT known'" "$OUT"
expect_rc 1 "...also as JSON" dvol-gc --json --dry-run --root "$R" --max-size 4M
check "...with not_walked and budget_met false" \
	sh -c "printf '%s' \"\$0\" | jq -e '.roots[0].not_walked > 0 and .roots[0].budget_met == false' >/dev/null" "$OUT"

R=$T/emfile
d=$R
for _ in $(seq 40); do d=$d/d; done
mkf "$d/old" 4 100
mkf "$R/old" 4 100
run_rc sh -c "ulimit -n 12 && exec dvol-gc --root '$R' --max-age 1d --grace 0"
check "with ulimit -n 12, a walk 40 folders deep meets EMFILE: exit 1 (rc=$RC)" test "$RC" -eq 1
expect_msg "$R/d/.*Too many open files" "...naming the folder and the reason"
check "...and what it could reach was still cleaned" test ! -e "$R/old"
mkf "$R/old" 4 100
run_rc sh -c "ulimit -n 12 && exec dvol-gc --json --root '$R' --max-size 1K --max-age 1d --grace 0"
n=$(printf '%s' "$OUT" | jq '.roots[0].not_walked')
check "...with a size budget too (two passes): exit 1 (rc=$RC)" test "$RC" -eq 1
check "...each folder not walked named once, as many as not_walked ($n)" \
	sh -c "[ \$(printf '%s\n' \"\$0\" | grep -c 'Too many open files') -eq $n ] && [ -z \"\$(printf '%s\n' \"\$0\" | sort | uniq -d)\" ] && [ $n -gt 0 ]" "$ERR"

R=$T/noaccess
mkf "$R/locked-away/old" 4 100
mkf "$R/old" 4 100
chown -R 65534:65534 "$R/locked-away"
chmod 000 "$R/locked-away"
run_rc setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search \
	dvol-gc --root "$R" --max-age 1d --grace 0
check "a folder the walk cannot open (root without CAP_DAC_*): exit 1 (rc=$RC)" test "$RC" -eq 1
expect_msg "$R/locked-away: cannot walk.*Permission denied" "...naming it"
chmod 755 "$R/locked-away"
check "...and it was left alone" test -f "$R/locked-away/old"

# --- names in the listing cannot forge lines --------------------------------------------------------
R=$T/names
mkf "$R/x
would remove /etc/passwd" 4 100
mkf "$R/esc$(printf '\033')[2J" 4 100
mkf "$R/back\\slash" 4 100
expect_rc 0 "a dry run over names with a newline, an escape and a backslash" \
	dvol-gc --dry-run --root "$R" --max-age 1d --grace 0
printf '%s\n' "$OUT" | diag
check "no line of the listing is forged" sh -c "! printf '%s\n' \"\$0\" | grep -q '^would remove /etc/passwd'" "$OUT"
check "the newline is written \\\\n, as ls -b does" \
	sh -c "printf '%s\n' \"\$0\" | grep -qxF 'would remove $R/x\\nwould remove /etc/passwd'" "$OUT"
check "the escape character is written \\\\033" \
	sh -c "printf '%s\n' \"\$0\" | grep -qxF 'would remove $R/esc\\033[2J'" "$OUT"
check "a backslash is written \\\\\\\\" \
	sh -c "printf '%s\n' \"\$0\" | grep -qxF 'would remove $R/back\\\\slash'" "$OUT"
check "three files, two folders and the summary: six lines" \
	sh -c "[ \$(printf '%s\n' \"\$0\" | grep -c '^would remove $R/') -eq 3 ] && [ \$(printf '%s\n' \"\$0\" | wc -l) -eq 6 ]" "$OUT"
expect_rc 0 "...while JSON carries them as they are" dvol-gc --json --dry-run --root "$R" --max-age 1d --grace 0
check "...(JSON parses)" sh -c "printf '%s' \"\$0\" | jq -e '.roots[0].evicted == 3' >/dev/null" "$OUT"

# --- memory does not grow with the number of files ---------------------------------------------------
cc -O2 -o "$T/gen" "$(dirname "$0")/../mkfiles.c"
mkdir -p "$T/rss"
mount -t tmpfs -o size=1g,nr_inodes=400k dvol-gc-rss "$T/rss"
"$T/gen" "$T/rss/small" 20000 && "$T/gen" "$T/rss/large" 200000
rss() { /usr/bin/time -f %M dvol-gc --dry-run --grace 0 --max-size 1P --max-age 3650d --root "$1" 2>&1 >/dev/null | tail -1; }
small=$(rss "$T/rss/small")
large=$(rss "$T/rss/large")
echo "# peak RSS: $small KiB at 20k files, $large KiB at 200k files"
timing_check "peak RSS at 200k files is under 1.5x that at 20k plus 1 MiB ($large vs $small KiB)" \
	test "$large" -lt $((small * 3 / 2 + 1024))
umount "$T/rss"

done_testing
