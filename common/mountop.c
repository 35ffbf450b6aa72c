/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <libmount/libmount.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "libmount-util.h"
#include "mountop.h"

/* PATH without its trailing slashes ("/x/m//" names "/x/m", as for realpath(3)), split
 * into the parent folder and the last component. "/" and "//" have no last component:
 * *ret_parent is "/" and *ret_last NULL. */
static int split_parent(const char *path, char **ret_parent, char **ret_last)
{
	_cleanup_free_ char *p = NULL;
	size_t n = strlen(path);
	char *slash;

	if (path[0] != '/')
		return -EINVAL;
	while (n > 1 && path[n - 1] == '/')
		n--;
	p = strndup(path, n);
	if (!p)
		return -ENOMEM;
	if (strcmp(p, "/") == 0) {
		*ret_parent = TAKE_PTR(p);
		*ret_last = NULL;
		return 0;
	}
	slash = strrchr(p, '/');
	*ret_last = strdup(slash + 1);
	if (!*ret_last)
		return -ENOMEM;
	if (slash == p)
		slash[1] = '\0';
	else
		slash[0] = '\0';
	*ret_parent = TAKE_PTR(p);
	return 0;
}

int dvol_open_dir(const char *path, int *ret_fd)
{
	_cleanup_free_ char *parent = NULL, *last = NULL;
	_cleanup_close_ int pfd = -EBADF;
	struct stat st;
	int fd, r;

	r = split_parent(path, &parent, &last);
	if (r < 0)
		return r;
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (!last) {
		*ret_fd = TAKE_FD(pfd);
		return 0;
	}
	fd = openat(pfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
	}
	*ret_fd = fd;
	return 0;
}

int dvol_mkdir_p(const char *path, mode_t mode, uid_t uid, gid_t gid, bool *ret_created)
{
	_cleanup_close_ int dfd = -EBADF;
	const char *p = path;
	bool created = false;

	if (path[0] != '/')
		return -EINVAL;
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;

	while (*p) {
		char name[NAME_MAX + 1];
		size_t l;
		bool last;
		int fd;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l = strcspn(p, "/");
		if (l > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, l);
		name[l] = 0;
		p += l;
		last = p[strspn(p, "/")] == 0;

		/* Existing parents are followed like any path; what we make is never a link. */
		fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | (last ? O_NOFOLLOW : 0));
		if (fd < 0 && errno == ENOENT) {
			bool made = mkdirat(dfd, name, last ? (mode & 07777) : 0755) == 0;

			if (!made && errno != EEXIST)
				return -errno;
			/* Made by another process in between: theirs, so not chmod'ed. */
			created = last && made;
			fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && created) {
				/* mkdirat() obeyed the umask: set the mode we were asked for. */
				_cleanup_close_ int rfd = openat(
				    dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (rfd < 0 || fchmod(rfd, mode & 07777) < 0 ||
				    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
				     fchown(rfd, uid, gid) < 0)) {
					int r = -errno;
					close(fd);
					return r;
				}
			}
		}
		if (fd < 0)
			return errno == ENOTDIR && last ? -ELOOP : -errno;
		safe_close(dfd);
		dfd = fd;
	}
	if (ret_created)
		*ret_created = created;
	return 0;
}

int dvol_bind_fd(int src_fd, int target_fd, unsigned long mflags)
{
	_cleanup_close_ int tree = -EBADF;

	tree = open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return -errno;

	return dvol_mount_attach(tree, target_fd, mflags);
}

#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x00000200
#endif

int dvol_mount_replace(int tree, const char *target, bool beneath, bool *ret_atomic)
{
	*ret_atomic = false;
	if (beneath) {
		/* Kernels before 6.5 answer EINVAL for the flag; so does one that cannot
		 * go beneath this mount (the root, or a propagation it forbids). */
		if (move_mount(tree, "", AT_FDCWD, target,
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH) == 0) {
			*ret_atomic = true;
			return umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
		}
		if (errno != EINVAL)
			return -errno;
	}
	if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return -errno;
	if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -EREMCHG;
	return 0;
}

void dvol_mount_info_done(struct dvol_mount_info *mi)
{
	free(mi->source);
	free(mi->root);
	free(mi->fstype);
	free(mi->options);
	free(mi->fs_options);
	*mi = (struct dvol_mount_info){0};
}

bool dvol_same_inode(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* What FS shows, into *RET. 0 or -ENOMEM. */
static int mount_info_fill(struct libmnt_fs *fs, struct dvol_mount_info *ret)
{
	*ret = (struct dvol_mount_info){0};
#define DUP(field, getter)                                                                         \
	do {                                                                                       \
		const char *v_ = getter(fs);                                                       \
		if (v_ && !(ret->field = strdup(v_))) {                                            \
			dvol_mount_info_done(ret);                                                 \
			return -ENOMEM;                                                            \
		}                                                                                  \
	} while (0)
	DUP(source, mnt_fs_get_source);
	DUP(root, mnt_fs_get_root);
	DUP(fstype, mnt_fs_get_fstype);
	DUP(options, mnt_fs_get_vfs_options);
	DUP(fs_options, mnt_fs_get_fs_options);
#undef DUP
	ret->devno = mnt_fs_get_devno(fs);
	ret->ro = mnt_fs_get_vfs_options(fs) &&
		  mnt_optstr_get_option(mnt_fs_get_vfs_options(fs), "ro", NULL, NULL) == 0;
	return 0;
}

int dvol_mount_info_at(int fd, struct dvol_mount_info *ret)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *found = NULL;
	struct statx stx;
	int r;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return -EOPNOTSUPP;
	if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return 0;

	r = dvol_mountinfo_find_id(stx.stx_mnt_id, &tb, &found);
	if (r < 0)
		return r;
	/* An automount point (x-systemd.automount) is where the real mount goes: it is
	 * mounted over, as mount(8) does. */
	if (mnt_fs_get_fstype(found) && strcmp(mnt_fs_get_fstype(found), "autofs") == 0)
		return 0;
	if (!ret)
		return 1;
	r = mount_info_fill(found, ret);
	return r < 0 ? r : 1;
}

int dvol_mount_info_top(const char *target, struct dvol_mount_info *ret)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
	struct libmnt_fs *fs;
	int r;

	if (!tb)
		return -ENOMEM;
	r = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (r < 0)
		return r;
	/* No cache is set: libmount compares the strings, and touches no path. */
	fs = mnt_table_find_target(tb, target, MNT_ITER_BACKWARD);
	if (!fs)
		return 0;
	r = mount_info_fill(fs, ret);
	return r < 0 ? r : 1;
}

void dvol_mount_attr_from_flags(unsigned long mflags, struct mount_attr *attr)
{
	*attr = (struct mount_attr){0};
	if (mflags & MS_RDONLY)
		attr->attr_set |= MOUNT_ATTR_RDONLY;
	if (mflags & MS_NOSUID)
		attr->attr_set |= MOUNT_ATTR_NOSUID;
	if (mflags & MS_NODEV)
		attr->attr_set |= MOUNT_ATTR_NODEV;
	if (mflags & MS_NOEXEC)
		attr->attr_set |= MOUNT_ATTR_NOEXEC;
	if (mflags & MS_NODIRATIME)
		attr->attr_set |= MOUNT_ATTR_NODIRATIME;
	if (mflags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
		attr->attr_clr |= MOUNT_ATTR__ATIME;
		attr->attr_set |= mflags & MS_NOATIME	    ? MOUNT_ATTR_NOATIME
				  : mflags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME
							    : MOUNT_ATTR_RELATIME;
	}
}

enum dvol_mount_match dvol_mount_same(const struct dvol_mount_info *mi, bool same_dev,
				      const char *root, bool want_ro)
{
	if (!same_dev || (root && (!mi->root || strcmp(mi->root, root) != 0)))
		return DVOL_MOUNT_OTHER;
	return mi->ro == want_ro ? DVOL_MOUNT_SAME : DVOL_MOUNT_SAME_BUT_RO;
}

int dvol_mount_dev(const char *fstype, const char *node, const char *fsopts, bool ro, int *ret_mfd)
{
	_cleanup_close_ int fsfd = -EBADF;
	char *p = (char *)fsopts, *name, *value;
	size_t namesz, valuesz;
	int mfd;

	fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", node, 0) < 0)
		return -errno;
	while (p && mnt_optstr_next_option(&p, &name, &namesz, &value, &valuesz) == 0) {
		_cleanup_free_ char *k = strndup(name, namesz);
		_cleanup_free_ char *v = value ? strndup(value, valuesz) : NULL;

		if (!k || (value && !v))
			return -ENOMEM;
		if (fsconfig(fsfd, v ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, k, v, 0) < 0)
			return -errno;
	}
	/* MOUNT_ATTR_RDONLY on the mount alone leaves the filesystem itself read-write: a
	 * journal replayed, a mount count and times written. */
	if (ro && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return -errno;
	*ret_mfd = mfd;
	return 0;
}

int dvol_mount_set_sb_ro(int mfd)
{
	_cleanup_close_ int fsfd = -EBADF;

	fsfd = fspick(mfd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

int dvol_mount_chmod_root(int mfd, mode_t mode, uid_t uid, gid_t gid)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (mode != (mode_t)-1 && fchmod(fd, mode & 07777) < 0)
		return -errno;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		return -errno;
	return 0;
}

int dvol_mount_attach(int mfd, int target_fd, unsigned long mflags)
{
	struct mount_attr attr = {0};

	dvol_mount_attr_from_flags(mflags, &attr);
	if ((attr.attr_set || attr.attr_clr) &&
	    mount_setattr(mfd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return -errno;
	return 0;
}

/* Filesystems that hold the kernel's state and interfaces, never data: bound into a
 * container they would hand it the host's processes, devices or controls. devtmpfs is not
 * here: its f_type is tmpfs's, so it is told by the filesystem mounted on /dev. */
static const struct {
	uint64_t magic;
	const char *name;
} kernel_fs[] = {
    {PROC_SUPER_MAGIC, "proc"},
    {SYSFS_MAGIC, "sysfs"},
    {DEVPTS_SUPER_MAGIC, "devpts"},
    {CGROUP_SUPER_MAGIC, "cgroup"},
    {CGROUP2_SUPER_MAGIC, "cgroup2"},
    {SECURITYFS_MAGIC, "securityfs"},
    {DEBUGFS_MAGIC, "debugfs"},
    {TRACEFS_MAGIC, "tracefs"},
    {BPF_FS_MAGIC, "bpf"},
    {EFIVARFS_MAGIC, "efivarfs"},
    {PSTOREFS_MAGIC, "pstore"},
    {SELINUX_MAGIC, "selinuxfs"},
    {SMACK_MAGIC, "smackfs"},
    {BINFMTFS_MAGIC, "binfmt_misc"},
    {NSFS_MAGIC, "nsfs"},
    {0x62656570 /* configfs */, "configfs"},
    {0x19800202 /* mqueue */, "mqueue"},
    {0x65735543 /* fusectl */, "fusectl"},
};

enum dvol_bind_src_why dvol_bind_src_decide(const struct dvol_bind_src_facts *f,
					    const char **ret_what)
{
	const struct {
		const struct dvol_file_id *id;
		unsigned have;
		const char *name;
	} sys[] = {{&f->dev, DVOL_BIND_HAVE_DEV, "/dev"},
		   {&f->proc, DVOL_BIND_HAVE_PROC, "/proc"},
		   {&f->sys, DVOL_BIND_HAVE_SYS, "/sys"}};
	bool have_root = f->have & DVOL_BIND_HAVE_ROOT;

	*ret_what = NULL;
	if (have_root && dvol_file_id_equal(&f->src, &f->root)) {
		*ret_what = "/";
		return DVOL_BIND_SRC_ROOT;
	}
	for (size_t i = 0; i < ELEMENTSOF(kernel_fs); i++)
		if (f->f_type == kernel_fs[i].magic) {
			*ret_what = kernel_fs[i].name;
			return DVOL_BIND_SRC_KERNEL_FS;
		}
	for (size_t i = 0; i < ELEMENTSOF(sys); i++) {
		const struct dvol_file_id *s = sys[i].id;
		/* A filesystem of its own there (devtmpfs on /dev): anything on it, wherever
		 * else it is mounted. A plain folder of the root filesystem: that folder. */
		bool own_fs = have_root && s->dev != f->root.dev;

		if (!(f->have & sys[i].have))
			continue;
		if (dvol_file_id_equal(&f->src, s) || (own_fs && f->src.dev == s->dev)) {
			*ret_what = sys[i].name;
			return DVOL_BIND_SRC_SYSTEM;
		}
	}
	return DVOL_BIND_SRC_OK;
}

/* Sets *ret and BIT in *have if PATH could be looked at; leaves both alone if not. */
static void file_id(const char *path, unsigned bit, struct dvol_file_id *ret, unsigned *have)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return;
	*ret = (struct dvol_file_id){.dev = st.st_dev, .ino = st.st_ino};
	*have |= bit;
}

int dvol_bind_src_facts(int src_fd, struct dvol_bind_src_facts *ret)
{
	struct statfs sfs;
	struct stat st;

	if (fstat(src_fd, &st) < 0 || fstatfs(src_fd, &sfs) < 0)
		return -errno;
	*ret = (struct dvol_bind_src_facts){
	    .src = {.dev = st.st_dev, .ino = st.st_ino},
	    .f_type = (uint64_t)sfs.f_type,
	};
	file_id("/", DVOL_BIND_HAVE_ROOT, &ret->root, &ret->have);
	file_id("/dev", DVOL_BIND_HAVE_DEV, &ret->dev, &ret->have);
	file_id("/proc", DVOL_BIND_HAVE_PROC, &ret->proc, &ret->have);
	file_id("/sys", DVOL_BIND_HAVE_SYS, &ret->sys, &ret->have);
	return 0;
}
