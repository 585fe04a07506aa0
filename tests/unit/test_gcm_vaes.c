/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The crypto driver's short AES-GCM path (drivers/crypto/gcm_vaes.c)
 * against IPsec-MB's own GCM encryption: packets sealed by the library
 * must come back as their plaintext with a good tag, through the driver's
 * process_burst, for every ciphertext length up to a little past what the
 * VAES path takes, every key size, ICV length and ESN, in bursts that mix
 * SAs, key sizes and lengths. Any bit flipped in the AAD (SPI, sequence
 * number, ESN high bits), IV, ciphertext or ICV must fail the tag, and no
 * byte outside the ciphertext may change. A packet checked with the wrong
 * ESN high bits must be restored byte for byte by esp_undo_decrypt, then
 * verify with the right ones. With RXSEC_GCM_VAES=0 the same checks run
 * on IPsec-MB's direct GCM call.
 *
 * The build wraps rxsec_gcm_vaes_decrypt (--wrap), so the test also
 * counts the packets the driver really hands to gcm_vaes.c: all of those
 * it may take when the path is on, none when it is off.
 *
 * On a CPU that has the instructions, gcm_vaes.c is also called directly
 * (whatever the driver chose): groups of one to four packets of different
 * SAs, each packet against an unmapped page on one side, so that a read
 * or write of one byte outside it faults.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>

#include "ipsec_mb_priv.h"
#include "unit_check.h"

#define NSA		18		/* 3 key sizes x 3 ICV lengths x ESN */
#define MAX_CT		(RXSEC_GCM_VAES_MAX_CT + 48)
#define SLOT		256		/* per packet: ESP header, IV, ct, ICV, guard */
#define GUARD		0xa5

static const struct rxsec_crypto_driver *drv = &rxsec_crypto_ipsec_mb;
static IMB_MGR *ref;			/* the reference: the library's encryption */
static void *lc;

struct tsa {
	unsigned int klen, icv_len;
	bool esn;
	uint8_t key[32], salt[4];
	struct gcm_key_data gk __attribute__((aligned(64)));
	struct rxsec_gcm_vaes_key vk;	/* for the direct calls */
	struct rxsec_crypto_sa *csa;
};

struct tpkt {
	struct tsa *sa;
	uint32_t ct_len, seq_hi;
	uint8_t pt[MAX_CT];
	uint8_t sealed[SLOT];		/* as sent */
	uint8_t buf[SLOT];		/* what the driver works on */
};

static struct tsa sas[NSA];
static unsigned long vaes_ops;		/* packets through gcm_vaes.c */

void __real_rxsec_gcm_vaes_decrypt(const struct rxsec_gcm_vaes_key *const *key,
				   struct rxsec_crypto_op *const *op, unsigned int n);
void __wrap_rxsec_gcm_vaes_decrypt(const struct rxsec_gcm_vaes_key *const *key,
				   struct rxsec_crypto_op *const *op, unsigned int n);

void
__wrap_rxsec_gcm_vaes_decrypt(const struct rxsec_gcm_vaes_key *const *key,
			      struct rxsec_crypto_op *const *op, unsigned int n)
{
	vaes_ops += n;
	__real_rxsec_gcm_vaes_decrypt(key, op, n);
}
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void
sa_setup(struct tsa *t, unsigned int klen, unsigned int icv_len, bool esn)
{
	struct rxsec_sa_config c;
	uint8_t enc[15 * 16] __attribute__((aligned(16))), dec[15 * 16] __attribute__((aligned(16)));
	char why[128] = "";
	int rc;

	memset(&c, 0, sizeof(c));
	t->klen = klen;
	t->icv_len = icv_len;
	t->esn = esn;
	fill(t->key, sizeof(t->key));
	fill(t->salt, sizeof(t->salt));
	if (klen == 16) {
		IMB_AES128_GCM_PRE(ref, t->key, &t->gk);
		IMB_AES_KEYEXP_128(ref, t->key, enc, dec);
	} else if (klen == 24) {
		IMB_AES192_GCM_PRE(ref, t->key, &t->gk);
		IMB_AES_KEYEXP_192(ref, t->key, enc, dec);
	} else {
		IMB_AES256_GCM_PRE(ref, t->key, &t->gk);
		IMB_AES_KEYEXP_256(ref, t->key, enc, dec);
	}
	if (rxsec_gcm_vaes_cpu_ok())
		rxsec_gcm_vaes_key_init(&t->vk, enc, 6 + klen / 4, t->salt, icv_len, esn);
	c.proto = RXSEC_PROTO_ESP;
	c.cipher = RXSEC_CIPHER_AES_GCM;
	memcpy(c.cipher_key, t->key, klen);
	memcpy(c.cipher_key + klen, t->salt, 4);
	c.cipher_key_len = (uint16_t)(klen + 4);
	c.icv_len = (uint16_t)icv_len;
	c.esn = esn;
	rc = drv->sa_create(&c, &t->csa, why, sizeof(why));
	CHECK(rc == 0, "sa_create %u/%u/%d: %d %s", klen, icv_len, esn, rc, why);
}

/* ESP as a peer sends it: SPI, seq, IV, ciphertext, ICV; guard bytes after. */
static void
seal(struct tpkt *p, struct tsa *sa, uint32_t ct_len)
{
	struct gcm_context_data ctx;
	uint8_t iv[12], aad[12], tag[16], *d = p->sealed;
	uint64_t aad_len = sa->esn ? 12 : 8;

	p->sa = sa;
	p->ct_len = ct_len;
	p->seq_hi = sa->esn ? rnd() : 0;
	fill(p->pt, ct_len);
	fill(d, 16);
	memcpy(iv, sa->salt, 4);
	memcpy(iv + 4, d + 8, 8);
	memcpy(aad, d, 4);
	if (sa->esn) {
		aad[4] = (uint8_t)(p->seq_hi >> 24);
		aad[5] = (uint8_t)(p->seq_hi >> 16);
		aad[6] = (uint8_t)(p->seq_hi >> 8);
		aad[7] = (uint8_t)p->seq_hi;
		memcpy(aad + 8, d + 4, 4);
	} else {
		memcpy(aad + 4, d + 4, 4);
	}
	if (sa->klen == 16)
		IMB_AES128_GCM_ENC(ref, &sa->gk, &ctx, d + 16, p->pt, ct_len, iv, aad, aad_len,
				   tag, 16);
	else if (sa->klen == 24)
		IMB_AES192_GCM_ENC(ref, &sa->gk, &ctx, d + 16, p->pt, ct_len, iv, aad, aad_len,
				   tag, 16);
	else
		IMB_AES256_GCM_ENC(ref, &sa->gk, &ctx, d + 16, p->pt, ct_len, iv, aad, aad_len,
				   tag, 16);
	memcpy(d + 16 + ct_len, tag, sa->icv_len);	/* RFC 4106: the tag's first bytes */
	memset(d + 16 + ct_len + sa->icv_len, GUARD, SLOT - 16 - ct_len - sa->icv_len);
}

static uint32_t
pkt_len(const struct tpkt *p)
{
	return 16 + p->ct_len + p->sa->icv_len;
}

/* The op for p, whose first copy bytes as sealed go to data. */
static void
op_at(struct rxsec_crypto_op *op, struct tpkt *p, uint8_t *data, uint32_t copy)
{
	memcpy(data, p->sealed, copy);
	memset(op, 0, sizeof(*op));
	op->csa = p->sa->csa;
	op->data = data;
	op->len = pkt_len(p);
	op->seq_hi = p->seq_hi;
	op->result = 0xff;
}

static void
op_of(struct rxsec_crypto_op *op, struct tpkt *p)
{
	op_at(op, p, p->buf, SLOT);
}

/* One bit flipped in what the tag covers, or in the ESN high bits;
 * returns where (op->len and above: the high bits). */
static uint32_t
flip_bit(struct rxsec_crypto_op *op, bool esn)
{
	uint32_t where = rnd() % (op->len + (esn ? 4 : 0));

	if (where >= op->len)
		op->seq_hi ^= 1u << (rnd() % 32);
	else
		op->data[where] ^= (uint8_t)(1u << (rnd() % 8));
	return where;
}

static const char *
pkt_name(const struct tpkt *p)
{
	static char s[64];

	snprintf(s, sizeof(s), "AES-%u ICV %u%s ct %u", p->sa->klen * 8, p->sa->icv_len,
		 p->sa->esn ? " ESN" : "", p->ct_len);
	return s;
}

/* Good packets: plaintext, OK, and nothing else touched. */
static void
check_good(struct tpkt *p, const struct rxsec_crypto_op *op)
{
	uint32_t end = pkt_len(p);

	CHECK(op->result == RXSEC_CRYPTO_OK, "%s: result %u", pkt_name(p), op->result);
	CHECK(memcmp(p->buf + 16, p->pt, p->ct_len) == 0, "%s: plaintext differs", pkt_name(p));
	CHECK(memcmp(p->buf, p->sealed, 16) == 0, "%s: header or IV changed", pkt_name(p));
	CHECK(memcmp(p->buf + 16 + p->ct_len, p->sealed + 16 + p->ct_len, SLOT - end + p->sa->icv_len) == 0,
	      "%s: ICV or bytes after the packet changed", pkt_name(p));
}

/* n packets of random SAs, 2 to max_ct - 1 bytes of ciphertext, and their ops. */
static void
seal_burst(struct tpkt *pk, struct rxsec_crypto_op *ops, uint32_t n, uint32_t max_ct)
{
	for (uint32_t i = 0; i < n; i++) {
		seal(&pk[i], &sas[rnd() % NSA], 2 + rnd() % (max_ct - 1));
		op_of(&ops[i], &pk[i]);
	}
}

/* Bursts of random length mixing every SA and ciphertext length. */
static void
test_mixed_bursts(void)
{
	static struct tpkt pk[64];
	struct rxsec_crypto_op ops[64];

	for (int round = 0; round < 400; round++) {
		uint32_t n = 1 + rnd() % 64;

		seal_burst(pk, ops, n, MAX_CT);
		drv->process_burst(lc, ops, n);
		for (uint32_t i = 0; i < n; i++)
			check_good(&pk[i], &ops[i]);
	}
}

/* Every length with every SA, one at a time and four alike together. */
static void
test_every_length(void)
{
	static struct tpkt pk[4];
	struct rxsec_crypto_op ops[4];
	unsigned long takeable = 0;

	vaes_ops = 0;
	for (int s = 0; s < NSA; s++)
		for (uint32_t ct = 0; ct <= MAX_CT; ct++) {
			for (int i = 0; i < 4; i++) {
				seal(&pk[i], &sas[s], ct);
				op_of(&ops[i], &pk[i]);
			}
			drv->process_burst(lc, ops, 1);
			drv->process_burst(lc, ops + 1, 3);
			for (int i = 0; i < 4; i++)
				check_good(&pk[i], &ops[i]);
			takeable += ct <= RXSEC_GCM_VAES_MAX_CT ? 4 : 0;
		}
	CHECK(vaes_ops == (rxsec_mb_vaes ? takeable : 0), "%lu of %lu short packets went to gcm_vaes.c",
	      vaes_ops, takeable);
}

/* One bit flipped anywhere the tag covers, or in the ESN high bits: the
 * tag fails. Flipped in a burst of good packets, which stay good. */
static void
test_tamper(void)
{
	static struct tpkt pk[8];
	struct rxsec_crypto_op ops[8];

	for (int round = 0; round < 3000; round++) {
		uint32_t bad = rnd() % 8, where;

		seal_burst(pk, ops, 8, RXSEC_GCM_VAES_MAX_CT);
		where = flip_bit(&ops[bad], pk[bad].sa->esn);
		drv->process_burst(lc, ops, 8);
		for (uint32_t i = 0; i < 8; i++) {
			if (i != bad) {
				check_good(&pk[i], &ops[i]);
				continue;
			}
			CHECK(ops[i].result == RXSEC_CRYPTO_AUTH_FAILED, "%s: byte %u flipped: result %u",
			      pkt_name(&pk[i]), where, ops[i].result);
		}
	}
}

/*
 * The ESN re-check (lib/esn_reverify.c): a packet checked with the wrong
 * high bits fails, esp_undo_decrypt must give back every byte as it came,
 * and the same op with the right high bits then verifies. Short packets
 * fail in gcm_vaes.c, longer ones in the library; mixed in one burst with
 * good packets.
 */
static void
test_esn_undo(void)
{
	static struct tpkt pk[8];
	struct rxsec_crypto_op ops[8];

	for (int round = 0; round < 2000; round++) {
		uint32_t bad = rnd() % 8, hi;
		struct tpkt *p = &pk[bad];
		struct tsa *esn_sa = &sas[rnd() % NSA];

		while (!esn_sa->esn)
			esn_sa = &sas[rnd() % NSA];
		seal_burst(pk, ops, 8, MAX_CT);
		seal(p, esn_sa, 2 + rnd() % (MAX_CT - 1));
		op_of(&ops[bad], p);
		hi = p->seq_hi;
		ops[bad].seq_hi = hi + (round & 1 ? 1 : -1);
		drv->process_burst(lc, ops, 8);
		for (uint32_t i = 0; i < 8; i++)
			if (i != bad)
				check_good(&pk[i], &ops[i]);
		CHECK(ops[bad].result == RXSEC_CRYPTO_AUTH_FAILED, "%s: wrong high bits: result %u",
		      pkt_name(p), ops[bad].result);
		drv->esp_undo_decrypt(lc, &ops[bad]);
		CHECK(memcmp(p->buf, p->sealed, SLOT) == 0, "%s: undo left bytes changed",
		      pkt_name(p));
		ops[bad].seq_hi = hi;
		ops[bad].result = 0xff;
		drv->process_burst(lc, &ops[bad], 1);
		check_good(p, &ops[bad]);
	}
}

/*
 * gcm_vaes.c itself: every ciphertext length it takes, in groups of one to
 * four packets whose SAs (of one key size) differ in ICV length and ESN.
 * Each packet ends just before an unmapped page, or starts just after one;
 * the rest of its page must keep its pattern. A third of the groups have a
 * bit flipped in one packet, which must fail alone.
 */
static void
test_direct_guarded(void)
{
	static struct tpkt pk[RXSEC_GCM_VAES_GROUP];
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area[RXSEC_GCM_VAES_GROUP];

	for (int i = 0; i < RXSEC_GCM_VAES_GROUP; i++) {
		area[i] = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		CHECK(area[i] != MAP_FAILED, "mmap");
		if (area[i] == MAP_FAILED)
			return;
		/* pages 0 and 2 unmapped for reads and writes alike */
		CHECK(mprotect(area[i], pg, PROT_NONE) == 0 &&
		      mprotect(area[i] + 2 * pg, pg, PROT_NONE) == 0, "mprotect");
	}
	for (int at_start = 0; at_start <= 1; at_start++)
	for (unsigned int kind = 0; kind < NSA; kind += 6)	/* one key size at a time */
	for (unsigned int n = 1; n <= RXSEC_GCM_VAES_GROUP; n++)
	for (uint32_t ct = 0; ct <= RXSEC_GCM_VAES_MAX_CT; ct++) {
		const struct rxsec_gcm_vaes_key *key[RXSEC_GCM_VAES_GROUP];
		struct rxsec_crypto_op ops[RXSEC_GCM_VAES_GROUP], *op[RXSEC_GCM_VAES_GROUP];
		int bad = rnd() % 3 == 0 ? (int)(rnd() % n) : -1;
		uint32_t where = 0;

		for (unsigned int i = 0; i < n; i++) {
			struct tpkt *p = &pk[i];
			uint8_t *page = area[i] + pg;
			uint32_t len;

			seal(p, &sas[kind + rnd() % 6], (ct + 29 * i) % (RXSEC_GCM_VAES_MAX_CT + 1));
			len = pkt_len(p);
			memset(page, GUARD, pg);
			op_at(&ops[i], p, at_start ? page : page + pg - len, len);
			op[i] = &ops[i];
			key[i] = &p->sa->vk;
		}
		if (bad >= 0)
			where = flip_bit(&ops[bad], pk[bad].sa->esn);
		rxsec_gcm_vaes_decrypt(key, op, n);
		for (unsigned int i = 0; i < n; i++) {
			struct tpkt *p = &pk[i];
			const uint8_t *d = ops[i].data, *page = area[i] + pg;
			bool outside_ok = true;

			for (long b = 0; b < pg; b++)
				if ((page + b < d || page + b >= d + ops[i].len) && page[b] != GUARD)
					outside_ok = false;
			CHECK(outside_ok, "%s, lane %u of %u: a byte outside the packet changed",
			      pkt_name(p), i, n);
			if ((int)i == bad) {
				CHECK(ops[i].result == RXSEC_CRYPTO_AUTH_FAILED,
				      "%s, lane %u of %u: byte %u flipped: result %u", pkt_name(p), i,
				      n, where, ops[i].result);
				continue;
			}
			CHECK(ops[i].result == RXSEC_CRYPTO_OK && memcmp(d + 16, p->pt, p->ct_len) == 0 &&
			      memcmp(d, p->sealed, 16) == 0 &&
			      memcmp(d + 16 + p->ct_len, p->sealed + 16 + p->ct_len, p->sa->icv_len) == 0,
			      "%s, lane %u of %u%s: result %u or bytes wrong", pkt_name(p), i, n,
			      at_start ? ", at a page start" : ", at a page end", ops[i].result);
		}
	}
	for (int i = 0; i < RXSEC_GCM_VAES_GROUP; i++)
		munmap(area[i], 3 * pg);
}

int
main(void)
{
	const char *off = getenv("RXSEC_GCM_VAES"), *arch = getenv("RXSEC_IMB_ARCH");
	bool arch_ok = arch == NULL || *arch == '\0' || strcmp(arch, "avx512") == 0;
	unsigned int k = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ref = alloc_mb_mgr(0);
	if (ref == NULL)
		return 1;
	init_mb_mgr_auto(ref, NULL);
	lc = drv->lcore_create();
	if (lc == NULL) {
		printf("FAIL: lcore_create\n");
		return 1;
	}
	/* the path under test is the one this CPU and environment select */
	CHECK(rxsec_mb_vaes == ((off == NULL || strcmp(off, "0") != 0) && arch_ok &&
				rxsec_gcm_vaes_cpu_ok()),
	      "VAES path %s", rxsec_mb_vaes ? "on" : "off");
	printf("short GCM packets: %s\n", rxsec_mb_vaes ? "gcm_vaes.c" : "IPsec-MB direct call");
	for (unsigned int klen = 16; klen <= 32; klen += 8)
		for (unsigned int icv = 8; icv <= 16; icv += 4)
			for (int esn = 0; esn <= 1; esn++)
				sa_setup(&sas[k++], klen, icv, esn);
	if (fails == 0) {
		test_every_length();
		test_mixed_bursts();
		test_tamper();
		test_esn_undo();
		if (rxsec_gcm_vaes_cpu_ok())
			test_direct_guarded();
		else
			printf("no VAES: gcm_vaes.c not called directly\n");
	}
	for (k = 0; k < NSA; k++)
		drv->sa_free(sas[k].csa);
	drv->lcore_free(lc);
	free_mb_mgr(ref);
	printf("%d checks, %d failures\n", checks, fails);
	return fails != 0;
}
