/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the engine advertises (spec section 2 and 3, rule 4): the v1 or v2
 * capability set, narrowed by options. Decided once at start-up so the hot
 * path only tests one flag per SA and one mask per packet.
 */
#ifndef RXSEC_CAPABILITY_H
#define RXSEC_CAPABILITY_H

#include <stdbool.h>
#include <stdint.h>

#include "sa_config.h"

struct rxsec_caps {
	uint8_t version;		/* 1 or 2 */
	uint8_t excluded_flags;		/* RXSEC_PKT_F_* the engine leaves alone */
	uint32_t cipher_mask;		/* bit per enum rxsec_cipher_alg offloaded */
	uint32_t auth_mask;		/* bit per enum rxsec_auth_alg offloaded */
};

/* The full v1 or v2 set. */
void rxsec_caps_init(struct rxsec_caps *c, unsigned int version);

/* Keep only the algorithms named in a comma-separated list; -1 and the bad
 * name in err if one is unknown. */
int rxsec_caps_restrict_algs(struct rxsec_caps *c, const char *list,
			     char *err, unsigned int errlen);

/* Would the engine process packets of this SA? */
bool rxsec_caps_sa_offloadable(const struct rxsec_caps *c,
			       const struct rxsec_sa_config *sa);

#endif /* RXSEC_CAPABILITY_H */
