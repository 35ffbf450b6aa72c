/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "leaseinfo.h"
#include "timeutil.h"
#include "tmpdir.h"

#define HOLDER                                                                                     \
	"{\"hostname\":\"gpu-a\",\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","             \
	"\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/a\","         \
	"\"pid\":4242,\"since\":1764750000,\"heartbeat\":1764750015,\"generation\":7,"             \
	"\"this_host\":true}"
#define OTHER                                                                                      \
	"{\"hostname\":\"gpu-b\",\"machine_id\":\"0123456789abcdef0123456789abcdef\","             \
	"\"boot_id\":\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/a\","         \
	"\"pid\":17,\"since\":1764750000,\"heartbeat\":1764750015,\"generation\":2,"               \
	"\"this_host\":false}"

static struct dvol_lease_answer exited(int code, const char *out, const char *err)
{
	return (struct dvol_lease_answer){
	    .status = W_EXITCODE(code, 0),
	    .out = (char *)out,
	    .out_len = out ? strlen(out) : 0,
	    .err = (char *)err,
	    .err_len = err ? strlen(err) : 0,
	};
}

/* dvol-writer status's answers, as a list of volumes reports them. */
static void test_judge(void **state)
{
	/* Not static: the answers are built by exited(). */
	const struct {
		const char *name;
		struct dvol_lease_answer a;
		const char *target;
		enum dvol_lease_state state;
		enum dvol_lease_rec record;
		uint64_t generation;
		bool this_host, this_mount;
		const char *why; /* a part of it */
	} t[] = {
	    {"held by this very mount",
	     exited(0,
		    "{\"target\":\"/mnt/a\",\"state\":\"held\",\"record\":\"valid\","
		    "\"holder\":" HOLDER "}\n",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_HELD, DVOL_LEASE_REC_VALID, 7, true, true, NULL},
	    {"held by this host through another mount",
	     exited(0,
		    "{\"target\":\"/mnt/b\",\"state\":\"held\",\"record\":\"valid\","
		    "\"holder\":" HOLDER "}",
		    NULL),
	     "/mnt/b", DVOL_LEASE_STATE_HELD, DVOL_LEASE_REC_VALID, 7, true, false, NULL},
	    {"held by another host at the same mount point",
	     exited(0,
		    "{\"target\":\"/mnt/a\",\"state\":\"held\",\"record\":\"valid\","
		    "\"holder\":" OTHER "}",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_HELD, DVOL_LEASE_REC_VALID, 2, false, false, NULL},
	    {"held, the record unreadable",
	     exited(0, "{\"target\":\"/mnt/a\",\"state\":\"held\",\"record\":\"unreadable\"}",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_HELD, DVOL_LEASE_REC_UNREADABLE, 0, false, false, NULL},
	    {"free, naming the last holder",
	     exited(3,
		    "{\"target\":\"/mnt/a\",\"state\":\"free\",\"record\":\"valid\","
		    "\"last_holder\":" HOLDER "}",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_FREE, DVOL_LEASE_REC_VALID, 7, true, false, NULL},
	    {"free, never taken",
	     exited(3, "{\"target\":\"/mnt/a\",\"state\":\"free\",\"record\":\"none\"}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_FREE, DVOL_LEASE_REC_NONE, 0, false, false, NULL},
	    /* Without this_host (dvol-writer could not read this host's identity): not here. */
	    {"held, no this_host",
	     exited(0,
		    "{\"state\":\"held\",\"record\":\"valid\",\"holder\":{\"hostname\":\"h\","
		    "\"machine_id\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"boot_id\":"
		    "\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/a\","
		    "\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":3}}",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_HELD, DVOL_LEASE_REC_VALID, 3, false, false, NULL},

	    {"killed at the deadline",
	     {.timed_out = true},
	     "/mnt/a",
	     DVOL_LEASE_STATE_UNKNOWN,
	     0,
	     0,
	     false,
	     false,
	     "the volume did not answer within 5 s"},
	    {"not started",
	     {.spawn_error = -ENOENT},
	     "/mnt/a",
	     DVOL_LEASE_STATE_UNKNOWN,
	     0,
	     0,
	     false,
	     false,
	     "could not be started (No such file or directory)"},
	    {"killed by the sandbox",
	     {.status = W_EXITCODE(0, SIGSYS) /* as WTERMSIG reads it */},
	     "/mnt/a",
	     DVOL_LEASE_STATE_UNKNOWN,
	     0,
	     0,
	     false,
	     false,
	     "ended on signal 31"},
	    {"failed, its message kept",
	     exited(2, "",
		    "dvol-writer: first line\n"
		    "dvol-writer: /mnt/a: cannot open .dvol/writer.lock: Permission denied\n\n"),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false,
	     "failed (exit 2): dvol-writer: /mnt/a: cannot open .dvol/writer.lock: Permission "
	     "denied"},
	    {"failed, a terminal escape in its message", exited(2, "", "dvol-writer: \033[2J\n"),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "dvol-writer: \\033[2J"},
	    {"failed silently", exited(127, NULL, NULL), "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0,
	     false, false, "failed (exit 127), saying nothing"},
	    {"exit 0, no output", exited(0, NULL, NULL), "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0,
	     false, false, "not one (exit 0: no output)"},
	    {"exit 0, not JSON", exited(0, "held\n", NULL), "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0,
	     0, false, false, "not one JSON object"},
	    {"exit 0, two objects", exited(0, "{\"state\":\"held\",\"record\":\"none\"}{}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "not one JSON object"},
	    {"exit 0, but free", exited(0, "{\"state\":\"free\",\"record\":\"none\"}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "contradicts"},
	    {"exit 3, but held", exited(3, "{\"state\":\"held\",\"record\":\"none\"}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "contradicts"},
	    {"a record of another kind", exited(3, "{\"state\":\"free\",\"record\":\"x\"}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "no known kind"},
	    {"valid, but no holder", exited(0, "{\"state\":\"held\",\"record\":\"valid\"}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "not a record"},
	    /* Free names the last holder under last_holder: a holder there is not it. */
	    {"free, the holder under the wrong key",
	     exited(3, "{\"state\":\"free\",\"record\":\"valid\",\"holder\":" HOLDER "}", NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "not a record"},
	    {"a holder with a bad machine id",
	     exited(0,
		    "{\"state\":\"held\",\"record\":\"valid\",\"holder\":{\"hostname\":\"h\","
		    "\"machine_id\":\"xyz\",\"boot_id\":"
		    "\"4cb007a5-dba8-417d-a39b-a78b4f09e5f6\",\"mount_point\":\"/mnt/a\","
		    "\"pid\":1,\"since\":1,\"heartbeat\":2,\"generation\":3}}",
		    NULL),
	     "/mnt/a", DVOL_LEASE_STATE_UNKNOWN, 0, 0, false, false, "not a record"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_lease_info info;

		print_message("case %zu: %s\n", i, t[i].name);
		memset(&info, 0x5a, sizeof(info));
		assert_int_equal(dvol_lease_info_judge(&t[i].a, t[i].target, 5000, &info), 0);
		assert_int_equal(info.state, t[i].state);
		if (t[i].state == DVOL_LEASE_STATE_UNKNOWN) {
			print_message("   why: %s\n", info.why);
			assert_non_null(strstr(info.why, t[i].why));
			continue;
		}
		assert_int_equal(info.record, t[i].record);
		assert_int_equal(info.this_host, t[i].this_host);
		assert_int_equal(info.this_mount, t[i].this_mount);
		if (t[i].record == DVOL_LEASE_REC_VALID)
			assert_int_equal(info.holder.generation, t[i].generation);
	}
}

static void test_strings(void **state)
{
	assert_string_equal(dvol_lease_state_to_string(DVOL_LEASE_STATE_HELD), "held");
	assert_string_equal(dvol_lease_state_to_string(DVOL_LEASE_STATE_FREE), "free");
	assert_string_equal(dvol_lease_state_to_string(DVOL_LEASE_STATE_UNKNOWN), "unknown");
	assert_string_equal(dvol_lease_rec_to_string(DVOL_LEASE_REC_VALID), "valid");
	assert_string_equal(dvol_lease_rec_to_string(DVOL_LEASE_REC_UNREADABLE), "unreadable");
	assert_string_equal(dvol_lease_rec_to_string(DVOL_LEASE_REC_NONE), "none");
}

/* An executable script in the scratch folder, standing in for the program run: the runs'
 * plumbing (arguments, output, exit status, the deadline) is what is tested here. */
static char *script(const char *name, const char *body)
{
	char *p = write_file(name, body);

	assert_int_equal(chmod(p, 0755), 0);
	return p;
}

/* Several runs at once: each answers on its own, the arguments are status --json TARGET,
 * and one that hangs costs the deadline, not more, and is killed. */
static void test_ask(void **state)
{
	_cleanup_free_ char *echo = script("echo", "#!/bin/sh\n"
						   "echo \"$1 $2 $3\"\n"
						   "echo \"to stderr: $DVOL_LOG\" >&2\n"
						   "exit 3\n");
	_cleanup_free_ char *hang = script("hang", "#!/bin/sh\nexec sleep 30\n");
	_cleanup_free_ char *fail = script("fail", "#!/bin/sh\nkill -SEGV $$\n");
	_cleanup_free_ char *missing = NULL;
	struct dvol_lease_ask a[4];
	uint64_t t0;

	assert_true(asprintf(&missing, "%s/no-such-program", dir) > 0);
	assert_int_equal(dvol_lease_ask_start(echo, "/mnt/x y", &a[0]), 0);
	assert_int_equal(dvol_lease_ask_start(hang, "/mnt/b", &a[1]), 0);
	assert_int_equal(dvol_lease_ask_start(fail, "/mnt/c", &a[2]), 0);
	assert_int_equal(dvol_lease_ask_start(missing, "/mnt/d", &a[3]), 0);
	t0 = dvol_now_ms();
	assert_int_equal(dvol_lease_ask_wait(a, 4, t0 + 1500), 0);
	/* The deadline, and the reaping of a killed sleep: well under its 30 s. */
	assert_true(dvol_now_ms() - t0 >= 1500);
	assert_true(dvol_now_ms() - t0 < 4000);

	assert_false(a[0].answer.timed_out);
	assert_true(WIFEXITED(a[0].answer.status) && WEXITSTATUS(a[0].answer.status) == 3);
	assert_string_equal(a[0].answer.out, "status --json /mnt/x y\n");
	assert_string_equal(a[0].answer.err, "to stderr: stderr\n");

	assert_true(a[1].answer.timed_out);
	assert_int_equal(a[1].pid, 0); /* reaped */

	assert_false(a[2].answer.timed_out);
	assert_true(WIFSIGNALED(a[2].answer.status) && WTERMSIG(a[2].answer.status) == SIGSEGV);

	assert_false(a[3].answer.timed_out);
	assert_true(WIFEXITED(a[3].answer.status) && WEXITSTATUS(a[3].answer.status) == 127);
	assert_non_null(strstr(a[3].answer.err, "cannot run"));
	for (size_t i = 0; i < ELEMENTSOF(a); i++)
		dvol_lease_ask_done(&a[i]);
}

/* Runs that all answer end the wait at once, long before the deadline; none at all too. */
static void test_ask_quick(void **state)
{
	_cleanup_free_ char *echo = script("quick", "#!/bin/sh\necho '{}'\nexit 0\n");
	struct dvol_lease_ask a[2];
	uint64_t t0;

	assert_int_equal(dvol_lease_ask_start(echo, "/a", &a[0]), 0);
	assert_int_equal(dvol_lease_ask_start(echo, "/b", &a[1]), 0);
	t0 = dvol_now_ms();
	assert_int_equal(dvol_lease_ask_wait(a, 2, t0 + 20000), 0);
	assert_true(dvol_now_ms() - t0 < 5000);
	for (size_t i = 0; i < ELEMENTSOF(a); i++) {
		assert_false(a[i].answer.timed_out);
		assert_string_equal(a[i].answer.out, "{}\n");
		dvol_lease_ask_done(&a[i]);
	}
	assert_int_equal(dvol_lease_ask_wait(NULL, 0, dvol_now_ms() + 20000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_judge),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_ask),
	    cmocka_unit_test(test_ask_quick),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
