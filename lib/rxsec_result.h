/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec public result record: the IPsec task offload receive result that the
 * offload engine writes into every received mbuf (NDIS IPsec offload v1/v2,
 * receive part). Other DPDK applications may include this header alone.
 */
#ifndef RXSEC_RESULT_H
#define RXSEC_RESULT_H

#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Name under which the record is registered with rte_mbuf_dynfield_register(). */
#define RXSEC_RESULT_DYNFIELD_NAME "rxsec_dynfield_ipsec_offload_result"

/* CryptoStatus values (spec section 2). Not Linux's bit flags. */
enum rxsec_crypto_status {
	RXSEC_CRYPTO_SUCCESS = 0,
	RXSEC_CRYPTO_GENERIC_ERROR = 1,
	RXSEC_CRYPTO_TRANSPORT_AH_AUTH_FAILED = 2,
	RXSEC_CRYPTO_TRANSPORT_ESP_AUTH_FAILED = 3,
	RXSEC_CRYPTO_TUNNEL_AH_AUTH_FAILED = 4,
	RXSEC_CRYPTO_TUNNEL_ESP_AUTH_FAILED = 5,
	RXSEC_CRYPTO_INVALID_PACKET_SYNTAX = 6,
	RXSEC_CRYPTO_INVALID_PROTOCOL = 7,
	RXSEC_CRYPTO_STATUS_MAX
};

/* Bit image shared by v1 and v2 (LSB first). */
#define RXSEC_RESULT_SA_DELETE_REQ	(1u << 0)
#define RXSEC_RESULT_CRYPTO_DONE	(1u << 1)
#define RXSEC_RESULT_NEXT_CRYPTO_DONE	(1u << 2)
#define RXSEC_RESULT_STATUS_SHIFT	16

/* v1 declares two 16-bit words: flags, then CryptoStatus. */
struct rxsec_offload_v1 {
	uint16_t sa_delete_req:1;
	uint16_t crypto_done:1;
	uint16_t next_crypto_done:1;
	uint16_t reserved:13;
	uint16_t crypto_status;
};

/* v2 declares one 32-bit word. */
struct rxsec_offload_v2 {
	uint32_t sa_delete_req:1;
	uint32_t crypto_done:1;
	uint32_t next_crypto_done:1;
	uint32_t reserved:13;
	uint32_t crypto_status:16;
};

union rxsec_offload_result {
	uint32_t value;
	struct rxsec_offload_v1 v1;
	struct rxsec_offload_v2 v2;
};

_Static_assert(sizeof(union rxsec_offload_result) == 4, "result is one word");

/* Offset of the registered dynfield; -1 until rxsec_result_register(). */
extern int rxsec_result_offset;

/* Register (or look up, if another component did) the dynfield. 0 or -rte_errno. */
int rxsec_result_register(void);

/* Offset of an already registered record, for applications that did not register it. */
static inline int
rxsec_result_lookup(void)
{
	return rte_mbuf_dynfield_lookup(RXSEC_RESULT_DYNFIELD_NAME, NULL);
}

static inline uint32_t *
rxsec_result_ptr(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, rxsec_result_offset, uint32_t *);
}

static inline uint32_t
rxsec_result_get(const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, rxsec_result_offset, const uint32_t *);
}

static inline void
rxsec_result_set(struct rte_mbuf *m, uint32_t flags, enum rxsec_crypto_status st)
{
	*rxsec_result_ptr(m) = flags | ((uint32_t)st << RXSEC_RESULT_STATUS_SHIFT);
}

static inline enum rxsec_crypto_status
rxsec_result_status(uint32_t r)
{
	return (enum rxsec_crypto_status)(r >> RXSEC_RESULT_STATUS_SHIFT);
}

static inline int
rxsec_result_crypto_done(uint32_t r)
{
	return (r & RXSEC_RESULT_CRYPTO_DONE) != 0;
}

static inline int
rxsec_result_next_crypto_done(uint32_t r)
{
	return (r & RXSEC_RESULT_NEXT_CRYPTO_DONE) != 0;
}

static inline int
rxsec_result_sa_delete_req(uint32_t r)
{
	return (r & RXSEC_RESULT_SA_DELETE_REQ) != 0;
}

/* NDIS name of a status, e.g. "CRYPTO_SUCCESS"; "CRYPTO_UNKNOWN" if out of range. */
const char *rxsec_crypto_status_name(enum rxsec_crypto_status st);

#ifdef __cplusplus
}
#endif

#endif /* RXSEC_RESULT_H */
