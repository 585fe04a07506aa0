/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_byteorder.h>

#include "ah_inb.h"
#include "classify.h"
#include "esp_inb.h"
#include "ipsec_inb.h"
#include "pkt_meta.h"
#include "sa_table.h"

static inline enum rxsec_crypto_status
inb_prepare(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
	    const struct rxsec_sa *sa, struct rxsec_crypto_op *op)
{
	/* The crypto engine works on contiguous data; jumbo chains are rare. */
	if (unlikely(!rte_pktmbuf_is_contiguous(m)) && rte_pktmbuf_linearize(m) != 0)
		return RXSEC_CRYPTO_GENERIC_ERROR;
	if (md->kind == RXSEC_PKT_ESP)
		return rxsec_esp_inb_prepare(m, md, sa, op);
	return rxsec_ah_inb_prepare(m, md, sa, op);
}

static inline enum rxsec_crypto_status
inb_finish(struct rte_mbuf *m, struct rxsec_pkt_meta *md,
	   const struct rxsec_sa *sa, const struct rxsec_crypto_op *op)
{
	if (md->kind == RXSEC_PKT_AH)
		rxsec_ah_inb_restore(m, md, sa, op);
	switch (op->result) {
	case RXSEC_CRYPTO_OK:
		break;
	case RXSEC_CRYPTO_AUTH_FAILED:
		return (enum rxsec_crypto_status)sa->auth_failed_status;
	default:
		return RXSEC_CRYPTO_GENERIC_ERROR;
	}
	if (md->kind == RXSEC_PKT_ESP)
		return rxsec_esp_inb_finish(m, md, sa);
	return rxsec_ah_inb_finish(m, md, sa);
}

/* Cheap pre-check before classifying a tunnel's inner packet: its protocol
 * byte must name ESP, AH or (IPv6) an extension header in front of them. */
static inline int
inner_may_be_ipsec(struct rte_mbuf *m, const struct rxsec_pkt_meta *o)
{
	const uint8_t *in = rte_pktmbuf_mtod_offset(m, const uint8_t *, o->payload_off);
	uint8_t p;

	if (o->next_proto == RXSEC_PROTO_ESP)
		return o->kind == RXSEC_PKT_AH;	/* AH over ESP under one header */
	if (o->next_proto != 4 && o->next_proto != 41)
		return 0;
	if (o->payload_end - o->payload_off < (o->next_proto == 4 ? 20 : 40))
		return 0;
	if (o->next_proto == 4) {
		p = in[9];
		return p == RXSEC_PROTO_ESP || p == RXSEC_PROTO_AH;
	}
	p = in[6];
	return p == RXSEC_PROTO_ESP || p == RXSEC_PROTO_AH || p == 0 || p == 43 ||
	       p == 44 || p == 60;
}

uint32_t
rxsec_ipsec_inb_burst(const struct rxsec_crypto_driver *drv, void *cctx,
		      struct rte_mbuf **m, struct rxsec_sa **sa,
		      uint32_t n, uint8_t *st, int inner)
{
	struct rxsec_crypto_op ops[RXSEC_BURST_MAX];
	uint8_t scratch[RXSEC_BURST_MAX][RXSEC_AH_SCRATCH_LEN];
	uint16_t idx[RXSEC_BURST_MAX];
	uint32_t k = 0, hints = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct rxsec_pkt_meta *md = rxsec_ipsec_layer(m[i], inner);

		ops[k].icv = scratch[k];
		st[i] = inb_prepare(m[i], md, sa[i], &ops[k]);
		if (st[i] == RXSEC_CRYPTO_SUCCESS)
			idx[k++] = (uint16_t)i;
	}
	if (k == 0)
		return 0;
	drv->process_burst(cctx, ops, k);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = idx[j];
		struct rxsec_pkt_meta *md = rxsec_ipsec_layer(m[i], inner);

		st[i] = inb_finish(m[i], md, sa[i], &ops[j]);
		/* While the plaintext is in cache: might a second layer follow? */
		if (st[i] == RXSEC_CRYPTO_SUCCESS && !inner &&
		    unlikely(inner_may_be_ipsec(m[i], md))) {
			md->flags |= RXSEC_PKT_F_INNER_HINT;
			hints++;
		}
	}
	return hints;
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
