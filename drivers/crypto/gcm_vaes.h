/* SPDX-License-Identifier: BSD-3-Clause
 *
 * AES-GCM ESP decryption of short packets, four at a time, with VAES and
 * VPCLMULQDQ (AVX-512). IPsec-MB's GCM works on one packet per call: a
 * 64-byte packet's few AES rounds and GHASH steps form one dependency chain
 * that leaves the vector units mostly idle. Here the keystreams of four
 * packets go through the AES rounds together, each packet's GHASH is one
 * aggregated multiply (AAD, every block and the lengths block times its
 * own power of H) and the four are reduced together. The IPsec-MB driver hands its short GCM packets here
 * when the CPU has these instructions; longer ones stay with IPsec-MB.
 */
#ifndef RXSEC_GCM_VAES_H
#define RXSEC_GCM_VAES_H

#include <stdbool.h>
#include <stdint.h>

#include "rxsec_crypto.h"

/* Ciphertext bytes (payload, padding and trailer) handled here: seven
 * blocks, a 64-byte inner packet's ESP payload with room to spare. */
#define RXSEC_GCM_VAES_MAX_CT	112
/* The longest ESP op taken (SPI, sequence number, IV, ciphertext, ICV). */
#define RXSEC_GCM_VAES_MAX_LEN(icv_len)	(16u + RXSEC_GCM_VAES_MAX_CT + (icv_len))
#define RXSEC_GCM_VAES_GROUP	4

/* Per SA, built once. The powers are those the data path loads for up to
 * seven blocks: H^9 down to H^1, then zero entries that a shorter packet's
 * empty lanes multiply. */
struct rxsec_gcm_vaes_key {
	uint8_t nr;			/* AES rounds: 10, 12 or 14; 0 = not usable */
	uint8_t icv_len;		/* 8, 12 or 16 */
	bool esn;			/* AAD is SPI || seq_hi || seq */
	uint8_t salt[4];
	uint8_t rk[15][16] __attribute__((aligned(16)));	/* encryption round keys */
	uint8_t hpow[16][16] __attribute__((aligned(64)));	/* see above, GHASH form */
} __attribute__((aligned(64)));

/* Whether this CPU runs the code (AVX-512 F/BW/VL, VAES, VPCLMULQDQ). */
bool rxsec_gcm_vaes_cpu_ok(void);

/* From the AES encryption key schedule (nr + 1 round keys). */
void rxsec_gcm_vaes_key_init(struct rxsec_gcm_vaes_key *k, const uint8_t *round_keys,
			     unsigned int nr, const uint8_t salt[4], unsigned int icv_len,
			     bool esn);

/* Decrypt up to RXSEC_GCM_VAES_GROUP ESP packets in place and verify their
 * tags; op[i]->result as rxsec_crypto_op says. Each op's ciphertext is at
 * most RXSEC_GCM_VAES_MAX_CT bytes and all keys have the same nr. */
void rxsec_gcm_vaes_decrypt(const struct rxsec_gcm_vaes_key *const *key,
			    struct rxsec_crypto_op *const *op, unsigned int n);

#endif /* RXSEC_GCM_VAES_H */
