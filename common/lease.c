/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "escape.h"
#include "json.h"
#include "lease.h"

/* The record's format: a reader refuses one it does not know. */
#define RECORD_FORMAT 1

static inline void json_tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

bool dvol_lease_machine_id_valid(const char *s)
{
	return strlen(s) == DVOL_LEASE_MACHINE_ID_LEN &&
	       strspn(s, "0123456789abcdef") == DVOL_LEASE_MACHINE_ID_LEN;
}

bool dvol_lease_boot_id_valid(const char *s)
{
	if (strlen(s) != DVOL_LEASE_BOOT_ID_LEN)
		return false;
	for (size_t i = 0; i < DVOL_LEASE_BOOT_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	}
	return true;
}

/* Printable, and no control character that could forge a log line or drive a terminal. */
static bool text_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool hostname_valid(const char *s)
{
	size_t l = strlen(s);

	return l > 0 && l <= DVOL_LEASE_HOSTNAME_MAX && text_valid(s, l);
}

static bool record_valid(const struct dvol_lease_record *r)
{
	size_t mp = strnlen(r->mount_point, sizeof(r->mount_point));
	size_t nc = strnlen(r->nfs_client, sizeof(r->nfs_client));

	return dvol_lease_machine_id_valid(r->machine_id) && dvol_lease_boot_id_valid(r->boot_id) &&
	       hostname_valid(r->hostname) && nc < sizeof(r->nfs_client) &&
	       text_valid(r->nfs_client, nc) && mp < sizeof(r->mount_point) &&
	       r->mount_point[0] == '/' && text_valid(r->mount_point, mp) && r->pid > 0 &&
	       r->pid <= INT32_MAX && r->generation > 0 &&
	       r->generation <= DVOL_LEASE_GENERATION_MAX && r->since <= INT64_MAX &&
	       r->heartbeat <= INT64_MAX;
}

int dvol_lease_record_to_json(const struct dvol_lease_record *r, enum dvol_lease_json shape,
			      const uint64_t *heartbeat_age, json_object **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	int e = 0;

	if (!o)
		return -ENOMEM;
	if (shape == DVOL_LEASE_JSON_FILE) {
		e = dvol_json_add_int(o, "format", RECORD_FORMAT);
		if (e >= 0)
			e = dvol_json_add_string(o, "machine_id", r->machine_id);
		if (e >= 0)
			e = dvol_json_add_string(o, "boot_id", r->boot_id);
		if (e >= 0)
			e = dvol_json_add_string(o, "hostname", r->hostname);
	} else {
		e = dvol_json_add_string(o, "hostname", r->hostname);
		if (e >= 0)
			e = dvol_json_add_string(o, "machine_id", r->machine_id);
		if (e >= 0)
			e = dvol_json_add_string(o, "boot_id", r->boot_id);
	}
	if (e >= 0 && r->nfs_client[0])
		e = dvol_json_add_string(o, "nfs_client", r->nfs_client);
	if (e >= 0)
		e = dvol_json_add_string(o, "mount_point", r->mount_point);
	if (e >= 0)
		e = dvol_json_add_int(o, "pid", r->pid);
	if (e >= 0)
		e = dvol_json_add_u64(o, "since", r->since);
	if (e >= 0)
		e = dvol_json_add_u64(o, "heartbeat", r->heartbeat);
	if (e >= 0 && heartbeat_age)
		e = dvol_json_add_u64(o, "heartbeat_age", *heartbeat_age);
	if (e >= 0)
		e = dvol_json_add_u64(o, "generation", r->generation);
	if (e < 0)
		return e;
	*ret = TAKE_PTR(o);
	return 0;
}

int dvol_lease_record_encode(const struct dvol_lease_record *r, char *buf, size_t size)
{
	_cleanup_json_ json_object *o = NULL;
	const char *s;
	size_t l;
	int e;

	if (size < DVOL_LEASE_RECORD_SIZE || !record_valid(r))
		return -EINVAL;
	e = dvol_lease_record_to_json(r, DVOL_LEASE_JSON_FILE, NULL, &o);
	if (e < 0)
		return e;
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	l = strlen(s);
	if (l > DVOL_LEASE_RECORD_SIZE - 1)
		return -ENAMETOOLONG;
	memcpy(buf, s, l);
	memset(buf + l, ' ', DVOL_LEASE_RECORD_SIZE - 1 - l);
	buf[DVOL_LEASE_RECORD_SIZE - 1] = '\n';
	return 0;
}

/* The string under KEY into DST (SIZE): present, a string, no NUL inside, and fitting. */
static int get_string(json_object *o, const char *key, bool required, char *dst, size_t size)
{
	json_object *v;
	const char *s;
	int l;

	if (!json_object_object_get_ex(o, key, &v)) {
		dst[0] = 0;
		return required ? -EBADMSG : 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EBADMSG;
	s = json_object_get_string(v);
	l = json_object_get_string_len(v);
	if (!s || l < 0 || (size_t)l >= size || strlen(s) != (size_t)l)
		return -EBADMSG;
	memcpy(dst, s, (size_t)l + 1);
	return 0;
}

/* An integer from 0 to INT64_MAX under KEY: json-c clamps a larger one to UINT64_MAX
 * without a word, and keeps the sign apart (a negative one reads as 0 through its
 * unsigned getter), so both are refused by range. */
static int get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	if (json_object_get_int64(v) < 0 || json_object_get_uint64(v) > INT64_MAX)
		return -EBADMSG;
	*ret = json_object_get_uint64(v);
	return 0;
}

int dvol_lease_record_parse(const char *buf, size_t len, struct dvol_lease_record *ret)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	_cleanup_json_ json_object *o = NULL;
	uint64_t format;
	size_t end;

	if (len == 0 || len > DVOL_LEASE_RECORD_SIZE || memchr(buf, 0, len))
		return -EBADMSG;
	tok = json_tokener_new_ex(3);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		return -EBADMSG;
	/* Blanks only after the object, up to LEN: BUF is not a string (no NUL ends it). */
	end = json_tokener_get_parse_end(tok);
	if (end > len)
		return -EBADMSG;
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]))
			return -EBADMSG;

	if (get_u64(o, "format", &format) < 0 || format != RECORD_FORMAT)
		return -EBADMSG;
	return dvol_lease_record_from_json(o, ret);
}

int dvol_lease_record_from_json(struct json_object *o, struct dvol_lease_record *ret)
{
	struct dvol_lease_record r = {0};
	uint64_t pid;

	if (!o || !json_object_is_type(o, json_type_object))
		return -EBADMSG;
	if (get_string(o, "machine_id", true, r.machine_id, sizeof(r.machine_id)) < 0 ||
	    get_string(o, "boot_id", true, r.boot_id, sizeof(r.boot_id)) < 0 ||
	    get_string(o, "hostname", true, r.hostname, sizeof(r.hostname)) < 0 ||
	    get_string(o, "nfs_client", false, r.nfs_client, sizeof(r.nfs_client)) < 0 ||
	    get_string(o, "mount_point", true, r.mount_point, sizeof(r.mount_point)) < 0 ||
	    get_u64(o, "pid", &pid) < 0 || get_u64(o, "since", &r.since) < 0 ||
	    get_u64(o, "heartbeat", &r.heartbeat) < 0 ||
	    get_u64(o, "generation", &r.generation) < 0)
		return -EBADMSG;
	if (pid > INT32_MAX)
		return -EBADMSG;
	r.pid = (int64_t)pid;
	if (!record_valid(&r))
		return -EBADMSG;
	*ret = r;
	return 0;
}

static void format_time(uint64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t > (uint64_t)INT64_MAX / 2 || !gmtime_r(&tt, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "@%llu", (unsigned long long)t);
}

int dvol_lease_describe(const struct dvol_lease_record *r, bool this_host, char **ret)
{
	_cleanup_free_ char *host = dvol_escape_shown(r->hostname, 64),
			    *mp = dvol_escape_shown(r->mount_point, 256);
	char since[64], beat[64];

	if (!host || !mp)
		return -ENOMEM;
	format_time(r->since, since, sizeof(since));
	format_time(r->heartbeat, beat, sizeof(beat));
	if (asprintf(ret,
		     "%s%s (machine %.8s, pid %lld, mount point %s), since %s, generation %llu, "
		     "last heartbeat %s",
		     host, this_host ? ", this host" : "", r->machine_id, (long long)r->pid, mp,
		     since, (unsigned long long)r->generation, beat) < 0)
		return -ENOMEM;
	return 0;
}

bool dvol_lease_same_host(const struct dvol_lease_record *a, const struct dvol_lease_record *b)
{
	return strcmp(a->machine_id, b->machine_id) == 0 && strcmp(a->boot_id, b->boot_id) == 0 &&
	       strcmp(a->hostname, b->hostname) == 0;
}

int dvol_lease_next_generation(const struct dvol_lease_record *prev, uint64_t *ret)
{
	if (!prev || prev->generation == 0) {
		*ret = 1;
		return 0;
	}
	if (prev->generation >= DVOL_LEASE_GENERATION_MAX)
		return -EOVERFLOW;
	*ret = prev->generation + 1;
	return 0;
}

int dvol_lease_timing(uint64_t lease_ms, struct dvol_lease_timing *ret)
{
	if (lease_ms < DVOL_LEASE_TIME_MS_MIN || lease_ms > DVOL_LEASE_TIME_MS_MAX)
		return -ERANGE;
	*ret = (struct dvol_lease_timing){
	    .lease_ms = lease_ms,
	    .heartbeat_ms = lease_ms / 6,
	    .fence_ms = lease_ms / 2,
	};
	return 0;
}

enum dvol_lease_beat dvol_lease_after_beat(const struct dvol_lease_timing *t, int r,
					   uint64_t now_ms, uint64_t last_ok_ms)
{
	if (r >= 0)
		return DVOL_LEASE_BEAT_OK;
	/* EIO on a locked file: the client lost its lock state (the lease expired and the
	 * server may already have granted the lock to another host). */
	if (r == -EIO)
		return DVOL_LEASE_BEAT_FENCE;
	if (now_ms < last_ok_ms || now_ms - last_ok_ms >= t->fence_ms)
		return DVOL_LEASE_BEAT_FENCE;
	return DVOL_LEASE_BEAT_RETRY;
}

static bool name_is(const char *name, size_t namesz, const char *want)
{
	return namesz == strlen(want) && strncmp(name, want, namesz) == 0;
}

enum dvol_lease_opts_why dvol_lease_check_nfs_opts(const char *fs, const char **ret_name)
{
	char *p = (char *)fs, *name, *value;
	size_t namesz, valuesz;
	bool nolock = false, local = false, v3 = false;
	const char *v3_name = NULL;

	while (p && mnt_optstr_next_option(&p, &name, &namesz, &value, &valuesz) == 0) {
		if (name_is(name, namesz, "nolock"))
			nolock = true;
		else if (name_is(name, namesz, "lock"))
			nolock = false;
		else if (name_is(name, namesz, "local_lock"))
			/* all, posix, flock, or anything the kernel would refuse anyway */
			local = !(value && valuesz == 4 && strncmp(value, "none", 4) == 0);
		else if (name_is(name, namesz, "vers") || name_is(name, namesz, "nfsvers")) {
			v3 = value && valuesz >= 1 && value[0] != '4';
			v3_name = name_is(name, namesz, "vers") ? "vers" : "nfsvers";
		} else if (name_is(name, namesz, "v3") || name_is(name, namesz, "v2"))
			v3 = true, v3_name = name_is(name, namesz, "v3") ? "v3" : "v2";
		else if (namesz >= 2 && name[0] == 'v' && name[1] == '4')
			v3 = false;
	}
	if (v3) {
		*ret_name = v3_name;
		return DVOL_LEASE_OPTS_V3;
	}
	if (nolock) {
		*ret_name = "nolock";
		return DVOL_LEASE_OPTS_NOLOCK;
	}
	if (local) {
		*ret_name = "local_lock";
		return DVOL_LEASE_OPTS_LOCAL_LOCK;
	}
	*ret_name = NULL;
	return DVOL_LEASE_OPTS_OK;
}

/* The mount point of a "device SRC mounted on MP with fstype T ..." line, unescaped (the
 * kernel writes space, tab, newline and backslash as \ooo), into BUF; false if not one. */
static bool stats_mount_point(const char *line, size_t len, char *buf, size_t size)
{
	static const char on[] = " mounted on ", with[] = " with fstype ";
	const char *p, *end, *q;
	size_t n = 0;

	if (len < 7 || strncmp(line, "device ", 7) != 0)
		return false;
	p = memmem(line, len, on, sizeof(on) - 1);
	if (!p)
		return false;
	p += sizeof(on) - 1;
	end = memmem(p, len - (size_t)(p - line), with, sizeof(with) - 1);
	if (!end)
		return false;
	for (q = p; q < end; q++) {
		char c = *q;

		if (c == '\\' && end - q >= 4 && q[1] >= '0' && q[1] <= '3' && q[2] >= '0' &&
		    q[2] <= '7' && q[3] >= '0' && q[3] <= '7') {
			c = (char)((q[1] - '0') << 6 | (q[2] - '0') << 3 | (q[3] - '0'));
			q += 3;
		}
		if (n + 1 >= size)
			return false;
		buf[n++] = c;
	}
	buf[n] = 0;
	return true;
}

int dvol_lease_time_from_mountstats(const char *text, const char *mount_point, uint64_t *ret_ms)
{
	static const char key[] = "lease_time=";
	char mp[PATH_MAX];
	bool in = false, found = false;
	uint64_t ms = 0;
	int r = -ENOENT;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len >= 7 && strncmp(line, "device ", 7) == 0) {
			in = stats_mount_point(line, len, mp, sizeof(mp)) &&
			     strcmp(mp, mount_point) == 0;
			/* A later mount there is on top of this one: its answer is the one. */
			if (in)
				found = false, r = -ENOENT;
		} else if (in) {
			const char *l = line + strspn(line, " \t");

			if (strncmp(l, "nfsv4:", 6) == 0) {
				const char *v =
				    memmem(l, len - (size_t)(l - line), key, sizeof(key) - 1);
				char *end;
				unsigned long long s;

				if (!v) {
					r = -ENOENT;
				} else {
					v += sizeof(key) - 1;
					errno = 0;
					s = strtoull(v, &end, 10);
					if (end == v || errno ||
					    (*end != ',' && *end != '\n' && *end) ||
					    s > UINT64_MAX / 1000)
						r = -EBADMSG;
					else
						r = 0, ms = s * 1000, found = true;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!found || r < 0)
		return r;
	*ret_ms = ms;
	return 0;
}

static const char *const on_conflict_names[] = {
    [DVOL_LEASE_CONFLICT_RO] = "ro",
    [DVOL_LEASE_CONFLICT_FAIL] = "fail",
    [DVOL_LEASE_CONFLICT_WAIT] = "wait",
};

int dvol_lease_on_conflict_from_string(const char *s, enum dvol_lease_on_conflict *ret)
{
	for (size_t i = 0; s && i < ELEMENTSOF(on_conflict_names); i++)
		if (strcmp(s, on_conflict_names[i]) == 0) {
			*ret = (enum dvol_lease_on_conflict)i;
			return 0;
		}
	return -EINVAL;
}

const char *dvol_lease_on_conflict_to_string(enum dvol_lease_on_conflict c)
{
	return (size_t)c < ELEMENTSOF(on_conflict_names) ? on_conflict_names[c] : "ro";
}
