# shellcheck shell=bash
# TAP for the host and guest tiers, sourced by tests/host/lib.sh and, on the test disk,
# by tests/vm/guest/guest-lib.sh: one set of checks for both.
T_N=0
T_FAIL=0
CLEANUPS=()

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $*"; }
diag() { sed 's/^/# /'; }

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run_rc CMD...: runs CMD; sets RC, OUT (stdout) and ERR (stderr).
run_rc() {
	local e
	e=$(mktemp)
	OUT=$("$@" 2>"$e")
	RC=$?
	ERR=$(cat "$e")
	rm -f "$e"
}

# expect_rc WANT DESC CMD...: CMD must exit WANT.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	run_rc "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$desc (rc=$RC)"
	else
		not_ok "$desc (rc=$RC, wanted $want)"
		printf '%s\n%s\n' "$OUT" "$ERR" | diag
	fi
}

# expect_msg REGEX DESC: the last command's stderr matches REGEX.
expect_msg() {
	if printf '%s' "$ERR" | grep -qE -- "$1"; then
		ok "$2"
	else
		not_ok "$2: stderr does not match /$1/"
		printf '%s\n' "$ERR" | diag
	fi
}

# sandbox_check and timing_check: check, except in a sanitizer build (make check
# SANITIZE=1), where the seccomp sandbox steps aside and the runtime slows every call and
# inflates memory; there they are skips that say why. The normal build checks them.
sandbox_check() {
	if [ -n "${DVOL_SANITIZE:-}" ]; then skip "sanitizer build, no seccomp stage: $1"; else check "$@"; fi
}
timing_check() {
	if [ -n "${DVOL_SANITIZE:-}" ]; then skip "sanitizer build, time and memory not measured: $1"; else check "$@"; fi
}

mounted() { findmnt -rn --mountpoint "$1" >/dev/null; }
not_mounted() { ! mounted "$1"; }

on_exit() { CLEANUPS+=("$*"); }

# need TOOL...: a test that lacks a tool fails at once, naming it, instead of waiting on
# what the tool would have told it.
need() {
	local t missing=()
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	not_ok "missing tools: ${missing[*]} (scripts/install-deps installs them)"
	done_testing
}

# wait_for SECONDS CMD...: until CMD succeeds; 1 if it never did.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 1
	done
}

# stopped_helper SID TRIES: print the pid of a mount.dvol of session SID that is stopped at
# its DVOL_DEBUG_STOP stage, waiting up to TRIES tenths of a second, and no longer once
# the session's leader is gone; 1 (nothing printed) if none stopped.
stopped_helper() {
	local h i
	for ((i = 0; i < $2; i++)); do
		for h in $(pgrep -s "$1" -x mount.dvol); do
			if [ "$(awk '/^State:/{print $2}' /proc/"$h"/status 2>/dev/null)" = T ]; then
				echo "$h"
				return 0
			fi
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stage_status STAGE CMD...: run CMD (a mount(8) that runs mount.dvol) with the helper
# stopped at STAGE (DVOL_DEBUG_STOP), print its "Seccomp:N Seccomp_filters:N NoNewPrivs:N",
# and let it go on.
stage_status() {
	local stage=$1 hpid='' cpid hooks=''
	shift
	# In the guest, the installed release build has no DVOL_DEBUG_STOP: borrow the test
	# build's helpers for this one call. (The host tier runs the test build throughout.)
	if type test_hooks >/dev/null 2>&1; then
		test_hooks on || { echo "stage_status: cannot put the test build in place" >&2; return 1; }
		hooks=1
	fi
	# Its own session, so that mount(8) and the stopped helper can be killed together.
	DVOL_DEBUG_STOP=$stage setsid "$@" >/dev/null 2>&1 &
	cpid=$!
	if ! hpid=$(stopped_helper "$cpid" 300); then
		echo "stage_status: no mount.dvol stopped at $stage within 30 s" >&2
		kill -KILL -- -"$cpid" 2>/dev/null
		wait "$cpid"
		[ -n "$hooks" ] && test_hooks off
		return 1
	fi
	awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/"$hpid"/status
	kill -CONT "$hpid"
	wait "$cpid"
	[ -n "$hooks" ] && test_hooks off
	return 0
}

done_testing() {
	echo "1..$T_N"
	exit $((T_FAIL > 0))
}
