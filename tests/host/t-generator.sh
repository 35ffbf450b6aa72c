#!/bin/bash
# dvol-generator: golden outputs. Each tests/host/generator/NAME.fstab is given to the
# generator through SYSTEMD_FSTAB, as systemd-fstab-generator reads it; what it writes
# (every file, with its contents), what it says on stderr and its exit code must be
# NAME.expected, byte for byte. NAME.volumes, where there is one, is its /etc/dvol/volumes;
# NAME.warm.d, its /etc/dvol/warm.d (dvol-warm's manifests).
. "$(dirname "$0")/lib.sh" "$@"
G=$(cd "$(dirname "$0")/generator" && pwd)

# listing DIR: every file below DIR, sorted, with its contents; a link with where it points.
listing() {
	(cd "$1" && find . -type f -o -type l | LC_ALL=C sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "== ${f#./} -> $(readlink "$f")"
		else
			echo "== ${f#./}"
			cat "$f"
		fi
	done)
}

for f in "$G"/*.fstab; do
	n=$(basename "$f" .fstab)
	out=$T/gen-$n
	mkdir -p "$out/normal" "$out/early" "$out/late"
	vol=$G/$n.volumes
	[ -e "$vol" ] || vol=$T/no-volumes
	warm=$G/$n.warm.d
	[ -e "$warm" ] || warm=$T/no-warm.d
	SYSTEMD_FSTAB=$f DVOL_VOLUMES=$vol DVOL_WARM_DIR=$warm "$BUILD/dvol-generator" \
		"$out/normal" "$out/early" "$out/late" 2>"$out/stderr"
	rc=$?
	{
		# The template's folder is the build's (pkg-config's systemdsystemunitdir).
		listing "$out/normal" | sed -e "s|$G/||g" -e 's|-> /.*/dvol-warm@\.service$|-> UNITDIR/dvol-warm@.service|'
		echo "-- stderr"
		sed "s|$G/||g" "$out/stderr"
		echo "rc=$rc"
	} >"$out/got"
	if diff -u "$G/$n.expected" "$out/got" >"$out/diff"; then
		ok "$n: the drop-ins, the messages and the exit code are as expected"
	else
		not_ok "$n: the output differs from $n.expected"
		diag <"$out/diff"
	fi
	check "$n: nothing in the early and late folders" \
		test -z "$(find "$out/early" "$out/late" -mindepth 1 | head -n 1)"
done

# The drop-ins name units as systemd does: compare with systemd-escape itself.
if command -v systemd-escape >/dev/null; then
	check "the mount unit's name is systemd-escape --path's" \
		test -d "$T/gen-nfs/normal/$(systemd-escape -p --suffix=mount '/mnt/data sets').d"
	check "the wait unit's name is systemd-escape's" \
		test -d "$T/gen-nfs/normal/dvol-nfs-wait@$(systemd-escape 'srv2:/export/ds').service.d"
fi
SYSTEMD_FSTAB=$T/none DVOL_VOLUMES=$T/none DVOL_WARM_DIR=$T/none "$BUILD/dvol-generator" "$T/gen-none" 2>"$T/none.err"
check "no fstab: nothing to do, exit 0" test $? -eq 0 -a ! -s "$T/none.err"
# The wants link of a manifest's unit points at the installed template, as systemctl would.
check "warm: the wants link points at the template in the unit folder" \
	sh -c "readlink '$T/gen-warm/normal/multi-user.target.wants/dvol-warm@llama.service' | grep -qx '$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)/dvol-warm@.service'"
if command -v systemd-escape >/dev/null; then
	check "warm: the instance is systemd-escape's name for the manifest" \
		test -d "$T/gen-warm/normal/dvol-warm@$(systemd-escape my-model).service.d"
fi
done_testing
