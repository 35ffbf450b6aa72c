#!/bin/bash
# The messages people read most, as golden output (util-linux tests/expected style): each
# case runs the real `mount -t dvol`, and its stdout, stderr and exit code, with the
# variable bits (temp paths, loop devices, UUIDs, sizes) normalised, must equal
# tests/host/expected/CASE.out. DVOL_GOLDEN_UPDATE=1 writes the files instead: read the
# diff before committing it.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nfs-lib.sh"
need ip unshare diff sed

EXPECTED=$(cd "$(dirname "$0")/expected" && pwd)
# Every message on stderr, whatever the log's default is where the test runs.
export DVOL_LOG=stderr

normalise() {
	sed -e "s|$T|/T|g" \
		-e 's|/dev/loop[0-9][0-9]*|/dev/loopN|g' \
		-e 's/[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}/UUID/g' \
		-e 's/ in [0-9]* ms/ in N ms/g' \
		-e 's/after [0-9]* ms/after N ms/g'
}

# golden NAME CMD...: CMD's output and exit code against expected/NAME.out.
golden() {
	local name=$1 out
	shift
	out=$( ("$@" 2>&1; echo "rc=$?") | normalise)
	if [ -n "${DVOL_GOLDEN_UPDATE:-}" ]; then
		printf '%s\n' "$out" >"$EXPECTED/$name.out"
		ok "$name: written"
	elif printf '%s\n' "$out" | diff -u "$EXPECTED/$name.out" - >"$T/diff"; then
		ok "$name"
	else
		not_ok "$name: the output differs from expected/$name.out"
		diag <"$T/diff"
	fi
}

mkdir -p "$T/host/cache" "$T/host/other" "$T/ctr/a" "$T/ctr/b" "$T/ctr/c" "$T/m" "$T/m2"
ln -s "$T/ctr/a" "$T/ctr/link"

# --- instance volumes ------------------------------------------------------------------
golden bind-plan mount -f -t dvol "$T/host/new" "$T/ctr/a" -o create,mode=0750,uid=1234,gid=4321
golden bind-plan-ro mount -f -t dvol "$T/host/cache" "$T/ctr/a" -o ro,nosuid,nodev
golden bind-missing mount -t dvol "$T/host/missing" "$T/ctr/a"
golden bind-unknown-option mount -t dvol "$T/host/cache" "$T/ctr/a" -o size=1G
golden bind-mkfs mount -t dvol "$T/host/cache" "$T/ctr/a" -o mkfs=xfs
golden bind-loop-option /sbin/mount.dvol "$T/host/cache" "$T/ctr/a" -o loop
# mount(8) resolves a link itself; the helper, called directly, refuses it.
golden target-symlink /sbin/mount.dvol "$T/host/cache" "$T/ctr/link"
mount -t dvol "$T/host/cache" "$T/ctr/b" >/dev/null 2>&1
golden bind-again mount -f -t dvol "$T/host/cache" "$T/ctr/b"
golden bind-other-mounted mount -t dvol "$T/host/other" "$T/ctr/b"
golden bind-ro-differs mount -t dvol "$T/host/cache" "$T/ctr/b" -o ro

# --- local volumes ---------------------------------------------------------------------
b=$(mkloop 64M blank)
golden local-plan-blank mount -f -t dvol "$b" "$T/m" -o mkfs=xfs,mode=1777
golden local-blank-no-mkfs mount -t dvol "$b" "$T/m"
golden local-create mount -t dvol "$b" "$T/m" -o create
golden local-ignore-without-mkfs mount -t dvol "$b" "$T/m" -o mkfs-ignore-nonzero-data
d=$(mkloop 64M data)
head -c 4096 /dev/urandom | dd of="$d" bs=4096 seek=100 conv=notrunc status=none
golden local-nonzero mount -t dvol "$d" "$T/m" -o mkfs=ext4
e=$(mkloop 64M ext4)
mkfs.ext4 -q -L golden "$e"
golden local-fs-mismatch mount -t dvol "$e" "$T/m" -o mkfs=xfs
golden local-plan-fs mount -f -t dvol "$e" "$T/m2" -o mkfs=ext4,noatime
mount -t dvol "$e" "$T/m2" >/dev/null 2>&1
golden local-other-mounted mount -t dvol "$b" "$T/m2" -o mkfs=xfs
golden local-serial-too-long mount -t dvol nvme:serial=ABCDEFGHIJKLMNOPQRSTU "$T/m"

# --- network volumes: a port where nothing listens, in a namespace of the test's own ------
if netns_make golden NS; then
	mkdir -p "$T/nfs"
	golden nfs-refused in_ns "$NS" mount -t dvol nfs://127.0.0.1:20599/export "$T/nfs" \
		-o probe-timeout=2
	golden nfs-mkfs in_ns "$NS" mount -t dvol nfs://127.0.0.1:20599/export "$T/nfs" -o mkfs=xfs
	golden nfs-vers-disagree in_ns "$NS" mount -t dvol 127.0.0.1:/export "$T/nfs" \
		-o vers=4.1,nfsvers=3
else
	not_ok "cannot make a network namespace for the NFS cases"
fi

done_testing
