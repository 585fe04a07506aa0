/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <string.h>

#include "classify.h"
#include "engine.h"
#include "esn_reverify.h"
#include "pkt_meta.h"
#include "rxsec_result.h"

#define PREFETCH_AHEAD	4

/* Spec section 3, rule 6: the packet that reaches a hard limit asks for deletion. */
static inline uint32_t
engine_lifetime(struct rxsec_sa *sa, const struct rxsec_pkt_meta *md)
{
	uint64_t p = __atomic_add_fetch(&sa->life_packets, 1, __ATOMIC_RELAXED);
	uint64_t b = __atomic_add_fetch(&sa->life_bytes,
					(uint64_t)(md->ip_end - md->l3_off),
					__ATOMIC_RELAXED);

	return p >= sa->packet_hard || b >= sa->byte_hard ?
		RXSEC_RESULT_SA_DELETE_REQ : 0;
}

static inline void
engine_classify(struct rxsec_engine *e, struct rte_mbuf **pkts, uint16_t n,
		struct rxsec_sa_key *keys, const struct rxsec_sa_key **kp,
		uint16_t *idx, uint16_t *nb_ipsec)
{
	uint32_t first = __atomic_fetch_add(e->next_n, n, __ATOMIC_RELAXED);
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
		enum rxsec_pkt_kind kind;

		if (i + PREFETCH_AHEAD < n) {
			/* headers to read, and our private state to write */
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
			rte_prefetch0(rxsec_pkt_priv(pkts[i + PREFETCH_AHEAD]));
		}
		if (unlikely(!rte_pktmbuf_is_contiguous(m)))
			rte_pktmbuf_linearize(m);	/* else classified on the first segment */
		*rxsec_result_ptr(m) = 0;
		kind = rxsec_classify(rte_pktmbuf_mtod(m, uint8_t *),
				      rte_pktmbuf_data_len(m), md, &keys[i]);
		rxsec_pkt_priv(m)->n = first + i;
		rxsec_pkt_priv(m)->nest = RXSEC_NEST_NONE;
		if (kind == RXSEC_PKT_ESP || kind == RXSEC_PKT_AH) {
			kp[k] = &keys[i];
			idx[k++] = i;
		}
	}
	*nb_ipsec = k;
}

static inline int
sa_key_equal(const struct rxsec_sa_key *a, const struct rxsec_sa_key *b)
{
	uint64_t x[3], y[3];

	RTE_BUILD_BUG_ON(sizeof(*a) != sizeof(x));
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

/*
 * A one-entry SA cache per engine in front of the hash: most bursts carry
 * one SA. The cached handle is looked up again each burst, so an SA deleted
 * meanwhile (new slot generation) simply misses.
 */
static inline void
engine_lookup(struct rxsec_engine *e, const struct rxsec_sa_key **kp, uint16_t k,
	      struct rxsec_sa **sas)
{
	const struct rxsec_sa_key *miss[RXSEC_BURST_MAX];
	struct rxsec_sa *found[RXSEC_BURST_MAX];
	struct rxsec_sa *cached = rxsec_sa_table_get(e->sat, e->cache_handle);
	uint16_t midx[RXSEC_BURST_MAX], nm = 0;

	for (uint16_t j = 0; j < k; j++) {
		if (cached != NULL && sa_key_equal(kp[j], &e->cache_key)) {
			sas[j] = cached;
			continue;
		}
		miss[nm] = kp[j];
		midx[nm++] = j;
	}
	if (nm == 0)
		return;
	rxsec_sa_table_lookup_bulk(e->sat, miss, nm, found);
	for (uint16_t i = 0; i < nm; i++) {
		sas[midx[i]] = found[i];
		if (found[i] != NULL)
			rte_prefetch0(found[i]);	/* read right after, for every packet */
	}
	for (uint16_t i = nm; i-- > 0;)
		if (found[i] != NULL) {
			e->cache_key = *miss[i];
			e->cache_handle = found[i]->handle;
			break;
		}
}

/*
 * Rule 5: a verified first layer may carry a second one. Only a
 * transport-mode inner SA inside the capabilities is processed here;
 * NextCryptoDone=1 for exactly those packets.
 */
static void
engine_nested(struct rxsec_engine *e, struct rte_mbuf **cm, struct rxsec_sa **csa,
	      uint16_t c, uint8_t *st, uint32_t *nflags)
{
	struct rxsec_sa *isa[RXSEC_BURST_MAX];

	memset(nflags, 0, sizeof(*nflags) * c);
	if (rxsec_ipsec_inner_burst(e->drv, e->cctx, e->sat, cm, csa, c, st, isa,
				    e->excluded_flags, true) == 0)
		return;
	for (uint16_t j = 0; j < c; j++) {
		nflags[j] = 0;
		if (isa[j] == NULL)
			continue;
		nflags[j] = RXSEC_RESULT_NEXT_CRYPTO_DONE;
		if (st[j] == RXSEC_CRYPTO_SUCCESS && isa[j]->has_hard_limit)
			nflags[j] |= engine_lifetime(isa[j], &rxsec_pkt_priv(cm[j])->inner);
	}
}

/* Rules 3-6: find the SA, keep what is outside the capabilities for the
 * transport's software path, decrypt/verify the rest in one crypto burst. */
static inline uint16_t
engine_offload(struct rxsec_engine *e, struct rte_mbuf **pkts,
	       const struct rxsec_sa_key **kp, const uint16_t *idx, uint16_t k)
{
	struct rxsec_sa *sas[RXSEC_BURST_MAX];
	struct rte_mbuf *cm[RXSEC_BURST_MAX];
	struct rxsec_sa *csa[RXSEC_BURST_MAX];
	uint8_t st[RXSEC_BURST_MAX];
	uint32_t nflags[RXSEC_BURST_MAX];
	uint16_t c = 0;
	uint8_t esn = 0;

	engine_lookup(e, kp, k, sas);
	for (uint16_t j = 0; j < k; j++) {
		struct rte_mbuf *m = pkts[idx[j]];
		struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);

		if (sas[j] == NULL)
			continue;
		/* The handle also serves the transport's software path. */
		md->sa_id = sas[j]->handle;
		if (!e->offload || !sas[j]->offload || (md->flags & e->excluded_flags))
			continue;
		esn |= sas[j]->esn;
		cm[c] = m;
		csa[c++] = sas[j];
	}
	if (c == 0)
		return 0;
	if (unlikely(esn))
		rxsec_esn_backup_burst(cm, csa, c);
	if (unlikely(rxsec_ipsec_inb_burst(e->drv, e->cctx, cm, csa, c, st, 0) != 0))
		engine_nested(e, cm, csa, c, st, nflags);
	else
		memset(nflags, 0, sizeof(*nflags) * c);
	for (uint16_t j = 0; j < c; j++) {
		uint32_t flags = RXSEC_RESULT_CRYPTO_DONE | nflags[j];

		if (csa[j]->has_hard_limit && st[j] == RXSEC_CRYPTO_SUCCESS)
			flags |= engine_lifetime(csa[j], rxsec_pkt_meta(cm[j]));
		e->stats.status[st[j]]++;
		e->stats.sa_delete_req += (flags & RXSEC_RESULT_SA_DELETE_REQ) != 0;
		rxsec_result_set(cm[j], flags, (enum rxsec_crypto_status)st[j]);
	}
	return c;
}

static inline void
engine_enqueue(struct rxsec_engine *e, struct rte_ring *r, struct rte_mbuf **pkts,
	       uint16_t n)
{
	uint16_t done = 0;

	/* Back-pressure instead of loss: the transport always drains. */
	while (done < n) {
		done += rte_ring_enqueue_burst(r, (void **)pkts + done, n - done, NULL);
		if (done < n) {
			e->stats.ring_full++;
			rte_pause();
		}
	}
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
	/* One transport per SA keeps one writer per replay window and SA order. */
	for (uint16_t i = 0; i < n; i++) {
		uint32_t h = rxsec_pkt_meta(pkts[i])->sa_id;
		uint16_t t = h == RXSEC_SA_NONE ? 0 : (h & RXSEC_SA_SLOT_MASK) % e->nb_rings;

		per[t][cnt[t]++] = pkts[i];
	}
	for (uint16_t t = 0; t < e->nb_rings; t++)
		if (cnt[t])
			engine_enqueue(e, e->ring[t], per[t], cnt[t]);
}

void
rxsec_engine_process(struct rxsec_engine *e, struct rte_mbuf **pkts, uint16_t n)
{
	struct rxsec_sa_key keys[RXSEC_BURST_MAX];
	const struct rxsec_sa_key *kp[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX];
	uint16_t k, done;

	engine_classify(e, pkts, n, keys, kp, idx, &k);
	done = engine_offload(e, pkts, kp, idx, k);
	e->stats.rx += n;
	e->stats.crypto_done += done;
	e->stats.unprocessed += n - done;
	engine_dispatch(e, pkts, n);
}

void
rxsec_engine_stats_add(struct rxsec_engine_stats *sum, const struct rxsec_engine_stats *s)
{
	sum->rx += s->rx;
	sum->unprocessed += s->unprocessed;
	sum->crypto_done += s->crypto_done;
	sum->sa_delete_req += s->sa_delete_req;
	sum->ring_full += s->ring_full;
	for (int k = 0; k < RXSEC_CRYPTO_STATUS_MAX; k++)
		sum->status[k] += s->status[k];
}

uint16_t
rxsec_engine_poll(struct rxsec_engine *e)
{
	struct rte_mbuf *pkts[RXSEC_BURST_MAX];
	uint16_t n = rte_eth_rx_burst(e->port, e->queue, pkts, RXSEC_BURST_MAX);

	if (n == 0)
		return 0;
	e->last_rx_tsc = rte_rdtsc();
	rxsec_engine_process(e, pkts, n);
	return n;
}
