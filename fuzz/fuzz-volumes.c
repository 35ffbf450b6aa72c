/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /etc/dvol/volumes as dvol-volumes and dvol-generator read it, and what
 * the generator writes from it. The input is the file (a memfd). Each line that loads is
 * planned for a device of every kind, and each line goes through dvol_gen_line() (as an
 * fstab line would) and, for a bind beneath no device line, dvol_gen_bind_unit(): no text
 * they write may hold a line that is not a comment, a section or a setting, and a unit
 * must have exactly its template's lines, so that no field of the file can add a setting
 * of its own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unitname.h"
#include "volumes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every line of TEXT is empty, a comment, a [section] or a Key=value. */
static void check_unit_text(const char *text)
{
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (n && l[0] != '#' && l[0] != '[' && !memchr(l, '=', n))
			abort();
		if (n && l[0] == '[' && l[n - 1] != ']')
			abort();
		l += n + (nl ? 1 : 0);
	}
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_volumes vs = {0};
	const char *why = NULL;
	char path[64];
	unsigned line = 0;
	size_t idx[256];
	int fd, r;

	if (size > 16384)
		return 0;
	fd = memfd_create("volumes", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = dvol_volumes_load(&vs, path, &line, &why);
	close(fd);
	if (r == -EINVAL && !why)
		abort();
	if (r < 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	if (r < 0 || vs.n > 256) {
		dvol_volumes_done(&vs);
		return 0;
	}

	for (size_t i = 0; i < vs.n; i++) {
		const struct dvol_volume *v = &vs.v[i];
		struct dvol_gen_line g = {0};
		char *bad = NULL;

		if (v->target[0] != '/' || strstr(v->target, "//") || !v->source)
			abort();
		if (v->local && !v->on_device)
			abort();
		r = dvol_gen_line(v->source, v->target, v->options, &g, &bad, &why);
		if (r == 0 && g.dropin)
			check_unit_text(g.dropin);
		if (r == 0 && g.wait_dropin)
			check_unit_text(g.wait_dropin);
		dvol_gen_line_done(&g);
		free(bad);
		if (!v->local && !v->on_device) {
			char *name = NULL, *text = NULL;
			static size_t template_lines;

			r = dvol_gen_bind_unit(v->spec.path, v->target, v->options,
					       "/etc/dvol/volumes", v->line, i & 1, &name, &text,
					       &why);
			if (r == 0) {
				if (strchr(name, '/') || !strstr(name, ".mount"))
					abort();
				check_unit_text(text);
				if (!template_lines)
					template_lines = lines(text);
				if (lines(text) != template_lines)
					abort();
			} else if (r != -EINVAL && r != -ENOMEM) {
				abort();
			}
			free(name);
			free(text);
		}
	}

	/* The plan for a device of each kind: every line at most once. */
	for (int k = 0; k < 3; k++) {
		struct dvol_vol_device d = {
		    .devno = 1,
		    .serial = k == 0 ? "S1" : NULL,
		    .model = k == 1 ? "nvme_card" : "Amazon EC2 NVMe Instance Storage",
		    .instance_store = k != 0,
		    .uuid = k == 2 ? "1234-abcd" : NULL,
		    .label = k == 2 ? "data" : NULL,
		};
		size_t n = dvol_volumes_plan(&vs, &d, idx);

		if (n > vs.n)
			abort();
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++)
				if (idx[a] == idx[b])
					abort();
	}
	dvol_volumes_done(&vs);
	return 0;
}
