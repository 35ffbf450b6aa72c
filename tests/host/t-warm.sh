#!/bin/bash
# dvol-warm on a real filesystem (ext4 on a loop device): manifests and globs read whole,
# the JSON it prints, patterns refused before anything is read, links out of the root never
# followed (also one swapped into a folder of the path between the plan and the read), a
# FIFO that does not hang it, a read that fails, --check before and after the page cache
# lets the files go, the progress line on a terminal, and its sandbox at work.
. "$(dirname "$0")/lib.sh" "$@"
need python3 script
PY=/usr/bin/python3

dev=$(mkloop 256M vol)
mkfs.ext4 -q -F "$dev" || not_ok "mkfs.ext4 on $dev"
V=$T/vol
mkdir -p "$V"
mount "$dev" "$V"
R=$V/models
mkdir -p "$R/llama/tokenizer" "$R/.hidden" "$R/swap/dir" "$T/outside"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$R/llama/model-00001.safetensors"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$R/llama/model-00002.safetensors"
head -c 1234 /dev/urandom >"$R/llama/config.json"
head -c 100 /dev/urandom >"$R/llama/tokenizer/tokenizer.json"
head -c 200 /dev/urandom >"$R/llama/.partial.safetensors"
head -c 300 /dev/urandom >"$R/.hidden/x.safetensors"
echo "inside" >"$R/swap/dir/secret"
echo "outside the root" >"$T/outside/secret"
sync "$R"/llama/* "$R"/llama/tokenizer/* "$R/.hidden/x.safetensors"

size() { stat -c %s "$@" | awk '{ s += $1 } END { print s + 0 }'; }
# jqs FILTER: FILTER over the JSON lines in $OUT, slurped (-s), raw output.
jqs() { printf '%s\n' "$OUT" | jq -rs "$1"; }
parses() { printf '%s\n' "$OUT" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]'; }

# --- a manifest --------------------------------------------------------------------------
cat >"$T/llama.manifest" <<EOF
# llama, as a job reads it
root $R

llama/*.safetensors
   llama/config.json
llama/tokenizer/*
llama/none-*.bin
llama/config.json
EOF
expect_rc 0 "a manifest: every file it names is read" dvol-warm "$T/llama.manifest"
check "...every line of its output is JSON (python3 json)" parses
want=$(size "$R"/llama/model-0000[12].safetensors "$R/llama/config.json" "$R/llama/tokenizer/tokenizer.json")
check "...the summary's bytes are the four files' sizes ($want)" test "$(jqs '.[] | select(.type=="summary").bytes')" = "$want"
check "...the files' own bytes add up to the same" test "$(jqs '[.[] | select(.type=="file").bytes] | add')" = "$want"
check "...one object per file, each ok with a rate" \
	test "$(jqs '[.[] | select(.type=="file" and .result=="ok" and .rate >= 0 and .seconds >= 0)] | length')" = 4
check "...each file's bytes are its size" \
	test "$(jqs '.[] | select(.path=="llama/model-00002.safetensors").bytes')" = $((3 * 1024 * 1024 + 17))
check "...the summary: 4 files, 4 ok, 0 errors, 1 unmatched, 1 duplicate" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.files) \(.files_ok) \(.errors) \(.unmatched) \(.duplicates) \(.mode)"')" = "4 4 0 1 1 warm"
check "...the summary is the last line" test "$(jqs '.[-1].type')" = summary
check "...a leading dot is matched only by a leading dot (.partial.safetensors not read)" \
	test "$(jqs '[.[] | select(.path? // "" | test("partial"))] | length')" = 0
expect_msg "llama.manifest:7: pattern 'llama/none-\*.bin' matches nothing" \
	"...the pattern that matched nothing is a warning naming its manifest and line"
expect_rc 0 "--quiet: the summary only" dvol-warm --quiet "$T/llama.manifest"
check "...one line, the summary" test "$(printf '%s\n' "$OUT" | wc -l)-$(jqs '.[0].type')" = "1-summary"

# --- globs and the command line ------------------------------------------------------------
expect_rc 0 "--root and a glob over two levels" dvol-warm --root "$R" '*/*.safetensors'
check "...the two safetensors of llama, not .hidden's (FNM_PERIOD on a folder too)" \
	test "$(jqs '[.[] | select(.type=="file") | .path] | sort | join(" ")')" = "llama/model-00001.safetensors llama/model-00002.safetensors"
expect_rc 0 "a dot named explicitly is matched" dvol-warm --root "$R" '.hidden/*' 'llama/.p*'
check "...both files" test "$(jqs '.[] | select(.type=="summary").files')" = 2
expect_rc 0 "--root wins over the manifest's root line" \
	dvol-warm --root "$R/llama" -m "$T/llama.manifest" 'config.json'
check "...config.json beneath --root; the manifest's five llama/ patterns match nothing there" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.files) \(.unmatched)"')" = "1 5"
expect_rc 0 "'[ab]' and '?' globs, and an escaped '*'" dvol-warm --root "$R/llama" 'model-0000[2].safetensors' 'config.jso?' 'tokenizer/\*'
check "...two files (the escaped star names a file called '*', which is not there)" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.files) \(.unmatched)"')" = "2 1"

# --- refused before anything is read ------------------------------------------------------------
printf '# bad\nllama/config.json\n../../etc/passwd\n' >"$T/dotdot.manifest"
printf 'root %s\n/etc/passwd\n' "$R" >"$T/abs.manifest"
printf 'root %s\n**/*.safetensors\n' "$R" >"$T/glob2.manifest"
printf 'root relative\nx\n' >"$T/relroot.manifest"
expect_rc 1 "a '..' pattern: refused" dvol-warm --root "$R" -m "$T/dotdot.manifest"
expect_msg "dotdot.manifest:3: the line has a '\.\.' component" "...naming the manifest and line"
check "...and nothing was read (no output)" test -z "$OUT"
expect_rc 1 "an absolute pattern: refused" dvol-warm "$T/abs.manifest"
expect_msg "abs.manifest:2: the line is absolute" "...naming the manifest and line"
check "...and nothing was read" test -z "$OUT"
expect_rc 1 "an absolute pattern on the command line: refused" dvol-warm --root "$R" /etc/passwd
expect_msg "pattern '/etc/passwd' is absolute" "...and says so"
expect_rc 1 "'**': refused" dvol-warm "$T/glob2.manifest"
expect_msg "glob2.manifest:2: .*'\*\*'" "...naming the manifest and line"
expect_rc 1 "a relative root line: refused" dvol-warm "$T/relroot.manifest"
printf 'llama/config.json\n' >"$T/noroot.manifest"
expect_rc 1 "no root at all: refused" dvol-warm "$T/noroot.manifest"
expect_msg "no root" "...and says how to give one"
printf 'root %s/llama\nconfig.json\n' "$R" >"$T/other-root.manifest"
expect_rc 1 "two manifests with different roots: refused" dvol-warm "$T/llama.manifest" "$T/other-root.manifest"
expect_msg "differs from" "...and says so"
expect_rc 1 "no argument: usage" dvol-warm
expect_rc 1 "--jobs 0: usage" dvol-warm --jobs 0 --root "$R" x
expect_rc 1 "--block-size 1: usage" dvol-warm --block-size 1 --root "$R" x
expect_rc 0 "--version" dvol-warm --version
check "...names libseccomp and json-c" sh -c "echo '$OUT' | grep -q 'dvol-warm .*libseccomp.*json-c'"
expect_rc 2 "a root that does not exist: exit 2" dvol-warm --root "$T/nope" x
expect_msg "does not exist" "...and says so"
ln -s "$R" "$T/root-link"
expect_rc 2 "a root through a symbolic link: exit 2" dvol-warm --root "$T/root-link" llama/config.json
expect_msg "root-link is a symbolic link" "...naming the link"

# --- symbolic links out of the root ----------------------------------------------------------
ln -s "$T/outside/secret" "$R/llama/evil.safetensors"
ln -s "$T/outside" "$R/llama/evildir"
ln -s ../../../outside/secret "$R/llama/relative.safetensors"
expect_rc 0 "links out of the root, by glob and by name: not followed, not a failure" \
	dvol-warm --root "$R" 'llama/evil*' 'llama/relative.safetensors' 'llama/evildir/secret'
check "...nothing read (0 files, 0 bytes)" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.files) \(.bytes)"')" = "0 0"
check "...each link reported as skipped (evil.safetensors, evildir, relative.safetensors, evildir on the way)" \
	test "$(jqs '[.[] | select(.type=="file" and .result=="skipped" and .reason=="symlink")] | length')" = 4
expect_msg "evil.safetensors: a symbolic link; dvol-warm follows none" "...and warned about"
check "...no object names the file outside" test "$(jqs '[.[] | select(.path? // "" | test("secret") and .result=="ok")] | length')" = 0
expect_rc 0 "llama/* with the links among the files: the files are read, the links skipped" \
	dvol-warm --root "$R" 'llama/*'
check "...summary: 3 files read (.partial not matched), 3 links and tokenizer/ skipped" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.files_ok) \(.skipped) \(.errors)"')" = "3 4 0"
rm "$R/llama/evil.safetensors" "$R/llama/evildir" "$R/llama/relative.safetensors"

# An attacker's link swapped into a folder of the path between the plan and the read.
DVOL_DEBUG_STOP=act dvol-warm --root "$R" swap/dir/secret >"$T/swap.out" 2>"$T/swap.err" &
wpid=$!
stopped=''
for _ in $(seq 100); do
	[ "$(awk '/^State:/{print $2}' /proc/$wpid/status 2>/dev/null)" = T ] && stopped=1 && break
	sleep 0.1
done
check "dvol-warm stopped between its plan and its reads (DVOL_DEBUG_STOP=act)" test -n "$stopped"
if [ -n "$stopped" ]; then
	st=$(awk '/^(Seccomp|Seccomp_filters|NoNewPrivs):/{printf "%s%s ", $1, $2}' /proc/$wpid/status)
	echo "# at act: $st"
	sandbox_check "...in seccomp filter mode (Seccomp: 2), a filter stacked, NoNewPrivs" \
		sh -c "echo '$st' | grep -q 'Seccomp:2 ' && echo '$st' | grep -qE 'Seccomp_filters:[1-9]' && echo '$st' | grep -q 'NoNewPrivs:1'"
fi
mv "$R/swap/dir" "$R/swap/dir.real"
ln -s "$T/outside" "$R/swap/dir"
kill -CONT "$wpid"
wait "$wpid"
rc=$?
OUT=$(cat "$T/swap.out") ERR=$(cat "$T/swap.err")
check "...after the swap: exit 2 (rc=$rc)" test "$rc" = 2
check "...the file failed, with nothing read" \
	test "$(jqs '.[] | select(.type=="file") | "\(.result) \(.errno) \(.bytes)"')" = "failed ELOOP 0"
expect_msg "a symbolic link is in its path now" "...and says why"
rm "$R/swap/dir"
mv "$R/swap/dir.real" "$R/swap/dir"

# Interrupted (SIGTERM) between the plan and the reads: the readers stop, the summary says so.
DVOL_DEBUG_STOP=act dvol-warm --root "$R" 'llama/*.safetensors' >"$T/int.out" 2>"$T/int.err" &
wpid=$!
for _ in $(seq 100); do
	[ "$(awk '/^State:/{print $2}' /proc/$wpid/status 2>/dev/null)" = T ] && break
	sleep 0.1
done
kill -TERM "$wpid"
kill -CONT "$wpid"
wait "$wpid"
rc=$?
OUT=$(cat "$T/int.out")
check "SIGTERM: exit 8 (rc=$rc)" test "$rc" = 8
check "...the summary says interrupted, with nothing read" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.interrupted) \(.files_ok) \(.bytes)"')" = "true 0 0"

# --- a FIFO, and a read that fails ------------------------------------------------------------
mkfifo "$R/llama/pipe.safetensors"
expect_rc 2 "a FIFO among the files: exit 2, without hanging" \
	timeout 30 dvol-warm --root "$R" 'llama/*.safetensors'
check "...the FIFO failed as not a regular file" \
	test "$(jqs '.[] | select(.path=="llama/pipe.safetensors") | "\(.result) \(.reason)"')" = "failed not-regular"
check "...the other files were read" test "$(jqs '.[] | select(.type=="summary") | "\(.files_ok) \(.errors)"')" = "2 1"
expect_msg "pipe.safetensors: not a regular file" "...and said so"
rm "$R/llama/pipe.safetensors"

if "$PY" -c 'import fusepy' 2>/dev/null; then
	mkdir -p "$T/back" "$T/fs"
	head -c 100000 /dev/urandom >"$T/back/good.bin"
	head -c 100000 /dev/urandom >"$T/back/bad.eio"
	echo ok >"$T/control"
	"$PY" "$(dirname "$0")/faultfs.py" "$T/back" "$T/fs" "$T/control" 2>"$T/faultfs.err" &
	fs_pid=$!
	on_exit "umount -l '$T/fs'; kill $fs_pid"
	wait_for 10 mountpoint -q "$T/fs"
	expect_rc 2 "a file whose reads fail with EIO (FUSE): exit 2" dvol-warm --root "$T/fs" '*'
	check "...that file failed with EIO, the other was read" \
		test "$(jqs '[.[] | select(.type=="file") | "\(.path):\(.result):\(.errno // "-")"] | sort | join(" ")')" = "bad.eio:failed:EIO good.bin:ok:-"
	expect_msg "bad.eio: cannot read it: Input/output error" "...and says so"
else
	not_ok "python3-fusepy is missing (scripts/install-deps installs it)"
fi

# --- --check ----------------------------------------------------------------------------------
FILES=("$R"/llama/model-0000[12].safetensors "$R/llama/config.json" "$R/llama/tokenizer/tokenizer.json")
expect_rc 0 "the manifest read once more" dvol-warm --quiet "$T/llama.manifest"
expect_rc 0 "--check on files just read" dvol-warm --check "$T/llama.manifest"
check "...every line is JSON" parses
check "...samples: 16 + 16 + 1 + 1, every one in memory" \
	test "$(jqs '.[] | select(.type=="summary") | "\(.samples) \(.memory) \(.local) \(.remote) \(.cached)"')" = "34 34 0 0 1"
check "...a file's fraction is 1" test "$(jqs '.[] | select(.path=="llama/model-00001.safetensors").cached')" = 1
# The page cache lets these files go (their own pages only: never the machine's caches).
"$PY" -c 'import os, sys
for f in sys.argv[1:]:
    fd = os.open(f, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' "${FILES[@]}"
expect_rc 0 "--check after POSIX_FADV_DONTNEED on the files, threshold 0" \
	dvol-warm --check --threshold 0 "$T/llama.manifest"
mem1=$(jqs '.[] | select(.type=="summary").memory')
check "...at most half the samples in memory ($mem1 of 34)" test "$mem1" -le 17
check "...the others remote (threshold 0), the fraction below 1" \
	test "$(jqs '.[] | select(.type=="summary") | (.remote == .samples - .memory) and .cached < 1')" = true
expect_rc 0 "--check again: the samples themselves were cached" dvol-warm --check "$T/llama.manifest"
mem2=$(jqs '.[] | select(.type=="summary").memory')
check "...more samples in memory than before ($mem2 > $mem1)" test "$mem2" -gt "$mem1"
expect_rc 0 "--check --samples 4" dvol-warm --check --samples 4 --root "$R" llama/model-00001.safetensors
check "...4 samples" test "$(jqs '.[] | select(.type=="summary").samples')" = 4

# --- the progress line on a terminal -----------------------------------------------------------
script -qec "dvol-warm --block-size 64K -j 2 '$T/llama.manifest'" /dev/null >"$T/tty.out" 2>&1
rc=$?
check "on a terminal (script(1)'s pty): exit 0 (rc=$rc)" test "$rc" = 0
tr '\r' '\n' <"$T/tty.out" | diag
check "...a progress line with bytes, percent, a rate and an ETA" \
	grep -qaE '[0-9.]+ MiB / 8\.0 MiB +100%  [0-9.]+ [KMG]?i?B/s  ETA [0-9]+:[0-9]{2}  files 4/4' "$T/tty.out"
check "...redrawn in place (carriage return, erase line)" grep -qa $'\r\e\[K' "$T/tty.out"
check "...no JSON on a terminal; the summary in words" \
	sh -c "! grep -qa '\"type\"' '$T/tty.out' && grep -qa 'read 4 of 4 files' '$T/tty.out'"
script -qec "dvol-warm --json '$T/llama.manifest'" /dev/null >"$T/tty-json.out" 2>&1
check "--json on a terminal: JSON lines, one object a line" \
	grep -qa '^{"type":"summary","mode":"warm"' "$T/tty-json.out"
script -qec "dvol-warm --quiet '$T/llama.manifest'" /dev/null >"$T/tty-quiet.out" 2>&1
check "--quiet on a terminal: no progress line" sh -c "! grep -qa 'ETA' '$T/tty-quiet.out'"

# --- the sandbox --------------------------------------------------------------------------------
check "the runs above were in kill mode (DVOL_SANDBOX unset), four readers at once" test -z "${DVOL_SANDBOX:-}"
expect_rc 0 "eight readers, 4K reads: the stage allows the threads and their reads" \
	dvol-warm -j 8 --block-size 4K --quiet "$T/llama.manifest"
done_testing
