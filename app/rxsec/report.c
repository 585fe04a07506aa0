/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>

#include "report.h"
#include "selector.h"

static void
report_sa(const struct rxsec_sa *sa, const char *state)
{
	char src[64], dst[64], alg[96], sel[200] = "";

	if (sa->cfg.cipher == RXSEC_CIPHER_NONE)
		snprintf(alg, sizeof(alg), "%s", rxsec_auth_alg_name(sa->cfg.auth));
	else if (sa->cfg.auth == RXSEC_AUTH_NONE)
		snprintf(alg, sizeof(alg), "%s", rxsec_cipher_alg_name(sa->cfg.cipher));
	else
		snprintf(alg, sizeof(alg), "%s+%s", rxsec_cipher_alg_name(sa->cfg.cipher),
			 rxsec_auth_alg_name(sa->cfg.auth));
	if (sa->sel_check) {
		char words[192];

		snprintf(sel, sizeof(sel), " sel %s",
			 rxsec_selector_str(&sa->cfg, words, sizeof(words)));
	}
	printf("sa 0x%08x %s %s -> %s %s %s%s%s%s%s: delivered %" PRIu64 " (%" PRIu64 " bytes)",
	       sa->spi, sa->proto == RXSEC_PROTO_AH ? "ah" : "esp",
	       rxsec_addr_str(&sa->cfg.src, src, sizeof(src)),
	       rxsec_addr_str(&sa->cfg.dst, dst, sizeof(dst)),
	       sa->mode == RXSEC_MODE_TUNNEL ? "tunnel" : "transport", alg, sel,
	       sa->offload ? "" : " [software]", state[0] ? " " : "", state,
	       sa->delivered, sa->delivered_bytes);
	for (int r = RXSEC_REASON_OK + 1; r < RXSEC_REASON_MAX; r++)
		if (sa->drops[r])
			printf(", %s %" PRIu64, rxsec_reason_name(r), sa->drops[r]);
	printf("\n");
}

/* With several stages each reassembles the fragments hashed to it: one line
 * per stage shows how the load spread. */
static void
report_reassembly_stages(struct rxsec_transport *const *tr, unsigned int nb_tr)
{
	if (nb_tr < 2)
		return;
	for (unsigned int i = 0; i < nb_tr; i++) {
		const struct rxsec_transport_stats *s = &tr[i]->stats;

		printf("reassembly transport %u: fragments held %" PRIu64 " datagrams %" PRIu64
		       " discarded %" PRIu64 " waiting %" PRIu64 " handed_over %" PRIu64
		       " early %" PRIu64 "\n", i, s->frag.held, s->frag.datagrams,
		       s->frag.discarded, s->frag.waiting, s->handed_over, s->frag.early);
	}
}

/* --stage-cycles: engine stages per packet received, transport stages per
 * packet dequeued; on one lcore the sum is what a packet cost it. */
static void
report_stage_cycles(const struct rxsec_engine_stats *es, const struct rxsec_transport_stats *ts)
{
	double c[RXSEC_STAGE_MAX], sum = 0;

	for (int s = 0; s < RXSEC_STAGE_MAX; s++) {
		bool eng = s < RXSEC_STAGE_FIRST_TRANSPORT;
		uint64_t pkts = eng ? es->rx : ts->rx;

		c[s] = pkts ? (double)(eng ? es->cyc : ts->cyc).cycles[s] / pkts : 0;
		sum += c[s];
	}
	if (sum == 0)
		return;		/* not counted */
	printf("cycles per packet:");
	for (int s = 0; s < RXSEC_STAGE_MAX; s++)
		printf(" %s %.1f", rxsec_stage_name(s), c[s]);
	printf(" total %.1f (TSC at %" PRIu64 " Hz)\n", sum, rte_get_tsc_hz());
}

void
rxsec_report(struct rxsec_engine *const *eng, unsigned int nb_eng,
	     struct rxsec_transport *const *tr, unsigned int nb_tr,
	     const struct rxsec_sa_table *sat)
{
	struct rxsec_engine_stats es = {0};
	struct rxsec_transport_stats ts = {0};

	for (unsigned int i = 0; i < nb_eng; i++)
		rxsec_engine_stats_add(&es, &eng[i]->stats);
	for (unsigned int i = 0; i < nb_tr; i++)
		rxsec_transport_stats_add(&ts, &tr[i]->stats);
	printf("engine: rx %" PRIu64 " crypto_done %" PRIu64 " unprocessed %" PRIu64
	       " sa_delete_req %" PRIu64 " backpressure %" PRIu64 "\n",
	       es.rx, es.crypto_done, es.unprocessed, es.sa_delete_req, es.ring_full);
	printf("engine status:");
	for (int k = 0; k < RXSEC_CRYPTO_STATUS_MAX; k++)
		printf(" %s %" PRIu64, rxsec_crypto_status_name(k), es.status[k]);
	printf("\n");
	printf("transport: rx %" PRIu64 " delivered %" PRIu64 " (%" PRIu64 " bytes) dropped %" PRIu64
	       " software %" PRIu64 " sa_deleted %" PRIu64 " soft_expired %" PRIu64
	       " nested_handed %" PRIu64 "\n",
	       ts.rx, ts.delivered, ts.delivered_bytes, rxsec_transport_dropped(&ts), ts.software,
	       ts.sa_deleted, ts.soft_expired, ts.nested_handed);
	printf("reassembly: fragments held %" PRIu64 " datagrams %" PRIu64 " discarded %" PRIu64
	       " waiting %" PRIu64 " handed_over %" PRIu64 " early %" PRIu64
	       " early_joined %" PRIu64 " early_dropped %" PRIu64 "\n",
	       ts.frag.held, ts.frag.datagrams, ts.frag.discarded, ts.frag.waiting,
	       ts.handed_over, ts.frag.early, ts.frag.early_joined, ts.frag.early_dropped);
	report_reassembly_stages(tr, nb_tr);
	report_stage_cycles(&es, &ts);
	printf("reasons:");
	for (int r = 0; r < RXSEC_REASON_MAX; r++)
		printf(" %s %" PRIu64, rxsec_reason_name(r), ts.reason[r]);
	printf("\n");
	for (uint32_t i = 0; i < sat->capacity; i++)
		if (sat->slot[i] != NULL)
			report_sa(sat->slot[i], "");
	for (uint32_t i = 0; i < sat->nb_gone; i++)
		report_sa(sat->gone[i], "[deleted]");
}
