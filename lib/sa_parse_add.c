/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: `ip xfrm state add ...` commands, one SA each.
 */
#include <string.h>

#include "sa_parse_priv.h"

static bool
is_id_word(const char *s)
{
	return strcmp(s, "src") == 0 || strcmp(s, "dst") == 0 ||
	       strcmp(s, "proto") == 0 || strcmp(s, "spi") == 0;
}

/* ID := [src ADDR] [dst ADDR] [proto P] [spi SPI], one contiguous group,
 * as iproute2's xfrm_id_parse reads it. */
static int
add_id(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *t, *v;

	if (b->have_id)
		return sap_tok_err(p, sap_cur_peek(cu), "'%s' belongs to the SA ID "
				   "(src dst proto spi), which must be written in "
				   "one piece", sap_cur_peek(cu)->s);
	b->have_id = true;
	while ((t = sap_cur_peek(cu)) != NULL && is_id_word(t->s)) {
		cu->i++;
		v = sap_cur_need(p, cu, "value", t);
		if (v == NULL)
			return -1;
		if ((t->s[0] == 's' && t->s[1] == 'r' && b->have_src) ||
		    (t->s[0] == 'd' && b->t_dst) ||
		    (t->s[0] == 'p' && b->t_proto) ||
		    (t->s[1] == 'p' && b->t_spi))
			return sap_tok_err(p, t, "'%s' given twice", t->s);
		if (strcmp(t->s, "src") == 0) {
			if (sap_tok_addr(p, v, &b->c.src) < 0)
				return -1;
			b->have_src = true;
		} else if (strcmp(t->s, "dst") == 0) {
			if (sap_tok_addr(p, v, &b->c.dst) < 0)
				return -1;
			b->t_dst = v;
		} else if (strcmp(t->s, "proto") == 0) {
			if (sap_set_proto(p, b, v) < 0)
				return -1;
		} else {
			if (sap_tok_u32(p, v, UINT32_MAX, false, "spi",
					&b->c.spi) < 0)
				return -1;
			b->t_spi = v;
		}
	}
	return 0;
}

static int
add_flags(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	const struct tok *t = sap_cur_need(p, cu, "flag name", kw);
	uint64_t v = 0;
	int bit;

	if (t == NULL)
		return -1;
	if (sap_parse_u64(t->s, 255, false, &v) == 0) {
		/* iproute2 also takes the raw flag byte */
		b->c.flags |= (uint32_t)v;
		if (v & RXSEC_SA_FLAG_ESN)
			b->t_esn = t;
		return 0;
	}
	bit = sap_flag_bit(t->s);
	if (bit < 0)
		return sap_tok_err(p, t, "unknown flag");
	sap_add_flag(b, t, bit);
	while ((t = sap_cur_peek(cu)) != NULL && (bit = sap_flag_bit(t->s)) >= 0) {
		sap_add_flag(b, t, bit);
		cu->i++;
	}
	return 0;
}

/* `limit KIND N`, repeated before each value (iproute2 wants it so). */
static int
add_limit(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	static const char *const kinds[] = {
		"packet-soft", "packet-hard", "byte-soft", "byte-hard",
		"time-soft", "time-hard", "time-use-soft", "time-use-hard",
	};
	struct rxsec_sa_config *c = &b->c;
	uint64_t *dst[] = {
		&c->packet_soft, &c->packet_hard, &c->byte_soft, &c->byte_hard,
		&c->add_soft_sec, &c->add_hard_sec, &c->use_soft_sec,
		&c->use_hard_sec,
	};
	const struct tok *k, *v;
	unsigned int i;

	k = sap_cur_need(p, cu, "limit kind", kw);
	if (k == NULL)
		return -1;
	for (i = 0; i < TAB_LEN(kinds); i++)
		if (strcmp(k->s, kinds[i]) == 0)
			break;
	if (i == TAB_LEN(kinds))
		return sap_tok_err(p, k, "unknown limit (want packet-soft, "
				   "packet-hard, byte-soft, byte-hard, time-soft, "
				   "time-hard, time-use-soft or time-use-hard)");
	v = sap_cur_need(p, cu, "number", k);
	if (v == NULL || sap_tok_u64(p, v, UINT64_MAX, false, "limit", dst[i]) < 0)
		return -1;
	/* Linux: a zero time limit means no limit. */
	if (i >= 4 && *dst[i] == 0)
		*dst[i] = RXSEC_LIMIT_INF;
	return 0;
}

int
sap_encap_type(struct pctx *p, const struct tok *t)
{
	if (strcmp(t->s, "espinudp") == 0)
		return 0;
	if (strcmp(t->s, "espinudp-nonike") == 0 ||
	    strcmp(t->s, "espintcp") == 0)
		return sap_tok_err(p, t, "encap %s is not supported (only espinudp, "
				   "RFC 3948)", t->s);
	return sap_tok_err(p, t, "unknown encap type (want espinudp)");
}

/* `encap espinudp SPORT DPORT OA` */
static int
add_encap(struct pctx *p, struct sa_build *b, struct cursor *cu,
	  const struct tok *kw)
{
	struct rxsec_sa_config *c = &b->c;
	const struct tok *t;
	uint64_t v = 0;

	if (c->encap)
		return sap_tok_err(p, kw, "'encap' given twice");
	if ((t = sap_cur_need(p, cu, "encap type", kw)) == NULL ||
		sap_encap_type(p, t) < 0)
		return -1;
	if ((t = sap_cur_need(p, cu, "source port", kw)) == NULL ||
		sap_tok_u64(p, t, 65535, false, "port", &v) < 0)
		return -1;
	c->encap_sport = (uint16_t)v;
	if ((t = sap_cur_need(p, cu, "destination port", kw)) == NULL ||
		sap_tok_u64(p, t, 65535, false, "port", &v) < 0)
		return -1;
	c->encap_dport = (uint16_t)v;
	if ((t = sap_cur_need(p, cu, "original address", kw)) == NULL ||
		sap_tok_addr(p, t, &c->encap_oa) < 0)
		return -1;
	c->encap = true;
	b->t_encap = kw;
	return 0;
}

static int
add_alg(struct pctx *p, struct sa_build *b, struct cursor *cu,
	const struct tok *kw)
{
	bool trunc = strcmp(kw->s, "auth-trunc") == 0;
	bool aead = strcmp(kw->s, "aead") == 0;
	const struct tok *name, *key, *bits = NULL;

	if ((name = sap_cur_need(p, cu, "algorithm name", kw)) == NULL ||
		(key = sap_cur_need(p, cu, "key", name)) == NULL)
		return -1;
	if ((trunc || aead) &&
	    (bits = sap_cur_need(p, cu, trunc ? "truncation bits" : "ICV bits",
				 key)) == NULL)
		return -1;
	if (aead || strcmp(kw->s, "enc") == 0)
		return sap_set_cipher(p, b, kw, name, key, bits, false);
	return sap_set_auth(p, b, kw, name, key, bits, false);
}

/* A keyword taking one u32 (seq, replay-seq...). */
static int
add_u32_kw(struct pctx *p, struct sa_build *b, struct cursor *cu,
	   const struct tok *kw)
{
	const struct tok *v = sap_cur_need(p, cu, "number", kw);
	uint32_t n;

	if (v == NULL)
		return -1;
	if (strcmp(kw->s, "replay-window") == 0)
		return sap_set_window(p, b, v, false);
	if (sap_tok_u32(p, v, UINT32_MAX, false, kw->s, &n) < 0)
		return -1;
	if (strcmp(kw->s, "reqid") == 0)
		b->c.reqid = n;
	else if (strcmp(kw->s, "replay-seq") == 0)
		b->c.seq = n;
	else if (strcmp(kw->s, "replay-seq-hi") == 0)
		b->c.seq_hi = n;
	/* seq (the ACQUIRE sequence) and replay-oseq* are outbound state */
	return 0;
}

static int
add_mode(struct pctx *p, struct sa_build *b, struct cursor *cu,
	 const struct tok *kw)
{
	const struct tok *v = sap_cur_need(p, cu, "mode", kw);

	return v == NULL ? -1 : sap_set_mode(p, b, v);
}

static int
add_sel(struct pctx *p, struct sa_build *b, struct cursor *cu,
	const struct tok *kw)
{
	if (b->sel_given)
		return sap_tok_err(p, kw, "'sel' given twice");
	return sap_parse_sel(p, b, cu, kw);
}

typedef int (*add_kw_fn)(struct pctx *, struct sa_build *, struct cursor *,
			 const struct tok *);

/* `extra-flag dont-encap-dscp|oseq-may-wrap ...` or `extra-flag 0xN`, as
 * iproute2 takes it: outbound settings (sap_extra_flag_known), accepted and
 * ignored (strongSwan asks for dont-encap-dscp through copy_dscp). */
static int
add_extra_flags(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	const struct tok *t = sap_cur_need(p, cu, "extra flag name", kw);
	uint64_t v;

	(void)b;
	if (t == NULL)
		return -1;
	if (strncmp(t->s, "0x", 2) == 0 && sap_parse_u64(t->s, UINT32_MAX, false, &v) == 0)
		return 0;
	if (!sap_extra_flag_known(t->s))
		return sap_tok_err(p, t, "unknown extra flag (want dont-encap-dscp, "
				   "oseq-may-wrap or a hex value)");
	while ((t = sap_cur_peek(cu)) != NULL && sap_extra_flag_known(t->s))
		cu->i++;
	return 0;
}

static int
add_dir(struct pctx *p, struct sa_build *b, struct cursor *cu, const struct tok *kw)
{
	const struct tok *t = sap_cur_need(p, cu, "in or out", kw);

	return t == NULL ? -1 : sap_set_dir(p, b, t);
}

/* `offload [crypto|packet] dev DEV dir in|out`: dev and dir are required,
 * as iproute2 wants them. */
static int
add_offload(struct pctx *p, struct sa_build *b, struct cursor *cu, const struct tok *kw)
{
	const struct tok *mode = NULL, *t, *dir;

	t = sap_cur_need(p, cu, "dev", kw);
	if (t != NULL && (strcmp(t->s, "crypto") == 0 || strcmp(t->s, "packet") == 0)) {
		mode = t;
		t = sap_cur_need(p, cu, "dev", mode);
	}
	if (t == NULL)
		return -1;
	if (strcmp(t->s, "dev") != 0)
		return sap_tok_err(p, t, "offload wants [crypto|packet] dev DEV dir in|out");
	if (sap_cur_need(p, cu, "device name", t) == NULL)
		return -1;
	t = sap_cur_need(p, cu, "dir", kw);
	if (t == NULL)
		return -1;
	if (strcmp(t->s, "dir") != 0)
		return sap_tok_err(p, t, "offload wants [crypto|packet] dev DEV dir in|out");
	dir = sap_cur_need(p, cu, "in or out", t);
	return dir == NULL ? -1 : sap_set_offload(p, b, mode, dir);
}

/*
 * Marks and interface ids steer Linux's policy lookup and routing, and TFC
 * padding is an outbound setting: none changes how an inbound packet is
 * checked, so SAs that strongSwan installs with them are taken as they are.
 * `mark V [mask M]`, `output-mark V [mask M]`, `if_id N`, `tfcpad N`.
 */
int
sap_add_ignored(struct pctx *p, struct sa_build *b, struct cursor *cu,
		const struct tok *kw)
{
	const struct tok *v = sap_cur_need(p, cu, "value", kw);
	const struct tok *m;

	(void)b;
	if (v == NULL)
		return -1;
	m = sap_cur_peek(cu);
	if (m != NULL && strcmp(m->s, "mask") == 0 && strstr(kw->s, "mark") != NULL) {
		cu->i++;
		if (sap_cur_need(p, cu, "mask", m) == NULL)
			return -1;
	}
	return 0;
}

static const struct {
	const char *kw;
	add_kw_fn fn;
} add_kw_tab[] = {
	{ "mode", add_mode },
	{ "reqid", add_u32_kw },
	{ "seq", add_u32_kw },
	{ "replay-window", add_u32_kw },
	{ "replay-seq", add_u32_kw },
	{ "replay-oseq", add_u32_kw },
	{ "replay-seq-hi", add_u32_kw },
	{ "replay-oseq-hi", add_u32_kw },
	{ "flag", add_flags },
	{ "sel", add_sel },
	{ "limit", add_limit },
	{ "encap", add_encap },
	{ "enc", add_alg },
	{ "auth", add_alg },
	{ "auth-trunc", add_alg },
	{ "aead", add_alg },
	{ "mark", sap_add_ignored },
	{ "output-mark", sap_add_ignored },
	{ "if_id", sap_add_ignored },
	{ "tfcpad", sap_add_ignored },
	{ "extra-flag", add_extra_flags },
	{ "dir", add_dir },
	{ "offload", add_offload },
};

static const char *const add_unsupported[] = {
	"comp", "coa", "ctx",
};

static int
add_keyword(struct pctx *p, struct sa_build *b, struct cursor *cu)
{
	const struct tok *kw = sap_cur_peek(cu);
	unsigned int i;

	if (is_id_word(kw->s))
		return add_id(p, b, cu);
	cu->i++;
	for (i = 0; i < TAB_LEN(add_kw_tab); i++)
		if (strcmp(kw->s, add_kw_tab[i].kw) == 0)
			return add_kw_tab[i].fn(p, b, cu, kw);
	for (i = 0; i < TAB_LEN(add_unsupported); i++)
		if (strcmp(kw->s, add_unsupported[i]) == 0)
			return sap_tok_err(p, kw, "'%s' is not supported by rxsec",
					   kw->s);
	return sap_tok_err(p, kw, "unknown keyword");
}

/* `[ip xfrm state add|update] ...`: returns the index after the prefix. */
static int
add_prefix(struct pctx *p, const struct lline *l, unsigned int *start)
{
	static const char *const want[] = { "ip", "xfrm", "state" };
	unsigned int i;

	*start = 0;
	if (strcmp(l->tok[0].s, "ip") != 0)
		return 0;
	for (i = 1; i < 3; i++) {
		if (i >= l->n)
			return sap_perr(p, l->tok[i - 1].line, "", "line ends early: "
					"want 'ip xfrm state add'");
		if (strcmp(l->tok[i].s, want[i]) != 0)
			return sap_tok_err(p, &l->tok[i], "want 'ip xfrm state add'");
	}
	if (l->n < 4)
		return sap_perr(p, l->tok[2].line, "", "line ends early: want "
				"'ip xfrm state add'");
	if (strcmp(l->tok[3].s, "add") != 0 &&
	    strcmp(l->tok[3].s, "update") != 0)
		return sap_tok_err(p, &l->tok[3], "only 'ip xfrm state add' (or "
				   "update) can describe an SA");
	*start = 4;
	if (l->n == 4)
		return sap_perr(p, l->tok[3].line, "", "line ends early: nothing "
				"after '%s'", l->tok[3].s);
	return 0;
}

int
sap_parse_add(struct pctx *p, const struct lline *l, struct sa_build *b)
{
	struct cursor cu;
	unsigned int start;

	sap_sa_build_init(b, &l->tok[0]);
	if (add_prefix(p, l, &start) < 0)
		return -1;
	cu.t = l->tok;
	cu.n = l->n;
	cu.i = start;
	cu.end_line = l->tok[l->n - 1].line;
	while (cu.i < cu.n)
		if (add_keyword(p, b, &cu) < 0)
			return -1;
	return sap_finish_sa(p, b);
}
