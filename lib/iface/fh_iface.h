/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IFACE_H
#define FH_IFACE_H

/*
 * The running interface table: what the config declares (ports, loopbacks, static tunnels,
 * virtual templates) plus Virtual-Access interfaces cloned from a template per peer.
 *
 * Threading: control lcore only. Workers never see this table; they get the tables derived from
 * it (local addresses, and later tunnel -> SA maps) through fh_dp_publish().
 * Errors: functions return -1 with errno set (ENOMEM, ENOENT, EINVAL).
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_config.h"

#define FH_IF_VACCESS 4 /* kind of cloned interfaces, beside enum fh_if_kind */

/* How the address came to be, as "show ip interface brief" calls it. */
enum fh_if_method {
	FH_IFM_MANUAL,     /* from the config file */
	FH_IFM_UNSET,      /* borrowed (unnumbered) or none */
	FH_IFM_NEGOTIATED, /* from IKEv2 mode-config */
};

struct fh_iface {
	char name[FH_NAME_MAX];
	uint8_t kind;
	uint32_t unit;
	bool has_addr;
	uint32_t addr; /* host order */
	uint8_t plen;
	uint8_t method;
	bool admin_up;
	bool proto_up;   /* tunnels: SA installed; physical: link; set by their owners */
	int cfg_idx;     /* into cfg->iface; -1 for Virtual-Access */
	int template_idx; /* Virtual-Access: the template it was cloned from */
	int borrow_idx;  /* unnumbered: the interface whose address it shows; -1 otherwise */
	int port;        /* physical: data-plane port index; -1 otherwise */
};

struct fh_iface_table {
	struct fh_iface *v;
	uint32_t n, cap;
	uint32_t next_vaccess; /* IOS numbers Virtual-Access interfaces from 1 */
};

/* Build from a validated config. Physical interfaces get port indexes in config order. */
int fh_iface_table_build(struct fh_iface_table *t, const struct fh_config *cfg);
void fh_iface_table_free(struct fh_iface_table *t);

int fh_iface_find(const struct fh_iface_table *t, const char *name);

/* Clone Virtual-AccessN from the template at index vt; returns the new index or -1. The clone
 * borrows the template's (unnumbered) address, as IOS does. */
int fh_iface_clone_vaccess(struct fh_iface_table *t, int vt);
/* Remove a Virtual-Access interface; other indexes above it shift down by one. */
int fh_iface_remove(struct fh_iface_table *t, int idx);

/* Set an address learned at run time (mode-config) on a "negotiated" tunnel; re-resolves
 * everything that borrows from it. */
int fh_iface_set_negotiated(struct fh_iface_table *t, int idx, uint32_t addr, uint8_t plen);

/* The address an interface shows: its own or the one it borrows; false when it has none. */
bool fh_iface_addr(const struct fh_iface_table *t, int idx, uint32_t *addr, uint8_t *plen);

#endif
