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
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cleanup.h"
#include "fdutil.h"
#include "libmount-util.h"
#include "timeutil.h"
#include "writer.h"

/* The fence's tries to make a busy mount read-only before it detaches it: 200 ms. */
#define FENCE_BUSY_TRIES    20
#define FENCE_BUSY_PAUSE_MS 10

/* Linux 6.8; older headers lack it, older kernels leave it out of stx_mask. */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

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

/* The mount FD is the root of, with what tells it from a mount that took its id and its
 * place once it was gone: the id that is never used again, its root's st_dev and st_ino.
 * Asked as mount_id() asks: nothing goes to the server. */
static int mount_ident(int fd, struct dvol_writer_mount *ret)
{
	struct dvol_writer_mount m = {0};
	struct statx stx;
	int r;

	r = mount_id(fd, &m.id);
	if (r < 0)
		return r;
	/* Asked for the unique id, statx answers it in stx_mnt_id instead of the other. */
	if (statx(fd, "",
		  AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
		  STATX_MNT_ID_UNIQUE | STATX_INO, &stx) < 0)
		return -errno;
	if (stx.stx_mask & STATX_MNT_ID_UNIQUE)
		m.unique_id = stx.stx_mnt_id;
	m.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	m.ino = stx.stx_ino;
	*ret = m;
	return 0;
}

bool dvol_writer_mount_same(const struct dvol_writer_mount *a, const struct dvol_writer_mount *b)
{
	if (a->id != b->id || a->dev != b->dev || a->ino != b->ino)
		return false;
	return !a->unique_id || !b->unique_id || a->unique_id == b->unique_id;
}

int dvol_writer_mount_of(int target_fd, struct dvol_writer_mount *ret, char **ret_path)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	struct dvol_writer_mount m = {0};
	char *path;
	int r;

	r = mount_ident(target_fd, &m);
	if (r < 0)
		return r;
	r = dvol_mountinfo_find_id(m.id, &tb, &fs);
	if (r < 0)
		return r;
	if (!mnt_fs_get_target(fs))
		return -ENOENT;
	path = strdup(mnt_fs_get_target(fs));
	if (!path)
		return -ENOMEM;
	*ret = m;
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

int dvol_writer_mount_present(const struct dvol_writer_mount *m, const char *path)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct libmnt_fs *fs = NULL;
	struct dvol_writer_mount cur = {0};
	int r;

	r = dvol_mountinfo_find_id(m->id, &tb, &fs);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* An id is used again once its mount is gone: the same id somewhere else is not it. */
	if (!mnt_fs_get_target(fs) || strcmp(mnt_fs_get_target(fs), path) != 0)
		return 0;
	/* Nor is a mount that took its id at the same place. One mounted over it hides it from
	 * here: then the table's word stands. */
	fd = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || mount_ident(fd, &cur) < 0 || cur.id != m->id)
		return 1;
	return dvol_writer_mount_same(&cur, m);
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

/* PATH, opened afresh without following a link there, if it is still the mount M. */
static int open_mount(const char *path, const struct dvol_writer_mount *m, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct dvol_writer_mount cur = {0};
	int r;

	fd = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
	r = mount_ident(fd, &cur);
	if (r == -EREMOTEIO || (r == 0 && !dvol_writer_mount_same(&cur, m)))
		return -ESTALE;
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_writer_set_rw(const char *path, const struct dvol_writer_mount *m)
{
	struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = open_mount(path, m, &fd);
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

/* Does process PID (its /proc folder, PFD) have a file open for writing on one of IDS? */
static bool process_writes(int pfd, const uint64_t *ids, size_t n_ids)
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
		for (size_t i = 0; i < n_ids; i++)
			if (dvol_writer_fdinfo_writes(buf, ids[i]))
				return true;
	}
	return false;
}

int dvol_writer_mount_writers(const uint64_t *mnt_ids, size_t n_ids, pid_t *ret_pid)
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
		if (pfd < 0 || !process_writes(pfd, mnt_ids, n_ids))
			continue;
		if (n++ == 0 && ret_pid)
			*ret_pid = (pid_t)pid;
	}
	return n;
}

int dvol_writer_volume_of(uint64_t mnt_id, dev_t *ret_dev, char **ret_root)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	char *root;
	int r;

	r = dvol_mountinfo_find_id(mnt_id, &tb, &fs);
	if (r < 0)
		return r;
	root = strdup(mnt_fs_get_root(fs) ?: "/");
	if (!root)
		return -ENOMEM;
	*ret_dev = mnt_fs_get_devno(fs);
	*ret_root = root;
	return 0;
}

bool dvol_writer_root_within(const char *root, const char *vroot)
{
	size_t l = strlen(vroot);

	if (!root || root[0] != '/' || vroot[0] != '/')
		return false;
	if (strcmp(vroot, "/") == 0)
		return true;
	while (l > 1 && vroot[l - 1] == '/')
		l--;
	return strncmp(root, vroot, l) == 0 && (root[l] == 0 || root[l] == '/');
}

void dvol_writer_binds_free(struct dvol_writer_bind *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].target);
	free(b);
}

/* The binds of the volume in the mount namespace of PID (its /proc folder's name NAME). */
static int binds_in(const char *name, pid_t pid, dev_t dev, const char *vroot, uint64_t skip_id,
		    struct dvol_writer_bind **b, size_t *n)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	char path[300];

	if (!tb || !it)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%s/mountinfo", name);
	/* A process that ended meanwhile takes its namespace's view with it: not an error. */
	if (mnt_table_parse_file(tb, path) < 0)
		return 0;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		struct dvol_writer_bind *nb;
		const char *vfs = mnt_fs_get_vfs_options(fs);

		if (mnt_fs_get_devno(fs) != dev || (uint64_t)mnt_fs_get_id(fs) == skip_id ||
		    !dvol_writer_root_within(mnt_fs_get_root(fs), vroot) || !mnt_fs_get_target(fs))
			continue;
		nb = realloc(*b, (*n + 1) * sizeof(**b));
		if (!nb)
			return -ENOMEM;
		*b = nb;
		nb[*n] = (struct dvol_writer_bind){
		    .id = (uint64_t)mnt_fs_get_id(fs),
		    .pid = pid,
		    .target = strdup(mnt_fs_get_target(fs)),
		    .ro = vfs && mnt_optstr_get_option(vfs, "ro", NULL, NULL) == 0,
		};
		if (!nb[*n].target)
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

int dvol_writer_binds(dev_t dev, const char *vroot, uint64_t skip_id, struct dvol_writer_bind **ret,
		      size_t *ret_n)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	_cleanup_free_ ino_t *seen = NULL;
	struct dvol_writer_bind *b = NULL;
	size_t n = 0, n_seen = 0;
	struct dirent *de;
	struct stat self;
	int r = 0;

	if (!d)
		return -errno;
	/* This namespace's own mounts of the volume are not binds of TARGET alone: another
	 * holder's target, an administrator's mount of the whole export. */
	if (stat("/proc/self/ns/mnt", &self) < 0)
		return -errno;
	seen = malloc(sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	seen[n_seen++] = self.st_ino;
	while ((de = readdir(d))) {
		char path[300], *end;
		long pid = strtol(de->d_name, &end, 10);
		struct stat st;
		bool known = false;
		ino_t *ns;

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", de->d_name);
		if (stat(path, &st) < 0)
			continue;
		for (size_t i = 0; i < n_seen && !known; i++)
			known = seen[i] == st.st_ino;
		if (known)
			continue;
		ns = realloc(seen, (n_seen + 1) * sizeof(*seen));
		if (!ns) {
			r = -ENOMEM;
			break;
		}
		seen = ns;
		seen[n_seen++] = st.st_ino;
		r = binds_in(de->d_name, (pid_t)pid, dev, vroot, skip_id, &b, &n);
		if (r < 0)
			break;
	}
	if (r < 0) {
		dvol_writer_binds_free(b, n);
		return r;
	}
	*ret = b;
	*ret_n = n;
	return 0;
}

/* In the child, inside the bind's namespace: 'r' read-only, 'd' detached, 's' not that
 * mount any more, 'f' failed. */
static char fence_one(const struct dvol_writer_bind *b)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int fd = -EBADF;
	uint64_t id = 0;

	fd = open(b->target, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || mount_id(fd, &id) < 0 || id != b->id)
		return 's';
	for (unsigned i = 0;; i++) {
		if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)
			return 'r';
		if (errno != EBUSY || i == FENCE_BUSY_TRIES)
			break;
		dvol_sleep_ms(FENCE_BUSY_PAUSE_MS);
	}
	fd = safe_close(fd);
	return umount2(b->target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 ? 'd' : 'f';
}

int dvol_writer_fence_binds(const struct dvol_writer_bind *b, size_t n, unsigned *ret_ro,
			    unsigned *ret_detached)
{
	int first = 0;

	*ret_ro = *ret_detached = 0;
	for (size_t i = 0; i < n;) {
		char path[64], res[64];
		size_t j = i, k;
		int p[2], status = 0;
		ssize_t got;
		pid_t child;

		/* The binds of one namespace (they come in a row), in one child. */
		while (j < n && j - i < sizeof(res) && b[j].pid == b[i].pid)
			j++;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)b[i].pid);
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		child = fork();
		if (child < 0) {
			int r = -errno;

			safe_close(p[0]);
			safe_close(p[1]);
			return r;
		}
		if (child == 0) {
			int ns = open(path, O_RDONLY | O_CLOEXEC);

			safe_close(p[0]);
			if (ns < 0 || setns(ns, CLONE_NEWNS) < 0)
				_exit(1);
			for (k = i; k < j; k++) {
				char c = 'r';

				if (!b[k].ro)
					c = fence_one(&b[k]);

				if (write(p[1], &c, 1) != 1)
					_exit(1);
			}
			_exit(0);
		}
		safe_close(p[1]);
		got = dvol_read_all_until(p[0], res, j - i, dvol_now_ms() + 10000) == 0
			  ? (ssize_t)(j - i)
			  : 0;
		safe_close(p[0]);
		/* A child that did not answer in time is stuck in a mount that does not answer:
		 * left to end on its own (nobody waits for it). */
		(void)waitpid(child, &status, got ? 0 : WNOHANG);
		for (k = 0; k < j - i; k++) {
			char c = 'f';

			if (k < (size_t)got)
				c = res[k];

			if (c == 'r' && !b[i + k].ro)
				(*ret_ro)++;
			else if (c == 'd')
				(*ret_detached)++;
			else if (c == 'f' && !first)
				first = -EIO;
		}
		i = j;
	}
	return first;
}

int dvol_writer_fence(const char *path, const struct dvol_writer_mount *m, bool abort_rpcs,
		      enum dvol_writer_fenced *ret_how, int *ret_setattr_error)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (ret_setattr_error)
		*ret_setattr_error = 0;
	r = open_mount(path, m, &fd);
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
