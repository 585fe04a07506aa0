/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_byteorder.h>

#include "ah_inb.h"
#include "classify.h"
#include "esp_inb.h"
#include "ipsec_inb.h"
#include "pkt_meta.h"
#include "sa_table.h"

void
rxsec_inb_run_alone(const struct rxsec_crypto_driver *drv, void *cctx,
		    struct rxsec_inb_batch *b)
{
	for (uint16_t j = 0; j < b->n; j++) {
		struct rxsec_crypto_op *op = &b->ops[b->nops];
		enum rxsec_crypto_status st;

		if (b->st[j] != RXSEC_AH_SCRATCH_SHORT)
			continue;
		st = rxsec_ah_inb_run_alone(drv, cctx, b->m[j],
					    rxsec_ipsec_layer(b->m[j], b->inner), b->sa[j], op);
		b->st[j] = (uint8_t)st;
		if (st == RXSEC_CRYPTO_SUCCESS)
			b->op_of[j] = (uint8_t)b->nops++;
	}
	b->alone = 0;
}

uint32_t
rxsec_ipsec_inb_burst(const struct rxsec_crypto_driver *drv, void *cctx,
		      struct rte_mbuf **m, struct rxsec_sa **sa,
		      uint32_t n, uint8_t *st, int inner)
{
	struct rxsec_inb_batch b;

	rxsec_inb_init(&b, inner);
	for (uint32_t i = 0; i < n; i++)
		rxsec_inb_add(&b, m[i], sa[i]);
	rxsec_inb_run(drv, cctx, &b);
	for (uint16_t j = 0; j < b.n; j++)
		st[j] = (uint8_t)rxsec_inb_finish(&b, j);
	return b.hints;
}

uint32_t
rxsec_ipsec_inner_burst(const struct rxsec_crypto_driver *drv, void *cctx,
			const struct rxsec_sa_table *sat, struct rte_mbuf **m,
			struct rxsec_sa **sa, uint32_t n, uint8_t *st,
			struct rxsec_sa **isa, uint8_t excluded_flags, bool only_offload)
{
	struct rxsec_sa_key keys[RXSEC_BURST_MAX];
	const struct rxsec_sa_key *kp[RXSEC_BURST_MAX];
	struct rxsec_sa *found[RXSEC_BURST_MAX], *psa[RXSEC_BURST_MAX];
	struct rte_mbuf *im[RXSEC_BURST_MAX];
	uint16_t idx[RXSEC_BURST_MAX];
	uint8_t ist[RXSEC_BURST_MAX];
	uint32_t k = 0, c = 0;

	for (uint32_t j = 0; j < n; j++) {
		struct rxsec_pkt_priv *p = rxsec_pkt_priv(m[j]);

		isa[j] = NULL;
		if (likely(st[j] != RXSEC_CRYPTO_SUCCESS) ||
		    likely(!(p->outer.flags & RXSEC_PKT_F_INNER_HINT)))
			continue;
		if (unlikely(rxsec_sa_refuses_inner(sa[j], p->outer.next_proto)))
			continue;
		p->nest = (uint8_t)rxsec_classify_inner(rte_pktmbuf_mtod(m[j], uint8_t *),
						       &p->outer, sa[j]->mode,
						       &p->inner, &keys[k]);
		if (p->nest == RXSEC_NEST_NONE)
			continue;
		kp[k] = &keys[k];
		idx[k++] = (uint16_t)j;
	}
	if (k == 0)
		return 0;
	rxsec_sa_table_lookup_bulk(sat, kp, k, found);
	for (uint32_t i = 0; i < k; i++) {
		struct rxsec_pkt_priv *p = rxsec_pkt_priv(m[idx[i]]);
		struct rxsec_sa *s = found[i];

		/* Spec rule 5 names transport-mode inner SAs only. */
		if (s == NULL || s->mode != RXSEC_MODE_TRANSPORT ||
		    (only_offload && (!s->offload || (p->inner.flags & excluded_flags)))) {
			/* Left to the transport's software path, if anyone's. */
			p->nest = only_offload && s != NULL ? RXSEC_NEST_DEFERRED :
				RXSEC_NEST_NONE;
			continue;
		}
		p->inner.sa_id = s->handle;
		im[c] = m[idx[i]];
		psa[c] = s;
		idx[c++] = idx[i];
	}
	if (c == 0)
		return 0;
	rxsec_ipsec_inb_burst(drv, cctx, im, psa, c, ist, 1);
	for (uint32_t i = 0; i < c; i++) {
		isa[idx[i]] = psa[i];
		if (ist[i] != RXSEC_CRYPTO_SUCCESS)
			st[idx[i]] = ist[i];
	}
	return c;
}
