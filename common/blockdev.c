/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "blkdecide.h"
#include "blockdev.h"
#include "cleanup.h"
#include "strv.h"
#include "timeutil.h"

DEFINE_CLEANUP_FUNC(blkid_probe, blkid_free_probe)

#define MIB		 (UINT64_C(1024) * 1024)
#define POLL_INTERVAL_MS 100

void dvol_blk_dev_done(struct dvol_blk_dev *d)
{
	free(d->node);
	free(d->serial);
	free(d->model);
	free(d->ident);
	free(d->found_via);
	*d = (struct dvol_blk_dev){0};
}

void dvol_blk_verdict_done(struct dvol_blk_verdict *v)
{
	free(v->fstype);
	free(v->uuid);
	free(v->label);
	*v = (struct dvol_blk_verdict){0};
}

/* udev globs, the very list of udev/60-dvol.rules (a unit test compares the two). Exact
 * names or digits only: GCP's persistent disk is "nvme_card-pd", and EBS is "Amazon Elastic
 * Block Store": both hold data that must never be taken for scratch. */
static const char *const instance_store_models[] = {
    "Amazon EC2 NVMe Instance Storage",
    "nvme_card",
    "nvme_card[0-9]",
    "nvme_card[0-9][0-9]",
    "nvme_card[0-9][0-9][0-9]",
    "Microsoft NVMe Direct Disk",
    "Microsoft NVMe Direct Disk v2",
    NULL,
};

const char *const *dvol_nvme_instance_store_models(void)
{
	return instance_store_models;
}

bool dvol_nvme_model_is_instance_store(const char *model)
{
	_cleanup_free_ char *m = NULL;

	if (!model)
		return false;
	m = dvol_strdup_trim(model);
	if (!m)
		return false;
	for (size_t i = 0; instance_store_models[i]; i++)
		if (fnmatch(instance_store_models[i], m, 0) == 0)
			return true;
	return false;
}

bool dvol_buf_is_zero(const void *buf, size_t n)
{
	const unsigned char *p = buf;

	/* The first byte, then memcmp of the buffer against itself shifted by one. */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

char *dvol_blk_dev_describe(const struct dvol_blk_dev *d, const char *uuid)
{
	char *s = NULL;
	int r;

	if (d->serial)
		r = asprintf(&s, "serial %s (%s)", d->serial, d->node);
	else if (uuid)
		r = asprintf(&s, "UUID=%s (%s)", uuid, d->node);
	else
		r = asprintf(&s, "%s", d->node);
	return r < 0 ? NULL : s;
}

/*
 * Read a small sysfs attribute below DIR_FD, trimmed. -errno if it is absent. 0 only with
 * *ret set: the NOLINTs at its callers are for clang 14's analyzer, which does not know
 * that errno is positive after a failed call, and so lets -errno be 0.
 */
static int read_attr(int dir_fd, const char *name, char **ret)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[256];
	ssize_t n;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	free(*ret); /* read_ident() reads one attribute after another into the same string */
	*ret = dvol_strdup_trim(buf);
	return *ret ? 0 : -ENOMEM;
}

static int read_attr_u64(int dir_fd, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	int r;

	r = read_attr(dir_fd, name, &s);
	if (r < 0)
		return r;
	errno = 0;
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see read_attr() */
	*ret = strtoull(s, &end, 10);
	return errno || end == s ? -EINVAL : 0;
}

static int sysfs_open(dev_t devno, int *ret_fd)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", major(devno), minor(devno));
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Fill *d from sysfs for DEVNO. NODE is the path it was found by, or NULL for /dev/NAME. */
static int dev_fill(dev_t devno, const char *name, const char *node, struct dvol_blk_dev *d)
{
	_cleanup_close_ int sfd = -EBADF;
	uint64_t v;
	int r;

	*d = (struct dvol_blk_dev){.devno = devno};
	r = sysfs_open(devno, &sfd);
	if (r < 0)
		return r;
	if (node)
		d->node = strdup(node);
	else if (asprintf(&d->node, "/dev/%s", name) < 0)
		d->node = NULL;
	if (!d->node)
		return -ENOMEM;
	if (read_attr_u64(sfd, "size", &v) >= 0)
		d->size = v * 512;
	if (read_attr_u64(sfd, "nsid", &v) >= 0)
		d->nsid = (unsigned)v;
	/* NVMe: the namespace's device link is its controller, with serial and model. */
	r = read_attr(sfd, "device/serial", &d->serial);
	if (r == -ENOMEM)
		return r;
	r = read_attr(sfd, "device/model", &d->model);
	if (r == -ENOMEM)
		return r;
	if (d->serial && !*d->serial) {
		free(d->serial);
		d->serial = NULL;
	}
	return 0;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct dvol_blk_dev *x = a, *y = b;
	int c = strcmp(x->serial ? x->serial : "", y->serial ? y->serial : "");

	if (c)
		return c;
	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static void disks_free(struct dvol_blk_dev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dvol_blk_dev_done(&v[i]);
	free(v);
}

/* Every whole disk with an NVMe-like serial and model, ordered by (serial, nsid), the
 * order nvme:model=M,index=N counts in: stable across boots, unlike kernel names. */
static int list_disks(struct dvol_blk_dev **ret, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *dir = NULL;
	struct dvol_blk_dev *v = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;

	dir = opendir("/sys/block");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		_cleanup_close_ int sfd = -EBADF;
		_cleanup_free_ char *devstr = NULL, *hidden = NULL;
		unsigned ma, mi;
		struct dvol_blk_dev d, *nv;

		if (de->d_name[0] == '.')
			continue;
		sfd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			continue;
		/* Multipath's per-path nodes are hidden; their head node is the device. */
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see read_attr() */
		if (read_attr(sfd, "hidden", &hidden) >= 0 && strcmp(hidden, "1") == 0)
			continue;
		if (read_attr(sfd, "dev", &devstr) < 0 || sscanf(devstr, "%u:%u", &ma, &mi) != 2)
			continue;
		r = dev_fill(makedev(ma, mi), de->d_name, NULL, &d);
		if (r < 0) {
			dvol_blk_dev_done(&d);
			if (r == -ENOMEM)
				break;
			r = 0;
			continue;
		}
		if (!d.serial || !d.model) {
			dvol_blk_dev_done(&d);
			continue;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			dvol_blk_dev_done(&d);
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = d;
	}
	if (r < 0) {
		disks_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cand_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

struct named_dev {
	dev_t devno;
	char *name;
};

static void named_devs_free(struct named_dev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static const struct named_dev *named_dev_find(const struct named_dev *v, size_t n, dev_t devno)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].devno == devno)
			return &v[i];
	return NULL;
}

/* The devices udev names in /dev/disk/by-dvol/instance-store/ (udev/60-dvol.rules), maybe
 * none; -ENOENT when udev makes no dvol names on this system at all (no udev, or the rules
 * are not installed): then the built-in table decides. Where udev makes them, they are
 * the one answer, so that an operator's own rules for more models count here too. */
static int udev_instance_stores(struct named_dev **ret, size_t *ret_n)
{
	_cleanup_close_ int top = -EBADF, fd = -EBADF;
	_cleanup_(closedirp) DIR *dir = NULL;
	struct named_dev *v = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	top = open(DVOL_BY_DVOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	fd = openat(top, "instance-store", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(fd);
	if (!dir)
		return -errno;
	TAKE_FD(fd);
	while ((de = readdir(dir))) {
		struct named_dev *nv;
		struct stat st;

		/* Partitions are named too; they are never in /sys/block, so never matched. */
		if (de->d_name[0] == '.' || fstatat(dirfd(dir), de->d_name, &st, 0) < 0 ||
		    !S_ISBLK(st.st_mode))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n].devno = st.st_rdev;
		if (asprintf(&v[n].name, "%s/instance-store/%s", DVOL_BY_DVOL_DIR, de->d_name) <
		    0) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r < 0) {
		named_devs_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool nvme_matches(const struct dvol_spec *spec, const struct dvol_blk_dev *d, bool by_udev,
			 const struct named_dev *links, size_t nlinks)
{
	switch (spec->kind) {
	case DVOL_SPEC_NVME_SERIAL:
		return spec->serial && strcmp(d->serial, spec->serial) == 0;
	case DVOL_SPEC_NVME_MODEL:
		return spec->model && strcmp(d->model, spec->model) == 0;
	default:
		return by_udev ? named_dev_find(links, nlinks, d->devno) != NULL
			       : dvol_nvme_model_is_instance_store(d->model);
	}
}

/* SPEC's disk among the N of V, moved into *ret; LINKS the names udev gives instance
 * stores, when BY_UDEV. */
static int pick_nvme(const struct dvol_spec *spec, struct dvol_blk_dev *v, size_t n,
		     const struct named_dev *links, size_t nlinks, bool by_udev,
		     struct dvol_blk_dev *ret, char **ret_cands)
{
	_cleanup_free_ char *cands = NULL;
	const struct named_dev *l;
	size_t hits = 0, pick = SIZE_MAX;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!nvme_matches(spec, &v[i], by_udev, links, nlinks))
			continue;
		if (spec->kind == DVOL_SPEC_NVME_MODEL ? hits == spec->index : pick == SIZE_MAX)
			pick = i;
		hits++;
		r = dvol_strextendf(&cands, "\n", "  %s: serial %s, model %s, namespace %u",
				    v[i].node, v[i].serial, v[i].model, v[i].nsid);
		if (r < 0)
			return r;
	}
	if (pick == SIZE_MAX)
		return -ENOENT;
	if (spec->kind != DVOL_SPEC_NVME_MODEL && hits > 1) {
		/* A serial names one controller, but it may have several namespaces; and a
		 * host may have several instance stores. dvol does not guess between them. */
		*ret_cands = TAKE_PTR(cands);
		return -ENOTUNIQ;
	}
	l = named_dev_find(links, nlinks, v[pick].devno);
	*ret = v[pick];
	v[pick] = (struct dvol_blk_dev){0};
	if (spec->kind == DVOL_SPEC_NVME_INSTANCE_STORE) {
		ret->found_via = strdup(l ? l->name : "the built-in model table");
		if (!ret->found_via) {
			dvol_blk_dev_done(ret);
			return -ENOMEM;
		}
	}
	return 0;
}

static int find_nvme(const struct dvol_spec *spec, struct dvol_blk_dev *ret, char **ret_cands)
{
	struct dvol_blk_dev *v = NULL;
	struct named_dev *links = NULL;
	size_t n = 0, nlinks = 0;
	bool by_udev = false;
	int r;

	if (spec->kind == DVOL_SPEC_NVME_INSTANCE_STORE) {
		r = udev_instance_stores(&links, &nlinks);
		if (r < 0 && r != -ENOENT)
			return r;
		by_udev = r >= 0;
	}
	r = list_disks(&v, &n);
	if (r >= 0)
		r = pick_nvme(spec, v, n, links, nlinks, by_udev, ret, ret_cands);
	disks_free(v, n);
	named_devs_free(links, nlinks);
	return r;
}

static void blkid_put_cachep(blkid_cache *c)
{
	if (*c)
		blkid_put_cache(*c);
}

/* NAME=VALUE through libblkid, probing every device now (no cache file, no udev links,
 * either of which may be out of date), so that two devices with one label are seen. */
static int find_tag(const char *name, const char *value, struct dvol_blk_dev *ret, char **ret_cands)
{
	_cleanup_(blkid_put_cachep) blkid_cache cache = NULL;
	_cleanup_free_ char *cands = NULL, *first = NULL;
	blkid_dev_iterate it;
	blkid_dev dev;
	size_t hits = 0;
	struct stat st;
	int r;

	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	r = blkid_probe_all(cache);
	if (r < 0)
		return -EIO;
	it = blkid_dev_iterate_begin(cache);
	if (!it)
		return -ENOMEM;
	blkid_dev_set_search(it, (char *)name, (char *)value);
	while (blkid_dev_next(it, &dev) == 0) {
		dev = blkid_verify(cache, dev);
		if (!dev || !blkid_dev_has_tag(dev, name, value))
			continue;
		hits++;
		if (!first && !(first = strdup(blkid_dev_devname(dev)))) {
			r = -ENOMEM;
			break;
		}
		r = dvol_strextendf(&cands, "\n", "  %s", blkid_dev_devname(dev));
		if (r < 0)
			break;
	}
	blkid_dev_iterate_end(it);
	if (r < 0)
		return r;
	if (hits == 0)
		return -ENOENT;
	if (hits > 1) {
		*ret_cands = TAKE_PTR(cands);
		return -ENOTUNIQ;
	}
	if (stat(first, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	return dev_fill(st.st_rdev, NULL, first, ret);
}

/* /dev/disk/by-uuid/X and friends name a tag; udev escapes '/' and blanks as \xHH. */
static int devlink_tag(const char *path, const char **ret_name, char **ret_value)
{
	static const struct {
		const char *dir, *tag;
	} map[] = {
	    {"/dev/disk/by-uuid/", "UUID"},
	    {"/dev/disk/by-label/", "LABEL"},
	    {"/dev/disk/by-partuuid/", "PARTUUID"},
	    {"/dev/disk/by-partlabel/", "PARTLABEL"},
	};

	for (size_t i = 0; i < ELEMENTSOF(map); i++) {
		size_t l = strlen(map[i].dir);
		const char *s = path + l;
		char *out, *o;

		if (strncmp(path, map[i].dir, l) != 0 || !*s)
			continue;
		out = o = malloc(strlen(s) + 1);
		if (!out)
			return -ENOMEM;
		while (*s) {
			unsigned c;

			if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &c) == 1 &&
			    isxdigit((unsigned char)s[2]) && isxdigit((unsigned char)s[3])) {
				*o++ = (char)c;
				s += 4;
			} else {
				*o++ = *s++;
			}
		}
		*o = 0;
		*ret_name = map[i].tag;
		*ret_value = out;
		return 1;
	}
	return 0;
}

static int find_path(const char *path, struct dvol_blk_dev *ret, char **ret_cands)
{
	_cleanup_free_ char *value = NULL, *real = NULL;
	const char *tag;
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		/* No udev (containers, early boot): evaluate the link's tag instead. */
		if (r == -ENOENT && devlink_tag(path, &tag, &value) > 0)
			return find_tag(tag, value, ret, ret_cands);
		return r;
	}
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	real = realpath(path, NULL);
	return dev_fill(st.st_rdev, NULL, real ? real : path, ret);
}

int dvol_blk_find(const struct dvol_spec *spec, uint64_t timeout_ms, struct dvol_blk_dev *ret,
		  char **ret_candidates)
{
	uint64_t deadline = dvol_now_ms() + timeout_ms;
	int r;

	*ret_candidates = NULL;
	/* NVMe's identify data holds 20 bytes of serial and 40 of model: a longer one can
	 * never appear, however long one waits. */
	if ((spec->kind == DVOL_SPEC_NVME_SERIAL && spec->serial &&
	     strlen(spec->serial) > DVOL_NVME_SERIAL_MAX) ||
	    (spec->kind == DVOL_SPEC_NVME_MODEL && spec->model &&
	     strlen(spec->model) > DVOL_NVME_MODEL_MAX))
		return -ENAMETOOLONG;
	for (;;) {
		switch (spec->kind) {
		case DVOL_SPEC_PATH:
			r = find_path(spec->path, ret, ret_candidates);
			break;
		case DVOL_SPEC_TAG:
			r = find_tag(spec->tag_name, spec->tag_value, ret, ret_candidates);
			break;
		case DVOL_SPEC_NVME_SERIAL:
		case DVOL_SPEC_NVME_MODEL:
		case DVOL_SPEC_NVME_INSTANCE_STORE:
			r = find_nvme(spec, ret, ret_candidates);
			break;
		default:
			return -EINVAL;
		}
		/* NVMe namespaces attach asynchronously: only "not there yet" is waited for. */
		if (r != -ENOENT || dvol_now_ms() >= deadline)
			return r;
		dvol_sleep_ms(POLL_INTERVAL_MS);
	}
}

static int sysfs_names(int sfd, const char *rel, const char *attr, char **ret, size_t *ret_n);

void dvol_blk_devs_free(struct dvol_blk_dev *v, size_t n)
{
	disks_free(v, n);
}

/* Is udev running, with events still in its queue? */
static bool udev_busy(void)
{
	return access("/run/udev/control", F_OK) == 0 && access("/run/udev/queue", F_OK) == 0;
}

static int list_instance_stores(struct dvol_blk_dev **ret, size_t *ret_n)
{
	const struct dvol_spec spec = {.kind = DVOL_SPEC_NVME_INSTANCE_STORE};
	struct dvol_blk_dev *v = NULL;
	struct named_dev *links = NULL;
	size_t n = 0, nlinks = 0, k = 0;
	bool by_udev;
	int r;

	r = udev_instance_stores(&links, &nlinks);
	if (r < 0 && r != -ENOENT)
		return r;
	by_udev = r >= 0;
	r = list_disks(&v, &n);
	if (r < 0) {
		named_devs_free(links, nlinks);
		return r;
	}
	/* Keep the matches, in list_disks()'s order: by serial, then namespace. */
	for (size_t i = 0; i < n; i++) {
		const struct named_dev *l;

		if (!nvme_matches(&spec, &v[i], by_udev, links, nlinks)) {
			dvol_blk_dev_done(&v[i]);
			continue;
		}
		l = named_dev_find(links, nlinks, v[i].devno);
		v[k] = v[i];
		if (k != i)
			v[i] = (struct dvol_blk_dev){0};
		v[k].found_via = strdup(l ? l->name : "the built-in model table");
		k++;
		if (!v[k - 1].found_via) {
			r = -ENOMEM;
			for (size_t j = i + 1; j < n; j++)
				dvol_blk_dev_done(&v[j]);
			break;
		}
	}
	named_devs_free(links, nlinks);
	if (r < 0) {
		disks_free(v, k);
		return r;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int dvol_blk_find_instance_stores(uint64_t timeout_ms, unsigned want, struct dvol_blk_dev **ret,
				  size_t *ret_n)
{
	uint64_t deadline = dvol_now_ms() + timeout_ms;
	struct dvol_blk_dev *v = NULL;
	size_t n = 0;
	int r;

	for (;;) {
		bool busy = udev_busy();

		r = list_instance_stores(&v, &n);
		if (r < 0)
			return r;
		/* Drives of one instance come up one by one: while udev still has events,
		 * more may be on their way. */
		if ((n >= (want ? want : 1) && !busy) || dvol_now_ms() >= deadline)
			break;
		disks_free(v, n);
		v = NULL;
		n = 0;
		dvol_sleep_ms(POLL_INTERVAL_MS);
	}
	if (n == 0) {
		free(v);
		return -ENOENT;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int dvol_blk_md_holder(const struct dvol_blk_dev *d, char **ret_md)
{
	_cleanup_close_ int sfd = -EBADF;
	_cleanup_free_ char *names = NULL;
	size_t n = 0;
	int r;

	*ret_md = NULL;
	r = sysfs_open(d->devno, &sfd);
	if (r < 0)
		return r;
	r = sysfs_names(sfd, "holders", NULL, &names, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	/* md holds a member alone; two holders, or one that is not md, are not an array's. */
	if (n > 1 || strncmp(names, "md", 2) != 0 || strchr(names, ','))
		return -EBUSY;
	*ret_md = TAKE_PTR(names);
	return 1;
}

int dvol_md_read(const char *md, bool *ret_running, char ***ret_members)
{
	_cleanup_close_ int sfd = -EBADF;
	_cleanup_free_ char *state = NULL, *p = NULL, *names = NULL;
	_cleanup_(dvol_strv_freep) char **v = NULL;
	size_t n = 0, k = 0;
	int r;

	if (!*md || strchr(md, '/') || md[0] == '.')
		return -EINVAL;
	if (asprintf(&p, "/sys/class/block/%s", md) < 0)
		return -ENOMEM;
	sfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	r = read_attr(sfd, "md/array_state", &state);
	if (r < 0)
		return r;
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): see read_attr() */
	*ret_running = strcmp(state, "inactive") != 0 && strcmp(state, "clear") != 0;
	r = sysfs_names(sfd, "slaves", NULL, &names, &n);
	if (r < 0)
		return r;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char *s = names, *save = NULL, *t; n && (t = strtok_r(s, ", ", &save)); s = NULL) {
		v[k] = strdup(t);
		if (!v[k++])
			return -ENOMEM;
	}
	*ret_members = TAKE_PTR(v);
	return 0;
}

/* The identity of the device behind the sysfs folder SFD, stable across reboots. */
static int read_ident(int sfd, char **ret)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *part = NULL, *start = NULL, *parent = NULL;
	_cleanup_close_ int pfd = -EBADF;
	char *s = NULL;
	int r;

	/* A partition: its disk's identity, its number and where it starts. */
	/* NOLINTBEGIN(clang-analyzer-core.NullDereference): see read_attr() */
	if (read_attr(sfd, "partition", &part) >= 0 && read_attr(sfd, "start", &start) >= 0) {
		pfd = openat(sfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return -errno;
		r = read_ident(pfd, &parent);
		if (r < 0)
			return r;
		r = asprintf(&s, "%s/part%s@%s", parent, part, start);
	} else if (read_attr(sfd, "md/uuid", &a) >= 0 && *a) {
		/* An md array: the UUID its members' superblocks carry. */
		r = asprintf(&s, "md:%s", a);
	} else if (read_attr(sfd, "wwid", &a) >= 0 && *a) {
		r = asprintf(&s, "wwid:%s", a);
	} else if (read_attr(sfd, "device/serial", &a) >= 0 && *a) {
		if (read_attr(sfd, "nsid", &b) < 0)
			b = NULL;
		r = asprintf(&s, "serial:%s/%s", a, b ? b : "-");
	} else if (read_attr(sfd, "loop/backing_file", &a) >= 0) {
		if (read_attr(sfd, "loop/offset", &b) < 0)
			b = NULL;
		r = asprintf(&s, "loop:%s@%s", a, b ? b : "0");
	} else {
		r = asprintf(&s, "%s", "");
	}
	/* NOLINTEND(clang-analyzer-core.NullDereference) */
	if (r < 0)
		return -ENOMEM;
	/* The claim holds at most DVOL_CLAIM_IDENT_MAX bytes of it. */
	if (strlen(s) > DVOL_CLAIM_IDENT_MAX)
		s[DVOL_CLAIM_IDENT_MAX] = 0;
	*ret = s;
	return 0;
}

/* Open D's node with FLAGS and check that it is still the device D was found as. */
static int open_node(const struct dvol_blk_dev *d, int flags, int *ret_fd, uint64_t *ret_size)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = open(d->node, flags | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* The name was read from sysfs a moment ago; the number is what identifies it. */
	if (!S_ISBLK(st.st_mode) || st.st_rdev != d->devno)
		return -ESTALE;
	if (ioctl(fd, BLKGETSIZE64, ret_size) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_blk_open(struct dvol_blk_dev *d, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF, sfd = -EBADF;
	int ro = 0, r;

	r = open_node(d, O_RDONLY, &fd, &d->size);
	if (r < 0)
		return r;
	if (ioctl(fd, BLKROGET, &ro) < 0)
		return -errno;
	d->read_only = ro != 0;
#ifdef BLKGETDISKSEQ
	if (ioctl(fd, BLKGETDISKSEQ, &d->diskseq) < 0)
		d->diskseq = 0;
#endif
	r = sysfs_open(d->devno, &sfd);
	if (r < 0)
		return r;
	free(d->ident);
	d->ident = NULL;
	r = read_ident(sfd, &d->ident);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_blk_open_write(const struct dvol_blk_dev *d, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t size = 0;
	int r;

	r = open_node(d, O_RDWR, &fd, &size);
	if (r < 0)
		return r;
	if (size != d->size)
		return -ESTALE;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_blk_lock(int fd, uint64_t timeout_ms)
{
	uint64_t deadline = dvol_now_ms() + timeout_ms;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (dvol_now_ms() >= deadline)
			return -ETIMEDOUT;
		dvol_sleep_ms(20);
	}
}

int dvol_blk_check_exclusive(const struct dvol_blk_dev *d)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = open(d->node, O_RDONLY | O_CLOEXEC | O_EXCL | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	return st.st_rdev == d->devno ? 0 : -ESTALE;
}

/* Names in sysfs directory REL below the device, skipping those without ATTR (if set). */
static int sysfs_names(int sfd, const char *rel, const char *attr, char **ret, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *dir = NULL;
	_cleanup_free_ char *names = NULL;
	struct dirent *de;
	size_t n = 0;
	int fd;

	fd = rel ? openat(sfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dup(sfd);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(fd);
	if (!dir) {
		safe_close(fd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		char *t;

		if (de->d_name[0] == '.')
			continue;
		if (attr) {
			char p[512];
			struct stat st;

			snprintf(p, sizeof(p), "%s/%s", de->d_name, attr);
			if (fstatat(dirfd(dir), p, &st, 0) < 0)
				continue;
		}
		if (asprintf(&t, "%s%s%s", names ? names : "", names ? ", " : "", de->d_name) < 0)
			return -ENOMEM;
		free(names);
		names = t;
		n++;
	}
	*ret = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

static void set_what(struct dvol_blk_verdict *v, enum dvol_blk_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_what(struct dvol_blk_verdict *v, enum dvol_blk_state s, const char *fmt, ...)
{
	va_list ap;

	v->state = s;
	va_start(ap, fmt);
	vsnprintf(v->what, sizeof(v->what), fmt, ap);
	va_end(ap);
}

static int dup_value(blkid_probe pr, const char *name, char **ret)
{
	const char *val;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) < 0)
		return 0;
	*ret = strdup(val);
	return *ret ? 1 : -ENOMEM;
}

/* libblkid's safe probe: superblocks and partition tables, with the words for a person. */
static int probe_signatures(int fd, struct dvol_blk_verdict *v)
{
	_cleanup_(blkid_free_probep) blkid_probe pr = NULL;
	_cleanup_free_ char *type = NULL, *usage = NULL, *version = NULL, *pttype = NULL;
	int r;

	pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
		return set_what(v, DVOL_BLK_OTHER, "a device libblkid cannot open for probing"), 0;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
						  BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
						  BLKID_SUBLKS_VERSION);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);

	r = blkid_do_safeprobe(pr);
	if (r == 1)
		return set_what(v, DVOL_BLK_BLANK, "no signature found by libblkid"), 0;
	if (r == -2)
		return set_what(v, DVOL_BLK_OTHER,
				"several signatures at once (libblkid's probe is ambiguous)"),
		       0;
	if (r < 0)
		return set_what(v, DVOL_BLK_OTHER,
				"a device that could not be read to the end of the probe (%s)",
				strerror(errno ? errno : EIO)),
		       0;

	if (dup_value(pr, "TYPE", &type) < 0 || dup_value(pr, "USAGE", &usage) < 0 ||
	    dup_value(pr, "VERSION", &version) < 0 || dup_value(pr, "PTTYPE", &pttype) < 0 ||
	    dup_value(pr, "UUID", &v->uuid) < 0 || dup_value(pr, "LABEL", &v->label) < 0)
		return -ENOMEM;

	/* A partition's own entry in its disk's table (PART_ENTRY_*) is where it is, not
	 * what it holds: with no type and no table of its own, it holds nothing. */
	if (!type && !pttype && blkid_probe_has_value(pr, "PART_ENTRY_SCHEME"))
		return set_what(v, DVOL_BLK_BLANK, "no signature found by libblkid"), 0;
	if (pttype) {
		blkid_partlist ls = blkid_probe_get_partitions(pr);
		int n = ls ? blkid_partlist_numof_partitions(ls) : 0;
		const char *name = strcmp(pttype, "gpt") == 0	? "GPT"
				   : strcmp(pttype, "dos") == 0 ? "MBR (dos) partition table"
								: pttype;

		return set_what(v, DVOL_BLK_OTHER, "%s with %d partition%s", name, n,
				n == 1 ? "" : "s"),
		       0;
	}
	if (!type)
		return set_what(v, DVOL_BLK_OTHER, "a signature without a type"), 0;
	if (strcmp(type, "crypto_LUKS") == 0)
		return set_what(v, DVOL_BLK_OTHER, "LUKS%s header", version ? version : ""), 0;
	if (strcmp(type, "linux_raid_member") == 0) {
		v->md_member = true;
		return set_what(v, DVOL_BLK_OTHER, "mdraid member"), 0;
	}
	if (strcmp(type, "LVM2_member") == 0)
		return set_what(v, DVOL_BLK_OTHER, "LVM physical volume"), 0;
	if (strcmp(type, "swap") == 0)
		return set_what(v, DVOL_BLK_OTHER, "swap area"), 0;
	if (usage && strcmp(usage, "filesystem") == 0) {
		set_what(v, DVOL_BLK_FS, "%s filesystem", type);
		v->fstype = TAKE_PTR(type);
		return 0;
	}
	return set_what(v, DVOL_BLK_OTHER, "%s signature (%s)", type,
			usage ? usage : "unknown use"),
	       0;
}

static int zero_check(int fd, uint64_t size, struct dvol_blk_verdict *v)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = size < MIB ? (size_t)size : MIB;
	const uint64_t offs[2] = {0, size - len};

	buf = malloc(MIB);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < 2; i++) {
		ssize_t n = pread(fd, buf, len, (off_t)offs[i]);

		if (n < 0 || (size_t)n != len)
			return set_what(
				   v, DVOL_BLK_OTHER, "a device whose %s MiB cannot be read (%s)",
				   i ? "last" : "first", n < 0 ? strerror(errno) : "short read"),
			       0;
		if (!dvol_buf_is_zero(buf, len))
			return set_what(v, DVOL_BLK_DATA,
					"non-zero data without a signature (in the %s MiB)",
					i ? "last" : "first"),
			       0;
	}
	return 0;
}

/* A device without a signature is blank only if nothing holds it, it has no partitions
 * and a size, and (unless SKIP_ZERO_CHECK) its first and last MiB are zeros: *v says
 * which. */
static int probe_blank(int fd, int sfd, uint64_t size, bool skip_zero_check,
		       struct dvol_blk_verdict *v)
{
	_cleanup_free_ char *holders = NULL, *parts = NULL;
	size_t n = 0;
	int r;

	r = sysfs_names(sfd, "holders", NULL, &holders, &n);
	if (r < 0)
		return r;
	if (n > 0) {
		set_what(v, DVOL_BLK_OTHER, "a device held by %s (device-mapper, md or bcache)",
			 holders);
		v->held = true;
		return 0;
	}
	r = sysfs_names(sfd, NULL, "partition", &parts, &n);
	if (r < 0)
		return r;
	if (n > 0) {
		set_what(v, DVOL_BLK_OTHER, "%zu partition%s in sysfs (%s)", n, n == 1 ? "" : "s",
			 parts);
		return 0;
	}
	if (size == 0) {
		set_what(v, DVOL_BLK_OTHER, "a device of size 0 (no medium?)");
		return 0;
	}
	if (!skip_zero_check) {
		r = zero_check(fd, size, v);
		if (r < 0)
			return r;
	}
	if (v->state == DVOL_BLK_BLANK)
		set_what(v, DVOL_BLK_BLANK, "no signature, no partitions, no holders%s",
			 skip_zero_check ? "; zero check skipped (mkfs-ignore-nonzero-data)"
					 : ", first and last MiB all zeros");
	return 0;
}

int dvol_blk_probe(int fd, const struct dvol_blk_dev *d, bool skip_zero_check,
		   struct dvol_blk_verdict *ret)
{
	_cleanup_(dvol_blk_verdict_done) struct dvol_blk_verdict v = {0};
	_cleanup_close_ int sfd = -EBADF;
	uint64_t size;
	int r;

	r = sysfs_open(d->devno, &sfd);
	if (r < 0)
		return r;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return -errno;

	r = probe_signatures(fd, &v);
	if (r < 0)
		return r;
	if (v.state == DVOL_BLK_BLANK) {
		r = probe_blank(fd, sfd, size, skip_zero_check, &v);
		if (r < 0)
			return r;
	}
	*ret = v;
	v = (struct dvol_blk_verdict){0};
	return 0;
}

int dvol_blk_claim_read(int fd, const struct dvol_blk_dev *d, struct dvol_claim_read ret[2])
{
	unsigned char buf[DVOL_CLAIM_SIZE];
	uint64_t offs[2];
	int r;

	r = dvol_claim_offsets(d->size, offs);
	if (r < 0)
		return r;
	for (size_t i = 0; i < 2; i++) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)offs[i]);

		if (n < 0)
			return -errno;
		if ((size_t)n != sizeof(buf))
			return -EIO;
		dvol_claim_classify(buf, offs[i], d->size, d->ident, &ret[i]);
	}
	return 0;
}

int dvol_blk_claim_write(int fd, const struct dvol_blk_dev *d, const struct dvol_claim *c)
{
	unsigned char buf[DVOL_CLAIM_SIZE];
	uint64_t offs[2];
	int r;

	r = dvol_claim_offsets(d->size, offs);
	if (r < 0)
		return r;
	/* The tail copy first: it is the one no mkfs touches, so that once any copy is on
	 * the medium, a copy that stays there is too. */
	for (size_t i = 2; i-- > 0;) {
		r = dvol_claim_encode(c, offs[i], buf);
		if (r < 0)
			return r;
		if (pwrite(fd, buf, sizeof(buf), (off_t)offs[i]) != (ssize_t)sizeof(buf))
			return errno ? -errno : -EIO;
	}
	if (fdatasync(fd) < 0)
		return -errno;
	return 0;
}

int dvol_blk_claim_clear(int fd, const struct dvol_blk_dev *d, const char *uuid)
{
	static const unsigned char zero[DVOL_CLAIM_SIZE];
	struct dvol_claim_read copies[2] = {};
	uint64_t offs[2];
	int n = 0, r;

	r = dvol_claim_offsets(d->size, offs);
	if (r == -ERANGE)
		return 0;
	if (r < 0)
		return r;
	r = dvol_blk_claim_read(fd, d, copies);
	if (r < 0)
		return r;
	/* The head first: a kill in between leaves the tail copy, which no mkfs touches. */
	for (size_t i = 0; i < 2; i++) {
		if (copies[i].kind != DVOL_COPY_CLAIM || strcmp(copies[i].claim.uuid, uuid) != 0)
			continue;
		if (pwrite(fd, zero, sizeof(zero), (off_t)offs[i]) != (ssize_t)sizeof(zero))
			return errno ? -errno : -EIO;
		n++;
	}
	if (n > 0 && fdatasync(fd) < 0)
		return -errno;
	return n;
}

int dvol_blk_dev_from_name(const char *name, struct dvol_blk_dev *ret)
{
	_cleanup_free_ char *p = NULL, *dev = NULL;
	_cleanup_close_ int fd = -EBADF;
	unsigned maj, min;
	int r;

	/* A kernel name, as udev's %k gives it: one path component. */
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (asprintf(&p, "/sys/class/block/%s", name) < 0)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_attr(fd, "dev", &dev);
	if (r < 0)
		return r;
	if (sscanf(dev, "%u:%u", &maj, &min) != 2)
		return -EIO;
	return dev_fill(makedev(maj, min), name, NULL, ret);
}

int dvol_blk_read_tags(const char *node, struct dvol_blk_tags *ret)
{
	_cleanup_(blkid_free_probep) blkid_probe pr = NULL;
	int r;

	*ret = (struct dvol_blk_tags){0};
	pr = blkid_new_probe_from_filename(node);
	if (!pr)
		return errno > 0 ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
						  BLKID_SUBLKS_UUID);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	r = blkid_do_safeprobe(pr);
	if (r < 0)
		return -EIO;
	if (dup_value(pr, "TYPE", &ret->type) < 0 || dup_value(pr, "UUID", &ret->uuid) < 0 ||
	    dup_value(pr, "LABEL", &ret->label) < 0 ||
	    dup_value(pr, "PART_ENTRY_UUID", &ret->partuuid) < 0 ||
	    dup_value(pr, "PART_ENTRY_NAME", &ret->partlabel) < 0) {
		dvol_blk_tags_done(ret);
		return -ENOMEM;
	}
	return 0;
}

void dvol_blk_tags_done(struct dvol_blk_tags *t)
{
	free(t->type);
	free(t->uuid);
	free(t->label);
	free(t->partuuid);
	free(t->partlabel);
	*t = (struct dvol_blk_tags){0};
}
