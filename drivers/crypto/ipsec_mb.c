/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Crypto driver on Intel IPsec-MB 1.3 (job API). One IMB_MGR per lcore;
 * a burst is submitted job by job (the manager batches them into its
 * multi-buffer lanes) and collected by a final flush, so jobs of one burst
 * are processed together. Every key is expanded at sa_create: the hot path
 * copies a per-SA job template and fills in pointers and lengths only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "rxsec_crypto.h"

#define MB_CHUNK	64		/* ops in flight between flushes (< IMB_MAX_JOBS) */
#define MB_SCRATCH	(65536 + 64)	/* largest AH packet/ESP payload + seq_hi */
#define MB_TAG_MAX	64		/* largest digest the library may write */
#define MB_ICV_MAX	64		/* largest ICV we accept (full SHA-512) */
#define MB_ESP_HDR	8		/* SPI + sequence number */
#define MB_SALT_LEN	4		/* RFC 4106/4543/7634 salt, RFC 3686 nonce */

struct mb_lcore;
struct mb_slot;

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
	bool chacha;			/* AAD goes in u.CHACHA20_POLY1305 */
	bool ctr;			/* counter block built from nonce || IV */
	uint8_t salt[MB_SALT_LEN];
	/* AES-GCM ESP: the direct decrypt call for the key size (the key
	 * manager's, of the lcores' architecture); NULL: job API */
	aes_gcm_enc_dec_t gcm_dec;
	mb_prep_t prep;
	IMB_JOB tmpl;			/* constant part of every job of this SA */
	const void *des3_ks[3];
	uint8_t ipad[128] __attribute__((aligned(64)));
	uint8_t opad[128] __attribute__((aligned(64)));
	uint32_t xcbc_k1[4 * 11] __attribute__((aligned(16)));
	uint8_t xcbc_k2[16] __attribute__((aligned(16)));
	uint8_t xcbc_k3[16] __attribute__((aligned(16)));
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

static inline void
mb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Constant-time: the time taken must not tell how many ICV bytes matched. */
static inline bool
mb_icv_equal(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	uint8_t d = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/*
 * ESP with an AEAD (RFC 4106 GCM, RFC 7634 ChaCha20-Poly1305): nonce =
 * salt || IV; AAD = SPI || seq, or SPI || seq_hi || seq with ESN (RFC 4106
 * section 5, RFC 7634 section 2.1).
 */
static inline void
mb_prep_aead(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	     IMB_JOB *job, struct mb_slot *s, const uint8_t *aad)
{
	uint8_t *d = op->data;
	uint64_t off = MB_ESP_HDR + 8;
	uint64_t clen = op->len - off - csa->icv_len;

	memcpy(s->iv, csa->salt, MB_SALT_LEN);
	memcpy(s->iv + MB_SALT_LEN, d + MB_ESP_HDR, 8);
	job->src = d;
	job->dst = d + off;	/* dst is where output starts, not offset */
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = clen;
	job->hash_start_src_offset_in_bytes = off;
	job->msg_len_to_hash_in_bytes = clen;
	job->iv = s->iv;
	job->auth_tag_output = s->tag;
	if (csa->chacha)
		job->u.CHACHA20_POLY1305.aad = aad;
	else
		job->u.GCM.aad = aad;
	s->want = d + op->len - csa->icv_len;
	s->esn_at = NULL;
}

static bool
mb_prep_esp_aead(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		 IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	mb_prep_aead(csa, op, job, s, op->data);
	return false;
}

static bool
mb_prep_esp_aead_esn(const struct rxsec_crypto_sa *csa,
		     struct rxsec_crypto_op *op, IMB_JOB *job,
		     struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	memcpy(s->aad, op->data, 4);
	mb_put_be32(s->aad + 4, op->seq_hi);
	memcpy(s->aad + 8, op->data + 4, 4);
	mb_prep_aead(csa, op, job, s, s->aad);
	return false;
}

/*
 * ESP with AES-GMAC (RFC 4543 section 3): nothing is encrypted; the tag
 * covers SPI || seq || IV || payload, all contiguous in the packet.
 */
static inline void
mb_prep_gmac(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	     IMB_JOB *job, struct mb_slot *s, const uint8_t *src,
	     uint64_t len)
{
	memcpy(s->iv, csa->salt, MB_SALT_LEN);
	memcpy(s->iv + MB_SALT_LEN, op->data + MB_ESP_HDR, 8);
	job->src = src;
	job->dst = (uint8_t *)(uintptr_t)src;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->u.GMAC._iv = s->iv;
	job->auth_tag_output = s->tag;
	s->want = op->data + op->len - csa->icv_len;
	s->esn_at = NULL;
}

static bool
mb_prep_esp_gmac(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		 IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	mb_prep_gmac(csa, op, job, s, op->data, op->len - csa->icv_len);
	return false;
}

/* With ESN the AAD is SPI || seq_hi || seq || IV || payload (RFC 4543
 * section 3.3.2): seq_hi sits inside, so the AAD is assembled in scratch. */
static bool
mb_prep_esp_gmac_esn(const struct rxsec_crypto_sa *csa,
		     struct rxsec_crypto_op *op, IMB_JOB *job,
		     struct mb_slot *s, struct mb_lcore *lc)
{
	uint32_t alen = op->len - csa->icv_len;

	if (alen + 4 > MB_SCRATCH) {
		job->msg_len_to_hash_in_bytes = 0;
		job->auth_tag_output = NULL;	/* rejected: reported as ERROR */
		s->want = NULL;
		s->esn_at = NULL;
		return false;
	}
	memcpy(lc->scratch, op->data, 4);
	mb_put_be32(lc->scratch + 4, op->seq_hi);
	memcpy(lc->scratch + 8, op->data + 4, alen - 4);
	mb_prep_gmac(csa, op, job, s, lc->scratch, alen + 4);
	return true;
}

/*
 * ESP with a block/stream cipher and a separate MAC (RFC 4303 section 3.4.4:
 * verify the ICV over header, IV and ciphertext, then decrypt). The job
 * chains hash then cipher.
 */
static inline void
mb_prep_cipher_auth(const struct rxsec_crypto_sa *csa,
		    struct rxsec_crypto_op *op, IMB_JOB *job, struct mb_slot *s)
{
	uint8_t *d = op->data;
	uint64_t off = MB_ESP_HDR + csa->iv_len;

	job->src = d;
	job->dst = d + off;	/* dst is where output starts, not offset */
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = op->len - off - csa->icv_len;
	if (csa->ctr) {
		/* RFC 3686 section 4: nonce || IV || counter 1; the library
		 * appends the counter to a 12-byte IV. */
		memcpy(s->iv, csa->salt, MB_SALT_LEN);
		memcpy(s->iv + MB_SALT_LEN, d + MB_ESP_HDR, 8);
		job->iv = s->iv;
	} else {
		job->iv = d + MB_ESP_HDR;
	}
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len - csa->icv_len;
	job->auth_tag_output = s->tag;
	s->want = csa->icv_len ? d + op->len - csa->icv_len : NULL;
	s->esn_at = NULL;
}

static bool
mb_prep_esp_cipher_auth(const struct rxsec_crypto_sa *csa,
			struct rxsec_crypto_op *op, IMB_JOB *job,
			struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	mb_prep_cipher_auth(csa, op, job, s);
	return false;
}

/* RFC 4303 section 2.2.1: with ESN, seq_hi is appended to the ICV input
 * although it is not sent. It is written over the received ICV (saved in
 * the slot first) and the 4 bytes are restored on completion. */
static bool
mb_prep_esp_cipher_auth_esn(const struct rxsec_crypto_sa *csa,
			    struct rxsec_crypto_op *op, IMB_JOB *job,
			    struct mb_slot *s, struct mb_lcore *lc)
{
	uint8_t *icv = op->data + op->len - csa->icv_len;

	(void)lc;
	mb_prep_cipher_auth(csa, op, job, s);
	memcpy(s->icv, icv, csa->icv_len);
	mb_put_be32(icv, op->seq_hi);
	job->msg_len_to_hash_in_bytes += 4;
	s->want = s->icv;
	s->esn_at = icv;
	return false;
}

/* AH (RFC 4302 section 3.3.3): the MAC covers the whole packet as given. */
static bool
mb_prep_ah(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	   IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	(void)csa;
	(void)lc;
	job->src = op->data;
	job->dst = op->data;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len;
	job->auth_tag_output = s->tag;
	s->want = op->icv;
	s->esn_at = NULL;
	return false;
}

/* AH with ESN: seq_hi follows the packet in the ICV input (RFC 4302
 * section 2.5.1, 3.3.3.2.1); the packet has no room after it, so copy. */
static bool
mb_prep_ah_esn(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	       IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	mb_prep_ah(csa, op, job, s, lc);
	if (op->len + 4 > MB_SCRATCH) {
		job->msg_len_to_hash_in_bytes = 0;
		job->auth_tag_output = NULL;	/* rejected: reported as ERROR */
		s->want = NULL;
		return false;
	}
	memcpy(lc->scratch, op->data, op->len);
	mb_put_be32(lc->scratch + op->len, op->seq_hi);
	job->src = lc->scratch;
	job->dst = lc->scratch;
	job->msg_len_to_hash_in_bytes = op->len + 4;
	return true;
}

static void
mb_complete(IMB_JOB *job)
{
	struct mb_slot *s = job->user_data;
	struct rxsec_crypto_op *op = s->op;

	if (s->esn_at != NULL)
		memcpy(s->esn_at, s->icv, 4);
	if (job->status != IMB_STATUS_COMPLETED)
		op->result = RXSEC_CRYPTO_ERROR;
	else if (s->want != NULL &&
		 !mb_icv_equal(s->tag, s->want, op->csa->icv_len))
		op->result = RXSEC_CRYPTO_AUTH_FAILED;
	else
		op->result = RXSEC_CRYPTO_OK;
}

static inline void
mb_collect(IMB_MGR *mgr, IMB_JOB *job)
{
	while (job != NULL) {
		mb_complete(job);
		job = IMB_GET_COMPLETED_JOB(mgr);
	}
}

static inline void
mb_drain(IMB_MGR *mgr)
{
	IMB_JOB *job;

	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		mb_complete(job);
}

/* Constant-time compare of an 8, 12 or 16-byte AEAD tag in two words. */
static inline bool
mb_tag_equal(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	uint64_t a0, b0, a1 = 0, b1 = 0;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	if (n == 16) {
		memcpy(&a1, a + 8, 8);
		memcpy(&b1, b + 8, 8);
	} else if (n == 12) {
		memcpy(&a1, a + 8, 4);
		memcpy(&b1, b + 8, 4);
	}
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/*
 * AES-GCM ESP through the library's direct GCM call: one packet costs the
 * same AES/GHASH work as a job, without the job manager's queueing (GCM is
 * not a multi-buffer algorithm in IPsec-MB, jobs complete one by one anyway).
 */
static inline void
mb_gcm_direct(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op)
{
	struct gcm_context_data ctx;
	uint8_t iv[12], aad[12], tag[16];
	uint8_t *d = op->data;
	const uint8_t *a = d;
	uint64_t off = MB_ESP_HDR + 8, clen = op->len - off - csa->icv_len;

	memcpy(iv, csa->salt, MB_SALT_LEN);
	memcpy(iv + MB_SALT_LEN, d + MB_ESP_HDR, 8);
	if (csa->esn) {
		/* RFC 4106 section 5: SPI || seq_hi || seq */
		memcpy(aad, d, 4);
		mb_put_be32(aad + 4, op->seq_hi);
		memcpy(aad + 8, d + 4, 4);
		a = aad;
	}
	csa->gcm_dec(&csa->gcm, &ctx, d + off, d + off, clen, iv, a, csa->esn ? 12 : 8,
		     tag, csa->icv_len);
	op->result = mb_tag_equal(tag, d + op->len - csa->icv_len, csa->icv_len) ?
		RXSEC_CRYPTO_OK : RXSEC_CRYPTO_AUTH_FAILED;
}

/* With many SAs each op's key schedule is a cache miss. The round keys
 * open struct gcm_key_data and the hash-key powers close it, lowest last: a
 * short packet needs only the last lines (A/B at 1024 SAs: -7% crypto
 * cycles at 64 B with the last 4 lines, -7% at 1400 B with all of them). */
#define MB_PREFETCH	4
#define MB_GCM_KEY_LINES	((sizeof(struct gcm_key_data) + 63) / 64)

/* The SA's lines a packet of len bytes needs, at a locality (0-3). */
static inline __attribute__((always_inline)) void
mb_prefetch_keys(const struct rxsec_crypto_sa *csa, uint32_t len, const int locality)
{
	const char *g = (const char *)&csa->gcm;
	/* short packets need the first powers only; long ones all of them */
	unsigned int hk_lines = len > 256 ? MB_GCM_KEY_LINES - 4 : 4;

	__builtin_prefetch(csa, 0, locality);
	if (csa->gcm_dec == NULL)
		return;
	for (unsigned int l = 0; l < 4; l++)
		__builtin_prefetch(g + l * 64, 0, locality);
	for (unsigned int l = MB_GCM_KEY_LINES - hk_lines; l < MB_GCM_KEY_LINES; l++)
		__builtin_prefetch(g + l * 64, 0, locality);
}

/* A burst ahead, at SA lookup: into L2 only, where a burst's keys fit. */
static void
mb_prefetch_sa(const struct rxsec_crypto_sa *csa, uint32_t len)
{
	mb_prefetch_keys(csa, len, 2);
}

static void
mb_run_chunk(struct mb_lcore *lc, struct rxsec_crypto_op *ops, uint32_t n)
{
	IMB_MGR *mgr = lc->mgr;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct rxsec_crypto_op *op = &ops[i];
		const struct rxsec_crypto_sa *csa = op->csa;
		struct mb_slot *s = &lc->slot[i];

		if (i + MB_PREFETCH < n && ops[i + MB_PREFETCH].csa != csa)
			mb_prefetch_keys(ops[i + MB_PREFETCH].csa, ops[i + MB_PREFETCH].len, 3);
		IMB_JOB *job;
		bool sync;

		if (csa->gcm_dec != NULL) {
			mb_gcm_direct(csa, op);
			continue;
		}
		job = IMB_GET_NEXT_JOB(mgr);
		*job = csa->tmpl;
		job->user_data = s;
		s->op = op;
		sync = csa->prep(csa, op, job, s, lc);
		mb_collect(mgr, IMB_SUBMIT_JOB(mgr));
		if (sync)
			mb_drain(mgr);
	}
	mb_drain(mgr);
}

static void
mb_process_burst(void *ctx, struct rxsec_crypto_op *ops, uint32_t n)
{
	struct mb_lcore *lc = ctx;
	uint32_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < MB_CHUNK ? n - i : MB_CHUNK;
		mb_run_chunk(lc, ops + i, k);
	}
}

/* ---- control path ---- */

/* RXSEC_IMB_ARCH=sse|avx|avx2|avx512 forces a code path (tests, benches);
 * default is the best the CPU has (AVX512 with VAES where present). */
static void
mb_mgr_init(IMB_MGR *mgr)
{
	const char *a = getenv("RXSEC_IMB_ARCH");

	if (a == NULL || *a == '\0')
		init_mb_mgr_auto(mgr, NULL);
	else if (strcmp(a, "sse") == 0)
		init_mb_mgr_sse(mgr);
	else if (strcmp(a, "avx") == 0)
		init_mb_mgr_avx(mgr);
	else if (strcmp(a, "avx2") == 0)
		init_mb_mgr_avx2(mgr);
	else if (strcmp(a, "avx512") == 0)
		init_mb_mgr_avx512(mgr);
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

static void
mb_key_mgr_init(void)
{
	mb_key_mgr = mb_mgr_create();
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
	unsigned int digest;
	unsigned int tag_short;	/* shortest tag the library writes */
};

static const struct mb_hmac_info mb_hmac[RXSEC_AUTH_MAX] = {
	[RXSEC_AUTH_HMAC_MD5] = { IMB_AUTH_MD5, 64, 16, 12 },
	[RXSEC_AUTH_HMAC_SHA1] = { IMB_AUTH_HMAC_SHA_1, 64, 20, 12 },
	[RXSEC_AUTH_HMAC_SHA256] = { IMB_AUTH_HMAC_SHA_256, 64, 32, 16 },
	[RXSEC_AUTH_HMAC_SHA384] = { IMB_AUTH_HMAC_SHA_384, 128, 48, 24 },
	[RXSEC_AUTH_HMAC_SHA512] = { IMB_AUTH_HMAC_SHA_512, 128, 64, 32 },
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
	if (c->icv_len < 4 || c->icv_len > h->digest)
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
		c->icv_len <= h->tag_short ? h->tag_short : h->digest;
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
	if (c->cipher == RXSEC_CIPHER_CHACHA20_POLY1305) {
		klen = 32;
		if (c->cipher_key_len != 32 + MB_SALT_LEN)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: key must be 36 bytes (32 + 4 salt), got %u",
				       name, c->cipher_key_len);
	} else {
		klen = mb_aes_keylen(c, MB_SALT_LEN, why, whylen);
		if (klen < 0)
			return klen;
	}
	memcpy(csa->salt, c->cipher_key + klen, MB_SALT_LEN);
	csa->icv_len = c->icv_len;
	t->auth_tag_output_len_in_bytes = c->icv_len;

	switch (c->cipher) {
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
		csa->prep = c->esn ? mb_prep_esp_aead_esn : mb_prep_esp_aead;
		csa->esn = c->esn;
		csa->gcm_dec = klen == 16 ? m->gcm128_dec :
			klen == 24 ? m->gcm192_dec : m->gcm256_dec;
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
		csa->prep = c->esn ? mb_prep_esp_gmac_esn : mb_prep_esp_gmac;
		break;
	default:	/* ChaCha20-Poly1305, RFC 7634 section 2: 16-byte ICV */
		if (c->icv_len != 16)
			return mb_fail(why, whylen, -EINVAL,
				       "%s: ICV must be 16 bytes (got %u)",
				       name, c->icv_len);
		memcpy(csa->chacha_key, c->cipher_key, 32);
		csa->chacha = true;
		t->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
		t->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
		t->enc_keys = csa->chacha_key;
		t->dec_keys = csa->chacha_key;
		t->key_len_in_bytes = 32;
		t->iv_len_in_bytes = 12;
		t->u.CHACHA20_POLY1305.aad_len_in_bytes = c->esn ? 12 : 8;
		csa->prep = c->esn ? mb_prep_esp_aead_esn : mb_prep_esp_aead;
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
		    mb_prep_esp_cipher_auth_esn : mb_prep_esp_cipher_auth;
	return 0;
}

static int
mb_setup_ah(IMB_MGR *m, const struct rxsec_sa_config *c,
	    struct rxsec_crypto_sa *csa, char *why, size_t whylen)
{
	int rc;

	if (c->cipher != RXSEC_CIPHER_NONE)
		return mb_fail(why, whylen, -ENOTSUP,
			       "AH SA with %s: only HMAC/XCBC integrity is supported in AH",
			       rxsec_cipher_alg_name(c->cipher));
	if (c->auth == RXSEC_AUTH_NONE)
		return mb_fail(why, whylen, -EINVAL,
			       "AH SA without an integrity algorithm");
	csa->tmpl.cipher_mode = IMB_CIPHER_NULL;
	rc = mb_setup_auth(m, c, csa, why, whylen);
	if (rc != 0)
		return rc;
	csa->prep = c->esn ? mb_prep_ah_esn : mb_prep_ah;
	return 0;
}

static int
mb_sa_create(const struct rxsec_sa_config *c, struct rxsec_crypto_sa **out,
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

static void
mb_sa_free(struct rxsec_crypto_sa *csa)
{
	if (csa == NULL)
		return;
	explicit_bzero(csa, sizeof(*csa));
	free(csa);
}

static void *
mb_lcore_create(void)
{
	size_t sz = (sizeof(struct mb_lcore) + 63) & ~(size_t)63;
	struct mb_lcore *lc = aligned_alloc(64, sz);

	if (lc == NULL)
		return NULL;
	memset(lc, 0, sz);
	lc->mgr = mb_mgr_create();
	if (lc->mgr == NULL) {
		free(lc);
		return NULL;
	}
	return lc;
}

static void
mb_lcore_free(void *ctx)
{
	struct mb_lcore *lc = ctx;

	if (lc == NULL)
		return;
	free_mb_mgr(lc->mgr);
	free(lc);
}

const struct rxsec_crypto_driver rxsec_crypto_ipsec_mb = {
	.name = "ipsec_mb",
	.sa_create = mb_sa_create,
	.sa_free = mb_sa_free,
	.lcore_create = mb_lcore_create,
	.lcore_free = mb_lcore_free,
	.process_burst = mb_process_burst,
	.prefetch_sa = mb_prefetch_sa,
};
