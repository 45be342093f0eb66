/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "fh_config.h"
#include "fh_crypto.h"

const struct fh_crypto_engine *fh_crypto_engine_get(const char *name)
{
	if (strcmp(name, fh_crypto_ipsec_mb.name) == 0)
		return &fh_crypto_ipsec_mb;
	if (strcmp(name, fh_crypto_openssl.name) == 0)
		return &fh_crypto_openssl;
	return NULL;
}

bool fh_crypto_is_aead(uint8_t encr)
{
	return encr == FH_ENCR_AES_GCM_128 || encr == FH_ENCR_AES_GCM_256;
}

uint32_t fh_crypto_icv_len(uint8_t encr, uint8_t integ)
{
	/* RFC 4106: 16-byte tag; RFC 2404 SHA1-96: 12; RFC 4868: half the digest */
	static const uint32_t hmac[] = {0, 12, 16, 24, 32};

	if (fh_crypto_is_aead(encr))
		return 16;
	return integ < 5 ? hmac[integ] : 0;
}

uint32_t fh_crypto_iv_len(uint8_t encr)
{
	if (fh_crypto_is_aead(encr))
		return 8; /* RFC 4106 3.1: explicit 8-byte IV */
	return encr == FH_ENCR_NULL ? 0 : 16;
}

uint32_t fh_crypto_block_len(uint8_t encr)
{
	/* ESP pads to the cipher block, and always to 4 bytes (RFC 4303 2.4) */
	if (fh_crypto_is_aead(encr) || encr == FH_ENCR_NULL)
		return 4;
	return 16;
}
