/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A strict RFC 8259 checker for the control socket's replies, written for
 * the fuzz target rather than borrowed from the code under test: one JSON
 * object, UTF-8, then one newline and nothing else. It also hands back the
 * reply's top-level booleans and integers by name, for the target's model.
 */
#ifndef RXSEC_FUZZ_JSON_CHECK_H
#define RXSEC_FUZZ_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_TOP_MAX	16

struct json_top {
	unsigned int n;
	struct {
		char name[24];
		bool is_bool;
		int64_t value;		/* true = 1 */
	} member[JSON_TOP_MAX];		/* top-level bools and integers */
	bool has_error;			/* an "error" member at the top */
};

/* 0 if s[0..len) is one object and "\n"; else -1 with the offset and why. */
int json_check_reply(const char *s, size_t len, struct json_top *top,
		     size_t *err_off, const char **why);

/* The top-level member called name, as an integer (bools: 0 or 1). */
bool json_top_get(const struct json_top *top, const char *name, int64_t *v);

#endif /* RXSEC_FUZZ_JSON_CHECK_H */
