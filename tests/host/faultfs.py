#!/usr/bin/python3
"""faultfs ROOT MOUNTPOINT CONTROL: ROOT as a FUSE filesystem on MOUNTPOINT, whose writes
and fsyncs of files named writer.lock do what the file CONTROL says: "ok" (pass), "eio"
(fail with EIO, as an NFS client that lost its lock state), "hang" (block until CONTROL
says otherwise, as a hard mount whose server no longer answers). "stall" blocks every call
on writer.lock, its lookup, open and reads too, as a server that answers nothing at all.
The host kernel has no NFS client: this is how the host tier meets a volume that stops
answering. Reads of a file whose name ends in ".eio" always fail with EIO, as a disk or a
server that cannot give that file's data (dvol-warm's failed reads).
"""
import errno
import os
import sys
import time

from fusepy import FUSE, FuseOSError, Operations


class FaultFS(Operations):
    def __init__(self, root, control):
        self.root = root
        self.control = control

    def _path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _mode(self):
        try:
            with open(self.control) as f:
                return f.read().strip()
        except OSError:
            return "ok"

    def _fault(self, path):
        if os.path.basename(path) != "writer.lock":
            return
        while True:
            mode = self._mode()
            if mode == "eio":
                raise FuseOSError(errno.EIO)
            if mode not in ("hang", "stall"):
                return
            time.sleep(0.05)

    def _stall(self, path):
        if os.path.basename(path) != "writer.lock":
            return
        while self._mode() == "stall":
            time.sleep(0.05)

    def getattr(self, path, fh=None):
        self._stall(path)
        st = os.lstat(self._path(path))
        keys = ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime",
                "st_ctime", "st_ino")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def readlink(self, path):
        return os.readlink(self._path(path))

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def unlink(self, path):
        os.unlink(self._path(path))

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self._path(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._path(path), times, follow_symlinks=False)

    def open(self, path, flags):
        self._stall(path)
        return os.open(self._path(path), flags & ~os.O_CREAT)

    def create(self, path, mode, fi=None):
        # The kernel reads through this handle too: open it for both.
        return os.open(self._path(path), os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, size, offset, fh):
        self._stall(path)
        if path.endswith(".eio"):
            raise FuseOSError(errno.EIO)
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._fault(path)
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        os.truncate(self._path(path), length)

    def fsync(self, path, datasync, fh):
        self._fault(path)
        os.fsync(fh)
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
                "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: faultfs ROOT MOUNTPOINT CONTROL")
    FUSE(FaultFS(sys.argv[1], sys.argv[3]), sys.argv[2], foreground=True, nothreads=False,
         fsname="faultfs", allow_other=True)


if __name__ == "__main__":
    main()
