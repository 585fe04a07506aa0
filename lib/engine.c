/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <string.h>

#include "classify.h"
#include "engine.h"
#include "flatten.h"
#include "lifetime.h"
#include "pkt_meta.h"
#include "reassembly.h"
#include "rxsec_result.h"
#include "stage_hash.h"

#define PREFETCH_AHEAD	8

static inline int
sa_key_equal(const struct rxsec_sa_key *a, const struct rxsec_sa_key *b)
{
	uint64_t x[4], y[4];

	RTE_BUILD_BUG_ON(sizeof(*a) != sizeof(x));
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/* Rules 3-4: the packet's SA is known; offload it if the capabilities
 * allow, else leave it to the transport's software path (CryptoDone=0). */
static inline void
engine_take(struct rxsec_engine *e, struct rxsec_inb_batch *b, struct rte_mbuf *m,
	    struct rxsec_sa *sa)
{
	struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);

	/* The handle also serves the transport's software path. */
	md->sa_id = sa->handle;
	if (unlikely(!e->offload || !sa->offload || (md->flags & e->excluded_flags)))
		return;
	rxsec_inb_add(b, m, sa);
}

/* ESP in UDP with a checksum: the port's verdict when it gives one (a
 * fragment's is never good), else the sum over the frame. */
static bool
engine_udp_cksum_ok(const struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	return rxsec_udp_cksum_ok(rte_pktmbuf_mtod(m, const uint8_t *), md);
}

/* Fibonacci hashing spreads sequential and random SPIs alike. */
static inline struct rxsec_sa_cache_set *
sa_cache_set(struct rxsec_engine *e, const struct rxsec_sa_key *k)
{
	RTE_BUILD_BUG_ON(!rte_is_power_of_2(RXSEC_ENGINE_SA_CACHE_SETS));
	return &e->sa_cache[(k->spi * 0x9e3779b1u) >>
			    (32 - rte_log2_u32(RXSEC_ENGINE_SA_CACHE_SETS))];
}

/* The way holding k, cached while no SA was removed; NULL if none. */
static inline const struct rxsec_sa_cache_way *
sa_cache_match(const struct rxsec_sa_cache_set *set, const struct rxsec_sa_key *k,
	       uint32_t epoch)
{
	uint64_t w[3];

	/* The classifier zeroes the key's last 8 bytes: 24 name the SA. */
	RTE_BUILD_BUG_ON(offsetof(struct rxsec_sa_key, pad) != sizeof(w));
	memcpy(w, k, sizeof(w));
	for (unsigned int i = 0; i < RXSEC_ENGINE_SA_CACHE_WAYS; i++) {
		const struct rxsec_sa_cache_way *c = &set->way[i];

		if (((c->key[0] ^ w[0]) | (c->key[1] ^ w[1]) | (c->key[2] ^ w[2])) == 0 &&
		    c->epoch == epoch)
			return c;
	}
	return NULL;
}

/* A key the cache missed goes into way 0; way 0's moves to way 1. */
static inline void
sa_cache_insert(struct rxsec_sa_cache_set *set, const struct rxsec_sa_key *k,
		uint32_t handle, uint32_t epoch)
{
	struct rxsec_sa_cache_way *c = &set->way[0];

	RTE_BUILD_BUG_ON(RXSEC_ENGINE_SA_CACHE_WAYS != 2);
	set->way[1] = *c;
	memcpy(c->key, k, sizeof(c->key));
	c->handle = handle;
	c->epoch = epoch;
}

/* The engine's SA cache, for keys whose lines the classify pass prefetched:
 * key matches first, prefetching their SAs, then the handle checks, so an
 * SA deleted meanwhile (new slot generation) simply misses. Returns how
 * many keys missed; miss[] holds their indexes. */
static uint16_t
sa_cache_lookup(struct rxsec_engine *e, const struct rxsec_sa_key **kp, uint16_t k,
		struct rxsec_sa **found, uint16_t *miss)
{
	uint32_t handle[RXSEC_BURST_MAX];
	uint16_t nm = 0;

	for (uint16_t i = 0; i < k; i++) {
		const struct rxsec_sa_cache_way *c =
			sa_cache_match(sa_cache_set(e, kp[i]), kp[i], e->cache_epoch);

		found[i] = NULL;
		if (c == NULL)
			continue;
		handle[i] = c->handle;
		found[i] = rxsec_sa_table_slot(e->sat, c->handle);
		if (found[i] != NULL)
			rte_prefetch0(found[i]);
	}
	for (uint16_t i = 0; i < k; i++) {
		if (found[i] != NULL && found[i]->handle == handle[i])
			continue;
		found[i] = NULL;
		miss[nm++] = i;
	}
	return nm;
}

/* What the SA cache missed: one bulk rte_hash lookup, and into the cache. */
static void
sa_cache_fill(struct rxsec_engine *e, const struct rxsec_sa_key **kp, const uint16_t *miss,
	      uint16_t nm, struct rxsec_sa **found)
{
	const struct rxsec_sa_key *mkp[RXSEC_BURST_MAX];
	struct rxsec_sa *mfound[RXSEC_BURST_MAX];

	for (uint16_t j = 0; j < nm; j++)
		mkp[j] = kp[miss[j]];
	rxsec_sa_table_lookup_bulk(e->sat, mkp, nm, mfound);
	for (uint16_t j = 0; j < nm; j++) {
		found[miss[j]] = mfound[j];
		if (mfound[j] == NULL)
			continue;
		rte_prefetch0(mfound[j]);
		sa_cache_insert(sa_cache_set(e, mkp[j]), mkp[j], mfound[j]->handle,
				e->cache_epoch);
	}
}

/*
 * SAs not in the one-entry cache: the engine's SA cache, then rte_hash for
 * what it missed. The one-entry cache then holds the last SA found, so a
 * burst of one SA misses once.
 */
static void
engine_lookup(struct rxsec_engine *e, struct rxsec_inb_batch *b, struct rte_mbuf **pkts,
	      const struct rxsec_sa_key **kp, const uint16_t *idx, uint16_t k)
{
	struct rxsec_sa *found[RXSEC_BURST_MAX];
	uint16_t miss[RXSEC_BURST_MAX], nm;
	int last = -1;

	nm = sa_cache_lookup(e, kp, k, found, miss);
	if (nm != 0)
		sa_cache_fill(e, kp, miss, nm, found);
	for (uint16_t i = 0; i < k; i++)
		if (found[i] != NULL) {
			engine_take(e, b, pkts[idx[i]], found[i]);
			last = i;
		}
	if (last >= 0) {
		e->cache_key = *kp[last];
		e->cache_handle = found[last]->handle;
	}
}

/* Write a packet's result record and count it. Rule 6: the transport counts
 * lifetimes once a packet passed its replay check (lifetime.h); here an SA
 * already past a hard limit is flagged until the transport deleted it. */
static inline void
engine_result(struct rxsec_engine *e, struct rte_mbuf *m, struct rxsec_sa *sa,
	      uint32_t flags, enum rxsec_crypto_status st)
{
	if (st == RXSEC_CRYPTO_SUCCESS && unlikely(sa->has_hard_limit))
		flags |= rxsec_lifetime_reached(sa);
	e->stats.status[st]++;
	e->stats.sa_delete_req += (flags & RXSEC_RESULT_SA_DELETE_REQ) != 0;
	rxsec_result_set(m, flags, st);
}

/*
 * Rule 5: a verified first layer may carry a second one. Only a
 * transport-mode inner SA inside the capabilities is processed here;
 * NextCryptoDone=1 for exactly those packets, whose results are written
 * here (engine_results left them).
 */
static void
engine_nested(struct rxsec_engine *e, struct rxsec_inb_batch *b)
{
	struct rxsec_sa *isa[RXSEC_BURST_MAX];

	rxsec_ipsec_inner_burst(e->drv, e->cctx, e->sat, b->m, b->sa, b->n, b->st, isa,
				e->excluded_flags, true);
	for (uint16_t j = 0; j < b->n; j++) {
		struct rte_mbuf *m = b->m[j];
		uint32_t flags = RXSEC_RESULT_CRYPTO_DONE;
		uint8_t st = b->st[j];

		if (!(rxsec_pkt_meta(m)->flags & RXSEC_PKT_F_INNER_HINT))
			continue;
		if (isa[j] != NULL) {
			flags |= RXSEC_RESULT_NEXT_CRYPTO_DONE;
			if (st == RXSEC_CRYPTO_SUCCESS && isa[j]->has_hard_limit)
				flags |= rxsec_lifetime_reached(isa[j]);
		}
		engine_result(e, m, b->sa[j], flags, (enum rxsec_crypto_status)st);
	}
}

/* Rules 6-7: check each plaintext and write its result record. A packet
 * that may carry a second layer waits for engine_nested. */
static inline void
engine_results(struct rxsec_engine *e, struct rxsec_inb_batch *b)
{
	for (uint16_t j = 0; j < b->n; j++) {
		enum rxsec_crypto_status st;

		/* Large packets pushed the first ones' trailers out of L1. */
		if (j + PREFETCH_AHEAD < b->nops)
			rte_prefetch0(rxsec_inb_trailer(b, j + PREFETCH_AHEAD));
		st = rxsec_inb_finish(b, j);
		if (unlikely(rxsec_pkt_meta(b->m[j])->flags & RXSEC_PKT_F_INNER_HINT))
			continue;
		engine_result(e, b->m[j], b->sa[j], RXSEC_RESULT_CRYPTO_DONE, st);
	}
	if (unlikely(b->hints != 0))
		engine_nested(e, b);
}

static inline void
engine_enqueue(struct rxsec_engine *e, struct rte_ring *r, struct rte_mbuf **pkts,
	       uint16_t n)
{
	uint16_t done = 0;

	/* Back-pressure instead of loss: the transport always drains. */
	while (done < n) {
		unsigned int room = n - done;

		if (e->ring_reserve != 0) {
			room = rte_ring_free_count(r);
			room = room > e->ring_reserve ?
				RTE_MIN(room - e->ring_reserve, (unsigned int)(n - done)) : 0;
		}
		if (room != 0)
			done += rte_ring_enqueue_burst(r, (void **)pkts + done, room, NULL);
		if (done < n) {
			e->stats.ring_full++;
			if (e->ring_full_wait != NULL)
				e->ring_full_wait(e->ring_full_arg);
			else
				rte_pause();
		}
	}
}

/* A packet of no SA (plain IP, IKE, an unknown SPI): the stage its outer
 * addresses hash to, so that a flow keeps its order and many flows spread.
 * The classifier may have stopped before l3_off (a runt, a cut VLAN tag):
 * only the frame's own bytes are read. Not IP: stage 0. */
static uint16_t
engine_flow_stage(struct rte_mbuf *m, const struct rxsec_pkt_meta *md, uint16_t nb)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), l3 = md->l3_off;
	uint16_t type;

	if (l3 < RTE_ETHER_HDR_LEN || l3 + sizeof(struct rte_ipv4_hdr) > len)
		return 0;
	type = rxsec_rd_be16(f + l3 - 2);
	if (type == RTE_ETHER_TYPE_IPV4)
		return rxsec_stage_of_hash(rxsec_ip_addrs_hash(f + l3, false, 0), nb);
	if (type == RTE_ETHER_TYPE_IPV6 && l3 + sizeof(struct rte_ipv6_hdr) <= len)
		return rxsec_stage_of_hash(rxsec_ip_addrs_hash(f + l3, true, 0), nb);
	return 0;
}

/* The first packet of an SA no stage owns yet: this engine's lcore's. */
static uint8_t
engine_claim_stage(const struct rxsec_engine *e, struct rxsec_sa *sa)
{
	uint32_t want = e->home_ring < e->nb_rings ? e->home_ring : sa->id % e->nb_rings;

	return rxsec_sa_owner(sa, (uint8_t)want);
}

/*
 * One transport per SA keeps one writer per replay window and SA order;
 * an SA without one yet takes this engine's home stage (rxsec_sa_owner).
 * A fragment has no SA yet (a later one has no SPI): every fragment of a
 * datagram goes to the stage its identity hashes to, which reassembles it
 * and hands the datagram to its SA's stage. Anything else without an SA
 * goes by its addresses.
 */
static inline uint16_t
engine_transport_of(const struct rxsec_engine *e, struct rte_mbuf *m)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	struct rxsec_sa *sa = md->sa_id == RXSEC_SA_NONE ? NULL :
		rxsec_sa_table_slot(e->sat, md->sa_id);

	if (sa != NULL) {
		uint8_t t = __atomic_load_n(&sa->transport_id, __ATOMIC_RELAXED);

		if (unlikely(t == RXSEC_TRANSPORT_UNSET))
			t = engine_claim_stage(e, sa);
		return t < e->nb_rings ? t : 0;
	}
	if (unlikely(md->flags & RXSEC_PKT_F_FRAGMENT)) {
		rxsec_pkt_priv(m)->rx_stage = (uint8_t)e->home_ring;
		return rxsec_reassembly_stage_of(m, e->nb_rings);
	}
	return engine_flow_stage(m, md, e->nb_rings);
}

static void
engine_dispatch(struct rxsec_engine *e, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *per[RXSEC_TRANSPORT_MAX][RXSEC_BURST_MAX];
	uint16_t cnt[RXSEC_TRANSPORT_MAX] = {0};

	if (e->nb_rings == 1) {
		engine_enqueue(e, e->ring[0], pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		uint16_t t = engine_transport_of(e, pkts[i]);

		per[t][cnt[t]++] = pkts[i];
	}
	for (uint16_t t = 0; t < e->nb_rings; t++)
		if (cnt[t])
			engine_enqueue(e, e->ring[t], per[t], cnt[t]);
}

/* The one-entry cache's SA for this burst. Both caches start over once an
 * SA was removed (see struct rxsec_engine). */
static inline struct rxsec_sa *
engine_cached_sa(struct rxsec_engine *e)
{
	uint32_t epoch = __atomic_load_n(&e->sat->remove_epoch, __ATOMIC_ACQUIRE);

	if (unlikely(epoch != e->cache_epoch)) {
		e->cache_epoch = epoch;
		e->cache_handle = RXSEC_SA_NONE;
	}
	return rxsec_sa_table_get(e->sat, e->cache_handle);
}

/*
 * One pass classifies each packet and, when it belongs to the cached SA,
 * prepares its crypto job right away; the other SAs are looked up in bulk.
 * Then one crypto burst, and one pass writing the result records.
 */
void
rxsec_engine_process(struct rxsec_engine *e, struct rte_mbuf **pkts, uint16_t n)
{
	struct rxsec_inb_batch b;
	struct rxsec_sa_key keys[RXSEC_BURST_MAX];
	const struct rxsec_sa_key *kp[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX], k = 0;
	struct rxsec_sa *cached = engine_cached_sa(e);
	uint64_t first = __atomic_fetch_add(e->next_n, n, __ATOMIC_RELAXED);
	uint64_t tsc = rxsec_stage_start(e->stage_cycles);

	rxsec_inb_init(&b, 0);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rxsec_pkt_priv *p;
		enum rxsec_pkt_kind kind;
		bool too_long = false;

		if (i + PREFETCH_AHEAD < n) {
			/* headers to read, and our private state to write */
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
			rte_prefetch0(rxsec_pkt_priv(pkts[i + PREFETCH_AHEAD]));
		}
		if (unlikely(!rte_pktmbuf_is_contiguous(m))) {
			pkts[i] = m = rxsec_flatten(m, e->big_pool);
			too_long = !rte_pktmbuf_is_contiguous(m);
		}
		p = rxsec_pkt_priv(m);
		*rxsec_result_ptr(m) = 0;
		p->n = first + i;
		p->nest = RXSEC_NEST_NONE;
		kind = rxsec_classify(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
				      &p->outer, &keys[k]);
		if (unlikely(too_long)) {
			rxsec_meta_too_long(&p->outer);
			kind = RXSEC_PKT_MALFORMED;
		} else if (unlikely(p->outer.flags & RXSEC_PKT_F_UDP_CSUM) &&
			   !engine_udp_cksum_ok(m, &p->outer)) {
			p->outer.kind = RXSEC_PKT_MALFORMED;
			kind = RXSEC_PKT_MALFORMED;
		}
		if (kind != RXSEC_PKT_ESP && kind != RXSEC_PKT_AH)
			continue;
		if (likely(cached != NULL) && sa_key_equal(&keys[k], &e->cache_key)) {
			engine_take(e, &b, m, cached);
			continue;
		}
		rte_prefetch0(sa_cache_set(e, &keys[k]));
		kp[k] = &keys[k];
		idx[k++] = i;
	}
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_CLASSIFY, &tsc);
	if (k != 0)
		engine_lookup(e, &b, pkts, kp, idx, k);
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_LOOKUP, &tsc);
	rxsec_inb_run(e->drv, e->cctx, &b);
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_CRYPTO, &tsc);
	engine_results(e, &b);
	e->stats.rx += n;
	e->stats.crypto_done += b.n;
	e->stats.unprocessed += n - b.n;
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_CHECKS, &tsc);
	engine_dispatch(e, pkts, n);
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_ENQUEUE, &tsc);
}

void
rxsec_engine_stats_add(struct rxsec_engine_stats *sum, const struct rxsec_engine_stats *s)
{
	sum->rx += s->rx;
	sum->unprocessed += s->unprocessed;
	sum->crypto_done += s->crypto_done;
	sum->sa_delete_req += s->sa_delete_req;
	sum->ring_full += s->ring_full;
	rxsec_stage_cycles_add(&sum->cyc, &s->cyc);
	for (int k = 0; k < RXSEC_CRYPTO_STATUS_MAX; k++)
		sum->status[k] += s->status[k];
}

uint16_t
rxsec_engine_poll(struct rxsec_engine *e)
{
	struct rte_mbuf *pkts[RXSEC_BURST_MAX];
	uint64_t tsc = rxsec_stage_start(e->stage_cycles);
	uint16_t n = rte_eth_rx_burst(e->port, e->queue, pkts, RXSEC_BURST_MAX);

	if (n == 0)
		return 0;	/* idle polls are nobody's stage */
	rxsec_stage_end(e->stage_cycles, &e->stats.cyc, RXSEC_STAGE_RX, &tsc);
	rxsec_engine_process(e, pkts, n);
	return n;
}
