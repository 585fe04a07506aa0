/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: the dump `ip xfrm state` and `ip -s xfrm state` print.
 */
#include <stdlib.h>
#include <string.h>

#include "sa_parse_priv.h"

/* "0xd0d01401" or, from ip -s, "0xd0d01401(3503297537)"; also
 * "120" / "120(0x00000078)". The decoration must agree. */
static int
dump_u32_deco(struct pctx *p, const struct tok *t, const char *what,
	      uint32_t *out)
{
	char buf[64];
	const char *par = strchr(t->s, '(');
	size_t n = par ? (size_t)(par - t->s) : strlen(t->s);
	uint64_t v = 0, d = 0;

	if (n >= sizeof(buf))
		return sap_tok_err(p, t, "bad %s", what);
	memcpy(buf, t->s, n);
	buf[n] = '\0';
	if (sap_parse_u64(buf, UINT32_MAX, false, &v) < 0)
		return sap_tok_err(p, t, "bad %s", what);
	if (par != NULL) {
		size_t pl = strlen(par);

		if (pl < 3 || par[pl - 1] != ')' || pl - 2 >= sizeof(buf))
			return sap_tok_err(p, t, "bad %s", what);
		memcpy(buf, par + 1, pl - 2);
		buf[pl - 2] = '\0';
		if (sap_parse_u64(buf, UINT32_MAX, false, &d) < 0 || d != v)
			return sap_tok_err(p, t, "%s disagrees with the value in "
					   "parentheses", what);
	}
	*out = (uint32_t)v;
	return 0;
}

/* `proto esp spi 0x... reqid N mode tunnel [dir in|out]` */
static int
dump_proto(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *k, *v;

	while ((k = sap_cur_peek(cu)) != NULL) {
		cu->i++;
		if ((v = sap_cur_need(p, cu, "value", k)) == NULL)
			return -1;
		if (strcmp(k->s, "proto") == 0 && !b->t_proto) {
			if (sap_set_proto(p, b, v) < 0)
				return -1;
		} else if (strcmp(k->s, "spi") == 0 && !b->t_spi) {
			if (dump_u32_deco(p, v, "spi", &b->c.spi) < 0)
				return -1;
			b->t_spi = v;
		} else if (strcmp(k->s, "reqid") == 0) {
			if (dump_u32_deco(p, v, "reqid", &b->c.reqid) < 0)
				return -1;
		} else if (strcmp(k->s, "mode") == 0) {
			if (sap_set_mode(p, b, v) < 0)
				return -1;
		} else if (strcmp(k->s, "dir") == 0) {
			/* where a proposed iproute2 output put it */
			if (sap_set_dir(p, b, v) < 0)
				return -1;
		} else {
			return sap_tok_err(p, k, "unexpected word in the proto line");
		}
	}
	return 0;
}

/* "(0x10100000)" from ip -s: the flag byte as binary digits, MSB first. */
static int
dump_flag_bits(struct pctx *p, struct sa_build *b, const struct tok *t)
{
	unsigned int i, v = 0;

	if (strlen(t->s) != 12 || strncmp(t->s, "(0x", 3) != 0 ||
	    t->s[11] != ')')
		return sap_tok_err(p, t, "bad flag bits (want (0xBBBBBBBB))");
	for (i = 3; i < 11; i++) {
		if (t->s[i] != '0' && t->s[i] != '1')
			return sap_tok_err(p, t, "bad flag bits (binary digits)");
		v = v << 1 | (unsigned int)(t->s[i] - '0');
	}
	if (v != b->c.flags)
		return sap_tok_err(p, t, "flag bits disagree with the flag names");
	return 0;
}

/* `replay-window N [seq 0x..] [flag F...] [extra_flag X...] [(0x........)]` */
static int
dump_replay(struct pctx *p, struct sa_build *b, struct cursor *cu,
	    const struct tok *kw)
{
	const struct tok *t;
	int bit;

	if ((t = sap_cur_need(p, cu, "window", kw)) == NULL ||
		sap_set_window(p, b, t, false) < 0)
		return -1;
	while ((t = sap_cur_peek(cu)) != NULL) {
		cu->i++;
		if (strcmp(t->s, "seq") == 0) {
			if (sap_cur_need(p, cu, "number", t) == NULL)
				return -1;
		} else if (strcmp(t->s, "flag") == 0) {
			while ((t = sap_cur_peek(cu)) != NULL && t->s[0] != '(' &&
			       strcmp(t->s, "extra_flag") != 0) {
				if ((bit = sap_flag_bit(t->s)) < 0)
					return sap_tok_err(p, t, "unknown flag");
				sap_add_flag(b, t, bit);
				cu->i++;
			}
		} else if (strcmp(t->s, "extra_flag") == 0) {
			/* ip -s: outbound settings (sap_extra_flag_known),
			 * unknown bits printed in hex after the names */
			while ((t = sap_cur_peek(cu)) != NULL && t->s[0] != '(') {
				if (!sap_extra_flag_known(t->s) &&
				    strspn(t->s, "0123456789abcdef") != strlen(t->s))
					return sap_tok_err(p, t, "unknown extra flag");
				cu->i++;
			}
		} else if (t->s[0] == '(') {
			if (dump_flag_bits(p, b, t) < 0)
				return -1;
		} else {
			return sap_tok_err(p, t, "unexpected word in the "
					   "replay-window line");
		}
	}
	return 0;
}

/* Skip "(160" "bits)" from ip -s, checking it against the key length. */
static int
dump_key_bits(struct pctx *p, struct cursor *cu, uint16_t keylen)
{
	const struct tok *t = sap_cur_peek(cu), *u;
	uint64_t v = 0;

	if (t == NULL || t->s[0] != '(')
		return 0;
	cu->i++;
	if ((u = sap_cur_need(p, cu, "'bits)'", t)) == NULL)
		return -1;
	if (sap_parse_u64(t->s + 1, UINT32_MAX, false, &v) < 0 ||
		strcmp(u->s, "bits)") != 0)
		return sap_tok_err(p, t, "bad key size note (want '(N bits)')");
	if (v != (uint64_t)keylen * 8)
		return sap_tok_err(p, t, "key size note disagrees with the key");
	return 0;
}

/* `aead N K ICV`, `enc N [K]`, `auth-trunc N K BITS`, `auth N K`,
 * each key possibly followed by ip -s's `(N bits)`. */
static int
dump_alg(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	bool aead = strcmp(kw->s, "aead") == 0;
	bool enc = strcmp(kw->s, "enc") == 0;
	bool trunc = strcmp(kw->s, "auth-trunc") == 0;
	const struct tok *name, *key = NULL, *bits = NULL, *t;
	unsigned int note;
	int rc;

	if ((name = sap_cur_need(p, cu, "algorithm name", kw)) == NULL)
		return -1;
	t = sap_cur_peek(cu);
	if (t != NULL && strncmp(t->s, "<<Keys", 6) == 0)
		return sap_tok_err(p, t, "keys are hidden in this dump");
	/* ecb(cipher_null) prints no key at all */
	if ((!enc || (t != NULL && t->s[0] != '(')) &&
	    (key = sap_cur_need(p, cu, "key", name)) == NULL)
		return -1;
	note = cu->i;
	if ((t = sap_cur_peek(cu)) != NULL && t->s[0] == '(')
		cu->i += 2;
	if ((aead || trunc) &&
	    (bits = sap_cur_need(p, cu, aead ? "ICV bits" : "truncation bits",
				 key)) == NULL)
		return -1;
	if ((t = sap_cur_peek(cu)) != NULL)
		return sap_tok_err(p, t, "unexpected word after the algorithm");
	if (aead || enc)
		rc = sap_set_cipher(p, b, kw, name, key, bits, true);
	else
		rc = sap_set_auth(p, b, kw, name, key, bits, true);
	if (rc < 0)
		return -1;
	cu->i = note;
	return dump_key_bits(p, cu, aead || enc ? b->c.cipher_key_len :
						  b->c.auth_key_len);
}

/* `encap type espinudp sport S dport D addr OA` */
static int
dump_encap(struct pctx *p, struct sa_build *b, struct cursor *cu,
	   const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	static const char *const keys[] = { "type", "sport", "dport", "addr" };
	const struct tok *k, *v;
	unsigned int i;
	uint64_t n = 0;

	if (c->encap)
		return sap_tok_err(p, kw, "'encap' given twice");
	for (i = 0; i < TAB_LEN(keys); i++) {
		if ((k = sap_cur_need(p, cu, keys[i], i ? cu->t + cu->i - 1 : kw)) ==
			NULL)
			return -1;
		if (strcmp(k->s, keys[i]) != 0)
			return sap_tok_err(p, k, "want '%s' here", keys[i]);
		if ((v = sap_cur_need(p, cu, "value", k)) == NULL)
			return -1;
		if (i == 0 && sap_encap_type(p, v) < 0)
			return -1;
		if ((i == 1 || i == 2) &&
		    sap_tok_u64(p, v, 65535, false, "port", &n) < 0)
			return -1;
		if (i == 1)
			c->encap_sport = (uint16_t)n;
		if (i == 2)
			c->encap_dport = (uint16_t)n;
		if (i == 3 && sap_tok_addr(p, v, &c->encap_oa) < 0)
			return -1;
	}
	if ((k = sap_cur_peek(cu)) != NULL)
		return sap_tok_err(p, k, "unexpected word in the encap line");
	c->encap = true;
	b->t_encap = kw;
	return 0;
}

/* key/value pairs "seq-hi 0x0, seq 0x0, ..." with trailing commas */
static int
dump_kv(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *k, *v;
	uint64_t n = 0;

	while ((k = sap_cur_peek(cu)) != NULL) {
		cu->i++;
		if ((v = sap_cur_need(p, cu, "number", k)) == NULL ||
			sap_tok_u64(p, v, UINT32_MAX, true, k->s, &n) < 0)
			return -1;
		if (strcmp(k->s, "seq") == 0) {
			b->c.seq = (uint32_t)n;
		} else if (strcmp(k->s, "seq-hi") == 0) {
			b->c.seq_hi = (uint32_t)n;
		} else if (strcmp(k->s, "bitmap") == 0) {
			b->c.replay_bmp[0] = (uint32_t)n;
			b->c.replay_bmp_layout = RXSEC_SA_BMP_WORD;
		} else if (strcmp(k->s, "oseq") != 0 &&
			   strcmp(k->s, "oseq-hi") != 0)
			return sap_tok_err(p, k, "unexpected word in the "
					   "anti-replay context");
	}
	return 0;
}

static bool
tok_is(const struct cursor *cu, unsigned int i, const char *s)
{
	return i < cu->n && strcmp(cu->t[i].s, s) == 0;
}

/* `anti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000` or
 * `anti-replay esn context:` opening the sub-block. */
static int
dump_antireplay(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	if (b->t_esn_ctx != NULL || b->sub != SUB_NONE)
		return sap_tok_err(p, kw, "second anti-replay context");
	if (tok_is(cu, cu->i, "context:")) {
		cu->i++;
		b->t_esn_ctx = kw;	/* marks "seen" */
		return dump_kv(p, b, cu);
	}
	if (tok_is(cu, cu->i, "esn") && tok_is(cu, cu->i + 1, "context:") &&
	    cu->n == cu->i + 2) {
		b->t_esn_ctx = kw;
		b->sub = SUB_ESN_CTX;
		return 0;
	}
	return sap_tok_err(p, kw, "want 'anti-replay context:' or 'anti-replay "
			   "esn context:'");
}

static bool
is_hex_word(const char *s)
{
	unsigned int i;

	for (i = 0; s[i] != '\0'; i++)
		if (sap_hexval(s[i]) < 0)
			return false;
	return i == 8;
}

/* Lines of the esn context: seq-hi..., replay_window N, bitmap-length M,
 * then the bitmap words. The window here is the SA's real window. */
static int
dump_esn_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *t = sap_cur_peek(cu), *v;
	uint64_t n = 0;

	if (strcmp(t->s, "seq-hi") == 0)
		return dump_kv(p, b, cu);
	if (strcmp(t->s, "replay_window") == 0) {
		if (b->esn_ctx_window)
			return sap_tok_err(p, t, "replay_window given twice");
		cu->i++;
		if ((v = sap_cur_need(p, cu, "window", t)) == NULL ||
			sap_set_window(p, b, v, true) < 0)
			return -1;
		if ((t = sap_cur_need(p, cu, "bitmap-length", v)) == NULL)
			return -1;
		if (strcmp(t->s, "bitmap-length") != 0)
			return sap_tok_err(p, t, "want 'bitmap-length'");
		if ((v = sap_cur_need(p, cu, "number", t)) == NULL ||
			sap_tok_u64(p, v, SA_BITMAP_MAX, false, "bitmap-length", &n) < 0)
			return -1;
		if (n * 32 < b->c.replay_window)
			return sap_tok_err(p, v, "bitmap-length too small for "
					   "replay_window %u", b->c.replay_window);
		b->bitmap_len = (uint32_t)n;
		b->t_bitmap_len = v;
		b->esn_ctx_window = true;
		b->c.replay_bmp_layout = RXSEC_SA_BMP_RING;
		b->c.replay_bmp_window = b->c.replay_window;
		return 0;
	}
	if (!is_hex_word(t->s))
		return sap_tok_err(p, t, "unexpected word in the esn context");
	if (!b->esn_ctx_window)
		return sap_tok_err(p, t, "bitmap before 'replay_window'");
	for (; cu->i < cu->n; cu->i++) {
		if (!is_hex_word(cu->t[cu->i].s))
			return sap_tok_err(p, &cu->t[cu->i], "bad bitmap word");
		if (b->bitmap_words < RXSEC_SA_BMP_WORDS)	/* past the window: unused */
			b->c.replay_bmp[b->bitmap_words] =
				(uint32_t)strtoul(cu->t[cu->i].s, NULL, 16);
		if (++b->bitmap_words > b->bitmap_len)
			return sap_tok_err(p, &cu->t[cu->i], "more bitmap words "
					   "than bitmap-length %u", b->bitmap_len);
	}
	return 0;
}

/* Closing checks when a sub-block ends. */
static int
dump_sub_end(struct pctx *p, struct sa_build *b)
{
	if (b->sub == SUB_ESN_CTX) {
		if (!b->esn_ctx_window)
			return sap_tok_err(p, b->t_esn_ctx, "esn context without "
					   "replay_window");
		if (b->bitmap_words != b->bitmap_len)
			return sap_tok_err(p, b->t_bitmap_len, "esn context has %u "
					   "bitmap words, bitmap-length says %u",
					   b->bitmap_words, b->bitmap_len);
	}
	b->sub = SUB_NONE;
	return 0;
}

/* "750000(bytes)," "(INF)(packets)" "3000(sec)" */
static int
dump_lt_val(struct pctx *p, const struct tok *t, const char *unit,
	    uint64_t *out)
{
	char buf[32];
	const char *u;
	size_t n, ul = strlen(unit);

	if (strncmp(t->s, "(INF)", 5) == 0) {
		*out = RXSEC_LIMIT_INF;
		u = t->s + 5;
	} else {
		u = strchr(t->s, '(');
		if (u == NULL || (size_t)(u - t->s) >= sizeof(buf))
			return sap_tok_err(p, t, "bad lifetime value");
		n = (size_t)(u - t->s);
		memcpy(buf, t->s, n);
		buf[n] = '\0';
		if (sap_parse_u64(buf, UINT64_MAX, false, out) < 0)
			return sap_tok_err(p, t, "bad lifetime value");
	}
	if (strncmp(u, unit, ul) != 0 ||
	    (u[ul] != '\0' && strcmp(u + ul, ",") != 0))
		return sap_tok_err(p, t, "bad lifetime value (want N%s)", unit);
	return 0;
}

/* `limit: soft S(bytes), hard H(bytes)`, `limit: ...(packets)`,
 * `expire add: soft S(sec), hard H(sec)`, `expire use: ...` */
static int
dump_lt_config(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t = sap_cur_peek(cu), *s, *h, *w;
	uint64_t *soft, *hard;
	const char *unit;

	cu->i++;
	if (strcmp(t->s, "limit:") == 0) {
		/* bytes or packets: the unit of the soft value says */
		bool pk = cu->i + 1 < cu->n &&
			  strstr(cu->t[cu->i + 1].s, "(packets)") != NULL;

		soft = pk ? &c->packet_soft : &c->byte_soft;
		hard = pk ? &c->packet_hard : &c->byte_hard;
		unit = pk ? "(packets)" : "(bytes)";
	} else if (strcmp(t->s, "expire") == 0) {
		if ((w = sap_cur_need(p, cu, "add: or use:", t)) == NULL)
			return -1;
		if (strcmp(w->s, "add:") != 0 && strcmp(w->s, "use:") != 0)
			return sap_tok_err(p, w, "want 'add:' or 'use:'");
		soft = w->s[0] == 'a' ? &c->add_soft_sec : &c->use_soft_sec;
		hard = w->s[0] == 'a' ? &c->add_hard_sec : &c->use_hard_sec;
		unit = "(sec)";
	} else {
		return sap_tok_err(p, t, "unexpected line in 'lifetime config:'");
	}
	if ((w = sap_cur_need(p, cu, "'soft'", t)) == NULL)
		return -1;
	if (strcmp(w->s, "soft") != 0)
		return sap_tok_err(p, w, "want 'soft'");
	if ((s = sap_cur_need(p, cu, "value", w)) == NULL ||
		dump_lt_val(p, s, unit, soft) < 0)
		return -1;
	if ((w = sap_cur_need(p, cu, "'hard'", s)) == NULL)
		return -1;
	if (strcmp(w->s, "hard") != 0)
		return sap_tok_err(p, w, "want 'hard'");
	if ((h = sap_cur_need(p, cu, "value", w)) == NULL ||
		dump_lt_val(p, h, unit, hard) < 0)
		return -1;
	if ((w = sap_cur_peek(cu)) != NULL)
		return sap_tok_err(p, w, "unexpected word in the lifetime line");
	/* Linux: a zero time limit means no limit. */
	if (unit[1] == 's') {
		if (*soft == 0)
			*soft = RXSEC_LIMIT_INF;
		if (*hard == 0)
			*hard = RXSEC_LIMIT_INF;
	}
	return 0;
}

/* `lifetime config:` / `lifetime current:` / `stats:` open sub-blocks. */
static int
dump_block_open(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	if (strcmp(kw->s, "stats:") == 0 && cu->i == cu->n) {
		b->sub = SUB_SKIP;
		return 0;
	}
	if (strcmp(kw->s, "lifetime") == 0 && cu->n == cu->i + 1) {
		if (strcmp(cu->t[cu->i].s, "config:") == 0) {
			b->sub = SUB_LT_CONFIG;
			return 0;
		}
		if (strcmp(cu->t[cu->i].s, "current:") == 0) {
			b->sub = SUB_SKIP;
			return 0;
		}
	}
	return sap_tok_err(p, kw, "want 'lifetime config:', 'lifetime current:' "
			   "or 'stats:'");
}

static int
dump_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	const struct tok *t;

	if (b->sel_given)
		return sap_tok_err(p, kw, "'sel' given twice");
	if (sap_parse_sel(p, b, cu, kw) < 0)
		return -1;
	if ((t = sap_cur_peek(cu)) != NULL)
		return sap_tok_err(p, t, "unexpected word in the sel line");
	return 0;
}

/* `dir in|out`, a line of its own (iproute2 6.10 prints it after tfcpad). */
static int
dump_dir(struct pctx *p, struct sa_build *b, struct cursor *cu, const struct tok *kw)
{
	const struct tok *t = sap_cur_need(p, cu, "in or out", kw);

	if (t == NULL || sap_set_dir(p, b, t) < 0)
		return -1;
	if (sap_cur_peek(cu) != NULL)
		return sap_tok_err(p, sap_cur_peek(cu), "unexpected word in the dir line");
	return 0;
}

/* `crypto offload parameters: dev DEV dir in|out [mode crypto|packet]`
 * (older iproute2 prints no mode) */
static int
dump_offload(struct pctx *p, struct sa_build *b, struct cursor *cu, const struct tok *kw)
{
	const struct tok *k, *v, *mode = NULL, *dir = NULL;

	if (!tok_is(cu, cu->i, "offload") || !tok_is(cu, cu->i + 1, "parameters:"))
		return sap_tok_err(p, kw, "unknown or unsupported line in the dump");
	cu->i += 2;
	while ((k = sap_cur_peek(cu)) != NULL) {
		cu->i++;
		if ((v = sap_cur_need(p, cu, "value", k)) == NULL)
			return -1;
		if (strcmp(k->s, "dir") == 0)
			dir = v;
		else if (strcmp(k->s, "mode") == 0)
			mode = v;
		else if (strcmp(k->s, "dev") != 0)
			return sap_tok_err(p, k, "unexpected word in the offload line");
	}
	if (dir == NULL)
		return sap_tok_err(p, kw, "offload line without a dir");
	return sap_set_offload(p, b, mode, dir);
}

/* Does s look like strftime's "%Y-%m-%d" (sep '-') or "%T" (sep ':')? */
static bool
is_date_part(const char *s, char sep)
{
	unsigned int fields = 1, digits = 0;

	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9') {
			digits++;
		} else if (*s == sep && digits != 0) {
			fields++;
			digits = 0;
		} else {
			return false;
		}
	}
	return fields == 3 && digits != 0;
}

/* `lastused 2024-05-20 10:11:12` (the kernel exports when the SA last
 * carried a packet; every used outbound SA has one, and inbound ones on
 * newer kernels): nothing rxsec keeps. */
static int
dump_lastused(struct pctx *p, struct cursor *cu, const struct tok *kw)
{
	const struct tok *d = sap_cur_need(p, cu, "date", kw), *t;

	if (d == NULL)
		return -1;
	if (strcmp(d->s, "-") != 0) {
		if (!is_date_part(d->s, '-'))
			return sap_tok_err(p, d, "lastused wants a date YYYY-MM-DD HH:MM:SS");
		if ((t = sap_cur_need(p, cu, "time", d)) == NULL)
			return -1;
		if (!is_date_part(t->s, ':'))
			return sap_tok_err(p, t, "lastused wants a date YYYY-MM-DD HH:MM:SS");
	}
	if (sap_cur_peek(cu) != NULL)
		return sap_tok_err(p, sap_cur_peek(cu), "unexpected word in the lastused line");
	return 0;
}

/* One tab-indented attribute line of a dump block. */
static int
dump_top_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *kw = sap_cur_peek(cu);

	cu->i++;
	if (strcmp(kw->s, "proto") == 0) {
		if (b->t_proto)
			return sap_tok_err(p, kw, "second proto line");
		cu->i--;
		return dump_proto(p, b, cu);
	}
	if (strcmp(kw->s, "replay-window") == 0)
		return dump_replay(p, b, cu, kw);
	if (strcmp(kw->s, "aead") == 0 || strcmp(kw->s, "enc") == 0 ||
	    strcmp(kw->s, "auth") == 0 || strcmp(kw->s, "auth-trunc") == 0)
		return dump_alg(p, b, cu, kw);
	if (strcmp(kw->s, "encap") == 0)
		return dump_encap(p, b, cu, kw);
	if (strcmp(kw->s, "anti-replay") == 0)
		return dump_antireplay(p, b, cu, kw);
	if (strcmp(kw->s, "sel") == 0)
		return dump_sel(p, b, cu, kw);
	if (strcmp(kw->s, "dir") == 0)
		return dump_dir(p, b, cu, kw);
	if (strcmp(kw->s, "crypto") == 0)
		return dump_offload(p, b, cu, kw);
	if (strcmp(kw->s, "lastused") == 0)
		return dump_lastused(p, cu, kw);
	if (strcmp(kw->s, "lifetime") == 0 || strcmp(kw->s, "stats:") == 0)
		return dump_block_open(p, b, cu, kw);
	/* Routing metadata and outbound settings: see sap_add_ignored(). */
	if (strcmp(kw->s, "mark") == 0 || strcmp(kw->s, "output-mark") == 0 ||
	    strcmp(kw->s, "if_id") == 0 || strcmp(kw->s, "tfcpad") == 0) {
		cu->i = cu->n;
		return 0;
	}
	return sap_tok_err(p, kw, "unknown or unsupported line in the dump");
}

static int
dump_sub_line(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	switch (b->sub) {
	case SUB_ESN_CTX:
		return dump_esn_line(p, b, cu);
	case SUB_LT_CONFIG:
		return dump_lt_config(p, b, cu);
	case SUB_SKIP:
		return 0;
	default:
		return sap_tok_err(p, sap_cur_peek(cu), "indented line outside a "
				   "block");
	}
}

static int
dump_line(struct pctx *p, struct sa_build *b, const struct lline *l,
	  unsigned int body_indent)
{
	struct cursor cu = { l->tok, l->n, 0, l->tok[l->n - 1].line };

	if (l->indent > body_indent && b->sub != SUB_NONE)
		return dump_sub_line(p, b, &cu);
	if (dump_sub_end(p, b) < 0)
		return -1;
	return dump_top_line(p, b, &cu);
}

/* `src A dst B` then the body lines [1, n). */
int
sap_parse_dump(struct pctx *p, const struct lline *ls, unsigned int n,
	       struct sa_build *b)
{
	const struct lline *h = &ls[0];
	unsigned int i;

	sap_sa_build_init(b, &h->tok[0]);
	if (sap_tok_addr(p, &h->tok[1], &b->c.src) < 0 ||
		sap_tok_addr(p, &h->tok[3], &b->c.dst) < 0)
		return -1;
	b->have_src = true;
	b->have_id = true;
	b->t_dst = &h->tok[3];
	for (i = 1; i < n; i++)
		if (dump_line(p, b, &ls[i], n > 1 ? ls[1].indent : 0) < 0)
			return -1;
	if (dump_sub_end(p, b) < 0)
		return -1;
	return sap_finish_sa(p, b);
}
