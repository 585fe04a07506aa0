/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Short AES-GCM ESP decryptions, four at a time (gcm_vaes.h).
 *
 * GHASH works on blocks byte-reversed into integers, so that carry-less
 * multiplication lines up with GCM's reflected bit order. The powers of H
 * are kept multiplied by x^-1 (shifted left once, reduced), which lets a
 * 256-bit product be reduced by two multiplications by the constant
 * 0xc2 << 56 without the one-bit shift a plain product would need. As the
 * reduction is linear, a packet's products are summed first, and a group's
 * four sums are reduced together, one a lane.
 */
#include <assert.h>
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#include "gcm_vaes.h"

#define VAES_TARGET \
	__attribute__((target("avx512f,avx512bw,avx512vl,vaes,vpclmulqdq,aes,pclmul,ssse3")))

/* Everything is fully unrolled: a group's keystreams must stay in registers. */
#define VAES_INLINE	static inline __attribute__((always_inline)) VAES_TARGET

#define HPOW_MAX	9	/* hpow[0] = H^9 ... hpow[8] = H^1, then zeros */

/* The powers from H^e down, as loaded for a vector of blocks. */
#define HPOW_FROM(k, e)	((k)->hpow[HPOW_MAX - (e)])

/* CPUID leaves 1 (AES-NI, PCLMULQDQ: key set-up's 128-bit forms) and 7
 * for the instructions, and XCR0 for the OS saving the AVX-512 registers
 * (SSE, AVX, opmask, ZMM upper halves, ZMM16-31). */
bool
rxsec_gcm_vaes_cpu_ok(void)
{
	const unsigned int ebx_need = 1u << 16 | 1u << 30 | 1u << 31;	/* F, BW, VL */
	const unsigned int ecx_need = 1u << 9 | 1u << 10;		/* VAES, VPCLMULQDQ */
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AES) ||
	    !(c & bit_PCLMUL))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 0xe6) != 0xe6)
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & ebx_need) == ebx_need && (c & ecx_need) == ecx_need;
}

VAES_INLINE __m128i
bswap128(__m128i x)
{
	return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
						14, 15));
}

VAES_INLINE __m512i
bswap512(__m512i x)
{
	return _mm512_shuffle_epi8(x, _mm512_broadcast_i32x4(
		_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
}

/* Carry-less products of a and b, lane by lane, added to lo, hi and mid
 * (the middle terms, not yet split between lo and hi). */
VAES_INLINE void
clmul_add(__m512i a, __m512i b, __m512i *lo, __m512i *hi, __m512i *mid)
{
	*lo = _mm512_xor_si512(*lo, _mm512_clmulepi64_epi128(a, b, 0x00));
	*hi = _mm512_xor_si512(*hi, _mm512_clmulepi64_epi128(a, b, 0x11));
	*mid = _mm512_ternarylogic_epi64(*mid, _mm512_clmulepi64_epi128(a, b, 0x01),
					 _mm512_clmulepi64_epi128(a, b, 0x10), 0x96);
}

/* Each lane's 256-bit product (lo, hi and the middle terms) times x^-128,
 * modulo the GCM polynomial, in reflected form: four values at once. */
VAES_INLINE __m512i
ghash_reduce4(__m512i lo, __m512i hi, __m512i mid)
{
	const __m512i poly = _mm512_broadcast_i32x4(
		_mm_set_epi64x((long long)0xc200000000000000ull, 0));
	__m512i t;

	lo = _mm512_xor_si512(lo, _mm512_bslli_epi128(mid, 8));
	hi = _mm512_xor_si512(hi, _mm512_bsrli_epi128(mid, 8));
	t = _mm512_clmulepi64_epi128(lo, poly, 0x10);
	lo = _mm512_xor_si512(_mm512_shuffle_epi32(lo, _MM_PERM_BADC), t);
	t = _mm512_clmulepi64_epi128(lo, poly, 0x10);
	return _mm512_ternarylogic_epi64(hi, _mm512_shuffle_epi32(lo, _MM_PERM_BADC), t, 0x96);
}

/* a * b for a reflected a and b in the shifted form of the powers. */
VAES_TARGET static __m128i
ghash_mul(__m128i a, __m128i b)
{
	__m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;

	clmul_add(_mm512_zextsi128_si512(a), _mm512_zextsi128_si512(b), &lo, &hi, &mid);
	return _mm512_castsi512_si128(ghash_reduce4(lo, hi, mid));
}

/* The shifted form: a reflected value times x^-1 (one left shift, and the
 * polynomial added back when a bit falls off). H is secret: no branch. */
static void
ghash_shift_form(uint8_t out[16], __m128i v)
{
	uint64_t q[2], carry;

	memcpy(q, &v, sizeof(q));
	carry = 0 - (q[1] >> 63);	/* all ones when a bit falls off */
	q[1] = (q[1] << 1 | q[0] >> 63) ^ (carry & 0xc200000000000000ull);
	q[0] = q[0] << 1 ^ (carry & 1);
	memcpy(out, q, sizeof(q));
}

VAES_TARGET static __m128i
aes_encrypt_block(const struct rxsec_gcm_vaes_key *k, __m128i x)
{
	x = _mm_xor_si128(x, _mm_load_si128((const __m128i *)k->rk[0]));
	for (unsigned int r = 1; r < k->nr; r++)
		x = _mm_aesenc_si128(x, _mm_load_si128((const __m128i *)k->rk[r]));
	return _mm_aesenclast_si128(x, _mm_load_si128((const __m128i *)k->rk[k->nr]));
}

VAES_TARGET void
rxsec_gcm_vaes_key_init(struct rxsec_gcm_vaes_key *k, const uint8_t *round_keys,
			unsigned int nr, const uint8_t salt[4], unsigned int icv_len, bool esn)
{
	__m128i h, hs, p;
	uint8_t shifted[16];

	memset(k, 0, sizeof(*k));
	k->nr = (uint8_t)nr;
	k->icv_len = (uint8_t)icv_len;
	k->esn = esn;
	memcpy(k->salt, salt, sizeof(k->salt));
	memcpy(k->rk, round_keys, (nr + 1) * 16u);
	/* H = E(K, 0), reflected; powers by H in its shifted form */
	h = bswap128(aes_encrypt_block(k, _mm_setzero_si128()));
	ghash_shift_form(shifted, h);
	hs = _mm_loadu_si128((const __m128i *)shifted);
	p = h;
	for (unsigned int e = 1; e <= HPOW_MAX; e++) {
		ghash_shift_form(HPOW_FROM(k, e), p);
		p = ghash_mul(p, hs);
	}
}

VAES_INLINE __mmask64
byte_mask(uint32_t n)
{
	return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
}

/* The AAD reflected: SPI || seq, or SPI || seq_hi || seq. */
VAES_INLINE __m128i
esp_aad(const struct rxsec_gcm_vaes_key *k, const uint8_t *esp, uint32_t seq_hi)
{
	uint32_t spi, seq;

	if (!k->esn)
		return bswap128(_mm_loadl_epi64((const __m128i *)esp));
	memcpy(&spi, esp, 4);
	memcpy(&seq, esp + 4, 4);
	return bswap128(_mm_set_epi32(0, (int)seq, (int)__builtin_bswap32(seq_hi), (int)spi));
}

/*
 * One packet after its keystream: ks0 holds counters 2-5, ks1 counters 6-8
 * and, in its last lane, E(K, J0). The ciphertext is read once, for GHASH
 * and for the XOR, before the plaintext is written over it.
 *
 * GHASH runs over AAD, C1 .. Cnb and the lengths block, each times its own
 * power of H (H^(nb + 2) down to H^1). The blocks are moved up one lane so
 * that the AAD takes lane 0 and the lengths block the lane after the last
 * ciphertext block: the packet's hash is two vectors of products whose
 * lanes add up to it, left unreduced for gcm_group. Multiplications are
 * the scarce unit (VPCLMULQDQ issues about once every 1.3 TSC cycles at
 * any width, VAESENC four times as often), so no lane is multiplied
 * twice. With seven blocks the lengths block finds no free lane and takes
 * a product of its own.
 */
VAES_INLINE void
gcm_decrypt_hash(const struct rxsec_gcm_vaes_key *k, struct rxsec_crypto_op *op,
		 __m512i ks0, __m512i ks1, __m512i *lo, __m512i *hi, __m512i *mid)
{
	uint8_t *c = op->data + 16;	/* SPI, sequence number, IV */
	uint32_t clen = op->len - 16 - k->icv_len, nb = (clen + 15) / 16;
	__mmask64 m0 = byte_mask(clen), m1 = byte_mask(clen > 64 ? clen - 64 : 0);
	__m512i c0 = _mm512_maskz_loadu_epi8(m0, c), c1 = _mm512_maskz_loadu_epi8(m1, c + 64);
	__m512i s0 = bswap512(c0), s1 = bswap512(c1);
	__m128i len = _mm_set_epi64x(k->esn ? 96 : 64, (long long)clen * 8);
	/* dword mask of the lengths block's lane, nb + 1, over both vectors */
	uint32_t len_lane = nb < 7 ? 0xfu << (4 * (nb + 1)) : 0;
	__m512i lenb = _mm512_broadcast_i32x4(len);
	__m512i x0 = _mm512_alignr_epi64(s0, _mm512_setzero_si512(), 6);
	__m512i x1 = _mm512_alignr_epi64(s1, s0, 6);

	_mm512_mask_storeu_epi8(c, m0, _mm512_xor_si512(c0, ks0));
	_mm512_mask_storeu_epi8(c + 64, m1, _mm512_xor_si512(c1, ks1));
	x0 = _mm512_xor_si512(x0, _mm512_zextsi128_si512(esp_aad(k, op->data, op->seq_hi)));
	x0 = _mm512_mask_mov_epi32(x0, (__mmask16)len_lane, lenb);
	x1 = _mm512_mask_mov_epi32(x1, (__mmask16)(len_lane >> 16), lenb);
	*lo = *hi = *mid = _mm512_setzero_si512();
	clmul_add(x0, _mm512_loadu_si512(HPOW_FROM(k, nb + 2)), lo, hi, mid);
	clmul_add(x1, _mm512_loadu_si512(HPOW_FROM(k, (int)nb - 2)), lo, hi, mid);
	if (__builtin_expect(nb == 7, 0))
		clmul_add(_mm512_zextsi128_si512(len),
			  _mm512_zextsi128_si512(_mm_load_si128((const __m128i *)HPOW_FROM(k, 1))),
			  lo, hi, mid);
}

/* Lane i of the result: the sum of v[i]'s four lanes (a 4x4 transpose of
 * 128-bit lanes, added up). */
VAES_INLINE __m512i
sum_lanes(const __m512i *v)
{
	__m512i s01 = _mm512_xor_si512(_mm512_shuffle_i64x2(v[0], v[1], 0x44),
				       _mm512_shuffle_i64x2(v[0], v[1], 0xee));
	__m512i s23 = _mm512_xor_si512(_mm512_shuffle_i64x2(v[2], v[3], 0x44),
				       _mm512_shuffle_i64x2(v[2], v[3], 0xee));

	return _mm512_xor_si512(_mm512_shuffle_i64x2(s01, s23, 0x88),
				_mm512_shuffle_i64x2(s01, s23, 0xdd));
}

/* 128-bit lane i of v, without an immediate operand. */
VAES_INLINE __m128i
lane128(__m512i v, unsigned int i)
{
	return _mm512_castsi512_si128(_mm512_permutexvar_epi64(
		_mm512_set_epi64(0, 0, 0, 0, 0, 0, 2 * i + 1, 2 * i), v));
}

/* One compare of all the ICV's bytes: no early exit on the first mismatch. */
VAES_INLINE void
gcm_check(const struct rxsec_gcm_vaes_key *k, struct rxsec_crypto_op *op, __m128i tag)
{
	__mmask16 icv_mask = (__mmask16)((1u << k->icv_len) - 1);
	__m128i icv = _mm_maskz_loadu_epi8(icv_mask, op->data + op->len - k->icv_len);

	op->result = _mm_mask_cmpneq_epi8_mask(icv_mask, tag, icv) ?
		RXSEC_CRYPTO_AUTH_FAILED : RXSEC_CRYPTO_OK;
}

/* Round key r of k in every lane. */
VAES_INLINE __m512i
round_key(const struct rxsec_gcm_vaes_key *k, unsigned int r)
{
	return _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)k->rk[r]));
}

/* n packets (n and nr constants after inlining): two keystream vectors
 * each, all through the rounds together; their hashes reduced together. */
VAES_INLINE void
gcm_group(const struct rxsec_gcm_vaes_key *const *key, struct rxsec_crypto_op *const *op,
	  const unsigned int n, const unsigned int nr)
{
	/* counter words, big endian: 2, 3, 4, 5 and 6, 7, 8, then 1 (J0) */
	const __m512i ctr0 = _mm512_set_epi32(5 << 24, 0, 0, 0, 4 << 24, 0, 0, 0,
					      3 << 24, 0, 0, 0, 2 << 24, 0, 0, 0);
	const __m512i ctr1 = _mm512_set_epi32(1 << 24, 0, 0, 0, 8 << 24, 0, 0, 0,
					      7 << 24, 0, 0, 0, 6 << 24, 0, 0, 0);
	__m512i ks0[RXSEC_GCM_VAES_GROUP], ks1[RXSEC_GCM_VAES_GROUP];
	__m512i lo[RXSEC_GCM_VAES_GROUP], hi[RXSEC_GCM_VAES_GROUP], mid[RXSEC_GCM_VAES_GROUP];
	__m512i tag4, ej0;
	unsigned int i, r;

	_Pragma("GCC unroll 4")
	for (i = 0; i < n; i++) {
		uint32_t salt, iv[2];
		__m512i nonce, rk = round_key(key[i], 0);

		memcpy(&salt, key[i]->salt, 4);
		memcpy(iv, op[i]->data + 8, 8);
		nonce = _mm512_broadcast_i32x4(_mm_set_epi32(0, (int)iv[1], (int)iv[0], (int)salt));
		ks0[i] = _mm512_xor_si512(_mm512_or_si512(nonce, ctr0), rk);
		ks1[i] = _mm512_xor_si512(_mm512_or_si512(nonce, ctr1), rk);
	}
	_Pragma("GCC unroll 14")
	for (r = 1; r <= nr; r++) {
		_Pragma("GCC unroll 4")
		for (i = 0; i < n; i++) {
			__m512i rk = round_key(key[i], r);

			ks0[i] = r < nr ? _mm512_aesenc_epi128(ks0[i], rk) :
				_mm512_aesenclast_epi128(ks0[i], rk);
			ks1[i] = r < nr ? _mm512_aesenc_epi128(ks1[i], rk) :
				_mm512_aesenclast_epi128(ks1[i], rk);
		}
	}
	_Pragma("GCC unroll 4")
	for (i = 0; i < RXSEC_GCM_VAES_GROUP; i++) {
		if (i < n)
			gcm_decrypt_hash(key[i], op[i], ks0[i], ks1[i], &lo[i], &hi[i], &mid[i]);
		else
			lo[i] = hi[i] = mid[i] = ks1[i] = _mm512_setzero_si512();
	}
	/* lane i: packet i's sums, its hash, then its tag with E(K, J0) */
	ej0 = _mm512_shuffle_i64x2(_mm512_shuffle_i64x2(ks1[0], ks1[1], 0xff),
				   _mm512_shuffle_i64x2(ks1[2], ks1[3], 0xff), 0x88);
	tag4 = _mm512_xor_si512(bswap512(ghash_reduce4(sum_lanes(lo), sum_lanes(hi),
						       sum_lanes(mid))), ej0);
	_Pragma("GCC unroll 4")
	for (i = 0; i < n; i++)
		gcm_check(key[i], op[i], lane128(tag4, i));
}

#define GCM_GROUP_NR(nr)							\
VAES_TARGET static void								\
gcm_group_##nr(const struct rxsec_gcm_vaes_key *const *key,			\
	       struct rxsec_crypto_op *const *op, unsigned int n)		\
{										\
	switch (n) {								\
	case 4:									\
		gcm_group(key, op, 4, nr);					\
		break;								\
	case 3:									\
		gcm_group(key, op, 3, nr);					\
		break;								\
	case 2:									\
		gcm_group(key, op, 2, nr);					\
		break;								\
	default:								\
		gcm_group(key, op, 1, nr);					\
		break;								\
	}									\
}

GCM_GROUP_NR(10)
GCM_GROUP_NR(12)
GCM_GROUP_NR(14)

#ifndef NDEBUG
/* What the caller promises (gcm_vaes.h; the driver's mb_vaes_fits): the
 * masks reach 128 bytes past the IV, so a longer op would be read and
 * written beyond its ciphertext. Checked in builds with assertions. */
static bool
group_ok(const struct rxsec_gcm_vaes_key *const *key, struct rxsec_crypto_op *const *op,
	 unsigned int n)
{
	if (n > RXSEC_GCM_VAES_GROUP)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		const struct rxsec_gcm_vaes_key *k = key[i];

		if (k->nr != key[0]->nr || (k->nr != 10 && k->nr != 12 && k->nr != 14) ||
		    (k->icv_len != 8 && k->icv_len != 12 && k->icv_len != 16) ||
		    op[i]->len < 16u + k->icv_len ||
		    op[i]->len > RXSEC_GCM_VAES_MAX_LEN(k->icv_len))
			return false;
	}
	return true;
}
#endif

void
rxsec_gcm_vaes_decrypt(const struct rxsec_gcm_vaes_key *const *key,
		       struct rxsec_crypto_op *const *op, unsigned int n)
{
	assert(group_ok(key, op, n));
	if (n == 0)
		return;
	if (key[0]->nr == 10)
		gcm_group_10(key, op, n);
	else if (key[0]->nr == 12)
		gcm_group_12(key, op, n);
	else
		gcm_group_14(key, op, n);
}
