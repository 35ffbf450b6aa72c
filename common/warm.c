/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strv.h"
#include "warm.h"

void dvol_warm_comps_free(char **comps)
{
	dvol_strv_free(comps);
}

void dvol_warm_manifest_done(struct dvol_warm_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->p[i].text);
		dvol_warm_comps_free(m->p[i].comps);
	}
	free(m->p);
	free(m->root);
	*m = (struct dvol_warm_manifest){0};
}

int dvol_warm_pattern_split(const char *pattern, char ***ret_comps, const char **ret_why)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;

	if (!*pattern)
		return *ret_why = "is empty", -EINVAL;
	if (pattern[0] == '/')
		return *ret_why = "is absolute: patterns are relative to the root", -EINVAL;
	if (strlen(pattern) >= DVOL_WARM_LINE_MAX)
		return *ret_why = "is longer than 4095 bytes", -EINVAL;
	v = calloc(strlen(pattern) / 2 + 2, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (const char *p = pattern; *p;) {
		size_t l = strcspn(p, "/");

		if (l == 2 && p[0] == '.' && p[1] == '.')
			return *ret_why = "has a '..' component: patterns stay beneath the root",
			       -EINVAL;
		if (l == 2 && p[0] == '*' && p[1] == '*')
			return *ret_why = "has a '**' component: dvol-warm has no recursive glob; "
					  "name each level ('*/*.safetensors')",
			       -EINVAL;
		if (l > 0 && !(l == 1 && p[0] == '.')) {
			v[n] = strndup(p, l);
			if (!v[n])
				return -ENOMEM;
			n++;
		}
		p += l;
		p += strspn(p, "/");
	}
	if (n == 0)
		return *ret_why = "names the root itself, not a file in it", -EINVAL;
	*ret_comps = TAKE_PTR(v);
	return 0;
}

int dvol_warm_manifest_add(struct dvol_warm_manifest *m, const char *pattern, unsigned line,
			   const char **ret_why)
{
	_cleanup_strv_free_ char **comps = NULL;
	struct dvol_warm_pattern *np;
	char *t;
	int r;

	r = dvol_warm_pattern_split(pattern, &comps, ret_why);
	if (r < 0)
		return r;
	t = strdup(pattern);
	if (!t)
		return -ENOMEM;
	np = reallocarray(m->p, m->n + 1, sizeof(*np));
	if (!np) {
		free(t);
		return -ENOMEM;
	}
	m->p = np;
	m->p[m->n++] =
	    (struct dvol_warm_pattern){.text = t, .comps = TAKE_PTR(comps), .line = line};
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* "root /abs/dir": 1 with the folder in *ret (caller frees), 0 if the line is no root line. */
static int root_line(const char *s, char **ret, const char **ret_why)
{
	const char *p;

	if (strncmp(s, "root", 4) != 0 || !is_blank(s[4]))
		return 0;
	for (p = s + 4; is_blank(*p); p++)
		;
	if (*p != '/')
		return *ret_why = "root: the volume must be an absolute folder", -EINVAL;
	for (const char *c = p; *c;) {
		size_t l = strcspn(c, "/");

		if (l == 2 && c[0] == '.' && c[1] == '.')
			return *ret_why = "root: the folder has a '..' component", -EINVAL;
		c += l;
		c += strspn(c, "/");
	}
	*ret = strdup(p);
	return *ret ? 1 : -ENOMEM;
}

int dvol_warm_manifest_parse(const char *text, size_t len, struct dvol_warm_manifest *m,
			     unsigned *ret_line, const char **ret_why)
{
	_cleanup_free_ char *buf = malloc(DVOL_WARM_LINE_MAX);
	unsigned line = 0;
	size_t i = 0;

	if (!buf)
		return -ENOMEM;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, a = i, b = end;
		_cleanup_free_ char *root = NULL;
		int r;

		line++;
		*ret_line = line;
		i = end + 1;
		if (memchr(text + a, '\0', b - a))
			return *ret_why = "holds a NUL byte", -EINVAL;
		while (a < b && is_blank(text[a]))
			a++;
		while (b > a && is_blank(text[b - 1]))
			b--;
		if (a == b || text[a] == '#')
			continue;
		if (b - a >= DVOL_WARM_LINE_MAX)
			return *ret_why = "is longer than 4095 bytes", -EINVAL;
		memcpy(buf, text + a, b - a);
		buf[b - a] = '\0';
		r = root_line(buf, &root, ret_why);
		if (r < 0)
			return r;
		if (r > 0) {
			if (m->root)
				return *ret_why = "root: given twice in one manifest", -EINVAL;
			m->root = TAKE_PTR(root);
			m->root_line = line;
			continue;
		}
		r = dvol_warm_manifest_add(m, buf, line, ret_why);
		if (r < 0)
			return r;
	}
	*ret_line = 0;
	return 0;
}

bool dvol_warm_is_glob(const char *comp)
{
	for (const char *p = comp; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '*' || *p == '?' || *p == '[')
			return true;
	}
	return false;
}

void dvol_warm_unescape(const char *comp, char *buf)
{
	for (const char *p = comp; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		*buf++ = *p;
	}
	*buf = '\0';
}

void dvol_warm_format_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u < ELEMENTSOF(units) - 1)
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

void dvol_warm_format_rate(uint64_t bytes, double seconds, char *buf, size_t size)
{
	/* "18446744073709551615 B" at most: with "/s", the 32 bytes of a caller's buffer */
	char b[24];

	if (!(seconds > 0)) {
		snprintf(buf, size, "-");
		return;
	}
	dvol_warm_format_bytes((uint64_t)((double)bytes / seconds), b, sizeof(b));
	snprintf(buf, size, "%s/s", b);
}

void dvol_warm_format_eta(double seconds, char *buf, size_t size)
{
	unsigned long s;

	if (!(seconds >= 0) || seconds >= 99.0 * 3600) {
		snprintf(buf, size, "--:--");
		return;
	}
	s = (unsigned long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

double dvol_warm_eta(uint64_t bytes_done, uint64_t bytes_total, double seconds)
{
	if (bytes_done >= bytes_total)
		return 0;
	if (bytes_done == 0 || !(seconds > 0))
		return -1;
	return (double)(bytes_total - bytes_done) * seconds / (double)bytes_done;
}

void dvol_warm_progress_line(const struct dvol_warm_progress *p, char *buf, size_t size)
{
	char done[32], total[32], rate[32], eta[32];
	unsigned pct = p->bytes_total ? (unsigned)(p->bytes_done * 100 / p->bytes_total) : 100;

	dvol_warm_format_bytes(p->bytes_done, done, sizeof(done));
	dvol_warm_format_bytes(p->bytes_total, total, sizeof(total));
	dvol_warm_format_rate(p->bytes_done, p->seconds, rate, sizeof(rate));
	dvol_warm_format_eta(dvol_warm_eta(p->bytes_done, p->bytes_total, p->seconds), eta,
			     sizeof(eta));
	snprintf(buf, size, "%s / %s  %3u%%  %s  ETA %s  files %llu/%llu", done, total, pct, rate,
		 eta, (unsigned long long)p->files_done, (unsigned long long)p->files_total);
}

unsigned dvol_warm_sample_offsets(uint64_t size, unsigned n, uint64_t len, uint64_t *offs)
{
	uint64_t last;
	unsigned k = 0;

	if (size == 0 || n == 0)
		return 0;
	/* The last sample ends at the file's end, or starts at 0 in a file shorter than it. */
	last = size > len ? (size - len) & ~(uint64_t)4095 : 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t o = n == 1 ? 0 : (uint64_t)((double)last * i / (n - 1));

		o &= ~(uint64_t)4095;
		if (k > 0 && o < offs[k - 1] + len)
			continue;
		offs[k++] = o;
	}
	return k;
}

const char *dvol_warm_sample_to_string(enum dvol_warm_sample s)
{
	static const char *const names[_DVOL_WARM_SAMPLE_MAX] = {
	    [DVOL_WARM_SAMPLE_MEMORY] = "memory",
	    [DVOL_WARM_SAMPLE_LOCAL] = "local",
	    [DVOL_WARM_SAMPLE_REMOTE] = "remote",
	};
	return s < _DVOL_WARM_SAMPLE_MAX ? names[s] : NULL;
}

enum dvol_warm_sample dvol_warm_sample_classify(uint64_t us, uint64_t threshold_us)
{
	return us < threshold_us ? DVOL_WARM_SAMPLE_LOCAL : DVOL_WARM_SAMPLE_REMOTE;
}
