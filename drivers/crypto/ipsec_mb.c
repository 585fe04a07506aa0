/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Crypto driver on Intel IPsec-MB 1.3 (job API). One IMB_MGR per lcore;
 * a burst is submitted job by job (the manager batches them into its
 * multi-buffer lanes) and collected by a final flush, so jobs of one burst
 * are processed together. Every key is expanded at sa_create
 * (ipsec_mb_sa.c): the hot path copies a per-SA job template and fills in
 * pointers and lengths only. This file is the data path.
 */
#include <string.h>

#include <rte_prefetch.h>

#include "ipsec_mb_priv.h"

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
 * ESP with an AEAD (RFC 4106 GCM, RFC 7634 ChaCha20-Poly1305, RFC 4309 CCM):
 * nonce = salt || IV (a 4-byte salt, CCM's 3); AAD = SPI || seq, or SPI ||
 * seq_hi || seq with ESN (RFC 4106 section 5, RFC 7634 section 2.1, RFC 4309
 * section 5).
 */
static inline void
mb_prep_aead(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	     IMB_JOB *job, struct mb_slot *s, const uint8_t *aad)
{
	uint8_t *d = op->data;
	uint64_t off = MB_ESP_HDR + 8;
	uint64_t clen = op->len - off - csa->icv_len;

	memcpy(s->iv, csa->salt, MB_SALT_LEN);
	memcpy(s->iv + csa->salt_len, d + MB_ESP_HDR, 8);
	job->src = d;
	job->dst = d + off;	/* dst is where output starts, not offset */
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = clen;
	job->hash_start_src_offset_in_bytes = off;
	job->msg_len_to_hash_in_bytes = clen;
	job->iv = s->iv;
	job->auth_tag_output = s->tag;
	if (csa->aead == MB_AEAD_CHACHA)
		job->u.CHACHA20_POLY1305.aad = aad;
	else if (csa->aead == MB_AEAD_CCM)
		job->u.CCM.aad = aad;
	else
		job->u.GCM.aad = aad;
	s->want = d + op->len - csa->icv_len;
	s->esn_at = NULL;
}

bool
rxsec_mb_prep_esp_aead(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		       IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	mb_prep_aead(csa, op, job, s, op->data);
	return false;
}

bool
rxsec_mb_prep_esp_aead_esn(const struct rxsec_crypto_sa *csa,
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

bool
rxsec_mb_prep_esp_gmac(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		       IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	(void)lc;
	mb_prep_gmac(csa, op, job, s, op->data, op->len - csa->icv_len);
	return false;
}

/* With ESN the AAD is SPI || seq_hi || seq || IV || payload (RFC 4543
 * section 3.3.2): seq_hi sits inside, so the AAD is assembled in scratch. */
bool
rxsec_mb_prep_esp_gmac_esn(const struct rxsec_crypto_sa *csa,
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

bool
rxsec_mb_prep_esp_cipher_auth(const struct rxsec_crypto_sa *csa,
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
bool
rxsec_mb_prep_esp_cipher_auth_esn(const struct rxsec_crypto_sa *csa,
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
bool
rxsec_mb_prep_ah(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
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
bool
rxsec_mb_prep_ah_esn(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
		     IMB_JOB *job, struct mb_slot *s, struct mb_lcore *lc)
{
	rxsec_mb_prep_ah(csa, op, job, s, lc);
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
 *
 * The library reads the 12-byte nonce with a masked load, and a masked load
 * does not take its bytes from stores still in flight: it waits for them.
 * Built on the stack right before the call, the nonce cost a stall on every
 * packet (perf at 512 B: 4.5% of all cycles on the instruction after that
 * load). So it is written into the op's slot MB_NONCE_AHEAD ops early.
 */
#define MB_NONCE_AHEAD	4

static inline void
mb_gcm_nonce(const struct rxsec_crypto_sa *csa, const struct rxsec_crypto_op *op,
	     struct mb_slot *s)
{
	const uint8_t *d = op->data;

	memcpy(s->iv, csa->salt, MB_SALT_LEN);
	memcpy(s->iv + MB_SALT_LEN, d + MB_ESP_HDR, 8);
	if (csa->esn) {
		/* RFC 4106 section 5: SPI || seq_hi || seq */
		memcpy(s->aad, d, 4);
		mb_put_be32(s->aad + 4, op->seq_hi);
		memcpy(s->aad + 8, d + 4, 4);
	}
}

static inline void
mb_gcm_direct(const struct rxsec_crypto_sa *csa, struct rxsec_crypto_op *op,
	      struct mb_slot *s)
{
	struct gcm_context_data ctx;
	uint8_t *d = op->data;
	uint64_t off = MB_ESP_HDR + 8, clen = op->len - off - csa->icv_len;

	csa->gcm_dec(&csa->gcm, &ctx, d + off, d + off, clen, s->iv,
		     csa->esn ? s->aad : d, csa->esn ? 12 : 8, s->tag, csa->icv_len);
	op->result = mb_tag_equal(s->tag, d + op->len - csa->icv_len, csa->icv_len) ?
		RXSEC_CRYPTO_OK : RXSEC_CRYPTO_AUTH_FAILED;
}

/* With many SAs each op's key schedule is a cache miss, fetched MB_PREFETCH
 * ops ahead. The round keys open struct gcm_key_data and the hash-key powers
 * close it, lowest last: a short packet needs only the last lines (A/B at
 * 1024 SAs: -7% crypto cycles at 64 B with the last 4 lines, -7% at 1400 B
 * with all of them). Not earlier, at SA lookup: AMD's prefetches of any
 * locality fill L1, and a burst's keys (9 to 16 lines an SA) pushed out the
 * packets just classified (A/B at 1024 SAs: +2% at 64 B and IMIX). */
#define MB_PREFETCH	8
#define MB_GCM_KEY_LINES	((sizeof(struct gcm_key_data) + 63) / 64)

/* The SA's lines a packet of len bytes needs. Nothing of the SA is read,
 * not even whether it is GCM: that load would wait for the very line being
 * asked for (it cost 8% of the cycles at 1024 SAs). For another algorithm
 * the GCM lines are a few wasted prefetches. */
static inline void
mb_prefetch_keys(const struct rxsec_crypto_sa *csa, uint32_t len)
{
	const char *g = (const char *)&csa->gcm;
	/* short packets need the first powers only; long ones all of them */
	unsigned int hk_lines = len > 256 ? MB_GCM_KEY_LINES - 4 : 4;

	rte_prefetch0(csa);
	if (rxsec_mb_vaes && len <= RXSEC_GCM_VAES_MAX_LEN(16)) {	/* any ICV */
		/* header and round keys, then the powers of H */
		for (unsigned int l = 0; l < sizeof(csa->vgcm) / 64; l++)
			rte_prefetch0((const char *)&csa->vgcm + l * 64);
		return;
	}
	for (unsigned int l = 0; l < 4; l++)
		rte_prefetch0(g + l * 64);
	for (unsigned int l = MB_GCM_KEY_LINES - hk_lines; l < MB_GCM_KEY_LINES; l++)
		rte_prefetch0(g + l * 64);
}

/* Short AES-GCM packets waiting for gcm_vaes.c, which takes them in groups
 * of keys of one size. */
struct mb_vaes_group {
	const struct rxsec_gcm_vaes_key *key[RXSEC_GCM_VAES_GROUP];
	struct rxsec_crypto_op *op[RXSEC_GCM_VAES_GROUP];
	unsigned int n;
};

static inline void
mb_vaes_flush(struct mb_vaes_group *g)
{
	rxsec_gcm_vaes_decrypt(g->key, g->op, g->n);
	g->n = 0;
}

static inline bool
mb_vaes_fits(const struct rxsec_crypto_sa *csa, const struct rxsec_crypto_op *op)
{
	return csa->vgcm.nr != 0 && op->len >= MB_ESP_HDR + 8u + csa->icv_len &&
		op->len <= RXSEC_GCM_VAES_MAX_LEN(csa->icv_len);
}

/* Whether gcm_vaes.c took op (now or with the next flush). */
static inline bool
mb_vaes_take(struct mb_vaes_group *g, const struct rxsec_crypto_sa *csa,
	     struct rxsec_crypto_op *op)
{
	if (!mb_vaes_fits(csa, op))
		return false;
	if (g->n != 0 && g->key[0]->nr != csa->vgcm.nr)
		mb_vaes_flush(g);
	g->key[g->n] = &csa->vgcm;
	g->op[g->n++] = op;
	if (g->n == RXSEC_GCM_VAES_GROUP)
		mb_vaes_flush(g);
	return true;
}

/* Op i goes to the library's direct GCM call: its nonce is due early. */
static inline void
mb_gcm_nonce_ahead(struct mb_lcore *lc, const struct rxsec_crypto_op *ops, uint32_t i)
{
	const struct rxsec_crypto_sa *csa = ops[i].csa;

	if (csa->gcm_dec != NULL && !mb_vaes_fits(csa, &ops[i]))
		mb_gcm_nonce(csa, &ops[i], &lc->slot[i]);
}

static void
mb_run_chunk(struct mb_lcore *lc, struct rxsec_crypto_op *ops, uint32_t n)
{
	IMB_MGR *mgr = lc->mgr;
	struct mb_vaes_group g = { .n = 0 };
	uint32_t i;

	for (i = 0; i < n && i < MB_PREFETCH; i++)
		if (i == 0 || ops[i].csa != ops[i - 1].csa)
			mb_prefetch_keys(ops[i].csa, ops[i].len);
	for (i = 0; i < n && i < MB_NONCE_AHEAD; i++)
		mb_gcm_nonce_ahead(lc, ops, i);
	for (i = 0; i < n; i++) {
		struct rxsec_crypto_op *op = &ops[i];
		const struct rxsec_crypto_sa *csa = op->csa;
		struct mb_slot *s = &lc->slot[i];

		if (i + MB_PREFETCH < n && ops[i + MB_PREFETCH].csa != csa)
			mb_prefetch_keys(ops[i + MB_PREFETCH].csa, ops[i + MB_PREFETCH].len);
		if (i + MB_NONCE_AHEAD < n)
			mb_gcm_nonce_ahead(lc, ops, i + MB_NONCE_AHEAD);
		IMB_JOB *job;
		bool sync;

		if (mb_vaes_take(&g, csa, op))
			continue;
		if (csa->gcm_dec != NULL) {
			mb_gcm_direct(csa, op, s);
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
	if (g.n != 0)
		mb_vaes_flush(&g);
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

/*
 * Counter-mode ciphers (GCM, CTR, ChaCha20) decrypt by adding a keystream
 * that does not depend on the ESN high bits: decrypting again restores the
 * ciphertext. CBC is undone by encrypting the plaintext again under the
 * same IV, which the packet still holds. Without a cipher nothing changed.
 */
static void
mb_esp_undo_decrypt(void *ctx, struct rxsec_crypto_op *op)
{
	struct mb_lcore *lc = ctx;
	const struct rxsec_crypto_sa *csa = op->csa;
	IMB_MGR *mgr = lc->mgr;
	uint64_t off = MB_ESP_HDR + csa->iv_len;
	IMB_JOB *job;

	switch (csa->tmpl.cipher_mode) {
	case IMB_CIPHER_NULL:
		return;
	case IMB_CIPHER_CBC:
	case IMB_CIPHER_DES:
	case IMB_CIPHER_DES3:
		break;
	default:
		mb_process_burst(ctx, op, 1);
		return;
	}
	job = IMB_GET_NEXT_JOB(mgr);
	*job = csa->tmpl;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->hash_alg = IMB_AUTH_NULL;
	job->src = op->data;
	job->dst = op->data + off;
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = op->len - off - csa->icv_len;
	job->iv = op->data + MB_ESP_HDR;
	job->msg_len_to_hash_in_bytes = 0;
	job->auth_tag_output = NULL;
	job->auth_tag_output_len_in_bytes = 0;
	job->user_data = NULL;
	/* process_burst left the manager empty: this job is the only one */
	if (IMB_SUBMIT_JOB(mgr) == NULL)
		while (IMB_FLUSH_JOB(mgr) != NULL)
			;
}

const struct rxsec_crypto_driver rxsec_crypto_ipsec_mb = {
	.name = "ipsec_mb",
	.check_env = rxsec_mb_check_env,
	.sa_create = rxsec_mb_sa_create,
	.sa_free = rxsec_mb_sa_free,
	.lcore_create = rxsec_mb_lcore_create,
	.lcore_free = rxsec_mb_lcore_free,
	.process_burst = mb_process_burst,
	.esp_undo_decrypt = mb_esp_undo_decrypt,
};
