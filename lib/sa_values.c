/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: token values (numbers, addresses and prefixes, keys).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sa_parse_priv.h"

/* strtoull with base 0 like iproute2's get_u32/get_u64 (0x hex, 0 octal);
 * an optional trailing ',' (dump lines) when comma is set. */
int
sap_parse_u64(const char *s, uint64_t max, bool comma, uint64_t *out)
{
	unsigned long long v;
	char *end;

	*out = 0;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -1;
	if (comma && *end == ',')
		end++;
	if (*end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
sap_tok_u64(struct pctx *p, const struct tok *t, uint64_t max, bool comma,
	    const char *what, uint64_t *out)
{
	if (sap_parse_u64(t->s, max, comma, out) < 0)
		return sap_tok_err(p, t, "bad %s (want a number 0..%llu)", what,
				   (unsigned long long)max);
	return 0;
}

int
sap_tok_u32(struct pctx *p, const struct tok *t, uint32_t max, bool comma,
	    const char *what, uint32_t *out)
{
	uint64_t v = 0;

	if (sap_tok_u64(p, t, max, comma, what, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
sap_tok_addr(struct pctx *p, const struct tok *t, struct rxsec_addr *a)
{
	if (rxsec_addr_parse(t->s, a) < 0)
		return sap_tok_err(p, t, "bad address (want IPv4 or IPv6)");
	return 0;
}

/* ADDR or ADDR/LEN; no /LEN means a host prefix, as iproute2's get_prefix. */
int
sap_tok_prefix(struct pctx *p, const struct tok *t, struct rxsec_addr *a,
	       uint8_t *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(t->s, '/');
	size_t al = slash ? (size_t)(slash - t->s) : strlen(t->s);
	unsigned int max;
	uint64_t v = 0;

	if (al >= sizeof(buf))
		return sap_tok_err(p, t, "bad address prefix");
	memcpy(buf, t->s, al);
	buf[al] = '\0';
	if (rxsec_addr_parse(buf, a) < 0)
		return sap_tok_err(p, t, "bad address prefix (want ADDR[/LEN])");
	max = a->family == 4 ? 32 : 128;
	if (slash == NULL) {
		*len = (uint8_t)max;
		return 0;
	}
	if (sap_parse_u64(slash + 1, max, false, &v) < 0)
		return sap_tok_err(p, t, "bad prefix length (0..%u)", max);
	*len = (uint8_t)v;
	return 0;
}

int
sap_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A key as iproute2 reads ALGO-KEYMAT: `0x` + hex, else the word's bytes
 * (so "" is the empty key of ecb(cipher_null)). Dump keys are always hex.
 */
int
sap_tok_key(struct pctx *p, const struct tok *t, bool hex_only, uint8_t *key,
	    uint16_t *len)
{
	size_t sl = strlen(t->s);
	size_t i;

	if (sl > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X')) {
		if ((sl - 2) % 2 != 0)
			return sap_tok_err(p, t, "bad hex key: odd number of hex digits");
		if ((sl - 2) / 2 > RXSEC_KEY_MAX)
			return sap_tok_err(p, t, "key longer than %u bytes",
					   RXSEC_KEY_MAX);
		for (i = 2; i < sl; i += 2) {
			int hi = sap_hexval(t->s[i]), lo = sap_hexval(t->s[i + 1]);

			if (hi < 0 || lo < 0)
				return sap_tok_err(p, t,
						   "bad hex key: '%c' is not a hex digit",
						   hi < 0 ? t->s[i] : t->s[i + 1]);
			key[(i - 2) / 2] = (uint8_t)(hi << 4 | lo);
		}
		*len = (uint16_t)((sl - 2) / 2);
		return 0;
	}
	if (hex_only)
		return sap_tok_err(p, t, "bad key (a dump writes keys as 0x + hex)");
	if (sl > RXSEC_KEY_MAX)
		return sap_tok_err(p, t, "key longer than %u bytes", RXSEC_KEY_MAX);
	memcpy(key, t->s, sl);
	*len = (uint16_t)sl;
	return 0;
}
