/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "stripe.h"
#include "strv.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dvol_stripe_name(const char *const *ids, size_t n, char ret[DVOL_STRIPE_NAME_MAX])
{
	_cleanup_free_ const char **v = NULL;
	uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */

	if (n == 0)
		return -EINVAL;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, ids, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		/* Each with its NUL: "a","bc" and "ab","c" differ. */
		for (const unsigned char *s = (const unsigned char *)v[i];; s++) {
			h = (h ^ *s) * 1099511628211ULL;
			if (!*s)
				break;
		}
	snprintf(ret, DVOL_STRIPE_NAME_MAX, "dvol-%016llx", (unsigned long long)h);
	return 0;
}

bool dvol_stripe_label_is(const char *label, const char *name)
{
	const char *colon;

	if (!label || !name)
		return false;
	if (strcmp(label, name) == 0)
		return true;
	colon = strrchr(label, ':');
	return colon && strcmp(colon + 1, name) == 0;
}

static struct dvol_stripe_decision refuse(enum dvol_stripe_why why, size_t member)
{
	return (struct dvol_stripe_decision){
	    .action = DVOL_STRIPE_REFUSE, .why = why, .member = member};
}

struct dvol_stripe_decision dvol_stripe_decide(const struct dvol_stripe_facts *f)
{
	size_t blank = 0, ours = 0, first_other = SIZE_MAX, first_ours = SIZE_MAX;
	bool held = false, all_running = f->n > 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct dvol_stripe_member *m = &f->m[i];

		/* An array that holds some other device too is somebody else's. */
		if (m->held && !m->held_ours)
			return refuse(DVOL_STRIPE_WHY_HELD, i);
		held |= m->held;
		all_running &= m->held && m->held_active && m->held_all;
	}
	for (size_t i = 0; i < f->n; i++)
		if (f->m[i].kind == DVOL_MEMBER_FS || f->m[i].kind == DVOL_MEMBER_OTHER)
			return refuse(DVOL_STRIPE_WHY_FOREIGN, i);
	for (size_t i = 0; i < f->n; i++) {
		const struct dvol_stripe_member *m = &f->m[i];

		if (m->kind == DVOL_MEMBER_BLANK) {
			blank++;
			continue;
		}
		/* RAID */
		if (!dvol_stripe_label_is(m->array_name, f->name) || !m->array_uuid)
			return refuse(DVOL_STRIPE_WHY_OTHER_ARRAY, i);
		if (first_ours == SIZE_MAX)
			first_ours = i;
		else if (strcmp(m->array_uuid, f->m[first_ours].array_uuid) != 0)
			return refuse(DVOL_STRIPE_WHY_SPLIT, i);
		ours++;
	}
	if (blank == f->n) {
		if (!f->mkfs)
			return refuse(DVOL_STRIPE_WHY_NO_MKFS, 0);
		/* A running array whose superblocks were wiped under it is stale. */
		return (struct dvol_stripe_decision){
		    .action = DVOL_STRIPE_CREATE, .why = DVOL_STRIPE_WHY_BLANK, .stop_first = held};
	}
	if (ours == f->n) {
		if (all_running)
			return (struct dvol_stripe_decision){.action = DVOL_STRIPE_USE,
							     .why = DVOL_STRIPE_WHY_OURS};
		/* Not there, or started by udev with some members only (inactive). */
		return (struct dvol_stripe_decision){.action = DVOL_STRIPE_ASSEMBLE,
						     .why = DVOL_STRIPE_WHY_OURS,
						     .stop_first = held};
	}
	/* Some blank, the rest this array's: a member wiped or replaced, or a create that was
	 * cut short. Either way, what the others hold cannot be put together. */
	for (size_t i = 0; i < f->n && first_other == SIZE_MAX; i++)
		if (f->m[i].kind == DVOL_MEMBER_BLANK)
			first_other = i;
	return refuse(DVOL_STRIPE_WHY_MIXED, first_other);
}

const char *dvol_stripe_action_to_string(enum dvol_stripe_action a)
{
	switch (a) {
	case DVOL_STRIPE_CREATE:
		return "create";
	case DVOL_STRIPE_ASSEMBLE:
		return "assemble";
	case DVOL_STRIPE_USE:
		return "use";
	case DVOL_STRIPE_REFUSE:
		return "refuse";
	}
	return "?";
}

const char *dvol_stripe_why_to_string(enum dvol_stripe_why w)
{
	switch (w) {
	case DVOL_STRIPE_WHY_BLANK:
		return "every member is blank";
	case DVOL_STRIPE_WHY_OURS:
		return "every member belongs to this array";
	case DVOL_STRIPE_WHY_NO_MKFS:
		return "every member is blank, and no mkfs= was given to make a stripe of them";
	case DVOL_STRIPE_WHY_HELD:
		return "a member is held by an md array that holds other devices as well";
	case DVOL_STRIPE_WHY_FOREIGN:
		return "a member holds a filesystem or data";
	case DVOL_STRIPE_WHY_OTHER_ARRAY:
		return "a member belongs to another array: another one's, or this stripe's "
		       "before a drive was added or removed";
	case DVOL_STRIPE_WHY_SPLIT:
		return "the members belong to two arrays of the same name";
	case DVOL_STRIPE_WHY_MIXED:
		return "some members are blank and the others hold the array: a member was "
		       "wiped or replaced, or a create was cut short";
	}
	return "?";
}

/* ARGV of FIXED (NULL-terminated) followed by the N MEMBERS. */
static int argv_of(const char *const *fixed, char *const *members, size_t n, char ***ret)
{
	size_t k = 0, nf = 0;
	char **v;

	while (fixed[nf])
		nf++;
	v = calloc(nf + n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nf + n; i++, k++) {
		v[k] = strdup(i < nf ? fixed[i] : members[i - nf]);
		if (!v[k]) {
			dvol_strv_free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

int dvol_mdadm_create_argv(const char *name, char *const *members, size_t n, char ***ret)
{
	char dev[64], nameopt[64], count[32], chunk[32];

	snprintf(dev, sizeof(dev), "/dev/md/%s", name);
	snprintf(nameopt, sizeof(nameopt), "--name=%s", name);
	snprintf(count, sizeof(count), "--raid-devices=%zu", n);
	snprintf(chunk, sizeof(chunk), "--chunk=%u", DVOL_STRIPE_CHUNK_KIB);
	return argv_of((const char *const[]){"mdadm", "--create", dev, "--run", "--metadata=1.2",
					     "--homehost=any", nameopt, "--level=0", chunk, count,
					     NULL},
		       members, n, ret);
}

int dvol_mdadm_assemble_argv(const char *name, char *const *members, size_t n, char ***ret)
{
	char dev[64];

	snprintf(dev, sizeof(dev), "/dev/md/%s", name);
	return argv_of((const char *const[]){"mdadm", "--assemble", dev, "--run", NULL}, members, n,
		       ret);
}

int dvol_mdadm_stop_argv(const char *dev, char ***ret)
{
	return argv_of((const char *const[]){"mdadm", "--stop", dev, NULL}, NULL, 0, ret);
}
