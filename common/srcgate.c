/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "libmount-util.h"
#include "srcgate.h"
#include "strv.h"

bool dvol_src_gate_wanted(const struct dvol_src_gate_want *w)
{
	return w->mounted || w->at || w->fs;
}

bool dvol_fs_in_list(const char *fstype, const char *list)
{
	size_t tl;

	if (!fstype || !list)
		return false;
	tl = strlen(fstype);
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, "|");

		if ((l == tl && strncmp(p, fstype, l) == 0) ||
		    (l == 3 && strncmp(p, "nfs", 3) == 0 && strcmp(fstype, "nfs4") == 0))
			return true;
		p += l;
		if (*p == '|')
			p++;
	}
	return false;
}

enum dvol_src_gate_why dvol_src_gate_decide(const struct dvol_src_gate_want *w,
					    const struct dvol_src_gate_facts *f)
{
	if (w->at && f->at_mnt_id == 0)
		return DVOL_SRC_GATE_AT_NONE;
	if (w->at && f->mnt_id != f->at_mnt_id)
		return DVOL_SRC_GATE_NOT_AT;
	if (w->mounted && f->mnt_id == f->root_mnt_id)
		return DVOL_SRC_GATE_ON_ROOT;
	if (w->fs && !dvol_fs_in_list(f->fstype, w->fs))
		return DVOL_SRC_GATE_FS;
	return DVOL_SRC_GATE_OK;
}

int dvol_src_gate_explain(enum dvol_src_gate_why why, const char *path,
			  const struct dvol_src_gate_want *w, const struct dvol_src_gate_facts *f,
			  char **ret_text)
{
	const char *on = f->mnt_target ? f->mnt_target : "?";
	const char *type = f->fstype ? f->fstype : "an unknown filesystem";
	char *t = NULL;

	*ret_text = NULL;
	switch (why) {
	case DVOL_SRC_GATE_OK:
		return 0;
	case DVOL_SRC_GATE_ON_ROOT:
		(void)dvol_strextendf(
		    &t, NULL,
		    "source %s lies on the root filesystem, not on a volume "
		    "mounted beneath it (source-mounted): nothing was bound. Mount "
		    "its volume first, or drop the option if the folder belongs on "
		    "the root disk",
		    path);
		break;
	case DVOL_SRC_GATE_AT_NONE:
		(void)dvol_strextendf(
		    &t, NULL,
		    "source %s must lie on the volume mounted at %s "
		    "(source-mounted=), and nothing is mounted there: nothing was "
		    "bound. Mount that volume first",
		    path, w->at ? w->at : "?");
		break;
	case DVOL_SRC_GATE_NOT_AT:
		(void)dvol_strextendf(
		    &t, NULL,
		    "source %s lies on %s mounted at %s, not on the volume mounted "
		    "at %s (source-mounted=), maybe through a symbolic link on the "
		    "way: nothing was bound. Give a folder of that volume",
		    path, type, on, w->at ? w->at : "?");
		break;
	case DVOL_SRC_GATE_FS:
		(void)dvol_strextendf(
		    &t, NULL,
		    "source %s lies on %s mounted at %s, and source-fs=%s asks for "
		    "another filesystem: nothing was bound. Is its volume mounted?",
		    path, type, on, w->fs ? w->fs : "?");
		break;
	default:
		(void)dvol_strextendf(&t, NULL, "source %s is not where it must be", path);
		break;
	}
	if (!t)
		return -ENOMEM;
	*ret_text = t;
	return -EINVAL;
}

static int mnt_id_of(int dfd, const char *path, int flags, uint64_t *ret, bool *ret_root)
{
	struct statx stx;

	if (statx(dfd, path, flags, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	*ret = stx.stx_mnt_id;
	if (ret_root)
		*ret_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return 0;
}

void dvol_src_gate_facts_done(struct dvol_src_gate_facts *f)
{
	free(f->fstype);
	free(f->mnt_target);
	*f = (struct dvol_src_gate_facts){0};
}

int dvol_src_gate_facts(int fd, const char *at, struct dvol_src_gate_facts *ret)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct dvol_src_gate_facts f = {0};
	struct libmnt_fs *fs = NULL;
	int r;

	r = mnt_id_of(fd, "", AT_EMPTY_PATH, &f.mnt_id, NULL);
	if (r < 0)
		return r;
	r = mnt_id_of(AT_FDCWD, "/", 0, &f.root_mnt_id, NULL);
	if (r < 0)
		return r;
	if (at) {
		bool root = false;

		/* Followed like any path: PATH is the volume's mount point, and what counts is
		 * what is mounted there now. */
		r = mnt_id_of(AT_FDCWD, at, 0, &f.at_mnt_id, &root);
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
			return r;
		if (r < 0 || !root)
			f.at_mnt_id = 0;
	}

	r = dvol_mountinfo_find_id(f.mnt_id, &tb, &fs);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 &&
	    ((mnt_fs_get_fstype(fs) && !(f.fstype = strdup(mnt_fs_get_fstype(fs)))) ||
	     (mnt_fs_get_target(fs) && !(f.mnt_target = strdup(mnt_fs_get_target(fs)))))) {
		dvol_src_gate_facts_done(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

int dvol_open_existing_ancestor(const char *path, int *ret_fd)
{
	_cleanup_free_ char *p = strdup(path);
	int fd;

	if (!p)
		return -ENOMEM;
	if (p[0] != '/')
		return -EINVAL;
	for (;;) {
		char *slash;

		fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			*ret_fd = fd;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(p, '/');
		if (slash == p) {
			p[1] = 0;
		} else {
			*slash = 0;
		}
	}
}
