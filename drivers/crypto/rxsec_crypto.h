/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The one small interface between rxsec and a crypto engine. The engine
 * receives ESP payloads and AH-protected packets already checked for length
 * and layout; it decrypts ESP in place and verifies ICVs. It knows RFC 4106,
 * 4543, 7634, 4309, 3602, 3686, 2410 and the HMAC/XCBC/CMAC ICV rules,
 * nothing of IP.
 */
#ifndef RXSEC_CRYPTO_H
#define RXSEC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "sa_config.h"

/* Per-SA key schedule owned by the driver. */
struct rxsec_crypto_sa;

enum rxsec_crypto_result {
	RXSEC_CRYPTO_OK = 0,
	RXSEC_CRYPTO_AUTH_FAILED = 1,	/* ICV / tag mismatch */
	RXSEC_CRYPTO_ERROR = 2,		/* engine refused the job */
};

/*
 * One job. For ESP, `data` points at the ESP header (SPI) and `len` covers
 * header, IV, ciphertext and ICV; on success the ciphertext is replaced by the
 * plaintext in place (header, IV and ICV bytes may be used as scratch only if
 * restored). For AH, `data`/`len` is the whole IP packet with the mutable
 * fields and the ICV field already zeroed, and `icv` points at a copy of the
 * received ICV. `seq_hi` is appended/inserted per RFC 4303/4106/4302 when the
 * SA has ESN.
 */
struct rxsec_crypto_op {
	const struct rxsec_crypto_sa *csa;
	uint8_t *data;
	uint32_t len;
	uint32_t seq_hi;		/* host order */
	const uint8_t *icv;		/* AH only */
	uint8_t result;			/* out: enum rxsec_crypto_result */
};

struct rxsec_crypto_driver {
	const char *name;
	/* The environment variables the driver reads hold values it knows:
	 * 0, or -EINVAL with the variable, its value and the choices in why. */
	int (*check_env)(char *why, size_t whylen);
	/* Build the key schedule; -ENOTSUP/-EINVAL with a reason in why. */
	int (*sa_create)(const struct rxsec_sa_config *c,
			 struct rxsec_crypto_sa **out, char *why, size_t whylen);
	void (*sa_free)(struct rxsec_crypto_sa *csa);
	/* Per-lcore context (e.g. one IMB_MGR); NULL on failure. */
	void *(*lcore_create)(void);
	void (*lcore_free)(void *ctx);
	/* Run n jobs, any n; results in ops[i].result. No allocation. */
	void (*process_burst)(void *ctx, struct rxsec_crypto_op *ops, uint32_t n);
	/* Put back the ESP ciphertext that process_burst decrypted in place
	 * for op (as prepared for it, whatever its result): the bytes as
	 * received, for a second check with other ESN high bits. */
	void (*esp_undo_decrypt)(void *ctx, struct rxsec_crypto_op *op);
};

extern const struct rxsec_crypto_driver rxsec_crypto_ipsec_mb;

/* ESP layout facts for an algorithm (RFC 4303 section 2): IV bytes and the
 * alignment the ciphertext must have (cipher block, at least 4). */
unsigned int rxsec_crypto_iv_len(enum rxsec_cipher_alg a);
unsigned int rxsec_crypto_block_len(enum rxsec_cipher_alg a);

#endif /* RXSEC_CRYPTO_H */
