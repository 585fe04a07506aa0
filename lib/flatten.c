/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "flatten.h"

/* What the receiving port said about the frame goes with its bytes. */
static void
copy_rx_fields(struct rte_mbuf *to, const struct rte_mbuf *from)
{
	const uint64_t own = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;

	to->port = from->port;
	to->ol_flags = (to->ol_flags & own) | (from->ol_flags & ~own);
	to->packet_type = from->packet_type;
	to->vlan_tci = from->vlan_tci;
	to->vlan_tci_outer = from->vlan_tci_outer;
	to->hash = from->hash;
}

struct rte_mbuf *
rxsec_flatten(struct rte_mbuf *m, struct rte_mempool *big)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), off = 0;
	struct rte_mbuf *n, *seg;
	uint8_t *dst;

	if (rte_pktmbuf_linearize(m) == 0)
		return m;
	if (big == NULL || len > RXSEC_FRAME_MAX)
		return m;
	n = rte_pktmbuf_alloc(big);
	if (n == NULL)
		return m;
	dst = (uint8_t *)rte_pktmbuf_append(n, (uint16_t)len);
	if (dst == NULL) {
		rte_pktmbuf_free(n);
		return m;
	}
	for (seg = m; seg != NULL && off + seg->data_len <= len; seg = seg->next) {
		memcpy(dst + off, rte_pktmbuf_mtod(seg, const void *), seg->data_len);
		off += seg->data_len;
	}
	if (unlikely(seg != NULL || off != len)) {
		/* segment lengths that do not add up: leave it to be dropped */
		rte_pktmbuf_free(n);
		return m;
	}
	copy_rx_fields(n, m);
	rte_pktmbuf_free(m);
	return n;
}
