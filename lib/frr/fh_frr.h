/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FH_FRR_H
#define FH_FRR_H

/*
 * Routing protocols run by FRR (zebra, eigrpd, ospfd, bgpd), the way VPP's linux-cp lets FRR
 * route for VPP: flexhub mirrors the interfaces the router block uses as kernel devices and syncs
 * routes; FRR speaks the protocols. This part turns the config's router block into FRR's own
 * configuration (frr.conf) and names the kernel mirrors.
 *
 * Kernel names have at most 15 characters (IFNAMSIZ), so mirrors take IOS's short forms:
 * GigabitEthernet1 -> Gi1, Tunnel0 -> Tu0, Loopback1 -> Lo1, Virtual-Access12 -> Va12,
 * Virtual-Template1 -> Vt1. `show` output and FRR's both use them.
 *
 * Threading: none (pure functions of the config). Errors: -1 with errno (EINVAL: a name that has
 * no short form fitting IFNAMSIZ; EIO: the stream failed).
 */

#include <stddef.h>
#include <stdio.h>

#include "fh_config.h"

#define FH_FRR_IFNAMSIZ 16

/* The kernel mirror's name of an interface. 0, or -1 (EINVAL). */
int fh_frr_ifname(const char *ios_name, char *out, size_t len);

/* frr.conf for the router block: hostname, per-protocol stanzas (networks as prefixes, router-id,
 * passive interfaces, BGP neighbours and listen range, redistribution: connected as FRR's
 * connected, static/ikev2/nhrp as FRR's kernel routes, which is how flexhub's routes reach
 * zebra). log_path: where FRR logs ("" none). 0 or -1. */
int fh_frr_conf(FILE *out, const struct fh_config *cfg, const char *log_path);

#endif
