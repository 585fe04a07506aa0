/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "capability.h"
#include "pkt_meta.h"

#define BIT(x) (1u << (x))

void
rxsec_caps_init(struct rxsec_caps *c, unsigned int version)
{
	memset(c, 0, sizeof(*c));
	c->version = (uint8_t)version;
	/* IP fragments are never offloaded: the transport must reassemble first. */
	c->excluded_flags = RXSEC_PKT_F_FRAGMENT;
	if (version == 1) {
		/* NDIS v1: IPv4 only, DES/3DES/NULL with MD5/SHA-1. */
		c->excluded_flags |= RXSEC_PKT_F_IPV6;
		c->cipher_mask = BIT(RXSEC_CIPHER_NONE) | BIT(RXSEC_CIPHER_NULL) |
			BIT(RXSEC_CIPHER_DES_CBC) | BIT(RXSEC_CIPHER_3DES_CBC);
		c->auth_mask = BIT(RXSEC_AUTH_NONE) | BIT(RXSEC_AUTH_HMAC_MD5) |
			BIT(RXSEC_AUTH_HMAC_SHA1);
		return;
	}
	c->cipher_mask = BIT(RXSEC_CIPHER_MAX) - 1;
	c->auth_mask = BIT(RXSEC_AUTH_MAX) - 1;
}

int
rxsec_caps_restrict_algs(struct rxsec_caps *c, const char *list, char *err,
			 unsigned int errlen)
{
	uint32_t cm = BIT(RXSEC_CIPHER_NONE), am = BIT(RXSEC_AUTH_NONE);
	char buf[512], *rest = buf, *tok;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "algorithm list too long");
		return -1;
	}
	strcpy(buf, list);
	/* Every comma-separated name must be one: "a,,b" is a typo. */
	while ((tok = strsep(&rest, ",")) != NULL) {
		int found = 0;

		if (tok[0] == '\0') {
			snprintf(err, errlen, "empty name in algorithm list '%s'", list);
			return -1;
		}

		for (int a = RXSEC_CIPHER_NULL; a < RXSEC_CIPHER_MAX && !found; a++)
			if (strcmp(tok, rxsec_cipher_alg_name(a)) == 0) {
				cm |= BIT(a);
				found = 1;
			}
		for (int a = RXSEC_AUTH_HMAC_MD5; a < RXSEC_AUTH_MAX && !found; a++)
			if (strcmp(tok, rxsec_auth_alg_name(a)) == 0) {
				am |= BIT(a);
				found = 1;
			}
		if (!found) {
			snprintf(err, errlen, "unknown algorithm '%s'", tok);
			return -1;
		}
	}
	c->cipher_mask &= cm;
	c->auth_mask &= am;
	return 0;
}

bool
rxsec_caps_sa_offloadable(const struct rxsec_caps *c, const struct rxsec_sa_config *sa)
{
	if ((c->excluded_flags & RXSEC_PKT_F_IPV6) && sa->dst.family == 6)
		return false;
	return (c->cipher_mask & BIT(sa->cipher)) && (c->auth_mask & BIT(sa->auth));
}
