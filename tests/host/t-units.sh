#!/bin/bash
# The shipped units, offline: `systemd-analyze verify` prints nothing for any of them (with
# the built helpers in /usr/sbin and the man pages from `make install`), the drop-ins of
# dvol-generator beside systemd-fstab-generator's own units included; and
# `systemd-analyze security --offline=true` scores each at most its threshold: 2.0 for a
# unit that does not mount, 3.5 for the one that mounts for the host, 4.7 for the one that
# mounts for the host and reaches NFS servers, 3.9 for the FS-Cache daemon (root, with
# CAP_SYS_ADMIN to bind the cache and CAP_SETGID to drop its groups, in the host's mount
# namespace, where the kernel keeps the cache's folder).
. "$(dirname "$0")/lib.sh" "$@"
need systemd-analyze man
TOP=$(cd "$(dirname "$0")/../.." && pwd)
U=$TOP/systemd

declare -A MAX=(
	[dvol-gc.service]=2.0
	[dvol-nfs-wait@.service]=2.0
	[dvol-prepare@.service]=2.0
	[dvol-warm@.service]=2.0
	[dvol-mount@.service]=3.5
	[dvol-heal.service]=4.7
	[dvol-cachefilesd.service]=3.9
)

# The man pages the units name, where man(1) looks for them during the test.
mkdir -p "$T/man"
for m in "$TOP"/man/*.[1-8]; do
	s=${m##*.}
	mkdir -p "$T/man/man$s" && cp "$m" "$T/man/man$s/"
done
export MANPATH=$T/man:

# instance NAME: a unit to verify for file NAME (a template gets an instance).
instance() {
	case $1 in
	dvol-nfs-wait@.service) echo "dvol-nfs-wait@srv.service" ;;
	*@.service) echo "${1%@.service}@nvme1n1.service" ;;
	*) echo "$1" ;;
	esac
}

n_units=0
for f in "$U"/*.service "$U"/*.timer; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	n_units=$((n_units + 1))
	run_rc env SYSTEMD_UNIT_PATH="$U:" systemd-analyze verify "$(instance "$n")"
	if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
		ok "$n: systemd-analyze verify prints nothing"
	else
		not_ok "$n: systemd-analyze verify (rc=$RC) says:"
		printf '%s\n%s\n' "$OUT" "$ERR" | diag
	fi
done
check "every unit in systemd/ has a threshold or is a timer" \
	sh -c "for f in '$U'/*.service; do n=\$(basename \"\$f\"); case ' ${!MAX[*]} ' in *\" \$n \"*) ;; *) echo \"\$n\"; exit 1 ;; esac; done"

for n in "${!MAX[@]}"; do
	run_rc systemd-analyze security --offline=true --no-pager "$U/$n"
	score=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	echo "# $n: exposure $score (threshold ${MAX[$n]})"
	check "$n: systemd-analyze security scores ${score:-nothing} <= ${MAX[$n]}" \
		awk -v s="$score" -v m="${MAX[$n]}" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'
done

# The unit that mounts for the host has no mount namespace of its own.
# PrivateIPC= and IPCNamespacePath= count too: systemd mounts /dev/mqueue for them, in a
# mount namespace (the VM tier saw every mount of the unit go when it ended). PrivateNetwork=
# needs PrivateMounts=no beside it, which systemd 254 and later read as "no namespace".
for u in dvol-mount@.service dvol-heal.service dvol-cachefilesd.service; do
	ns_opts=$(grep -E '^(ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|PrivateMounts|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem|BindPaths|BindReadOnlyPaths|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectProc|ProcSubset|RootDirectory|RootImage|MountAPIVFS|RuntimeDirectory|PrivateIPC|IPCNamespacePath)=' \
		"$U/$u" | grep -vx 'PrivateMounts=no' | cut -d= -f1 | tr '\n' ' ')
	if grep -qE '^PrivateNetwork=(yes|true|1|on)' "$U/$u" &&
		! grep -qx 'PrivateMounts=no' "$U/$u"; then
		ns_opts="$ns_opts PrivateNetwork (without PrivateMounts=no)"
	fi
	check "$u sets no option that gives it a mount namespace of its own${ns_opts:+ (it sets: $ns_opts)}" \
		test -z "$ns_opts"
done

# dvol-generator's drop-ins beside systemd-fstab-generator's units verify cleanly too.
FG=/lib/systemd/system-generators/systemd-fstab-generator
if [ -x "$FG" ]; then
	g=$T/gen
	mkdir -p "$g/n" "$g/e" "$g/l"
	SYSTEMD_FSTAB=$TOP/tests/host/generator/nfs.fstab "$FG" "$g/n" "$g/e" "$g/l" 2>/dev/null
	SYSTEMD_FSTAB=$TOP/tests/host/generator/nfs.fstab "$BUILD/dvol-generator" "$g/n" "$g/e" "$g/l"
	for m in mnt-models.mount 'mnt-data\x20sets.mount' 'srv-v6\x2dshare.mount'; do
		run_rc env SYSTEMD_UNIT_PATH="$g/n:$U:" systemd-analyze verify "$m"
		if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
			ok "$m with dvol-generator's drop-in: systemd-analyze verify prints nothing"
		else
			not_ok "$m with dvol-generator's drop-in: systemd-analyze verify (rc=$RC) says:"
			printf '%s\n%s\n' "$OUT" "$ERR" | diag
		fi
	done
	# cache=local: the cache's unit with its drop-in, and a mount unit that wants it
	g=$T/gen-cache
	mkdir -p "$g/n" "$g/e" "$g/l"
	SYSTEMD_FSTAB=$TOP/tests/host/generator/cache.fstab "$FG" "$g/n" "$g/e" "$g/l" 2>/dev/null
	SYSTEMD_FSTAB=$TOP/tests/host/generator/cache.fstab "$BUILD/dvol-generator" "$g/n" "$g/e" "$g/l" 2>/dev/null
	for m in mnt-models.mount dvol-cachefilesd.service; do
		run_rc env SYSTEMD_UNIT_PATH="$g/n:$U:" systemd-analyze verify "$m"
		if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
			ok "$m with dvol-generator's cache drop-ins: systemd-analyze verify prints nothing"
		else
			not_ok "$m with dvol-generator's cache drop-ins: systemd-analyze verify (rc=$RC) says:"
			printf '%s\n%s\n' "$OUT" "$ERR" | diag
		fi
	done
else
	skip "no systemd-fstab-generator here"
fi

# A dvol-warm manifest's instance, with the generator's drop-in (RequiresMountsFor= its root).
g=$T/gen-warm
mkdir -p "$g/n"
SYSTEMD_FSTAB=$T/none DVOL_VOLUMES=$T/none DVOL_WARM_DIR=$TOP/tests/host/generator/warm.warm.d \
	"$BUILD/dvol-generator" "$g/n" 2>/dev/null
check "the generator wrote dvol-warm@llama.service's drop-in" test -f "$g/n/dvol-warm@llama.service.d/50-dvol.conf"
run_rc env SYSTEMD_UNIT_PATH="$g/n:$U:" systemd-analyze verify dvol-warm@llama.service
if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
	ok "dvol-warm@llama.service with dvol-generator's drop-in: systemd-analyze verify prints nothing"
else
	not_ok "dvol-warm@llama.service with dvol-generator's drop-in: systemd-analyze verify (rc=$RC) says:"
	printf '%s\n%s\n' "$OUT" "$ERR" | diag
fi
done_testing
