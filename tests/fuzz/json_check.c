/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

#define DEPTH_MAX	32

struct parser {
	const unsigned char *s;
	size_t len, pos;
	const char *why;
	unsigned int depth;
};

static int value(struct parser *p, struct json_top *top, const char *name);

static int
fail(struct parser *p, const char *why)
{
	if (p->why == NULL)
		p->why = why;
	return -1;
}

static int
peek(const struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static void
skip_ws(struct parser *p)
{
	int c;

	while ((c = peek(p)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		p->pos++;
}

static int
expect(struct parser *p, int c, const char *why)
{
	skip_ws(p);
	if (peek(p) != c)
		return fail(p, why);
	p->pos++;
	return 0;
}

/* One UTF-8 sequence (RFC 3629) at p->pos, no overlong forms or surrogates. */
static int
utf8_seq(struct parser *p)
{
	const unsigned char *u = p->s + p->pos;
	size_t left = p->len - p->pos;
	unsigned int n, cp;

	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return fail(p, "byte that starts no UTF-8 sequence");
	if (left < n)
		return fail(p, "UTF-8 sequence cut short");
	cp = u[0] & (0x7fu >> n);
	for (unsigned int i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return fail(p, "bad UTF-8 continuation byte");
		cp = cp << 6 | (u[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return fail(p, "overlong UTF-8, a surrogate or beyond U+10FFFF");
	p->pos += n;
	return 0;
}

static int
escape(struct parser *p)
{
	int c;

	p->pos++;	/* the backslash */
	c = peek(p);
	if (c > 0 && strchr("\"\\/bfnrt", c) != NULL) {
		p->pos++;
		return 0;
	}
	if (c != 'u')
		return fail(p, "bad escape in a string");
	p->pos++;
	for (int i = 0; i < 4; i++, p->pos++)
		if (p->pos >= p->len || !isxdigit(p->s[p->pos]))
			return fail(p, "\\u needs four hex digits");
	return 0;
}

/* A string; its raw bytes into out (if given) when they fit and need no
 * unescaping, which is all a member name of the model needs. */
static int
string(struct parser *p, char *out, size_t outlen)
{
	size_t start;

	if (expect(p, '"', "expected a string") != 0)
		return -1;
	start = p->pos;
	for (;;) {
		int c = peek(p);

		if (c < 0)
			return fail(p, "string not closed");
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			if (escape(p) != 0)
				return -1;
		} else if (c >= 0x80) {
			if (utf8_seq(p) != 0)
				return -1;
		} else {
			p->pos++;
		}
	}
	if (out != NULL) {
		size_t n = p->pos - start;

		out[0] = '\0';
		if (n < outlen && memchr(p->s + start, '\\', n) == NULL) {
			memcpy(out, p->s + start, n);
			out[n] = '\0';
		}
	}
	p->pos++;	/* the closing quote */
	return 0;
}

static size_t
digits(struct parser *p)
{
	size_t n = 0;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		p->pos++;
		n++;
	}
	return n;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; *is_int if only the first part. */
static int
number(struct parser *p, int64_t *v, bool *is_int)
{
	size_t start = p->pos;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0')
		p->pos++;
	else if (digits(p) == 0)
		return fail(p, "expected a value");
	*is_int = true;
	if (peek(p) == '.') {
		p->pos++;
		if (digits(p) == 0)
			return fail(p, "no digit after a decimal point");
		*is_int = false;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (digits(p) == 0)
			return fail(p, "no digit in an exponent");
		*is_int = false;
	}
	if (*is_int) {
		char buf[24];
		size_t n = p->pos - start;

		if (n >= sizeof(buf))
			return fail(p, "integer longer than the model reads");
		memcpy(buf, p->s + start, n);
		buf[n] = '\0';
		*v = strtoll(buf, NULL, 10);
	}
	return 0;
}

static int
literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "expected a value");
	p->pos += n;
	return 0;
}

static void
top_add(struct json_top *top, const char *name, bool is_bool, int64_t v)
{
	if (top == NULL || name == NULL || name[0] == '\0' || top->n == JSON_TOP_MAX)
		return;
	snprintf(top->member[top->n].name, sizeof(top->member[0].name), "%s", name);
	top->member[top->n].is_bool = is_bool;
	top->member[top->n].value = v;
	top->n++;
}

/* "name": value; an "error" at the top is noted. */
static int
member(struct parser *p, struct json_top *top)
{
	char name[24];

	skip_ws(p);
	if (string(p, name, sizeof(name)) != 0 || expect(p, ':', "expected ':'") != 0)
		return -1;
	if (top != NULL && strcmp(name, "error") == 0)
		top->has_error = true;
	return value(p, top, name);
}

/* An object (its members are the top's if top is set) or an array, from
 * its opening bracket: elements split by commas up to the closing one. */
static int
container(struct parser *p, bool is_object, struct json_top *top)
{
	int close = is_object ? '}' : ']';

	if (++p->depth > DEPTH_MAX)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	/* empty, or elements split by commas (none after the last) */
	while (peek(p) != close) {
		if ((is_object ? member(p, top) : value(p, NULL, NULL)) != 0)
			return -1;
		skip_ws(p);
		if (peek(p) == close)
			break;
		if (expect(p, ',', is_object ? "expected ',' or '}' in an object" :
			   "expected ',' or ']' in an array") != 0)
			return -1;
		skip_ws(p);
		if (peek(p) == close)
			return fail(p, "a comma before a closing bracket");
	}
	p->pos++;
	p->depth--;
	return 0;
}

/* A value; top and name are set for the top object's members only. */
static int
value(struct parser *p, struct json_top *top, const char *name)
{
	int64_t v = 0;
	bool is_int;

	skip_ws(p);
	switch (peek(p)) {
	case '{':
		return container(p, true, NULL);
	case '[':
		return container(p, false, NULL);
	case '"':
		return string(p, NULL, 0);
	case 't':
		if (literal(p, "true") != 0)
			return -1;
		top_add(top, name, true, 1);
		return 0;
	case 'f':
		if (literal(p, "false") != 0)
			return -1;
		top_add(top, name, true, 0);
		return 0;
	case 'n':
		return literal(p, "null");
	}
	if (number(p, &v, &is_int) != 0)
		return -1;
	if (is_int)
		top_add(top, name, false, v);
	return 0;
}

int
json_check_reply(const char *s, size_t len, struct json_top *top,
		 size_t *err_off, const char **why)
{
	struct parser p = { .s = (const unsigned char *)s, .len = len };

	memset(top, 0, sizeof(*top));
	if (len < 2 || s[0] != '{' || s[len - 1] != '\n')
		fail(&p, "not one object ended by a newline");
	else if (container(&p, true, top) == 0 && p.pos != len - 1)
		fail(&p, "more after the object");
	*err_off = p.pos;
	*why = p.why;
	return p.why == NULL ? 0 : -1;
}

bool
json_top_get(const struct json_top *top, const char *name, int64_t *v)
{
	for (unsigned int i = 0; i < top->n; i++)
		if (strcmp(top->member[i].name, name) == 0) {
			*v = top->member[i].value;
			return true;
		}
	return false;
}
