/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "strv.h"
#include "warm.h"

/* A pattern and its components joined by '|', or the words of its refusal. */
static void test_patterns(void **state)
{
	static const struct {
		const char *in, *comps, *why;
	} cases[] = {
	    {"model.safetensors", "model.safetensors", NULL},
	    {"llama/*.safetensors", "llama|*.safetensors", NULL},
	    {"./a//b/./c/", "a|b|c", NULL},
	    {"a b/c d", "a b|c d", NULL},
	    {"*/config.json", "*|config.json", NULL},
	    {".hidden", ".hidden", NULL},
	    {"...", "...", NULL},
	    {"..x/y..", "..x|y..", NULL},
	    {"", NULL, "empty"},
	    {"/etc/passwd", NULL, "absolute"},
	    {"a/../../etc", NULL, "'..'"},
	    {"..", NULL, "'..'"},
	    {"a/..", NULL, "'..'"},
	    {"**/*.bin", NULL, "'**'"},
	    {"a/**", NULL, "'**'"},
	    {".", NULL, "root itself"},
	    {"./", NULL, "root itself"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_strv_free_ char **comps = NULL;
		_cleanup_free_ char *joined = NULL;
		const char *why = NULL;
		int r = dvol_warm_pattern_split(cases[i].in, &comps, &why);

		if (!cases[i].comps) {
			assert_int_equal(r, -EINVAL);
			assert_non_null(why);
			assert_non_null(strstr(why, cases[i].why));
			continue;
		}
		assert_int_equal(r, 0);
		for (char **c = comps; *c; c++)
			assert_int_equal(dvol_strextendf(&joined, joined ? "|" : "", "%s", *c), 0);
		assert_string_equal(joined, cases[i].comps);
	}
}

static void test_manifest(void **state)
{
	static const char text[] = "# a model's weights\n"
				   "\n"
				   "root /mnt/models/llama\n"
				   "   config.json  \n"
				   "\t# indented comment\n"
				   "*.safetensors\r\n"
				   "tokenizer/*";
	struct dvol_warm_manifest m = {0};
	const char *why = NULL;
	unsigned line = 99;

	assert_int_equal(dvol_warm_manifest_parse(text, strlen(text), &m, &line, &why), 0);
	assert_int_equal(line, 0);
	assert_string_equal(m.root, "/mnt/models/llama");
	assert_int_equal(m.root_line, 3);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.p[0].text, "config.json");
	assert_int_equal(m.p[0].line, 4);
	assert_string_equal(m.p[1].text, "*.safetensors");
	assert_int_equal(m.p[1].line, 6);
	assert_string_equal(m.p[2].text, "tokenizer/*");
	assert_string_equal(m.p[2].comps[0], "tokenizer");
	assert_string_equal(m.p[2].comps[1], "*");
	assert_null(m.p[2].comps[2]);
	assert_int_equal(m.p[2].line, 7);
	dvol_warm_manifest_done(&m);

	/* No root line; an empty manifest. */
	assert_int_equal(dvol_warm_manifest_parse("a\n", 2, &m, &line, &why), 0);
	assert_null(m.root);
	assert_int_equal(m.n, 1);
	dvol_warm_manifest_done(&m);
	assert_int_equal(dvol_warm_manifest_parse("", 0, &m, &line, &why), 0);
	assert_int_equal(m.n, 0);
	dvol_warm_manifest_done(&m);
}

/* Each bad manifest fails at its line, with words that say why. */
static void test_manifest_errors(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		unsigned line;
		const char *why;
	} cases[] = {
	    {"ok\n/abs\n", 0, 2, "absolute"},
	    {"# c\n\nx/../../y\n", 0, 3, "'..'"},
	    {"root relative/dir\n", 0, 1, "absolute folder"},
	    {"root /a/../b\n", 0, 1, "'..'"},
	    {"root /a\nroot /b\n", 0, 2, "twice"},
	    {"a\n**\n", 0, 2, "'**'"},
	    {"a\nb\0c\n", 6, 2, "NUL"},
	    {"./.\n", 0, 1, "root itself"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dvol_warm_manifest m = {0};
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		const char *why = NULL;
		unsigned line = 0;

		assert_int_equal(dvol_warm_manifest_parse(cases[i].text, len, &m, &line, &why),
				 -EINVAL);
		assert_int_equal(line, cases[i].line);
		assert_non_null(why);
		assert_non_null(strstr(why, cases[i].why));
		dvol_warm_manifest_done(&m);
	}
}

static void test_long_line(void **state)
{
	struct dvol_warm_manifest m = {0};
	char *t = malloc(DVOL_WARM_LINE_MAX + 2);
	const char *why = NULL;
	unsigned line = 0;

	assert_non_null(t);
	memset(t, 'a', DVOL_WARM_LINE_MAX + 1);
	t[DVOL_WARM_LINE_MAX + 1] = '\0';
	assert_int_equal(dvol_warm_manifest_parse(t, strlen(t), &m, &line, &why), -EINVAL);
	assert_int_equal(line, 1);
	assert_non_null(strstr(why, "longer"));
	dvol_warm_manifest_done(&m);
	free(t);
}

static void test_glob(void **state)
{
	static const struct {
		const char *in;
		bool glob;
		const char *unescaped;
	} cases[] = {
	    {"plain.bin", false, "plain.bin"},
	    {"*.bin", true, NULL},
	    {"a?c", true, NULL},
	    {"[ab]", true, NULL},
	    {"\\*star", false, "*star"},
	    {"back\\\\slash", false, "back\\slash"},
	    {"\\[x]", false, "[x]"},
	    {"\\\\*", true, NULL},
	    {"trail\\", false, "trail\\"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[64];

		assert_int_equal(dvol_warm_is_glob(cases[i].in), cases[i].glob);
		if (!cases[i].unescaped)
			continue;
		dvol_warm_unescape(cases[i].in, buf);
		assert_string_equal(buf, cases[i].unescaped);
	}
}

static void test_format(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *want;
	} sizes[] = {
	    {0, "0 B"},	       {1023, "1023 B"},	{1024, "1.0 KiB"},
	    {1536, "1.5 KiB"}, {5ULL << 30, "5.0 GiB"}, {UINT64_MAX, "16.0 EiB"},
	};
	static const struct {
		double s;
		const char *want;
	} etas[] = {
	    {-1, "--:--"},  {0, "0:00"},       {7.4, "0:07"},	       {59.6, "1:00"},
	    {754, "12:34"}, {3723, "1:02:03"}, {99.0 * 3600, "--:--"},
	};
	char buf[128];

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		dvol_warm_format_bytes(sizes[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, sizes[i].want);
	}
	for (size_t i = 0; i < ELEMENTSOF(etas); i++) {
		dvol_warm_format_eta(etas[i].s, buf, sizeof(buf));
		assert_string_equal(buf, etas[i].want);
	}
	dvol_warm_format_rate(100ULL << 20, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	dvol_warm_format_rate(100ULL << 20, 0.25, buf, sizeof(buf));
	assert_string_equal(buf, "400.0 MiB/s");

	assert_true(dvol_warm_eta(0, 100, 1) < 0);
	assert_true(dvol_warm_eta(10, 100, 0) < 0);
	assert_true(dvol_warm_eta(100, 100, 3) == 0);
	assert_true(dvol_warm_eta(25, 100, 2) == 6);

	dvol_warm_progress_line(&(struct dvol_warm_progress){.bytes_done = 1ULL << 30,
							     .bytes_total = 4ULL << 30,
							     .files_done = 3,
							     .files_total = 12,
							     .seconds = 2},
				buf, sizeof(buf));
	assert_string_equal(buf, "1.0 GiB / 4.0 GiB   25%  512.0 MiB/s  ETA 0:06  files 3/12");
	dvol_warm_progress_line(&(struct dvol_warm_progress){0}, buf, sizeof(buf));
	assert_string_equal(buf, "0 B / 0 B  100%  -  ETA 0:00  files 0/0");
}

static void test_samples(void **state)
{
	static const struct {
		uint64_t size;
		unsigned n;
		uint64_t len;
		unsigned want_n;
		uint64_t first, last;
	} cases[] = {
	    {0, 16, 65536, 0, 0, 0},
	    {100, 16, 65536, 1, 0, 0},
	    {65536, 16, 65536, 1, 0, 0},
	    {2 * 65536, 16, 65536, 2, 0, 65536},
	    {1ULL << 30, 16, 65536, 16, 0, ((1ULL << 30) - 65536)},
	    {(1ULL << 30) + 123, 16, 65536, 16, 0, ((1ULL << 30) + 123 - 65536) & ~4095ULL},
	    {1ULL << 30, 1, 65536, 1, 0, 0},
	    {1ULL << 30, 0, 65536, 0, 0, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t offs[64];
		unsigned k =
		    dvol_warm_sample_offsets(cases[i].size, cases[i].n, cases[i].len, offs);

		assert_int_equal(k, cases[i].want_n);
		if (!k)
			continue;
		assert_int_equal(offs[0], cases[i].first);
		assert_int_equal(offs[k - 1], cases[i].last);
		for (unsigned j = 0; j < k; j++) {
			assert_int_equal(offs[j] % 4096, 0);
			assert_true(offs[j] < cases[i].size);
			if (j)
				assert_true(offs[j] >= offs[j - 1] + cases[i].len);
		}
	}
	assert_int_equal(dvol_warm_sample_classify(1999, 2000), DVOL_WARM_SAMPLE_LOCAL);
	assert_int_equal(dvol_warm_sample_classify(2000, 2000), DVOL_WARM_SAMPLE_REMOTE);
	assert_int_equal(dvol_warm_sample_classify(0, 0), DVOL_WARM_SAMPLE_REMOTE);
	assert_string_equal(dvol_warm_sample_to_string(DVOL_WARM_SAMPLE_MEMORY), "memory");
	assert_null(dvol_warm_sample_to_string(_DVOL_WARM_SAMPLE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_manifest),
	    cmocka_unit_test(test_manifest_errors),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
