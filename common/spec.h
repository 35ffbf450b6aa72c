/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The SOURCE grammar of every dvol helper, parsed once and without I/O:
 *
 *   /abs/path                    a folder (instance volume) or a block device (local volume);
 *                                which one is decided when it is resolved
 *   /dev/disk/by-{id,uuid,...}/X a persistent device link
 *   UUID=U  LABEL=L  PARTUUID=U  PARTLABEL=L
 *                                a filesystem or partition tag, for libblkid to evaluate
 *   nvme:serial=S                an NVMe controller by serial number
 *   nvme:model=M[,index=N]       the N-th (from 0) namespace of controllers of model M
 *   nvme:instance-store          every cloud's ephemeral instance-store NVMe model
 *   nfs://host[:port]/path[?vers=V]
 *   host:/path                   an NFS export (with an optional subdir); IPv6 in brackets
 */

enum dvol_spec_kind {
	DVOL_SPEC_PATH,
	DVOL_SPEC_TAG,
	DVOL_SPEC_NVME_SERIAL,
	DVOL_SPEC_NVME_MODEL,
	DVOL_SPEC_NVME_INSTANCE_STORE,
	DVOL_SPEC_NFS,
	_DVOL_SPEC_KIND_MAX,
};

struct dvol_spec {
	enum dvol_spec_kind kind;
	char *path;	 /* PATH: normalized; NFS: the path on the server, starting with '/' */
	bool devlink;	 /* PATH: under /dev/disk/ */
	char *tag_name;	 /* TAG: "UUID", "LABEL", "PARTUUID", "PARTLABEL" */
	char *tag_value; /* TAG: unquoted value */
	char *serial;	 /* NVME_SERIAL */
	char *model;	 /* NVME_MODEL */
	unsigned index;	 /* NVME_MODEL */
	char *host;	 /* NFS: name, IPv4 or IPv6 literal (no brackets) */
	bool host_is_ipv6;
	uint16_t port; /* NFS: 0 for the default */
	char *vers;    /* NFS: "3", "4", "4.0", "4.1", "4.2", or NULL */
};

/* 0 or -EINVAL (with *ret_why naming the problem, static string) or -ENOMEM. */
int dvol_spec_parse(const char *s, struct dvol_spec *ret, const char **ret_why);
void dvol_spec_done(struct dvol_spec *spec);

const char *dvol_spec_kind_to_string(enum dvol_spec_kind k);
bool dvol_spec_is_block(const struct dvol_spec *spec); /* certainly a block device */

/* The kinds of volume: each stage of mount.dvol has one switch on it. */
enum dvol_vol {
	DVOL_VOL_BIND,	/* a host folder */
	DVOL_VOL_LOCAL, /* a block device */
	DVOL_VOL_NFS,	/* an NFS export */
};
/* The kind SPEC names. Pure. */
enum dvol_vol dvol_spec_vol(const struct dvol_spec *spec);
/* "bind", "local", "nfs": as utab's dvol.kind= records it. */
const char *dvol_vol_to_string(enum dvol_vol v);

/* "nfs", "4.1" etc.: is V an NFS version dvol knows? */
bool dvol_nfs_vers_valid(const char *v);

/* NFS server as "host" or "[v6]" with ":port" when set; for messages. Caller frees. */
char *dvol_spec_nfs_server(const struct dvol_spec *spec);

/* S as an absolute path with repeated and trailing slashes folded: -EINVAL with *why
 * (static) for a relative path, a '.' or '..' component, a control byte, or one too long.
 * Pure. */
int dvol_path_normalize(const char *s, char **ret, const char **why);
