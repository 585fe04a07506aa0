/* SPDX-License-Identifier: BSD-3-Clause */
#include "reason.h"

static const char *const reason_names[RXSEC_REASON_MAX] = {
#define RXSEC_REASON_NAME(id, name) [RXSEC_REASON_##id] = name,
	RXSEC_REASONS(RXSEC_REASON_NAME)
#undef RXSEC_REASON_NAME
};

const char *
rxsec_reason_name(enum rxsec_reason r)
{
	return (unsigned int)r < RXSEC_REASON_MAX ? reason_names[r] : "unknown";
}
