/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ESN re-verification (RFC 4303 2.2.1 and A2.1, RFC 4302 2.5.1): the engine
 * infers a packet's high 32 sequence bits from the window top the transport
 * published; near a 2^32 subspace boundary a stale top can pick the wrong
 * subspace. The transport then runs the checks again with the other
 * candidate before declaring an ICV failure.
 *
 * ESP is decrypted in place even when the ICV fails: the crypto driver
 * undoes that decryption (esp_undo_decrypt) before the second check, so
 * nothing is copied beforehand and any packet size can be re-verified.
 * Only packets within RXSEC_ESN_REVERIFY_MARGIN of a boundary qualify.
 */
#ifndef RXSEC_ESN_REVERIFY_H
#define RXSEC_ESN_REVERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "sa.h"

#define RXSEC_ESN_REVERIFY_MARGIN	(1u << 16)

static inline bool
rxsec_esn_near_boundary(uint32_t lo)
{
	return lo < RXSEC_ESN_REVERIFY_MARGIN || lo > UINT32_MAX - RXSEC_ESN_REVERIFY_MARGIN;
}

/*
 * The other candidate for the high bits of a packet checked with hi against
 * window top `top`: just after a boundary the packet may be one subspace
 * later than assumed (the top lags), just before one it may be a late packet
 * of the previous subspace. false if there is none.
 */
static inline bool
rxsec_esn_alt_hi(uint64_t top, uint32_t hi, uint32_t lo, uint32_t *alt)
{
	uint32_t th = (uint32_t)(top >> 32);

	if (lo < RXSEC_ESN_REVERIFY_MARGIN) {
		if (hi <= th && hi != UINT32_MAX)
			*alt = hi + 1;
		else
			*alt = hi - 1;
		return true;
	}
	if (lo > UINT32_MAX - RXSEC_ESN_REVERIFY_MARGIN) {
		if (hi >= th && hi != 0)
			*alt = hi - 1;
		else if (hi != UINT32_MAX)
			*alt = hi + 1;
		else
			return false;
		return true;
	}
	return false;
}

/* Sequence number low bits as received (ESP: after the SPI; AH: after it too). */
static inline uint32_t
rxsec_esn_seq_lo(struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint32_t off = md->ipsec_off + (md->kind == RXSEC_PKT_AH ? 8 : 4);

	return rxsec_rd_be32(rte_pktmbuf_mtod_offset(m, const uint8_t *, off));
}

/* After an ICV failure (status == sa->auth_failed_status) on an ESN SA: the
 * status of the layer md of m (the packet's first, or the second of a nested
 * one) with the other high value; on success md->seq_hi holds it, and a
 * first layer that may carry a second has RXSEC_PKT_F_INNER_HINT. */
enum rxsec_crypto_status rxsec_esn_reverify(const struct rxsec_crypto_driver *drv,
					    void *cctx, struct rte_mbuf *m,
					    struct rxsec_pkt_meta *md, struct rxsec_sa *sa);

#endif /* RXSEC_ESN_REVERIFY_H */
