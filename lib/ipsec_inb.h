/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Inbound IPsec over a burst: prepare every packet's job, run the crypto
 * engine once for the whole burst, then check what came out. The engine
 * uses it for offloaded packets, the transport for its software path, so
 * both produce the same bytes and statuses.
 */
#ifndef RXSEC_IPSEC_INB_H
#define RXSEC_IPSEC_INB_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "sa.h"

struct rxsec_sa_table;

#define RXSEC_BURST_MAX	64

/*
 * Decrypt/verify n <= RXSEC_BURST_MAX packets; st[i] = enum rxsec_crypto_status.
 * `inner` selects the packets' second IPsec layer (nested SAs) instead of the
 * first. Returns how many verified first layers may carry a second one
 * (RXSEC_PKT_F_INNER_HINT set): rxsec_ipsec_inner_burst() is needed only then.
 */
uint32_t rxsec_ipsec_inb_burst(const struct rxsec_crypto_driver *drv, void *cctx,
			   struct rte_mbuf **m, struct rxsec_sa **sa,
			   uint32_t n, uint8_t *st, int inner);

/*
 * Rule 5 / section 4: for each packet whose first layer verified (st[i] ==
 * SUCCESS), look for a second IPsec layer (rxsec_classify_inner), find its
 * SA and verify it in one more crypto burst. isa[i] is the inner SA that was
 * processed, or NULL; st[i] takes the inner layer's failure. The engine
 * passes its capabilities (only_offload); the transport's software path
 * takes every known transport-mode SA. Returns how many were processed.
 */
uint32_t rxsec_ipsec_inner_burst(const struct rxsec_crypto_driver *drv, void *cctx,
				 const struct rxsec_sa_table *sat, struct rte_mbuf **m,
				 struct rxsec_sa **sa, uint32_t n, uint8_t *st,
				 struct rxsec_sa **isa, uint8_t excluded_flags,
				 bool only_offload);

/* Sequence number (64-bit with the inferred ESN high bits) of a checked layer. */
static inline uint64_t
rxsec_ipsec_seq(struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint32_t off = md->ipsec_off + (md->kind == RXSEC_PKT_AH ? 8 : 4);
	uint32_t lo = rxsec_rd_be32(rte_pktmbuf_mtod_offset(m, const uint8_t *, off));

	return (uint64_t)md->seq_hi << 32 | lo;
}

static inline struct rxsec_pkt_meta *
rxsec_ipsec_layer(struct rte_mbuf *m, int inner)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);

	return inner ? &p->inner : &p->outer;
}

#endif /* RXSEC_IPSEC_INB_H */
