/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "json.h"
#include "lease.h"

static const struct dvol_lease_record rec_a = {
    .machine_id = "3d1219c7c4c5404aaa1f6d2a48adfda4",
    .boot_id = "4cb007a5-dba8-417d-a39b-a78b4f09e5f6",
    .hostname = "gpu-a",
    .nfs_client = "Linux NFSv4.2 gpu-a",
    .mount_point = "/mnt/models",
    .pid = 4242,
    .since = 1764750000,
    .heartbeat = 1764750015,
    .generation = 7,
};

static void assert_record_equal(const struct dvol_lease_record *a,
				const struct dvol_lease_record *b)
{
	assert_string_equal(a->machine_id, b->machine_id);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->nfs_client, b->nfs_client);
	assert_string_equal(a->mount_point, b->mount_point);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->since, b->since);
	assert_int_equal(a->heartbeat, b->heartbeat);
	assert_int_equal(a->generation, b->generation);
}

/* Encoded, a record is exactly one fixed-size block, JSON then blanks then a newline, and
 * reads back the same; without nfs_client too. */
static void test_round_trip(void **state)
{
	static char buf[DVOL_LEASE_RECORD_SIZE + 1]; /* a NUL after the record, for strchr() */
	struct dvol_lease_record b = rec_a, out;
	size_t l;

	assert_int_equal(dvol_lease_record_encode(&rec_a, buf, DVOL_LEASE_RECORD_SIZE), 0);
	assert_int_equal(buf[0], '{');
	assert_int_equal(buf[DVOL_LEASE_RECORD_SIZE - 1], '\n');
	assert_int_equal(buf[DVOL_LEASE_RECORD_SIZE - 2], ' ');
	assert_null(memchr(buf, 0, DVOL_LEASE_RECORD_SIZE));
	l = (size_t)(strchr(buf, '}') - buf);
	assert_true(strspn(buf + l + 1, " ") == DVOL_LEASE_RECORD_SIZE - l - 2);
	assert_int_equal(dvol_lease_record_parse(buf, DVOL_LEASE_RECORD_SIZE, &out), 0);
	assert_record_equal(&out, &rec_a);

	b.nfs_client[0] = 0;
	b.generation = DVOL_LEASE_GENERATION_MAX;
	b.heartbeat = INT64_MAX;
	snprintf(b.mount_point, sizeof(b.mount_point), "/mnt/a \"b\"\\c/é");
	assert_int_equal(dvol_lease_record_encode(&b, buf, DVOL_LEASE_RECORD_SIZE), 0);
	assert_null(strstr(buf, "nfs_client"));
	assert_int_equal(dvol_lease_record_parse(buf, DVOL_LEASE_RECORD_SIZE, &out), 0);
	assert_record_equal(&out, &b);
	/* Without the padding, as a shorter file would hold it. */
	assert_int_equal(dvol_lease_record_parse(buf, (size_t)(strchr(buf, '}') - buf) + 1, &out),
			 0);
}

/* The record's keys in their orders: the file's, and a holder's as both status commands
 * print it; pinned, since scripts and the golden outputs read them. */
static void test_to_json(void **state)
{
	static const char file[] =
	    "{\"format\":1,\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
	    "\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"hostname\":\"gpu-a\","
	    "\"nfs_client\":\"Linux NFSv4.2 gpu-a\",\"mount_point\":\"/mnt/models\","
	    "\"pid\":4242,\"since\":1764750000,\"heartbeat\":1764750015,\"generation\":7}";
	static const char holder[] =
	    "{\"hostname\":\"gpu-a\",\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
	    "\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\","
	    "\"nfs_client\":\"Linux NFSv4.2 gpu-a\",\"mount_point\":\"/mnt/models\","
	    "\"pid\":4242,\"since\":1764750000,\"heartbeat\":1764750015,\"generation\":7}";
	static const char aged[] =
	    "{\"hostname\":\"gpu-a\",\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
	    "\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/models\","
	    "\"pid\":4242,\"since\":1764750000,\"heartbeat\":1764750015,\"heartbeat_age\":3,"
	    "\"generation\":7}";
	static char buf[DVOL_LEASE_RECORD_SIZE + 1];
	struct dvol_lease_record b = rec_a, out;
	uint64_t age = 3;
	json_object *o = NULL;
	const char *s;

	assert_int_equal(dvol_lease_record_encode(&rec_a, buf, DVOL_LEASE_RECORD_SIZE), 0);
	assert_memory_equal(buf, file, strlen(file));
	assert_int_equal(buf[strlen(file)], ' ');

	assert_int_equal(dvol_lease_record_to_json(&rec_a, DVOL_LEASE_JSON_FILE, NULL, &o), 0);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_string_equal(s, file);
	json_object_put(o);

	assert_int_equal(dvol_lease_record_to_json(&rec_a, DVOL_LEASE_JSON_HOLDER, NULL, &o), 0);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_string_equal(s, holder);
	/* What status prints, dvol-volumes reads back. */
	assert_int_equal(dvol_lease_record_from_json(o, &out), 0);
	assert_record_equal(&out, &rec_a);
	json_object_put(o);

	b.nfs_client[0] = 0;
	assert_int_equal(dvol_lease_record_to_json(&b, DVOL_LEASE_JSON_HOLDER, &age, &o), 0);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_string_equal(s, aged);
	json_object_put(o);
}

/* Nothing is written that could not be read back, nor what does not fit. */
static void test_encode_refuses(void **state)
{
	static char buf[DVOL_LEASE_RECORD_SIZE + 1]; /* a NUL after the record, for strchr() */
	static const struct {
		const char *what;
		int r;
	} t[] = {
	    {"machine_id", -EINVAL}, {"boot_id", -EINVAL},    {"hostname", -EINVAL},
	    {"mount_rel", -EINVAL},  {"mount_ctl", -EINVAL},  {"pid", -EINVAL},
	    {"generation", -EINVAL}, {"long", -ENAMETOOLONG}, {"small", -EINVAL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_lease_record r = rec_a;
		size_t size = sizeof(buf);

		print_message("case %s\n", t[i].what);
		if (strcmp(t[i].what, "machine_id") == 0)
			strcpy(r.machine_id, "3D1219C7C4C5404AAA1F6D2A48ADFDA4");
		else if (strcmp(t[i].what, "boot_id") == 0)
			strcpy(r.boot_id, "4cb007a5dba8417da39ba78b4f09e5f6");
		else if (strcmp(t[i].what, "hostname") == 0)
			r.hostname[0] = 0;
		else if (strcmp(t[i].what, "mount_rel") == 0)
			strcpy(r.mount_point, "mnt/models");
		else if (strcmp(t[i].what, "mount_ctl") == 0)
			strcpy(r.mount_point, "/mnt/\x1b[2J");
		else if (strcmp(t[i].what, "pid") == 0)
			r.pid = 0;
		else if (strcmp(t[i].what, "generation") == 0)
			r.generation = 0;
		else if (strcmp(t[i].what, "long") == 0) {
			memset(r.mount_point, 'a', sizeof(r.mount_point) - 1);
			r.mount_point[0] = '/';
			r.mount_point[sizeof(r.mount_point) - 1] = 0;
		} else
			size = DVOL_LEASE_RECORD_SIZE - 1;
		assert_int_equal(dvol_lease_record_encode(&r, buf, size), t[i].r);
	}
}

/* A hostile volume can put anything in the file: each is -EBADMSG, never trusted. */
static void test_parse_refuses(void **state)
{
#define ID   "\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\""
#define BOOT "\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\""
#define REST "\"hostname\":\"h\",\"mount_point\":\"/m\",\"pid\":1,\"since\":1,\"heartbeat\":2"
	static const char *const bad[] = {
	    "",
	    " ",
	    "garbage",
	    "[]",
	    "null",
	    "{}",
	    "{\"format\":1}",
	    /* missing fields, one at a time */
	    "{\"format\":1," BOOT "," REST ",\"generation\":1}",
	    "{\"format\":1," ID "," REST ",\"generation\":1}",
	    "{\"format\":1," ID "," BOOT "," REST "}",
	    "{" ID "," BOOT "," REST ",\"generation\":1}",
	    /* a format it does not know */
	    "{\"format\":2," ID "," BOOT "," REST ",\"generation\":1}",
	    /* wrong types */
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":\"1\"}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1.5}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":true}",
	    "{\"format\":\"1\"," ID "," BOOT "," REST ",\"generation\":1}",
	    "{\"format\":1,\"machine_id\":5," BOOT "," REST ",\"generation\":1}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1,\"nfs_client\":[]}",
	    /* out of range */
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":0}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":-1}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":18446744073709551616}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":9223372036854775808}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1e3}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"h\",\"mount_point\":\"/m\",\"pid\":0,"
	    "\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"h\",\"mount_point\":\"/m\","
	    "\"pid\":2147483648,\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"h\",\"mount_point\":\"/m\",\"pid\":1,"
	    "\"since\":-5,\"heartbeat\":2,\"generation\":1}",
	    /* identities that are not ones */
	    "{\"format\":1,\"machine_id\":\"xyz\"," BOOT "," REST ",\"generation\":1}",
	    "{\"format\":1," ID ",\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5fZ\"," REST
	    ",\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"\",\"mount_point\":\"/m\",\"pid\":1,"
	    "\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"a\\nb\",\"mount_point\":\"/m\",\"pid\":1,"
	    "\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"a\\u0000b\",\"mount_point\":\"/m\","
	    "\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"h\",\"mount_point\":\"m\",\"pid\":1,"
	    "\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":\"h\",\"mount_point\":\"/m\\u001b[2J\","
	    "\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    /* not JSON alone: a second object, trailing garbage, a comment, a single-quoted value,
	     * an unfinished object */
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1}{}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1} x",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1/*c*/}",
	    "{\"format\":1," ID "," BOOT ",\"hostname\":'h',\"mount_point\":\"/m\",\"pid\":1,"
	    "\"since\":1,\"heartbeat\":2,\"generation\":1}",
	    "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1",
	};
	static const char good[] = "{\"format\":1," ID "," BOOT "," REST ",\"generation\":1}\n";
#undef ID
#undef BOOT
#undef REST
	static char big[DVOL_LEASE_RECORD_SIZE + 1];
	struct dvol_lease_record r;
	char nul[sizeof(good)];

	assert_int_equal(dvol_lease_record_parse(good, strlen(good), &r), 0);
	assert_int_equal(r.generation, 1);
	assert_string_equal(r.nfs_client, "");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		print_message("case %zu: %s\n", i, bad[i]);
		assert_int_equal(dvol_lease_record_parse(bad[i], strlen(bad[i]), &r), -EBADMSG);
	}
	/* A NUL byte anywhere, even in the padding. */
	memcpy(nul, good, sizeof(good));
	nul[sizeof(good) - 2] = 0;
	assert_int_equal(dvol_lease_record_parse(nul, sizeof(good) - 1, &r), -EBADMSG);
	/* Oversize: a valid record followed by more than a record's worth of blanks. */
	memset(big, ' ', sizeof(big));
	memcpy(big, good, strlen(good));
	assert_int_equal(dvol_lease_record_parse(big, DVOL_LEASE_RECORD_SIZE, &r), 0);
	assert_int_equal(dvol_lease_record_parse(big, sizeof(big), &r), -EBADMSG);
	/* Deep nesting is refused by the tokener, not by the stack. */
	memset(big, '[', sizeof(big));
	assert_int_equal(dvol_lease_record_parse(big, DVOL_LEASE_RECORD_SIZE, &r), -EBADMSG);
}

/* Keys it does not know are left alone (a later format may add some). */
static void test_parse_unknown_keys(void **state)
{
	static const char s[] = "{\"format\":1,\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
				"\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"x\":[1,2],"
				"\"hostname\":\"h\",\"mount_point\":\"/m\",\"pid\":1,\"since\":1,"
				"\"heartbeat\":2,\"generation\":3}";
	struct dvol_lease_record r;

	assert_int_equal(dvol_lease_record_parse(s, strlen(s), &r), 0);
	assert_int_equal(r.generation, 3);
}

/* A holder as dvol-writer status --json shows it: the record's fields without its format,
 * beside keys of its own (this_host); checked as a record is. */
static void test_from_json(void **state)
{
	static const char *const refused[] = {
	    /* no generation */
	    "{\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"boot_id\":"
	    "\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"hostname\":\"h\",\"mount_point\":\"/m\","
	    "\"pid\":1,\"since\":1,\"heartbeat\":2}",
	    /* a host name with a control character */
	    "{\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"boot_id\":"
	    "\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"hostname\":\"h\\u001b[2J\",\"mount_point\":"
	    "\"/m\",\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":3}",
	    /* a generation that is not a number */
	    "{\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"boot_id\":"
	    "\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"hostname\":\"h\",\"mount_point\":\"/m\","
	    "\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":\"3\"}",
	    "[1]",
	    "\"h\"",
	};
	static const char ok[] =
	    "{\"hostname\":\"gpu-a\",\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
	    "\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/models\","
	    "\"pid\":4242,\"since\":1764750000,\"heartbeat\":1764750015,\"generation\":7,"
	    "\"nfs_client\":\"Linux NFSv4.2 gpu-a\",\"this_host\":true}";
	struct dvol_lease_record r;
	json_object *o;

	o = json_tokener_parse(ok);
	assert_non_null(o);
	assert_int_equal(dvol_lease_record_from_json(o, &r), 0);
	assert_record_equal(&r, &rec_a);
	json_object_put(o);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		print_message("refused %zu: %s\n", i, refused[i]);
		o = json_tokener_parse(refused[i]);
		assert_non_null(o);
		assert_int_equal(dvol_lease_record_from_json(o, &r), -EBADMSG);
		json_object_put(o);
	}
	assert_int_equal(dvol_lease_record_from_json(NULL, &r), -EBADMSG);
}

static void test_ids(void **state)
{
	assert_true(dvol_lease_machine_id_valid("3d1219c7c4c5404aaa1f6d2a48adfda4"));
	assert_false(dvol_lease_machine_id_valid("3d1219c7c4c5404aaa1f6d2a48adfda"));
	assert_false(dvol_lease_machine_id_valid("3d1219c7c4c5404aaa1f6d2a48adfda4\n"));
	assert_false(dvol_lease_machine_id_valid("3d1219c7c4c5404aaa1f6d2a48adfdg4"));
	assert_true(dvol_lease_boot_id_valid("4cb007a5-dba8-417d-a39b-a78b4f09e5f6"));
	assert_false(dvol_lease_boot_id_valid("4cb007a5-dba8-417d-a39b-a78b4f09e5f"));
	assert_false(dvol_lease_boot_id_valid("4cb007a5xdba8-417d-a39b-a78b4f09e5f6"));
	assert_false(dvol_lease_boot_id_valid("4cb007a5-dba8-417d-a39b-a78b4f09e5f-"));
	assert_false(dvol_lease_boot_id_valid(""));
}

/* The same host: machine, boot and name all equal; the NFS client, pid and mount point do
 * not count. */
static void test_same_host(void **state)
{
	static const struct {
		const char *machine_id, *boot_id, *hostname;
		bool same;
	} t[] = {
	    {"3d1219c7c4c5404aaa1f6d2a48adfda4", "4cb007a5-dba8-417d-a39b-a78b4f09e5f6", "gpu-a",
	     true},
	    /* another network namespace of the same machine, with its own name */
	    {"3d1219c7c4c5404aaa1f6d2a48adfda4", "4cb007a5-dba8-417d-a39b-a78b4f09e5f6", "gpu-b",
	     false},
	    /* the same machine, rebooted */
	    {"3d1219c7c4c5404aaa1f6d2a48adfda4", "00000000-dba8-417d-a39b-a78b4f09e5f6", "gpu-a",
	     false},
	    /* a clone with the same name and boot id (never in practice): another machine */
	    {"00000000c4c5404aaa1f6d2a48adfda4", "4cb007a5-dba8-417d-a39b-a78b4f09e5f6", "gpu-a",
	     false},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_lease_record b = rec_a;

		strcpy(b.machine_id, t[i].machine_id);
		strcpy(b.boot_id, t[i].boot_id);
		strcpy(b.hostname, t[i].hostname);
		b.pid = 1;
		b.nfs_client[0] = 0;
		strcpy(b.mount_point, "/elsewhere");
		assert_int_equal(dvol_lease_same_host(&rec_a, &b), t[i].same);
		assert_int_equal(dvol_lease_same_host(&b, &rec_a), t[i].same);
	}
}

static void test_generation(void **state)
{
	static const struct {
		bool have;
		uint64_t prev;
		int r;
		uint64_t next;
	} t[] = {
	    {false, 0, 0, 1},
	    {true, 0, 0, 1},
	    {true, 1, 0, 2},
	    {true, 41, 0, 42},
	    {true, INT64_MAX - 1, 0, INT64_MAX},
	    {true, INT64_MAX, -EOVERFLOW, 0},
	    {true, UINT64_MAX, -EOVERFLOW, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_lease_record p = rec_a;
		uint64_t g = 0;

		p.generation = t[i].prev;
		assert_int_equal(dvol_lease_next_generation(t[i].have ? &p : NULL, &g), t[i].r);
		if (t[i].r == 0)
			assert_int_equal(g, t[i].next);
	}
}

static void test_timing(void **state)
{
	static const struct {
		uint64_t lease;
		int r;
		uint64_t beat, fence;
	} t[] = {
	    {90000, 0, 15000, 45000},	   {10000, 0, 1666, 5000},	{2000, 0, 333, 1000},
	    {3600000, 0, 600000, 1800000}, {1999, -ERANGE, 0, 0},	{0, -ERANGE, 0, 0},
	    {3600001, -ERANGE, 0, 0},	   {UINT64_MAX, -ERANGE, 0, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_lease_timing tm = {0};

		assert_int_equal(dvol_lease_timing(t[i].lease, &tm), t[i].r);
		if (t[i].r < 0)
			continue;
		assert_int_equal(tm.lease_ms, t[i].lease);
		assert_int_equal(tm.heartbeat_ms, t[i].beat);
		assert_int_equal(tm.fence_ms, t[i].fence);
		/* Three heartbeats fit in the fence time, and fencing ends before the lease. */
		assert_true(3 * tm.heartbeat_ms <= tm.fence_ms);
		assert_true(tm.fence_ms < tm.lease_ms);
	}
}

/* After each heartbeat: go on, try again, or fence. Lease 90 s: fence after 45 s. */
static void test_after_beat(void **state)
{
	static const struct {
		int r;
		uint64_t now, last_ok;
		enum dvol_lease_beat want;
	} t[] = {
	    {0, 1000, 0, DVOL_LEASE_BEAT_OK},
	    {0, 100000, 0, DVOL_LEASE_BEAT_OK}, /* late, but it reached the server */
	    {-ETIMEDOUT, 20000, 5000, DVOL_LEASE_BEAT_RETRY},
	    {-EINTR, 49999, 5000, DVOL_LEASE_BEAT_RETRY},
	    {-ETIMEDOUT, 50000, 5000, DVOL_LEASE_BEAT_FENCE},
	    {-ENOSPC, 90000, 5000, DVOL_LEASE_BEAT_FENCE},
	    {-EIO, 5001, 5000, DVOL_LEASE_BEAT_FENCE},	     /* at once */
	    {-ETIMEDOUT, 4000, 5000, DVOL_LEASE_BEAT_FENCE}, /* a clock gone back: no trust */
	};
	struct dvol_lease_timing tm;

	assert_int_equal(dvol_lease_timing(90000, &tm), 0);
	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		assert_int_equal(dvol_lease_after_beat(&tm, t[i].r, t[i].now, t[i].last_ok),
				 t[i].want);
}

/* Locks that stay on this host let another host write too. */
static void test_nfs_opts(void **state)
{
	static const struct {
		const char *fs;
		enum dvol_lease_opts_why want;
		const char *name;
	} t[] = {
	    {NULL, DVOL_LEASE_OPTS_OK, NULL},
	    {"", DVOL_LEASE_OPTS_OK, NULL},
	    {"vers=4.2,hard", DVOL_LEASE_OPTS_OK, NULL},
	    {"local_lock=none", DVOL_LEASE_OPTS_OK, NULL},
	    {"lock", DVOL_LEASE_OPTS_OK, NULL},
	    {"nolock", DVOL_LEASE_OPTS_NOLOCK, "nolock"},
	    {"vers=4.1,nolock,hard", DVOL_LEASE_OPTS_NOLOCK, "nolock"},
	    {"nolock,lock", DVOL_LEASE_OPTS_OK, NULL}, /* the last wins */
	    {"lock,nolock", DVOL_LEASE_OPTS_NOLOCK, "nolock"},
	    {"local_lock=all", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    {"local_lock=posix", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    {"local_lock=flock", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    {"local_lock", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    {"local_lock=nonesuch", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    {"local_lock=all,local_lock=none", DVOL_LEASE_OPTS_OK, NULL},
	    {"local_lock=none,local_lock=posix", DVOL_LEASE_OPTS_LOCAL_LOCK, "local_lock"},
	    /* names that only begin like them are not them */
	    {"nolocks,local_locks=all,locked", DVOL_LEASE_OPTS_OK, NULL},
	    /* NFSv3's locks (NLM) have no lease */
	    {"vers=3", DVOL_LEASE_OPTS_V3, "vers"},
	    {"nfsvers=3,hard", DVOL_LEASE_OPTS_V3, "nfsvers"},
	    {"v3", DVOL_LEASE_OPTS_V3, "v3"},
	    {"vers=4.2", DVOL_LEASE_OPTS_OK, NULL},
	    {"vers=4", DVOL_LEASE_OPTS_OK, NULL},
	    {"v4.1", DVOL_LEASE_OPTS_OK, NULL},
	    {"vers=3,vers=4.1", DVOL_LEASE_OPTS_OK, NULL},
	    {"vers=4.1,v3", DVOL_LEASE_OPTS_V3, "v3"},
	    {"vers=3,nolock", DVOL_LEASE_OPTS_V3, "vers"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		const char *name = "unset";

		print_message("case %zu: %s\n", i, t[i].fs ? t[i].fs : "(null)");
		assert_int_equal(dvol_lease_check_nfs_opts(t[i].fs, &name), t[i].want);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
	}
}

/* In words: the holder named, what comes from the volume escaped, times in UTC. */
static void test_describe(void **state)
{
	struct dvol_lease_record r = rec_a;
	char *s = NULL;

	assert_int_equal(dvol_lease_describe(&r, false, &s), 0);
	assert_string_equal(s, "gpu-a (machine 3d1219c7, pid 4242, mount point /mnt/models), "
			       "since 2025-12-03 08:20:00 UTC, generation 7, last heartbeat "
			       "2025-12-03 08:20:15 UTC");
	free(s);
	strcpy(r.hostname, "evil\x1b]0;x\x07");
	strcpy(r.mount_point, "/mnt/a\tb");
	r.since = INT64_MAX;
	assert_int_equal(dvol_lease_describe(&r, true, &s), 0);
	assert_non_null(strstr(s, "evil\\033]0;x\\a, this host"));
	assert_non_null(strstr(s, "mount point /mnt/a\\tb"));
	assert_non_null(strstr(s, "since @9223372036854775807"));
	assert_null(strchr(s, '\x1b'));
	free(s);
}

/* The server's lease, as the client shows it in /proc/self/mountstats. */
static void test_mountstats(void **state)
{
	static const char stats[] =
	    "device rootfs mounted on / with fstype rootfs\n"
	    "device proc mounted on /proc with fstype proc\n"
	    "device srv:/export mounted on /mnt/models with fstype nfs4 statvers=1.1\n"
	    "\topts:\trw,vers=4.2,rsize=1048576,hard,proto=tcp\n"
	    "\tage:\t12\n"
	    "\tcaps:\tcaps=0x3ffbffff,wtmult=512,dtsize=1048576,bsize=0,namlen=255\n"
	    "\tnfsv4:\tbm0=0xfdffbfff,bm1=0x40f9be3e,bm2=0x60800,acl=0x3,sessions,pnfs=not "
	    "configured,lease_time=10,lease_expired=0\n"
	    "\tsec:\tflavor=1,pseudoflavor=1\n"
	    "device srv:/export/a\\040b mounted on /mnt/a\\040b with fstype nfs4 statvers=1.1\n"
	    "\tnfsv4:\tbm0=0x1,acl=0x3,lease_time=90,lease_expired=0\n"
	    "device srv:/v3 mounted on /mnt/v3 with fstype nfs statvers=1.1\n"
	    "\topts:\trw,vers=3\n"
	    "device srv:/bad mounted on /mnt/bad with fstype nfs4 statvers=1.1\n"
	    "\tnfsv4:\tbm0=0x1,lease_time=ten\n"
	    "device srv:/x mounted on /mnt/over with fstype nfs4 statvers=1.1\n"
	    "\tnfsv4:\tbm0=0x1,lease_time=45,lease_expired=0\n"
	    "device srv:/v3 mounted on /mnt/over with fstype nfs statvers=1.1\n"
	    "\topts:\trw,vers=3\n"
	    "device srv:/y mounted on /mnt/under with fstype nfs statvers=1.1\n"
	    "device srv:/z mounted on /mnt/under with fstype nfs4 statvers=1.1\n"
	    "\tnfsv4:\tbm0=0x1,lease_time=30,lease_expired=5";
	static const struct {
		const char *mp;
		int r;
		uint64_t ms;
	} t[] = {
	    {"/mnt/models", 0, 10000}, {"/mnt/a b", 0, 90000},	  {"/mnt/a\\040b", -ENOENT, 0},
	    {"/mnt/v3", -ENOENT, 0},				  /* NFSv3: no lease */
	    {"/proc", -ENOENT, 0},				  /* not NFS */
	    {"/mnt/none", -ENOENT, 0},				  /* not mounted */
	    {"/mnt/bad", -EBADMSG, 0}, {"/mnt/over", -ENOENT, 0}, /* the v3 mount on top counts */
	    {"/mnt/under", 0, 30000},				  /* the last line of the text */
	    {"/mnt", -ENOENT, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint64_t ms = 0;

		print_message("case %s\n", t[i].mp);
		assert_int_equal(dvol_lease_time_from_mountstats(stats, t[i].mp, &ms), t[i].r);
		if (t[i].r == 0)
			assert_int_equal(ms, t[i].ms);
	}
	{
		uint64_t ms = 0;

		assert_int_equal(dvol_lease_time_from_mountstats("", "/", &ms), -ENOENT);
	}
}

static void test_on_conflict(void **state)
{
	static const struct {
		const char *s;
		int r;
		enum dvol_lease_on_conflict c;
	} t[] = {
	    {"ro", 0, DVOL_LEASE_CONFLICT_RO},
	    {"fail", 0, DVOL_LEASE_CONFLICT_FAIL},
	    {"wait", 0, DVOL_LEASE_CONFLICT_WAIT},
	    {"RO", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"rw", -EINVAL, 0},
	    {NULL, -EINVAL, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		enum dvol_lease_on_conflict c = DVOL_LEASE_CONFLICT_RO;

		assert_int_equal(dvol_lease_on_conflict_from_string(t[i].s, &c), t[i].r);
		if (t[i].r == 0) {
			assert_int_equal(c, t[i].c);
			assert_string_equal(dvol_lease_on_conflict_to_string(c), t[i].s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_encode_refuses),
	    cmocka_unit_test(test_parse_refuses), cmocka_unit_test(test_parse_unknown_keys),
	    cmocka_unit_test(test_from_json),	  cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_same_host),	  cmocka_unit_test(test_generation),
	    cmocka_unit_test(test_timing),	  cmocka_unit_test(test_after_beat),
	    cmocka_unit_test(test_nfs_opts),	  cmocka_unit_test(test_mountstats),
	    cmocka_unit_test(test_describe),	  cmocka_unit_test(test_on_conflict),
	    cmocka_unit_test(test_to_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
