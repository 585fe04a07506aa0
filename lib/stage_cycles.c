/* SPDX-License-Identifier: BSD-3-Clause */
#include "stage_cycles.h"

void
rxsec_stage_cycles_add(struct rxsec_stage_cycles *sum, const struct rxsec_stage_cycles *c)
{
	for (int s = 0; s < RXSEC_STAGE_MAX; s++)
		sum->cycles[s] += c->cycles[s];
}

const char *
rxsec_stage_name(enum rxsec_stage s)
{
	static const char *const names[RXSEC_STAGE_MAX] = {
		[RXSEC_STAGE_RX] = "rx",
		[RXSEC_STAGE_CLASSIFY] = "classify",
		[RXSEC_STAGE_LOOKUP] = "sa_lookup",
		[RXSEC_STAGE_CRYPTO] = "crypto",
		[RXSEC_STAGE_CHECKS] = "checks",
		[RXSEC_STAGE_ENQUEUE] = "enqueue",
		[RXSEC_STAGE_DECIDE] = "transport",
		[RXSEC_STAGE_TX] = "tx",
	};

	return (unsigned int)s < RXSEC_STAGE_MAX ? names[s] : "?";
}
