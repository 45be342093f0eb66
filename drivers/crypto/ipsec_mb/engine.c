/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intel IPsec-MB engine: jobs submitted per burst to a per-lcore multi-buffer manager, which
 * interleaves several packets' AES and SHA rounds; the best code path (AVX-512, AVX2, SSE) is
 * picked once at lcore_create().
 */
#include <string.h>

#include <intel-ipsec-mb.h>

#include "fh_config.h"
#include "fh_crypto.h"

/*
 * Laid out in the order one op reads it, so that a worker prefetching the first sess_hot bytes of
 * a cold SA gets what this op needs: the scalars, then the HMAC states and the round keys of the
 * session's own direction (CBC), or the GCM key data.
 */
struct mb_sess {
	uint8_t salt[4];
	uint8_t encr;
	uint8_t integ;
	uint8_t key_len;
	uint8_t icv_len;
	uint8_t dec_first;      /* key holds the decryption round keys (an inbound session) */
	uint8_t opad_off;       /* the outer state's offset in pads: 32, or 64 for SHA-384/512 */
	IMB_CIPHER_MODE mode;
	IMB_HASH_ALG hash;
	union {
		struct {
			/* expanded AES keys, 15 round keys of 16 bytes for AES-256: this session's
			 * direction's first, the other direction's (tests use a session both ways)
			 * after the HMAC states */
			uint8_t key[16 * 15] __attribute__((aligned(16)));
			/* HMAC inner and outer states after the first block (key xor ipad/opad),
			 * back to back: SHA-1's and SHA-256's take 64 bytes */
			uint8_t pads[128] __attribute__((aligned(16)));
			uint8_t key_other[16 * 15] __attribute__((aligned(16)));
		} cbc;
		struct gcm_key_data gcm;
	} k __attribute__((aligned(64)));
};

/* One op reads the scalar line, then its round keys and the HMAC states (CBC with SHA-1 or
 * SHA-256: 64 + 240 + 64 bytes, six lines), or the GCM round keys and the first hash-key powers. */
#define MB_SESS_HOT 384


/* The round keys of one direction (encrypt: true). */
static inline const uint8_t *mb_keys(const struct mb_sess *s, bool enc)
{
	return enc != (s->dec_first != 0) ? s->k.cbc.key : s->k.cbc.key_other;
}

static void *mb_lcore_create(void)
{
	IMB_MGR *mb = alloc_mb_mgr(0);

	if (mb == NULL)
		return NULL;
	init_mb_mgr_auto(mb, NULL);
	if (imb_get_errno(mb) != 0) {
		free_mb_mgr(mb);
		return NULL;
	}
	return mb;
}

static void mb_lcore_free(void *lctx)
{
	if (lctx != NULL)
		free_mb_mgr(lctx);
}

/* HMAC precompute (RFC 2104): one compression of key^ipad and key^opad from the initial state. */
static int hmac_pads(IMB_MGR *mb, struct mb_sess *s, const uint8_t *key, uint32_t len)
{
	uint32_t block = (s->integ == FH_INTEG_SHA384_192 || s->integ == FH_INTEG_SHA512_256) ? 128 : 64;

	s->opad_off = (uint8_t)(block / 2); /* a state is at most 32 bytes with a 64-byte block, 64 with 128 */
	uint8_t ib[128], ob[128];

	/* keys longer than a block would first be hashed; IKE and our configs never make those */
	if (len > block)
		return -1;
	memset(ib, 0x36, block);
	memset(ob, 0x5c, block);
	for (uint32_t i = 0; i < len; i++) {
		ib[i] ^= key[i];
		ob[i] ^= key[i];
	}
	switch (s->integ) {
	case FH_INTEG_SHA1_96:
		IMB_SHA1_ONE_BLOCK(mb, ib, s->k.cbc.pads);
		IMB_SHA1_ONE_BLOCK(mb, ob, s->k.cbc.pads + s->opad_off);
		break;
	case FH_INTEG_SHA256_128:
		IMB_SHA256_ONE_BLOCK(mb, ib, s->k.cbc.pads);
		IMB_SHA256_ONE_BLOCK(mb, ob, s->k.cbc.pads + s->opad_off);
		break;
	case FH_INTEG_SHA384_192:
		IMB_SHA384_ONE_BLOCK(mb, ib, s->k.cbc.pads);
		IMB_SHA384_ONE_BLOCK(mb, ob, s->k.cbc.pads + s->opad_off);
		break;
	case FH_INTEG_SHA512_256:
		IMB_SHA512_ONE_BLOCK(mb, ib, s->k.cbc.pads);
		IMB_SHA512_ONE_BLOCK(mb, ob, s->k.cbc.pads + s->opad_off);
		break;
	default:
		return -1;
	}
	memset(ib, 0, sizeof(ib));
	memset(ob, 0, sizeof(ob));
	return 0;
}

/*
 * The manager key setup runs on: one for the process, made at the first session. Sessions are
 * made on the control lcore only (and by single-threaded tests), so it needs no lock; making one
 * per session ran IPsec-MB's self-tests every time and capped SA installs at ~8,000 a second.
 */
static IMB_MGR *setup_mgr(void)
{
	static IMB_MGR *mb;

	if (mb == NULL)
		mb = mb_lcore_create();
	return mb;
}

static int mb_sess_init(void *sp, const struct fh_crypto_xform *x, enum fh_crypto_dir dir)
{
	struct mb_sess *s = sp;
	IMB_MGR *mb = setup_mgr();
	uint8_t *ek, *dk;
	int rc = 0;

	if (mb == NULL)
		return -1;
	memset(s, 0, sizeof(*s));
	s->dec_first = dir == FH_CRYPTO_DECRYPT;
	ek = s->dec_first ? s->k.cbc.key_other : s->k.cbc.key;
	dk = s->dec_first ? s->k.cbc.key : s->k.cbc.key_other;
	s->encr = x->encr;
	s->integ = x->integ;
	s->icv_len = (uint8_t)fh_crypto_icv_len(x->encr, x->integ);
	switch (x->encr) {
	case FH_ENCR_AES_CBC_128:
	case FH_ENCR_AES_CBC_192:
	case FH_ENCR_AES_CBC_256:
		s->mode = IMB_CIPHER_CBC;
		s->key_len = (uint8_t)x->enc_key_len;
		if (x->enc_key_len == 16)
			IMB_AES_KEYEXP_128(mb, x->enc_key, ek, dk);
		else if (x->enc_key_len == 24)
			IMB_AES_KEYEXP_192(mb, x->enc_key, ek, dk);
		else if (x->enc_key_len == 32)
			IMB_AES_KEYEXP_256(mb, x->enc_key, ek, dk);
		else
			rc = -1;
		break;
	case FH_ENCR_AES_GCM_128:
	case FH_ENCR_AES_GCM_256:
		s->mode = IMB_CIPHER_GCM;
		s->hash = IMB_AUTH_AES_GMAC;
		s->key_len = (uint8_t)(x->enc_key_len - 4);
		if (x->enc_key_len == 20)
			IMB_AES128_GCM_PRE(mb, x->enc_key, &s->k.gcm);
		else if (x->enc_key_len == 36)
			IMB_AES256_GCM_PRE(mb, x->enc_key, &s->k.gcm);
		else
			rc = -1;
		if (rc == 0)
			memcpy(s->salt, x->enc_key + x->enc_key_len - 4, 4);
		break;
	case FH_ENCR_NULL:
		s->mode = IMB_CIPHER_NULL;
		break;
	default:
		rc = -1;
	}
	if (rc == 0 && s->mode != IMB_CIPHER_GCM) {
		static const IMB_HASH_ALG algs[] = {IMB_AUTH_NULL, IMB_AUTH_HMAC_SHA_1, IMB_AUTH_HMAC_SHA_256,
						    IMB_AUTH_HMAC_SHA_384, IMB_AUTH_HMAC_SHA_512};

		if (x->integ >= sizeof(algs) / sizeof(algs[0]))
			rc = -1;
		else
			s->hash = algs[x->integ];
		if (rc == 0 && x->integ != FH_INTEG_NONE)
			rc = hmac_pads(mb, s, x->auth_key, x->auth_key_len);
	}
	if (rc != 0)
		memset(s, 0, sizeof(*s));
	return rc;
}

static void mb_sess_clear(void *s)
{
	memset(s, 0, sizeof(struct mb_sess));
}

static void fill_job(IMB_JOB *job, struct fh_crypto_op *op, enum fh_crypto_dir dir)
{
	const struct mb_sess *s = op->sess;

	job->cipher_direction = dir == FH_CRYPTO_ENCRYPT ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = dir == FH_CRYPTO_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->cipher_mode = s->mode;
	job->hash_alg = s->hash;
	job->key_len_in_bytes = s->key_len;
	job->src = op->cipher;
	job->dst = op->cipher;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = op->cipher_len;
	job->auth_tag_output = op->icv;
	job->auth_tag_output_len_in_bytes = s->icv_len;
	job->user_data = op;
	if (s->mode == IMB_CIPHER_GCM) {
		memcpy(op->nonce, s->salt, 4);
		memcpy(op->nonce + 4, op->iv, 8);
		job->enc_keys = &s->k.gcm;
		job->dec_keys = &s->k.gcm;
		job->iv = op->nonce;
		job->iv_len_in_bytes = 12;
		job->u.GCM.aad = op->aad;
		job->u.GCM.aad_len_in_bytes = op->aad_len;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = op->cipher_len;
		return;
	}
	job->enc_keys = mb_keys(s, true);
	job->dec_keys = mb_keys(s, false);
	job->iv = op->iv;
	job->iv_len_in_bytes = s->mode == IMB_CIPHER_CBC ? 16 : 0;
	if (s->hash == IMB_AUTH_NULL) {
		job->auth_tag_output_len_in_bytes = 0;
		return;
	}
	/* the hash runs over its own region: give IPsec-MB that region as the source, the cipher
	 * region as an offset into it (ESP: header and IV come first) */
	job->src = op->auth;
	job->dst = op->cipher;
	job->cipher_start_src_offset_in_bytes = (uint64_t)(op->cipher - op->auth);
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->auth_len;
	job->u.HMAC._hashed_auth_key_xor_ipad = s->k.cbc.pads;
	job->u.HMAC._hashed_auth_key_xor_opad = s->k.cbc.pads + s->opad_off;
}

static int job_done(const IMB_JOB *job, enum fh_crypto_dir dir)
{
	struct fh_crypto_op *op = job->user_data;
	const struct mb_sess *s = op->sess;

	if (job->status != IMB_STATUS_COMPLETED)
		op->status = FH_CRYPTO_ERROR;
	else if (dir == FH_CRYPTO_DECRYPT && s->icv_len != 0 && !fh_crypto_icv_equal(op->icv, op->icv_expected, s->icv_len))
		op->status = FH_CRYPTO_AUTH_FAILED;
	else
		op->status = FH_CRYPTO_OK;
	return op->status == FH_CRYPTO_OK;
}

static uint16_t mb_process(void *lctx, enum fh_crypto_dir dir, struct fh_crypto_op *ops, uint16_t n)
{
	IMB_MGR *mb = lctx;
	uint16_t ok = 0;
	IMB_JOB *job;

	for (uint16_t i = 0; i < n; i++) {
		job = IMB_GET_NEXT_JOB(mb);
		fill_job(job, &ops[i], dir);
		job = IMB_SUBMIT_JOB(mb);
		while (job != NULL) {
			ok += (uint16_t)job_done(job, dir);
			job = IMB_GET_COMPLETED_JOB(mb);
		}
	}
	while ((job = IMB_FLUSH_JOB(mb)) != NULL)
		ok += (uint16_t)job_done(job, dir);
	return ok;
}

const struct fh_crypto_engine fh_crypto_ipsec_mb = {
	.name = "ipsec-mb",
	.sess_size = sizeof(struct mb_sess),
	.sess_hot = MB_SESS_HOT,
	.sess_init = mb_sess_init,
	.sess_clear = mb_sess_clear,
	.lcore_create = mb_lcore_create,
	.lcore_free = mb_lcore_free,
	.process = mb_process,
};
