/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_byteorder.h>

#include "ah_inb.h"
#include "esp_inb.h"
#include "ipsec_inb.h"
#include "pkt_meta.h"

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

void
rxsec_ipsec_inb_burst(const struct rxsec_crypto_driver *drv, void *cctx,
		      struct rte_mbuf **m, struct rxsec_sa **sa,
		      uint32_t n, uint8_t *st, int inner)
{
	struct rxsec_crypto_op ops[RXSEC_BURST_MAX];
	uint8_t scratch[RXSEC_BURST_MAX][RXSEC_AH_SCRATCH_LEN];
	uint16_t idx[RXSEC_BURST_MAX];
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct rxsec_pkt_meta *md = rxsec_ipsec_layer(m[i], inner);

		ops[k].icv = scratch[k];
		st[i] = inb_prepare(m[i], md, sa[i], &ops[k]);
		if (st[i] == RXSEC_CRYPTO_SUCCESS)
			idx[k++] = (uint16_t)i;
	}
	if (k == 0)
		return;
	drv->process_burst(cctx, ops, k);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = idx[j];

		st[i] = inb_finish(m[i], rxsec_ipsec_layer(m[i], inner), sa[i], &ops[j]);
	}
}

uint64_t
rxsec_ipsec_seq(struct rte_mbuf *m, const struct rxsec_pkt_meta *md)
{
	uint32_t off = md->ipsec_off + (md->kind == RXSEC_PKT_AH ? 8 : 4);
	uint32_t lo = rxsec_rd_be32(rte_pktmbuf_mtod_offset(m, const uint8_t *, off));

	return (uint64_t)md->seq_hi << 32 | lo;
}
