#!/bin/bash
# dvol-gc's promise, "only budgeted, unlocked files inside its roots", on real trees: a
# root reached through a symlink in any component, "/" and the system's folders in any
# spelling (command line, gc.conf, dry run), and a bind mount of "/" are refused.
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
printf '%s  good  max-age=1d\n%s  hub  max-age=1d\n' "$T/srv/tenant/real/hub" \
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

done_testing
