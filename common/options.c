/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mount.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "options.h"
#include "parse.h"
#include "strv.h"

enum opt_type {
	OPT_FLAG,
	OPT_MODE,
	OPT_UID,
	OPT_GID,
	OPT_FSTYPE,
	OPT_DURATION,
	OPT_MOUNTED, /* a flag, or a folder */
	OPT_FSLIST,
	OPT_SIZE,
	OPT_FALLBACK,
	OPT_STRIPE,
	OPT_COUNT,
	OPT_WRITER,
	OPT_ON_CONFLICT,
	OPT_LEASE_TIME,
	OPT_CACHE,
	OPT_CACHE_SIZE,
};

static const struct own_opt {
	const char *name;
	enum opt_type type;
	size_t offset;	    /* of the value in struct dvol_opts */
	ssize_t set_offset; /* of its "_set" flag, or -1 */
} own[] = {
    {"create", OPT_FLAG, offsetof(struct dvol_opts, create), -1},
    {"mode", OPT_MODE, offsetof(struct dvol_opts, mode), offsetof(struct dvol_opts, mode_set)},
    {"uid", OPT_UID, offsetof(struct dvol_opts, uid), offsetof(struct dvol_opts, uid_set)},
    {"gid", OPT_GID, offsetof(struct dvol_opts, gid), offsetof(struct dvol_opts, gid_set)},
    {"mkfs", OPT_FSTYPE, offsetof(struct dvol_opts, mkfs), -1},
    {"mkfs-ignore-nonzero-data", OPT_FLAG, offsetof(struct dvol_opts, mkfs_ignore_nonzero), -1},
    {"device-timeout", OPT_DURATION, offsetof(struct dvol_opts, device_timeout_ms), -1},
    {"probe-timeout", OPT_DURATION, offsetof(struct dvol_opts, probe_timeout_ms), -1},
    {"retry", OPT_DURATION, offsetof(struct dvol_opts, retry_ms), -1},
    {"source-mounted", OPT_MOUNTED, offsetof(struct dvol_opts, source_mounted_at),
     offsetof(struct dvol_opts, source_mounted)},
    {"source-fs", OPT_FSLIST, offsetof(struct dvol_opts, source_fs), -1},
    {"optional", OPT_FLAG, offsetof(struct dvol_opts, optional), -1},
    {"fallback-size", OPT_SIZE, offsetof(struct dvol_opts, fallback_size),
     offsetof(struct dvol_opts, fallback_size_set)},
    {"fallback", OPT_FALLBACK, offsetof(struct dvol_opts, fallback),
     offsetof(struct dvol_opts, fallback_set)},
    {"heal", OPT_FLAG, offsetof(struct dvol_opts, heal), -1},
    {"stripe", OPT_STRIPE, offsetof(struct dvol_opts, stripe_no),
     offsetof(struct dvol_opts, stripe_set)},
    {"count", OPT_COUNT, offsetof(struct dvol_opts, count), -1},
    {"writer", OPT_WRITER, offsetof(struct dvol_opts, writer_exclusive),
     offsetof(struct dvol_opts, writer_set)},
    {"on-conflict", OPT_ON_CONFLICT, offsetof(struct dvol_opts, on_conflict),
     offsetof(struct dvol_opts, on_conflict_set)},
    {"wait-timeout", OPT_DURATION, offsetof(struct dvol_opts, wait_timeout_ms),
     offsetof(struct dvol_opts, wait_timeout_set)},
    {"lease-time", OPT_LEASE_TIME, offsetof(struct dvol_opts, lease_time_ms),
     offsetof(struct dvol_opts, lease_time_set)},
    {"cache", OPT_CACHE, offsetof(struct dvol_opts, cache_local),
     offsetof(struct dvol_opts, cache_set)},
    {"cache-dir", OPT_MOUNTED, offsetof(struct dvol_opts, cache_dir), -1},
    {"cache-size", OPT_CACHE_SIZE, offsetof(struct dvol_opts, cache_size),
     offsetof(struct dvol_opts, cache_size_set)},
};

const char *dvol_fallback_to_string(enum dvol_fallback f)
{
	return f == DVOL_FALLBACK_DISK ? "disk" : "tmpfs";
}

void dvol_opts_done(struct dvol_opts *o)
{
	free(o->mkfs);
	free(o->source_mounted_at);
	free(o->source_fs);
	free(o->cache_dir);
	free(o->vfs);
	free(o->fs);
	free(o->user);
	*o = (struct dvol_opts){0};
}

char *dvol_optstr_first(const char *optstr)
{
	char *name, *value;
	size_t namesz, valuesz;
	char *p = (char *)optstr, *s = NULL;

	if (!optstr || mnt_optstr_next_option(&p, &name, &namesz, &value, &valuesz) != 0)
		return NULL;
	if (value)
		return asprintf(&s, "%.*s=%.*s", (int)namesz, name, (int)valuesz, value) < 0 ? NULL
											     : s;
	return strndup(name, namesz);
}

/* "nfs4|xfs": names of filesystem types, as /proc/filesystems spells them. */
static bool fs_list_valid(const char *v)
{
	for (const char *p = v;; p++) {
		size_t l = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._-");

		if (l == 0 || l > 64)
			return false;
		p += l;
		if (!*p)
			return true;
		if (*p != '|')
			return false;
	}
}

/* source-mounted= (a folder, maybe quoted) or source-fs= (a list of types): checked, then
 * kept in *P. */
static int set_string(enum opt_type type, char **p, const char *v, const char **why)
{
	_cleanup_free_ char *uq = NULL;
	const char *bad = NULL;
	char *n = NULL;
	int r;

	if (type == OPT_MOUNTED) {
		size_t l = strlen(v);

		/* A folder with a comma comes quoted: source-mounted="/srv/a,b". */
		if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
			uq = strndup(v + 1, l - 2);
			if (!uq)
				return -ENOMEM;
			v = uq;
		}
		r = dvol_path_normalize(v, &n, &bad);
		if (r == -EINVAL)
			return *why = "is not an absolute folder without '.' or '..' components", r;
	} else if (!fs_list_valid(v))
		return *why = "is not a list of filesystem types (like nfs4|xfs)", -EINVAL;
	else
		n = strdup(v);
	if (!n)
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

static int set_own(struct dvol_opts *o, const struct own_opt *d, const char *v, const char **why)
{
	char *base = (char *)o;
	int r;

	if (d->type == OPT_FLAG) {
		if (v)
			return *why = "takes no value", -EINVAL;
		*(bool *)(base + d->offset) = true;
		return 0;
	}
	if (d->type == OPT_MOUNTED && !v && d->set_offset >= 0) {
		free(*(char **)(base + d->offset));
		*(char **)(base + d->offset) = NULL;
		*(bool *)(base + d->set_offset) = true;
		return 0;
	}
	if (!v || !*v)
		return *why = "needs a value", -EINVAL;

	switch (d->type) {
	case OPT_MODE:
		r = dvol_parse_mode(v, (mode_t *)(base + d->offset));
		if (r < 0)
			return *why = "is not an octal mode (0000..07777)", r;
		break;
	case OPT_UID:
		r = dvol_parse_uid(v, (uid_t *)(base + d->offset));
		if (r < 0)
			return *why = "is not a known user or a numeric uid", -EINVAL;
		break;
	case OPT_GID:
		r = dvol_parse_gid(v, (gid_t *)(base + d->offset));
		if (r < 0)
			return *why = "is not a known group or a numeric gid", -EINVAL;
		break;
	case OPT_FSTYPE: {
		char **p = (char **)(base + d->offset);

		if (strcmp(v, "xfs") != 0 && strcmp(v, "ext4") != 0)
			return *why = "names a filesystem dvol does not make (xfs or ext4)",
			       -EINVAL;
		free(*p);
		*p = strdup(v);
		if (!*p)
			return -ENOMEM;
		break;
	}
	case OPT_DURATION:
		r = dvol_parse_duration_ms(v, (uint64_t *)(base + d->offset));
		if (r < 0)
			return *why = "is not a duration (like 30, 30s, 500ms, 2m)", -EINVAL;
		break;
	case OPT_SIZE:
		r = dvol_parse_size(v, (uint64_t *)(base + d->offset));
		if (r < 0 || *(uint64_t *)(base + d->offset) == 0)
			return *why = "is not a size (like 512M, 2G)", -EINVAL;
		break;
	case OPT_FALLBACK:
		if (strcmp(v, "tmpfs") == 0)
			*(enum dvol_fallback *)(base + d->offset) = DVOL_FALLBACK_TMPFS;
		else if (strcmp(v, "disk") == 0)
			*(enum dvol_fallback *)(base + d->offset) = DVOL_FALLBACK_DISK;
		else
			return *why = "is not a kind of fallback (tmpfs or disk)", -EINVAL;
		break;
	case OPT_STRIPE:
		if (strcmp(v, "yes") == 0)
			*(bool *)(base + d->offset) = false;
		else if (strcmp(v, "no") == 0)
			*(bool *)(base + d->offset) = true;
		else
			return *why = "is neither yes nor no", -EINVAL;
		break;
	case OPT_COUNT: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end || !isdigit((unsigned char)*v) || n < 1 || n > DVOL_STRIPE_MAX)
			return *why = "is not a number of devices (1 to 64)", -EINVAL;
		*(unsigned *)(base + d->offset) = (unsigned)n;
		break;
	}
	case OPT_WRITER:
		if (strcmp(v, "exclusive") == 0)
			*(bool *)(base + d->offset) = true;
		else if (strcmp(v, "shared") == 0)
			*(bool *)(base + d->offset) = false;
		else
			return *why = "is neither exclusive nor shared", -EINVAL;
		break;
	case OPT_ON_CONFLICT:
		if (dvol_lease_on_conflict_from_string(
			v, (enum dvol_lease_on_conflict *)(base + d->offset)) < 0)
			return *why = "is not what a second writer does (ro, fail or wait)",
			       -EINVAL;
		break;
	case OPT_LEASE_TIME: {
		struct dvol_lease_timing t;

		r = dvol_parse_duration_ms(v, (uint64_t *)(base + d->offset));
		if (r < 0 || dvol_lease_timing(*(uint64_t *)(base + d->offset), &t) < 0)
			return *why = "is not the server's lease time (2s to 1h, like 90 or 10s)",
			       -EINVAL;
		break;
	}
	case OPT_CACHE:
		if (strcmp(v, "local") == 0)
			*(bool *)(base + d->offset) = true;
		else if (strcmp(v, "none") == 0)
			*(bool *)(base + d->offset) = false;
		else
			return *why = "is neither local nor none", -EINVAL;
		break;
	case OPT_CACHE_SIZE: {
		size_t l = strlen(v);

		o->cache_size_pct = l > 1 && v[l - 1] == '%';
		if (o->cache_size_pct) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(v, &end, 10);
			if (errno || end != v + l - 1 || !isdigit((unsigned char)*v) || n < 1 ||
			    n > 95)
				return *why = "is not a share of the cache's volume (1% to 95%)",
				       -EINVAL;
			o->cache_size = n;
		} else {
			r = dvol_parse_size(v, &o->cache_size);
			if (r < 0 || o->cache_size == 0)
				return *why = "is not a size (like 200G) or a share (like 80%)",
				       -EINVAL;
		}
		break;
	}
	case OPT_MOUNTED:
	case OPT_FSLIST:
		r = set_string(d->type, (char **)(base + d->offset), v, why);
		if (r < 0)
			return r;
		break;
	case OPT_FLAG:
		break;
	}
	if (d->set_offset >= 0)
		*(bool *)(base + d->set_offset) = true;
	return 0;
}

static bool unbalanced_quote(const char *s)
{
	bool open = false;

	for (; *s; s++)
		if (*s == '"')
			open = !open;
	return open;
}

/* A failed parse: -ENOMEM as it is, anything else the option string's fault. */
static int fail(int r, const char *why, const char **ret_why)
{
	if (ret_why)
		*ret_why = why;
	return r == -ENOMEM ? r : -EINVAL;
}

int dvol_opts_parse(const char *optstr, struct dvol_opts *ret, char **ret_bad, const char **ret_why)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_(dvol_opts_done) struct dvol_opts o = {
	    .device_timeout_ms = DVOL_DEVICE_TIMEOUT_MS_DEFAULT,
	    .probe_timeout_ms = DVOL_PROBE_TIMEOUT_MS_DEFAULT,
	    .fallback_size = DVOL_FALLBACK_SIZE_DEFAULT,
	    .wait_timeout_ms = DVOL_LEASE_WAIT_MS_DEFAULT,
	    .lease_time_ms = DVOL_LEASE_TIME_MS_DEFAULT,
	};
	const char *why = NULL;
	int r;

	/* libmount's parser stops at an unterminated quote and drops everything after it,
	 * "ro" included: refuse the string rather than mount with less than was asked. */
	if (optstr && unbalanced_quote(optstr)) {
		if (ret_bad && !(*ret_bad = strdup(optstr)))
			return -ENOMEM;
		return fail(-EINVAL, "has an unbalanced '\"' (everything after it would be lost)",
			    ret_why);
	}

	buf = strdup(optstr ? optstr : "");
	if (!buf)
		return -ENOMEM;

	for (size_t i = 0; i < ELEMENTSOF(own); i++) {
		char *value;
		size_t valuesz;

		/* Repeated options: the last one wins, as with mount(8). */
		while ((r = mnt_optstr_get_option(buf, own[i].name, &value, &valuesz)) == 0) {
			_cleanup_free_ char *v = value ? strndup(value, valuesz) : NULL;

			if (value && !v)
				return -ENOMEM;
			r = set_own(&o, &own[i], v, &why);
			if (r < 0) {
				if (ret_bad && asprintf(ret_bad, v ? "%s=%s" : "%s", own[i].name,
							v ? v : "") < 0)
					*ret_bad = NULL;
				return fail(r, why, ret_why);
			}
			r = mnt_optstr_remove_option(&buf, own[i].name);
			if (r < 0)
				return fail(r, why, ret_why);
		}
		if (r < 0)
			return fail(r, "malformed option string", ret_why);
	}

	r = mnt_split_optstr(buf, &o.user, &o.vfs, &o.fs, 0, 0);
	if (r < 0)
		return fail(r, "malformed option string", ret_why);
	if (o.vfs) {
		r = mnt_optstr_get_flags(o.vfs, &o.mflags, mnt_get_builtin_optmap(MNT_LINUX_MAP));
		if (r < 0)
			return fail(r, why, ret_why);
	}
	*ret = o;
	o = (struct dvol_opts){0};
	return 0;
}

/* writer= and the options that go with it. */
static enum dvol_opts_why check_writer(const struct dvol_opts *o, enum dvol_vol vol,
				       const char **ret_name)
{
	const char *alone = o->on_conflict_set	  ? "on-conflict"
			    : o->wait_timeout_set ? "wait-timeout"
			    : o->lease_time_set	  ? "lease-time"
						  : NULL;

	if ((o->writer_set || alone) && vol == DVOL_VOL_LOCAL)
		return *ret_name = o->writer_set ? "writer" : alone, DVOL_OPTS_WRITER_NOT_NFS;
	if (alone && !o->writer_exclusive)
		return *ret_name = alone, DVOL_OPTS_WRITER_ALONE;
	if (o->wait_timeout_set && o->on_conflict != DVOL_LEASE_CONFLICT_WAIT)
		return *ret_name = "wait-timeout", DVOL_OPTS_WAIT_ALONE;
	if (!o->writer_exclusive)
		return DVOL_OPTS_OK;
	if (o->mflags & MS_RDONLY)
		return *ret_name = "writer", DVOL_OPTS_WRITER_RO;
	switch (dvol_lease_check_nfs_opts(o->fs, ret_name)) {
	case DVOL_LEASE_OPTS_OK:
		return DVOL_OPTS_OK;
	case DVOL_LEASE_OPTS_V3:
		return DVOL_OPTS_WRITER_V3;
	case DVOL_LEASE_OPTS_NOLOCK:
	case DVOL_LEASE_OPTS_LOCAL_LOCK:
		break;
	}
	return DVOL_OPTS_WRITER_NOLOCK;
}

enum dvol_opts_why dvol_opts_check(const struct dvol_opts *o, enum dvol_vol vol, bool sloppy,
				   const char **ret_name)
{
	const char *name = NULL;
	enum dvol_opts_why why = DVOL_OPTS_OK;

	switch (vol) {
	case DVOL_VOL_BIND:
		if (o->fs && *o->fs && !sloppy)
			why = DVOL_OPTS_UNKNOWN;
		else if (o->mkfs)
			why = DVOL_OPTS_MKFS_FOLDER, name = "mkfs";
		break;
	case DVOL_VOL_LOCAL:
		if (o->create)
			why = DVOL_OPTS_CREATE_DEVICE, name = "create";
		else if (o->mkfs_ignore_nonzero && !o->mkfs)
			why = DVOL_OPTS_IGNORE_NO_MKFS, name = "mkfs-ignore-nonzero-data";
		break;
	case DVOL_VOL_NFS:
		if (o->mkfs || o->create)
			why = DVOL_OPTS_LOCAL_ON_NFS, name = o->mkfs ? "mkfs" : "create";
		break;
	default:
		break;
	}
	if (why == DVOL_OPTS_OK)
		why = check_writer(o, vol, &name);
	if (why == DVOL_OPTS_OK && !o->cache_local && (o->cache_dir || o->cache_size_set))
		why = DVOL_OPTS_CACHE_ALONE, name = o->cache_dir ? "cache-dir" : "cache-size";
	else if (why == DVOL_OPTS_OK && o->cache_local && o->fs &&
		 mnt_optstr_get_option(o->fs, "nofsc", NULL, NULL) == 0)
		why = DVOL_OPTS_CACHE_NOFSC, name = "nofsc";
	if (why == DVOL_OPTS_OK && o->fallback_size_set && !o->optional)
		why = DVOL_OPTS_FALLBACK_ALONE, name = "fallback-size";
	else if (why == DVOL_OPTS_OK && o->fallback_set && !o->optional)
		why = DVOL_OPTS_FALLBACK_ALONE, name = "fallback";
	else if (why == DVOL_OPTS_OK && o->fallback == DVOL_FALLBACK_DISK && o->fallback_size_set)
		why = DVOL_OPTS_DISK_CAPPED, name = "fallback-size";
	if (ret_name)
		*ret_name = name;
	return why;
}

enum dvol_opts_why dvol_optstr_check_setup(const char *optstr, char **ret_name)
{
	static const char *const loop[] = {"loop", "offset", "sizelimit", "encryption"};
	char *str = (char *)optstr, *name, *value;
	size_t namesz, valuesz;

	*ret_name = NULL;
	while (str && mnt_optstr_next_option(&str, &name, &namesz, &value, &valuesz) == 0) {
		enum dvol_opts_why why = DVOL_OPTS_OK;

		for (size_t i = 0; i < ELEMENTSOF(loop); i++)
			if (namesz == strlen(loop[i]) && strncmp(name, loop[i], namesz) == 0)
				why = DVOL_OPTS_LOOP;
		if (namesz > 7 && strncmp(name, "verity.", 7) == 0)
			why = DVOL_OPTS_VERITY;
		if (why != DVOL_OPTS_OK) {
			*ret_name = strndup(name, namesz);
			return why;
		}
	}
	return DVOL_OPTS_OK;
}

enum dvol_opts_why dvol_optstr_check_kind(const char *optstr, enum dvol_vol vol,
					  const char **ret_name)
{
	static const struct {
		const char *name;
		unsigned vols; /* 1u << enum dvol_vol */
	} only[] = {
	    {"mode", 1u << DVOL_VOL_BIND | 1u << DVOL_VOL_LOCAL},
	    {"uid", 1u << DVOL_VOL_BIND | 1u << DVOL_VOL_LOCAL},
	    {"gid", 1u << DVOL_VOL_BIND | 1u << DVOL_VOL_LOCAL},
	    {"mkfs-ignore-nonzero-data", 1u << DVOL_VOL_LOCAL},
	    {"device-timeout", 1u << DVOL_VOL_LOCAL},
	    {"probe-timeout", 1u << DVOL_VOL_NFS},
	    {"retry", 1u << DVOL_VOL_NFS},
	    {"source-mounted", 1u << DVOL_VOL_BIND},
	    {"source-fs", 1u << DVOL_VOL_BIND},
	    {"heal", 1u << DVOL_VOL_NFS},
	    {"stripe", 1u << DVOL_VOL_LOCAL},
	    {"count", 1u << DVOL_VOL_LOCAL},
	    {"cache", 1u << DVOL_VOL_NFS},
	    {"cache-dir", 1u << DVOL_VOL_NFS},
	    {"cache-size", 1u << DVOL_VOL_NFS},
	};
	char *value = NULL;
	size_t valsz = 0;

	*ret_name = NULL;
	for (size_t i = 0; optstr && i < ELEMENTSOF(only); i++)
		if (!(only[i].vols & 1u << vol) &&
		    mnt_optstr_get_option(optstr, only[i].name, NULL, NULL) == 0) {
			*ret_name = only[i].name;
			return DVOL_OPTS_FOREIGN;
		}
	if (vol == DVOL_VOL_NFS && optstr &&
	    mnt_optstr_get_option(optstr, "probe-timeout", &value, &valsz) == 0 && valsz == 1 &&
	    value[0] == '0') {
		*ret_name = "probe-timeout";
		return DVOL_OPTS_PROBE_ZERO;
	}
	return DVOL_OPTS_OK;
}

/*
 * Loop and verity options: libmount would set those devices up when the mount is recorded,
 * after the mount, in a sandbox without those ioctls, so the helper would die with the
 * volume mounted and unrecorded. mount(8) handles them itself and never passes them on;
 * only a direct call brings them here.
 */
int dvol_opts_explain(enum dvol_opts_why why, const struct dvol_opts_words *w, char **ret_text)
{
	_cleanup_free_ char *first = NULL;
	const char *name = w->name, *spec = w->spec;
	char *t = NULL;

	switch (why) {
	case DVOL_OPTS_OK:
		*ret_text = NULL;
		return 0;
	case DVOL_OPTS_LOOP:
		(void)dvol_strextendf(
		    &t, NULL,
		    "option '%s' asks for a loop device, which mount.dvol does not set up; "
		    "nothing was mounted. Attach the image with losetup and give the /dev/loopN "
		    "as SOURCE, or let mount(8) do it: mount -t dvol -o loop IMAGE DIR",
		    name);
		break;
	case DVOL_OPTS_VERITY:
		(void)dvol_strextendf(
		    &t, NULL,
		    "option '%s' asks for a dm-verity device, which mount.dvol does not set up; "
		    "nothing was mounted. Open it with veritysetup and give the /dev/mapper/NAME "
		    "as SOURCE",
		    name);
		break;
	case DVOL_OPTS_UNKNOWN:
		first = dvol_optstr_first(w->fs);
		(void)dvol_strextendf(&t, NULL,
				      "option '%s' is not known for a folder bind (%s); pass -s "
				      "(mount -s) to ignore options dvol does not know",
				      first ? first : w->fs, spec);
		break;
	case DVOL_OPTS_MKFS_FOLDER:
		(void)dvol_strextendf(&t, NULL,
				      "option 'mkfs=%s' applies to block devices, and '%s' is a "
				      "folder",
				      w->mkfs, spec);
		break;
	case DVOL_OPTS_CREATE_DEVICE:
		(void)dvol_strextendf(&t, NULL,
				      "option 'create' applies to folders, and '%s' is a block "
				      "device",
				      spec);
		break;
	case DVOL_OPTS_IGNORE_NO_MKFS:
		(void)dvol_strextendf(&t, NULL, "option 'mkfs-ignore-nonzero-data' needs mkfs=");
		break;
	case DVOL_OPTS_FOREIGN:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s' does not apply to %s ('%s'); remove it", name,
				      w->vol == DVOL_VOL_BIND	 ? "a folder"
				      : w->vol == DVOL_VOL_LOCAL ? "a block device"
								 : "an NFS export",
				      spec);
		break;
	case DVOL_OPTS_PROBE_ZERO:
		(void)dvol_strextendf(&t, NULL,
				      "option 'probe-timeout=0' leaves the probe no time; give it "
				      "seconds");
		break;
	case DVOL_OPTS_FALLBACK_ALONE:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s=' chooses the empty folder that 'optional' "
				      "mounts instead of a volume, and 'optional' is not given",
				      name);
		break;
	case DVOL_OPTS_DISK_CAPPED:
		(void)dvol_strextendf(&t, NULL,
				      "option 'fallback-size=' caps a tmpfs, and 'fallback=disk' "
				      "binds a folder of the root disk, which no size caps; remove "
				      "fallback-size=, or use fallback=tmpfs");
		break;
	case DVOL_OPTS_WRITER_NOT_NFS:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s=' applies to NFS exports and folders on NFS, "
				      "whose server enforces the one writer's lease, and '%s' is "
				      "a block device; remove it",
				      name, spec);
		break;
	case DVOL_OPTS_WRITER_ALONE:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s=' sets how the one writer's lease is kept, and "
				      "'writer=exclusive' is not given",
				      name);
		break;
	case DVOL_OPTS_WAIT_ALONE:
		(void)dvol_strextendf(&t, NULL,
				      "option 'wait-timeout=' bounds the wait for the writer's "
				      "lease, and 'on-conflict=wait' is not given");
		break;
	case DVOL_OPTS_WRITER_RO:
		(void)dvol_strextendf(&t, NULL,
				      "options 'writer=exclusive' and 'ro' do not go together: a "
				      "read-only mount needs no writer's lease; remove one");
		break;
	case DVOL_OPTS_WRITER_NOLOCK:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s' keeps locks on this host, so that another host "
				      "could write to '%s' too: 'writer=exclusive' needs locks "
				      "that reach the server; remove '%s'%s",
				      name, spec, name,
				      strcmp(name, "local_lock") == 0 ? " or use local_lock=none"
								      : "");
		break;
	case DVOL_OPTS_WRITER_V3:
		(void)dvol_strextendf(
		    &t, NULL,
		    "option '%s' asks for NFSv3, whose locks (NLM) have no lease: "
		    "a holder whose host dies keeps its lock until that host comes "
		    "back, so no takeover of '%s' could be bounded. "
		    "'writer=exclusive' needs NFSv4: use vers=4.1 or 4.2",
		    name, spec);
		break;
	case DVOL_OPTS_CACHE_ALONE:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s=' says where the local read cache lives, and "
				      "'cache=local' is not given",
				      name);
		break;
	case DVOL_OPTS_CACHE_NOFSC:
		(void)dvol_strextendf(&t, NULL,
				      "options 'cache=local' and 'nofsc' do not go together: "
				      "cache=local mounts '%s' with fsc; remove one",
				      spec);
		break;
	case DVOL_OPTS_LOCAL_ON_NFS:
		(void)dvol_strextendf(&t, NULL,
				      "option '%s' applies to local volumes, and '%s' is an NFS "
				      "export",
				      name, spec);
		break;
	default:
		(void)dvol_strextendf(&t, NULL, "the options do not fit %s", spec);
		break;
	}
	if (!t)
		return -ENOMEM;
	*ret_text = t;
	return -EINVAL;
}

const char *dvol_degraded_reason(enum dvol_vol vol, int r)
{
	if (r == -EREMOTEIO)
		return "not-mounted";
	if (vol == DVOL_VOL_NFS)
		return "unreachable";
	if (vol == DVOL_VOL_LOCAL && (r == -EMEDIUMTYPE || r == -EEXIST || r == -ENOTEMPTY))
		return "not-blank";
	if (r == -ENOENT || r == -ENODEV || r == -ENXIO || r == -ETIMEDOUT || r == -ENOTDIR)
		return "missing";
	return "failed";
}
