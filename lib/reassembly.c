/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "classify.h"
#include "flatten.h"
#include "ipv6_unfrag.h"
#include "pkt_meta.h"
#include "reassembly.h"
#include "rxsec_result.h"
#include "stage_hash.h"

uint32_t
rxsec_reassembly_mbufs_max(uint32_t flows)
{
	if (flows == 0)
		return 0;
	return flows * RXSEC_FRAGS_PER_DATAGRAM +
		rxsec_natt_frags_early_dgrams(flows) * RXSEC_NATT_EARLY_PER_DGRAM;
}

uint32_t
rxsec_reassembly_stage_flows(uint32_t flows, uint32_t stages)
{
	return (flows + stages - 1) / stages;
}

uint16_t
rxsec_reassembly_stage_of(struct rte_mbuf *m, uint16_t nb_stages)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l3_off);
	const uint8_t *fh;
	uint32_t h, ext_len;

	if (!(md->flags & RXSEC_PKT_F_IPV6)) {
		h = rxsec_ip_addrs_hash(l3, false, (uint32_t)l3[9] << 16 | rxsec_rd_be16(l3 + 4));
	} else {
		/* the classifier found it: ip_end bounds the walk */
		fh = rxsec_ipv6_frag_header(l3, md->ip_end - md->l3_off, &ext_len);
		if (fh == NULL)
			return 0;
		h = rxsec_ip_addrs_hash(l3, true, rxsec_rd_be32(fh + 4));
	}
	return rxsec_stage_of_hash(h, nb_stages);
}

int
rxsec_reassembly_init(struct rxsec_reassembly *r, uint32_t flows, uint32_t timeout_ms,
		      struct rte_mempool *big, int socket, struct rxsec_reassembly_stats *stats)
{
	/* Eight ways per bucket; buckets a power of two (the library's rule). */
	const uint32_t ways = 8;
	uint32_t buckets = rte_align32pow2(RTE_MAX(flows, ways) / ways);

	memset(r, 0, sizeof(*r));
	r->big = big;
	r->stats = stats;
	memset(stats, 0, sizeof(*stats));
	r->timeout = rte_get_tsc_hz() / 1000 * timeout_ms;
	r->tbl = rte_ip_frag_table_create(buckets, ways, flows, r->timeout, socket);
	if (r->tbl == NULL ||
	    rxsec_natt_frags_init(&r->natt, flows, socket, &stats->early_dropped) != 0) {
		rxsec_reassembly_free(r);
		return -1;
	}
	return 0;
}

/* The datagram m is a fragment of, if only its first fragment says
 * whether it is IPsec (natt_frags.h): UDP, or IPv6 whose fragment header
 * names another extension header. False for any other. *first: m is the
 * datagram's first fragment. */
static bool
named_dgram_of(struct rte_mbuf *m, struct rxsec_natt_dgram *d, bool *first)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l3_off);
	const uint8_t *fh;
	uint32_t ext_len;

	memset(d, 0, sizeof(*d));
	if (!(md->flags & RXSEC_PKT_F_IPV6)) {
		if (l3[9] != IPPROTO_UDP)
			return false;
		memcpy(d->src, l3 + 12, 4);
		memcpy(d->dst, l3 + 16, 4);
		memcpy(&d->id, l3 + 4, 2);
		d->family = 4;
		*first = (rxsec_rd_be16(l3 + 6) & RTE_IPV4_HDR_OFFSET_MASK) == 0;
		return true;
	}
	fh = rxsec_ipv6_frag_header(l3, md->ip_end - md->l3_off, &ext_len);
	if (fh == NULL || (fh[0] != IPPROTO_UDP && !rxsec_ipv6_frag_names_ext(fh[0])))
		return false;
	memcpy(d->src, l3 + 8, 16);
	memcpy(d->dst, l3 + 24, 16);
	memcpy(&d->id, fh + 4, 4);
	d->family = 6;
	*first = (rxsec_rd_be16(fh + 2) & 0xfff8) == 0;
	return true;
}

/* The library leaves the IPv4 checksum to a NIC offload; the transport
 * delivers a transport-mode header as it is, so it must be right (every
 * fragment's own checksum was checked on the way in). */
static void
fix_ipv4_checksum(struct rte_mbuf *d, uint16_t l2_len)
{
	struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(d, struct rte_ipv4_hdr *, l2_len);

	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
}

/* RFC 3168 5.3, as Linux merges fragments' ECN fields (ip_frag_ecn_table):
 * each fragment's codepoint is one bit of a set. */
#define FRAG_ECN_NOT_ECT	0x1
#define FRAG_ECN_ECT_1		0x2
#define FRAG_ECN_ECT_0		0x4
#define FRAG_ECN_CE		0x8

static inline uint8_t
frag_ecn_bit(const uint8_t *l3)
{
	return (uint8_t)(1u << (rxsec_ip_dsfield(l3) & 0x3));
}

/* A congestion mark on any fragment of an ECN-capable datagram marks the
 * datagram (its first fragment's header); Not-ECT fragments mixed with
 * ECN-capable ones make it invalid: -1, and it is discarded. */
static int
datagram_merge_ecn(struct rte_mbuf *d)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(d, uint8_t *, d->l2_len);
	uint8_t set = 0;

	for (struct rte_mbuf *s = d; s != NULL; s = s->next)
		set |= rxsec_pkt_priv(s)->frag_ecn;
	if ((set & FRAG_ECN_NOT_ECT) && set != FRAG_ECN_NOT_ECT)
		return -1;
	if ((set & FRAG_ECN_CE) && (set & (FRAG_ECN_ECT_0 | FRAG_ECN_ECT_1))) {
		if (ip[0] >> 4 == 4)
			ip[1] |= 0x3;	/* the checksum is computed afterwards */
		else
			ip[1] |= 0x3 << 4;
	}
	return 0;
}

/* A completed datagram becomes a packet the engine indicated unprocessed. */
static struct rte_mbuf *
datagram_ready(struct rxsec_reassembly *r, struct rte_mbuf *d, uint64_t n, bool v4,
	       struct rxsec_sa_key *key)
{
	struct rxsec_pkt_priv *p;
	uint16_t l2_len = d->l2_len;	/* a flattened copy does not keep it */
	uint8_t rx_stage = rxsec_pkt_priv(d)->rx_stage;	/* nor this */

	r->stats->datagrams++;
	/* nothing for a NIC to compute on the way out */
	d->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	if (!rte_pktmbuf_is_contiguous(d))
		d = rxsec_flatten(d, r->big);
	p = rxsec_pkt_priv(d);
	*rxsec_result_ptr(d) = 0;
	p->n = n;
	p->nest = RXSEC_NEST_NONE;
	p->rx_stage = rx_stage;
	if (v4)
		fix_ipv4_checksum(d, l2_len);	/* in the first segment either way */
	rxsec_classify_frame(rte_pktmbuf_mtod(d, const uint8_t *), rte_pktmbuf_data_len(d),
			     &p->outer, key);
	if (!rte_pktmbuf_is_contiguous(d))
		rxsec_meta_too_long(&p->outer);
	else if (!rxsec_udp_cksum_ok(rte_pktmbuf_mtod(d, const uint8_t *), &p->outer))
		p->outer.kind = RXSEC_PKT_MALFORMED;
	return d;
}

/* A later fragment of d ahead of its first: it goes on unchanged, and a
 * copy (with the classifier's notes on it) waits for the first. */
static void
early_keep(struct rxsec_reassembly *r, struct rte_mbuf *m, const struct rxsec_natt_dgram *d,
	   uint64_t now)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

	r->stats->early++;
	if (c == NULL) {
		r->stats->early_dropped++;
		return;
	}
	*rxsec_pkt_priv(c) = *rxsec_pkt_priv(m);
	rxsec_natt_frags_keep_early(&r->natt, d, c, now, now + r->timeout);
}

/*
 * A fragment of a datagram not known as IPsec: true if it joins
 * reassembly after all (its datagram's first fragment was IPsec).
 * Else it goes on unchanged; what its first fragment said is noted.
 */
static bool
named_fragment_joins(struct rxsec_reassembly *r, struct rte_mbuf *m,
		     const struct rxsec_natt_dgram *d, bool first, uint64_t now)
{
	struct rte_mbuf *c[RXSEC_NATT_EARLY_PER_DGRAM];
	uint32_t n;

	switch (rxsec_natt_frags_kind(&r->natt, d, now)) {
	case RXSEC_NATT_IPSEC:
		return !first;
	case RXSEC_NATT_PLAIN:
		return false;
	default:
		break;
	}
	if (first) {
		rxsec_natt_frags_remember(&r->natt, d, RXSEC_NATT_PLAIN, now, now + r->timeout);
		n = rxsec_natt_frags_take_early(&r->natt, d, now, c);
		rxsec_natt_frags_discard(&r->natt, c, n);
	} else {
		early_keep(r, m, d, now);
	}
	return false;
}

/* Into the library's table: NULL while the datagram is incomplete (m
 * held), else the datagram; *refused when m stays as it is. */
static struct rte_mbuf *
frag_insert(struct rxsec_reassembly *r, struct rte_mbuf *m, uint64_t now, bool *refused)
{
	struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l3_off);
	struct rte_mbuf *d;

	*refused = false;
	rxsec_pkt_priv(m)->frag_ecn = frag_ecn_bit(l3);
	/* Ethernet padding behind a short fragment is not datagram data. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - md->ip_end));
	m->l2_len = md->l3_off;
	if (!(md->flags & RXSEC_PKT_F_IPV6)) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)l3;

		m->l3_len = rte_ipv4_hdr_len(h);
		/* The datagram's header is rebuilt from the first fragment's:
		 * a damaged one must not come out with a fresh checksum
		 * (RFC 1122 3.2.1.2: discard). */
		if (rte_raw_cksum(h, m->l3_len) != 0xffff) {
			*refused = true;
			return NULL;
		}
		d = rte_ipv4_frag_reassemble_packet(r->tbl, &r->dr, m, now, h);
	} else {
		struct rte_ipv6_hdr *h;
		struct rte_ipv6_fragment_ext *fh;

		/* The library reads only a fragment header right behind the
		 * fixed one; RFC 8200 4.1 lets other headers come first. */
		if (rxsec_ipv6_unfrag_out(m, md->l3_off) != 0) {
			*refused = true;
			return NULL;
		}
		h = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
		fh = (struct rte_ipv6_fragment_ext *)(h + 1);
		m->l3_len = sizeof(*h) + sizeof(*fh);
		d = rte_ipv6_frag_reassemble_packet(r->tbl, &r->dr, m, now, h, fh);
	}
	if (d == NULL) {
		r->stats->held++;
		r->stats->waiting++;
	}
	return d;
}

/* An IPsec first fragment came after some of its later ones: their
 * copies join the datagram too. */
static struct rte_mbuf *
early_join(struct rxsec_reassembly *r, const struct rxsec_natt_dgram *dg,
	   uint64_t now, struct rte_mbuf *d)
{
	struct rte_mbuf *c[RXSEC_NATT_EARLY_PER_DGRAM];
	uint32_t n = rxsec_natt_frags_take_early(&r->natt, dg, now, c);
	bool refused;
	uint32_t i;

	for (i = 0; i < n && d == NULL; i++) {
		rxsec_pkt_meta(c[i])->kind = RXSEC_PKT_FRAGMENT;
		d = frag_insert(r, c[i], now, &refused);
		if (refused)
			rxsec_natt_frags_discard(&r->natt, c + i, 1);
		else
			r->stats->early_joined++;
	}
	/* what is left lies behind a datagram already complete */
	rxsec_natt_frags_discard(&r->natt, c + i, n - i);
	return d;
}

enum rxsec_reassembly_result
rxsec_reassembly_add(struct rxsec_reassembly *r, struct rte_mbuf *m, uint64_t now,
		     struct rte_mbuf **out, struct rxsec_sa_key *key)
{
	struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint64_t n = rxsec_pkt_rx_index(m);
	bool v4 = !(md->flags & RXSEC_PKT_F_IPV6);
	struct rxsec_natt_dgram dg;
	bool first = false;
	bool named = named_dgram_of(m, &dg, &first);
	/* the first fragment that names such a datagram IPsec */
	bool ipsec_first = named && first && md->kind == RXSEC_PKT_FRAGMENT;
	bool refused;
	struct rte_mbuf *d;

	if (md->kind == RXSEC_PKT_UDP_FRAGMENT) {
		if (!named || !named_fragment_joins(r, m, &dg, first, now))
			return RXSEC_REASM_PASS;
		md->kind = RXSEC_PKT_FRAGMENT;
	}
	d = frag_insert(r, m, now, &refused);
	if (refused)
		return RXSEC_REASM_REFUSED;
	if (ipsec_first)
		d = early_join(r, &dg, now, d);
	if (d == NULL) {
		if (ipsec_first)
			rxsec_natt_frags_remember(&r->natt, &dg, RXSEC_NATT_IPSEC, now,
						  now + r->timeout);
		return RXSEC_REASM_HELD;
	}
	if (named)
		rxsec_natt_frags_forget(&r->natt, &dg);
	if (!v4 && d->outer_l3_len != 0)
		rxsec_ipv6_unfrag_back(d, d->l2_len);
	r->stats->waiting -= d->nb_segs - 1u;
	if (datagram_merge_ecn(d) != 0) {
		/* m counts as held, then every fragment as discarded */
		r->stats->held++;
		r->stats->discarded += d->nb_segs;
		rte_pktmbuf_free(d);
		return RXSEC_REASM_HELD;
	}
	*out = datagram_ready(r, d, n, v4, key);
	return RXSEC_REASM_DONE;
}

void
rxsec_reassembly_collect(struct rxsec_reassembly *r)
{
	if (r->dr.cnt == 0)
		return;
	r->stats->discarded += r->dr.cnt;
	r->stats->waiting -= r->dr.cnt;
	rte_ip_frag_free_death_row(&r->dr, 0);
}

void
rxsec_reassembly_expire(struct rxsec_reassembly *r, uint64_t now)
{
	/* The library stops when the death row is full: empty it first. */
	rxsec_reassembly_collect(r);
	rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, now);
	rxsec_reassembly_collect(r);
	rxsec_natt_frags_expire_early(&r->natt, now);
	r->last_expire = now;
}

void
rxsec_reassembly_free(struct rxsec_reassembly *r)
{
	uint32_t freed;

	rxsec_natt_frags_free(&r->natt);
	if (r->tbl == NULL)
		return;
	do {
		rxsec_reassembly_collect(r);
		rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, UINT64_MAX);
		freed = r->dr.cnt;
		rxsec_reassembly_collect(r);
	} while (freed != 0);
	rte_ip_frag_table_destroy(r->tbl);
	r->tbl = NULL;
}
