/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: one SA under construction, its fields set by either form,
 * and the final checks both forms share.
 */
#include <stdio.h>
#include <string.h>

#include "sa_parse_priv.h"

const struct tok *
sap_cur_peek(const struct cursor *cu)
{
	return cu->i < cu->n ? &cu->t[cu->i] : NULL;
}

/* Next token, or an error naming what was expected after `after`. */
const struct tok *
sap_cur_need(struct pctx *p, struct cursor *cu, const char *what,
	     const struct tok *after)
{
	if (cu->i < cu->n)
		return &cu->t[cu->i++];
	sap_perr(p, cu->end_line, "", "line ends early: missing %s after '%s'",
		 what, after->s);
	return NULL;
}

/* Linux knows more algorithms than IPsec-MB has (Camellia, Serpent, SM4,
 * RIPEMD-160, ...): say which names rxsec takes there. */
static int
sap_unknown_alg(struct pctx *p, const struct tok *kw, const struct tok *name)
{
	char names[160];

	sap_alg_names(kw->s, names, sizeof(names));
	return sap_tok_err(p, name, "unknown %s algorithm (rxsec takes %s)", kw->s, names);
}

int
sap_set_cipher(struct pctx *p, struct sa_build *b, const struct tok *kw,
	       const struct tok *name, const struct tok *key,
	       const struct tok *bits, bool dump)
{
	const struct cipher_info *ci = sap_cipher_lookup(name->s);
	bool aead = strcmp(kw->s, "aead") == 0;
	uint64_t v = 0;
	unsigned int i;

	if (ci == NULL) {
		if (sap_auth_lookup(name->s) != NULL)
			return sap_tok_err(p, name,
					   "'%s' is an auth algorithm, not %s", name->s,
					   kw->s);
		return sap_unknown_alg(p, kw, name);
	}
	if (ci->aead != aead)
		return sap_tok_err(p, name, aead ?
				   "%s is not an AEAD algorithm (write: enc NAME KEY)" :
				   "%s is an AEAD algorithm (write: aead NAME KEY ICVBITS)",
				   ci->name);
	if (b->c.cipher != RXSEC_CIPHER_NONE)
		return sap_tok_err(p, kw, "second encryption algorithm in one SA");
	if (key == NULL) {
		b->c.cipher_key_len = 0;
	} else if (sap_tok_key(p, key, dump, b->c.cipher_key,
			       &b->c.cipher_key_len) < 0) {
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (b->c.cipher_key_len == ci->keylen[i] &&
		    (ci->keylen[i] != 0 || i == 0))
			break;
	if (i == 3)
		return sap_perr(p, key ? key->line : kw->line, key ? key->s : "",
				"wrong key length for %s: %u bytes, want %s",
				ci->name, b->c.cipher_key_len, ci->keydesc);
	b->c.cipher = ci->alg;
	if (aead)
		b->t_aead = kw;
	else
		b->t_enc = kw;
	if (!aead)
		return 0;
	if (sap_tok_u64(p, bits, UINT32_MAX, false, "ICV length", &v) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (v != 0 && v == ci->icv_bits[i])
			break;
	if (i == 3)
		return sap_tok_err(p, bits, "ICV length %llu bits not allowed for %s "
				   "(want %s)", (unsigned long long)v, ci->name,
				   ci->icv_bits[1] != 0 ? "64, 96 or 128" : "128");
	b->aead_bits = (unsigned int)v;
	return 0;
}

int
sap_set_auth(struct pctx *p, struct sa_build *b, const struct tok *kw,
	     const struct tok *name, const struct tok *key,
	     const struct tok *bits, bool dump)
{
	const struct auth_info *ai = sap_auth_lookup(name->s);
	uint64_t v = 0;
	unsigned int i;

	if (ai == NULL) {
		if (sap_cipher_lookup(name->s) != NULL)
			return sap_tok_err(p, name,
					   "'%s' is an encryption algorithm, not %s",
					   name->s, kw->s);
		return sap_unknown_alg(p, kw, name);
	}
	if (b->c.auth != RXSEC_AUTH_NONE)
		return sap_tok_err(p, kw, "second auth algorithm in one SA");
	if (sap_tok_key(p, key, dump, b->c.auth_key, &b->c.auth_key_len) < 0)
		return -1;
	if (b->c.auth_key_len != ai->keylen)
		return sap_tok_err(p, key, "wrong key length for %s: %u bytes, "
				   "want %u", ai->name, b->c.auth_key_len,
				   ai->keylen);
	b->c.auth = ai->alg;
	b->t_auth = kw;
	if (bits == NULL) {
		/* Plain `auth`: Linux's default truncation (README 5). */
		b->auth_bits = ai->def_bits;
		return 0;
	}
	if (sap_tok_u64(p, bits, UINT32_MAX, false, "truncation length", &v) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (v != 0 && v == ai->bits[i])
			break;
	if (i == 3)
		return sap_tok_err(p, bits, "truncation %llu bits not allowed for "
				   "%s (want %s)", (unsigned long long)v, ai->name,
				   ai->bitdesc);
	b->auth_bits = (unsigned int)v;
	return 0;
}

/* Flags in the kernel's bit order, which is also RXSEC_SA_FLAG_*'s. */
static const char *const flag_names[] = {
	"noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp",
	"af-unspec", "align4", "esn",
};

int
sap_flag_bit(const char *s)
{
	unsigned int i;

	for (i = 0; i < TAB_LEN(flag_names); i++)
		if (strcmp(s, flag_names[i]) == 0)
			return (int)i;
	return -1;
}

/* XFRM_SA_XFLAG_*: DSCP copying on encapsulation and outbound sequence
 * wrap, both outbound settings that change nothing on receive. */
bool
sap_extra_flag_known(const char *s)
{
	return strcmp(s, "dont-encap-dscp") == 0 || strcmp(s, "oseq-may-wrap") == 0;
}

/* `dir in|out` (Linux 6.10, XFRMA_SA_DIR): which way the SA carries
 * traffic. rxsec takes outbound SAs too, as the pairs an SA's hard limit
 * deletes with it; received packets never find one. */
static enum rxsec_sa_dir
dir_of(const struct tok *t)
{
	return strcmp(t->s, "in") == 0 ? RXSEC_SA_DIR_IN :
	       strcmp(t->s, "out") == 0 ? RXSEC_SA_DIR_OUT : RXSEC_SA_DIR_ANY;
}

int
sap_set_dir(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	enum rxsec_sa_dir d = dir_of(t);

	if (d == RXSEC_SA_DIR_ANY)
		return sap_tok_err(p, t, "dir must be in or out");
	if (b->c.dir != RXSEC_SA_DIR_ANY && b->c.dir != d)
		return sap_tok_err(p, t, "dir given twice, as in and as out");
	b->c.dir = d;
	return 0;
}

/*
 * Linux's NIC offload of the SA (`offload [crypto|packet] dev DEV dir D`,
 * the dump's `crypto offload parameters:` line). rxsec is itself the
 * offload, so the device and mode change nothing; the direction is checked
 * against the SA's own, as Linux 6.10 does (xfrm_dev_state_add: mismatched
 * SA and offload direction). mode may be NULL (not given).
 */
int
sap_set_offload(struct pctx *p, struct sa_build *b, const struct tok *mode,
		const struct tok *dir)
{
	if (mode != NULL && strcmp(mode->s, "crypto") != 0 && strcmp(mode->s, "packet") != 0)
		return sap_tok_err(p, mode, "offload mode must be crypto or packet");
	b->offload_dir = dir_of(dir);
	b->t_offload_dir = dir;
	if (b->offload_dir == RXSEC_SA_DIR_ANY)
		return sap_tok_err(p, dir, "offload dir must be in or out");
	return 0;
}

void
sap_add_flag(struct sa_build *b, const struct tok *t, int bit)
{
	b->c.flags |= 1u << bit;
	if ((1u << bit) == RXSEC_SA_FLAG_ESN)
		b->t_esn = t;
}

int
sap_set_window(struct pctx *p, struct sa_build *b, const struct tok *t,
	       bool comma)
{
	if (sap_tok_u32(p, t, UINT32_MAX, comma, "replay window",
			&b->c.replay_window) < 0)
		return -1;
	if (b->c.replay_window > SA_WINDOW_MAX)
		return sap_tok_err(p, t, "replay window %u too large (at most %u)",
				   b->c.replay_window, SA_WINDOW_MAX);
	return 0;
}

int
sap_set_mode(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	if (strcmp(t->s, "transport") == 0)
		b->c.mode = RXSEC_MODE_TRANSPORT;
	else if (strcmp(t->s, "tunnel") == 0)
		b->c.mode = RXSEC_MODE_TUNNEL;
	else if (strcmp(t->s, "beet") == 0 || strcmp(t->s, "ro") == 0 ||
		 strcmp(t->s, "in_trigger") == 0)
		return sap_tok_err(p, t, "mode %s is not supported (only transport "
				   "and tunnel)", t->s);
	else
		return sap_tok_err(p, t, "unknown mode (want transport or tunnel)");
	return 0;
}

int
sap_set_proto(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	if (strcmp(t->s, "esp") == 0)
		b->c.proto = RXSEC_PROTO_ESP;
	else if (strcmp(t->s, "ah") == 0)
		b->c.proto = RXSEC_PROTO_AH;
	else if (strcmp(t->s, "comp") == 0 || strcmp(t->s, "route2") == 0 ||
		 strcmp(t->s, "hao") == 0)
		return sap_tok_err(p, t, "proto %s is not supported (only esp, ah)",
				   t->s);
	else
		return sap_tok_err(p, t, "unknown proto (want esp or ah)");
	b->t_proto = t;
	return 0;
}

struct ipproto_name {
	const char *name;
	uint8_t num;
};

static const struct ipproto_name ipproto_tab[] = {
	{ "icmp", 1 }, { "ipencap", 4 }, { "tcp", 6 }, { "udp", 17 },
	{ "ipv6", 41 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
	{ "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "dccp", 33 },
	{ "sctp", 132 }, { "mobility-header", 135 }, { "ipv6-mh", 135 },
};

static int
tok_ipproto(struct pctx *p, const struct tok *t, uint8_t *out)
{
	unsigned int i;
	uint64_t v = 0;

	for (i = 0; i < TAB_LEN(ipproto_tab); i++)
		if (strcmp(t->s, ipproto_tab[i].name) == 0) {
			*out = ipproto_tab[i].num;
			return 0;
		}
	if (sap_parse_u64(t->s, 255, false, &v) < 0)
		return sap_tok_err(p, t, "unknown selector protocol");
	*out = (uint8_t)v;
	return 0;
}

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 33 || proto == 132;
}

static bool
proto_has_type(uint8_t proto)
{
	return proto == 1 || proto == 58 || proto == 135;
}

/*
 * `sel src A/L dst B/L [dev D] [proto P [sport N] [dport N] | [type N]
 * [code N]] [uid N]`. Stops at the first word it does not know (add form).
 * ICMP type and code go where the kernel keeps them: sport and dport.
 */
int
sap_parse_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	      const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t, *v;
	uint64_t n = 0;

	b->sel_given = true;
	c->has_sel = true;
	while ((t = sap_cur_peek(cu)) != NULL) {
		if (strcmp(t->s, "src") == 0 || strcmp(t->s, "dst") == 0) {
			bool src = t->s[0] == 's';

			cu->i++;
			v = sap_cur_need(p, cu, "address prefix", t);
			if (v == NULL || sap_tok_prefix(p, v,
							src ? &c->sel_src : &c->sel_dst,
							src ? &c->sel_src_len :
							      &c->sel_dst_len) < 0)
				return -1;
		} else if (strcmp(t->s, "proto") == 0) {
			cu->i++;
			v = sap_cur_need(p, cu, "protocol", t);
			if (v == NULL || tok_ipproto(p, v, &c->sel_proto) < 0)
				return -1;
		} else if (strcmp(t->s, "sport") == 0 ||
			   strcmp(t->s, "dport") == 0 ||
			   strcmp(t->s, "type") == 0 ||
			   strcmp(t->s, "code") == 0) {
			bool port = t->s[1] == 'p';
			bool first = t->s[0] == 's' || t->s[0] == 't';

			cu->i++;
			if (port ? !proto_has_ports(c->sel_proto) :
				   !proto_has_type(c->sel_proto))
				return sap_tok_err(p, t, "'%s' needs a selector "
						   "proto %s first", t->s, port ?
						   "tcp, udp, sctp or dccp" :
						   "icmp, ipv6-icmp or mobility-header");
			v = sap_cur_need(p, cu, "number", t);
			if (v == NULL || sap_tok_u64(p, v, port ? 65535 : 255,
						     false, t->s, &n) < 0)
				return -1;
			*(first ? &c->sel_sport : &c->sel_dport) = (uint16_t)n;
			/* as iproute2 does: port 0 means any, type/code 0 not */
			if (n != 0 || !port)
				*(first ? &c->sel_sport_mask : &c->sel_dport_mask) = 0xffff;
		} else if (strcmp(t->s, "dev") == 0 ||
			   strcmp(t->s, "uid") == 0) {
			/* informational only for rxsec: skip the value */
			cu->i++;
			if (sap_cur_need(p, cu, "value", t) == NULL)
				return -1;
		} else {
			break;
		}
	}
	if (c->sel_src.family == 0 && c->sel_dst.family == 0)
		return 0;
	if (c->sel_src.family != 0 && c->sel_dst.family != 0 &&
	    c->sel_src.family != c->sel_dst.family)
		return sap_tok_err(p, kw, "selector src and dst are of different "
				   "address families");
	return 0;
}

/* Final checks, shared by both forms */

static int
check_algs(struct pctx *p, struct sa_build *b)
{
	struct rxsec_sa_config *c = &b->c;

	if (c->proto == RXSEC_PROTO_AH) {
		if (b->t_aead || b->t_enc)
			return sap_tok_err(p, b->t_aead ? b->t_aead : b->t_enc,
					   "an AH SA takes only auth/auth-trunc, "
					   "no encryption");
		if (c->auth == RXSEC_AUTH_NONE)
			return sap_tok_err(p, b->first, "AH SA without an auth "
					   "algorithm");
		c->icv_len = (uint16_t)(b->auth_bits / 8);
		return 0;
	}
	if (b->t_aead) {
		if (b->t_auth)
			return sap_tok_err(p, b->t_auth, "an AEAD SA already "
					   "authenticates: no auth algorithm allowed");
		c->icv_len = (uint16_t)(b->aead_bits / 8);
		return 0;
	}
	if (!b->t_enc)
		return sap_tok_err(p, b->t_auth ? b->t_auth : b->first,
				   "ESP SA without encryption (needs enc or aead)");
	if (c->cipher == RXSEC_CIPHER_NULL && !b->t_auth)
		return sap_tok_err(p, b->t_enc, "ecb(cipher_null) without an auth "
				   "algorithm protects nothing");
	c->icv_len = (uint16_t)(b->auth_bits / 8);
	return 0;
}

/* "file:line"; a long path keeps its tail so the line number survives. */
static void
set_origin(struct rxsec_sa_config *c, const char *file, unsigned int line)
{
	char num[16];
	size_t fl = strlen(file), nl, room;

	nl = (size_t)snprintf(num, sizeof(num), ":%u", line);
	room = sizeof(c->origin) - 1 - nl;
	if (fl <= room)
		snprintf(c->origin, sizeof(c->origin), "%s%s", file, num);
	else
		snprintf(c->origin, sizeof(c->origin), "...%s%s",
			 file + fl - (room - 3), num);
}

int
sap_finish_sa(struct pctx *p, struct sa_build *b)
{
	struct rxsec_sa_config *c = &b->c;

	if (!b->have_src || !b->t_dst)
		return sap_tok_err(p, b->first, "SA without %s address",
				   b->have_src ? "dst" : "src");
	if (!b->t_proto)
		return sap_tok_err(p, b->first, "SA without proto (esp or ah)");
	if (!b->t_spi)
		return sap_tok_err(p, b->first, "SA without spi");
	if (c->src.family != c->dst.family)
		return sap_tok_err(p, b->t_dst, "src and dst are of different "
				   "address families");
	if (c->spi == 0)
		return sap_tok_err(p, b->t_spi, "SPI 0 is reserved (RFC 4303 2.1)");
	if (check_algs(p, b) < 0)
		return -1;
	c->esn = (c->flags & RXSEC_SA_FLAG_ESN) != 0;
	if (b->offload_dir != RXSEC_SA_DIR_ANY && c->dir != RXSEC_SA_DIR_ANY &&
	    b->offload_dir != c->dir)
		return sap_tok_err(p, b->t_offload_dir, "offload dir %s does not match the "
				   "SA's dir %s", rxsec_sa_dir_name(b->offload_dir),
				   rxsec_sa_dir_name(c->dir));
	/* as iproute2 6.10: an outbound SA has no window, ESN or not */
	if (c->esn && c->replay_window == 0 && c->dir != RXSEC_SA_DIR_OUT)
		return sap_tok_err(p, b->t_esn, "esn flag set without replay-window");
	if (c->encap && c->proto != RXSEC_PROTO_ESP)
		return sap_tok_err(p, b->t_encap, "UDP encapsulation is for ESP only "
				   "(RFC 3948)");
	/* iproute2 fills an unset selector with the SA's family; the kernel
	 * prints none for af-unspec SAs. */
	if (!b->sel_given && !(c->flags & RXSEC_SA_FLAG_AF_UNSPEC))
		c->has_sel = true;
	if (c->has_sel && c->sel_src.family == 0)
		c->sel_src.family = c->sel_dst.family ? c->sel_dst.family :
							c->src.family;
	if (c->has_sel && c->sel_dst.family == 0)
		c->sel_dst.family = c->sel_src.family;
	set_origin(c, p->file, b->first->line);
	return 0;
}

void
sap_sa_build_init(struct sa_build *b, const struct tok *first)
{
	memset(b, 0, sizeof(*b));
	rxsec_sa_config_init(&b->c);
	b->first = first;
}
