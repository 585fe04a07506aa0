/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The one table of packet outcomes: counters, verdict lines, logs and
 * telemetry all use these names. "ok" is the only delivering reason.
 */
#ifndef RXSEC_REASON_H
#define RXSEC_REASON_H

#include "rxsec_result.h"

#define RXSEC_REASONS(X)						\
	X(OK, "ok")							\
	X(CRYPTO_GENERIC_ERROR, "crypto_generic_error")			\
	X(TRANSPORT_AH_AUTH_FAILED, "transport_ah_auth_failed")		\
	X(TRANSPORT_ESP_AUTH_FAILED, "transport_esp_auth_failed")	\
	X(TUNNEL_AH_AUTH_FAILED, "tunnel_ah_auth_failed")		\
	X(TUNNEL_ESP_AUTH_FAILED, "tunnel_esp_auth_failed")		\
	X(INVALID_PACKET_SYNTAX, "invalid_packet_syntax")		\
	X(INVALID_PROTOCOL, "invalid_protocol")				\
	X(NO_SA, "no_sa")						\
	X(SEQ_ZERO, "seq_zero")						\
	X(BELOW_WINDOW, "below_window")					\
	X(REPLAY, "replay")						\
	X(TFC_DUMMY, "tfc_dummy")					\
	X(SELECTOR_MISMATCH, "selector_mismatch")			\
	X(MALFORMED, "malformed")					\
	X(FRAGMENT, "fragment")						\
	X(TOO_LONG, "too_long")						\
	X(NESTED_ACROSS_TRANSPORTS, "nested_across_transports")		\
	X(REASSEMBLY, "reassembly")					\
	X(TX_FAILED, "tx_failed")

enum rxsec_reason {
#define RXSEC_REASON_ENUM(id, name) RXSEC_REASON_##id,
	RXSEC_REASONS(RXSEC_REASON_ENUM)
#undef RXSEC_REASON_ENUM
	RXSEC_REASON_MAX
};

const char *rxsec_reason_name(enum rxsec_reason r);

/* A failed CryptoStatus maps 1:1 onto the reason of the same name. */
static inline enum rxsec_reason
rxsec_reason_from_status(enum rxsec_crypto_status st)
{
	return (enum rxsec_reason)st;
}

_Static_assert((int)RXSEC_REASON_INVALID_PROTOCOL == (int)RXSEC_CRYPTO_INVALID_PROTOCOL,
	       "reasons 1..7 mirror CryptoStatus");

#endif /* RXSEC_REASON_H */
