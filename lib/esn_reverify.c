/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "ah_inb.h"
#include "esn_reverify.h"
#include "esp_inb.h"
#include "ipsec_inb.h"

enum rxsec_crypto_status
rxsec_esn_reverify(const struct rxsec_crypto_driver *drv, void *cctx,
		   struct rte_mbuf *m, struct rxsec_pkt_meta *md, struct rxsec_sa *sa)
{
	enum rxsec_crypto_status fail = (enum rxsec_crypto_status)sa->auth_failed_status;
	uint8_t scratch[RXSEC_AH_SCRATCH_BIG];	/* cold path: any AH fits */
	struct rxsec_crypto_op op;
	uint32_t lo = rxsec_esn_seq_lo(m, md), hi = md->seq_hi, alt;
	enum rxsec_crypto_status st;

	if (!sa->esn || !rxsec_esn_alt_hi(rxsec_replay_top(&sa->replay), hi, lo, &alt))
		return fail;
	op.icv = scratch;
	st = md->kind == RXSEC_PKT_ESP ? rxsec_esp_inb_prepare(m, md, sa, &op) :
		rxsec_ah_inb_prepare(m, md, sa, &op, sizeof(scratch));
	if (st != RXSEC_CRYPTO_SUCCESS)
		return fail;
	/* the first check decrypted in place: the bytes as received first */
	if (md->kind == RXSEC_PKT_ESP)
		drv->esp_undo_decrypt(cctx, &op);
	md->seq_hi = alt;
	op.seq_hi = alt;
	drv->process_burst(cctx, &op, 1);
	if (md->kind == RXSEC_PKT_AH)
		rxsec_ah_inb_restore(m, md, sa, &op);
	if (op.result != RXSEC_CRYPTO_OK) {
		md->seq_hi = hi;
		return fail;
	}
	st = md->kind == RXSEC_PKT_ESP ? rxsec_esp_inb_finish(m, md, sa) :
		rxsec_ah_inb_finish(m, md, sa);
	/* as rxsec_inb_finish notes it: a first layer may carry a second */
	if (st == RXSEC_CRYPTO_SUCCESS && md == rxsec_pkt_meta(m))
		rxsec_inb_note_inner(m, md);
	return st;
}
