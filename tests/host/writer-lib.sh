# shellcheck shell=bash
# Helpers for the host-tier tests of dvol-writer (t-writer, t-writer-fault): holders run in
# the background, their reports and messages kept in $T. Sourced after lib.sh.

# within TENTHS CMD...: CMD succeeds within TENTHS tenths of a second.
within() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
# hold NAME ARGS...: dvol-writer hold ARGS in the background; its report in $T/NAME.ready,
# its messages in $T/NAME.err, its pid in $T/NAME.pid.
hold() {
	local n=$1
	shift
	: >"$T/$n.ready"
	dvol-writer hold "$@" --ready-fd=3 3>"$T/$n.ready" 2>"$T/$n.err" &
	echo $! >"$T/$n.pid"
}
pid_of() { cat "$T/$1.pid"; }
# reported NAME WORD: NAME's holder reported WORD ("held", "conflict"...).
reported() { grep -q "^$2 " "$T/$1.ready"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
writable() { touch "$1/.probe" 2>/dev/null && rm -f "$1/.probe"; }
read_only() {
	local e
	e=$(touch "$1/.probe" 2>&1) && return 1
	case $e in *"Read-only file system"*) return 0 ;; esac
	return 1
}
exit_of() { # exit_of PID: its exit code (it must be a child of this shell)
	wait "$1"
	echo $?
}
