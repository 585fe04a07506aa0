/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "decap.h"
#include "esn_reverify.h"
#include "esp_inb.h"
#include "lifetime.h"
#include "pkt_meta.h"
#include "rxsec_result.h"
#include "selector.h"
#include "transport.h"


struct verdict_rec {
	uint64_t n;
	uint32_t spi;		/* network order */
	uint32_t result;
	uint8_t has_spi;
	uint8_t reason;
	uint8_t skip;		/* handed to another transport, which writes it */
};

/* What became of a fragment taken out of the burst (pkts[i] NULL). */
enum frag_fate {
	FRAG_HELD,		/* waits for the rest of its datagram */
	FRAG_HANDED,		/* completed a datagram now on another transport's ring */
};

/* transport_decide's answer for a packet now on another stage's ring: not
 * a reason, never counted as one. */
#define TRANSPORT_HANDED	((enum rxsec_reason)RXSEC_REASON_MAX)
/* In rxsec_pkt_priv.outer_ds of a handed packet: the outer SA's ds_mode,
 * and whether it has a selector to check. */
#define HANDED_DS_MASK		0x7fu
#define HANDED_OUTER_SEL	0x80u

struct frag_out {
	uint64_t n;		/* the fragment's receive index */
	uint8_t fate;		/* enum frag_fate */
};

/*
 * Software path (spec section 4): IPsec packets the engine did not process
 * but whose SA we know go through the same library code here; so do second
 * layers the engine left alone (NextCryptoDone=0), so that a nested packet
 * gives the same outcome with or without offload.
 */
static void
transport_software_inner(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n,
			 uint8_t *sw_st, struct rxsec_sa **sw_isa)
{
	struct rte_mbuf *vm[RXSEC_BURST_MAX];
	struct rxsec_sa *vsa[RXSEC_BURST_MAX], *isa[RXSEC_BURST_MAX];
	uint8_t st[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX], k = 0;

	for (uint16_t i = 0; i < n; i++) {
		const struct rxsec_pkt_meta *md;
		uint32_t r;
		struct rxsec_sa *sa;

		sw_isa[i] = NULL;
		/* a handed packet's layers were decrypted on its first stage */
		if (pkts[i] == NULL || (rxsec_pkt_priv(pkts[i])->nest & RXSEC_NEST_HANDED))
			continue;
		md = rxsec_pkt_meta(pkts[i]);
		r = rxsec_result_get(pkts[i]);
		/* After the engine, only layers it deferred are left to check. */
		if ((rxsec_result_crypto_done(r) &&
		     (rxsec_pkt_priv(pkts[i])->nest != RXSEC_NEST_DEFERRED ||
		      rxsec_result_status(r) != RXSEC_CRYPTO_SUCCESS)) ||
		    sw_st[i] != RXSEC_CRYPTO_SUCCESS ||
		    (md->kind != RXSEC_PKT_ESP && md->kind != RXSEC_PKT_AH) ||
		    (md->next_proto != 4 && md->next_proto != 41 &&
		     md->next_proto != RXSEC_PROTO_ESP))
			continue;
		sa = rxsec_sa_table_get(t->sat, md->sa_id);
		if (sa == NULL)
			continue;
		vm[k] = pkts[i];
		vsa[k] = sa;
		st[k] = RXSEC_CRYPTO_SUCCESS;
		idx[k++] = i;
	}
	if (k == 0 || rxsec_ipsec_inner_burst(t->drv, t->cctx, t->sat, vm, vsa, k, st,
					      isa, 0, false) == 0)
		return;
	for (uint16_t j = 0; j < k; j++) {
		sw_isa[idx[j]] = isa[j];
		sw_st[idx[j]] = st[j];
	}
}

/* With many SAs, each packet's SA lines are cache misses: ask for them a
 * few packets ahead. Read-only line 0, then the line the transport writes.
 * Not the frame's first line: the engine left it in cache, and asking
 * for it cost a load of the mbuf (about a cycle a packet). */
static inline void
transport_prefetch(const struct rxsec_transport *t, struct rte_mbuf *m, uint32_t *last)
{
	uint32_t id = rxsec_pkt_meta(m)->sa_id;
	struct rxsec_sa *sa;

	/* A run of one SA asks once: the slot's load and two prefetches
	 * for a line already in cache cost about a cycle a packet. */
	if (id == *last)
		return;
	*last = id;
	sa = rxsec_sa_table_slot(t->sat, id);
	if (sa != NULL) {
		rte_prefetch0(sa);
		rte_prefetch0(&sa->delivered);
	}
}

/*
 * The software path for the first layer (see transport_software_inner).
 */
static void
transport_software(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n,
		   uint8_t *sw_st, struct rxsec_sa **sw_isa)
{
	struct rte_mbuf *sm[RXSEC_BURST_MAX];
	struct rxsec_sa *ssa[RXSEC_BURST_MAX];
	uint8_t st[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX], k = 0;
	uint32_t hints;
	bool deferred = false;

	for (uint16_t i = 0; i < n; i++) {
		const struct rxsec_pkt_meta *md;
		struct rxsec_sa *sa;

		sw_st[i] = RXSEC_CRYPTO_SUCCESS;
		sw_isa[i] = NULL;
		if (pkts[i] == NULL || (rxsec_pkt_priv(pkts[i])->nest & RXSEC_NEST_HANDED))
			continue;
		md = rxsec_pkt_meta(pkts[i]);
		if (rxsec_result_crypto_done(rxsec_result_get(pkts[i]))) {
			deferred |= rxsec_pkt_priv(pkts[i])->nest == RXSEC_NEST_DEFERRED;
			continue;
		}
		/* Fragments left here could not be reassembled. */
		if ((md->kind != RXSEC_PKT_ESP && md->kind != RXSEC_PKT_AH) ||
		    unlikely(md->flags & RXSEC_PKT_F_FRAGMENT))
			continue;
		sa = rxsec_sa_table_get(t->sat, md->sa_id);
		if (sa == NULL)
			continue;
		sm[k] = pkts[i];
		ssa[k] = sa;
		idx[k++] = i;
	}
	if (k == 0) {
		/* The common case: the engine did everything. */
		if (unlikely(deferred))
			transport_software_inner(t, pkts, n, sw_st, sw_isa);
		return;
	}
	hints = rxsec_ipsec_inb_burst(t->drv, t->cctx, sm, ssa, k, st, 0);
	for (uint16_t j = 0; j < k; j++)
		sw_st[idx[j]] = st[j];
	t->stats.software += k;
	if (hints != 0 || deferred)
		transport_software_inner(t, pkts, n, sw_st, sw_isa);
}

/* Spec section 4: the inbound SA, then its paired outbound SA; rare, so
 * the table writers' lock is acceptable here. */
static void
transport_delete_sa(struct rxsec_transport *t, struct rxsec_sa *sa)
{
	rte_spinlock_lock(t->sat_lock);
	t->stats.sa_deleted += rxsec_sa_delete_pair(t->sat, sa, "SaDeleteReq");
	rte_spinlock_unlock(t->sat_lock);
}

/* NDIS UPDATE_SA from the control plane: only the window's owner writes its
 * top, so pending high-bit updates are applied here, once per poll. */
static void
transport_apply_esn_updates(struct rxsec_transport *t)
{
	struct rxsec_sa_table *sat = t->sat;

	for (uint32_t i = 0; i < sat->capacity; i++) {
		struct rxsec_sa *sa = __atomic_load_n(&sat->slot[i], __ATOMIC_ACQUIRE);
		uint64_t req;

		/* an engine may be claiming it (rxsec_sa_owner) */
		if (sa == NULL || __atomic_load_n(&sa->transport_id, __ATOMIC_RELAXED) != t->id)
			continue;
		req = __atomic_load_n(&sa->esn_hi_req, __ATOMIC_ACQUIRE);
		if (!(req >> 32))
			continue;
		/* The bitmap is indexed by the low bits only: it stays valid. */
		__atomic_store_n(&sa->replay.top, (uint64_t)(uint32_t)req << 32 |
				 (uint32_t)sa->replay.top, __ATOMIC_RELEASE);
		__atomic_compare_exchange_n(&sa->esn_hi_req, &req, 0, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

static inline enum rxsec_reason
replay_reason(enum rxsec_replay_verdict v)
{
	static const uint8_t map[] = {
		[RXSEC_REPLAY_OK] = RXSEC_REASON_OK,
		[RXSEC_REPLAY_SEQ_ZERO] = RXSEC_REASON_SEQ_ZERO,
		[RXSEC_REPLAY_BELOW_WINDOW] = RXSEC_REASON_BELOW_WINDOW,
		[RXSEC_REPLAY_SEEN] = RXSEC_REASON_REPLAY,
	};
	return (enum rxsec_reason)map[v];
}

/* RFC 1122 3.2.1.2: an IPv4 header with a wrong checksum is discarded, as
 * Linux's ip_rcv does before IPsec sees the packet, so neither window moves
 * for it: the port's verdict when it gives one, else the classifier's sum
 * (every outer meta is the classifier's, the engine's or reassembly's; AH
 * put back the fields it zeroed, and nothing else writes the header). */
static inline bool
transport_ipv4_header_ok(struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if ((md->flags & RXSEC_PKT_F_IPV6) || ck == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		return true;
	if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	return md->ip_sum_ok;
}

static inline int
transport_decap(struct rte_mbuf *m, const struct rxsec_sa *sa,
		const struct rxsec_pkt_meta *md)
{
	return sa->mode == RXSEC_MODE_TUNNEL ? rxsec_decap_tunnel(m, md, sa->ds_mode) :
		rxsec_decap_transport(m, md);
}

/* Both layers of a nested packet were verified by the engine: remove the
 * outer tunnel (ds_mode its SA's) then the inner transport header, or, for
 * AH over ESP, the ESP layer first and then AH (whose next header ESP's
 * decap rewrote). */
static int
transport_decap_nested(struct rte_mbuf *m, struct rxsec_pkt_priv *p, uint8_t ds_mode)
{
	struct rxsec_pkt_meta *o = &p->outer, *in = &p->inner;

	if ((p->nest & ~RXSEC_NEST_HANDED) == RXSEC_NEST_TUNNEL) {
		uint16_t delta = o->payload_off - o->l3_off;

		if (rxsec_decap_tunnel(m, o, ds_mode) != 0)
			return -1;
		in->l3_off -= delta;
		in->ipsec_off -= delta;
		in->ip_end -= delta;
		in->nh_off -= delta;
		in->payload_off -= delta;
		in->payload_end -= delta;
		return rxsec_decap_transport(m, in);
	}
	if (rxsec_decap_transport(m, in) != 0)
		return -1;
	o->next_proto = in->next_proto;
	o->payload_end = in->payload_end - (in->payload_off - in->ipsec_off);
	return rxsec_decap_transport(m, o);
}

/* The packet as delivered (its IP header at l3_off) against the selector
 * of every SA that decapsulated it, as Linux checks its sec path; the
 * windows have moved already, as in Linux: the packet was authentic. sa is
 * NULL for a handed packet whose outer SA was deleted meanwhile. */
static bool
transport_selectors_match(struct rte_mbuf *m, uint16_t l3_off, const struct rxsec_sa *sa,
			  const struct rxsec_sa *isa)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, l3_off);
	uint32_t len = rte_pktmbuf_data_len(m) - l3_off, q, ql;

	if ((sa == NULL || !sa->sel_check || rxsec_selector_match(&sa->cfg, ip, len)) &&
	    (isa == NULL || !isa->sel_check || rxsec_selector_match(&isa->cfg, ip, len)))
		return true;
	/* flag icmp on the last SA applied: an ICMP error about this flow */
	if (!((isa != NULL ? isa : sa)->cfg.flags & RXSEC_SA_FLAG_ICMP) ||
	    !rxsec_selector_quoted(ip, len, &q, &ql))
		return false;
	return (sa == NULL || !sa->sel_check ||
		rxsec_selector_match_reverse(&sa->cfg, ip + q, ql)) &&
		(isa == NULL || !isa->sel_check ||
		 rxsec_selector_match_reverse(&isa->cfg, ip + q, ql));
}

/* Spec section 3 rule 6 on the path every packet takes, engine-checked or
 * software: an accepted packet counts toward its SA's lifetime once the
 * window moved (as Linux's xfrm_input), and the one reaching a hard limit
 * carries SaDeleteReq and deletes that SA and its pair. */
static inline void
transport_lifetime(struct rxsec_transport *t, struct rte_mbuf *m, struct rxsec_sa *sa,
		   const struct rxsec_pkt_meta *md)
{
	if (likely(!sa->has_hard_limit) || !rxsec_lifetime_count(sa, md))
		return;
	*rxsec_result_ptr(m) |= RXSEC_RESULT_SA_DELETE_REQ;
	transport_delete_sa(t, sa);
}

/* rxsec_sa_refuses_inner: dropped once the outer window moved, as Linux. */
static enum rxsec_reason
transport_mode_error(struct rxsec_transport *t, struct rte_mbuf *m, struct rxsec_sa *sa,
		     uint64_t seq)
{
	rxsec_replay_update(&sa->replay, seq);
	transport_lifetime(t, m, sa, rxsec_pkt_meta(m));
	return RXSEC_REASON_SELECTOR_MISMATCH;
}

/* Drops count by reason; a delivery counts when it goes to the port and
 * moves to tx_failed if the port refuses it (sa_uncount). */
static inline void
sa_count(struct rxsec_sa *sa, enum rxsec_reason r, uint32_t bytes)
{
	if (r == RXSEC_REASON_OK) {
		sa->delivered++;
		sa->delivered_bytes += bytes;
	} else {
		sa->drops[r]++;
	}
}

static inline void
sa_uncount(struct rxsec_sa *sa, uint32_t bytes)
{
	sa->delivered--;
	sa->delivered_bytes -= bytes;
	sa->drops[RXSEC_REASON_TX_FAILED]++;
}

/*
 * The second layer's window belongs to another stage (an SA added at run
 * time, rxsec_sa_table_add): as in Linux's xfrm_input, the first layer is
 * done once its window moved, and that stage takes the packet on
 * (transport_handed_decide). The outer SA counts it delivered, with the
 * bytes it handed on. A full ring: dropped, the outer window moved.
 */
static enum rxsec_reason
transport_hand_inner(struct rxsec_transport *t, struct rte_mbuf *m, struct rxsec_sa *sa,
		     const struct rxsec_sa *isa, uint64_t seq)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);
	uint32_t len = p->outer.l3_off + p->outer.payload_end - p->outer.payload_off;

	if (isa->transport_id >= t->nb_rings)
		return RXSEC_REASON_NESTED_ACROSS_TRANSPORTS;
	rxsec_replay_update(&sa->replay, seq);
	transport_lifetime(t, m, sa, &p->outer);
	p->nest |= RXSEC_NEST_HANDED;
	p->outer_ds = (uint8_t)((sa->ds_mode & HANDED_DS_MASK) |
				(sa->sel_check ? HANDED_OUTER_SEL : 0));
	if (rte_ring_enqueue(t->rings[isa->transport_id], m) != 0) {
		p->nest &= (uint8_t)~RXSEC_NEST_HANDED;
		return RXSEC_REASON_NESTED_ACROSS_TRANSPORTS;
	}
	/* m is the other stage's now */
	sa_count(sa, RXSEC_REASON_OK, len);
	t->stats.nested_handed++;
	return TRANSPORT_HANDED;
}

/* A second layer's window accepts the packet: moved, and the packet counts
 * toward that SA's lifetime. Else the reason it does not. */
static inline enum rxsec_reason
transport_inner_window(struct rxsec_transport *t, struct rte_mbuf *m, struct rxsec_sa *isa,
		       const struct rxsec_pkt_meta *in)
{
	uint64_t iseq = rxsec_ipsec_seq(m, in);
	enum rxsec_replay_verdict rv = rxsec_replay_check(&isa->replay, iseq);

	if (rv != RXSEC_REPLAY_OK)
		return replay_reason(rv);
	rxsec_replay_update(&isa->replay, iseq);
	transport_lifetime(t, m, isa, in);
	return RXSEC_REASON_OK;
}

/* Rules of spec section 4 for an IPsec packet whose checks passed. With a
 * second layer both windows must accept the packet before either moves,
 * unless the second is another stage's (transport_hand_inner). */
static __rte_always_inline enum rxsec_reason
transport_ipsec(struct rxsec_transport *t, struct rte_mbuf *m,
		struct rxsec_sa *sa, uint32_t result, struct rxsec_sa *sw_isa,
		struct rxsec_sa **inner_out)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);
	const struct rxsec_pkt_meta *md = &p->outer;
	uint64_t seq = rxsec_ipsec_seq(m, md);
	enum rxsec_replay_verdict rv;
	enum rxsec_reason r;
	struct rxsec_sa *isa = NULL;
	uint8_t last_proto = md->next_proto;

	rv = rxsec_replay_check(&sa->replay, seq);
	if (rv != RXSEC_REPLAY_OK)
		return replay_reason(rv);
	if (unlikely(rxsec_sa_refuses_inner(sa, md->next_proto)))
		return transport_mode_error(t, m, sa, seq);
	if (unlikely(rxsec_result_next_crypto_done(result) || sw_isa != NULL)) {
		/* By handle for the software path too: a packet before this one
		 * in the burst may have deleted sw_isa (SaDeleteReq) since. */
		isa = rxsec_sa_table_get(t->sat, p->inner.sa_id);
		if (isa == NULL)
			return RXSEC_REASON_NO_SA;
		if (unlikely(rxsec_sa_owner(isa, (uint8_t)t->id) != t->id))
			return transport_hand_inner(t, m, sa, isa, seq);
		*inner_out = isa;
		r = transport_inner_window(t, m, isa, &p->inner);
		if (r != RXSEC_REASON_OK)
			return r;
		last_proto = p->inner.next_proto;
	}
	rxsec_replay_update(&sa->replay, seq);
	transport_lifetime(t, m, sa, md);
	if (last_proto == RXSEC_NH_NONE)
		return RXSEC_REASON_TFC_DUMMY;
	if ((isa != NULL ? transport_decap_nested(m, p, sa->ds_mode) :
	     transport_decap(m, sa, md)) != 0)
		return RXSEC_REASON_MALFORMED;
	if (unlikely(sa->sel_check || (isa != NULL && isa->sel_check)) &&
	    !transport_selectors_match(m, md->l3_off, sa, isa))
		return RXSEC_REASON_SELECTOR_MISMATCH;
	return RXSEC_REASON_OK;
}

/* One layer of m again with the other high bits; counted when it saves it. */
static enum rxsec_crypto_status
transport_esn_layer(struct rxsec_transport *t, struct rte_mbuf *m,
		    struct rxsec_pkt_meta *md, struct rxsec_sa *sa)
{
	enum rxsec_crypto_status st = rxsec_esn_reverify(t->drv, t->cctx, m, md, sa);

	if (st == RXSEC_CRYPTO_SUCCESS)
		__atomic_add_fetch(&t->sat->esn_reverified, 1, __ATOMIC_RELAXED);
	return st;
}

/*
 * Spec section 4: an ICV failure on an ESN SA near a subspace boundary is
 * checked again with the other high bits before it counts as a failure, on
 * either layer of a nested packet. A first layer saved this way may carry a
 * second one nobody checked yet: it takes the software path now
 * (*sw_isa its SA), and may in turn need the other high bits.
 */
static enum rxsec_crypto_status
transport_esn_reverify(struct rxsec_transport *t, struct rte_mbuf *m, struct rxsec_sa *sa,
		       uint32_t result, enum rxsec_crypto_status st, struct rxsec_sa **sw_isa)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);
	struct rxsec_sa *isa;
	uint8_t ist = RXSEC_CRYPTO_SUCCESS;

	if (!rxsec_result_next_crypto_done(result) && *sw_isa == NULL) {
		if (!sa->esn || st != sa->auth_failed_status)
			return st;
		st = transport_esn_layer(t, m, &p->outer, sa);
		if (st != RXSEC_CRYPTO_SUCCESS || !(p->outer.flags & RXSEC_PKT_F_INNER_HINT) ||
		    rxsec_ipsec_inner_burst(t->drv, t->cctx, t->sat, &m, &sa, 1, &ist, &isa,
					    0, false) == 0)
			return st;
		*sw_isa = isa;
		st = (enum rxsec_crypto_status)ist;
	}
	isa = rxsec_sa_table_get(t->sat, p->inner.sa_id);
	/* the window the high bits come from must be this stage's */
	if (isa == NULL || !isa->esn || st != isa->auth_failed_status ||
	    rxsec_sa_owner(isa, (uint8_t)t->id) != t->id)
		return st;
	return transport_esn_layer(t, m, &p->inner, isa);
}

static __rte_always_inline enum rxsec_reason
transport_decide(struct rxsec_transport *t, struct rte_mbuf *m, uint8_t sw_status,
		 struct rxsec_sa *sw_isa, struct rxsec_sa **sa_out,
		 struct rxsec_sa **inner_out)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint32_t result = rxsec_result_get(m);
	enum rxsec_crypto_status st = rxsec_result_status(result);
	struct rxsec_sa *sa;

	*sa_out = NULL;
	*inner_out = NULL;
	if ((md->kind == RXSEC_PKT_OTHER || md->kind == RXSEC_PKT_UDP_FRAGMENT) &&
	    !rxsec_result_crypto_done(result))
		return RXSEC_REASON_OK;
	if (md->kind == RXSEC_PKT_MALFORMED)
		return md->flags & RXSEC_PKT_F_TOO_LONG ? RXSEC_REASON_TOO_LONG :
			RXSEC_REASON_MALFORMED;
	if (unlikely(md->kind == RXSEC_PKT_FRAGMENT))
		return RXSEC_REASON_FRAGMENT;	/* reassembly off or refused */
	if (unlikely(md->flags & RXSEC_PKT_F_FRAGMENT) && !rxsec_result_crypto_done(result))
		return RXSEC_REASON_FRAGMENT;
	sa = rxsec_sa_table_get(t->sat, md->sa_id);
	*sa_out = sa;
	/* before any IPsec verdict: Linux's ip_rcv drops it first, whatever
	 * its ICV would have said */
	if (unlikely(!transport_ipv4_header_ok(m, md)))
		return RXSEC_REASON_MALFORMED;
	/* The software path's status: the whole packet's when the engine did
	 * nothing, an inner layer's when it checked only the outer one. */
	if (!rxsec_result_crypto_done(result) || st == RXSEC_CRYPTO_SUCCESS)
		st = (enum rxsec_crypto_status)sw_status;
	if (unlikely(st != RXSEC_CRYPTO_SUCCESS) && sa != NULL)
		st = transport_esn_reverify(t, m, sa, result, st, &sw_isa);
	/* its counters belong to its own stage (transport_ipsec) */
	*inner_out = sw_isa != NULL && rxsec_sa_owner(sw_isa, (uint8_t)t->id) == t->id ?
		sw_isa : NULL;
	if (st != RXSEC_CRYPTO_SUCCESS)
		return rxsec_reason_from_status(st);
	if (sa == NULL)
		return RXSEC_REASON_NO_SA;	/* RFC 4303 3.4.2 */
	return transport_ipsec(t, m, sa, result, sw_isa, inner_out);
}

/* A nested packet whose first layer another stage accepted
 * (transport_hand_inner): this stage owns the second layer's window; the
 * rest as in transport_ipsec. */
static enum rxsec_reason
transport_handed_decide(struct rxsec_transport *t, struct rte_mbuf *m,
			struct rxsec_sa **inner_out)
{
	struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);
	const struct rxsec_sa *sa = rxsec_sa_table_get(t->sat, p->outer.sa_id);
	struct rxsec_sa *isa = rxsec_sa_table_get(t->sat, p->inner.sa_id);
	enum rxsec_reason r;

	*inner_out = isa;
	if (isa == NULL || (sa == NULL && (p->outer_ds & HANDED_OUTER_SEL)))
		return RXSEC_REASON_NO_SA;
	if (unlikely(rxsec_sa_owner(isa, (uint8_t)t->id) != t->id)) {
		*inner_out = NULL;	/* SAs keep their stage: never seen */
		return RXSEC_REASON_NESTED_ACROSS_TRANSPORTS;
	}
	r = transport_inner_window(t, m, isa, &p->inner);
	if (r != RXSEC_REASON_OK)
		return r;
	if (p->inner.next_proto == RXSEC_NH_NONE)
		return RXSEC_REASON_TFC_DUMMY;
	if (transport_decap_nested(m, p, p->outer_ds & HANDED_DS_MASK) != 0)
		return RXSEC_REASON_MALFORMED;
	if (((p->outer_ds & HANDED_OUTER_SEL) || isa->sel_check) &&
	    !transport_selectors_match(m, p->outer.l3_off, sa, isa))
		return RXSEC_REASON_SELECTOR_MISMATCH;
	return RXSEC_REASON_OK;
}

/* One burst's outcome: what goes to the port, what is freed. */
struct transport_out {
	struct rte_mbuf *m[RXSEC_BURST_MAX];
	struct rxsec_sa *sa[RXSEC_BURST_MAX], *isa[RXSEC_BURST_MAX];
	uint32_t len[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX];	/* position in the burst */
	uint16_t n;
	uint16_t handed;		/* nested packets now on another stage */
	struct rte_mbuf *drop[RXSEC_BURST_MAX];
	uint16_t ndrop;
};

static inline void
transport_sort(struct rxsec_transport *t, struct transport_out *o, struct rte_mbuf *m,
	       uint16_t i, enum rxsec_reason r, struct rxsec_sa *sa, struct rxsec_sa *isa)
{
	uint32_t len = r == RXSEC_REASON_OK ? rte_pktmbuf_pkt_len(m) : 0;

	if (sa != NULL)
		sa_count(sa, r, len);
	if (unlikely(isa != NULL))
		sa_count(isa, r, len);
	if (r != RXSEC_REASON_OK) {
		t->stats.reason[r]++;
		o->drop[o->ndrop++] = m;
		return;
	}
	o->sa[o->n] = sa;
	o->isa[o->n] = isa;
	o->len[o->n] = len;
	o->idx[o->n] = i;
	o->m[o->n++] = m;
}

/* Did the engine leave nothing to the software path for this packet? */
static inline bool
transport_engine_complete(struct rte_mbuf *m, uint32_t result)
{
	const struct rxsec_pkt_priv *p = rxsec_pkt_priv(m);

	/* deferred and handed second layers take the slow path */
	if (rxsec_result_crypto_done(result))
		return p->nest < RXSEC_NEST_DEFERRED;
	if (p->outer.kind == RXSEC_PKT_FRAGMENT || p->outer.kind == RXSEC_PKT_UDP_FRAGMENT)
		return false;	/* to reassembly */
	return (p->outer.kind != RXSEC_PKT_ESP && p->outer.kind != RXSEC_PKT_AH) ||
		(p->outer.flags & RXSEC_PKT_F_FRAGMENT);
}

static void
verdicts_write(FILE *f, const struct verdict_rec *v, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint32_t r = v[i].result;
		char spi[16];

		if (v[i].skip)
			continue;
		if (v[i].has_spi)
			snprintf(spi, sizeof(spi), "\"0x%08x\"", rte_be_to_cpu_32(v[i].spi));
		else
			snprintf(spi, sizeof(spi), "null");
		fprintf(f, "{\"n\":%" PRIu64 ",\"spi\":%s,\"crypto_done\":%d,\"next_crypto_done\":%d,"
			"\"sa_delete_req\":%d,\"crypto_status\":\"%s\",\"verdict\":\"%s\","
			"\"reason\":\"%s\"}\n",
			v[i].n, spi, rxsec_result_crypto_done(r),
			rxsec_result_next_crypto_done(r), rxsec_result_sa_delete_req(r),
			rxsec_crypto_status_name(rxsec_result_status(r)),
			v[i].reason == RXSEC_REASON_OK ? "deliver" :
			v[i].reason == RXSEC_REASON_REASSEMBLY ? "held" : "drop",
			rxsec_reason_name((enum rxsec_reason)v[i].reason));
	}
}

#define TRANSPORT_PREFETCH	8

/* What must be read before the decision decapsulates m; the result record
 * is taken after it, with the SaDeleteReq transport_lifetime may set. */
static inline void
verdict_fill(struct verdict_rec *v, struct rte_mbuf *m)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);

	v->n = rxsec_pkt_rx_index(m);
	v->skip = 0;
	v->has_spi = md->kind == RXSEC_PKT_ESP || md->kind == RXSEC_PKT_AH;
	v->spi = v->has_spi ? rxsec_pkt_spi(m, md) : 0;
}

/* Send what was delivered; what the port refuses becomes tx_failed. */
static inline void
transport_tx(struct rxsec_transport *t, struct transport_out *o, struct verdict_rec *vr,
	     const bool with_verdicts)
{
	uint16_t sent = o->n ? rte_eth_tx_burst(t->tx_port, t->tx_queue, o->m, o->n) : 0;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < o->n; i++)
		bytes += o->len[i];
	for (uint16_t i = sent; i < o->n; i++) {
		if (o->sa[i] != NULL)
			sa_uncount(o->sa[i], o->len[i]);
		if (o->isa[i] != NULL)
			sa_uncount(o->isa[i], o->len[i]);
		bytes -= o->len[i];
		t->stats.reason[RXSEC_REASON_TX_FAILED]++;
		if (with_verdicts)
			vr[o->idx[i]].reason = RXSEC_REASON_TX_FAILED;
		o->drop[o->ndrop++] = o->m[i];
	}
	t->stats.reason[RXSEC_REASON_OK] += sent;
	t->stats.delivered += sent;
	t->stats.delivered_bytes += bytes;
	if (o->ndrop)
		rte_pktmbuf_free_bulk(o->drop, o->ndrop);
}

/* Decide packet i of the burst, count it and sort it for the port. */
static __rte_always_inline void
transport_one(struct rxsec_transport *t, struct transport_out *o, struct verdict_rec *vr,
	      struct rte_mbuf *m, uint16_t i, uint8_t sw_status, struct rxsec_sa *sw_isa,
	      const bool with_verdicts)
{
	struct rxsec_sa *sa, *isa;
	enum rxsec_reason r;

	if (with_verdicts)
		verdict_fill(&vr[i], m);
	r = transport_decide(t, m, sw_status, sw_isa, &sa, &isa);
	if (unlikely(r == TRANSPORT_HANDED)) {
		vr[i].skip = 1;		/* the stage it went to writes it */
		o->handed++;
		return;
	}
	vr[i].reason = (uint8_t)r;
	if (with_verdicts)
		vr[i].result = rxsec_result_get(m);
	transport_sort(t, o, m, i, r, sa, isa);
}

/* A packet another stage handed over (transport_hand_inner): only its
 * second layer's SA is this stage's to count. */
static void
transport_handed_one(struct rxsec_transport *t, struct transport_out *o,
		     struct verdict_rec *vr, struct rte_mbuf *m, uint16_t i,
		     const bool with_verdicts)
{
	struct rxsec_sa *isa;
	enum rxsec_reason r;

	if (with_verdicts)
		verdict_fill(&vr[i], m);
	r = transport_handed_decide(t, m, &isa);
	vr[i].reason = (uint8_t)r;
	if (with_verdicts)
		vr[i].result = rxsec_result_get(m);
	transport_sort(t, o, m, i, r, NULL, isa);
}

/* Free what the table gave up on; now and then give up on datagrams past
 * their timeout, so their fragments do not hold mbufs for long. */
static void
transport_frag_housekeeping(struct rxsec_transport *t, uint64_t now)
{
	struct rxsec_reassembly *r = &t->reasm;

	if (now - r->last_expire > r->timeout / 8)
		rxsec_reassembly_expire(r, now);
	else
		rxsec_reassembly_collect(r);
}

/* A reassembled datagram's SA. Its window has one writer: a datagram for
 * an SA another transport owns goes to that transport's ring; if that ring
 * is full, it is dropped as `fragment`. Returns true if handed over. */
static bool
transport_datagram_sa(struct rxsec_transport *t, struct rte_mbuf *d,
		      const struct rxsec_sa_key *key)
{
	struct rxsec_pkt_meta *md = rxsec_pkt_meta(d);
	uint8_t rx = rxsec_pkt_priv(d)->rx_stage, owner;
	struct rxsec_sa *sa;

	if (md->kind != RXSEC_PKT_ESP && md->kind != RXSEC_PKT_AH)
		return false;
	rxsec_sa_table_lookup_bulk(t->sat, &key, 1, &sa);
	if (sa == NULL)
		return false;
	md->sa_id = sa->handle;
	/* unclaimed: the stage of the lcore its first fragment came in on */
	owner = rxsec_sa_owner(sa, rx < t->nb_rings ? rx : (uint8_t)t->id);
	if (owner == t->id || owner >= t->nb_rings)
		return false;
	if (rte_ring_enqueue(t->rings[owner], d) == 0) {
		t->stats.handed_over++;
		return true;
	}
	md->flags |= RXSEC_PKT_F_FRAGMENT;
	return false;
}

/*
 * Fragments of ESP/AH datagrams go into the reassembly table (RFC 4303
 * 3.4.1: reassemble before IPsec processing). The one that completes a
 * datagram is replaced by it, and the datagram takes the software path;
 * the others leave the burst (pkts[i] NULL, their fate in fo[i]). Returns
 * how many datagrams went to another transport.
 */
static uint16_t
transport_reassemble(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n,
		     struct frag_out *fo)
{
	uint64_t now = 0;
	uint16_t handed = 0;

	if (t->reasm.tbl == NULL)
		return 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *d = NULL;
		struct rxsec_sa_key key;
		enum rxsec_reassembly_result res;
		struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);

		if (md->kind != RXSEC_PKT_FRAGMENT && md->kind != RXSEC_PKT_UDP_FRAGMENT)
			continue;
		if (now == 0)
			now = rte_rdtsc();
		fo[i].n = rxsec_pkt_rx_index(m);
		res = rxsec_reassembly_add(&t->reasm, m, now, &d, &key);
		if (res == RXSEC_REASM_REFUSED || res == RXSEC_REASM_PASS)
			continue;	/* dropped as `fragment`; plain UDP delivered unchanged */
		pkts[i] = d;
		if (res == RXSEC_REASM_HELD) {
			fo[i].fate = FRAG_HELD;
		} else if (transport_datagram_sa(t, d, &key)) {
			pkts[i] = NULL;
			fo[i].fate = FRAG_HANDED;
			handed++;
		}
	}
	if (now != 0)
		transport_frag_housekeeping(t, now);
	return handed;
}

/* A fragment that left the burst: held ones count (and get a verdict
 * line) here; a handed-over one is counted by the transport it went to. */
static void
transport_frag_out(struct rxsec_transport *t, struct verdict_rec *vr, uint16_t i,
		   const struct frag_out *fo, const bool with_verdicts)
{
	vr[i].skip = fo->fate == FRAG_HANDED;
	if (fo->fate == FRAG_HANDED)
		return;
	t->stats.reason[RXSEC_REASON_REASSEMBLY]++;
	if (with_verdicts) {
		vr[i].n = fo->n;
		vr[i].has_spi = 0;
		vr[i].spi = 0;
		vr[i].result = 0;
		vr[i].reason = RXSEC_REASON_REASSEMBLY;
	}
}

/*
 * Packets the engine finished are decided in one pass, up to the first one
 * that needs the software path; from there on the rest of the burst goes
 * through it and is decided after, still in order, so that every window
 * sees its packets in arrival order.
 */
static __rte_always_inline void
transport_burst(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n,
		const bool with_verdicts)
{
	struct transport_out o;
	struct verdict_rec vr[RXSEC_BURST_MAX];
	uint8_t sw_st[RXSEC_BURST_MAX];
	struct rxsec_sa *sw_isa[RXSEC_BURST_MAX];
	struct frag_out fo[RXSEC_BURST_MAX];
	uint16_t i, handed = 0;
	uint32_t pf_last = RXSEC_SA_NONE;

	o.n = 0;
	o.ndrop = 0;
	o.handed = 0;
	for (i = 0; i < RTE_MIN(n, TRANSPORT_PREFETCH); i++)
		transport_prefetch(t, pkts[i], &pf_last);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + TRANSPORT_PREFETCH < n)
			transport_prefetch(t, pkts[i + TRANSPORT_PREFETCH], &pf_last);
		if (unlikely(!transport_engine_complete(m, rxsec_result_get(m))))
			break;
		transport_one(t, &o, vr, m, i, RXSEC_CRYPTO_SUCCESS, NULL, with_verdicts);
	}
	if (unlikely(i < n)) {
		uint16_t first = i;

		handed = transport_reassemble(t, pkts + first, n - first, fo);
		transport_software(t, pkts + first, n - first, sw_st, sw_isa);
		for (; i < n; i++) {
			if (pkts[i] == NULL)
				transport_frag_out(t, vr, i, &fo[i - first], with_verdicts);
			else if (rxsec_pkt_priv(pkts[i])->nest & RXSEC_NEST_HANDED)
				transport_handed_one(t, &o, vr, pkts[i], i, with_verdicts);
			else
				transport_one(t, &o, vr, pkts[i], i, sw_st[i - first],
					      sw_isa[i - first], with_verdicts);
		}
	}
	t->stats.rx += n - handed - o.handed;
	rxsec_stage_end(t->stage_cycles, &t->stats.cyc, RXSEC_STAGE_DECIDE, &t->stage_tsc);
	transport_tx(t, &o, vr, with_verdicts);
	rxsec_stage_end(t->stage_cycles, &t->stats.cyc, RXSEC_STAGE_TX, &t->stage_tsc);
	if (with_verdicts) {
		verdicts_write(t->verdicts, vr, n);
		rxsec_stage_end(t->stage_cycles, &t->stats.cyc, RXSEC_STAGE_DECIDE,
				&t->stage_tsc);
	}
}

/* Verdict records cost a read of every header: only the burst loop built
 * for --verdicts pays for them. */
void
rxsec_transport_process(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n)
{
	if (t->verdicts != NULL)
		transport_burst(t, pkts, n, true);
	else
		transport_burst(t, pkts, n, false);
}

void
rxsec_transport_stats_add(struct rxsec_transport_stats *sum,
			  const struct rxsec_transport_stats *s)
{
	sum->rx += s->rx;
	sum->delivered += s->delivered;
	sum->delivered_bytes += s->delivered_bytes;
	sum->software += s->software;
	sum->sa_deleted += s->sa_deleted;
	sum->soft_expired += s->soft_expired;
	sum->handed_over += s->handed_over;
	sum->nested_handed += s->nested_handed;
	sum->frag.held += s->frag.held;
	sum->frag.datagrams += s->frag.datagrams;
	sum->frag.discarded += s->frag.discarded;
	sum->frag.waiting += s->frag.waiting;
	sum->frag.early += s->frag.early;
	sum->frag.early_joined += s->frag.early_joined;
	sum->frag.early_dropped += s->frag.early_dropped;
	for (int k = 0; k < RXSEC_REASON_MAX; k++)
		sum->reason[k] += s->reason[k];
	rxsec_stage_cycles_add(&sum->cyc, &s->cyc);
}

uint16_t
rxsec_transport_poll(struct rxsec_transport *t)
{
	struct rte_mbuf *pkts[RXSEC_BURST_MAX];
	uint64_t esn_req = __atomic_load_n(&t->sat->esn_req_seq, __ATOMIC_ACQUIRE);
	unsigned int n;

	if (unlikely(esn_req != t->sat->esn_seen[t->id])) {
		t->sat->esn_seen[t->id] = esn_req;
		transport_apply_esn_updates(t);
	}
	if (unlikely(rxsec_reassembly_pending(&t->stats.frag) != 0))
		transport_frag_housekeeping(t, rte_rdtsc());
	t->stage_tsc = rxsec_stage_start(t->stage_cycles);
	n = rte_ring_dequeue_burst(t->ring, (void **)pkts, RXSEC_BURST_MAX, NULL);
	if (n == 0)
		return 0;
	rxsec_transport_process(t, pkts, (uint16_t)n);
	return (uint16_t)n;
}

void
rxsec_transport_flush_fragments(struct rxsec_transport *t)
{
	rxsec_reassembly_free(&t->reasm);
}
