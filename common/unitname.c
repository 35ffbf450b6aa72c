/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "nfsmount.h"
#include "options.h"
#include "parse.h"
#include "spec.h"
#include "unitname.h"

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '_' || c == '.';
}

int dvol_unit_escape(const char *s, char **ret)
{
	char *out = malloc(strlen(s) * 4 + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (const char *p = s; *p; p++) {
		if (*p == '/')
			*o++ = '-';
		else if ((p == s && *p == '.') || !plain(*p))
			o += sprintf(o, "\\x%02x", (unsigned char)*p);
		else
			*o++ = *p;
	}
	*o = '\0';
	*ret = out;
	return 0;
}

int dvol_unit_path_escape(const char *path, char **ret)
{
	_cleanup_free_ char *simple = NULL;
	char *o;

	if (path[0] != '/')
		return -EINVAL;
	simple = malloc(strlen(path) + 1);
	if (!simple)
		return -ENOMEM;
	o = simple;
	/* Component by component: "//" and "." go, ".." is refused. */
	for (const char *p = path; *p;) {
		size_t l;

		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if (l == 0)
			break;
		if (l == 1 && p[0] == '.') {
			p += l;
			continue;
		}
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o != simple)
			*o++ = '/';
		memcpy(o, p, l);
		o += l;
		p += l;
	}
	*o = '\0';
	if (!*simple) {
		*ret = strdup("-");
		return *ret ? 0 : -ENOMEM;
	}
	return dvol_unit_escape(simple, ret);
}

void dvol_gen_line_done(struct dvol_gen_line *g)
{
	free(g->unit);
	free(g->dropin);
	free(g->wait_unit);
	free(g->wait_dropin);
	*g = (struct dvol_gen_line){0};
}

/* OPTS without x-* (mount(8) drops them before it runs the helper): x-systemd.* is
 * systemd's, not dvol's. */
static int strip_x_options(const char *opts, char **ret)
{
	_cleanup_free_ char *out = NULL;
	char *p = (char *)opts, *name, *value;
	size_t namesz, valuesz;
	int r;

	while (p && mnt_optstr_next_option(&p, &name, &namesz, &value, &valuesz) == 0) {
		_cleanup_free_ char *n = NULL, *v = NULL;

		if (namesz >= 2 && strncmp(name, "x-", 2) == 0)
			continue;
		n = strndup(name, namesz);
		v = value ? strndup(value, valuesz) : NULL;
		if (!n || (value && !v))
			return -ENOMEM;
		r = mnt_optstr_append_option(&out, n, v);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

int dvol_gen_line(const char *source, const char *target, const char *options,
		  struct dvol_gen_line *ret, char **ret_bad, const char **ret_why)
{
	_cleanup_free_ char *bad = NULL, *bad2 = NULL, *wait = NULL, *unit = NULL, *own = NULL;
	struct dvol_spec spec = {0};
	struct dvol_opts o = {0};
	struct dvol_nfs_mopts mo = {0};
	uint64_t mount_ms, total_ms;
	bool netdev;
	int r;

	*ret = (struct dvol_gen_line){0};
	*ret_bad = NULL;
	r = dvol_unit_path_escape(target, &wait);
	if (r < 0)
		return *ret_why = "TARGET is not an absolute path without '..'", r;
	if (asprintf(&unit, "%s.mount", wait) < 0)
		return -ENOMEM;
	free(TAKE_PTR(wait));
	r = dvol_spec_parse(source, &spec, ret_why);
	if (r < 0)
		goto out;
	if (spec.kind != DVOL_SPEC_NFS) {
		ret->unit = TAKE_PTR(unit);
		goto out;
	}
	r = strip_x_options(options, &own);
	if (r < 0)
		goto out;
	r = dvol_opts_parse(own, &o, &bad, ret_why);
	if (r < 0)
		goto out;
	r = dvol_nfs_mopts_parse(o.fs, spec.vers, spec.port, &mo, &bad2, ret_why);
	if (r < 0)
		goto out;
	mount_ms = mo.mount_timeout_ms ? mo.mount_timeout_ms
				       : o.probe_timeout_ms * DVOL_NFS_MOUNT_TIMEOUT_FACTOR;
	total_ms = o.retry_ms + o.probe_timeout_ms + mount_ms + DVOL_GEN_TIMEOUT_MARGIN_MS;
	netdev = options && mnt_optstr_get_option(options, "_netdev", NULL, NULL) == 0;

	r = dvol_unit_escape(source, &wait);
	if (r < 0)
		goto out;
	if (netdev)
		r = asprintf(&ret->dropin,
			     "# Written by dvol-generator for the dvol NFS line of %s:\n"
			     "# the network first, then the server, within the line's deadlines.\n"
			     "[Unit]\n"
			     "Wants=network-online.target\n"
			     "After=network-online.target\n"
			     "Requires=dvol-nfs-wait@%s.service\n"
			     "After=dvol-nfs-wait@%s.service\n"
			     "\n"
			     "[Mount]\n"
			     "# retry=%" PRIu64 "ms + probe-timeout=%" PRIu64
			     "ms + mount-timeout=%" PRIu64 "ms + %ums\n"
			     "TimeoutSec=%" PRIu64 "ms\n",
			     target, wait, wait, o.retry_ms, o.probe_timeout_ms, mount_ms,
			     DVOL_GEN_TIMEOUT_MARGIN_MS, total_ms);
	else
		r = asprintf(
		    &ret->dropin,
		    "# Written by dvol-generator for the dvol NFS line of %s.\n"
		    "# No _netdev: it is ordered into local-fs.target, before the network,\n"
		    "# so only the deadline is set here. Add _netdev to the line.\n"
		    "[Mount]\n"
		    "# retry=%" PRIu64 "ms + probe-timeout=%" PRIu64 "ms + mount-timeout=%" PRIu64
		    "ms + %ums\n"
		    "TimeoutSec=%" PRIu64 "ms\n",
		    target, o.retry_ms, o.probe_timeout_ms, mount_ms, DVOL_GEN_TIMEOUT_MARGIN_MS,
		    total_ms);
	if (r < 0) {
		ret->dropin = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (netdev && asprintf(&ret->wait_unit, "dvol-nfs-wait@%s.service", wait) < 0) {
		ret->wait_unit = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (netdev && o.retry_ms &&
	    asprintf(&ret->wait_dropin,
		     "# Written by dvol-generator: the dvol line of %s waits for its server up\n"
		     "# to its retry=.\n"
		     "[Service]\n"
		     "Environment=DVOL_NFS_WAIT=%" PRIu64 "\n",
		     target, (o.retry_ms + 999) / 1000) < 0) {
		ret->wait_dropin = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = 0;
	ret->warn_no_netdev = !netdev;
	ret->unit = TAKE_PTR(unit);
out:
	dvol_spec_done(&spec);
	dvol_opts_done(&o);
	dvol_nfs_mopts_done(&mo);
	if (r < 0)
		dvol_gen_line_done(ret);
	if (r == -EINVAL)
		*ret_bad = bad ? TAKE_PTR(bad) : TAKE_PTR(bad2);
	return r;
}
