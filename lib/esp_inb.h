/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ESP inbound (RFC 4303): layout checks before the crypto, trailer checks
 * after it. Used by the engine and by the transport's software path.
 */
#ifndef RXSEC_ESP_INB_H
#define RXSEC_ESP_INB_H

#include <rte_mbuf.h>

#include "pkt_meta.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa.h"

#define RXSEC_ESP_HDR_LEN	8
#define RXSEC_ESP_TRAILER_LEN	2	/* pad length, next header */
#define RXSEC_NH_IPV4		4
#define RXSEC_NH_IPV6		41
#define RXSEC_NH_NONE		59	/* RFC 4303 2.6 dummy packet */

/* Check lengths against the SA, infer ESN high bits, fill the crypto job. */
enum rxsec_crypto_status rxsec_esp_inb_prepare(struct rte_mbuf *m,
					       struct rxsec_pkt_meta *md,
					       const struct rxsec_sa *sa,
					       struct rxsec_crypto_op *op);

/* After a verified decryption: pad, pad length and next header checks. */
enum rxsec_crypto_status rxsec_esp_inb_finish(struct rte_mbuf *m,
					      struct rxsec_pkt_meta *md,
					      const struct rxsec_sa *sa);

/* Tunnel mode: the plaintext starts with a whole IP header of the version
 * the next header announces (4 or 41), and its length fits in len. */
int rxsec_inner_ip_valid(const uint8_t *p, uint32_t len, uint8_t nh);

#endif /* RXSEC_ESP_INB_H */
