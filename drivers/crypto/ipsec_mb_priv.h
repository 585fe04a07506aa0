/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Inside the IPsec-MB driver: the per-SA and per-lcore state that its data
 * path (ipsec_mb.c) and its control path (ipsec_mb_sa.c) share.
 */
#ifndef RXSEC_IPSEC_MB_PRIV_H
#define RXSEC_IPSEC_MB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "gcm_vaes.h"
#include "rxsec_crypto.h"

#define MB_CHUNK	64		/* ops in flight between flushes (< IMB_MAX_JOBS) */
#define MB_SCRATCH	(65536 + 64)	/* largest AH packet/ESP payload + seq_hi */
#define MB_TAG_MAX	64		/* largest digest the library may write */
#define MB_ICV_MAX	64		/* largest ICV we accept (full SHA-512) */
#define MB_ESP_HDR	8		/* SPI + sequence number */
#define MB_SALT_LEN	4		/* RFC 4106/4543/7634 salt, RFC 3686 nonce */
#define MB_CCM_SALT_LEN	3		/* RFC 4309 section 4 */

struct mb_lcore;
struct mb_slot;

/* The AEADs of the job API: each takes its AAD in its own union member. */
enum mb_aead {
	MB_AEAD_GCM,		/* RFC 4106 (jobs only when the direct call is off) */
	MB_AEAD_CHACHA,		/* RFC 7634 */
	MB_AEAD_CCM,		/* RFC 4309 */
};

/* Fill the per-packet fields of a job; returns true when the job uses the
 * lcore scratch buffer and must complete before the next one is prepared. */
typedef bool (*mb_prep_t)(const struct rxsec_crypto_sa *csa,
			  struct rxsec_crypto_op *op, IMB_JOB *job,
			  struct mb_slot *s, struct mb_lcore *lc);

struct rxsec_crypto_sa {
	/* first cache line: everything the direct GCM path reads */
	bool esn;
	uint8_t icv_len;		/* bytes compared; tmpl tag length may be longer */
	uint8_t iv_len;			/* IV bytes carried in the packet */
	uint8_t aead;			/* enum mb_aead: where a job takes the AAD */
	bool ctr;			/* counter block built from nonce || IV */
	uint8_t salt_len;		/* salt bytes in front of the IV in the nonce */
	uint8_t salt[MB_SALT_LEN];
	/* AES-GCM ESP: the direct decrypt call for the key size (the key
	 * manager's, of the lcores' architecture); NULL: job API */
	aes_gcm_enc_dec_t gcm_dec;
	mb_prep_t prep;
	/* AES-GCM ESP, short packets (gcm_vaes.h); nr 0: not used */
	struct rxsec_gcm_vaes_key vgcm;
	IMB_JOB tmpl;			/* constant part of every job of this SA */
	const void *des3_ks[3];
	uint8_t ipad[128] __attribute__((aligned(64)));
	uint8_t opad[128] __attribute__((aligned(64)));
	uint32_t xcbc_k1[4 * 11] __attribute__((aligned(16)));
	uint8_t xcbc_k2[16] __attribute__((aligned(16)));
	uint8_t xcbc_k3[16] __attribute__((aligned(16)));
	uint8_t cmac_keys[16 * 11] __attribute__((aligned(16)));
	uint8_t cmac_sk1[16] __attribute__((aligned(16)));
	uint8_t cmac_sk2[16] __attribute__((aligned(16)));
	uint8_t aes_enc[16 * 15] __attribute__((aligned(16)));
	uint8_t aes_dec[16 * 15] __attribute__((aligned(16)));
	uint64_t des_ks[3][16] __attribute__((aligned(16)));
	uint8_t chacha_key[32] __attribute__((aligned(16)));
	struct gcm_key_data gcm __attribute__((aligned(64)));
};

/* Per in-flight job state that must outlive prep: found via job->user_data. */
struct mb_slot {
	uint8_t tag[MB_TAG_MAX];	/* ICV computed by the library */
	uint8_t icv[MB_ICV_MAX];	/* received ICV, when seq_hi overwrote it */
	uint8_t iv[16];			/* nonce / counter block */
	uint8_t aad[16];		/* SPI || seq_hi || seq (ESN AEAD) */
	struct rxsec_crypto_op *op;
	const uint8_t *want;		/* received ICV; NULL = nothing to verify */
	uint8_t *esn_at;		/* 4 packet bytes to restore from icv[] */
} __attribute__((aligned(64)));

struct mb_lcore {
	IMB_MGR *mgr;
	struct mb_slot slot[MB_CHUNK];
	uint8_t scratch[MB_SCRATCH] __attribute__((aligned(64)));
};

int rxsec_mb_check_env(char *why, size_t whylen);

/* Job preparation for one packet, by SA kind (ipsec_mb.c): csa->prep. */
bool rxsec_mb_prep_esp_aead(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
			    IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_esp_aead_esn(const struct rxsec_crypto_sa *csa,
				struct rxsec_crypto_op *op, IMB_JOB *job,
				struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_esp_gmac(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
			    IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_esp_gmac_esn(const struct rxsec_crypto_sa *csa,
				struct rxsec_crypto_op *op, IMB_JOB *job,
				struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_esp_cipher_auth(const struct rxsec_crypto_sa *csa,
				   struct rxsec_crypto_op *op, IMB_JOB *job,
				   struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_esp_cipher_auth_esn(const struct rxsec_crypto_sa *csa,
				       struct rxsec_crypto_op *op, IMB_JOB *job,
				       struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_ah(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		      IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc);
bool rxsec_mb_prep_ah_esn(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
			  IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc);

/* Whether short GCM packets go to gcm_vaes.c: the CPU has the instructions,
 * RXSEC_IMB_ARCH does not ask for an older code path and RXSEC_GCM_VAES is
 * not 0. Set once, before the first SA (ipsec_mb_sa.c). */
extern bool rxsec_mb_vaes;

/* Control path (ipsec_mb_sa.c). */
int rxsec_mb_sa_create(const struct rxsec_sa_config *c, struct rxsec_crypto_sa **out,
		       char *why, size_t whylen);
void rxsec_mb_sa_free(struct rxsec_crypto_sa *csa);
void *rxsec_mb_lcore_create(void);
void rxsec_mb_lcore_free(void *ctx);

#endif /* RXSEC_IPSEC_MB_PRIV_H */
