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

#include "flatten.h"
#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa.h"

/*
 * What prepare saves at op->icv: the received ICV (the SA's truncated
 * length, all Linux zeroes and compares), then the bytes it zeroes: an IPv4
 * header whole, of IPv6 the first 8 bytes and the data of each mutable
 * option in header order. A batch gives each packet RXSEC_AH_SCRATCH_LEN
 * bytes; a packet with more mutable option data than that runs alone with
 * RXSEC_AH_SCRATCH_BIG (enough for anything a frame holds).
 */
#define RXSEC_AH_ICV_MAX	64	/* a whole SHA-512 digest */
#define RXSEC_AH_SCRATCH_LEN	256
#define RXSEC_AH_SCRATCH_BIG	(RXSEC_AH_ICV_MAX + RXSEC_FRAME_MAX)

/* prepare's answer when the bytes it would zero do not fit its scratch:
 * nothing was changed; rxsec_ah_inb_run_alone() takes the packet. */
#define RXSEC_AH_SCRATCH_SHORT	((enum rxsec_crypto_status)RXSEC_CRYPTO_STATUS_MAX)

/* op->icv must point at cap writable bytes, cap >= RXSEC_AH_SCRATCH_LEN. */
enum rxsec_crypto_status rxsec_ah_inb_prepare(struct rte_mbuf *m,
					      struct rxsec_pkt_meta *md,
					      const struct rxsec_sa *sa,
					      struct rxsec_crypto_op *op, uint32_t cap);

/* Put back the mutable fields and the ICV zeroed by prepare (nothing when
 * op->icv is NULL: run_alone did it already). */
void rxsec_ah_inb_restore(struct rte_mbuf *m, const struct rxsec_pkt_meta *md,
			  const struct rxsec_sa *sa, const struct rxsec_crypto_op *op);

/* Prepare, verify and restore one packet on its own, with a frame-sized
 * scratch on the stack; op->result as after a burst, op->icv NULL. */
enum rxsec_crypto_status rxsec_ah_inb_run_alone(const struct rxsec_crypto_driver *drv,
						void *cctx, struct rte_mbuf *m,
						struct rxsec_pkt_meta *md,
						const struct rxsec_sa *sa,
						struct rxsec_crypto_op *op);

enum rxsec_crypto_status rxsec_ah_inb_finish(struct rte_mbuf *m,
					     struct rxsec_pkt_meta *md,
					     const struct rxsec_sa *sa);

#endif /* RXSEC_AH_INB_H */
