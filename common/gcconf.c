/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "libmount-util.h"
#include "gcconf.h"
#include "parse.h"

void dvol_gc_conf_error_done(struct dvol_gc_conf_error *e)
{
	free(e->file);
	free(e->key);
	*e = (struct dvol_gc_conf_error){0};
}

void dvol_gc_budget_init(struct dvol_gc_budget *b)
{
	*b = (struct dvol_gc_budget){.grace_s = DVOL_GC_GRACE_S_DEFAULT};
}

bool dvol_gc_budget_any(const struct dvol_gc_budget *b)
{
	return b->has_max_size || b->has_max_age || b->has_min_free;
}

static int parse_percent_ppm(const char *s, uint64_t *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || strcmp(end, "%") != 0 || !(v >= 0 && v <= 100))
		return -EINVAL;
	*ret = (uint64_t)(v * 10000 + 0.5);
	return 0;
}

int dvol_gc_budget_set(struct dvol_gc_budget *b, const char *key, const char *value,
		       const char **ret_why)
{
	uint64_t v;

	if (!value || !*value)
		return *ret_why = "needs a value (key=value)", -EINVAL;
	if (strcmp(key, "max-size") == 0) {
		if (dvol_parse_size(value, &v) < 0)
			return *ret_why = "is not a size (e.g. 200G, 512M)", -EINVAL;
		b->max_size = v;
		b->has_max_size = true;
	} else if (strcmp(key, "max-age") == 0 || strcmp(key, "grace") == 0) {
		if (dvol_parse_duration_ms(value, &v) < 0)
			return *ret_why = "is not a duration (e.g. 30d, 12h, 90m)", -EINVAL;
		if (key[0] == 'g') {
			b->grace_s = v / 1000;
		} else {
			b->max_age_s = v / 1000;
			b->has_max_age = true;
		}
	} else if (strcmp(key, "min-free") == 0) {
		if (strchr(value, '%')) {
			if (parse_percent_ppm(value, &v) < 0)
				return *ret_why = "is not a percentage from 0% to 100%", -EINVAL;
			b->min_free_ppm = true;
		} else {
			if (dvol_parse_size(value, &v) < 0)
				return *ret_why = "is neither a percentage (10%) nor a size (50G)",
				       -EINVAL;
			b->min_free_ppm = false;
		}
		b->min_free = v;
		b->has_min_free = true;
	} else {
		*ret_why = "is not a dvol-gc option (max-size, max-age, min-free, grace)";
		return -ENOENT;
	}
	return 0;
}

static int conf_append(struct dvol_gc_conf *c, struct dvol_gc_root_conf *rc)
{
	struct dvol_gc_root_conf *n = reallocarray(c->roots, c->n_roots + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->roots = n;
	c->roots[c->n_roots++] = *rc;
	*rc = (struct dvol_gc_root_conf){0};
	return 0;
}

static void root_conf_done(struct dvol_gc_root_conf *rc)
{
	free(rc->path);
	free(rc->name);
	free(rc->file);
	*rc = (struct dvol_gc_root_conf){0};
}

static int find_root(const struct dvol_gc_conf *c, const char *path)
{
	for (size_t i = 0; i < c->n_roots; i++)
		if (strcmp(c->roots[i].path, path) == 0)
			return (int)i;
	return -1;
}

int dvol_gc_conf_add(struct dvol_gc_conf *c, const char *path, const struct dvol_gc_budget *b)
{
	struct dvol_gc_root_conf rc = {.budget = *b};
	int r;

	if (find_root(c, path) >= 0)
		return -EEXIST;
	rc.path = strdup(path);
	if (!rc.path)
		return -ENOMEM;
	r = conf_append(c, &rc);
	if (r < 0)
		root_conf_done(&rc);
	return r;
}

void dvol_gc_conf_done(struct dvol_gc_conf *c)
{
	for (size_t i = 0; i < c->n_roots; i++)
		root_conf_done(&c->roots[i]);
	free(c->roots);
	*c = (struct dvol_gc_conf){0};
}

static int set_error(struct dvol_gc_conf_error *err, const char *file, unsigned line,
		     const char *key, size_t keysz, const char *why)
{
	dvol_gc_conf_error_done(err);
	err->file = strdup(file);
	err->line = line;
	err->key = key ? strndup(key, keysz) : NULL;
	err->why = why;
	if (!err->file || (key && !err->key))
		return -ENOMEM;
	return -EINVAL;
}

int dvol_gc_conf_load_file(struct dvol_gc_conf *c, const char *path, struct dvol_gc_conf_error *err)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs;
	unsigned line = 0, bad;
	int r;

	r = dvol_mnt_table_load_iter(path, &tb, &it, &bad);
	if (r < 0)
		return r;
	if (bad)
		return set_error(err, path, bad, NULL, 0,
				 "is not 'ROOT NAME OPTIONS' (three fields separated by blanks)");

	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		struct dvol_gc_root_conf rc = {0};
		const char *src = mnt_fs_get_source(fs), *name = mnt_fs_get_target(fs);
		/* The third fstab field (the type) holds OPTIONS. */
		const char *opts = mnt_fs_get_fstype(fs);
		char *o, *key, *val;
		size_t keysz, valsz;

		line = dvol_mnt_fs_line(tb, fs, line);
		if (!src || src[0] != '/')
			return set_error(err, path, line, NULL, 0,
					 "ROOT must be an absolute folder");
		if (mnt_fs_get_options(fs))
			return set_error(err, path, line, NULL, 0,
					 "has more than three fields (ROOT NAME OPTIONS; no "
					 "blanks inside OPTIONS)");
		if (find_root(c, src) >= 0)
			return set_error(err, path, line, NULL, 0,
					 "ROOT is configured twice (each root once)");

		dvol_gc_budget_init(&rc.budget);
		o = (char *)opts;
		while (o && mnt_optstr_next_option(&o, &key, &keysz, &val, &valsz) == 0) {
			_cleanup_free_ char *k = strndup(key, keysz);
			_cleanup_free_ char *v = val ? strndup(val, valsz) : strdup("");
			const char *why = NULL;

			if (!k || !v)
				return -ENOMEM;
			r = dvol_gc_budget_set(&rc.budget, k, v, &why);
			if (r < 0)
				return set_error(err, path, line, key, keysz, why);
		}
		if (!dvol_gc_budget_any(&rc.budget))
			return set_error(err, path, line, NULL, 0,
					 "sets no budget: give max-size, max-age or min-free");

		rc.path = strdup(src);
		rc.name = name && strcmp(name, "-") != 0 ? strdup(name) : NULL;
		rc.file = strdup(path);
		rc.line = line;
		if (!rc.path || !rc.file || (name && strcmp(name, "-") != 0 && !rc.name)) {
			root_conf_done(&rc);
			return -ENOMEM;
		}
		r = conf_append(c, &rc);
		if (r < 0) {
			root_conf_done(&rc);
			return r;
		}
	}
	return 0;
}

static int conf_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 5 && strcmp(de->d_name + l - 5, ".conf") == 0;
}

int dvol_gc_conf_load_dir(struct dvol_gc_conf *c, const char *confdir,
			  struct dvol_gc_conf_error *err)
{
	_cleanup_free_ char *main_conf = NULL, *dropins = NULL;
	struct dirent **list = NULL;
	int n, r = 0;

	if (asprintf(&main_conf, "%s/gc.conf", confdir) < 0 ||
	    asprintf(&dropins, "%s/gc.d", confdir) < 0)
		return -ENOMEM;
	if (access(main_conf, F_OK) == 0) {
		r = dvol_gc_conf_load_file(c, main_conf, err);
		if (r < 0 && r != -EINVAL)
			(void)set_error(err, main_conf, 0, NULL, 0, NULL); /* which file failed */
		if (r < 0)
			return r;
	}
	n = scandir(dropins, &list, conf_filter, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (r >= 0) {
			_cleanup_free_ char *p = NULL;

			if (asprintf(&p, "%s/%s", dropins, list[i]->d_name) < 0)
				r = -ENOMEM;
			else if ((r = dvol_gc_conf_load_file(c, p, err)) < 0 && r != -EINVAL)
				set_error(err, p, 0, NULL, 0, NULL);
		}
		free(list[i]);
	}
	free(list);
	return r;
}
