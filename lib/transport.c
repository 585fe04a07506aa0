/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "decap.h"
#include "esp_inb.h"
#include "pkt_meta.h"
#include "rxsec_result.h"
#include "transport.h"

#define RTE_LOGTYPE_RXSEC RTE_LOGTYPE_USER1

struct verdict_rec {
	uint32_t n;
	uint32_t spi;		/* network order */
	uint32_t result;
	uint8_t has_spi;
	uint8_t reason;
};

/* Software path (spec section 4): IPsec packets the engine did not process
 * but whose SA we know go through the same library code here. */
static void
transport_software(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n,
		   uint8_t *sw_st)
{
	struct rte_mbuf *sm[RXSEC_BURST_MAX];
	struct rxsec_sa *ssa[RXSEC_BURST_MAX];
	uint8_t st[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX], k = 0;

	for (uint16_t i = 0; i < n; i++) {
		const struct rxsec_pkt_meta *md = rxsec_pkt_meta(pkts[i]);
		struct rxsec_sa *sa;

		sw_st[i] = RXSEC_CRYPTO_SUCCESS;
		if (rxsec_result_crypto_done(rxsec_result_get(pkts[i])) ||
		    (md->kind != RXSEC_PKT_ESP && md->kind != RXSEC_PKT_AH))
			continue;
		sa = rxsec_sa_table_get(t->sat, md->sa_id);
		if (sa == NULL)
			continue;
		sm[k] = pkts[i];
		ssa[k] = sa;
		idx[k++] = i;
	}
	if (k == 0)
		return;
	rxsec_ipsec_inb_burst(t->drv, t->cctx, sm, ssa, k, st);
	for (uint16_t j = 0; j < k; j++)
		sw_st[idx[j]] = st[j];
	t->stats.software += k;
}

static void
transport_delete_sa(struct rxsec_transport *t, struct rxsec_sa *sa)
{
	struct rxsec_sa *pair;
	char a[64], b[64];

	rte_spinlock_lock(t->sat_lock);
	if (sa->deleted) {
		rte_spinlock_unlock(t->sat_lock);
		return;
	}
	pair = rxsec_sa_table_find_pair(t->sat, sa);
	sa->deleted = 1;
	rxsec_sa_table_remove(t->sat, sa->id);
	RTE_LOG(NOTICE, RXSEC, "SaDeleteReq: deleted inbound SA spi 0x%08x %s -> %s reqid %u\n",
		sa->spi, rxsec_addr_str(&sa->cfg.src, a, sizeof(a)),
		rxsec_addr_str(&sa->cfg.dst, b, sizeof(b)), sa->cfg.reqid);
	t->stats.sa_deleted++;
	if (pair != NULL) {
		pair->deleted = 1;
		rxsec_sa_table_remove(t->sat, pair->id);
		RTE_LOG(NOTICE, RXSEC, "SaDeleteReq: deleted paired outbound SA spi 0x%08x reqid %u\n",
			pair->spi, pair->cfg.reqid);
		t->stats.sa_deleted++;
	} else {
		RTE_LOG(NOTICE, RXSEC, "SaDeleteReq: no outbound SA paired with spi 0x%08x\n",
			sa->spi);
	}
	rte_spinlock_unlock(t->sat_lock);
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

/* Rules of spec section 4 for an IPsec packet whose checks passed. */
static enum rxsec_reason
transport_ipsec(struct rxsec_transport *t, struct rte_mbuf *m,
		struct rxsec_sa *sa, uint32_t result)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint64_t seq = rxsec_ipsec_seq(m);
	enum rxsec_replay_verdict rv = rxsec_replay_check(&sa->replay, seq);

	if (rv != RXSEC_REPLAY_OK)
		return replay_reason(rv);
	rxsec_replay_update(&sa->replay, seq);
	if (rxsec_result_sa_delete_req(result))
		transport_delete_sa(t, sa);
	if (md->next_proto == RXSEC_NH_NONE)
		return RXSEC_REASON_TFC_DUMMY;
	if ((sa->mode == RXSEC_MODE_TUNNEL ? rxsec_decap_tunnel(m, md) :
	     rxsec_decap_transport(m, md)) != 0)
		return RXSEC_REASON_MALFORMED;
	return RXSEC_REASON_OK;
}

static enum rxsec_reason
transport_decide(struct rxsec_transport *t, struct rte_mbuf *m, uint8_t sw_status,
		 struct rxsec_sa **sa_out)
{
	const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
	uint32_t result = rxsec_result_get(m);
	enum rxsec_crypto_status st = rxsec_result_status(result);
	struct rxsec_sa *sa;

	*sa_out = NULL;
	if (md->kind == RXSEC_PKT_OTHER && !rxsec_result_crypto_done(result))
		return RXSEC_REASON_OK;
	if (md->kind == RXSEC_PKT_MALFORMED)
		return RXSEC_REASON_MALFORMED;
	sa = rxsec_sa_table_get(t->sat, md->sa_id);
	*sa_out = sa;
	if (st != RXSEC_CRYPTO_SUCCESS)
		return rxsec_reason_from_status(st);
	if (sa == NULL)
		return RXSEC_REASON_NO_SA;	/* RFC 4303 3.4.2 */
	if (!rxsec_result_crypto_done(result) && sw_status != RXSEC_CRYPTO_SUCCESS)
		return rxsec_reason_from_status((enum rxsec_crypto_status)sw_status);
	return transport_ipsec(t, m, sa, result);
}

static inline void
sa_count(struct rxsec_sa *sa, enum rxsec_reason r, uint32_t bytes)
{
	sa->stats.reason[r]++;
	if (r == RXSEC_REASON_OK) {
		sa->stats.delivered++;
		sa->stats.delivered_bytes += bytes;
	}
}

static void
verdicts_write(FILE *f, const struct verdict_rec *v, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint32_t r = v[i].result;
		char spi[16];

		if (v[i].has_spi)
			snprintf(spi, sizeof(spi), "\"0x%08x\"", rte_be_to_cpu_32(v[i].spi));
		else
			snprintf(spi, sizeof(spi), "null");
		fprintf(f, "{\"n\":%u,\"spi\":%s,\"crypto_done\":%d,\"next_crypto_done\":%d,"
			"\"sa_delete_req\":%d,\"crypto_status\":\"%s\",\"verdict\":\"%s\","
			"\"reason\":\"%s\"}\n",
			v[i].n, spi, rxsec_result_crypto_done(r),
			rxsec_result_next_crypto_done(r), rxsec_result_sa_delete_req(r),
			rxsec_crypto_status_name(rxsec_result_status(r)),
			v[i].reason == RXSEC_REASON_OK ? "deliver" : "drop",
			rxsec_reason_name((enum rxsec_reason)v[i].reason));
	}
}

void
rxsec_transport_process(struct rxsec_transport *t, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *out[RXSEC_BURST_MAX], *drop[RXSEC_BURST_MAX];
	struct rxsec_sa *out_sa[RXSEC_BURST_MAX];
	struct verdict_rec vr[RXSEC_BURST_MAX];
	uint16_t out_vr[RXSEC_BURST_MAX];
	uint32_t out_len[RXSEC_BURST_MAX];
	uint8_t sw_st[RXSEC_BURST_MAX];
	uint16_t nout = 0, ndrop = 0, sent;

	transport_software(t, pkts, n, sw_st);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rxsec_pkt_meta *md = rxsec_pkt_meta(m);
		struct rxsec_sa *sa;
		enum rxsec_reason r;

		vr[i].n = rxsec_pkt_rx_index(m);
		vr[i].has_spi = md->kind == RXSEC_PKT_ESP || md->kind == RXSEC_PKT_AH;
		vr[i].spi = vr[i].has_spi ? rxsec_pkt_spi(m, md) : 0;
		vr[i].result = rxsec_result_get(m);
		r = transport_decide(t, m, sw_st[i], &sa);
		vr[i].reason = (uint8_t)r;
		if (r == RXSEC_REASON_OK) {
			out_sa[nout] = sa;
			out_vr[nout] = i;
			out_len[nout] = rte_pktmbuf_pkt_len(m);
			out[nout++] = m;
		} else {
			t->stats.reason[r]++;
			if (sa != NULL)
				sa_count(sa, r, 0);
			drop[ndrop++] = m;
		}
	}
	sent = nout ? rte_eth_tx_burst(t->tx_port, t->tx_queue, out, nout) : 0;
	for (uint16_t i = 0; i < nout; i++) {
		enum rxsec_reason r = i < sent ? RXSEC_REASON_OK : RXSEC_REASON_TX_FAILED;

		t->stats.reason[r]++;
		if (out_sa[i] != NULL)
			sa_count(out_sa[i], r, out_len[i]);
		if (i < sent)
			t->stats.delivered_bytes += out_len[i];
		vr[out_vr[i]].reason = (uint8_t)r;
		if (i >= sent)
			drop[ndrop++] = out[i];
	}
	t->stats.rx += n;
	t->stats.delivered += sent;
	if (ndrop)
		rte_pktmbuf_free_bulk(drop, ndrop);
	if (t->verdicts != NULL)
		verdicts_write(t->verdicts, vr, n);
}

uint16_t
rxsec_transport_poll(struct rxsec_transport *t)
{
	struct rte_mbuf *pkts[RXSEC_BURST_MAX];
	unsigned int n = rte_ring_dequeue_burst(t->ring, (void **)pkts, RXSEC_BURST_MAX, NULL);

	if (n == 0)
		return 0;
	t->last_work_tsc = rte_rdtsc();
	rxsec_transport_process(t, pkts, (uint16_t)n);
	return (uint16_t)n;
}
