/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec's private per-packet state, kept in the mbuf private area of
 * rxsec's pools (the dynfield space is too small for two layers) so the
 * transport stage does not parse the frame again. Not part of the public
 * result record, which is a dynfield any application can read.
 */
#ifndef RXSEC_PKT_META_H
#define RXSEC_PKT_META_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#define RXSEC_SA_NONE	UINT32_MAX

enum rxsec_pkt_kind {
	RXSEC_PKT_OTHER = 0,	/* not IPsec: delivered unchanged */
	RXSEC_PKT_ESP,
	RXSEC_PKT_AH,
	RXSEC_PKT_MALFORMED,	/* claims IPsec (or IP) but headers are truncated */
	RXSEC_PKT_FRAGMENT,	/* an IP fragment of an ESP, AH or ESP-in-UDP datagram */
	RXSEC_PKT_UDP_FRAGMENT,	/* a fragment only its datagram's first one can
				 * name: UDP not known as ESP in UDP, or IPv6
				 * whose fragment header names destination
				 * options (or another extension header) not
				 * known to hide ESP/AH. A later one is IPsec
				 * if its first fragment was (natt_frags.h);
				 * the first of any other such datagram, and
				 * those later ones, are delivered unchanged */
};

/* Packet properties that capabilities may exclude (spec section 3, rule 4). */
#define RXSEC_PKT_F_IPV6	(1u << 0)
#define RXSEC_PKT_F_IPV4_OPTS	(1u << 1)
#define RXSEC_PKT_F_IPV6_EXT	(1u << 2)
#define RXSEC_PKT_F_UDP_ENCAP	(1u << 3)
#define RXSEC_PKT_F_FRAGMENT	(1u << 4)
/* Set after a verified layer whose payload may hold a second IPsec layer. */
#define RXSEC_PKT_F_INNER_HINT	(1u << 5)
/* A chained frame longer than rxsec flattens (kind MALFORMED). */
#define RXSEC_PKT_F_TOO_LONG	(1u << 6)
/* ESP in UDP whose UDP checksum is not zero: the classifier's caller
 * verifies it (port verdict or rxsec_udp_cksum_ok) before any crypto. */
#define RXSEC_PKT_F_UDP_CSUM	(1u << 7)

struct rxsec_pkt_meta {
	uint32_t sa_id;		/* SA slot, or RXSEC_SA_NONE */
	uint32_t seq_hi;	/* ESN high bits the checks used */
	uint16_t l3_off;	/* outer IP header */
	uint16_t ipsec_off;	/* ESP/AH header */
	uint16_t ip_end;	/* end of the IP datagram (Ethernet padding excluded) */
	uint16_t nh_off;	/* byte that names ESP/AH (IPv4 proto, IPv6 next header) */
	uint16_t payload_off;	/* first plaintext byte, once checked */
	uint16_t payload_end;	/* end of plaintext (pad, trailer, ICV stripped) */
	uint8_t kind;		/* enum rxsec_pkt_kind */
	uint8_t flags;		/* RXSEC_PKT_F_* */
	uint8_t next_proto;	/* ESP/AH next header, once checked */
	uint8_t ip_sum_ok;	/* IPv4: its header summed to all ones when classified */
};

/* Headers behind a 14-byte Ethernet header are only 2-byte aligned. */
static inline uint32_t
rxsec_rd_be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static inline uint16_t
rxsec_rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* IPv6 headers that can stand between the fixed header and the upper
 * protocol: hop-by-hop, routing, fragment, destination options. */
static inline int
rxsec_ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60;
}

/* Does an IPv6 fragment header (its next header frag_nh) name another
 * extension header, destination options behind which only the first
 * fragment shows whether the datagram is ESP or AH (RFC 8200 4.1, 4.5)? */
static inline bool
rxsec_ipv6_frag_names_ext(uint8_t frag_nh)
{
	return rxsec_ipv6_is_ext(frag_nh) && frag_nh != 44;
}

/* The DS field (DSCP and ECN) of an IPv4 or IPv6 header. */
static inline uint8_t
rxsec_ip_dsfield(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? ip[1] : (uint8_t)(ip[0] << 4 | ip[1] >> 4);
}

/*
 * Does an IPv4 header of len bytes (its IHL, checked) sum to all ones? Its
 * 32-bit words added in 64 bits: at most 15 of them, so nothing carries
 * out. As 2^16 = 1 modulo 65535, that sum and the one's complement sum of
 * the header's 16-bit words (in either byte order) agree modulo 65535, so
 * the header sums to all ones exactly when the plain sum is a nonzero
 * multiple of 65535 (a sum of zero stays zero). A remainder by a constant
 * is a multiplication and a compare, where folding took a dozen
 * instructions.
 */
static inline bool
rxsec_ipv4_sum_ok(const uint8_t *ip, uint32_t len)
{
	uint64_t a, b, s;
	uint32_t c;

	/* the 20 bytes every header has, as loads of their own: copied into
	 * an array, they went through the stack */
	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	memcpy(&c, ip + 16, 4);
	s = (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32) + c;
	for (uint32_t i = 20; i < len; i += 4) {
		uint32_t o;

		memcpy(&o, ip + i, 4);
		s += o;
	}
	return s != 0 && s % 0xffff == 0;
}

/* How a second IPsec layer sits inside the first (spec section 3, rule 5). */
enum rxsec_pkt_nest {
	RXSEC_NEST_NONE = 0,
	RXSEC_NEST_TUNNEL,	/* tunnel SA carrying an IP packet with transport ESP/AH */
	RXSEC_NEST_BUNDLE,	/* AH directly followed by ESP under one IP header */
	RXSEC_NEST_DEFERRED,	/* the engine saw a second layer it does not offload */
};

/* Or'ed into nest: the first layer's stage moved its window and handed the
 * packet to the stage owning the second layer's window (transport.c). */
#define RXSEC_NEST_HANDED	0x80u

struct rxsec_pkt_priv {
	struct rxsec_pkt_meta outer;
	struct rxsec_pkt_meta inner;	/* valid when nest != NONE */
	uint64_t n;			/* receive index, for verdicts: never wraps */
	uint8_t nest;			/* enum rxsec_pkt_nest */
	uint8_t frag_ecn;		/* a held fragment's ECN codepoint, as a bit */
	uint8_t outer_ds;		/* handed: the outer tunnel SA's ds_mode */
	uint8_t rx_stage;		/* a fragment: its engine's home stage, the one
					 * its datagram's unclaimed SA takes (sa.h) */
};

/* A whole cache line: the buffer (and with the default headroom, the
 * frame) then starts on a line boundary, so the Ethernet, IP and ESP
 * headers the engine reads share one line instead of straddling two. */
#define RXSEC_PKT_PRIV_SIZE \
	RTE_ALIGN(sizeof(struct rxsec_pkt_priv), RTE_CACHE_LINE_SIZE)

static inline struct rxsec_pkt_priv *
rxsec_pkt_priv(struct rte_mbuf *m)
{
	return (struct rxsec_pkt_priv *)rte_mbuf_to_priv(m);
}

static inline uint64_t
rxsec_pkt_rx_index(struct rte_mbuf *m)
{
	return rxsec_pkt_priv(m)->n;
}

static inline uint32_t
rxsec_pkt_spi(const struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint32_t off = md->ipsec_off + (md->kind == RXSEC_PKT_AH ? 4 : 0);

	return rte_cpu_to_be_32(rxsec_rd_be32(rte_pktmbuf_mtod_offset(m, const uint8_t *, off)));
}

/* The outer (first) IPsec layer. */
static inline struct rxsec_pkt_meta *
rxsec_pkt_meta(struct rte_mbuf *m)
{
	return &rxsec_pkt_priv(m)->outer;
}

/* Does the pool give every mbuf room for the private state? */
static inline int
rxsec_pkt_pool_ok(struct rte_mempool *mp)
{
	return rte_pktmbuf_priv_size(mp) >= RXSEC_PKT_PRIV_SIZE;
}


#endif /* RXSEC_PKT_META_H */
