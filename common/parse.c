/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static int parse_unit_number(const char *s, double *ret_num, const char **ret_unit)
{
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	/* strtod() also reads "0x10" and "1e3": a budget is written in plain decimals. */
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	*ret_num = v;
	*ret_unit = end;
	return 0;
}

int dvol_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = {
	    {"", 1000},	    {"ms", 1},	    {"s", 1000},     {"m", 60000},
	    {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 7 * 86400000.0},
	};
	const char *unit;
	double v;

	if (parse_unit_number(s, &v, &unit) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].suffix) == 0) {
			double ms = v * units[i].ms;

			if (ms > (double)UINT64_MAX / 2)
				return -ERANGE;
			*ret_ms = (uint64_t)(ms + 0.5);
			return 0;
		}
	return -EINVAL;
}

int dvol_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const char units[] = "KMGTPE";
	const char *unit, *u;
	double v, mul = 1;

	if (parse_unit_number(s, &v, &unit) < 0)
		return -EINVAL;
	if (*unit) {
		u = strchr(units, toupper((unsigned char)unit[0]));
		if (!u)
			return -EINVAL;
		/* "G", "GB" and "GiB" all mean 1024^3, as in util-linux and systemd. */
		if (unit[1] && strcmp(unit + 1, "B") != 0 && strcmp(unit + 1, "iB") != 0)
			return -EINVAL;
		for (const char *p = units; p <= u; p++)
			mul *= 1024;
	}
	if (v * mul > (double)UINT64_MAX / 2)
		return -ERANGE;
	*ret_bytes = (uint64_t)(v * mul);
	return 0;
}

int dvol_parse_mode(const char *s, mode_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*ret = (mode_t)v;
	return 0;
}

static int parse_id(const char *s, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to chown(2): never a valid id. */
	if (errno || *end || v >= UINT32_MAX)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* A decimal id, or a name looked up through NSS in the passwd or the group database. */
static int parse_id_or_name(const char *s, bool group, unsigned long *ret)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0]))
		return parse_id(s, ret) < 0 ? -EINVAL : 0;
	if (group) {
		struct group *gr = getgrnam(s);

		if (!gr)
			return -ESRCH;
		*ret = gr->gr_gid;
	} else {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return -ESRCH;
		*ret = pw->pw_uid;
	}
	return 0;
}

int dvol_parse_uid(const char *s, uid_t *ret)
{
	unsigned long v;
	int r = parse_id_or_name(s, false, &v);

	if (r >= 0)
		*ret = (uid_t)v;
	return r;
}

int dvol_parse_gid(const char *s, gid_t *ret)
{
	unsigned long v;
	int r = parse_id_or_name(s, true, &v);

	if (r >= 0)
		*ret = (gid_t)v;
	return r;
}
