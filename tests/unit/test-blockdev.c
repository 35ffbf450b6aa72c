/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blockdev.h"

static void test_instance_store_models(void **state)
{
	static const struct {
		const char *model;
		bool want;
	} cases[] = {
	    /* As sysfs shows them: space padded to the field's width. */
	    {"Amazon EC2 NVMe Instance Storage        ", true},
	    {"nvme_card", true},
	    {"nvme_card                               ", true},
	    {"nvme_card0", true},
	    {"nvme_card0                              ", true},
	    {"nvme_card7", true},
	    {"nvme_card15", true},
	    {"nvme_card123", true},
	    {"Microsoft NVMe Direct Disk              ", true},
	    {"Microsoft NVMe Direct Disk v2", true},
	    {"Microsoft NVMe Direct Disk v2           ", true},

	    /* Persistent disks that look alike must never match: they hold data. */
	    {"Amazon Elastic Block Store              ", false},
	    {"nvme_card-pd", false},
	    {"nvme_card-pd                            ", false},
	    {"nvme_card0-pd", false},
	    {"nvme_cardX", false},
	    {"nvme_card0x", false},
	    {"nvme_card 0", false},
	    {"nvme_card-0", false},
	    {"nvme_card1234", false},
	    {"xnvme_card0", false},
	    {"MSFT NVMe Accelerator v1.0", false},
	    {"Microsoft NVMe Direct Disk v3", false},
	    {"QEMU NVMe Ctrl", false},
	    {"Amazon EC2 NVMe Instance Storage X", false},
	    {"amazon ec2 nvme instance storage", false},
	    {"Amazon EC2 NVMe Instance Storag?", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (dvol_nvme_model_is_instance_store(cases[i].model) != cases[i].want)
			fail_msg("model '%s': wanted %s", cases[i].model,
				 cases[i].want ? "instance store" : "not instance store");
	}
	assert_false(dvol_nvme_model_is_instance_store(NULL));
}

/* The udev rules and the built-in table are one list: the ATTRS{model} alternatives of the
 * rule that sets DVOL_INSTANCE_STORE, in order, equal dvol_nvme_instance_store_models(). */
static void test_rules_match_table(void **state)
{
	const char *path =
	    getenv("DVOL_UDEV_RULES") ? getenv("DVOL_UDEV_RULES") : "udev/60-dvol.rules";
	const char *const *table = dvol_nvme_instance_store_models();
	char line[4096];
	size_t n = 0, rules = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		fail_msg("cannot read %s (run from the top of the tree, or set DVOL_UDEV_RULES)",
			 path);
	while (fgets(line, sizeof(line), f)) {
		char *p, *e, *tok, *save = NULL;

		if (line[0] == '#' || !strstr(line, "ENV{DVOL_INSTANCE_STORE}=\"1\""))
			continue;
		rules++;
		p = strstr(line, "ATTRS{model}==\"");
		assert_non_null(p);
		p += strlen("ATTRS{model}==\"");
		e = strchr(p, '"');
		assert_non_null(e);
		*e = 0;
		for (tok = strtok_r(p, "|", &save); tok; tok = strtok_r(NULL, "|", &save), n++) {
			if (!table[n])
				fail_msg("%s has model '%s' beyond the table's end", path, tok);
			if (strcmp(tok, table[n]) != 0)
				fail_msg("%s has model '%s' where the table has '%s'", path, tok,
					 table[n]);
		}
	}
	fclose(f);
	assert_int_equal(rules, 1);
	if (table[n])
		fail_msg("the table has model '%s' that %s has not", table[n], path);
	assert_true(n >= 5);
}

static void test_buf_is_zero(void **state)
{
	const size_t n = 1024 * 1024;
	unsigned char *b = calloc(1, n);

	assert_non_null(b);
	assert_true(dvol_buf_is_zero(b, n));
	assert_true(dvol_buf_is_zero(b, 0));
	assert_true(dvol_buf_is_zero(b, 1));
	b[n - 1] = 1; /* the very last byte */
	assert_false(dvol_buf_is_zero(b, n));
	assert_true(dvol_buf_is_zero(b, n - 1));
	b[n - 1] = 0;
	b[0] = 0x80; /* the very first */
	assert_false(dvol_buf_is_zero(b, n));
	assert_false(dvol_buf_is_zero(b, 1));
	b[0] = 0;
	b[n / 2] = 0xff;
	assert_false(dvol_buf_is_zero(b, n));
	free(b);
}

static void test_describe(void **state)
{
	struct dvol_blk_dev d = {.node = (char *)"/dev/nvme1n1", .serial = (char *)"DVOLSER1"};
	char *s = dvol_blk_dev_describe(&d, NULL);

	assert_string_equal(s, "serial DVOLSER1 (/dev/nvme1n1)");
	free(s);
	d.serial = NULL;
	s = dvol_blk_dev_describe(&d, "1234-ab");
	assert_string_equal(s, "UUID=1234-ab (/dev/nvme1n1)");
	free(s);
	s = dvol_blk_dev_describe(&d, NULL);
	assert_string_equal(s, "/dev/nvme1n1");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_instance_store_models),
	    cmocka_unit_test(test_rules_match_table),
	    cmocka_unit_test(test_buf_is_zero),
	    cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
