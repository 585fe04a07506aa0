/* SPDX-License-Identifier: BSD-3-Clause
 *
 * AH inbound (RFC 4302): the ICV covers the IP packet with its mutable
 * fields and the ICV itself zeroed (section 3.3.3.1). We zero them in place
 * for the crypto job and restore the received bytes afterwards, so a failed
 * packet is handed to the transport exactly as received.
 */
#ifndef RXSEC_AH_INB_H
#define RXSEC_AH_INB_H

#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa.h"

#define RXSEC_AH_ICV_MAX	64	/* a whole SHA-512 digest */
#define RXSEC_AH_HDR_SAVE_MAX	224	/* IP header + extension headers saved */
#define RXSEC_AH_SCRATCH_LEN	(RXSEC_AH_ICV_MAX + RXSEC_AH_HDR_SAVE_MAX)

/* op->icv must point at RXSEC_AH_SCRATCH_LEN writable bytes. */
enum rxsec_crypto_status rxsec_ah_inb_prepare(struct rte_mbuf *m,
					      struct rxsec_pkt_meta *md,
					      const struct rxsec_sa *sa,
					      struct rxsec_crypto_op *op);

/* Put back the mutable fields and the ICV zeroed by prepare. */
void rxsec_ah_inb_restore(struct rte_mbuf *m, const struct rxsec_pkt_meta *md,
			  const struct rxsec_sa *sa, const struct rxsec_crypto_op *op);

enum rxsec_crypto_status rxsec_ah_inb_finish(struct rte_mbuf *m,
					     struct rxsec_pkt_meta *md,
					     const struct rxsec_sa *sa);

#endif /* RXSEC_AH_INB_H */
