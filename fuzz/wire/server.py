#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile NFS/RPC server for the wire fuzzer: the NFS port, the portmapper and MOUNT on
127.0.0.1, answering each call with a reply that the seed chooses: right, random,
truncated, oversized, reordered, with a wrong xid, denied (RPC_MISMATCH, AUTH_ERROR),
refused (PROG_MISMATCH, PROC_UNAVAIL...), with a huge record marker, dripped a byte at a
time, cut off mid-record, fragmented, duplicated, or not at all; or it floods the
connection. One seed gives the same choices for the same calls: a failure is replayed by
running the same round with the same seed.

server.py SEEDFILE NFS_PORT PMAP_PORT MOUNT_PORT LOG  (prints "ready" when it listens)

SEEDFILE holds the seed of the current round; each connection reads it when it is
accepted, and the connections of a round are numbered from 0 for each port, so that one
round replays alone with its seed.

A COMPOUND reply whose result count is near 2^32 makes libnfs 4.0 write through the NULL
that its allocation returns (SIGSEGV in zdr_malloc); a COMPOUND reply whose tag length
lies past the record (bad-lengths) makes it read past its buffer (SEGV in libnfs_zdr_u_int
under zdr_COMPOUND4res; seed 6075019 of t-wire-fuzz). Both helpers probe in child
processes of their own and survive both, so rounds send such replies too
(DVOL_WIRE_LIBNFS_ARRAY=0 leaves them out). A SEEDFILE that reads "libnfs-array" instead
of a seed makes every COMPOUND reply one.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

seed_file = sys.argv[1]
seed = None
huge_arrays = os.environ.get("DVOL_WIRE_LIBNFS_ARRAY") != "0"
nfs_port, pmap_port, mount_port = (int(a) for a in sys.argv[2:5])
log = open(sys.argv[5], "a", buffering=1)
lock = threading.Lock()
conn_no = {}

NFS, PMAP, MOUNT = 100003, 100000, 100005
# How a connection behaves: mostly a server that answers, so that the decoders behind the
# RPC layer are reached, with every kind of fault mixed in.
CONN_MODES = ["answer"] * 6 + ["mixed"] * 6 + ["garbage", "huge", "drip", "silent",
              "flood", "close", "reorder", "mismatch"]
FAULTS = ["random", "truncate", "huge-marker", "wrong-xid", "rpc-mismatch", "auth-error",
          "prog-mismatch", "prog-unavail", "proc-unavail", "garbage-args", "system-err",
          "drip", "close-mid", "fragments", "duplicate", "none", "trailing", "bad-lengths",
          "zero-marker", "short-header", "call-not-reply"]


def say(msg):
    with lock:
        log.write(msg + "\n")


def xdr_u32(v):
    return struct.pack(">I", v & 0xffffffff)


def xdr_opaque(b):
    return xdr_u32(len(b)) + b + b"\0" * (-len(b) % 4)


def accepted(xid, stat=0, body=b""):
    return xdr_u32(xid) + xdr_u32(1) + xdr_u32(0) + xdr_u32(0) + xdr_u32(0) + xdr_u32(stat) + body


def record(body, last=True):
    return xdr_u32((0x80000000 if last else 0) | len(body)) + body


def exports(rng):
    out = b""
    n = rng.choice([0, 1, 2, 3, 50, 400])
    for i in range(n):
        d = rng.choice([b"/export", b"/", b"/export/sub", b"/other", b"/ex port",
                        bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40))),
                        b"/" + b"a" * rng.choice([10, 255, 1024, 4000])])
        out += xdr_u32(1) + xdr_opaque(d)
        for g in range(rng.choice([0, 0, 1, 3])):
            out += xdr_u32(1) + xdr_opaque(b"group%d" % g)
        out += xdr_u32(0)
    return out + xdr_u32(0)


def answer(rng, prog, vers, proc, args):
    """The results of a call, right or plausibly wrong."""
    if proc == 0:
        return 0, b""
    if prog == PMAP and proc == 3:
        return 0, xdr_u32(rng.choice([mount_port] * 4 + [0, 65535, 65536, 0xffffffff]))
    if prog == MOUNT and proc == 5:
        return 0, exports(rng)
    if prog == NFS and vers == 4 and proc == 1:
        status = rng.choice([0, 0, 0, 10021, 2, 20, 13, 1, 10016, 10006])
        tag = rng.choice([b"", b"tag", bytes(rng.getrandbits(8) for _ in range(8))])
        nres = rng.choice([0, 0, 1, 2, 1000, 0x7fff] + ([0xffffffff, 0x1bacf92] if huge_arrays else []))
        res = b""
        if nres in (1, 2):
            # PUTROOTFH (24) then LOOKUP (15), each with its status.
            res = xdr_u32(24) + xdr_u32(0) + (xdr_u32(15) + xdr_u32(status) if nres == 2 else b"")
        say("    compound status=%d results=%#x" % (status, nres))
        return 0, xdr_u32(status) + xdr_opaque(tag) + xdr_u32(nres) + res
    return 3, b""


def reply_for(rng, xid, prog, vers, proc, args, fault):
    """Bytes to send for one call, and how (a list of (bytes, delay) chunks), or None to
    close the connection after them."""
    stat, res = answer(rng, prog, vers, proc, args)
    good = record(accepted(xid, stat, res))
    if fault == "random":
        return [(record(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))), 0)], True
    if fault == "truncate":
        return [(good[: rng.randint(1, max(1, len(good) - 1))], 0)], False
    if fault == "huge-marker":
        m = rng.choice([0x7fffffff, 0xffffffff, 64 << 20, 4 << 20, 1 << 20])
        return [(xdr_u32(m) + good[4:], 0)], rng.random() < 0.5
    if fault == "wrong-xid":
        return [(record(accepted(xid ^ rng.getrandbits(32), stat, res)), 0)], True
    if fault == "rpc-mismatch":
        return [(record(xdr_u32(xid) + xdr_u32(1) + xdr_u32(1) + xdr_u32(0) + xdr_u32(2)
                        + xdr_u32(2)), 0)], True
    if fault == "auth-error":
        return [(record(xdr_u32(xid) + xdr_u32(1) + xdr_u32(1) + xdr_u32(1)
                        + xdr_u32(rng.choice([1, 2, 5, 7, 99]))), 0)], True
    if fault == "prog-mismatch":
        return [(record(accepted(xid, 2, xdr_u32(rng.choice([2, 3, 5])) + xdr_u32(rng.choice([3, 4, 0])))), 0)], True
    if fault in ("prog-unavail", "proc-unavail", "garbage-args", "system-err"):
        s = {"prog-unavail": 1, "proc-unavail": 3, "garbage-args": 4, "system-err": 5}[fault]
        return [(record(accepted(xid, s)), 0)], True
    if fault == "drip":
        return [(good[i:i + 1], rng.choice([0.01, 0.05, 0.2])) for i in range(len(good))], True
    if fault == "close-mid":
        return [(good[: max(5, len(good) // 2)], 0)], False
    if fault == "fragments":
        body = accepted(xid, stat, res)
        cut = rng.randint(0, len(body))
        return [(record(body[:cut], last=False) + record(body[cut:]), 0)], True
    if fault == "duplicate":
        return [(good * rng.choice([2, 3, 50]), 0)], True
    if fault == "none":
        return [], True
    if fault == "trailing":
        return [(record(accepted(xid, stat, res) + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))), 0)], True
    if fault == "bad-lengths" and prog == NFS and vers == 4 and proc == 1 and not huge_arrays:
        fault = "truncate"  # libnfs 4.0 reads past its buffer: see the top of this file
    if fault == "truncate":
        return [(good[: rng.randint(1, max(1, len(good) - 1))], 0)], False
    if fault == "bad-lengths":
        # The results' lengths lie: a count or a string length far past the record.
        return [(record(accepted(xid, stat, xdr_u32(1) + xdr_u32(rng.choice([0xffffffff, 0x7ffffff0, 1 << 20])) + b"abc")), 0)], True
    if fault == "zero-marker":
        return [(xdr_u32(0x80000000) + good, 0)], True
    if fault == "short-header":
        return [(record(xdr_u32(xid) + xdr_u32(1)), 0)], True
    if fault == "call-not-reply":
        return [(record(xdr_u32(xid) + xdr_u32(0) + xdr_u32(2) + xdr_u32(prog)), 0)], True
    return [(good, 0)], True


def serve(c, kind):
    global seed
    with lock:
        with open(seed_file) as f:
            text = f.read().strip()
        # "libnfs-array": every COMPOUND reply claims 2^32-1 results, nothing else.
        crash = text == "libnfs-array"
        s = 0 if crash else int(text or 0)
        if s != seed:
            seed = s
            conn_no.clear()
        n = conn_no.get(kind, 0)
        conn_no[kind] = n + 1
    rng = random.Random("%d-%s-%d" % (s, kind, n))
    mode = "libnfs-array" if crash else rng.choice(CONN_MODES)
    say("seed %d conn %s#%d mode %s" % (s, kind, n, mode))
    held = []
    try:
        if mode == "garbage":
            c.sendall(bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 3, 4, 100, 5000]))))
        elif mode == "huge":
            c.sendall(b"\x7f\xff\xff\xff" + b"\0" * rng.choice([0, 64, 70000]))
        elif mode == "close":
            return
        elif mode == "flood":
            chunk = record(accepted(rng.getrandbits(32))) * 1024
            for _ in range(rng.choice([10, 300, 2000])):  # up to ~50 MB
                c.sendall(chunk)
        buf = b""
        while True:
            data = c.recv(65536)
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                m = struct.unpack(">I", buf[:4])[0]
                ln = m & 0x7fffffff
                if len(buf) < 4 + ln:
                    break
                rec, buf = buf[4:4 + ln], buf[4 + ln:]
                if len(rec) < 24:
                    return
                xid, _, _, prog, vers, proc = struct.unpack(">IIIIII", rec[:24])
                if mode in ("garbage", "huge", "silent", "flood"):
                    continue
                if mode == "libnfs-array":
                    res = b""
                    if prog == NFS and proc == 1:
                        res = xdr_u32(0) + xdr_opaque(b"") + xdr_u32(0xffffffff)
                    say("  call xid=%08x prog=%d vers=%d proc=%d -> libnfs-array" % (xid, prog, vers, proc))
                    c.sendall(record(accepted(xid, 0 if proc in (0, 1) else 3, res)))
                    continue
                if mode == "mismatch":
                    fault = rng.choice(["rpc-mismatch", "prog-mismatch", "prog-unavail", "auth-error"])
                elif mode == "answer":
                    fault = "good" if rng.random() < 0.9 else rng.choice(FAULTS)
                elif mode == "reorder":
                    fault = "good"
                else:
                    fault = rng.choice(FAULTS + ["good"] * 4)
                chunks, keep = reply_for(rng, xid, prog, vers, proc, rec[24:], fault)
                say("  call xid=%08x prog=%d vers=%d proc=%d -> %s" % (xid, prog, vers, proc, fault))
                if mode == "reorder":
                    held.extend(chunks)
                    if len(held) >= rng.choice([2, 3, 4]):
                        rng.shuffle(held)
                        for b, _ in held:
                            c.sendall(b)
                        held = []
                    continue
                for b, delay in chunks:
                    c.sendall(b)
                    if delay:
                        time.sleep(delay)
                if not keep:
                    return
    except OSError:
        pass
    finally:
        c.close()


def listen(port, kind):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, kind), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


listen(nfs_port, "nfs")
listen(pmap_port, "pmap")
listen(mount_port, "mount")
print("ready", flush=True)
while True:
    time.sleep(3600)
