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
#include <netinet/in.h>

#include <rte_mbuf.h>

#include "ah_inb.h"
#include "esn_reverify.h"
#include "esp_inb.h"
#include "natt_ports.h"
#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "sa.h"

struct rxsec_sa_table;

#define RXSEC_BURST_MAX	64

/*
 * One crypto burst being built: each packet added is checked and, if its
 * layout is sound, gets a job; rxsec_inb_run() runs every job at once and
 * rxsec_inb_finish() then checks each packet's plaintext. Callers that
 * have more to do per packet add and finish packets in their own loops.
 */
struct rxsec_inb_batch {
	uint16_t n;				/* packets */
	uint16_t nops;				/* jobs */
	uint8_t inner;				/* second IPsec layers */
	uint8_t alone;				/* AH packets for rxsec_inb_run_alone */
	uint32_t hints;				/* finished with INNER_HINT set */
	struct rte_mbuf *m[RXSEC_BURST_MAX];
	struct rxsec_sa *sa[RXSEC_BURST_MAX];
	uint8_t st[RXSEC_BURST_MAX];		/* enum rxsec_crypto_status */
	uint8_t op_of[RXSEC_BURST_MAX];		/* packet -> job */
	struct rxsec_crypto_op ops[RXSEC_BURST_MAX];
	uint8_t ah_scratch[RXSEC_BURST_MAX][RXSEC_AH_SCRATCH_LEN];
};

static inline void
rxsec_inb_init(struct rxsec_inb_batch *b, int inner)
{
	b->n = 0;
	b->nops = 0;
	b->inner = (uint8_t)inner;
	b->alone = 0;
	b->hints = 0;
}

static inline struct rxsec_pkt_meta *
rxsec_ipsec_layer(struct rte_mbuf *m, int inner)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);

	return inner ? &p->inner : &p->outer;
}

/* Add a packet of a known SA (at most RXSEC_BURST_MAX per batch). */
static inline void
rxsec_inb_add(struct rxsec_inb_batch *b, struct rte_mbuf *m, struct rxsec_sa *sa)
{
	struct rxsec_pkt_meta *md = rxsec_ipsec_layer(m, b->inner);
	struct rxsec_crypto_op *op = &b->ops[b->nops];
	uint16_t j = b->n++;
	enum rxsec_crypto_status st;

	b->m[j] = m;
	b->sa[j] = sa;
	/* The packet must come the way its SA says, in UDP or bare, before
	 * anything else is checked (Linux: XfrmInStateMismatch). */
	if (unlikely(!(md->flags & RXSEC_PKT_F_UDP_ENCAP) != !sa->udp_encap)) {
		b->st[j] = RXSEC_CRYPTO_INVALID_PROTOCOL;
		return;
	}
	/* The crypto engine works on contiguous data; jumbo chains are rare. */
	if (unlikely(!rte_pktmbuf_is_contiguous(m)) && rte_pktmbuf_linearize(m) != 0) {
		b->st[j] = RXSEC_CRYPTO_GENERIC_ERROR;
		return;
	}
	if (likely(md->kind == RXSEC_PKT_ESP)) {
		st = rxsec_esp_inb_prepare(m, md, sa, op);
	} else {
		op->icv = b->ah_scratch[b->nops];
		st = rxsec_ah_inb_prepare(m, md, sa, op, RXSEC_AH_SCRATCH_LEN);
		b->alone += st == RXSEC_AH_SCRATCH_SHORT;
	}
	b->st[j] = (uint8_t)st;
	if (st == RXSEC_CRYPTO_SUCCESS)
		b->op_of[j] = (uint8_t)b->nops++;
}

/* What job k's checks after the crypto read first: the ESP trailer in
 * front of a 16-byte ICV (the usual one), worth a prefetch. */
static inline const void *
rxsec_inb_trailer(const struct rxsec_inb_batch *b, uint16_t k)
{
	const struct rxsec_crypto_op *op = &b->ops[k];

	return op->data + op->len - 16 - RXSEC_ESP_TRAILER_LEN;
}

/* AH packets whose mutable option data did not fit their scratch: each
 * verified on its own, after the batch (rxsec_ah_inb_run_alone). */
void rxsec_inb_run_alone(const struct rxsec_crypto_driver *drv, void *cctx,
			 struct rxsec_inb_batch *b);

/* Run every job of the batch. */
static inline void
rxsec_inb_run(const struct rxsec_crypto_driver *drv, void *cctx, struct rxsec_inb_batch *b)
{
	if (b->nops != 0)
		drv->process_burst(cctx, b->ops, b->nops);
	if (unlikely(b->alone != 0))
		rxsec_inb_run_alone(drv, cctx, b);
}

/* An inner UDP datagram to a NAT-T port (RFC 3948): ESP in UDP, or a
 * keepalive or IKE message the full classifier tells apart. */
static inline int
inner_udp_to_natt(const uint8_t *in, uint32_t len, uint32_t l4)
{
	return len >= l4 + 8 && rxsec_natt_port(rxsec_rd_be16(in + l4 + 2));
}

/* Cheap pre-check before classifying a tunnel's inner packet: its protocol
 * byte must name ESP, AH, UDP to a NAT-T port or (IPv6) an extension
 * header in front of them. */
static inline int
inner_may_be_ipsec(struct rte_mbuf *m, const struct rxsec_pkt_meta *o)
{
	const uint8_t *in = rte_pktmbuf_mtod_offset(m, const uint8_t *, o->payload_off);
	uint32_t len = o->payload_end - o->payload_off;
	uint8_t p;

	if (o->next_proto == RXSEC_PROTO_ESP)
		return o->kind == RXSEC_PKT_AH;	/* AH over ESP under one header */
	if (o->next_proto != 4 && o->next_proto != 41)
		return 0;
	if (len < (o->next_proto == 4 ? 20u : 40u))
		return 0;
	if (o->next_proto == 4) {
		p = in[9];
		return p == RXSEC_PROTO_ESP || p == RXSEC_PROTO_AH ||
			(p == IPPROTO_UDP && inner_udp_to_natt(in, len, (in[0] & 0xfu) * 4));
	}
	p = in[6];
	return p == RXSEC_PROTO_ESP || p == RXSEC_PROTO_AH || rxsec_ipv6_is_ext(p) ||
		(p == IPPROTO_UDP && inner_udp_to_natt(in, len, 40));
}

/* A verified first layer that may carry a second gets INNER_HINT. */
static inline bool
rxsec_inb_note_inner(struct rte_mbuf *m, struct rxsec_pkt_meta *md)
{
	if (!inner_may_be_ipsec(m, md))
		return false;
	md->flags |= RXSEC_PKT_F_INNER_HINT;
	return true;
}

/* Status of packet j after the run; sets INNER_HINT (and counts it in
 * b->hints) when a verified first layer may carry a second one. */
static inline enum rxsec_crypto_status
rxsec_inb_finish(struct rxsec_inb_batch *b, uint16_t j)
{
	struct rte_mbuf *m = b->m[j];
	const struct rxsec_sa *sa = b->sa[j];
	struct rxsec_pkt_meta *md = rxsec_ipsec_layer(m, b->inner);
	const struct rxsec_crypto_op *op;
	enum rxsec_crypto_status st;

	if (unlikely(b->st[j] != RXSEC_CRYPTO_SUCCESS))
		return (enum rxsec_crypto_status)b->st[j];
	op = &b->ops[b->op_of[j]];
	if (md->kind == RXSEC_PKT_AH)
		rxsec_ah_inb_restore(m, md, sa, op);
	if (unlikely(op->result != RXSEC_CRYPTO_OK))
		st = op->result == RXSEC_CRYPTO_AUTH_FAILED ?
			(enum rxsec_crypto_status)sa->auth_failed_status :
			RXSEC_CRYPTO_GENERIC_ERROR;
	else if (likely(md->kind == RXSEC_PKT_ESP))
		st = rxsec_esp_inb_finish(m, md, sa);
	else
		st = rxsec_ah_inb_finish(m, md, sa);
	/* While the plaintext is in cache: might a second layer follow? */
	if (st == RXSEC_CRYPTO_SUCCESS && !b->inner && unlikely(rxsec_inb_note_inner(m, md)))
		b->hints++;
	b->st[j] = (uint8_t)st;
	return st;
}

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

#endif /* RXSEC_IPSEC_INB_H */
