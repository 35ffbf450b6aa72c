/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cleanup.h"
#include "libmount-util.h"
#include "timeutil.h"
#include "writer.h"

/* The fence's tries to make a busy mount read-only before it detaches it: 200 ms. */
#define FENCE_BUSY_TRIES    20
#define FENCE_BUSY_PAUSE_MS 10

/* The first line of a small file, without its newline, into BUF (SIZE). 0 or -errno. */
static int read_line(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int dvol_writer_identity(struct dvol_lease_record *ret)
{
	char buf[DVOL_LEASE_NFS_CLIENT_MAX + 2];
	struct dvol_lease_record r = {0};
	struct utsname u;
	int e;

	e = read_line("/etc/machine-id", buf, sizeof(buf));
	if (e < 0)
		return e;
	if (!dvol_lease_machine_id_valid(buf))
		return -EBADMSG;
	memcpy(r.machine_id, buf, DVOL_LEASE_MACHINE_ID_LEN + 1);
	e = read_line("/proc/sys/kernel/random/boot_id", buf, sizeof(buf));
	if (e < 0)
		return e;
	if (!dvol_lease_boot_id_valid(buf))
		return -EBADMSG;
	memcpy(r.boot_id, buf, DVOL_LEASE_BOOT_ID_LEN + 1);
	if (uname(&u) < 0)
		return -errno;
	snprintf(r.hostname, sizeof(r.hostname), "%s", u.nodename);
	/* The NFS client's identity in this network namespace (set by nfs-utils' udev rule),
	 * or the one of the whole machine; neither exists without the NFS client. */
	if (read_line("/sys/fs/nfs/net/nfs_client/identifier", buf, sizeof(buf)) < 0 || !buf[0] ||
	    strcmp(buf, "(null)") == 0)
		if (read_line("/sys/module/nfs/parameters/nfs4_unique_id", buf, sizeof(buf)) < 0)
			buf[0] = 0;
	for (const char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			buf[0] = 0;
			break;
		}
	snprintf(r.nfs_client, sizeof(r.nfs_client), "%s", buf);
	*ret = r;
	return 0;
}

/* The mount id and whether FD is a mount's root, without a word to the server: the fence
 * asks it of a mount whose server may not answer. Asked for the mount id alone, with
 * AT_STATX_DONT_SYNC, NFS and FUSE answer from what they hold. */
static int mount_id(int fd, uint64_t *ret)
{
	struct statx stx;

	if (statx(fd, "",
		  AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
		  STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID) || !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return -EOPNOTSUPP;
	if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return -EREMOTEIO;
	*ret = stx.stx_mnt_id;
	return 0;
}

int dvol_writer_mount_of(int target_fd, uint64_t *ret_id, char **ret_path)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	uint64_t id = 0;
	char *path;
	int r;

	r = mount_id(target_fd, &id);
	if (r < 0)
		return r;
	r = dvol_mountinfo_find_id(id, &tb, &fs);
	if (r < 0)
		return r;
	if (!mnt_fs_get_target(fs))
		return -ENOENT;
	path = strdup(mnt_fs_get_target(fs));
	if (!path)
		return -ENOMEM;
	*ret_id = id;
	*ret_path = path;
	return 0;
}

int dvol_writer_server_lease(const char *path, uint64_t *ret_ms)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *text = NULL;
	size_t size = 0, n = 0;

	fd = open("/proc/self/mountstats", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* One mount a few hundred bytes: a machine's worth fits in a few MiB. */
	for (;;) {
		ssize_t k;

		if (n + 1 >= size) {
			char *t;

			if (size >= 64u << 20)
				return -EFBIG;
			size = size ? size * 2 : 65536;
			t = realloc(text, size);
			if (!t)
				return -ENOMEM;
			text = t;
		}
		k = read(fd, text + n, size - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (!text)
		return -ENOENT;
	text[n] = 0;
	return dvol_lease_time_from_mountstats(text, path, ret_ms);
}

int dvol_writer_on_nfs(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	return sfs.f_type == NFS_SUPER_MAGIC;
}

int dvol_writer_mount_present(uint64_t mnt_id, const char *path)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	int r;

	r = dvol_mountinfo_find_id(mnt_id, &tb, &fs);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* An id is used again once its mount is gone: the same id somewhere else is not it. */
	return mnt_fs_get_target(fs) && strcmp(mnt_fs_get_target(fs), path) == 0;
}

int dvol_writer_clone_tree(int target_fd, int *ret_tree)
{
	/* Writable whatever the user's mount is: mount.dvol keeps that one read-only until
	 * the lease is held, and the lease is taken through this copy. */
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
	    .attr_clr = MOUNT_ATTR_RDONLY,
	};
	_cleanup_close_ int tree = -EBADF;

	tree = open_tree(target_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return -errno;
	/* A device node planted as the lock file must not open a device. */
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	*ret_tree = TAKE_FD(tree);
	return 0;
}

int dvol_writer_open_lock(int tree, bool create, int *ret_fd)
{
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	struct stat st;

	dfd = openat(tree, DVOL_LEASE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT && create) {
		if (mkdirat(tree, DVOL_LEASE_DIR, 0755) < 0 && errno != EEXIST)
			return -errno;
		dfd = openat(tree, DVOL_LEASE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (dfd < 0) {
		/* O_NOFOLLOW|O_DIRECTORY on a link: ELOOP, or ENOTDIR on some filesystems. */
		int r = -errno;

		if (r == -ENOTDIR && fstatat(tree, DVOL_LEASE_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return -ELOOP;
		return r;
	}
	/* O_NONBLOCK: a FIFO planted there must not hold the open up; O_NOFOLLOW with O_CREAT:
	 * a link, dangling or not, is ELOOP, and nothing is made where it points. */
	fd = openat(dfd, DVOL_LEASE_FILE,
		    (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			O_CLOEXEC,
		    0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_nlink != 1)
		return -EMLINK;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static struct flock lease_lock(short type)
{
	return (struct flock){
	    .l_type = type,
	    .l_whence = SEEK_SET,
	    .l_start = DVOL_LEASE_LOCK_START,
	    .l_len = DVOL_LEASE_LOCK_LEN,
	};
}

int dvol_writer_lock(int fd)
{
	struct flock fl = lease_lock(F_WRLCK);

	if (fcntl(fd, F_OFD_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

int dvol_writer_lock_held(int fd)
{
	struct flock fl = lease_lock(F_WRLCK);

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

int dvol_writer_read_record(int fd, struct dvol_lease_record *ret)
{
	/* One byte more than a record: a longer file is not one. */
	char buf[DVOL_LEASE_RECORD_SIZE + 1];
	size_t n = 0;

	while (n < sizeof(buf)) {
		ssize_t k = pread(fd, buf + n, sizeof(buf) - n, (off_t)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n == 0)
		return -ENODATA;
	return dvol_lease_record_parse(buf, n, ret);
}

int dvol_writer_write_record(int fd, const struct dvol_lease_record *r)
{
	char buf[DVOL_LEASE_RECORD_SIZE];
	size_t n = 0;
	int e;

	e = dvol_lease_record_encode(r, buf, sizeof(buf));
	if (e < 0)
		return e;
	while (n < sizeof(buf)) {
		ssize_t k = pwrite(fd, buf + n, sizeof(buf) - n, (off_t)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		n += (size_t)k;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

int dvol_writer_trim(int fd)
{
	return ftruncate(fd, DVOL_LEASE_RECORD_SIZE) < 0 ? -errno : 0;
}

/* PATH, opened afresh without following a link there, if it is still the mount MNT_ID. */
static int open_mount(const char *path, uint64_t mnt_id, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t id = 0;
	int r;

	fd = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
	r = mount_id(fd, &id);
	if (r == -EREMOTEIO || (r == 0 && id != mnt_id))
		return -ESTALE;
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_writer_set_rw(const char *path, uint64_t mnt_id)
{
	struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = open_mount(path, mnt_id, &fd);
	if (r < 0)
		return r;
	return mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

bool dvol_writer_fdinfo_writes(const char *text, uint64_t mnt_id)
{
	unsigned long long flags = 0, id = 0;
	bool have_flags = false, have_id = false;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "flags:", 6) == 0)
			have_flags = sscanf(l + 6, "%llo", &flags) == 1;
		else if (strncmp(l, "mnt_id:", 7) == 0)
			have_id = sscanf(l + 7, "%llu", &id) == 1;
	}
	return have_flags && have_id && id == mnt_id && (flags & O_ACCMODE) != O_RDONLY;
}

/* Does process PID (its /proc folder, PFD) have a file open for writing on MNT_ID? */
static bool process_writes(int pfd, uint64_t mnt_id)
{
	_cleanup_close_ int dfd = openat(pfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (!d)
		return false;
	dfd = -EBADF;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;
		char buf[512];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (dvol_writer_fdinfo_writes(buf, mnt_id))
			return true;
	}
	return false;
}

int dvol_writer_mount_writers(uint64_t mnt_id, pid_t *ret_pid)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (ret_pid)
		*ret_pid = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_close_ int pfd = -EBADF;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		pfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || !process_writes(pfd, mnt_id))
			continue;
		if (n++ == 0 && ret_pid)
			*ret_pid = (pid_t)pid;
	}
	return n;
}

int dvol_writer_fence(const char *path, uint64_t mnt_id, bool abort_rpcs,
		      enum dvol_writer_fenced *ret_how, int *ret_setattr_error)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (ret_setattr_error)
		*ret_setattr_error = 0;
	r = open_mount(path, mnt_id, &fd);
	if (r < 0)
		return r;
	/* EBUSY: a write is under way through the mount. One that is only passing (an open
	 * with O_CREAT, a touch) is gone in a moment; a file held open for writing is not, and
	 * then the mount is detached instead. */
	for (unsigned i = 0;; i++) {
		if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0) {
			*ret_how = DVOL_WRITER_FENCED_RO;
			return 0;
		}
		if (errno != EBUSY || i == FENCE_BUSY_TRIES)
			break;
		dvol_sleep_ms(FENCE_BUSY_PAUSE_MS);
	}
	if (ret_setattr_error)
		*ret_setattr_error = -errno;
	/* MNT_FORCE: NFS ends its requests in flight (umount_begin); the mount itself stays,
	 * busy. A write that was waiting on them is over, and may have been the last. */
	if (abort_rpcs && errno == EBUSY && umount2(path, MNT_FORCE | UMOUNT_NOFOLLOW) < 0 &&
	    errno == EBUSY) {
		dvol_sleep_ms(FENCE_BUSY_PAUSE_MS);
		if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0) {
			*ret_how = DVOL_WRITER_FENCED_RO;
			return 0;
		}
	}
	fd = safe_close(fd);
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return -errno;
	*ret_how = DVOL_WRITER_FENCED_DETACHED;
	return 0;
}
