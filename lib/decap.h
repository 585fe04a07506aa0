/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Delivery format (spec section 4): the received Ethernet header, then the
 * inner packet (tunnel) or the outer IP header with ESP/AH removed
 * (transport). Works in place on a checked packet. Inline: the transport
 * calls it for every delivered packet.
 */
#ifndef RXSEC_DECAP_H
#define RXSEC_DECAP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "esp_inb.h"
#include "pkt_meta.h"

/* One's complement checksum after a 16-bit word changed from old to new,
 * all three as stored in the packet (RFC 1624 eqn. 3). */
static inline uint16_t
rxsec_cksum_adjust(uint16_t hc, uint16_t old, uint16_t new)
{
	uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * Set an IPv4 header's total length and the byte naming the next protocol
 * (in the header, or in an AH header behind it), then adjust the header
 * checksum for the words that changed instead of recomputing it: cheaper,
 * and a header nobody checked (a nested packet's inner one) that came with a
 * wrong checksum keeps it, for the host behind rxsec to drop (RFC 1122
 * 3.2.1.2).
 */
static inline void
rxsec_ipv4_rewrite(uint8_t *ip, uint8_t *nh, uint8_t proto, uint16_t len)
{
	uint16_t old_len, old_ttl_proto, ttl_proto, ck;
	rte_be16_t be_len = rte_cpu_to_be_16(len);

	memcpy(&old_len, ip + 2, 2);
	memcpy(&old_ttl_proto, ip + 8, 2);
	*nh = proto;		/* may or may not be the header's protocol byte */
	memcpy(ip + 2, &be_len, 2);
	memcpy(&ttl_proto, ip + 8, 2);
	memcpy(&ck, ip + 10, 2);
	ck = rxsec_cksum_adjust(rxsec_cksum_adjust(ck, old_len, be_len), old_ttl_proto, ttl_proto);
	memcpy(ip + 10, &ck, 2);
}

/*
 * UDP and UDP-Lite keep the span their checksum covers in the same word.
 * UDP's length: bytes behind it in the IP payload are not summed (Linux's
 * udp_rcv trims them before it checks). UDP-Lite's coverage (RFC 3828
 * 3.1), 0 meaning the whole datagram. A span below 8 or past the payload,
 * or a zero checksum (none for UDP; invalid for UDP-Lite), makes a datagram
 * its receiver drops or takes unchecked (udp_rcv, udplite_checksum_init):
 * left as received, for the host to judge, rather than given a right sum.
 */
static inline bool
rxsec_udp_span(const uint8_t *l4, uint32_t l4_len, bool lite, uint32_t *cov)
{
	uint32_t c;

	if (l4_len < 8 || (l4[6] | l4[7]) == 0)
		return false;
	c = (uint32_t)l4[4] << 8 | l4[5];
	if (c == 0 && lite)
		c = l4_len;
	*cov = c;
	return c >= 8 && c <= l4_len;
}

/*
 * DCCP (RFC 4340 9.2): the checksum covers the header (Data Offset words)
 * and, for CsCov > 0, (CsCov - 1) * 4 bytes of data; CsCov 0 covers the
 * whole packet. A data offset shorter than the generic header or longer
 * than the packet, or a coverage past its end, makes a packet its receiver
 * ignores (Linux: dccp_invalid_packet): left as received, as above.
 */
static inline bool
rxsec_dccp_coverage(const uint8_t *l4, uint32_t l4_len, uint32_t *cov)
{
	uint32_t doff, cscov;

	if (l4_len < 12)
		return false;
	doff = l4[4] * 4u;
	cscov = l4[5] & 0x0fu;
	if (doff < 12 || doff > l4_len)
		return false;
	*cov = cscov == 0 ? l4_len : doff + (cscov - 1) * 4;
	return *cov <= l4_len;
}

/*
 * The checksum a transport-mode segment sums over the IP pseudo-header:
 * where it sits (*ck_at) and how many bytes it covers (*cov). False for a
 * protocol without one, or a segment left as received.
 */
static inline bool
rxsec_natt_cksum_span(uint8_t proto, bool v6, const uint8_t *l4, uint32_t l4_len,
		      uint32_t *ck_at, uint32_t *cov)
{
	*cov = l4_len;
	*ck_at = 6;
	switch (proto) {
	case IPPROTO_TCP:
		*ck_at = 16;
		return l4_len >= 20;
	case IPPROTO_UDP:
		return rxsec_udp_span(l4, l4_len, false, cov);
	case IPPROTO_ICMPV6:
		*ck_at = 2;
		return v6 && l4_len >= 4;
	case IPPROTO_UDPLITE:
		return rxsec_udp_span(l4, l4_len, true, cov);
	case IPPROTO_DCCP:
		return rxsec_dccp_coverage(l4, l4_len, cov);
	default:
		return false;
	}
}

/*
 * RFC 3948 3.1.2: a transport-mode segment that came in UDP carries the
 * checksum its sender computed over its own addresses, which a NAT on the
 * way rewrote in the header (and the SA's NAT-OA is rarely known). The ICV
 * vouched for the segment, so the checksum is recomputed over the addresses
 * as received (step 4) and the host behind rxsec accepts it. The RFC names
 * TCP and UDP; every protocol whose checksum covers the pseudo-header
 * breaks alike: ICMPv6 (RFC 4443 2.3) under a NAT66, UDP-Lite and DCCP
 * over their coverage. Linux marks the payload CHECKSUM_UNNECESSARY
 * (esp_input_done2) and skips most such checks; the host behind rxsec may
 * not, so they are recomputed too. A
 * UDP checksum of zero (none; RFC 6935 over IPv6) stays zero. ICMPv4 sums
 * no addresses. addrs: the source and destination, alen bytes (8 or 32);
 * the pseudo-header sums the same for both versions (RFC 768, RFC 8200
 * 8.1) with lengths below 64 KiB: UDP's length is its own, UDP-Lite's
 * and DCCP's the whole segment's, whatever the coverage (RFC 3828 3.2,
 * RFC 4340 9.1).
 */
static inline void
rxsec_natt_transport_cksum(const uint8_t *addrs, uint32_t alen, uint8_t proto, uint8_t *l4,
			   uint32_t l4_len)
{
	uint32_t ck_at, cov, sum;
	uint16_t ck = 0;

	if (!rxsec_natt_cksum_span(proto, alen == 32, l4, l4_len, &ck_at, &cov))
		return;
	memcpy(l4 + ck_at, &ck, 2);
	sum = __rte_raw_cksum(addrs, alen, 0) + rte_cpu_to_be_16(proto) +
		rte_cpu_to_be_16((uint16_t)(proto == IPPROTO_UDP ? cov : l4_len));
	ck = (uint16_t)~__rte_raw_cksum_reduce(__rte_raw_cksum(l4, cov, sum));
	/* RFC 768, RFC 3828 3.1: a computed zero is sent as ones */
	if (ck == 0 && (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE))
		ck = 0xffff;
	memcpy(l4 + ck_at, &ck, 2);
}

/* rxsec_decap_tunnel() and rxsec_decap_transport() return 0, or -1 if the
 * packet cannot be rebuilt (then dropped as malformed). */

/* Move the first `keep` bytes of the frame over the `cut` bytes after them;
 * returns where the frame now starts (rxsec_frame_shrink() makes it so),
 * or NULL, the frame unchanged, if the first segment is shorter. */
static __rte_always_inline uint8_t *
rxsec_frame_cut(struct rte_mbuf *m, uint32_t keep, uint32_t cut)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);

	if (unlikely(keep + cut > rte_pktmbuf_data_len(m)))
		return NULL;

	/* Tunnel decap moves just the Ethernet header (14 bytes untagged)
	 * over a longer cut: two overlapping words, no overlap with the cut. */
	if (keep >= 8 && keep <= 16 && keep <= cut) {
		uint64_t head, tail;

		memcpy(&head, base, 8);
		memcpy(&tail, base + keep - 8, 8);
		memcpy(base + cut, &head, 8);
		memcpy(base + cut + keep - 8, &tail, 8);
	} else if (keep <= cut) {
		rte_memcpy(base + cut, base, keep);
	} else {
		memmove(base + cut, base, keep);
	}
	return base + cut;
}

/* The frame starts `cut` bytes later and is `len` bytes long; both lie
 * inside the checked packet. One segment (the engine linearizes) is three
 * stores; a chain takes the mbuf library's checks. */
static __rte_always_inline int
rxsec_frame_shrink(struct rte_mbuf *m, uint32_t cut, uint32_t len)
{
	if (likely(m->nb_segs == 1)) {
		m->data_off = (uint16_t)(m->data_off + cut);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		return 0;
	}
	if (rte_pktmbuf_adj(m, (uint16_t)cut) == NULL)
		return -1;
	return rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - len));
}

/*
 * RFC 6040 section 4.2, as Linux applies it (flag noecn turns it off): a
 * congestion mark on the outer header survives decapsulation when the inner
 * packet is ECN-capable; a Not-ECT inner packet is delivered as it was.
 * With decap-dscp the outer DSCP is copied in too. An IPv4 checksum is
 * adjusted for the one word that changes.
 */
static inline void
rxsec_tunnel_ds_decap(uint8_t *inner, uint8_t outer_ds, uint8_t mode)
{
	uint8_t ds = rxsec_ip_dsfield(inner), nds = ds;

	if (mode & RXSEC_DS_DSCP)
		nds = (uint8_t)((outer_ds & 0xfc) | (nds & 0x03));
	if ((mode & RXSEC_DS_ECN) && (outer_ds & 0x03) == 0x03 && (nds & 0x03) != 0)
		nds |= 0x03;
	if (nds == ds)
		return;
	if (inner[0] >> 4 == 4) {
		uint16_t old, new, ck;

		memcpy(&old, inner, 2);
		inner[1] = nds;
		memcpy(&new, inner, 2);
		memcpy(&ck, inner + 10, 2);
		ck = rxsec_cksum_adjust(ck, old, new);
		memcpy(inner + 10, &ck, 2);
	} else {
		inner[0] = (uint8_t)((inner[0] & 0xf0) | nds >> 4);
		inner[1] = (uint8_t)((inner[1] & 0x0f) | nds << 4);
	}
}

static inline int
rxsec_decap_tunnel(struct rte_mbuf *m, const struct rxsec_pkt_meta *md, uint8_t ds_mode)
{
	const uint8_t *inner = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->payload_off);
	uint8_t outer_ds = rxsec_ip_dsfield(rte_pktmbuf_mtod_offset(m, const uint8_t *,
								    md->l3_off));
	uint32_t inner_len;
	uint16_t type;
	uint8_t *f;

	if (md->next_proto == RXSEC_NH_IPV4) {
		inner_len = (uint32_t)inner[2] << 8 | inner[3];
		type = RTE_ETHER_TYPE_IPV4;
	} else if (md->next_proto == RXSEC_NH_IPV6) {
		inner_len = 40u + ((uint32_t)inner[4] << 8 | inner[5]);
		type = RTE_ETHER_TYPE_IPV6;
	} else {
		return -1;
	}
	if (md->payload_off + inner_len > md->payload_end)
		return -1;
	f = rxsec_frame_cut(m, md->l3_off, md->payload_off - md->l3_off);
	if (f == NULL)
		return -1;
	/* Ethertype is the last field before L3, after any VLAN tag. */
	*(rte_be16_t *)(f + md->l3_off - 2) = rte_cpu_to_be_16(type);
	if (unlikely((outer_ds & 0x03) == 0x03 || (ds_mode & RXSEC_DS_DSCP)))
		rxsec_tunnel_ds_decap(f + md->l3_off, outer_ds, ds_mode);
	return rxsec_frame_shrink(m, md->payload_off - md->l3_off, md->l3_off + inner_len);
}

static inline int
rxsec_decap_transport(struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	/* Remove [ESP/AH header (+ the RFC 3948 UDP header), first payload byte). */
	uint32_t strip = md->ipsec_off -
		(md->flags & RXSEC_PKT_F_UDP_ENCAP ? sizeof(struct rte_udp_hdr) : 0);
	uint32_t cut = md->payload_off - strip;
	uint32_t ip_len = strip - md->l3_off + (md->payload_end - md->payload_off);
	uint8_t *f, *ip;

	f = rxsec_frame_cut(m, strip, cut);
	if (f == NULL || rxsec_frame_shrink(m, cut, md->l3_off + ip_len) != 0)
		return -1;
	ip = f + md->l3_off;
	if (md->flags & RXSEC_PKT_F_IPV6) {
		f[md->nh_off] = md->next_proto;
		((struct rte_ipv6_hdr *)ip)->payload_len =
			rte_cpu_to_be_16((uint16_t)(ip_len - 40));
	} else {
		rxsec_ipv4_rewrite(ip, f + md->nh_off, md->next_proto, (uint16_t)ip_len);
	}
	if (unlikely(md->flags & RXSEC_PKT_F_UDP_ENCAP)) {
		bool v6 = md->flags & RXSEC_PKT_F_IPV6;

		rxsec_natt_transport_cksum(ip + (v6 ? 8 : 12), v6 ? 32 : 8, md->next_proto,
					   f + strip, ip_len - (strip - md->l3_off));
	}
	return 0;
}

#endif /* RXSEC_DECAP_H */
