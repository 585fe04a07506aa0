/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The unfragmentable part of an IPv6 fragment (RFC 8200 4.5): hop-by-hop,
 * destination and routing headers in front of the fragment header. Every
 * fragment repeats it, and the reassembled datagram takes the first
 * fragment's. DPDK's reassembly wants the fragment header right behind the
 * fixed one, so the part is taken out of each fragment before, and the
 * first fragment's put back after: it waits in that fragment's own
 * headroom, which becomes the datagram's head.
 */
#ifndef RXSEC_IPV6_UNFRAG_H
#define RXSEC_IPV6_UNFRAG_H

#include <stdint.h>
#include <rte_mbuf.h>

/* The most bytes of extension headers kept for a datagram. */
#define RXSEC_IPV6_UNFRAG_MAX	96

/* The fragment header of the IPv6 packet ip6 (len bytes), behind any
 * extension headers that may precede it (*ext_len bytes of them); NULL if
 * there is none. */
uint8_t *rxsec_ipv6_frag_header(uint8_t *ip6, uint32_t len, uint32_t *ext_len);

/* Take the unfragmentable extension headers out of fragment m (IPv6 at
 * l2_len, one segment); a first fragment keeps them in its headroom.
 * Returns -1, m unchanged, when there are more than RXSEC_IPV6_UNFRAG_MAX
 * bytes of them or no room. */
int rxsec_ipv6_unfrag_out(struct rte_mbuf *m, uint16_t l2_len);

/* Put the first fragment's headers back into datagram d (its head). */
void rxsec_ipv6_unfrag_back(struct rte_mbuf *d, uint16_t l2_len);

#endif /* RXSEC_IPV6_UNFRAG_H */
