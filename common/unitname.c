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

int dvol_unit_setting_escape(const char *s, bool quote, char **ret)
{
	char *out = malloc(strlen(s) * 2 + 3), *o = out;

	if (!out)
		return -ENOMEM;
	if (quote)
		*o++ = '"';
	for (const char *p = s; *p; p++) {
		if (*p == '%')
			*o++ = '%';
		else if (quote && (*p == '\\' || *p == '"'))
			*o++ = '\\';
		*o++ = *p;
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	*ret = out;
	return 0;
}

static int requires_mounts_for(const char *path, char **ret)
{
	_cleanup_free_ char *q = NULL;

	if (dvol_unit_setting_escape(path, true, &q) < 0 ||
	    asprintf(ret, "RequiresMountsFor=%s\n", q) < 0)
		return -ENOMEM;
	return 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int dvol_gen_bind_unit(const char *source, const char *target, const char *options,
		       const char *config, unsigned line, bool netdev, char **ret_name,
		       char **ret_text, const char **ret_why)
{
	_cleanup_free_ char *name = NULL, *what = NULL, *where = NULL, *opts = NULL;
	_cleanup_free_ char *rmf = NULL, *conf = NULL;
	bool own = options && *options && strcmp(options, "defaults") != 0;
	int r;

	*ret_name = *ret_text = NULL;
	if (has_control(source) || has_control(target) || has_control(config) ||
	    (options && has_control(options)))
		return *ret_why = "a control character in the line", -EINVAL;
	r = dvol_unit_path_escape(target, &name);
	if (r < 0)
		return *ret_why = "TARGET is not an absolute path without '..'", r;
	if (dvol_unit_setting_escape(source, false, &what) < 0 ||
	    dvol_unit_setting_escape(target, false, &where) < 0 ||
	    dvol_unit_setting_escape(config, false, &conf) < 0 ||
	    dvol_unit_setting_escape(own ? options : "", false, &opts) < 0 ||
	    requires_mounts_for(source, &rmf) < 0)
		return -ENOMEM;
	netdev = netdev && !(own && mnt_optstr_get_option(options, "_netdev", NULL, NULL) == 0);
	if (asprintf(ret_text,
		     "# Written by dvol-generator from %s, line %u: a bind line beneath no\n"
		     "# device line, mounted at boot after the mounts its source lies on.\n"
		     "[Unit]\n"
		     "Description=dvol bind of %s\n"
		     "Documentation=man:dvol-volumes(5) man:mount.dvol(8)\n"
		     "SourcePath=%s\n"
		     "%s"
		     "\n"
		     "[Mount]\n"
		     "What=%s\n"
		     "Where=%s\n"
		     "Type=dvol\n"
		     "Options=%s%ssource-mounted%s\n",
		     conf, line, what, conf, rmf, what, where, opts, own ? "," : "",
		     netdev ? ",_netdev" : "") < 0) {
		*ret_text = NULL;
		return -ENOMEM;
	}
	if (asprintf(ret_name, "%s.mount", name) < 0) {
		free(*ret_text);
		*ret_name = *ret_text = NULL;
		return -ENOMEM;
	}
	return 0;
}

void dvol_gen_line_done(struct dvol_gen_line *g)
{
	free(g->unit);
	free(g->dropin);
	free(g->wait_unit);
	free(g->wait_dropin);
	free(g->bind_path);
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

/* The drop-in of a folder's bind line: after the mounts its source lies on. */
static int gen_bind_dropin(const char *target, struct dvol_spec *spec, struct dvol_gen_line *g)
{
	_cleanup_free_ char *rmf = NULL;
	int r;

	r = requires_mounts_for(spec->path, &rmf);
	if (r < 0)
		return r;
	if (asprintf(&g->dropin,
		     "# Written by dvol-generator for the dvol bind line of %s:\n"
		     "# after the mounts its source lies on.\n"
		     "[Unit]\n"
		     "%s",
		     target, rmf) < 0) {
		g->dropin = NULL;
		return -ENOMEM;
	}
	g->bind_path = TAKE_PTR(spec->path);
	return 0;
}

/* The NFS mount's drop-in: the network and the server first with _netdev, and a deadline
 * that covers retry=, the probe and the mount. WAIT is SOURCE escaped. */
static int gen_nfs_dropin(const char *target, const char *wait, bool netdev,
			  const struct dvol_opts *o, const struct dvol_nfs_mopts *mo, char **ret)
{
	uint64_t mount_ms, total_ms;
	const char *heal;
	int r;

	mount_ms = mo->mount_timeout_ms ? mo->mount_timeout_ms
					: o->probe_timeout_ms * DVOL_NFS_MOUNT_TIMEOUT_FACTOR;
	total_ms = o->retry_ms + o->probe_timeout_ms + mount_ms + DVOL_GEN_TIMEOUT_MARGIN_MS;
	/* heal: the watchdog that mends the mount is started with it. */
	heal = o->heal ? "# heal: the watchdog of stale mounts is started with it.\n"
			 "Wants=dvol-heal.timer\n"
		       : "";
	if (netdev)
		r = asprintf(ret,
			     "# Written by dvol-generator for the dvol NFS line of %s:\n"
			     "# the network first, then the server, within the line's deadlines.\n"
			     "[Unit]\n"
			     "Wants=network-online.target\n"
			     "After=network-online.target\n"
			     "Requires=dvol-nfs-wait@%s.service\n"
			     "After=dvol-nfs-wait@%s.service\n"
			     "%s"
			     "\n"
			     "[Mount]\n"
			     "# retry=%" PRIu64 "ms + probe-timeout=%" PRIu64
			     "ms + mount-timeout=%" PRIu64 "ms + %ums\n"
			     "TimeoutSec=%" PRIu64 "ms\n",
			     target, wait, wait, heal, o->retry_ms, o->probe_timeout_ms, mount_ms,
			     DVOL_GEN_TIMEOUT_MARGIN_MS, total_ms);
	else
		r = asprintf(
		    ret,
		    "# Written by dvol-generator for the dvol NFS line of %s.\n"
		    "# No _netdev: it is ordered into local-fs.target, before the network,\n"
		    "# so only the deadline is set here. Add _netdev to the line.\n"
		    "%s%s%s"
		    "[Mount]\n"
		    "# retry=%" PRIu64 "ms + probe-timeout=%" PRIu64 "ms + mount-timeout=%" PRIu64
		    "ms + %ums\n"
		    "TimeoutSec=%" PRIu64 "ms\n",
		    target, *heal ? "[Unit]\n" : "", heal, *heal ? "\n" : "", o->retry_ms,
		    o->probe_timeout_ms, mount_ms, DVOL_GEN_TIMEOUT_MARGIN_MS, total_ms);
	if (r < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* With _netdev: the dvol-nfs-wait@ instance the mount requires, and with retry= its
 * deadline. */
static int gen_nfs_wait(const char *target, const char *wait, const struct dvol_opts *o,
			struct dvol_gen_line *g)
{
	if (asprintf(&g->wait_unit, "dvol-nfs-wait@%s.service", wait) < 0) {
		g->wait_unit = NULL;
		return -ENOMEM;
	}
	if (o->retry_ms &&
	    asprintf(&g->wait_dropin,
		     "# Written by dvol-generator: the dvol line of %s waits for its server up\n"
		     "# to its retry=.\n"
		     "[Service]\n"
		     "Environment=DVOL_NFS_WAIT=%" PRIu64 "\n",
		     target, (o->retry_ms + 999) / 1000) < 0) {
		g->wait_dropin = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* An NFS line: its options read as mount.dvol will read them, then what the unit needs. */
static int gen_nfs(const char *source, const char *target, const char *options,
		   const struct dvol_spec *spec, struct dvol_gen_line *g, char **ret_bad,
		   const char **ret_why)
{
	_cleanup_(dvol_opts_done) struct dvol_opts o = {0};
	_cleanup_(dvol_nfs_mopts_done) struct dvol_nfs_mopts mo = {0};
	_cleanup_free_ char *own = NULL, *bad = NULL, *bad2 = NULL, *wait = NULL;
	bool netdev;
	int r;

	r = strip_x_options(options, &own);
	if (r >= 0)
		r = dvol_opts_parse(own, &o, &bad, ret_why);
	if (r >= 0)
		r = dvol_nfs_mopts_parse(o.fs, spec->vers, spec->port, &mo, &bad2, ret_why);
	if (r < 0) {
		if (r == -EINVAL)
			*ret_bad = bad ? TAKE_PTR(bad) : TAKE_PTR(bad2);
		return r;
	}
	netdev = options && mnt_optstr_get_option(options, "_netdev", NULL, NULL) == 0;

	r = dvol_unit_escape(source, &wait);
	if (r < 0)
		return r;
	r = gen_nfs_dropin(target, wait, netdev, &o, &mo, &g->dropin);
	if (r < 0)
		return r;
	if (netdev) {
		r = gen_nfs_wait(target, wait, &o, g);
		if (r < 0)
			return r;
	}
	g->warn_no_netdev = !netdev;
	return 0;
}

int dvol_gen_line(const char *source, const char *target, const char *options,
		  struct dvol_gen_line *ret, char **ret_bad, const char **ret_why)
{
	_cleanup_(dvol_gen_line_done) struct dvol_gen_line g = {0};
	_cleanup_(dvol_spec_done) struct dvol_spec spec = {0};
	_cleanup_free_ char *name = NULL, *unit = NULL;
	int r;

	*ret = (struct dvol_gen_line){0};
	*ret_bad = NULL;
	/* A newline would end the drop-in's comment that names the line, and start a
	 * setting of its own. */
	if (has_control(target))
		return *ret_why = "TARGET has a control character", -EINVAL;
	r = dvol_unit_path_escape(target, &name);
	if (r < 0)
		return *ret_why = "TARGET is not an absolute path without '..'", r;
	if (asprintf(&unit, "%s.mount", name) < 0)
		return -ENOMEM;
	r = dvol_spec_parse(source, &spec, ret_why);
	if (r < 0)
		return r;
	if (spec.kind == DVOL_SPEC_PATH && !dvol_spec_is_block(&spec)) {
		r = gen_bind_dropin(target, &spec, &g);
		if (r < 0)
			return r;
	}
	if (spec.kind == DVOL_SPEC_NFS) {
		r = gen_nfs(source, target, options, &spec, &g, ret_bad, ret_why);
		if (r < 0)
			return r;
	}
	g.unit = TAKE_PTR(unit);
	*ret = g;
	g = (struct dvol_gen_line){0};
	return 0;
}
