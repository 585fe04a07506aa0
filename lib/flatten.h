/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frames that arrive as a chain of segments: a jumbo frame from net_pcap,
 * or from a NIC receiving with RX scatter. Classification, the crypto
 * engine and decapsulation work on one contiguous segment, so the engine
 * flattens a chain first: in place when its first segment has the room,
 * else into one mbuf of a pool of large buffers.
 */
#ifndef RXSEC_FLATTEN_H
#define RXSEC_FLATTEN_H

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pkt_meta.h"

/* Largest frame rxsec flattens (a 9000-byte MTU with VLAN tags fits). */
#define RXSEC_FRAME_MAX		9216

/*
 * The frame m as one segment: m itself, or a copy from `big` (may be NULL)
 * that replaces it, m then freed. A frame longer than RXSEC_FRAME_MAX, or
 * one met while `big` is empty, stays a chain, which the engine does not
 * process and the transport drops as too_long. Cold path: only chains
 * come here.
 */
struct rte_mbuf *rxsec_flatten(struct rte_mbuf *m, struct rte_mempool *big);

/* A frame that stayed a chain was classified on its first segment only:
 * not processed, dropped as too_long. */
static inline void
rxsec_meta_too_long(struct rxsec_pkt_meta *md)
{
	md->kind = RXSEC_PKT_MALFORMED;
	md->flags |= RXSEC_PKT_F_TOO_LONG;
}

#endif /* RXSEC_FLATTEN_H */
