/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * systemd's unit names for dvol's fstab lines, as systemd-escape makes them, and the
 * drop-in dvol-generator writes beside systemd-fstab-generator's unit. Pure: no I/O.
 */

/* systemd-escape STRING: '/' becomes '-', anything but [A-Za-z0-9:_.] (and a leading '.')
 * becomes \xNN. Caller frees. 0 or -ENOMEM. */
int dvol_unit_escape(const char *s, char **ret);

/* systemd-escape --path PATH (made simple first: no "//", no trailing '/', no "."), "-"
 * for "/". -EINVAL for a relative path or one with "..". */
int dvol_unit_path_escape(const char *path, char **ret);

/* S for a unit file setting that takes specifiers: '%' doubled; with QUOTE, also in
 * double quotes with '\\' and '"' escaped, as one word of a list (RequiresMountsFor=).
 * Caller frees. 0 or -ENOMEM. */
int dvol_unit_setting_escape(const char *s, bool quote, char **ret);

/* What the generator writes for one fstab line of type dvol. */
struct dvol_gen_line {
	char *unit;	   /* the .mount unit systemd-fstab-generator makes for TARGET */
	char *dropin;	   /* the drop-in's text; NULL: nothing to add */
	char *wait_unit;   /* NFS with _netdev: the dvol-nfs-wait@ instance it requires */
	char *wait_dropin; /* ...and with retry=, that instance's deadline; else NULL */
	bool warn_no_netdev;
	char *bind_path; /* a folder bind: its source, normalized; else NULL */
};
void dvol_gen_line_done(struct dvol_gen_line *g);

/*
 * For an NFS SOURCE: network-online.target, the dvol-nfs-wait@ instance for SOURCE, and
 * a start timeout covering retry=, probe-timeout= and mount-timeout= (the probe and the
 * kernel mount's deadlines) plus a margin. Without _netdev in OPTIONS the line is ordered
 * into local-fs.target, before the network: then only the timeout is written (ordering it
 * after the network would make a cycle) and warn_no_netdev is set. retry= is how long
 * the wait for the server may take (without it, dvol-nfs-wait@'s own default). A folder:
 * RequiresMountsFor= its path, so that systemd orders the bind after the mounts its
 * source lies on (systemd does so for a bind, and does not know that dvol's is one).
 * A block device: no drop-in. 0, -EINVAL (with *ret_why, and *ret_bad naming the option when
 * it is one: caller frees) for a SOURCE, TARGET or option dvol cannot read, or -ENOMEM.
 */
int dvol_gen_line(const char *source, const char *target, const char *options,
		  struct dvol_gen_line *ret, char **ret_bad, const char **ret_why);

/* The margin on top of the deadlines: mount(8), the helper's start, utab. */
#define DVOL_GEN_TIMEOUT_MARGIN_MS 10000

/*
 * The mount unit for a bind line of the volumes file CONFIG (line LINE) that lies beneath
 * no device line: no device brings it up, so it is mounted at boot, after the mounts its
 * source needs (RequiresMountsFor=), with source-mounted (it belongs on a volume, never
 * on the bare folder beneath one), and with _netdev when NETDEV (its source lies on a
 * network mount: the unit goes with remote-fs.target). *ret_name the unit's name, *ret_text
 * its text (caller frees both). 0, -EINVAL with *ret_why for a TARGET that is not an
 * absolute folder, or -ENOMEM. Pure.
 */
int dvol_gen_bind_unit(const char *source, const char *target, const char *options,
		       const char *config, unsigned line, bool netdev, char **ret_name,
		       char **ret_text, const char **ret_why);
