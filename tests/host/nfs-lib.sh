# shellcheck shell=bash
# NFS servers for host-tier tests: nfs-ganesha (a userspace NFS server) in a network
# namespace the test makes, so that its ports, and rpcbind's port 111 for v3, are the
# test's alone. Sourced after lib.sh. Servers stop by their pid files at exit; the
# namespaces are deleted by the names that were made.

NETNS=()
nfs_cleanup() {
	local p n
	for p in "$T"/nfs-*/*.pid; do
		[ -s "$p" ] || continue
		kill -CONT "$(cat "$p")" 2>/dev/null
		kill "$(cat "$p")" 2>/dev/null
	done
	sleep 0.2
	for p in "$T"/nfs-*/*.pid; do
		[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
}
on_exit nfs_cleanup

# netns_make NAME VAR: a fresh network namespace with lo up; its full name goes to VAR. It also
# gets a veth pair with 192.0.2.1 (TEST-NET-1, inside the namespace only): ganesha
# resolves its Bind_addr with AI_ADDRCONFIG, which finds nothing with loopback alone.
netns_make() {
	local n="dvol-$$-$1"
	ip netns add "$n" || return 1
	NETNS+=("$n")
	printf -v "$2" '%s' "$n"
	ip -n "$n" link set lo up &&
		ip -n "$n" link add dv0 type veth peer name dv1 &&
		ip -n "$n" addr add 192.0.2.1/24 dev dv0 &&
		ip -n "$n" link set dv0 up && ip -n "$n" link set dv1 up
}

# in_ns NS CMD...: run CMD in the network namespace NS.
in_ns() {
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

# nfs_server NS NAME PORT PROTOCOLS [MOUNTPORT]: start ganesha in NS on 127.0.0.1:PORT
# exporting $T/nfs-NAME/export (with sub/) as Pseudo /NAME (v4) and its path (v3).
# PROTOCOLS is "4" or "3,4"; v3 also starts rpcbind (port 111 of NS), and both run with a
# private /run so that neither touches the machine's rpcbind files.
# Waits until the server answers (up to 15 s); 0 when it does.
nfs_server() {
	local ns=$1 name=$2 port=$3 protos=$4 mport=${5:-$(($3 + 1000))}
	local d="$T/nfs-$name"
	mkdir -p "$d/export/sub" "$d/recov"
	echo "hello from $name" >"$d/export/sub/hello"
	cat >"$d/ganesha.conf" <<-CONF
	NFS_CORE_PARAM { NFS_Port = $port; MNT_Port = $mport; Protocols = $protos;
	  Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; Bind_addr = 127.0.0.1; }
	NFSV4 { Graceless = true; RecoveryRoot = "$d/recov"; }
	NFS_KRB5 { Active_krb5 = false; }
	EXPORT { Export_Id = 1; Path = "$d/export"; Pseudo = "/$name"; Access_Type = RW;
	  Squash = No_Root_Squash; SecType = sys; Protocols = $protos; Transports = TCP;
	  FSAL { Name = VFS; } }
	CONF
	# A private /run for rpcbind's socket and lock; the daemons keep the mount
	# namespace alive after the shell that made it is gone.
	in_ns "$ns" unshare --mount --propagation private -- sh -c '
		mount -t tmpfs nfs-run /run && mkdir -p /run/rpcbind /run/ganesha || exit 1
		if [ "${2#3}" != "$2" ]; then
			rpcbind -f -w & echo $! >"$1/rpcbind.pid"
			for i in $(seq 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
		fi
		exec ganesha.nfsd -f "$1/ganesha.conf" -L "$1/ganesha.log" -p "$1/ganesha.pid"
	' sh "$d" "$protos" || return 1
	for _ in $(seq 150); do
		in_ns "$ns" ss -ltn "sport = :$port" | grep -q LISTEN &&
			[ -s "$d/ganesha.pid" ] && return 0
		sleep 0.1
	done
	echo "# ganesha $name did not come up on port $port:" && diag <"$d/ganesha.log"
	return 1
}

nfs_pid() { cat "$T/nfs-$1/ganesha.pid"; }
nfs_stop() { # nfs_stop NAME: stop by the pid file, wait until it is gone
	local p
	p=$(nfs_pid "$1") || return 1
	kill "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
}

# fake_server NS NAME PORT MODE: a TCP server on 127.0.0.1:PORT in NS that is no NFS server,
# for the probe's error classes. MODE:
#   garbage  sends an HTTP error line (its first four bytes read as a 1.2 GB record marker)
#   huge     sends a record marker of 2 GiB - 1
#   flood    sends well-formed RPC replies to calls nobody made, without end
#   nullonly answers NULL of NFSv4, refuses NFSv3 (PROG_MISMATCH) and every other
#            procedure (PROC_UNAVAIL): it answers NULL, but no COMPOUND
# Waits until it listens; its pid file is $T/nfs-NAME/fake.pid.
fake_server() {
	local ns=$1 name=$2 port=$3 mode=$4 d="$T/nfs-$2"
	mkdir -p "$d"
	cat >"$T/fake-rpc.py" <<-'PY'
	import socket, struct, sys, threading
	port, mode = int(sys.argv[1]), sys.argv[2]
	def reply(xid, stat, extra=b""):
	    body = struct.pack(">IIIIII", xid, 1, 0, 0, 0, stat) + extra
	    return struct.pack(">I", 0x80000000 | len(body)) + body
	def serve(c):
	    try:
	        if mode == "garbage":
	            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	        elif mode == "huge":
	            c.sendall(b"\xff\xff\xff\xff" + b"\0" * 64)
	        elif mode == "flood":
	            chunk = reply(0xdeadbeef, 0) * 4096
	            while True:
	                c.sendall(chunk)
	        if mode != "nullonly":
	            while c.recv(65536):
	                pass
	            return
	        buf = b""
	        while True:
	            data = c.recv(65536)
	            if not data:
	                return
	            buf += data
	            while len(buf) >= 4:
	                n = struct.unpack(">I", buf[:4])[0] & 0x7fffffff
	                if len(buf) < 4 + n:
	                    break
	                rec, buf = buf[4:4 + n], buf[4 + n:]
	                xid, _, _, prog, vers, proc = struct.unpack(">IIIIII", rec[:24])
	                if prog == 100003 and vers != 4:
	                    c.sendall(reply(xid, 2, struct.pack(">II", 4, 4)))
	                elif proc == 0:
	                    c.sendall(reply(xid, 0))
	                else:
	                    c.sendall(reply(xid, 3))
	    except OSError:
	        pass
	    finally:
	        c.close()
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", port))
	s.listen(64)
	while True:
	    c, _ = s.accept()
	    threading.Thread(target=serve, args=(c,), daemon=True).start()
	PY
	ip netns exec "$ns" python3 "$T/fake-rpc.py" "$port" "$mode" >"$d/fake.log" 2>&1 &
	echo $! >"$d/fake.pid"
	for _ in $(seq 50); do
		in_ns "$ns" ss -ltn "sport = :$port" | grep -q LISTEN && return 0
		sleep 0.1
	done
	return 1
}

# hung_resolver NS: a DNS server on 127.0.0.53 in NS that reads every query and never
# answers, and $T/resolv.conf naming it. Run a command with it: with_resolv CMD...
# (a private /etc/resolv.conf in a mount namespace of that command's own).
hung_resolver() {
	mkdir -p "$T/nfs-resolver"
	printf 'nameserver 127.0.0.53\noptions timeout:5 attempts:2\n' >"$T/resolv.conf"
	ip netns exec "$1" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
while True:
    s.recv(4096)
' >/dev/null 2>&1 &
	echo $! >"$T/nfs-resolver/resolver.pid"
	for _ in $(seq 50); do
		in_ns "$1" ss -lun "sport = :53" | grep -q 127.0.0.53 && return 0
		sleep 0.1
	done
	return 1
}
with_resolv() {
	unshare --mount --propagation private -- sh -c \
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T/resolv.conf" "$@"
}
# with_hosts FILE CMD...: CMD sees FILE as /etc/hosts.
with_hosts() {
	local f=$1
	shift
	unshare --mount --propagation private -- sh -c \
		'mount --bind "$0" /etc/hosts && exec "$@"' "$f" "$@"
}

# ours NAME: pids of processes called NAME in this test's process group (the host tier
# runs each test in a group of its own), never another test's that runs beside it.
ours() { pgrep -g "$(awk '{print $5}' /proc/$$/stat)" -x "$1"; }
