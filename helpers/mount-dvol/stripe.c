/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, nvme:instance-store with several members: every one found, locked in their
 * order, judged as a single device would be; then made into one md RAID0, assembled, or
 * taken as it runs (stripe.h decides), and the array goes on through local.c as the
 * device. Nothing is kept outside the members: their superblocks are the record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "fdutil.h"
#include "log.h"
#include "mkfs.h"
#include "strv.h"

#include "mount-dvol.h"

/* mdadm --create of RAID0 writes superblocks only; it is given the time mkfs has. */
#define MDADM_TIMEOUT_MS DVOL_MKFS_TIMEOUT_MS

static void member_done(struct stripe_member *m)
{
	dvol_blk_dev_done(&m->dev);
	free(m->desc);
	safe_close(m->fd);
	dvol_blk_verdict_done(&m->verdict);
	free(m->md);
}

void stripe_done(struct stripe *s)
{
	for (size_t i = 0; i < s->n; i++)
		member_done(&s->m[i]);
	free(s->m);
	free(s->facts);
	dvol_strv_free(s->mdadm_argv);
	free(s->md);
	*s = (struct stripe){0};
}

/* Run one mdadm command line; its output is logged at LEVEL, or as an error if it fails. */
static int run_mdadm(char *const *argv, int level)
{
	_cleanup_free_ char *out = NULL;
	int status = 0, r;

	r = dvol_mkfs_run(argv, -1, MDADM_TIMEOUT_MS, &out, &status);
	if (out && *out)
		dvol_log(r < 0 ? LOG_ERR : level, "mdadm: %s", out);
	if (r == -EPROTO)
		log_error("%s %s failed (%s %d)", argv[0], argv[1],
			  WIFEXITED(status) ? "exit status" : "signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (r < 0)
		log_error_errno(r, "cannot run %s %s", argv[0], argv[1]);
	return r;
}

static int stop_md(const char *md)
{
	_cleanup_(dvol_strv_freep) char **argv = NULL;
	char dev[64];
	int r;

	snprintf(dev, sizeof(dev), "/dev/%s", md);
	r = dvol_mdadm_stop_argv(dev, &argv);
	return r < 0 ? r : run_mdadm(argv, LOG_INFO);
}

/* The members: found (count= of them, or all there are), opened, locked in order. */
static int find_members(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	_cleanup_free_ char *list = NULL, *spec = shown(arg_spec);
	struct dvol_blk_dev *v = NULL;
	size_t n = 0;
	int r;

	r = dvol_blk_find_instance_stores(p->opts.device_timeout_ms, p->opts.count, &v, &n);
	if (r == -ENOENT) {
		log_error("no block device matches '%s' after waiting %.1f s; check that it is "
			  "attached (lsblk, nvme list), or wait longer with device-timeout=",
			  spec, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot look for the block devices of '%s'", spec);
	s->m = calloc(n, sizeof(*s->m));
	s->facts = calloc(n, sizeof(*s->facts));
	if (!s->m || !s->facts) {
		dvol_blk_devs_free(v, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		s->m[i].dev = v[i];
		s->m[i].fd = -EBADF;
	}
	free(v);
	s->n = n;
	for (size_t i = 0; i < n; i++)
		if (dvol_strextendf(&list, "\n", "  %s: serial %s, model %s, namespace %u",
				    s->m[i].dev.node, s->m[i].dev.serial, s->m[i].dev.model,
				    s->m[i].dev.nsid) < 0)
			return -ENOMEM;
	if (p->opts.count && n != p->opts.count) {
		log_error("count=%u: '%s' found %zu instance-store namespace%s after waiting %.1f "
			  "s:\n%s\nnothing was changed; attach the missing ones, or give the count "
			  "there is",
			  p->opts.count, spec, n, n == 1 ? "" : "s",
			  p->opts.device_timeout_ms / 1000.0, list ? list : "");
		return -EMEDIUMTYPE;
	}
	if (n == 1)
		return 0;
	if (n > DVOL_STRIPE_MAX) {
		log_error("'%s' found %zu instance-store namespaces; a stripe has at most %d", spec,
			  n, DVOL_STRIPE_MAX);
		return -E2BIG;
	}
	/* Opened read-only (a writable close makes udev probe, and assemble, again), and
	 * locked in the order of their serials: two runs never hold one each. */
	for (size_t i = 0; i < n; i++) {
		struct stripe_member *m = &s->m[i];

		r = dvol_blk_open(&m->dev, &m->fd);
		if (r < 0)
			return log_error_errno(r, "cannot open %s for '%s'", m->dev.node, spec);
		m->desc = dvol_blk_dev_describe(&m->dev, NULL);
		if (!m->desc)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		r = dvol_blk_lock(s->m[i].fd, p->opts.device_timeout_ms);
		if (r == -ETIMEDOUT) {
			log_error("%s stays locked by another process (flock) after %.1f s; retry, "
				  "or find the holder (lslocks)",
				  s->m[i].desc, p->opts.device_timeout_ms / 1000.0);
			return r;
		}
		if (r < 0)
			return log_error_errno(r, "cannot lock %s", s->m[i].desc);
	}
	return (int)n;
}

/* Is KNAME ("nvme1n1") one of the members? */
static bool is_member(const struct stripe *s, const char *kname)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *b = strrchr(s->m[i].dev.node, '/');

		if (strcmp(b ? b + 1 : s->m[i].dev.node, kname) == 0)
			return true;
	}
	return false;
}

/* Each member's facts, under the locks: its verdict, and the array holding it. */
static int judge_members(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		struct stripe_member *m = &s->m[i];
		struct dvol_stripe_member *f = &s->facts[i];
		_cleanup_(dvol_strv_freep) char **slaves = NULL;
		bool running = false;
		size_t k = 0;

		dvol_blk_verdict_done(&m->verdict);
		free(m->md);
		m->md = NULL;
		r = dvol_blk_probe(m->fd, &m->dev, p->opts.mkfs_ignore_nonzero, &m->verdict);
		if (r < 0)
			return log_error_errno(r, "cannot probe %s", m->desc);
		*f = (struct dvol_stripe_member){0};
		switch (m->verdict.state) {
		case DVOL_BLK_BLANK:
			f->kind = DVOL_MEMBER_BLANK;
			break;
		case DVOL_BLK_FS:
			f->kind = DVOL_MEMBER_FS;
			break;
		default:
			/* Held by an array with no signature left: blank under a stale array;
			 * judged again in full once the array is stopped. */
			f->kind = m->verdict.md_member ? DVOL_MEMBER_RAID
				  : m->verdict.held    ? DVOL_MEMBER_BLANK
						       : DVOL_MEMBER_OTHER;
		}
		f->array_uuid = m->verdict.uuid;
		f->array_name = m->verdict.label;

		r = dvol_blk_md_holder(&m->dev, &m->md);
		if (r == -EBUSY) {
			/* device-mapper, bcache: not md, and not dvol's to stop. */
			f->kind = DVOL_MEMBER_OTHER;
			f->held = true;
			continue;
		}
		if (r < 0)
			return log_error_errno(r, "cannot read what holds %s", m->desc);
		if (r == 0)
			continue;
		r = dvol_md_read(m->md, &running, &slaves);
		if (r < 0)
			return log_error_errno(r, "cannot read the state of %s, which holds %s",
					       m->md, m->desc);
		f->held = true;
		f->held_ours = true;
		for (k = 0; slaves[k]; k++)
			f->held_ours &= is_member(s, slaves[k]);
		f->held_active = running;
		f->held_all = f->held_ours && k == s->n;
	}
	return 0;
}

static struct dvol_stripe_decision decide(const struct plan *p)
{
	const struct stripe *s = &p->local.stripe;

	return dvol_stripe_decide(&(struct dvol_stripe_facts){
	    .name = s->name, .n = s->n, .m = s->facts, .mkfs = p->opts.mkfs != NULL});
}

/* One line a member, for -f and for a refusal. */
static int member_line(const struct stripe *s, size_t i, char **ret)
{
	const struct stripe_member *m = &s->m[i];
	const struct dvol_blk_verdict *v = &m->verdict;

	if (v->md_member)
		return asprintf(
		    ret, "%s: md member of %s (array UUID %s)%s%s%s", m->desc,
		    v->label ? v->label : "an array without a name", v->uuid ? v->uuid : "?",
		    m->md ? ", held by " : "", m->md ? m->md : "",
		    m->md ? (s->facts[i].held_active ? ", running" : ", inactive") : "");
	return asprintf(ret, "%s: %s%s", m->desc, v->state == DVOL_BLK_BLANK ? "blank, " : "",
			v->what);
}

/* Stop every array that holds members (and only members): before a create or an
 * assembly, and after a refusal, so that no inactive array is left behind. RUNNING_TOO:
 * a running one as well. */
static int stop_holders(struct plan *p, bool running_too)
{
	struct stripe *s = &p->local.stripe;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		const char *md = s->m[i].md;
		bool seen = false;

		if (!md || !s->facts[i].held_ours || (s->facts[i].held_active && !running_too))
			continue;
		for (size_t k = 0; k < i; k++)
			seen |= s->m[k].md && strcmp(s->m[k].md, md) == 0;
		if (seen)
			continue;
		log_notice("stopping %s, %s array of %s's members", md,
			   s->facts[i].held_active ? "a stale" : "an inactive", s->name);
		r = stop_md(md);
		if (r < 0)
			return r;
	}
	return 0;
}

static int refuse(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	_cleanup_free_ char *lines = NULL;

	for (size_t i = 0; i < s->n; i++) {
		_cleanup_free_ char *l = NULL;

		if (member_line(s, i, &l) < 0 || dvol_strextendf(&lines, "\n", "  %s", l) < 0)
			return -ENOMEM;
	}
	log_error("refusing to stripe %zu instance-store members as %s: %s; nothing was "
		  "written:\n%s\n%s",
		  s->n, s->name, dvol_stripe_why_to_string(s->decision.why), lines ? lines : "",
		  s->decision.why == DVOL_STRIPE_WHY_NO_MKFS
		      ? "add mkfs=xfs (or ext4) to make them one volume"
		      : "copy off what they hold if it matters, then wipe every member "
			"(wipefs -a) to make a new stripe; or use one of them alone with "
			"nvme:serial= and stripe=no");
	if (!arg_fake)
		(void)stop_holders(p, false);
	return -EMEDIUMTYPE;
}

/* The array, once it runs: held by the first member, holding every member. */
static int find_array(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	_cleanup_(dvol_strv_freep) char **slaves = NULL;
	bool running = false;
	size_t k = 0;
	int r;

	free(s->md);
	s->md = NULL;
	r = dvol_blk_md_holder(&s->m[0].dev, &s->md);
	if (r <= 0)
		return r < 0 ? r : -ENODEV;
	r = dvol_md_read(s->md, &running, &slaves);
	if (r < 0)
		return r;
	for (k = 0; slaves[k]; k++)
		if (!is_member(s, slaves[k]))
			return -EBUSY;
	return running && k == s->n ? 0 : -ENODEV;
}

/* The array goes on through local.c as the device. */
static int take_array(struct plan *p)
{
	struct local *l = &p->local;
	struct stripe *s = &l->stripe;
	int r;

	r = find_array(p);
	if (r < 0)
		return log_error_errno(r, "%s: the array of %s does not run with all %zu members",
				       s->name, s->m[0].desc, s->n);
	r = dvol_blk_dev_from_name(s->md, &l->dev);
	if (r < 0)
		return log_error_errno(r, "cannot read %s in sysfs", s->md);
	if (asprintf(&l->dev.found_via, "stripe %s of %zu instance-store namespaces", s->name,
		     s->n) < 0)
		return -ENOMEM;
	l->striped = true;
	return 1;
}

static int act_members(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	_cleanup_free_ char *line = dvol_strv_join(s->mdadm_argv);
	int r;

	log_notice("%s stripe %s from %zu members: %s",
		   s->decision.action == DVOL_STRIPE_CREATE ? "creating" : "assembling", s->name,
		   s->n, line ? line : "mdadm");
	r = run_mdadm(s->mdadm_argv, LOG_INFO);
	if (r >= 0)
		return 0;
	/* Nothing half-made is left running or inactive. */
	for (size_t i = 0; i < s->n; i++) {
		_cleanup_free_ char *md = NULL;

		if (dvol_blk_md_holder(&s->m[i].dev, &md) > 0)
			(void)stop_md(md);
	}
	return -EIO;
}

/*
 * resolve + plan (+ act, for the members) of nvme:instance-store: 0 when there is one
 * instance store (local.c takes it alone), 1 when p->local.dev is the array of several,
 * 2 for -f with an array still to be made or assembled (the rows are the plan), or -errno.
 */
int plan_stripe(struct plan *p)
{
	struct stripe *s = &p->local.stripe;
	_cleanup_(dvol_strv_freep) char **ids = NULL;
	char *const *nodes;
	int r;

	r = find_members(p);
	if (r <= 0)
		return r;
	/* The name, from serials and namespaces. */
	ids = calloc(s->n + 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (asprintf(&ids[i], "%s/%u", s->m[i].dev.serial ? s->m[i].dev.serial : "",
			     s->m[i].dev.nsid) < 0) {
			ids[i] = NULL;
			return -ENOMEM;
		}
	r = dvol_stripe_name((const char *const *)ids, s->n, s->name);
	if (r < 0)
		return r;

	for (int round = 0;; round++) {
		r = judge_members(p);
		if (r < 0)
			return r;
		s->decision = decide(p);
		for (size_t i = 0; i < s->n; i++) {
			_cleanup_free_ char *l = NULL;

			if (member_line(s, i, &l) >= 0)
				log_debug("%s member %zu: %s", s->name, i, l);
		}
		if (!s->decision.stop_first || arg_fake)
			break;
		if (round > 0) {
			log_error("%s: the arrays on its members are still there after mdadm "
				  "--stop; nothing was changed",
				  s->name);
			return -EBUSY;
		}
		r = stop_holders(p, true);
		if (r < 0)
			return r;
	}
	if (s->decision.action == DVOL_STRIPE_REFUSE)
		return refuse(p);
	if (s->decision.action == DVOL_STRIPE_USE) {
		log_info("stripe %s runs already as %s", s->name, s->m[0].md);
		return take_array(p);
	}

	nodes = calloc(s->n + 1, sizeof(char *));
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		((char **)nodes)[i] = s->m[i].dev.node;
	r = s->decision.action == DVOL_STRIPE_CREATE
		? dvol_mdadm_create_argv(s->name, nodes, s->n, &s->mdadm_argv)
		: dvol_mdadm_assemble_argv(s->name, nodes, s->n, &s->mdadm_argv);
	free((void *)nodes);
	if (r < 0)
		return r;
	if (arg_fake)
		return 2;
	r = act_members(p);
	if (r < 0)
		return r;
	return take_array(p);
}
