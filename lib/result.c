/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_errno.h>

#include "rxsec_result.h"

int rxsec_result_offset = -1;

static const char *const status_names[RXSEC_CRYPTO_STATUS_MAX] = {
	[RXSEC_CRYPTO_SUCCESS] = "CRYPTO_SUCCESS",
	[RXSEC_CRYPTO_GENERIC_ERROR] = "CRYPTO_GENERIC_ERROR",
	[RXSEC_CRYPTO_TRANSPORT_AH_AUTH_FAILED] = "CRYPTO_TRANSPORT_AH_AUTH_FAILED",
	[RXSEC_CRYPTO_TRANSPORT_ESP_AUTH_FAILED] = "CRYPTO_TRANSPORT_ESP_AUTH_FAILED",
	[RXSEC_CRYPTO_TUNNEL_AH_AUTH_FAILED] = "CRYPTO_TUNNEL_AH_AUTH_FAILED",
	[RXSEC_CRYPTO_TUNNEL_ESP_AUTH_FAILED] = "CRYPTO_TUNNEL_ESP_AUTH_FAILED",
	[RXSEC_CRYPTO_INVALID_PACKET_SYNTAX] = "CRYPTO_INVALID_PACKET_SYNTAX",
	[RXSEC_CRYPTO_INVALID_PROTOCOL] = "CRYPTO_INVALID_PROTOCOL",
};

int
rxsec_result_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = RXSEC_RESULT_DYNFIELD_NAME,
		.size = sizeof(uint32_t),
		.align = __alignof__(uint32_t),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	if (off < 0)
		return -rte_errno;
	rxsec_result_offset = off;
	return 0;
}

const char *
rxsec_crypto_status_name(enum rxsec_crypto_status st)
{
	if ((unsigned int)st >= RXSEC_CRYPTO_STATUS_MAX)
		return "CRYPTO_UNKNOWN";
	return status_names[st];
}
