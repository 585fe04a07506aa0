/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA file parser: the text split into logical lines (backslash continuation,
 * comments, quoting) and their tokens; errors that name a file, line and token.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sa_parse_priv.h"

int
sap_perr(struct pctx *p, unsigned int line, const char *token, const char *fmt,
	 ...)
{
	struct rxsec_sa_parse_error *e = p->err;
	va_list ap;
	size_t tl;

	if (e == NULL)
		return -1;
	snprintf(e->file, sizeof(e->file), "%s", p->file);
	e->line = line;
	if (token == NULL)
		token = "";
	tl = strlen(token);
	if (tl < sizeof(e->token))
		memcpy(e->token, token, tl + 1);
	else
		snprintf(e->token, sizeof(e->token), "%.*s...",
			 (int)sizeof(e->token) - 4, token);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
sap_tok_err(struct pctx *p, const struct tok *t, const char *fmt, ...)
{
	char msg[sizeof(((struct rxsec_sa_parse_error *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sap_perr(p, t->line, t->s, "%s", msg);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Error whose token is the text [s, e) of a raw line. */
static int
perr_span(struct pctx *p, unsigned int line, const char *s, const char *e,
	  const char *msg)
{
	char tok[sizeof(((struct rxsec_sa_parse_error *)0)->token) + 8];
	size_t n = (size_t)(e - s);

	if (n >= sizeof(tok))
		n = sizeof(tok) - 1;
	memcpy(tok, s, n);
	tok[n] = '\0';
	while (n > 0 && is_blank(tok[n - 1]))
		tok[--n] = '\0';
	return sap_perr(p, line, tok, "%s", msg);
}

/* Growable builder for one logical line. */
struct lbuild {
	char *buf;
	size_t len, cap;
	size_t *off;
	unsigned int *line;
	unsigned int n, ncap;
	unsigned int first_line, indent;
	bool active;
};

static int
lb_putc(struct lbuild *b, char c)
{
	if (b->len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		char *nb = realloc(b->buf, ncap);

		if (nb == NULL)
			return -1;
		b->buf = nb;
		b->cap = ncap;
	}
	b->buf[b->len++] = c;
	return 0;
}

static int
lb_start_tok(struct lbuild *b, unsigned int line)
{
	if (b->n == b->ncap) {
		unsigned int ncap = b->ncap ? b->ncap * 2 : 32;
		size_t *no = realloc(b->off, ncap * sizeof(*no));
		unsigned int *nl;

		if (no == NULL)
			return -1;
		b->off = no;
		nl = realloc(b->line, ncap * sizeof(*nl));
		if (nl == NULL)
			return -1;
		b->line = nl;
		b->ncap = ncap;
	}
	b->off[b->n] = b->len;
	b->line[b->n] = line;
	b->n++;
	return 0;
}

void
sap_lines_free(struct lines *ls)
{
	unsigned int i;

	for (i = 0; i < ls->n; i++) {
		free(ls->l[i].tok);
		free(ls->l[i].buf);
	}
	free(ls->l);
	memset(ls, 0, sizeof(*ls));
}

/* Move the builder's tokens into a new logical line (blank ones dropped). */
static int
lb_finish(struct lbuild *b, struct lines *ls)
{
	struct lline *l;
	unsigned int i;

	b->active = false;
	if (b->n == 0) {
		b->len = 0;
		return 0;
	}
	if (ls->n == ls->cap) {
		unsigned int ncap = ls->cap ? ls->cap * 2 : 64;
		struct lline *nl = realloc(ls->l, ncap * sizeof(*nl));

		if (nl == NULL)
			return -1;
		ls->l = nl;
		ls->cap = ncap;
	}
	l = &ls->l[ls->n];
	memset(l, 0, sizeof(*l));
	l->buf = malloc(b->len ? b->len : 1);
	l->tok = malloc(b->n * sizeof(*l->tok));
	if (l->buf == NULL || l->tok == NULL) {
		free(l->buf);
		free(l->tok);
		return -1;
	}
	if (b->len != 0)	/* an empty file has no buffer */
		memcpy(l->buf, b->buf, b->len);
	for (i = 0; i < b->n; i++) {
		l->tok[i].s = l->buf + b->off[i];
		l->tok[i].line = b->line[i];
	}
	l->n = b->n;
	l->line = b->first_line;
	l->indent = b->indent;
	ls->n++;
	b->n = 0;
	b->len = 0;
	return 0;
}

/*
 * Split one physical line [s, e) into words, shell-like: quotes group (and
 * may make an empty word), `#` at the start of a word comments out the rest,
 * a final backslash continues the logical line. Returns 1 if continued.
 */
static int
lex_line(struct pctx *p, struct lbuild *b, const char *s, const char *e,
	 unsigned int lineno)
{
	const char *q = s;
	const char *last = e;

	while (last > s && is_blank(last[-1]))
		last--;
	if (!b->active) {
		b->active = true;
		b->first_line = lineno;
		b->indent = 0;
		while (q < e && is_blank(*q)) {
			b->indent++;
			q++;
		}
	}
	while (q < e) {
		bool in_tok = false;

		while (q < e && is_blank(*q))
			q++;
		if (q >= e || *q == '#')
			return 0;
		if (*q == '\\' && q + 1 == last)
			return 1;
		while (q < e && !is_blank(*q)) {
			if (*q == '"' || *q == '\'') {
				const char *close = memchr(q + 1, *q, e - q - 1);

				if (close == NULL)
					return perr_span(p, lineno, q, e,
							 "unterminated quote");
				if (!in_tok && lb_start_tok(b, lineno) < 0)
					return sap_perr(p, lineno, "", "out of memory");
				in_tok = true;
				for (q++; q < close; q++)
					if (lb_putc(b, *q) < 0)
						return sap_perr(p, lineno, "",
								"out of memory");
				q = close + 1;
				continue;
			}
			if (*q == '\\' && q + 1 == last)
				break;
			if (!in_tok && lb_start_tok(b, lineno) < 0)
				return sap_perr(p, lineno, "", "out of memory");
			in_tok = true;
			if (lb_putc(b, *q++) < 0)
				return sap_perr(p, lineno, "", "out of memory");
		}
		if (in_tok && lb_putc(b, '\0') < 0)
			return sap_perr(p, lineno, "", "out of memory");
		if (q < e && *q == '\\' && q + 1 == last)
			return 1;
	}
	return 0;
}

int
sap_split_lines(struct pctx *p, const char *text, struct lines *ls)
{
	struct lbuild b;
	const char *s = text;
	unsigned int lineno = 0;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	while (*s != '\0') {
		const char *e = strchr(s, '\n');
		int cont;

		if (e == NULL)
			e = s + strlen(s);
		lineno++;
		cont = lex_line(p, &b, s, e, lineno);
		if (cont < 0) {
			rc = -1;
			break;
		}
		if (!cont && lb_finish(&b, ls) < 0) {
			rc = sap_perr(p, lineno, "", "out of memory");
			break;
		}
		s = *e ? e + 1 : e;
	}
	if (rc == 0 && b.active && lb_finish(&b, ls) < 0)
		rc = sap_perr(p, lineno, "", "out of memory");
	p->last_line = lineno ? lineno : 1;
	free(b.buf);
	free(b.off);
	free(b.line);
	return rc;
}
