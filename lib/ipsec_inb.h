/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Inbound IPsec over a burst: prepare every packet's job, run the crypto
 * engine once for the whole burst, then check what came out. The engine
 * uses it for offloaded packets, the transport for its software path, so
 * both produce the same bytes and statuses.
 */
#ifndef RXSEC_IPSEC_INB_H
#define RXSEC_IPSEC_INB_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "sa.h"

#define RXSEC_BURST_MAX	64

/*
 * Decrypt/verify n <= RXSEC_BURST_MAX packets; st[i] = enum rxsec_crypto_status.
 * `inner` selects the packets' second IPsec layer (nested SAs) instead of the first.
 */
void rxsec_ipsec_inb_burst(const struct rxsec_crypto_driver *drv, void *cctx,
			   struct rte_mbuf **m, struct rxsec_sa **sa,
			   uint32_t n, uint8_t *st, int inner);

/* Sequence number (64-bit with the inferred ESN high bits) of a checked layer. */
uint64_t rxsec_ipsec_seq(struct rte_mbuf *m, const struct rxsec_pkt_meta *md);

static inline struct rxsec_pkt_meta *
rxsec_ipsec_layer(struct rte_mbuf *m, int inner)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);

	return inner ? &p->inner : &p->outer;
}

#endif /* RXSEC_IPSEC_INB_H */
