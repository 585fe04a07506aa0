/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IPsec-MB driver, control path: managers, and per SA the key schedules,
 * HMAC pads and job template the data path (ipsec_mb.c) uses as they are.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "ipsec_mb_priv.h"

/* RXSEC_IMB_ARCH=sse|avx|avx2|avx512 forces a code path (tests, benches);
 * unset or empty, the best the CPU has (AVX512 with VAES where present).
 * RXSEC_GCM_VAES=0 keeps short AES-GCM packets with IPsec-MB, 1 (the
 * default) lets gcm_vaes.c take them where the CPU can. */
static const struct {
	const char *name;
	void (*init)(IMB_MGR *mgr);
} mb_archs[] = {
	{ "sse", init_mb_mgr_sse },
	{ "avx", init_mb_mgr_avx },
	{ "avx2", init_mb_mgr_avx2 },
	{ "avx512", init_mb_mgr_avx512 },
};

/* RXSEC_IMB_ARCH's entry in mb_archs, or -1: unset, empty or unknown. */
static int
mb_arch_forced(void)
{
	const char *a = getenv("RXSEC_IMB_ARCH");

	for (unsigned int i = 0; a != NULL && i < RTE_DIM(mb_archs); i++)
		if (strcmp(a, mb_archs[i].name) == 0)
			return (int)i;
	return -1;
}

int
rxsec_mb_check_env(char *why, size_t whylen)
{
	const char *a = getenv("RXSEC_IMB_ARCH"), *v = getenv("RXSEC_GCM_VAES");

	if (a != NULL && *a != '\0' && mb_arch_forced() < 0) {
		snprintf(why, whylen, "RXSEC_IMB_ARCH='%s': expected sse, avx, avx2 or avx512 "
			 "(unset: the best the CPU has)", a);
		return -EINVAL;
	}
	if (v != NULL && strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
		snprintf(why, whylen, "RXSEC_GCM_VAES='%s': expected 0 or 1", v);
		return -EINVAL;
	}
	return 0;
}

static void
mb_mgr_init(IMB_MGR *mgr)
{
	int i = mb_arch_forced();	/* an unknown name was refused by check_env */

	if (i >= 0)
		mb_archs[i].init(mgr);
	else
		init_mb_mgr_auto(mgr, NULL);
}

static IMB_MGR *
mb_mgr_create(void)
{
	IMB_MGR *mgr = alloc_mb_mgr(0);

	if (mgr == NULL)
		return NULL;
	mb_mgr_init(mgr);
	if (imb_get_errno(mgr) != 0) {
		free_mb_mgr(mgr);
		return NULL;
	}
	return mgr;
}

/* Key expansion needs a manager of the same architecture as the lcores'
 * (GCM key data layout differs between SSE/AVX and VAES code). */
static IMB_MGR *mb_key_mgr;
static pthread_once_t mb_key_once = PTHREAD_ONCE_INIT;

bool rxsec_mb_vaes;

static bool
mb_vaes_wanted(void)
{
	const char *a = getenv("RXSEC_IMB_ARCH"), *v = getenv("RXSEC_GCM_VAES");

	if (a != NULL && *a != '\0' && strcmp(a, "avx512") != 0)
		return false;
	if (v != NULL && strcmp(v, "0") == 0)
		return false;
	return rxsec_gcm_vaes_cpu_ok();
}

/* Also run by the first lcore context: the data path reads rxsec_mb_vaes. */
static void
mb_key_mgr_init(void)
{
	mb_key_mgr = mb_mgr_create();
	rxsec_mb_vaes = mb_vaes_wanted();
}

static int __attribute__((format(printf, 4, 5)))
mb_fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

struct mb_hmac_info {
	IMB_HASH_ALG alg;
	unsigned int block;	/* HMAC block size B (RFC 2104) */
	unsigned int tag_short;	/* shortest tag the library writes */
};

static const struct mb_hmac_info mb_hmac[RXSEC_AUTH_MAX] = {
	[RXSEC_AUTH_HMAC_MD5] = { IMB_AUTH_MD5, 64, 12 },
	[RXSEC_AUTH_HMAC_SHA1] = { IMB_AUTH_HMAC_SHA_1, 64, 12 },
	[RXSEC_AUTH_HMAC_SHA256] = { IMB_AUTH_HMAC_SHA_256, 64, 16 },
	[RXSEC_AUTH_HMAC_SHA384] = { IMB_AUTH_HMAC_SHA_384, 128, 24 },
	[RXSEC_AUTH_HMAC_SHA512] = { IMB_AUTH_HMAC_SHA_512, 128, 32 },
};

static void
mb_hash_block(IMB_MGR *m, enum rxsec_auth_alg a, const uint8_t *blk,
	      uint8_t *out)
{
	switch (a) {
	case RXSEC_AUTH_HMAC_MD5:
		IMB_MD5_ONE_BLOCK(m, blk, out);
		break;
	case RXSEC_AUTH_HMAC_SHA1:
		IMB_SHA1_ONE_BLOCK(m, blk, out);
		break;
	case RXSEC_AUTH_HMAC_SHA256:
		IMB_SHA256_ONE_BLOCK(m, blk, out);
		break;
	case RXSEC_AUTH_HMAC_SHA384:
		IMB_SHA384_ONE_BLOCK(m, blk, out);
		break;
	default:
		IMB_SHA512_ONE_BLOCK(m, blk, out);
		break;
	}
}

/* RFC 2104: keys longer than B are hashed first. MD5 has no one-shot API
 * in IPsec-MB 1.3; such keys are refused by the caller. */
static void
mb_hash_key(IMB_MGR *m, enum rxsec_auth_alg a, const uint8_t *key,
	    unsigned int len, uint8_t *out)
{
	switch (a) {
	case RXSEC_AUTH_HMAC_SHA1:
		IMB_SHA1(m, key, len, out);
		break;
	case RXSEC_AUTH_HMAC_SHA256:
		IMB_SHA256(m, key, len, out);
		break;
	case RXSEC_AUTH_HMAC_SHA384:
		IMB_SHA384(m, key, len, out);
		break;
	default:
		IMB_SHA512(m, key, len, out);
		break;
	}
}

static int
mb_setup_hmac(IMB_MGR *m, const struct rxsec_sa_config *c,
	      struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	const struct mb_hmac_info *h = &mb_hmac[c->auth];
	const char *name = rxsec_auth_alg_name(c->auth);
	unsigned int digest = rxsec_auth_full_len(c->auth);
	uint8_t k[128] = { 0 }, blk[128];
	unsigned int i;

	if (c->auth_key_len == 0)
		return mb_fail(why, whylen, -EINVAL, "%s: empty key", name);
	if (c->auth_key_len > h->block) {
		if (c->auth == RXSEC_AUTH_HMAC_MD5)
			return mb_fail(why, whylen, -ENOTSUP,
				       "%s: keys longer than 64 bytes are not supported (got %u)",
				       name, c->auth_key_len);
		mb_hash_key(m, c->auth, c->auth_key, c->auth_key_len, k);
	} else {
		memcpy(k, c->auth_key, c->auth_key_len);
	}
	if (c->icv_len < 4 || c->icv_len > digest)
		return mb_fail(why, whylen, -EINVAL,
			       "%s: ICV length %u bytes not in 4..digest size",
			       name, c->icv_len);
	for (i = 0; i < h->block; i++)
		blk[i] = k[i] ^ 0x36;
	mb_hash_block(m, c->auth, blk, csa->ipad);
	for (i = 0; i < h->block; i++)
		blk[i] = k[i] ^ 0x5c;
	mb_hash_block(m, c->auth, blk, csa->opad);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(blk, sizeof(blk));

	csa->tmpl.hash_alg = h->alg;
	csa->tmpl.u.HMAC._hashed_auth_key_xor_ipad = csa->ipad;
	csa->tmpl.u.HMAC._hashed_auth_key_xor_opad = csa->opad;
	/* The library writes only a few tag lengths; ask for the shortest
	 * that covers the ICV and compare the ICV's leading bytes. */
	csa->tmpl.auth_tag_output_len_in_bytes =
		c->icv_len <= h->tag_short ? h->tag_short : digest;
	csa->icv_len = c->icv_len;
	return 0;
}

/* RFC 4494: AES-CMAC with a 128-bit key, its ICV the MAC's first 96 bits
 * (Linux takes auth-trunc 128, the whole MAC, too). */
static int
mb_setup_cmac(IMB_MGR *m, const struct rxsec_sa_config *c, struct rxsec_crypto_sa *csa,
	      char *why, size_t whylen)
{
	const char *name = rxsec_auth_alg_name(c->auth);
	uint8_t dec[16 * 11] __attribute__((aligned(16)));

	if (c->auth_key_len != 16)
		return mb_fail(why, whylen, -EINVAL, "%s: key must be 16 bytes (got %u)",
			       name, c->auth_key_len);
	if (c->icv_len != 12 && c->icv_len != 16)
		return mb_fail(why, whylen, -EINVAL, "%s: ICV must be 12 or 16 bytes (got %u)",
			       name, c->icv_len);
	IMB_AES_KEYEXP_128(m, c->auth_key, csa->cmac_keys, dec);
	explicit_bzero(dec, sizeof(dec));
	IMB_AES_CMAC_SUBKEY_GEN_128(m, csa->cmac_keys, csa->cmac_sk1, csa->cmac_sk2);
	csa->tmpl.hash_alg = IMB_AUTH_AES_CMAC;
	csa->tmpl.u.CMAC._key_expanded = csa->cmac_keys;
	csa->tmpl.u.CMAC._skey1 = csa->cmac_sk1;
	csa->tmpl.u.CMAC._skey2 = csa->cmac_sk2;
	csa->tmpl.auth_tag_output_len_in_bytes = c->icv_len;
	csa->icv_len = c->icv_len;
	return 0;
}

static int
mb_setup_auth(IMB_MGR *m, const struct rxsec_sa_config *c,
	      struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	const char *name = rxsec_auth_alg_name(c->auth);

	switch (c->auth) {
	case RXSEC_AUTH_NONE:
		csa->tmpl.hash_alg = IMB_AUTH_NULL;
		csa->icv_len = 0;
		if (c->icv_len != 0)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: ICV length %u without an integrity algorithm",
				       name, c->icv_len);
		return 0;
	case RXSEC_AUTH_HMAC_MD5:
	case RXSEC_AUTH_HMAC_SHA1:
	case RXSEC_AUTH_HMAC_SHA256:
	case RXSEC_AUTH_HMAC_SHA384:
	case RXSEC_AUTH_HMAC_SHA512:
		return mb_setup_hmac(m, c, csa, why, whylen);
	case RXSEC_AUTH_AES_XCBC:
		/* RFC 3566 section 2.1: 128-bit key, 96-bit ICV. */
		if (c->auth_key_len != 16)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: key must be 16 bytes (got %u)",
				       name, c->auth_key_len);
		if (c->icv_len != 12)
			return mb_fail(why, whylen, -ENOTSUP,
				       "%s: only the 12-byte ICV of RFC 3566 is supported (got %u)",
				       name, c->icv_len);
		IMB_AES_XCBC_KEYEXP(m, c->auth_key, csa->xcbc_k1,
				    csa->xcbc_k2, csa->xcbc_k3);
		csa->tmpl.hash_alg = IMB_AUTH_AES_XCBC;
		csa->tmpl.u.XCBC._k1_expanded = csa->xcbc_k1;
		csa->tmpl.u.XCBC._k2 = csa->xcbc_k2;
		csa->tmpl.u.XCBC._k3 = csa->xcbc_k3;
		csa->tmpl.auth_tag_output_len_in_bytes = 12;
		csa->icv_len = 12;
		return 0;
	case RXSEC_AUTH_AES_CMAC:
		return mb_setup_cmac(m, c, csa, why, whylen);
	default:
		return mb_fail(why, whylen, -ENOTSUP,
			       "auth algorithm %s not supported", name);
	}
}

/* AES key (without salt/nonce) of 16, 24 or 32 bytes. */
static int
mb_aes_keylen(const struct rxsec_sa_config *c, unsigned int extra,
	      char *why, size_t whylen)
{
	unsigned int k = c->cipher_key_len;

	if (k < extra || (k - extra != 16 && k - extra != 24 && k - extra != 32))
		return mb_fail(why, whylen, -EINVAL,
			       "%s: key length %u bytes invalid",
			       rxsec_cipher_alg_name(c->cipher), k);
	return (int)(k - extra);
}

static void
mb_aes_keyexp(IMB_MGR *m, const uint8_t *key, int klen,
	      struct rxsec_crypto_sa *csa)
{
	if (klen == 16)
		IMB_AES_KEYEXP_128(m, key, csa->aes_enc, csa->aes_dec);
	else if (klen == 24)
		IMB_AES_KEYEXP_192(m, key, csa->aes_enc, csa->aes_dec);
	else
		IMB_AES_KEYEXP_256(m, key, csa->aes_enc, csa->aes_dec);
}

static void
mb_gcm_pre(IMB_MGR *m, const uint8_t *key, int klen,
	   struct rxsec_crypto_sa *csa)
{
	if (klen == 16)
		IMB_AES128_GCM_PRE(m, key, &csa->gcm);
	else if (klen == 24)
		IMB_AES192_GCM_PRE(m, key, &csa->gcm);
	else
		IMB_AES256_GCM_PRE(m, key, &csa->gcm);
}

/* RFC 4309: AES-CCM with an 11-byte nonce (3-byte salt || IV) and an 8,
 * 12 or 16-byte ICV. IPsec-MB 1.3 has CCM for 128 and 256-bit keys only. */
static int
mb_setup_ccm(IMB_MGR *m, const struct rxsec_sa_config *c, struct rxsec_crypto_sa *csa,
	     int klen, char *why, size_t whylen)
{
	const char *name = rxsec_cipher_alg_name(c->cipher);
	IMB_JOB *t = &csa->tmpl;

	if (klen == 24)
		return mb_fail(why, whylen, -ENOTSUP,
			       "%s: 192-bit AES keys are not supported (IPsec-MB 1.3 has CCM "
			       "for 128 and 256-bit keys: 19 or 35 key bytes)", name);
	if (c->icv_len != 8 && c->icv_len != 12 && c->icv_len != 16)
		return mb_fail(why, whylen, -EINVAL,
			       "%s: ICV must be 8, 12 or 16 bytes (got %u)", name, c->icv_len);
	mb_aes_keyexp(m, c->cipher_key, klen, csa);
	csa->aead = MB_AEAD_CCM;
	t->cipher_mode = IMB_CIPHER_CCM;
	t->hash_alg = IMB_AUTH_AES_CCM;
	/* CCM's MAC covers the plaintext: decrypt first, then authenticate */
	t->chain_order = IMB_ORDER_CIPHER_HASH;
	t->enc_keys = csa->aes_enc;	/* CCM runs AES forward only */
	t->dec_keys = csa->aes_enc;
	t->key_len_in_bytes = klen;
	t->iv_len_in_bytes = MB_CCM_SALT_LEN + 8;
	t->u.CCM.aad_len_in_bytes = c->esn ? 12 : 8;
	csa->prep = c->esn ? rxsec_mb_prep_esp_aead_esn : rxsec_mb_prep_esp_aead;
	return 0;
}

static int
mb_setup_aead(IMB_MGR *m, const struct rxsec_sa_config *c,
	      struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	const char *name = rxsec_cipher_alg_name(c->cipher);
	IMB_JOB *t = &csa->tmpl;
	int klen;

	if (c->auth != RXSEC_AUTH_NONE)
		return mb_fail(why, whylen, -EINVAL,
			       "%s is an AEAD; no separate auth allowed (got %s)",
			       name, rxsec_auth_alg_name(c->auth));
	csa->salt_len = c->cipher == RXSEC_CIPHER_AES_CCM ? MB_CCM_SALT_LEN : MB_SALT_LEN;
	if (c->cipher == RXSEC_CIPHER_CHACHA20_POLY1305) {
		klen = 32;
		if (c->cipher_key_len != 32 + MB_SALT_LEN)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: key must be 36 bytes (32 + 4 salt), got %u",
				       name, c->cipher_key_len);
	} else {
		klen = mb_aes_keylen(c, csa->salt_len, why, whylen);
		if (klen < 0)
			return klen;
	}
	memcpy(csa->salt, c->cipher_key + klen, csa->salt_len);
	csa->icv_len = c->icv_len;
	t->auth_tag_output_len_in_bytes = c->icv_len;

	switch (c->cipher) {
	case RXSEC_CIPHER_AES_CCM:
		return mb_setup_ccm(m, c, csa, klen, why, whylen);
	case RXSEC_CIPHER_AES_GCM:
		/* RFC 4106 section 6: 8, 12 or 16 byte ICV */
		if (c->icv_len != 8 && c->icv_len != 12 && c->icv_len != 16)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: ICV must be 8, 12 or 16 bytes (got %u)",
				       name, c->icv_len);
		mb_gcm_pre(m, c->cipher_key, klen, csa);
		t->cipher_mode = IMB_CIPHER_GCM;
		t->hash_alg = IMB_AUTH_AES_GMAC;
		t->enc_keys = &csa->gcm;
		t->dec_keys = &csa->gcm;
		t->key_len_in_bytes = klen;
		t->iv_len_in_bytes = 12;
		t->u.GCM.aad_len_in_bytes = c->esn ? 12 : 8;
		csa->prep = c->esn ? rxsec_mb_prep_esp_aead_esn : rxsec_mb_prep_esp_aead;
		csa->esn = c->esn;
		csa->gcm_dec = klen == 16 ? m->gcm128_dec :
			klen == 24 ? m->gcm192_dec : m->gcm256_dec;
		if (rxsec_mb_vaes) {
			mb_aes_keyexp(m, c->cipher_key, klen, csa);
			rxsec_gcm_vaes_key_init(&csa->vgcm, csa->aes_enc, 6 + klen / 4, csa->salt,
						c->icv_len, c->esn);
		}
		break;
	case RXSEC_CIPHER_AES_GMAC:
		/* RFC 4543 section 3.4 (via 4106): 16-byte ICV */
		if (c->icv_len != 16)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: ICV must be 16 bytes (got %u)",
				       name, c->icv_len);
		mb_gcm_pre(m, c->cipher_key, klen, csa);
		t->cipher_mode = IMB_CIPHER_NULL;
		t->hash_alg = klen == 16 ? IMB_AUTH_AES_GMAC_128 :
			      klen == 24 ? IMB_AUTH_AES_GMAC_192 :
					   IMB_AUTH_AES_GMAC_256;
		t->u.GMAC._key = &csa->gcm;
		t->u.GMAC.iv_len_in_bytes = 12;
		csa->prep = c->esn ? rxsec_mb_prep_esp_gmac_esn : rxsec_mb_prep_esp_gmac;
		break;
	default:	/* ChaCha20-Poly1305, RFC 7634 section 2: 16-byte ICV */
		if (c->icv_len != 16)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: ICV must be 16 bytes (got %u)",
				       name, c->icv_len);
		memcpy(csa->chacha_key, c->cipher_key, 32);
		csa->aead = MB_AEAD_CHACHA;
		t->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
		t->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
		t->enc_keys = csa->chacha_key;
		t->dec_keys = csa->chacha_key;
		t->key_len_in_bytes = 32;
		t->iv_len_in_bytes = 12;
		t->u.CHACHA20_POLY1305.aad_len_in_bytes = c->esn ? 12 : 8;
		csa->prep = c->esn ? rxsec_mb_prep_esp_aead_esn : rxsec_mb_prep_esp_aead;
		break;
	}
	return 0;
}

static int
mb_setup_cipher(IMB_MGR *m, const struct rxsec_sa_config *c,
		struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	const char *name = rxsec_cipher_alg_name(c->cipher);
	IMB_JOB *t = &csa->tmpl;
	int klen, i;

	csa->iv_len = rxsec_crypto_iv_len(c->cipher);
	t->iv_len_in_bytes = csa->iv_len;
	switch (c->cipher) {
	case RXSEC_CIPHER_NULL:
		t->cipher_mode = IMB_CIPHER_NULL;
		return 0;
	case RXSEC_CIPHER_AES_CBC:
		klen = mb_aes_keylen(c, 0, why, whylen);
		if (klen < 0)
			return klen;
		mb_aes_keyexp(m, c->cipher_key, klen, csa);
		t->cipher_mode = IMB_CIPHER_CBC;
		t->enc_keys = csa->aes_enc;
		t->dec_keys = csa->aes_dec;
		t->key_len_in_bytes = klen;
		return 0;
	case RXSEC_CIPHER_AES_CTR:
		klen = mb_aes_keylen(c, MB_SALT_LEN, why, whylen);
		if (klen < 0)
			return klen;
		mb_aes_keyexp(m, c->cipher_key, klen, csa);
		memcpy(csa->salt, c->cipher_key + klen, MB_SALT_LEN);
		csa->ctr = true;
		t->cipher_mode = IMB_CIPHER_CNTR;
		t->enc_keys = csa->aes_enc;
		t->dec_keys = csa->aes_enc;
		t->key_len_in_bytes = klen;
		t->iv_len_in_bytes = 12;
		return 0;
	case RXSEC_CIPHER_DES_CBC:
	case RXSEC_CIPHER_3DES_CBC:
		klen = c->cipher == RXSEC_CIPHER_DES_CBC ? 8 : 24;
		if (c->cipher_key_len != klen)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: key must be %u bytes", name,
				       (unsigned int)klen);
		for (i = 0; i < klen / 8; i++) {
			IMB_DES_KEYSCHED(m, csa->des_ks[i],
					 c->cipher_key + 8 * i);
			csa->des3_ks[i] = csa->des_ks[i];
		}
		t->key_len_in_bytes = klen;
		if (klen == 8) {
			t->cipher_mode = IMB_CIPHER_DES;
			t->enc_keys = csa->des_ks[0];
			t->dec_keys = csa->des_ks[0];
		} else {
			t->cipher_mode = IMB_CIPHER_DES3;
			t->enc_keys = csa->des3_ks;
			t->dec_keys = csa->des3_ks;
		}
		return 0;
	default:
		return mb_fail(why, whylen, -ENOTSUP,
			       "cipher %s not supported in ESP", name);
	}
}

static int
mb_setup_esp(IMB_MGR *m, const struct rxsec_sa_config *c,
	     struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	int rc;

	switch (c->cipher) {
	case RXSEC_CIPHER_AES_GCM:
	case RXSEC_CIPHER_AES_GMAC:
	case RXSEC_CIPHER_CHACHA20_POLY1305:
	case RXSEC_CIPHER_AES_CCM:
		return mb_setup_aead(m, c, csa, why, whylen);
	case RXSEC_CIPHER_NONE:
		return mb_fail(why, whylen, -EINVAL,
			       "ESP SA without an encryption algorithm (use ecb(cipher_null) for none)");
	default:
		break;
	}
	if (c->cipher == RXSEC_CIPHER_NULL && c->auth == RXSEC_AUTH_NONE)
		return mb_fail(why, whylen, -EINVAL,
			       "ESP SA with ecb(cipher_null) and no integrity (RFC 4303 section 3.2)");
	rc = mb_setup_cipher(m, c, csa, why, whylen);
	if (rc == 0)
		rc = mb_setup_auth(m, c, csa, why, whylen);
	if (rc != 0)
		return rc;
	if (csa->icv_len > MB_ICV_MAX)
		return mb_fail(why, whylen, -ENOTSUP,
			       "ESP ICV of %u bytes too long",
			       csa->icv_len);
	csa->prep = c->esn && csa->icv_len != 0 ?
		    rxsec_mb_prep_esp_cipher_auth_esn : rxsec_mb_prep_esp_cipher_auth;
	return 0;
}

static int
mb_setup_ah(IMB_MGR *m, const struct rxsec_sa_config *c,
	    struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	int rc;

	if (c->cipher != RXSEC_CIPHER_NONE)
		return mb_fail(why, whylen, -ENOTSUP,
			       "AH SA with %s: AH takes HMAC, XCBC or CMAC integrity only",
			       rxsec_cipher_alg_name(c->cipher));
	if (c->auth == RXSEC_AUTH_NONE)
		return mb_fail(why, whylen, -EINVAL,
			       "AH SA without an integrity algorithm");
	csa->tmpl.cipher_mode = IMB_CIPHER_NULL;
	rc = mb_setup_auth(m, c, csa, why, whylen);
	if (rc != 0)
		return rc;
	csa->prep = c->esn ? rxsec_mb_prep_ah_esn : rxsec_mb_prep_ah;
	return 0;
}

int
rxsec_mb_sa_create(const struct rxsec_sa_config *c, struct rxsec_crypto_sa **out,
		   char *why, size_t whylen)
{
	size_t sz = (sizeof(struct rxsec_crypto_sa) + 63) & ~(size_t)63;
	struct rxsec_crypto_sa *csa;
	int rc;

	*out = NULL;
	if ((unsigned int)c->cipher >= RXSEC_CIPHER_MAX ||
	    (unsigned int)c->auth >= RXSEC_AUTH_MAX)
		return mb_fail(why, whylen, -EINVAL,
			       "unknown algorithm (cipher %d, auth %d)",
			       (int)c->cipher, (int)c->auth);
	if (c->proto != RXSEC_PROTO_ESP && c->proto != RXSEC_PROTO_AH)
		return mb_fail(why, whylen, -EINVAL,
			       "protocol %u is neither ESP nor AH", c->proto);
	pthread_once(&mb_key_once, mb_key_mgr_init);
	if (mb_key_mgr == NULL)
		return mb_fail(why, whylen, -ENOMEM,
			       "IPsec-MB manager initialisation failed");
	csa = aligned_alloc(64, sz);
	if (csa == NULL)
		return mb_fail(why, whylen, -ENOMEM, "out of memory");
	memset(csa, 0, sz);
	csa->tmpl.cipher_mode = IMB_CIPHER_NULL;
	csa->tmpl.hash_alg = IMB_AUTH_NULL;
	csa->tmpl.cipher_direction = IMB_DIR_DECRYPT;
	csa->tmpl.chain_order = IMB_ORDER_HASH_CIPHER;

	if (c->proto == RXSEC_PROTO_ESP)
		rc = mb_setup_esp(mb_key_mgr, c, csa, why, whylen);
	else
		rc = mb_setup_ah(mb_key_mgr, c, csa, why, whylen);
	if (rc != 0) {
		explicit_bzero(csa, sz);
		free(csa);
		return rc;
	}
	*out = csa;
	return 0;
}

void
rxsec_mb_sa_free(struct rxsec_crypto_sa *csa)
{
	if (csa == NULL)
		return;
	explicit_bzero(csa, sizeof(*csa));
	free(csa);
}

void *
rxsec_mb_lcore_create(void)
{
	size_t sz = (sizeof(struct mb_lcore) + 63) & ~(size_t)63;
	struct mb_lcore *lc = aligned_alloc(64, sz);

	if (lc == NULL)
		return NULL;
	pthread_once(&mb_key_once, mb_key_mgr_init);
	memset(lc, 0, sz);
	lc->mgr = mb_mgr_create();
	if (lc->mgr == NULL) {
		free(lc);
		return NULL;
	}
	return lc;
}

void
rxsec_mb_lcore_free(void *ctx)
{
	struct mb_lcore *lc = ctx;

	if (lc == NULL)
		return;
	free_mb_mgr(lc->mgr);
	free(lc);
}
