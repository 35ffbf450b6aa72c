/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "libmount-util.h"

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* libmount calls this for a line it cannot parse; 1: go on (the load fails anyway). */
static int on_parse_error(struct libmnt_table *tb, const char *filename, int line)
{
	unsigned *first = mnt_table_get_userdata(tb);

	if (first && !*first)
		*first = (unsigned)line;
	return 1;
}

int dvol_mnt_table_load(const char *path, struct libmnt_table **ret, unsigned *ret_bad_line)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
	int r;

	*ret = NULL;
	*ret_bad_line = 0;
	if (!tb)
		return -ENOMEM;
	/* Comments and blank lines are kept with the entry that follows them: counting
	 * their lines gives each entry its line number (dvol_mnt_fs_line()). */
	mnt_table_enable_comments(tb, 1);
	mnt_table_set_userdata(tb, ret_bad_line);
	mnt_table_set_parser_errcb(tb, on_parse_error);
	r = mnt_table_parse_file(tb, path);
	mnt_table_set_userdata(tb, NULL);
	if (r < 0 && !*ret_bad_line)
		return r;
	*ret = TAKE_PTR(tb);
	return 0;
}

int dvol_mnt_table_load_iter(const char *path, struct libmnt_table **ret,
			     struct libmnt_iter **ret_it, unsigned *ret_bad_line)
{
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	int r;

	*ret_it = NULL;
	if (!it) {
		*ret = NULL;
		*ret_bad_line = 0;
		return -ENOMEM;
	}
	r = dvol_mnt_table_load(path, ret, ret_bad_line);
	if (r >= 0)
		*ret_it = TAKE_PTR(it);
	return r;
}

unsigned dvol_mnt_fs_line(struct libmnt_table *tb, struct libmnt_fs *fs, unsigned prev)
{
	if (prev == 0)
		prev = count_lines(mnt_table_get_intro_comment(tb));
	return prev + count_lines(mnt_fs_get_comment(fs)) + 1;
}

int dvol_mountinfo_find_id(uint64_t id, struct libmnt_table **ret_tb, struct libmnt_fs **ret_fs)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_BACKWARD);
	struct libmnt_fs *fs;
	int r;

	if (!tb || !it)
		return -ENOMEM;
	r = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (r < 0)
		return r;
	while (mnt_table_next_fs(tb, it, &fs) == 0)
		if ((uint64_t)mnt_fs_get_id(fs) == id) {
			*ret_fs = fs;
			*ret_tb = TAKE_PTR(tb);
			return 0;
		}
	return -ENOENT;
}
