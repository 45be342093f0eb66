/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Smart defaults and checks across blocks: references resolved by name, address plans that
 * cannot work (overlapping pools, a pool holding an interface address), algorithm combinations
 * the RFCs forbid, keys of the wrong length. Every error points at the value that caused it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fh_limits.h"
#include "schema.h"

/* Debug categories of the guide's troubleshooting section, plus our data plane. */
static const char *const debug_categories[] = {
	"crypto ikev2", "crypto ikev2 packet", "crypto ikev2 internal", "crypto ikev2 error",
	"crypto ikev2 client flexvpn", "crypto ipsec", "crypto ipsec message", "crypto ipsec states",
	"crypto ipsec error", "crypto interface", "nhrp", "nhrp detail", "nhrp event", "nhrp error",
	"nhrp packet", "nhrp routing", "dataplane", NULL,
};

/* DH groups the IKE code implements (OpenSSL): MODP 2048/3072/4096, ECP 256/384/521, X25519. */
static bool dh_group_supported(uint32_t g)
{
	return g == 14 || g == 15 || g == 16 || g == 19 || g == 20 || g == 21 || g == 31;
}

struct vctx {
	struct fh_config *cfg;
	struct fh_cfg_errs *errs;
};

#define VERR(v, field, ...) fh_cfg_error((v)->errs, (v)->cfg->file, fh_posmap_get((v)->cfg, (field)), __VA_ARGS__)
#define NERR(v, named, ...) fh_cfg_error((v)->errs, (v)->cfg->file, (named)->pos, __VA_ARGS__)

static bool given(const struct fh_config *cfg, const void *field)
{
	return fh_posmap_get(cfg, field).line != 0;
}

static int find_named(const void *arr, uint32_t n, size_t size, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(((const struct fh_named *)((const char *)arr + (size_t)i * size))->name, name) == 0)
			return (int)i;
	return -1;
}

#define FIND(cfg, what, name) find_named((cfg)->what, (cfg)->n_##what, sizeof(*(cfg)->what), (name))

/* Grow a named array by one zeroed element; keeps recorded positions pointing at the moved fields. */
static void *append(struct fh_config *cfg, void **arr, uint32_t *n, size_t size, const char *name)
{
	uintptr_t old = (uintptr_t)*arr; /* only an address to compare once realloc has run */
	char *p = realloc(*arr, (size_t)(*n + 1) * size);
	struct fh_named *el;

	if (p == NULL)
		return NULL;
	if ((uintptr_t)p != old)
		fh_posmap_rebase(cfg, old, (size_t)*n * size, p);
	*arr = p;
	el = (struct fh_named *)(p + (size_t)*n * size);
	memset(el, 0, size);
	snprintf(el->name, sizeof(el->name), "%s", name);
	(*n)++;
	return el;
}

/* Apply the schema defaults of one map element kind to a fresh element. */
static const struct fh_key *map_keys(const struct fh_key *keys, const char *path)
{
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);

	for (const struct fh_key *k = keys; k->name != NULL; k++)
		if (strlen(k->name) == n && strncmp(k->name, path, n) == 0)
			return dot ? map_keys(k->sub, dot + 1) : k->sub;
	return NULL;
}

static void *append_default(struct fh_config *cfg, void **arr, uint32_t *n, size_t size, const char *name,
			    const char *path)
{
	void *el = append(cfg, arr, n, size, name);

	if (el != NULL)
		fh_schema_apply_defaults(map_keys(fh_schema_root, path), el);
	return el;
}

void fh_config_smart_defaults(struct fh_config *cfg)
{
	if (cfg->n_proposal == 0) {
		struct fh_cfg_proposal *p = append_default(cfg, (void **)&cfg->proposal, &cfg->n_proposal,
							   sizeof(*p), "default", "crypto.ikev2.proposals");
		if (p != NULL) {
			static const uint8_t encr[] = {FH_ENCR_AES_CBC_256, FH_ENCR_AES_CBC_128};
			static const uint8_t integ[] = {FH_INTEG_SHA512_256, FH_INTEG_SHA384_192, FH_INTEG_SHA256_128,
							FH_INTEG_SHA1_96};
			static const uint32_t group[] = {19, 20, 14};

			memcpy(p->encr, encr, sizeof(encr));
			p->n_encr = 2;
			memcpy(p->integ, integ, sizeof(integ));
			p->n_integ = 4;
			memcpy(p->group, group, sizeof(group));
			p->n_group = 3;
		}
	}
	if (cfg->n_ike_policy == 0) {
		struct fh_cfg_ike_policy *pol = append_default(cfg, (void **)&cfg->ike_policy, &cfg->n_ike_policy,
							       sizeof(*pol), "default", "crypto.ikev2.policies");
		for (uint32_t i = 0; pol != NULL && i < cfg->n_proposal && i < FH_LIST_MAX; i++) {
			snprintf(pol->proposal[i], FH_NAME_MAX, "%s", cfg->proposal[i].hdr.name);
			pol->n_proposal++;
		}
	}
	if (cfg->n_transform_set == 0) {
		struct fh_cfg_transform_set *ts = append_default(cfg, (void **)&cfg->transform_set,
								 &cfg->n_transform_set, sizeof(*ts), "default",
								 "crypto.ipsec.transform-sets");
		if (ts != NULL) {
			ts->encr = FH_ENCR_AES_CBC_256;
			ts->integ = FH_INTEG_SHA256_128;
			ts->mode = FH_ESP_TUNNEL;
		}
	}
	if (FIND(cfg, ipsec_profile, "default") < 0) {
		struct fh_cfg_ipsec_profile *ip = append_default(cfg, (void **)&cfg->ipsec_profile,
								 &cfg->n_ipsec_profile, sizeof(*ip), "default",
								 "crypto.ipsec.profiles");
		/* the "default" transform set when there is one, else every configured set */
		if (ip != NULL && FIND(cfg, transform_set, "default") >= 0) {
			snprintf(ip->transform_set[0], FH_NAME_MAX, "default");
			ip->n_transform_set = 1;
		}
		for (uint32_t i = 0; ip != NULL && ip->n_transform_set == 0 && i < cfg->n_transform_set && i < FH_LIST_MAX;
		     i++)
			snprintf(ip->transform_set[i], FH_NAME_MAX, "%s", cfg->transform_set[i].hdr.name);
		if (ip != NULL && ip->n_transform_set == 0)
			ip->n_transform_set = cfg->n_transform_set < FH_LIST_MAX ? cfg->n_transform_set : FH_LIST_MAX;
	}
	for (uint32_t i = 0; i < cfg->n_ipsec_profile; i++) {
		struct fh_cfg_ipsec_profile *ip = &cfg->ipsec_profile[i];

		if (ip->n_transform_set == 0 && FIND(cfg, transform_set, "default") >= 0) {
			snprintf(ip->transform_set[0], FH_NAME_MAX, "default");
			ip->n_transform_set = 1;
		}
		if (ip->ike_profile[0] == '\0' && cfg->n_ike_profile == 1)
			snprintf(ip->ike_profile, FH_NAME_MAX, "%s", cfg->ike_profile[0].hdr.name);
	}
}

static void check_debug(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_debug; i++) {
		int k;

		for (k = 0; debug_categories[k] != NULL; k++)
			if (strcasecmp(debug_categories[k], v->cfg->debug[i]) == 0)
				break;
		if (debug_categories[k] == NULL)
			VERR(v, v->cfg->debug[i], "debug: unknown category '%s' (e.g. 'crypto ikev2 packet', 'nhrp event')",
			     v->cfg->debug[i]);
	}
}

static bool is_gcm(uint8_t encr)
{
	return encr == FH_ENCR_AES_GCM_128 || encr == FH_ENCR_AES_GCM_256;
}

static void check_proposals(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_proposal; i++) {
		struct fh_cfg_proposal *p = &v->cfg->proposal[i];
		uint32_t gcm = 0;

		if (p->n_encr == 0)
			NERR(v, &p->hdr, "ikev2 proposal %s: needs encryption", p->hdr.name);
		for (uint32_t k = 0; k < p->n_encr; k++)
			gcm += is_gcm(p->encr[k]);
		/* RFC 5282 8: AEAD and non-AEAD ciphers go in separate proposals. */
		if (gcm != 0 && gcm != p->n_encr)
			VERR(v, p->encr, "ikev2 proposal %s: AES-GCM and AES-CBC cannot share a proposal; use two",
			     p->hdr.name);
		else if (gcm != 0 && p->n_integ != 0)
			VERR(v, p->integ, "ikev2 proposal %s: AES-GCM carries its own integrity; remove integrity",
			     p->hdr.name);
		else if (gcm == 0 && p->n_encr != 0 && p->n_integ == 0)
			NERR(v, &p->hdr, "ikev2 proposal %s: AES-CBC needs integrity", p->hdr.name);
		if (p->n_group == 0)
			NERR(v, &p->hdr, "ikev2 proposal %s: needs a DH group", p->hdr.name);
		for (uint32_t k = 0; k < p->n_group; k++)
			if (!dh_group_supported(p->group[k]))
				VERR(v, &p->group[k], "ikev2 proposal %s: DH group %u is not supported (14 15 16 19 20 21 31)",
				     p->hdr.name, p->group[k]);
		if (p->n_prf == 0) {
			if (gcm != 0) {
				static const uint8_t prf[] = {FH_PRF_SHA512, FH_PRF_SHA384, FH_PRF_SHA256};

				memcpy(p->prf, prf, sizeof(prf));
				p->n_prf = 3;
			} else {
				/* integrity and PRF enums share their order: sha1, sha256, sha384, sha512 */
				for (uint32_t k = 0; k < p->n_integ; k++)
					p->prf[p->n_prf++] = (uint8_t)(p->integ[k] - FH_INTEG_SHA1_96);
			}
		}
	}
}

static void check_policies(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_ike_policy; i++) {
		struct fh_cfg_ike_policy *p = &v->cfg->ike_policy[i];

		if (p->n_proposal == 0)
			NERR(v, &p->hdr, "ikev2 policy %s: needs at least one proposal", p->hdr.name);
		for (uint32_t k = 0; k < p->n_proposal; k++) {
			p->proposal_idx[k] = FIND(v->cfg, proposal, p->proposal[k]);
			if (p->proposal_idx[k] < 0)
				VERR(v, p->proposal[k], "ikev2 policy %s: unknown ikev2 proposal '%s'", p->hdr.name,
				     p->proposal[k]);
		}
	}
}

static bool prefix_clean(const struct fh_prefix *p)
{
	return (p->addr & ~fh_prefix_mask(p->len)) == 0;
}

static bool identity_ok(const char *s)
{
	static const char *const types[] = {"fqdn ", "email ", "address ", "key-id ", NULL};

	for (int i = 0; types[i] != NULL; i++)
		if (strncmp(s, types[i], strlen(types[i])) == 0 && s[strlen(types[i])] != '\0')
			return true;
	return false;
}

static void check_keyrings(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_keyring; i++) {
		struct fh_cfg_keyring *kr = &v->cfg->keyring[i];

		for (uint32_t j = 0; j < kr->n_peer; j++) {
			struct fh_cfg_peer *p = &kr->peer[j];
			bool both = p->psk_local[0] != '\0' || p->psk_remote[0] != '\0';

			if (!p->has_address && p->identity[0] == '\0' && p->hostname[0] == '\0')
				NERR(v, &p->hdr, "keyring %s peer %s: needs address, identity or hostname", kr->hdr.name,
				     p->hdr.name);
			if (p->has_address && !prefix_clean(&p->address))
				VERR(v, &p->address, "keyring %s peer %s: address has host bits set for its mask",
				     kr->hdr.name, p->hdr.name);
			if (p->identity[0] != '\0' && !identity_ok(p->identity))
				VERR(v, p->identity, "keyring %s peer %s: identity must be 'fqdn|email|address|key-id VALUE'",
				     kr->hdr.name, p->hdr.name);
			if (p->psk[0] != '\0' && both) {
				VERR(v, p->psk, "keyring %s peer %s: give pre-shared-key or -local/-remote, not both",
				     kr->hdr.name, p->hdr.name);
			} else if (p->psk[0] != '\0') {
				memcpy(p->psk_local, p->psk, sizeof(p->psk));
				memcpy(p->psk_remote, p->psk, sizeof(p->psk));
				/* one spelling from here on, so the normalized output reloads as it is */
				p->psk[0] = '\0';
			} else if (p->psk_local[0] == '\0' || p->psk_remote[0] == '\0') {
				NERR(v, &p->hdr, "keyring %s peer %s: needs pre-shared-key (or both -local and -remote)",
				     kr->hdr.name, p->hdr.name);
			}
		}
	}
}

static int vtemplate_index(const struct fh_config *cfg, uint32_t unit)
{
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		if (cfg->iface[i].kind == FH_IF_VTEMPLATE && cfg->iface[i].unit == unit)
			return (int)i;
	return -1;
}

static void check_profiles(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_ike_profile; i++) {
		struct fh_cfg_ike_profile *p = &v->cfg->ike_profile[i];
		const struct fh_cfg_match_identity *m = &p->match_remote;
		bool psk = p->auth_local == FH_AUTH_PSK;

		if (!m->any && m->n_address + m->n_fqdn + m->n_email + m->n_key_id == 0)
			NERR(v, &p->hdr, "ikev2 profile %s: match-identity-remote needs any, an address, fqdn, email or key-id",
			     p->hdr.name);
		for (uint32_t k = 0; k < m->n_address; k++)
			if (!prefix_clean(&m->address[k]))
				VERR(v, &m->address[k], "ikev2 profile %s: match address has host bits set for its mask",
				     p->hdr.name);
		if (strcmp(p->identity_local, "address") != 0 && !identity_ok(p->identity_local))
			VERR(v, p->identity_local, "ikev2 profile %s: identity-local must be address or 'fqdn|email|key-id VALUE'",
			     p->hdr.name);
		if (p->auth_local != FH_AUTH_PSK)
			VERR(v, &p->auth_local, "ikev2 profile %s: only pre-share authentication is implemented",
			     p->hdr.name);
		for (uint32_t k = 0; k < p->n_auth_remote; k++) {
			psk |= p->auth_remote[k] == FH_AUTH_PSK;
			if (p->auth_remote[k] != FH_AUTH_PSK)
				VERR(v, &p->auth_remote[k], "ikev2 profile %s: only pre-share authentication is implemented",
				     p->hdr.name);
		}
		p->keyring_idx = -1;
		if (p->keyring[0] != '\0') {
			p->keyring_idx = FIND(v->cfg, keyring, p->keyring);
			if (p->keyring_idx < 0)
				VERR(v, p->keyring, "ikev2 profile %s: unknown keyring '%s'", p->hdr.name, p->keyring);
		} else if (psk) {
			NERR(v, &p->hdr, "ikev2 profile %s: pre-share authentication needs a keyring", p->hdr.name);
		}
		if (p->aaa.present) {
			p->aaa.list_idx = FIND(v->cfg, aaa_list, p->aaa.list);
			if (p->aaa.list_idx < 0)
				VERR(v, p->aaa.list, "ikev2 profile %s: unknown aaa authorization network list '%s'",
				     p->hdr.name, p->aaa.list);
			p->aaa.policy_idx = FIND(v->cfg, authz_policy, p->aaa.policy);
			if (p->aaa.policy_idx < 0)
				VERR(v, p->aaa.policy, "ikev2 profile %s: unknown ikev2 authorization policy '%s'",
				     p->hdr.name, p->aaa.policy);
		}
		p->vtemplate_if_idx = -1;
		if (p->virtual_template != 0) {
			p->vtemplate_if_idx = vtemplate_index(v->cfg, p->virtual_template);
			if (p->vtemplate_if_idx < 0)
				VERR(v, &p->virtual_template, "ikev2 profile %s: interface Virtual-Template%u does not exist",
				     p->hdr.name, p->virtual_template);
		}
	}
}

static void check_authz(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_authz_policy; i++) {
		struct fh_cfg_authz_policy *a = &v->cfg->authz_policy[i];

		a->pool_idx = -1;
		a->acl_idx = -1;
		if (a->pool[0] != '\0') {
			a->pool_idx = FIND(v->cfg, pool, a->pool);
			if (a->pool_idx < 0)
				VERR(v, a->pool, "authorization policy %s: unknown ip local pool '%s'", a->hdr.name, a->pool);
		}
		if (a->route_set_acl[0] != '\0') {
			a->acl_idx = FIND(v->cfg, acl, a->route_set_acl);
			if (a->acl_idx < 0)
				VERR(v, a->route_set_acl, "authorization policy %s: unknown access-list '%s'", a->hdr.name,
				     a->route_set_acl);
		}
		if (a->netmask != 0 && (~a->netmask & (~a->netmask + 1)) != 0)
			VERR(v, &a->netmask, "authorization policy %s: netmask is not contiguous", a->hdr.name);
	}
}

static void check_esp_algs(struct vctx *v, const struct fh_named *who, const char *what, const uint8_t *encr,
			   const uint8_t *integ)
{
	if (is_gcm(*encr) && *integ != FH_INTEG_NONE)
		VERR(v, integ, "%s %s: AES-GCM carries its own integrity; use integrity: none", what, who->name);
	else if (!is_gcm(*encr) && *integ == FH_INTEG_NONE)
		/* Confidentiality without integrity is open to cut-and-paste attacks (RFC 4303 3.2). */
		NERR(v, who, "%s %s: %s needs an integrity transform", what, who->name, fh_enum_name(fh_enum_esp_encr, *encr));
}

static void check_ipsec(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_transform_set; i++) {
		struct fh_cfg_transform_set *t = &v->cfg->transform_set[i];

		check_esp_algs(v, &t->hdr, "transform-set", &t->encr, &t->integ);
	}
	for (uint32_t i = 0; i < v->cfg->n_ipsec_profile; i++) {
		struct fh_cfg_ipsec_profile *p = &v->cfg->ipsec_profile[i];

		if (p->n_transform_set == 0)
			NERR(v, &p->hdr, "ipsec profile %s: needs transform-sets", p->hdr.name);
		for (uint32_t k = 0; k < p->n_transform_set; k++) {
			p->ts_idx[k] = FIND(v->cfg, transform_set, p->transform_set[k]);
			if (p->ts_idx[k] < 0)
				VERR(v, p->transform_set[k], "ipsec profile %s: unknown transform-set '%s'", p->hdr.name,
				     p->transform_set[k]);
		}
		p->ike_profile_idx = -1;
		if (p->ike_profile[0] != '\0') {
			p->ike_profile_idx = FIND(v->cfg, ike_profile, p->ike_profile);
			if (p->ike_profile_idx < 0)
				VERR(v, p->ike_profile, "ipsec profile %s: unknown ikev2 profile '%s'", p->hdr.name,
				     p->ike_profile);
		}
		if (p->pfs_group != 0 && !dh_group_supported(p->pfs_group))
			VERR(v, &p->pfs_group, "ipsec profile %s: DH group %u is not supported (14 15 16 19 20 21 31)",
			     p->hdr.name, p->pfs_group);
		/* RFC 4303 3.4.3: 32 is the minimum window; we keep 64-bit buckets, so 64 and up. */
		if (p->replay_window != 0 && p->replay_window < 64)
			VERR(v, &p->replay_window, "ipsec profile %s: replay-window is 0 (off) or 64..4096", p->hdr.name);
	}
}

/* Key bytes each algorithm takes: cipher key (+ 4-byte salt for GCM, RFC 4106 8.1), HMAC key. */
uint32_t fh_encr_key_len(unsigned encr)
{
	switch (encr) {
	case FH_ENCR_AES_CBC_128: return 16;
	case FH_ENCR_AES_CBC_192: return 24;
	case FH_ENCR_AES_CBC_256: return 32;
	case FH_ENCR_AES_GCM_128: return 20;
	case FH_ENCR_AES_GCM_256: return 36;
	default: return 0;
	}
}

uint32_t fh_integ_key_len(unsigned integ)
{
	static const uint32_t len[] = {0, 20, 32, 48, 64};

	return integ < 5 ? len[integ] : 0;
}

static void check_key(struct vctx *v, const struct fh_cfg_static_sa *s, const char *key, const char *kname,
		      uint32_t want)
{
	uint32_t have = (uint32_t)strlen(key) / 2;

	if (have != want)
		VERR(v, key[0] ? (const void *)key : (const void *)&s->hdr, "static-sa %s: %s is %u bytes, %s needs %u",
		     s->hdr.name, kname, have, "this algorithm", want);
}

static void check_static_sas(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_static_sa; i++) {
		struct fh_cfg_static_sa *s = &v->cfg->static_sa[i];
		uint32_t ek = fh_encr_key_len(s->encr), ak = fh_integ_key_len(s->integ);

		if (s->encr != FH_ENCR_NULL || s->integ != FH_INTEG_NONE)
			check_esp_algs(v, &s->hdr, "static-sa", &s->encr, &s->integ);
		check_key(v, s, s->enc_key_in, "encryption-key-in", ek);
		check_key(v, s, s->enc_key_out, "encryption-key-out", ek);
		check_key(v, s, s->auth_key_in, "integrity-key-in", ak);
		check_key(v, s, s->auth_key_out, "integrity-key-out", ak);
		if (s->replay_window != 0 && s->replay_window < 64)
			VERR(v, &s->replay_window, "static-sa %s: replay-window is 0 (off) or 64..4096", s->hdr.name);
		s->if_idx = fh_config_iface_find(v->cfg, s->interface);
		if (s->if_idx < 0)
			VERR(v, s->interface, "static-sa %s: unknown interface '%s'", s->hdr.name, s->interface);
		else if (v->cfg->iface[s->if_idx].kind != FH_IF_TUNNEL)
			VERR(v, s->interface, "static-sa %s: %s is not a Tunnel interface", s->hdr.name, s->interface);
		for (uint32_t j = 0; j < i; j++)
			if (v->cfg->static_sa[j].spi_in == s->spi_in)
				VERR(v, &s->spi_in, "static-sa %s: spi-in 0x%x is already used by %s", s->hdr.name, s->spi_in,
				     v->cfg->static_sa[j].hdr.name);
	}
}

static void check_aaa(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_aaa_list; i++) {
		struct fh_cfg_aaa_list *a = &v->cfg->aaa_list[i];

		if (a->method != FH_AAA_LOCAL)
			NERR(v, &a->hdr, "aaa authorization network %s: only the local method is implemented", a->hdr.name);
	}
}

/* Where a pool's range i was written: the item of `ranges`, or for first/last the pool's name. */
static struct fh_pos range_pos(const struct vctx *v, const struct fh_cfg_pool *p, uint32_t i)
{
	return p->has_ranges ? fh_posmap_get(v->cfg, &p->range[i]) : p->hdr.pos;
}

/* One range of every pool, for the overlap sweep. */
struct pool_iv {
	uint32_t first, last;
	uint32_t pool, idx;
};

static int pool_iv_cmp(const void *a, const void *b)
{
	const struct pool_iv *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* 224.0.0.0/4 */
#define MCAST_FIRST 0xe0000000u
#define MCAST_LAST 0xefffffffu

/*
 * Pools: one form per pool (first/last or ranges), every range the right way round and clear of
 * 0.0.0.0, 255.255.255.255 and multicast, no two ranges overlapping (within a pool or between
 * pools: one sort and a sweep), no interface address inside, all of them within
 * limits.pool-addresses. Then the normalized form: range[] holds every range; first/last for
 * one range, ranges for several (what the emitter prints).
 */
static void check_pools(struct vctx *v)
{
	struct fh_config *cfg = v->cfg;
	struct pool_iv *iv = calloc((size_t)cfg->n_pool * FH_CFG_POOL_RANGES_MAX + 1, sizeof(*iv));
	uint64_t total = 0;
	uint32_t n_iv = 0;
	bool over = false;
	char a[16], b[16], c[16], d[16];

	if (iv == NULL) {
		NERR(v, &cfg->pool[0].hdr, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < cfg->n_pool; i++) {
		struct fh_cfg_pool *p = &cfg->pool[i];

		if (p->has_ranges && (p->has_first || p->has_last)) {
			VERR(v, p->has_first ? (void *)&p->first : (void *)&p->last,
			     "ip local pool %s: give first/last or ranges, not both", p->hdr.name);
			continue;
		}
		if (p->has_first != p->has_last) {
			NERR(v, &p->hdr, "ip local pool %s: needs both first and last", p->hdr.name);
			continue;
		}
		if (p->has_first) {
			if (p->first > p->last) {
				VERR(v, &p->last, "ip local pool %s: last address is below the first", p->hdr.name);
				continue;
			}
			p->range[0] = (struct fh_cfg_pool_range){p->first, p->last};
			p->n_range = 1;
		}
		if (p->n_range == 0) {
			NERR(v, &p->hdr, "ip local pool %s: no addresses (give first and last, or ranges)", p->hdr.name);
			continue;
		}
		for (uint32_t k = 0; k < p->n_range; k++) {
			const struct fh_cfg_pool_range *r = &p->range[k];
			struct fh_pos pos = range_pos(v, p, k);
			uint64_t size;

			fh_ip4_str(r->first, a, sizeof(a));
			fh_ip4_str(r->last, b, sizeof(b));
			if (r->first > r->last) {
				fh_cfg_error(v->errs, cfg->file, pos, "ip local pool %s: %s %s: last address is below the first",
					     p->hdr.name, a, b);
				continue;
			}
			if (r->first == 0 || r->last == UINT32_MAX || (r->first <= MCAST_LAST && r->last >= MCAST_FIRST)) {
				fh_cfg_error(v->errs, cfg->file, pos, "ip local pool %s: %s %s holds %s", p->hdr.name, a, b,
					     r->first == 0 ? "0.0.0.0" : r->last == UINT32_MAX ? "255.255.255.255"
											   : "multicast addresses (224.0.0.0/4)");
				continue;
			}
			size = (uint64_t)r->last - r->first + 1;
			total += size;
			if (total > cfg->limits.pool_addresses && !over) {
				fh_cfg_error(v->errs, cfg->file, pos,
					     "ip local pool %s: the pools hold %llu addresses or more, more than "
					     "limits.pool-addresses (%u); raise limits.pool-addresses",
					     p->hdr.name, (unsigned long long)total, cfg->limits.pool_addresses);
				over = true;
			}
			iv[n_iv++] = (struct pool_iv){r->first, r->last, i, k};
			for (uint32_t j = 0; j < cfg->n_iface; j++) {
				const struct fh_if_addr *ia = &cfg->iface[j].ip;

				if (ia->present && !ia->negotiated && ia->pfx.addr >= r->first && ia->pfx.addr <= r->last)
					fh_cfg_error(v->errs, cfg->file, pos, "ip local pool %s: holds %s's own address",
						     p->hdr.name, cfg->iface[j].hdr.name);
			}
		}
	}
	/* overlaps: sorted by first, each range against the one reaching furthest before it; the
	 * error goes to whichever of the two comes later in the file */
	qsort(iv, n_iv, sizeof(*iv), pool_iv_cmp);
	for (uint32_t i = 1, far = 0; i < n_iv; i++) {
		if (iv[i].first <= iv[far].last) {
			const struct pool_iv *x = &iv[i], *y = &iv[far];
			const struct fh_cfg_pool *px, *py;

			if (x->pool < y->pool || (x->pool == y->pool && x->idx < y->idx)) {
				const struct pool_iv *t = x;

				x = y;
				y = t;
			}
			px = &cfg->pool[x->pool];
			py = &cfg->pool[y->pool];
			fh_ip4_str(x->first, a, sizeof(a));
			fh_ip4_str(x->last, b, sizeof(b));
			fh_ip4_str(y->first, c, sizeof(c));
			fh_ip4_str(y->last, d, sizeof(d));
			fh_cfg_error(v->errs, cfg->file, range_pos(v, px, x->idx), "ip local pool %s: %s %s overlaps %s%s (%s %s)",
				     px->hdr.name, a, b, x->pool == y->pool ? "another range of " : "pool ",
				     x->pool == y->pool ? "the pool" : py->hdr.name, c, d);
		}
		if (iv[i].last > iv[far].last)
			far = i;
	}
	free(iv);
	/* the normalized form */
	for (uint32_t i = 0; i < cfg->n_pool; i++) {
		struct fh_cfg_pool *p = &cfg->pool[i];

		p->has_first = p->has_last = p->n_range == 1;
		p->has_ranges = p->n_range > 1;
		if (p->n_range == 1) {
			p->first = p->range[0].first;
			p->last = p->range[0].last;
		}
	}
}

static void check_routes(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_route; i++) {
		struct fh_cfg_route *r = &v->cfg->route[i];
		char a[16];

		fh_ip4_str(r->prefix.addr, a, sizeof(a));
		r->if_idx = -1;
		if (!prefix_clean(&r->prefix))
			VERR(v, &r->prefix, "ip route %s/%u: address has host bits set for its mask", a, r->prefix.len);
		if (r->interface[0] != '\0') {
			r->if_idx = fh_config_iface_find(v->cfg, r->interface);
			if (r->if_idx < 0)
				VERR(v, r->interface, "ip route %s/%u: unknown interface '%s'", a, r->prefix.len, r->interface);
		} else if (!r->has_next_hop) {
			VERR(v, r, "ip route %s/%u: needs an interface or a next-hop", a, r->prefix.len);
		}
	}
}

static bool parse_mac(const char *s, uint8_t m[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) == 6 ||
	    sscanf(s, "%2x%2x.%2x%2x.%2x%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) == 6) {
		for (int i = 0; i < 6; i++)
			m[i] = (uint8_t)b[i];
		return true;
	}
	return false;
}

static void check_arp(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_arp; i++) {
		struct fh_cfg_arp *a = &v->cfg->arp[i];

		if (!parse_mac(a->mac, a->mac_bytes) || (a->mac_bytes[0] & 1))
			VERR(v, a->mac, "arp: '%s' is not a unicast MAC (aa:bb:cc:dd:ee:ff or aabb.ccdd.eeff)", a->mac);
		a->if_idx = fh_config_iface_find(v->cfg, a->interface);
		if (a->if_idx < 0 || v->cfg->iface[a->if_idx].kind != FH_IF_PHYSICAL)
			VERR(v, a->interface, "arp: '%s' is not a physical interface", a->interface);
	}
}

/* One router block: what FRR will be given must be valid FRR, so it is checked here. */
static void check_router(struct vctx *v, struct fh_cfg_router *r, bool bgp)
{
	static const char *const redist[] = {"connected", "static", "ikev2", "nhrp"};

	for (uint32_t k = 0; k < r->n_network; k++) {
		uint32_t w = r->network[k].wildcard;

		/* FRR takes prefixes: a wildcard must be a contiguous host part */
		if ((w & (w + 1)) != 0 || !r->network[k].permit)
			VERR(v, &r->network[k], "router %s: network needs NET WILDCARD with a contiguous wildcard", r->hdr.name);
	}
	for (uint32_t k = 0; k < r->n_neighbor; k++) {
		unsigned int b[4];
		unsigned long as;
		char tail;

		if (!bgp) {
			VERR(v, r->neighbor[k], "router %s: neighbors are for bgp (eigrp and ospf find theirs)", r->hdr.name);
			continue;
		}
		if (sscanf(r->neighbor[k], "%u.%u.%u.%u remote-as %lu %c", &b[0], &b[1], &b[2], &b[3], &as, &tail) != 5 ||
		    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 || as == 0 || as > 4294967295ul) {
			VERR(v, r->neighbor[k], "router bgp: neighbor '%s': expected \"A.B.C.D remote-as N\"", r->neighbor[k]);
			continue;
		}
		r->nb_addr[k] = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		r->nb_as[k] = (uint32_t)as;
	}
	/* 0.0.0.0/0 is no listen range (the emitter writes it for every router) */
	r->has_listen_range = r->listen_range.len > 0;
	if (!bgp && (r->has_listen_range || r->listen_remote_as != 0))
		VERR(v, r->has_listen_range ? (const void *)&r->listen_range : (const void *)&r->listen_remote_as,
		     "router %s: listen-range is for bgp", r->hdr.name);
	if (bgp && r->has_listen_range && !prefix_clean(&r->listen_range))
		VERR(v, &r->listen_range, "router bgp: listen-range has host bits set for its mask");
	for (uint32_t k = 0; k < r->n_redistribute; k++) {
		bool ok = false;

		for (unsigned x = 0; x < sizeof(redist) / sizeof(redist[0]); x++)
			ok |= strcmp(r->redistribute[k], redist[x]) == 0;
		if (!ok)
			VERR(v, r->redistribute[k], "router %s: redistribute '%s': expected connected, static, ikev2 or nhrp",
			     r->hdr.name, r->redistribute[k]);
	}
	for (uint32_t k = 0; k < r->n_passive; k++)
		if (fh_config_iface_find(v->cfg, r->passive[k]) < 0)
			VERR(v, r->passive[k], "router %s: passive interface '%s' is not configured", r->hdr.name, r->passive[k]);
}

static void check_routers(struct vctx *v)
{
	for (uint32_t i = 0; i < v->cfg->n_router; i++) {
		struct fh_cfg_router *r = &v->cfg->router[i];

		if (strcmp(r->hdr.name, "eigrp") != 0 && strcmp(r->hdr.name, "ospf") != 0 &&
		    strcmp(r->hdr.name, "bgp") != 0)
			NERR(v, &r->hdr, "router %s: expected eigrp, ospf or bgp", r->hdr.name);
		else if (strcmp(r->hdr.name, "ospf") != 0 && r->as == 0)
			NERR(v, &r->hdr, "router %s: needs an 'as' number", r->hdr.name);
		check_router(v, r, strcmp(r->hdr.name, "bgp") == 0);
	}
}

/* Where a memory error goes: the limits block, else the keys that size memory, if written. */
static struct fh_pos limits_pos(const struct fh_config *cfg)
{
	struct fh_pos p = cfg->limits.pos;

	if (p.line == 0)
		p = fh_posmap_get(cfg, &cfg->dataplane.memory_mb);
	if (p.line == 0)
		p = fh_posmap_get(cfg, &cfg->dataplane.mbufs);
	if (p.line == 0)
		p = (struct fh_pos){1, 1};
	return p;
}

/* eal-args that set EAL memory themselves make memory-mb unused (app/flexhub/eal.c). */
static bool eal_memory_overridden(const struct fh_config *cfg)
{
	for (uint32_t i = 0; i < cfg->dataplane.n_eal_args; i++) {
		const char *a = cfg->dataplane.eal_args[i];

		if (strncmp(a, "-m", 2) == 0 || strncmp(a, "--socket-mem", 12) == 0)
			return true;
	}
	return false;
}

static void check_limits_memory(struct vctx *v)
{
	const struct fh_config *cfg = v->cfg;
	struct fh_limits_share s[FH_LIMITS_SHARES_MAX];
	unsigned n = fh_limits_dp_shares(cfg, s, FH_LIMITS_SHARES_MAX), big = 0;
	uint64_t need = fh_limits_dp_bytes(cfg), mib = 1u << 20;
	uint64_t need_mb = (need + mib - 1) / mib + FH_LIMITS_EAL_RESERVE_MB;

	if (need_mb <= cfg->dataplane.memory_mb || eal_memory_overridden(cfg))
		return;
	for (unsigned i = 1; i < n; i++)
		if (s[i].key != NULL && (s[big].key == NULL || s[i].bytes > s[big].bytes))
			big = i;
	fh_cfg_error(v->errs, cfg->file, limits_pos(cfg),
		     "the data-plane limits need %llu MiB of EAL memory (%llu MiB of tables and mbufs + %u MiB for DPDK "
		     "itself) but dataplane.memory-mb is %u: raise memory-mb or lower %s (the largest share, %llu MiB)",
		     (unsigned long long)need_mb, (unsigned long long)(need_mb - FH_LIMITS_EAL_RESERVE_MB),
		     FH_LIMITS_EAL_RESERVE_MB, cfg->dataplane.memory_mb, s[big].key,
		     (unsigned long long)((s[big].bytes + mib - 1) / mib));
}

/* The config's own objects must fit the tables it asks for; the error points at the first one
 * that does not. */
static void check_limits_objects(struct vctx *v)
{
	const struct fh_config *cfg = v->cfg;
	const struct fh_cfg_limits *l = &cfg->limits;
	uint32_t tunnels = 0, routes = 0;

	if (cfg->n_iface > l->interfaces)
		NERR(v, &cfg->iface[l->interfaces].hdr,
		     "interface %s: the config has %u interfaces, more than limits.interfaces (%u); raise limits.interfaces",
		     cfg->iface[l->interfaces].hdr.name, cfg->n_iface, l->interfaces);
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		if (cfg->iface[i].kind != FH_IF_TUNNEL || ++tunnels != l->tunnels + 1)
			continue;
		NERR(v, &cfg->iface[i].hdr,
		     "interface %s: more tunnel interfaces than limits.tunnels (%u); raise limits.tunnels",
		     cfg->iface[i].hdr.name, l->tunnels);
	}
	if (cfg->n_static_sa > l->sa_pairs)
		NERR(v, &cfg->static_sa[l->sa_pairs].hdr,
		     "static-sa %s: the config has %u static SAs, more than limits.sa-pairs (%u); raise limits.sa-pairs",
		     cfg->static_sa[l->sa_pairs].hdr.name, cfg->n_static_sa, l->sa_pairs);
	/* the FIB order: two routes per interface address (subnet and /32) first, then ip route */
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		const struct fh_cfg_iface *f = &cfg->iface[i];

		if (!f->ip.present || f->ip.negotiated)
			continue;
		routes += 2;
		if (routes > l->routes && routes - 2 <= l->routes) {
			VERR(v, &f->ip, "interface %s: its address routes are past limits.routes (%u); raise limits.routes",
			     f->hdr.name, l->routes);
			return;
		}
	}
	for (uint32_t i = 0; i < cfg->n_route; i++)
		if (++routes == l->routes + 1) {
			VERR(v, &cfg->route[i], "ip route: route %u of the config (with two per interface address) is past "
			     "limits.routes (%u); raise limits.routes", routes, l->routes);
			break;
		}
	if (cfg->n_arp > l->neighbours)
		VERR(v, &cfg->arp[l->neighbours],
		     "arp: the config has %u static neighbours, more than limits.neighbours (%u); raise limits.neighbours",
		     cfg->n_arp, l->neighbours);
}

int fh_config_iface_find(const struct fh_config *cfg, const char *name)
{
	char canon[FH_NAME_MAX];
	uint8_t kind;
	uint32_t unit;

	if (!fh_iface_canon_name(name, canon, sizeof(canon), &kind, &unit))
		return -1;
	for (uint32_t i = 0; i < cfg->n_iface; i++)
		if (strcmp(cfg->iface[i].hdr.name, canon) == 0)
			return (int)i;
	return -1;
}

/* Keys an interface kind does not take; reported where they were written. */
static void reject_key(struct vctx *v, const struct fh_cfg_iface *f, const void *field, const char *key)
{
	if (given(v->cfg, field))
		VERR(v, field, "interface %s: '%s' does not apply to a %s interface", f->hdr.name, key,
		     fh_if_kind_name(f->kind));
}

static void check_iface_keys(struct vctx *v, struct fh_cfg_iface *f)
{
	bool tun = f->kind == FH_IF_TUNNEL || f->kind == FH_IF_VTEMPLATE;

	if (f->kind != FH_IF_PHYSICAL) {
		reject_key(v, f, f->device, "device");
		reject_key(v, f, &f->mtu, "mtu");
	} else if (f->device[0] == '\0') {
		NERR(v, &f->hdr, "interface %s: physical interfaces need a DPDK 'device'", f->hdr.name);
	}
	if (!tun) {
		reject_key(v, f, f->unnumbered, "ip-unnumbered");
		reject_key(v, f, &f->ip_mtu, "ip-mtu");
		reject_key(v, f, f->tunnel_source, "tunnel-source");
		reject_key(v, f, &f->tunnel_mode, "tunnel-mode");
		reject_key(v, f, &f->tunnel_key, "tunnel-key");
		reject_key(v, f, f->protection, "tunnel-protection");
		reject_key(v, f, &f->nhrp.network_id, "nhrp");
	}
	if (f->kind != FH_IF_TUNNEL)
		reject_key(v, f, &f->tunnel_destination, "tunnel-destination");
	if (f->kind != FH_IF_VTEMPLATE)
		reject_key(v, f, f->vt_type, "type");
	else if (f->vt_type[0] == '\0')
		strcpy(f->vt_type, "tunnel");
	else if (strcmp(f->vt_type, "tunnel") != 0)
		VERR(v, f->vt_type, "interface %s: only 'type tunnel' templates exist", f->hdr.name);
	if (f->ip.negotiated && f->kind != FH_IF_TUNNEL)
		VERR(v, &f->ip, "interface %s: only Tunnel interfaces take 'negotiated' addresses", f->hdr.name);
	if (f->ip.present && f->unnumbered[0] != '\0')
		VERR(v, f->unnumbered, "interface %s: give ip-address or ip-unnumbered, not both", f->hdr.name);
	if (f->kind == FH_IF_TUNNEL) {
		if (f->tunnel_source[0] == '\0')
			NERR(v, &f->hdr, "interface %s: needs tunnel-source", f->hdr.name);
		if (!f->has_destination)
			NERR(v, &f->hdr, "interface %s: needs tunnel-destination", f->hdr.name);
	}
	if (f->ip.present && !f->ip.negotiated && f->ip.pfx.len < 31) {
		uint32_t host = f->ip.pfx.addr & ~fh_prefix_mask(f->ip.pfx.len);

		if (host == 0 || host == ~fh_prefix_mask(f->ip.pfx.len))
			VERR(v, &f->ip, "interface %s: %s address of its subnet", f->hdr.name,
			     host == 0 ? "this is the network" : "this is the broadcast");
	}
}

static void check_iface_refs(struct vctx *v, struct fh_cfg_iface *f)
{
	struct fh_config *cfg = v->cfg;

	f->unnumbered_idx = f->source_idx = f->protection_idx = -1;
	if (f->unnumbered[0] != '\0') {
		int u = fh_config_iface_find(cfg, f->unnumbered);

		if (u < 0)
			VERR(v, f->unnumbered, "interface %s: unknown interface '%s'", f->hdr.name, f->unnumbered);
		else if (&cfg->iface[u] == f || !cfg->iface[u].ip.present)
			VERR(v, f->unnumbered, "interface %s: ip-unnumbered %s has no ip-address to borrow", f->hdr.name,
			     f->unnumbered);
		f->unnumbered_idx = u;
	}
	if (f->tunnel_source[0] != '\0') {
		uint32_t a;
		char err[64];

		f->source_idx = fh_config_iface_find(cfg, f->tunnel_source);
		if (f->source_idx < 0 && fh_parse_ipv4(f->tunnel_source, &a, err, sizeof(err)) < 0)
			VERR(v, f->tunnel_source, "interface %s: tunnel-source '%s' is neither an interface nor an address",
			     f->hdr.name, f->tunnel_source);
		else if (f->source_idx >= 0 && (cfg->iface[f->source_idx].kind == FH_IF_TUNNEL ||
						cfg->iface[f->source_idx].kind == FH_IF_VTEMPLATE))
			VERR(v, f->tunnel_source, "interface %s: tunnel-source must be a physical or loopback interface",
			     f->hdr.name);
	}
	if (f->protection[0] != '\0') {
		f->protection_idx = FIND(cfg, ipsec_profile, f->protection);
		if (f->protection_idx < 0)
			VERR(v, f->protection, "interface %s: unknown ipsec profile '%s'", f->hdr.name, f->protection);
	}
	if (f->nhrp.present && f->nhrp.shortcut_vtemplate != 0 && vtemplate_index(cfg, f->nhrp.shortcut_vtemplate) < 0)
		VERR(v, &f->nhrp.shortcut_vtemplate, "interface %s: interface Virtual-Template%u does not exist", f->hdr.name,
		     f->nhrp.shortcut_vtemplate);
}

static void check_ifaces(struct vctx *v)
{
	struct fh_config *cfg = v->cfg;

	/* names first: references below are resolved against canonical names */
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		struct fh_cfg_iface *f = &cfg->iface[i];
		char canon[FH_NAME_MAX];

		if (!fh_iface_canon_name(f->hdr.name, canon, sizeof(canon), &f->kind, &f->unit)) {
			NERR(v, &f->hdr, "interface '%s': expected GigabitEthernetN, LoopbackN, TunnelN or Virtual-TemplateN",
			     f->hdr.name);
			f->kind = 0xff;
			continue;
		}
		strcpy(f->hdr.name, canon);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(cfg->iface[j].hdr.name, canon) == 0)
				NERR(v, &f->hdr, "interface %s is defined twice (first at line %u)", canon,
				     cfg->iface[j].hdr.pos.line);
	}
	for (uint32_t i = 0; i < cfg->n_iface; i++) {
		struct fh_cfg_iface *f = &cfg->iface[i];

		if (f->kind == 0xff)
			continue;
		check_iface_keys(v, f);
		check_iface_refs(v, f);
		for (uint32_t j = 0; j < i; j++) {
			const struct fh_cfg_iface *g = &cfg->iface[j];
			uint8_t len;

			if (f->device[0] != '\0' && strcmp(f->device, g->device) == 0)
				VERR(v, f->device, "interface %s: device is already used by %s", f->hdr.name, g->hdr.name);
			if (!f->ip.present || f->ip.negotiated || !g->ip.present || g->ip.negotiated)
				continue;
			len = f->ip.pfx.len < g->ip.pfx.len ? f->ip.pfx.len : g->ip.pfx.len;
			if (((f->ip.pfx.addr ^ g->ip.pfx.addr) & fh_prefix_mask(len)) == 0)
				VERR(v, &f->ip, "interface %s: address overlaps %s", f->hdr.name, g->hdr.name);
		}
	}
}

void fh_config_validate(struct fh_config *cfg, struct fh_cfg_errs *errs)
{
	struct vctx v = {cfg, errs};

	check_ifaces(&v);
	check_debug(&v);
	if (cfg->ike_frag_mtu != 0 && cfg->ike_frag_mtu < 200)
		VERR(&v, &cfg->ike_frag_mtu, "crypto ikev2 fragmentation-mtu %u: 0 (off) or 200 to 9000", cfg->ike_frag_mtu);
	check_proposals(&v);
	check_policies(&v);
	check_keyrings(&v);
	check_profiles(&v);
	check_authz(&v);
	check_ipsec(&v);
	check_static_sas(&v);
	check_aaa(&v);
	check_pools(&v);
	check_routes(&v);
	check_arp(&v);
	check_routers(&v);
	check_limits_objects(&v);
	check_limits_memory(&v);
}
