/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * NFS server probing over libnfs's async raw RPC API: every target in one poll loop, each
 * with a hard deadline that covers name resolution, the TCP connect and every
 * RPC (libnfs 4.0's own timeouts do not cover the connect).
 *
 * Per target, at once:
 *   - the name, resolved by glibc's resolver threads (getaddrinfo_a), all names at once;
 *     every address it has is tried in turn, while a connect to one fails;
 *   - the NFS port (given, or 2049): TCP connect, NULL for v3 and v4, an empty COMPOUND
 *     for each minor version 0..2 (a server answers NFS4ERR_MINOR_VERS_MISMATCH for the
 *     ones it lacks), PUTROOTFH+LOOKUP of the export path (minor version 0), then N
 *     NULL calls one after another for the round-trip time;
 *   - the portmapper on port 111: NULL, GETPORT of MOUNT v3/TCP, then MOUNT EXPORT on
 *     that port (unless the caller turns the v3 side off).
 */

enum dvol_nfs_err {
	DVOL_NFS_OK,
	DVOL_NFS_REFUSED,	 /* connection refused, or closed by the server */
	DVOL_NFS_TIMEOUT,	 /* no answer by the deadline */
	DVOL_NFS_UNREACHABLE,	 /* no route, network or host unreachable */
	DVOL_NFS_UNRESOLVABLE,	 /* the name does not resolve */
	DVOL_NFS_RPC_MISMATCH,	 /* reachable, but no (or not the wanted) NFS version answers */
	DVOL_NFS_EXPORT_MISSING, /* the server answers; the export is not there */
	DVOL_NFS_ACCESS_DENIED,	 /* the export is there; this client may not use it */
	DVOL_NFS_PROTOCOL_ERROR, /* it answers, but not with RPC: garbage, a huge record, a flood */
	DVOL_NFS_LOCAL_ERROR, /* a limit of this process or machine (EMFILE...), not the server */
	_DVOL_NFS_ERR_MAX,
};

/*
 * Versions that answered: NULL for v3, an empty COMPOUND for each v4 minor version. V4
 * alone records that NFSv4 NULL answered, which proves nothing a mount needs: only the
 * minor versions count as offered (DVOL_NFS_OFFERED).
 */
enum {
	DVOL_NFS_V3 = 1u << 0,
	DVOL_NFS_V4 = 1u << 1, /* NFSv4 NULL answered */
	DVOL_NFS_V4_0 = 1u << 2,
	DVOL_NFS_V4_1 = 1u << 3,
	DVOL_NFS_V4_2 = 1u << 4,
};
#define DVOL_NFS_V4_MINORS (DVOL_NFS_V4_0 | DVOL_NFS_V4_1 | DVOL_NFS_V4_2)
#define DVOL_NFS_OFFERED   (DVOL_NFS_V3 | DVOL_NFS_V4_MINORS)

/* A tri-state for facts that a probe may not get to. */
enum dvol_nfs_tri {
	DVOL_NFS_UNKNOWN = -1,
	DVOL_NFS_NO = 0,
	DVOL_NFS_YES = 1,
};

#define DVOL_NFS_PORT	   2049
#define DVOL_NFS_RTT_MAX   64
#define DVOL_NFS_ADDR_MAX  64 /* INET6_ADDRSTRLEN and then some */
#define DVOL_NFS_ADDRS_MAX 8  /* addresses of one name tried in turn */
/* Who a probe runs as when started as root: nobody/nogroup, by number (no NSS lookup). */
#define DVOL_NFS_PROBE_UID 65534
#define DVOL_NFS_PROBE_GID 65534

struct dvol_nfs_target {
	/* In: dvol_nfs_target_parse() fills these. */
	char *name;    /* as given, for reports */
	char *host;    /* name or address literal, no brackets */
	uint16_t port; /* 0: 2049 */
	char *export;  /* path on the server, or NULL */
	unsigned want; /* DVOL_NFS_V*: the version that must answer (vers=), or 0 for any */

	/* Out. */
	char addr[DVOL_NFS_ADDR_MAX];	    /* the address probed (the last one tried) */
	char local_addr[DVOL_NFS_ADDR_MAX]; /* our end of the NFS connection (clientaddr=) */
	bool resolved;
	unsigned addrs_tried; /* addresses of the name that were tried */
	bool tcp;	      /* the NFS port accepted a connection */
	unsigned versions;
	enum dvol_nfs_tri portmapper;
	enum dvol_nfs_tri mountd;
	uint16_t mount_port;
	char **exports;		     /* MOUNT EXPORT, NULL-terminated; NULL if not listed */
	bool exports_cut;	     /* the list is longer than a probe process hands over: cut */
	enum dvol_nfs_tri export_v3; /* the export (or a parent of it) is in the list */
	enum dvol_nfs_tri export_v4; /* LOOKUP of the path from the pseudo root */
	double rtt_ms;		     /* median; < 0 if not measured */
	unsigned rtt_count;
	uint64_t elapsed_ms; /* from start to verdict */
	enum dvol_nfs_err err;
	int err_errno; /* the socket error behind REFUSED/UNREACHABLE, or 0 */
	char *detail;  /* what happened, in words; may be NULL */
};

struct dvol_nfs_probe_params {
	uint64_t timeout_ms; /* per target, from the start of the run */
	unsigned rtt_count;  /* NULL calls for the median; 0 for none */
	bool v3_side;	     /* also ask the portmapper and MOUNT */
	uint16_t mount_port; /* ask MOUNT on this port (mountport=), not the portmapper */
	/* Told of each target as soon as its verdict is in, with its place in the array (a
	 * probe process hands the verdicts on as they come); may be NULL. */
	void (*finished)(const struct dvol_nfs_target *t, size_t index, void *userdata);
	void *userdata;
};

/*
 * TARGET: host[:port] ([v6]:port), nfs://host[:port]/export[?vers=V], host:/export.
 * 0, -EINVAL with *ret_why (static), or -ENOMEM. ?vers= sets want.
 */
int dvol_nfs_target_parse(const char *s, struct dvol_nfs_target *ret, const char **ret_why);
void dvol_nfs_target_done(struct dvol_nfs_target *t);
/* Clear the results of an earlier run, keeping the input (for a retry). */
void dvol_nfs_target_reset(struct dvol_nfs_target *t);

/*
 * Probe N targets at once. Names are resolved inside the same deadlines, all at once
 * (resolver threads; a resolver that never answers costs its own targets their deadline,
 * and no other target anything). Returns the number of targets whose verdict is
 * DVOL_NFS_OK, or -errno for a failure of the probe machinery itself (out of memory, poll).
 * OK means a mount can work: a version that was asked for (or any) was proven by its call.
 */
int dvol_nfs_probe(struct dvol_nfs_target *t, size_t n, const struct dvol_nfs_probe_params *p);

/*
 * Shed root before the first packet: as root, no supplementary groups and
 * DVOL_NFS_PROBE_UID/GID for every id; then no capabilities, whoever we are. Code that
 * parses replies from the network never runs as root. 0 or -errno.
 */
int dvol_nfs_drop_privileges(void);

/*
 * The verdict on one target, in a fixed-size form that a probe process writes to a pipe
 * and its privileged parent reads (the export list stays behind). unpack checks every
 * field and refuses a malformed one with -EBADMSG: the parent trusts nothing the network
 * side sends it.
 */
#define DVOL_NFS_RESULT_MAGIC 0x64766e72u /* "dvnr" */
struct dvol_nfs_result {
	uint32_t magic;
	uint32_t err;
	int32_t err_errno;
	uint32_t versions;
	uint32_t attempts;
	uint32_t rtt_count;
	uint32_t addrs_tried;
	uint16_t mount_port;
	uint8_t resolved, tcp;
	int8_t portmapper, mountd, export_v3, export_v4;
	double rtt_ms;
	uint64_t elapsed_ms;
	char addr[DVOL_NFS_ADDR_MAX];
	char local_addr[DVOL_NFS_ADDR_MAX];
	char detail[512];
};
void dvol_nfs_result_pack(const struct dvol_nfs_target *t, unsigned attempts,
			  struct dvol_nfs_result *ret);
int dvol_nfs_result_unpack(const struct dvol_nfs_result *r, struct dvol_nfs_target *t,
			   unsigned *ret_attempts);

const char *dvol_nfs_err_to_string(enum dvol_nfs_err e);
/* Is it worth trying again later (network), or final (the server said no)? */
bool dvol_nfs_err_is_transient(enum dvol_nfs_err e);
/* "4.2", "4.1", "4.0", "4", "3", highest first, from DVOL_NFS_V* bits; NULL if none. */
const char *dvol_nfs_vers_to_string(unsigned bit);
/* DVOL_NFS_V* bit for "3", "4", "4.0", "4.1", "4.2"; 0 if unknown. */
unsigned dvol_nfs_vers_from_string(const char *s);
/* The DVOL_NFS_V4_* bit of NFSv4 minor version MINOR (0, 1, 2); 0 for another. */
unsigned dvol_nfs_vers_minor(unsigned long minor);
/* The highest answered version, as one DVOL_NFS_V* bit (v4 without a minor: V4), or 0. */
unsigned dvol_nfs_vers_highest(unsigned versions);

/* "4.2,4.1,4.0,3" (highest first) into BUF; "none" if no version answered. */
const char *dvol_nfs_versions_format(unsigned versions, char *buf, size_t size);

/* Everything the probe learned about T in words, one line: "NFS 4.2,4.1,4.0 answer;
 * portmapper no; ...". Caller frees. */
char *dvol_nfs_target_summary(const struct dvol_nfs_target *t);

/* What dvol_nfs_probe() with P asks of T, in words, one line: "TCP port 2049, NFS NULL v3
 * and v4, COMPOUND 4.0-4.2, LOOKUP /export, ...". Caller frees; NULL on -ENOMEM. */
char *dvol_nfs_probe_describe(const struct dvol_nfs_target *t,
			      const struct dvol_nfs_probe_params *p);

/* T as a JSON object with the stable field names documented in dvol-nfs-probe(1);
 * WITH_EXPORTS adds the export list. Caller puts. */
struct json_object;
int dvol_nfs_target_to_json(const struct dvol_nfs_target *t, bool with_exports,
			    struct json_object **ret);
