/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Delivery format (spec section 4): the received Ethernet header, then the
 * inner packet (tunnel) or the outer IP header with ESP/AH removed
 * (transport). Works in place on a checked packet.
 */
#ifndef RXSEC_DECAP_H
#define RXSEC_DECAP_H

#include <rte_mbuf.h>

#include "pkt_meta.h"

/* Returns 0, or -1 if the packet cannot be rebuilt (then left unchanged). */
int rxsec_decap_tunnel(struct rte_mbuf *m, const struct rxsec_pkt_meta *md);
int rxsec_decap_transport(struct rte_mbuf *m, const struct rxsec_pkt_meta *md);

#endif /* RXSEC_DECAP_H */
