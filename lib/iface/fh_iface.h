/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_IFACE_H
#define FH_IFACE_H

/*
 * The running interface table: what the config declares (ports, loopbacks, static tunnels,
 * virtual templates) plus Virtual-Access interfaces cloned from a template per peer.
 *
 * Every interface lives in a slot that never moves while it exists (the slot number is what the
 * FIB's and the data plane's tunnel tables are indexed by) and has a handle (slot + generation,
 * fh_handle.h) that outlives config reloads as long as the interface keeps its name; a handle of
 * a removed interface is recognised as stale. Names are found in O(1). Create and destroy are
 * O(1); a reload (fh_iface_table_sync) matches old and new interfaces by name before anything
 * else changes.
 *
 * Threading: control lcore only. Workers never see this table; they get the tables derived from
 * it (local addresses, and later tunnel -> SA maps) through fh_dp_publish().
 * Errors: functions return -1 with errno set (ENOMEM, ENOENT, EINVAL).
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_config.h"
#include "fh_handle.h"

#define FH_IF_VACCESS 4 /* kind of cloned interfaces, beside enum fh_if_kind */

/* How the address came to be, as "show ip interface brief" calls it. */
enum fh_if_method {
	FH_IFM_MANUAL,     /* from the config file */
	FH_IFM_UNSET,      /* borrowed (unnumbered) or none */
	FH_IFM_NEGOTIATED, /* from IKEv2 mode-config */
};

struct fh_iface {
	bool used;       /* the slot holds an interface */
	fh_handle_t handle;
	char name[FH_NAME_MAX];
	uint8_t kind;
	uint32_t unit;
	bool has_addr;
	uint32_t addr; /* host order */
	uint8_t plen;
	uint8_t method;
	bool admin_up;
	bool proto_up;   /* tunnels: SA installed; physical: link; set by their owners */
	int cfg_idx;     /* into the current cfg->iface (refreshed at every sync); -1 for Virtual-Access */
	int template_idx; /* Virtual-Access: the slot of the template it was cloned from */
	int borrow_idx;  /* unnumbered: the slot of the interface whose address it shows; -1 otherwise */
	int port;        /* physical: data-plane port index; -1 otherwise */
};

struct fh_iface_table {
	struct fh_iface *v;    /* by slot; iterate i < n and skip !used */
	uint32_t n;            /* one past the highest slot ever used */
	uint32_t cap;          /* slots (limits.interfaces) */
	uint32_t count;        /* interfaces */
	struct fh_slots slots;
	struct fh_map by_name; /* fh_hash_str(name) -> slot */
	/* Virtual-Access numbers: IOS gives the lowest free one from 1. Every number below next_va
	 * is in use or in the min-heap va_free, so the lowest free is the heap's top or next_va. */
	uint32_t next_va;
	uint32_t *va_free;
	uint32_t n_va_free, cap_va_free;
};

/* Build from a validated config with room for cap interfaces. Physical interfaces get port
 * indexes in config order. -1 with errno ENOMEM, or ENOSPC when the config has more than cap. */
int fh_iface_table_build(struct fh_iface_table *t, const struct fh_config *cfg, uint32_t cap);
void fh_iface_table_free(struct fh_iface_table *t);

/*
 * A new config: interfaces are matched by name. Those gone from it (or whose kind changed) are
 * handed to gone(arg, slot) while they still exist, then removed; the others keep slot and handle
 * and take the new settings; new ones get free slots. Virtual-Access clones stay. 0, or -1 with
 * errno ENOSPC (more interfaces than slots: nothing changed).
 */
int fh_iface_table_sync(struct fh_iface_table *t, const struct fh_config *cfg,
			void (*gone)(void *arg, int slot), void *arg);

/* Slot of the interface with this name, or -1. O(1). */
int fh_iface_find(const struct fh_iface_table *t, const char *name);
/* Slot of a live handle, or -1 (stale or none). */
int fh_iface_slot(const struct fh_iface_table *t, fh_handle_t h);

/* Clone Virtual-AccessN from the template in slot vt, N the lowest number free (from 1, as IOS);
 * returns the new slot or -1 (EINVAL, ENOSPC, ENOMEM). O(log n). The clone borrows the template's
 * (unnumbered) address, as IOS does. */
int fh_iface_clone_vaccess(struct fh_iface_table *t, int vt);
/* Remove a Virtual-Access interface; no other slot moves; its number is free again. O(log n). */
int fh_iface_remove(struct fh_iface_table *t, int idx);

/* Set an address learned at run time (mode-config) on a "negotiated" tunnel; re-resolves
 * everything that borrows from it. */
int fh_iface_set_negotiated(struct fh_iface_table *t, int idx, uint32_t addr, uint8_t plen);

/* The address an interface shows: its own or the one it borrows; false when it has none. */
bool fh_iface_addr(const struct fh_iface_table *t, int idx, uint32_t *addr, uint8_t *plen);

#endif
