/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blockdev.h"

static void test_instance_store_models(void **state)
{
	/* As sysfs shows them: space padded to the field's width. */
	assert_true(dvol_nvme_model_is_instance_store("Amazon EC2 NVMe Instance Storage        "));
	assert_true(dvol_nvme_model_is_instance_store("nvme_card"));
	assert_true(dvol_nvme_model_is_instance_store("nvme_card                               "));
	assert_true(dvol_nvme_model_is_instance_store("Microsoft NVMe Direct Disk              "));
	assert_true(dvol_nvme_model_is_instance_store("Microsoft NVMe Direct Disk v2"));

	/* Persistent disks that look alike must never match: they hold data. */
	assert_false(dvol_nvme_model_is_instance_store("Amazon Elastic Block Store              "));
	assert_false(dvol_nvme_model_is_instance_store("nvme_card-pd"));
	assert_false(dvol_nvme_model_is_instance_store("MSFT NVMe Accelerator v1.0"));
	assert_false(dvol_nvme_model_is_instance_store("QEMU NVMe Ctrl"));
	assert_false(dvol_nvme_model_is_instance_store("Amazon EC2 NVMe Instance Storage X"));
	assert_false(dvol_nvme_model_is_instance_store("amazon ec2 nvme instance storage"));
	assert_false(dvol_nvme_model_is_instance_store(""));
	assert_false(dvol_nvme_model_is_instance_store(NULL));
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
	    cmocka_unit_test(test_buf_is_zero),
	    cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
