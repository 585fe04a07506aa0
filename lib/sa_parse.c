/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA files in `ip xfrm state` syntax (spec section 5). Two forms, detected per
 * SA and freely mixed in one file:
 *   - `ip xfrm state add ...` commands, shell-like: prefix optional, `#`
 *     comments, backslash continuation, quoted words ("" is an empty key);
 *   - the dump printed by `ip xfrm state` and `ip -s xfrm state`: a column-0
 *     `src A dst B` line, then one tab-indented line per attribute, with
 *     deeper-indented sub-lines for the anti-replay esn context, the lifetime
 *     blocks and the stats block.
 * The dump format traps are listed in shared/linux-xfrm/README.md; the one
 * that matters most: an `anti-replay esn context:` block carries the real
 * window, while the first line then says `replay-window 0`. ESN is decided
 * by `flag esn` alone.
 *
 * This file: records split into SAs, duplicates refused, the public calls.
 * The rest lives beside it (sa_lex.c, sa_values.c, sa_algs.c, sa_build.c,
 * sa_parse_add.c, sa_parse_dump.c; shared types in sa_parse_priv.h).
 *
 * Start-up code: allocation is fine, no DPDK calls, usable before EAL init.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_parse_priv.h"

/* `src A dst B` alone, at column 0 or above deeper-indented lines (a dump
 * pasted with indentation). */
static bool
is_dump_header(const struct lines *ls, unsigned int i)
{
	const struct lline *l = &ls->l[i];

	return l->n == 4 && strcmp(l->tok[0].s, "src") == 0 &&
	       strcmp(l->tok[2].s, "dst") == 0 &&
	       (l->indent == 0 ||
		(i + 1 < ls->n && ls->l[i + 1].indent > l->indent));
}

/* A dump block's body: the lines after its header, indented deeper. */
static unsigned int
dump_block_len(const struct lines *ls, unsigned int i)
{
	unsigned int j = i + 1;

	while (j < ls->n && ls->l[j].indent > ls->l[i].indent &&
	       strcmp(ls->l[j].tok[0].s, "ip") != 0 &&
	       strcmp(ls->l[j].tok[0].s, "src") != 0)
		j++;
	return j - i;
}

static bool
same_sa_id(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b)
{
	return a->spi == b->spi && a->proto == b->proto &&
	       a->dst.family == b->dst.family &&
	       memcmp(a->dst.bytes, b->dst.bytes, sizeof(a->dst.bytes)) == 0;
}

struct sa_vec {
	struct rxsec_sa_config *sa;
	unsigned int n, cap;
};

/*
 * SAs by identity, for the duplicate check: an open-addressed table of
 * indexes (+1; 0 is free) into the earlier files' list, then this text's
 * vector. A linear scan made 200000 SAs take minutes to load.
 */
struct sa_ids {
	const struct rxsec_sa_list *list;
	const struct sa_vec *v;
	uint32_t *slot;
	uint32_t mask;
};

static const struct rxsec_sa_config *
ids_sa(const struct sa_ids *ids, uint32_t i)
{
	uint32_t nl = ids->list != NULL ? ids->list->n : 0;

	return i < nl ? &ids->list->sa[i] : &ids->v->sa[i - nl];
}

static uint32_t
sa_id_hash(const struct rxsec_sa_config *c)
{
	uint64_t h = (uint64_t)c->spi << 16 ^ (uint64_t)c->proto << 8 ^ c->dst.family;

	for (unsigned int i = 0; i < sizeof(c->dst.bytes); i++)
		h = (h ^ c->dst.bytes[i]) * 0x100000001b3ull;	/* FNV-1a step */
	return (uint32_t)(h ^ h >> 32);
}

/* The index of the SA with c's identity, or -1; *at: where c would go. */
static int64_t
ids_find(const struct sa_ids *ids, const struct rxsec_sa_config *c, uint32_t *at)
{
	uint32_t k = sa_id_hash(c) & ids->mask;

	for (; ids->slot[k] != 0; k = (k + 1) & ids->mask)
		if (same_sa_id(ids_sa(ids, ids->slot[k] - 1), c))
			return ids->slot[k] - 1;
	*at = k;
	return -1;
}

/* Room for the earlier SAs and up to `more` new ones, at most half full. */
static int
ids_init(struct sa_ids *ids, const struct rxsec_sa_list *list, const struct sa_vec *v,
	 unsigned int more)
{
	uint64_t n = (list != NULL ? list->n : 0) + (uint64_t)more, size = 16;
	uint32_t at;

	while (size < 2 * n)
		size *= 2;
	if (size > (1ull << 31))
		return -1;
	ids->list = list;
	ids->v = v;
	ids->mask = (uint32_t)size - 1;
	ids->slot = calloc(size, sizeof(*ids->slot));
	if (ids->slot == NULL)
		return -1;
	/* an earlier file's duplicates were refused when it was parsed */
	for (uint32_t i = 0; list != NULL && i < list->n; i++)
		if (ids_find(ids, &list->sa[i], &at) < 0)
			ids->slot[at] = i + 1;
	return 0;
}

static int
check_dup(struct pctx *p, struct sa_ids *ids, const struct sa_build *b)
{
	const struct rxsec_sa_config *c = &b->c;
	uint32_t nl = ids->list != NULL ? ids->list->n : 0, at;
	int64_t i = ids_find(ids, c, &at);
	char a[64];

	if (i < 0) {
		ids->slot[at] = nl + ids->v->n + 1;	/* the index vec_push gives it */
		return 0;
	}
	return sap_tok_err(p, b->t_spi, "duplicate SA (spi 0x%08x dst %s %s), "
			   "first at %s", c->spi, rxsec_addr_str(&c->dst, a, sizeof(a)),
			   c->proto == RXSEC_PROTO_AH ? "ah" : "esp",
			   ids_sa(ids, (uint32_t)i)->origin);
}

static int
vec_push(struct sa_vec *v, const struct rxsec_sa_config *c)
{
	if (v->n == v->cap) {
		unsigned int ncap = v->cap ? v->cap * 2 : 16;
		struct rxsec_sa_config *ns = realloc(v->sa, ncap * sizeof(*ns));

		if (ns == NULL)
			return -1;
		v->sa = ns;
		v->cap = ncap;
	}
	v->sa[v->n++] = *c;
	return 0;
}

static int
parse_records(struct pctx *p, const struct lines *ls,
	      const struct rxsec_sa_list *list, struct sa_vec *v)
{
	struct sa_build *b = malloc(sizeof(*b));
	struct sa_ids ids;
	unsigned int i = 0, n;
	int rc = 0;

	/* no more SAs than lines */
	if (b == NULL || ids_init(&ids, list, v, ls->n) != 0) {
		free(b);
		return sap_perr(p, 0, "", "out of memory");
	}
	while (i < ls->n && rc == 0) {
		if (is_dump_header(ls, i)) {
			n = dump_block_len(ls, i);
			rc = sap_parse_dump(p, &ls->l[i], n, b);
		} else {
			n = 1;
			rc = sap_parse_add(p, &ls->l[i], b);
		}
		if (rc == 0)
			rc = check_dup(p, &ids, b);
		if (rc == 0 && vec_push(v, &b->c) < 0)
			rc = sap_perr(p, ls->l[i].line, "", "out of memory");
		i += n;
	}
	free(ids.slot);
	free(b);
	return rc;
}

static int
list_append(struct rxsec_sa_list *list, const struct sa_vec *v)
{
	if (v->n == 0)
		return 0;
	if (list->n + v->n > list->cap) {
		unsigned int ncap = list->cap ? list->cap : 16;
		struct rxsec_sa_config *ns;

		while (ncap < list->n + v->n)
			ncap *= 2;
		ns = realloc(list->sa, ncap * sizeof(*ns));
		if (ns == NULL)
			return -1;
		list->sa = ns;
		list->cap = ncap;
	}
	memcpy(&list->sa[list->n], v->sa, v->n * sizeof(*v->sa));
	list->n += v->n;
	return 0;
}

int
rxsec_sa_parse_string(const char *text, const char *name,
		      struct rxsec_sa_list *list,
		      struct rxsec_sa_parse_error *err)
{
	struct pctx p = { name ? name : "<string>", err, 0 };
	struct lines ls = { NULL, 0, 0 };
	struct sa_vec v = { NULL, 0, 0 };
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (text == NULL || list == NULL)
		return sap_perr(&p, 0, "", "no input");
	rc = sap_split_lines(&p, text, &ls);
	if (rc == 0)
		rc = parse_records(&p, &ls, list, &v);
	if (rc == 0 && list_append(list, &v) < 0)
		rc = sap_perr(&p, 0, "", "out of memory");
	sap_lines_free(&ls);
	free(v.sa);
	return rc;
}

/* Far above what --max-sa SAs take in either syntax: a longer file is
 * something else (a device, a pipe that never ends). */
#define SA_FILE_MAX	(1ull << 30)

/* Lines up to where, for an error's position. */
static unsigned int
sap_line_at(const char *text, const char *where)
{
	unsigned int line = 1;

	for (; text < where; text++)
		line += *text == '\n';
	return line;
}

/* Read all of f into *text (NUL-terminated). A NUL byte stops the read at
 * once, so /dev/zero fails on its first block; returns 0 or an error. */
static int
sap_read_all(struct pctx *p, FILE *f, char **text)
{
	size_t cap = 0, n = 0, r;

	*text = NULL;
	do {
		const char *nul;

		if (cap - n < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nt;

			if (ncap > SA_FILE_MAX)
				return sap_perr(p, 0, "", "larger than %llu MiB: not an SA file",
						SA_FILE_MAX >> 20);
			nt = realloc(*text, ncap);
			if (nt == NULL)
				return sap_perr(p, 0, "", "out of memory");
			*text = nt;
			cap = ncap;
		}
		r = fread(*text + n, 1, cap - n - 1, f);
		nul = memchr(*text + n, '\0', r);
		if (nul != NULL)
			return sap_perr(p, sap_line_at(*text, nul), "",
					"NUL byte: not a text file");
		n += r;
	} while (r != 0);
	if (ferror(f))
		return sap_perr(p, 0, "", "read error: %s", strerror(errno));
	(*text)[n] = '\0';
	return 0;
}

int
rxsec_sa_parse_file(const char *path, struct rxsec_sa_list *list,
		    struct rxsec_sa_parse_error *err)
{
	struct pctx p = { path, err, 0 };
	char *text;
	FILE *f;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	f = fopen(path, "r");
	if (f == NULL)
		return sap_perr(&p, 0, "", "cannot open: %s", strerror(errno));
	rc = sap_read_all(&p, f, &text);
	fclose(f);
	if (rc == 0)
		rc = rxsec_sa_parse_string(text, path, list, err);
	free(text);
	return rc;
}

void
rxsec_sa_parse_error_format(const struct rxsec_sa_parse_error *err,
			    char *buf, unsigned int len)
{
	if (buf == NULL || len == 0)
		return;
	if (err->line == 0)
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else if (err->token[0] == '\0')
		snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, len, "%s:%u: near '%s': %s", err->file, err->line,
			 err->token, err->msg);
}

void
rxsec_sa_list_free(struct rxsec_sa_list *list)
{
	if (list == NULL)
		return;
	free(list->sa);
	list->sa = NULL;
	list->n = 0;
	list->cap = 0;
}
