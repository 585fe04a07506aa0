/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "classify.h"

#define ETH_HLEN		14
#define IPPROTO_UDP_NUM		17
/* Enough to read the SPI; a shorter header than that cannot name an SA.
 * Truncations past the SPI get CRYPTO_INVALID_PACKET_SYNTAX from the SA's checks. */
#define ESP_SPI_END		4	/* SPI */
#define ESP_HDR_LEN		8	/* SPI + sequence number */
#define AH_SPI_END		8	/* next, len, reserved, SPI */
#define IPV6_EXT_MAX		8	/* headers walked before giving up */

static inline void
put64(void *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void
key_set_dst6(struct rxsec_sa_key *key, const void *addr)
{
	uint64_t w[2];

	memcpy(w, addr, 16);
	put64(key->dst, w[0]);
	put64(key->dst + 8, w[1]);
	key->pad = 0;
}

/* The header at off names the SA; off and family come in registers, not
 * read back from the meta just written. */
static inline enum rxsec_pkt_kind
classify_ipsec(const uint8_t *f, uint32_t end, uint32_t off, uint8_t proto, uint8_t family,
	       struct rxsec_pkt_meta *meta, struct rxsec_sa_key *key)
{
	if (proto == RXSEC_PROTO_ESP) {
		if (off + ESP_SPI_END > end)
			return RXSEC_PKT_MALFORMED;
		rxsec_key_set_head(key, f + off, proto, family);
		meta->kind = RXSEC_PKT_ESP;
		return RXSEC_PKT_ESP;
	}
	if (off + AH_SPI_END > end)
		return RXSEC_PKT_MALFORMED;
	rxsec_key_set_head(key, f + off + 4, proto, family);
	meta->kind = RXSEC_PKT_AH;
	return RXSEC_PKT_AH;
}

/*
 * RFC 3948 2.2: on a NAT-T port (natt_ports.h) a datagram is ESP unless it is a one-byte
 * NAT-keepalive or starts with the 4-byte zero non-ESP marker (IKE). Like
 * Linux (xfrm4_udp_encap_rcv), a payload no longer than an ESP header is
 * not ESP either: it goes to the host unchanged.
 */
static enum rxsec_pkt_kind
classify_udp(const uint8_t *f, uint32_t end, uint32_t l4, uint8_t family,
	     struct rxsec_pkt_meta *meta, struct rxsec_sa_key *key)
{
	uint32_t pl = l4 + sizeof(struct rte_udp_hdr);
	static const uint8_t marker[4];
	/* A first fragment of any other UDP: reassembly notes that its later
	 * fragments are not ESP in UDP (natt_frags.h). */
	const enum rxsec_pkt_kind other = meta->flags & RXSEC_PKT_F_FRAGMENT ?
		RXSEC_PKT_UDP_FRAGMENT : RXSEC_PKT_OTHER;

	if (pl > end)
		return other;
	if (!rxsec_natt_port(rxsec_rd_be16(f + l4 + 2)))
		return other;
	/* As Linux's UDP input: a datagram longer than its IP payload is
	 * dropped, bytes behind a shorter one are not part of it. A first
	 * fragment's length is the whole datagram's, checked once reassembled. */
	if (!(meta->flags & RXSEC_PKT_F_FRAGMENT)) {
		uint32_t ulen = rxsec_rd_be16(f + l4 + 4);

		if (ulen < sizeof(struct rte_udp_hdr) || ulen > end - l4)
			return RXSEC_PKT_MALFORMED;
		end = l4 + ulen;
		meta->ip_end = (uint16_t)end;
	}
	if (end - pl <= ESP_HDR_LEN || memcmp(f + pl, marker, 4) == 0)
		return other;
	meta->ipsec_off = (uint16_t)pl;
	meta->flags |= RXSEC_PKT_F_UDP_ENCAP;
	/* The first fragment of ESP in UDP: the rest is reassembled with it. */
	if (meta->flags & RXSEC_PKT_F_FRAGMENT)
		return RXSEC_PKT_FRAGMENT;
	/* Linux's UDP input checks the sum before its encap hook: zero means
	 * none over IPv4 (RFC 3948 2.1), and is refused over IPv6 (RFC 8200
	 * 8.1: Linux's esp6 always sends one). */
	if (f[l4 + 6] | f[l4 + 7])
		meta->flags |= RXSEC_PKT_F_UDP_CSUM;
	else if (family == 6)
		return RXSEC_PKT_MALFORMED;
	return classify_ipsec(f, end, pl, RXSEC_PROTO_ESP, family, meta, key);
}

bool
rxsec_udp_cksum_ok(const uint8_t *f, const struct rxsec_pkt_meta *meta)
{
	uint32_t udp = meta->ipsec_off - sizeof(struct rte_udp_hdr);
	uint32_t ulen = meta->ip_end - udp, sum;

	if (!(meta->flags & RXSEC_PKT_F_UDP_CSUM))
		return true;

	/* pseudo-header: addresses, protocol, the UDP length (RFC 768, RFC 8200 8.1) */
	if (meta->flags & RXSEC_PKT_F_IPV6)
		sum = __rte_raw_cksum(f + meta->l3_off + 8, 32, 0);
	else
		sum = __rte_raw_cksum(f + meta->l3_off + 12, 8, 0);
	sum += rte_cpu_to_be_16(IPPROTO_UDP_NUM) + rte_cpu_to_be_16((uint16_t)ulen);
	sum = __rte_raw_cksum(f + udp, ulen, sum);
	return __rte_raw_cksum_reduce(sum) == 0xffff;
}

/* A later fragment: only its datagram's first fragment says what it is. */
static inline enum rxsec_pkt_kind
later_fragment(uint8_t proto)
{
	return proto == IPPROTO_UDP_NUM ? RXSEC_PKT_UDP_FRAGMENT : RXSEC_PKT_OTHER;
}

static enum rxsec_pkt_kind
classify_ipv4(const uint8_t *f, uint32_t len, struct rxsec_pkt_meta *meta,
	      struct rxsec_sa_key *key)
{
	const struct rte_ipv4_hdr *ip = (const void *)(f + meta->l3_off);
	uint32_t l3 = meta->l3_off, ihl, tot;
	uint16_t frag;

	if (l3 + sizeof(*ip) > len || (ip->version_ihl >> 4) != 4)
		return RXSEC_PKT_MALFORMED;
	ihl = (ip->version_ihl & 0xf) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || tot < ihl || l3 + tot > len)
		return RXSEC_PKT_MALFORMED;
	meta->ip_end = (uint16_t)(l3 + tot);
	meta->nh_off = (uint16_t)(l3 + offsetof(struct rte_ipv4_hdr, next_proto_id));
	meta->ipsec_off = (uint16_t)(l3 + ihl);
	meta->ip_sum_ok = rxsec_ipv4_sum_ok((const uint8_t *)ip, ihl);
	if (ihl > sizeof(*ip))
		meta->flags |= RXSEC_PKT_F_IPV4_OPTS;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	rxsec_key_set_dst4(key, &ip->dst_addr);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		meta->flags |= RXSEC_PKT_F_FRAGMENT;
		if (ip->next_proto_id == RXSEC_PROTO_ESP || ip->next_proto_id == RXSEC_PROTO_AH)
			return RXSEC_PKT_FRAGMENT;
		/* a later fragment has no transport header to read */
		if (frag & RTE_IPV4_HDR_OFFSET_MASK)
			return later_fragment(ip->next_proto_id);
	}

	switch (ip->next_proto_id) {
	case RXSEC_PROTO_ESP:
	case RXSEC_PROTO_AH:
		return classify_ipsec(f, l3 + tot, l3 + ihl, ip->next_proto_id, 4, meta, key);
	case IPPROTO_UDP_NUM:
		return classify_udp(f, l3 + tot, l3 + ihl, 4, meta, key);
	default:
		return RXSEC_PKT_OTHER;
	}
}

static enum rxsec_pkt_kind
classify_ipv6(const uint8_t *f, uint32_t len, struct rxsec_pkt_meta *meta,
	      struct rxsec_sa_key *key)
{
	const struct rte_ipv6_hdr *ip = (const void *)(f + meta->l3_off);
	uint32_t l3 = meta->l3_off, off, end;
	bool later_frag = false;
	uint8_t nh, frag_nh = 0;

	if (l3 + sizeof(*ip) > len || (f[l3] >> 4) != 6)
		return RXSEC_PKT_MALFORMED;
	end = l3 + sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (end > len)
		return RXSEC_PKT_MALFORMED;
	meta->ip_end = (uint16_t)end;
	meta->flags |= RXSEC_PKT_F_IPV6;
	key_set_dst6(key, ip->dst_addr);

	nh = ip->proto;
	meta->nh_off = (uint16_t)(l3 + offsetof(struct rte_ipv6_hdr, proto));
	off = l3 + sizeof(*ip);
	for (int i = 0; i < IPV6_EXT_MAX && rxsec_ipv6_is_ext(nh); i++) {
		uint32_t hlen;

		if (off + 8 > end)
			return RXSEC_PKT_MALFORMED;
		hlen = nh == 44 ? 8 : (f[off + 1] + 1u) * 8;
		/* An atomic fragment (offset 0, M clear) is a whole datagram
		 * and is processed as one (RFC 6946 4). */
		if (nh == 44 && (rxsec_rd_be16(f + off + 2) & 0xfff9) != 0) {
			meta->flags |= RXSEC_PKT_F_FRAGMENT;
			later_frag = (rxsec_rd_be16(f + off + 2) & 0xfff8) != 0;
			frag_nh = f[off];
		}
		meta->flags |= RXSEC_PKT_F_IPV6_EXT;
		meta->nh_off = (uint16_t)off;
		nh = f[off];
		off += hlen;
		if (later_frag)
			break;	/* what follows is the middle of a datagram */
	}
	if (off > end)
		return RXSEC_PKT_MALFORMED;
	meta->ipsec_off = (uint16_t)off;
	if (meta->flags & RXSEC_PKT_F_FRAGMENT) {
		if (nh == RXSEC_PROTO_ESP || nh == RXSEC_PROTO_AH)
			return RXSEC_PKT_FRAGMENT;
		/* Only the first fragment shows what is behind the header the
		 * fragment header names: reassembly notes it (natt_frags.h). */
		if (rxsec_ipv6_frag_names_ext(frag_nh) && nh != IPPROTO_UDP_NUM)
			return RXSEC_PKT_UDP_FRAGMENT;
		if (later_frag)
			return later_fragment(nh);
	}

	switch (nh) {
	case RXSEC_PROTO_ESP:
	case RXSEC_PROTO_AH:
		return classify_ipsec(f, end, off, nh, 6, meta, key);
	case IPPROTO_UDP_NUM:
		return classify_udp(f, end, off, 6, meta, key);
	default:
		return RXSEC_PKT_OTHER;
	}
}

enum rxsec_pkt_nest
rxsec_classify_inner(const uint8_t *f, const struct rxsec_pkt_meta *outer,
		     uint8_t outer_mode, struct rxsec_pkt_meta *in,
		     struct rxsec_sa_key *key)
{
	enum rxsec_pkt_kind kind;

	memset(in, 0, sizeof(*in));
	in->sa_id = RXSEC_SA_NONE;
	in->l3_off = outer->payload_off;
	if (outer_mode == RXSEC_MODE_TUNNEL && outer->next_proto == 4)
		kind = classify_ipv4(f, outer->payload_end, in, key);
	else if (outer_mode == RXSEC_MODE_TUNNEL && outer->next_proto == 41)
		kind = classify_ipv6(f, outer->payload_end, in, key);
	else if (outer->kind == RXSEC_PKT_AH && outer->next_proto == RXSEC_PROTO_ESP &&
		 outer_mode == RXSEC_MODE_TRANSPORT) {
		/* RFC 4302 3.1: AH over ESP, both under the original IP header. */
		*in = *outer;
		in->sa_id = RXSEC_SA_NONE;
		in->ipsec_off = outer->payload_off;
		in->ip_end = outer->payload_end;
		in->nh_off = outer->ipsec_off;	/* AH's next header byte */
		if (outer->flags & RXSEC_PKT_F_IPV6)
			key_set_dst6(key, f + outer->l3_off + 24);
		else
			rxsec_key_set_dst4(key, f + outer->l3_off + 16);
		if (classify_ipsec(f, in->ip_end, in->ipsec_off, RXSEC_PROTO_ESP,
				   outer->flags & RXSEC_PKT_F_IPV6 ? 6 : 4,
				   in, key) != RXSEC_PKT_ESP)
			return RXSEC_NEST_NONE;
		return RXSEC_NEST_BUNDLE;
	} else {
		return RXSEC_NEST_NONE;
	}
	in->kind = (uint8_t)kind;
	if (kind != RXSEC_PKT_ESP && kind != RXSEC_PKT_AH)
		return RXSEC_NEST_NONE;
	/* Linux hands a tunnel's inner packet back to ip_rcv, which discards
	 * an IPv4 header with a wrong checksum (RFC 1122 3.2.1.2) before the
	 * inner SA sees it: delivered as it is, the inner window unmoved. */
	if (!(in->flags & RXSEC_PKT_F_IPV6) && !in->ip_sum_ok)	/* classify_ipv4 summed it */
		return RXSEC_NEST_NONE;
	/* An inner ESP in UDP with a wrong sum never reaches Linux's IPsec:
	 * the packet is delivered, and the host's UDP drops it. */
	if (!rxsec_udp_cksum_ok(f, in))
		return RXSEC_NEST_NONE;
	return RXSEC_NEST_TUNNEL;
}

enum rxsec_pkt_kind
rxsec_classify_frame(const uint8_t *frame, uint32_t len, struct rxsec_pkt_meta *meta,
		     struct rxsec_sa_key *key)
{
	uint32_t l3 = ETH_HLEN;
	uint16_t type;
	enum rxsec_pkt_kind kind;

	meta->kind = RXSEC_PKT_OTHER;
	meta->flags = 0;
	meta->ip_sum_ok = 0;
	meta->sa_id = RXSEC_SA_NONE;
	meta->seq_hi = 0;
	if (len < ETH_HLEN)
		return RXSEC_PKT_OTHER;
	type = rxsec_rd_be16(frame + 12);
	/* Up to two tags (802.1Q, or 802.1ad + 802.1Q); delivery keeps them. */
	for (int tags = 0; tags < 2 &&
	     (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ); tags++) {
		if (len < l3 + 4)
			return RXSEC_PKT_OTHER;
		type = rxsec_rd_be16(frame + l3 + 2);
		l3 += 4;
	}
	meta->l3_off = (uint16_t)l3;
	if (type == RTE_ETHER_TYPE_IPV4)
		kind = classify_ipv4(frame, len, meta, key);
	else if (type == RTE_ETHER_TYPE_IPV6)
		kind = classify_ipv6(frame, len, meta, key);
	else
		kind = RXSEC_PKT_OTHER;
	meta->kind = (uint8_t)kind;
	return kind;
}
