/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkid/blkid.h>

#include "cleanup.h"
#include "spec.h"

static const char *const kind_names[_DVOL_SPEC_KIND_MAX] = {
    [DVOL_SPEC_PATH] = "path",
    [DVOL_SPEC_TAG] = "tag",
    [DVOL_SPEC_NVME_SERIAL] = "nvme-serial",
    [DVOL_SPEC_NVME_MODEL] = "nvme-model",
    [DVOL_SPEC_NVME_INSTANCE_STORE] = "nvme-instance-store",
    [DVOL_SPEC_NFS] = "nfs",
};

const char *dvol_spec_kind_to_string(enum dvol_spec_kind k)
{
	return k < _DVOL_SPEC_KIND_MAX ? kind_names[k] : NULL;
}

void dvol_spec_done(struct dvol_spec *spec)
{
	free(spec->path);
	free(spec->tag_name);
	free(spec->tag_value);
	free(spec->serial);
	free(spec->model);
	free(spec->host);
	free(spec->vers);
	*spec = (struct dvol_spec){0};
}

bool dvol_spec_is_block(const struct dvol_spec *spec)
{
	return spec->kind == DVOL_SPEC_TAG || spec->kind == DVOL_SPEC_NVME_SERIAL ||
	       spec->kind == DVOL_SPEC_NVME_MODEL || spec->kind == DVOL_SPEC_NVME_INSTANCE_STORE ||
	       (spec->kind == DVOL_SPEC_PATH &&
		(spec->devlink || strncmp(spec->path, "/dev/", 5) == 0));
}

enum dvol_vol dvol_spec_vol(const struct dvol_spec *spec)
{
	if (spec->kind == DVOL_SPEC_NFS)
		return DVOL_VOL_NFS;
	return dvol_spec_is_block(spec) ? DVOL_VOL_LOCAL : DVOL_VOL_BIND;
}

const char *dvol_vol_to_string(enum dvol_vol v)
{
	static const char *const names[] = {
	    [DVOL_VOL_BIND] = "bind", [DVOL_VOL_LOCAL] = "local", [DVOL_VOL_NFS] = "nfs"};

	return (size_t)v < ELEMENTSOF(names) ? names[v] : NULL;
}

bool dvol_nfs_vers_valid(const char *v)
{
	static const char *const known[] = {"3", "4", "4.0", "4.1", "4.2"};

	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		if (strcmp(v, known[i]) == 0)
			return true;
	return false;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return true;
	return false;
}

/*
 * An absolute path with no ".", ".." or empty components once repeated and trailing
 * slashes are folded. dvol refuses rather than guesses: "/srv/../etc" is an error.
 */
int dvol_path_normalize(const char *s, char **ret, const char **why)
{
	_cleanup_free_ char *out = NULL;
	size_t n = 0, len = strlen(s);
	const char *p = s;

	if (s[0] != '/')
		return *why = "not an absolute path", -EINVAL;
	if (len >= PATH_MAX)
		return *why = "path too long", -EINVAL;
	if (has_control(s))
		return *why = "control character in path", -EINVAL;

	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	while (*p) {
		size_t l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l = strcspn(p, "/");
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return *why = "path has a '.' or '..' component", -EINVAL;
		out[n++] = '/';
		memcpy(out + n, p, l);
		n += l;
		p += l;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	*ret = TAKE_PTR(out);
	return 0;
}

static bool hostname_valid(const char *h)
{
	size_t len = strlen(h);

	if (len == 0 || len > 253 || h[0] == '-' || h[0] == '.')
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return true;
}

/* "host", "[v6]" with optional ":port", from [s, s+len). */
static int parse_host_port(const char *s, size_t len, bool allow_port, struct dvol_spec *spec,
			   const char **why)
{
	_cleanup_free_ char *hp = strndup(s, len);
	char *host, *port = NULL;

	if (!hp)
		return -ENOMEM;
	if (hp[0] == '[') {
		char *end = strchr(hp, ']');
		struct in6_addr a6;

		if (!end)
			return *why = "unterminated '[' in IPv6 address", -EINVAL;
		*end = 0;
		host = hp + 1;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return *why = "invalid IPv6 address", -EINVAL;
		spec->host_is_ipv6 = true;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return *why = "junk after IPv6 address", -EINVAL;
	} else {
		host = hp;
		if (strchr(hp, ':') != strrchr(hp, ':'))
			return *why = "IPv6 address must be in brackets", -EINVAL;
		port = strchr(hp, ':');
		if (port)
			*port++ = 0;
		if (!hostname_valid(host))
			return *why = strchr(host, ':') ? "IPv6 address must be in brackets"
							: "invalid host name",
			       -EINVAL;
	}
	if (port) {
		char *end;
		unsigned long v;

		if (!allow_port)
			return *why = "a port needs the nfs:// form", -EINVAL;
		errno = 0;
		v = strtoul(port, &end, 10);
		if (!*port || *end || errno || v == 0 || v > 65535 ||
		    !isdigit((unsigned char)*port))
			return *why = "invalid port", -EINVAL;
		spec->port = (uint16_t)v;
	}
	spec->host = strdup(host);
	return spec->host ? 0 : -ENOMEM;
}

static int parse_nfs_url(const char *s, struct dvol_spec *spec, const char **why)
{
	const char *auth = s + strlen("nfs://");
	const char *path = strchr(auth, '/');
	const char *query;
	_cleanup_free_ char *p = NULL;
	int r;

	/* Nothing is percent-decoded: the kernel would mount "%2e%2e" as those bytes while a
	 * reader of the URL sees "..". Refuse what would be read two ways. */
	if (strchr(s, '%'))
		return *why = "nfs:// URL has a '%' (percent-escapes are not decoded; give the "
			      "export as host:/export)",
		       -EINVAL;
	if (strchr(s, '#'))
		return *why = "nfs:// URL has a '#' fragment", -EINVAL;
	if (!path)
		return *why = "nfs:// URL has no export path", -EINVAL;
	if (path == auth)
		return *why = "nfs:// URL has no host", -EINVAL;
	r = parse_host_port(auth, path - auth, true, spec, why);
	if (r < 0)
		return r;

	query = strchr(path, '?');
	p = query ? strndup(path, query - path) : strdup(path);
	if (!p)
		return -ENOMEM;
	r = dvol_path_normalize(p, &spec->path, why);
	if (r < 0)
		return r;

	if (query) {
		const char *q = query + 1;

		if (strncmp(q, "vers=", 5) != 0)
			return *why = "unknown nfs:// URL parameter (only vers= is known)", -EINVAL;
		q += 5;
		if (!dvol_nfs_vers_valid(q))
			return *why = "unknown NFS version in vers= (3, 4, 4.0, 4.1 or 4.2)",
			       -EINVAL;
		spec->vers = strdup(q);
		if (!spec->vers)
			return -ENOMEM;
	}
	spec->kind = DVOL_SPEC_NFS;
	return 0;
}

static int parse_nvme(const char *s, struct dvol_spec *spec, const char **why)
{
	if (strcmp(s, "instance-store") == 0) {
		spec->kind = DVOL_SPEC_NVME_INSTANCE_STORE;
		return 0;
	}
	if (strncmp(s, "serial=", 7) == 0) {
		s += 7;
		if (!*s)
			return *why = "empty NVMe serial", -EINVAL;
		if (has_control(s))
			return *why = "control character in NVMe serial", -EINVAL;
		spec->serial = strdup(s);
		spec->kind = DVOL_SPEC_NVME_SERIAL;
		return spec->serial ? 0 : -ENOMEM;
	}
	if (strncmp(s, "model=", 6) == 0) {
		const char *idx;
		size_t len;

		s += 6;
		/* Model strings may hold commas; the index is only ever the last item. */
		idx = strstr(s, ",index=");
		while (idx && strstr(idx + 1, ",index="))
			idx = strstr(idx + 1, ",index=");
		len = idx ? (size_t)(idx - s) : strlen(s);
		if (len == 0)
			return *why = "empty NVMe model", -EINVAL;
		if (idx) {
			const char *v = idx + 7;
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(v, &end, 10);
			if (!isdigit((unsigned char)*v) || *end || errno || n > 1023)
				return *why = "invalid NVMe index (0..1023)", -EINVAL;
			spec->index = (unsigned)n;
		}
		spec->model = strndup(s, len);
		if (!spec->model)
			return -ENOMEM;
		if (has_control(spec->model))
			return *why = "control character in NVMe model", -EINVAL;
		spec->kind = DVOL_SPEC_NVME_MODEL;
		return 0;
	}
	return *why = "unknown nvme: form (serial=, model= or instance-store)", -EINVAL;
}

static int parse_tag(const char *s, struct dvol_spec *spec, const char **why)
{
	static const char *const tags[] = {"UUID", "LABEL", "PARTUUID", "PARTLABEL"};
	char *name = NULL, *value = NULL;

	if (s[strlen(s) - 1] == '=')
		return *why = "empty tag value", -EINVAL;
	if (blkid_parse_tag_string(s, &name, &value) < 0)
		return *why = "malformed NAME=value tag", -EINVAL;
	spec->tag_name = name;
	spec->tag_value = value;
	if (!value || !*value)
		return *why = "empty tag value", -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(tags); i++)
		if (strcmp(name, tags[i]) == 0) {
			spec->kind = DVOL_SPEC_TAG;
			return 0;
		}
	return *why = "unknown tag (UUID=, LABEL=, PARTUUID= or PARTLABEL=)", -EINVAL;
}

int dvol_spec_parse(const char *s, struct dvol_spec *ret, const char **ret_why)
{
	struct dvol_spec spec = {0};
	const char *why = NULL, *colon;
	int r;

	if (!s || !*s) {
		r = -EINVAL;
		why = "empty source";
	} else if (s[0] == '/') {
		r = dvol_path_normalize(s, &spec.path, &why);
		if (r >= 0) {
			spec.kind = DVOL_SPEC_PATH;
			spec.devlink = strncmp(spec.path, "/dev/disk/", 10) == 0;
		}
	} else if (strncmp(s, "nfs://", 6) == 0) {
		r = parse_nfs_url(s, &spec, &why);
	} else if (strncmp(s, "nvme:", 5) == 0 && s[5] != '/') {
		r = parse_nvme(s + 5, &spec, &why);
	} else if ((colon = strstr(s, ":/")) && (!strchr(s, '=') || strchr(s, '=') > colon)) {
		/* host:/export; for IPv6, [addr]:/export. */
		const char *sep = s[0] == '[' ? strstr(s, "]:/") : colon;

		if (s[0] == '[' && !sep) {
			r = -EINVAL;
			why = "unterminated '[' in IPv6 address";
		} else {
			if (s[0] == '[')
				sep++;
			r = parse_host_port(s, sep - s, false, &spec, &why);
			if (r >= 0)
				r = dvol_path_normalize(sep + 1, &spec.path, &why);
			if (r >= 0)
				spec.kind = DVOL_SPEC_NFS;
		}
	} else if (strchr(s, '=')) {
		r = parse_tag(s, &spec, &why);
	} else {
		r = -EINVAL;
		why = "not a path, tag, nvme: or NFS source";
	}

	if (r < 0) {
		dvol_spec_done(&spec);
		if (ret_why)
			*ret_why = why ? why : strerror(-r);
		return r;
	}
	*ret = spec;
	return 0;
}

char *dvol_spec_nfs_server(const struct dvol_spec *spec)
{
	char *s = NULL;
	int n;

	if (spec->port)
		n = asprintf(&s, spec->host_is_ipv6 ? "[%s]:%u" : "%s:%u", spec->host, spec->port);
	else
		n = asprintf(&s, spec->host_is_ipv6 ? "[%s]" : "%s", spec->host);
	return n < 0 ? NULL : s;
}
