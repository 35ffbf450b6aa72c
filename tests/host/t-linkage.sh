#!/bin/bash
# How the helpers are linked. mount.dvol loads only libmount (and what libmount itself
# needs) as shared objects: libnfs, libseccomp and json-c are linked in, for a bind's
# start-up time (README, Benchmarks). None of that may cost a hardening flag: every helper,
# release and test build, is PIE with full RELRO (-z now), a non-executable stack, no text
# relocations, and calls the stack protector's and FORTIFY's checks.
. "$(dirname "$0")/lib.sh" "$@"
need readelf nm

R=${DVOL_RELEASE_BUILD:-}
[ -n "$R" ] && [ -x "$R/mount.dvol" ] || {
	not_ok "no release build named by DVOL_RELEASE_BUILD (tests/host/run sets it)"
	done_testing
}

needed() { readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
has() { printf '%s\n' "$1" | grep -qE -- "$2"; }
hasnt() { ! has "$@"; }
release_check() {
	if [ -n "${DVOL_SANITIZE:-}" ]; then
		skip "sanitizer build, built without the release build's FORTIFY and canary: $1"
	else
		check "$@"
	fi
}

for b in "$R" "$BUILD"; do
	n=$b/mount.dvol
	libs=$(needed "$n")
	check "$n needs libmount ($libs)" has "$libs" 'libmount\.so'
	for l in libnfs libseccomp libjson-c; do
		check "$n does not load $l as a shared object" hasnt "$libs" "$l\.so"
	done
done

for h in "$R"/mount.dvol "$R"/dvol-* "$BUILD"/mount.dvol "$BUILD"/dvol-*; do
	[ -x "$h" ] || continue
	dyn=$(readelf -dW "$h") hdr=$(readelf -hW "$h") seg=$(readelf -lW "$h") sym=$(nm -D "$h")
	check "$h: PIE" has "$hdr" "Position-Independent Executable" && check "$h: PIE flag" has "$dyn" "FLAGS_1.*PIE"
	check "$h: bound now" has "$dyn" '\(FLAGS\).*BIND_NOW'
	check "$h: RELRO" has "$seg" 'GNU_RELRO'
	check "$h: no text relocations" hasnt "$dyn" 'TEXTREL'
	check "$h: stack not executable" hasnt "$(printf '%s\n' "$seg" | grep GNU_STACK)" 'RWE'
	# A sanitizer build (make check SANITIZE=1) leaves out FORTIFY on purpose (its checked
	# functions hide accesses from ASan), and ASan, not the canary, guards its stack: these
	# two are about the release build, which the normal make check proves.
	release_check "$h: stack protector" has "$sym" '__stack_chk_fail'
	release_check "$h: FORTIFY" has "$sym" '__[a-z_]+_chk(@|$)'
done

# Linked in, the libraries still answer: --version asks each for its version.
run_rc "$R/mount.dvol" --version
check "release mount.dvol --version names libnfs, libseccomp and json-c ($OUT)" \
	has "$OUT" 'libnfs [0-9].*libseccomp [0-9].*json-c [0-9]'
# The one place a sanitizer build says that it runs without its seccomp sandbox.
run_rc "$BUILD/mount.dvol" --version
if [ -n "${DVOL_SANITIZE:-}" ]; then
	check "a sanitizer build's --version says so ($OUT)" has "$OUT" 'sanitizer build: no seccomp sandbox'
else
	check "--version of a normal build says nothing of sanitizers ($OUT)" hasnt "$OUT" 'sanitizer'
fi
done_testing
