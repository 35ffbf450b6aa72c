/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, -f: the plan as rows of a label and a value, which each kind fills in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "heal.h"
#include "mkfs.h"
#include "nfsprobe.h"
#include "probechild.h"
#include "strv.h"

#include "mount-dvol.h"

/* -f: the plan as rows of a label and a value, which each kind fills in. */
struct rows {
	struct {
		const char *label;
		char *value;
	} r[16 + DVOL_STRIPE_MAX];
	size_t n;
};

static void rows_done(struct rows *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->r[i].value);
}

__attribute__((format(printf, 3, 4))) static void row(struct rows *t, const char *label,
						      const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (t->n == ELEMENTSOF(t->r))
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	t->r[t->n].label = label;
	t->r[t->n++].value = v;
}

/* The root of a folder made by create, or of a new filesystem. */
static void row_owner(struct rows *t, const char *label, const struct dvol_opts *o,
		      const char *tail)
{
	row(t, label, "mode %04o, owner %d:%d%s", o->mode_set ? (unsigned)o->mode : 0755u,
	    o->uid_set ? (int)o->uid : 0, o->gid_set ? (int)o->gid : 0, tail);
}

static void plan_rows_bind(const struct plan *p, struct rows *t)
{
	row(t, "source:", "%s (folder%s)", p->spec.path,
	    p->create_source ? ", missing: will be created" : "");
	if (p->opts.writer_exclusive)
		row(t, "writer:",
		    "exclusive: bound read-only, made read-write once dvol-writer holds the lease "
		    "on .dvol/writer.lock (lease %.0f s, on-conflict=%s%s)",
		    p->opts.lease_time_ms / 1000.0,
		    dvol_lease_on_conflict_to_string(p->opts.on_conflict),
		    p->opts.on_conflict == DVOL_LEASE_CONFLICT_WAIT ? ", waiting" : "");
	if (p->create_source)
		row_owner(t, "create:", &p->opts, "");
	if (p->opts.source_mounted || p->opts.source_fs)
		row(t, "gate:", "passed: on %s%s%s%s%s",
		    p->opts.source_mounted_at ? "the volume at " : "",
		    p->opts.source_mounted_at ? p->opts.source_mounted_at
		    : p->opts.source_mounted  ? "a mount other than /"
					      : "",
		    p->opts.source_mounted && p->opts.source_fs ? ", " : "",
		    p->opts.source_fs ? "a filesystem of " : "",
		    p->opts.source_fs ? p->opts.source_fs : "");
	row(t, "target:", "%s", p->target);
	if (p->already)
		row(t, "action:", "none, %s is already bound there", p->spec.path);
	else
		row(t, "action:", "bind (open_tree, mount_setattr, move_mount)%s%s%s",
		    p->opts.vfs ? ", flags " : "", p->opts.vfs ? p->opts.vfs : "",
		    p->opts.mflags & MS_RDONLY ? " (read-only before it appears)" : "");
}

/* The members of a stripe, and what is done with them. */
static void plan_rows_stripe(const struct plan *p, struct rows *t)
{
	const struct stripe *s = &p->local.stripe;
	_cleanup_free_ char *line = s->mdadm_argv ? dvol_strv_join(s->mdadm_argv) : NULL;

	row(t, "stripe:", "%s, %zu members: %s (%s)", s->name, s->n,
	    dvol_stripe_action_to_string(s->decision.action),
	    dvol_stripe_why_to_string(s->decision.why));
	for (size_t i = 0; i < s->n; i++) {
		const struct stripe_member *m = &s->m[i];
		const struct dvol_blk_verdict *v = &m->verdict;

		if (v->md_member)
			row(t, "member:", "%s: md member of %s (array UUID %s)%s%s", m->desc,
			    v->label ? v->label : "?", v->uuid ? v->uuid : "?",
			    m->md ? ", running as " : "", m->md ? m->md : "");
		else
			row(t, "member:", "%s: %s%s", m->desc,
			    v->state == DVOL_BLK_BLANK ? "blank: " : "not blank: ", v->what);
	}
	if (line)
		row(t, "mdadm:", "%s", line);
}

/* -f before the array runs: what will be made of it. */
static void plan_rows_stripe_only(const struct plan *p, struct rows *t)
{
	const struct stripe *s = &p->local.stripe;
	_cleanup_(dvol_strv_freep) char **mkfs = NULL;
	_cleanup_free_ char *line = NULL;
	char dev[64], label[13];

	snprintf(dev, sizeof(dev), "/dev/md/%s", s->name);
	row(t, "source:", "%s", arg_spec);
	plan_rows_stripe(p, t);
	if (s->decision.action == DVOL_STRIPE_CREATE) {
		dvol_mkfs_label_from_path(p->target, label);
		if (dvol_mkfs_argv(
			&(struct dvol_mkfs){.fstype = p->opts.mkfs, .device = dev, .label = label},
			&mkfs) >= 0)
			line = dvol_strv_join(mkfs);
		row(t, "mkfs:", "%s (after the claim, as for one device)", line ? line : "?");
		row(t, "target:", "%s", p->target);
		row(t, "action:", "mount %s %s (fsopen, fsmount, move_mount)", p->opts.mkfs, dev);
		return;
	}
	row(t, "mkfs:", "none if the assembled array holds a filesystem; if blank, %s",
	    p->opts.mkfs ? "formatted as for one device" : "refused (no mkfs=)");
	row(t, "target:", "%s", p->target);
	row(t, "action:", "mount the filesystem of %s (fsopen, fsmount, move_mount)", dev);
}

static void plan_rows_local(const struct plan *p, struct rows *t)
{
	const struct local *l = &p->local;
	_cleanup_free_ char *line = l->mkfs_argv ? dvol_strv_join(l->mkfs_argv) : NULL;
	bool ro = (p->opts.mflags & MS_RDONLY) || l->dev.read_only;
	bool ours = l->claim == DVOL_CLAIM_OURS;

	if (l->stripe.n > 1 && !l->striped)
		return plan_rows_stripe_only(p, t);
	row(t, "source:", "%s", arg_spec);
	if (l->striped)
		plan_rows_stripe(p, t);
	row(t, "device:", "%s, %.1f GiB, found by %s%s%s%s%s", l->desc, l->dev.size / 1073741824.0,
	    dvol_spec_kind_to_string(p->spec.kind), l->dev.found_via ? " (" : "",
	    l->dev.found_via ? l->dev.found_via : "", l->dev.found_via ? ")" : "",
	    l->dev.read_only ? ", read-only" : "");
	if (p->already) {
		row(t, "target:", "%s", p->target);
		row(t, "action:", "none, %s is already mounted there", l->dev.node);
		return;
	}
	row(t, "verdict:", "%s: %s%s", l->verdict.state == DVOL_BLK_BLANK ? "blank" : "not blank",
	    l->verdict.what, l->redo ? " (an interrupted format of dvol's own)" : "");
	if (l->claim != DVOL_CLAIM_NONE)
		row(t, "claim:", "%s%s%s%s%s", dvol_claim_state_to_string(l->claim),
		    ours ? ", " : "", ours ? l->claimed.fstype : "", ours ? " UUID=" : "",
		    ours ? l->claimed.uuid : "");
	if (l->verdict.uuid && !l->format)
		row(t, "identity:", "UUID=%s%s%s", l->verdict.uuid,
		    l->verdict.label ? " LABEL=" : "", l->verdict.label ? l->verdict.label : "");
	row(t, "mkfs:", "%s", line ? line : "none");
	if (l->format)
		row(t, "identity:", "UUID=%s LABEL=%s (new; a real run draws its own random UUID)",
		    l->uuid, l->label);
	row(t, "target:", "%s", p->target);
	row(t, "action:", "mount %s %s (fsopen, fsmount, move_mount)%s%s%s%s%s", l->fstype,
	    l->dev.node, ro ? ", superblock read-only" : "", p->opts.fs ? ", options " : "",
	    p->opts.fs ? p->opts.fs : "", p->opts.vfs ? ", flags " : "",
	    p->opts.vfs ? p->opts.vfs : "");
	if (l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set))
		row_owner(t, "root:", &p->opts, " (new filesystem only)");
}

static void plan_rows_nfs(const struct plan *p, struct rows *t)
{
	const struct plan_nfs *n = &p->nfs;
	_cleanup_free_ char *summary = NULL;

	row(t, "source:", "%s (NFS export %s on %s)", arg_spec, p->spec.path, p->spec.host);
	row(t, "target:", "%s", p->target);
	if (p->already) {
		row(t, "action:", "none, %s is already mounted there", n->source);
		return;
	}
	summary = dvol_nfs_target_summary(&n->probe);
	row(t, "probe:", "%s (%s) ok in %llu ms: %s", n->probe.host, n->probe.addr,
	    (unsigned long long)n->probe.elapsed_ms, summary ? summary : "?");
	for (unsigned i = 0; i < n->n_tries; i++)
		row(t,
		    i == 0 ? "action:" : "  else:", "mount(\"%s\", \"%s\", \"%s\", %s%s, \"%s\")",
		    n->source, p->target, n->tries[i].fstype, p->opts.vfs ? "MS:" : "0",
		    p->opts.vfs ? p->opts.vfs : "", n->tries[i].data);
	row(t, "deadline:", "the kernel mount within %.1f s (mount-timeout=), then stopped",
	    n->mount_timeout_ms / 1000.0);
	if (p->opts.cache_local)
		row(t, "cache:", "local: mounted with fsc; %s%s%s",
		    n->cache_active
			? "FS-Cache cache '"
			: "no FS-Cache cache is active: reads go to the server until one starts",
		    n->cache_active ? n->cache_name : "", n->cache_active ? "' is active" : "");
	if (p->opts.writer_exclusive)
		row(t, "writer:",
		    "exclusive: mounted in %s first, put on %s read-only (move_mount), made "
		    "read-write once dvol-writer holds the lease on .dvol/writer.lock (lease "
		    "from the server, on-conflict=%s%s)",
		    DVOL_HEAL_DIR, p->target, dvol_lease_on_conflict_to_string(p->opts.on_conflict),
		    p->opts.on_conflict == DVOL_LEASE_CONFLICT_WAIT ? ", waiting" : "");
	row(t, "sandbox:",
	    "the probe ran as uid %u with stdio, rpath and inet only; the process that mounts "
	    "never had inet",
	    (unsigned)DVOL_NFS_PROBE_UID);
}

void print_plan(const struct plan *p)
{
	_cleanup_(rows_done) struct rows t = {0};

	switch (p->kind) {
	case DVOL_VOL_BIND:
		plan_rows_bind(p, &t);
		break;
	case DVOL_VOL_LOCAL:
		plan_rows_local(p, &t);
		break;
	case DVOL_VOL_NFS:
		plan_rows_nfs(p, &t);
		break;
	}
	row(&t, "record:", "%s", arg_nomtab || p->already ? "no" : "utab");
	for (size_t i = 0; i < t.n; i++)
		printf("%-10s%s\n", t.r[i].label, t.r[i].value ? t.r[i].value : "?");
}
