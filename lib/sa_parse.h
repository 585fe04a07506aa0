/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA files in `ip xfrm state` syntax (spec section 5): `ip xfrm state add`
 * lines (prefix optional, backslash continuation, # comments), the dump that
 * `ip xfrm state` prints and the decorated `ip -s xfrm state` form.
 */
#ifndef RXSEC_SA_PARSE_H
#define RXSEC_SA_PARSE_H

#include "sa_config.h"

struct rxsec_sa_parse_error {
	char file[256];
	unsigned int line;	/* 1-based line of the offending token */
	char token[64];		/* the offending token ("" at end of input) */
	char msg[192];		/* what is wrong, e.g. "unknown algorithm" */
};

/* A zero-initialised list is empty; free it with rxsec_sa_list_free(). */
struct rxsec_sa_list {
	struct rxsec_sa_config *sa;
	unsigned int n, cap;
};

/*
 * Parse a whole file or string and append its SAs to list. The format (add
 * lines or dump) is detected per SA. On error nothing is appended, err is
 * filled and -1 returned; 0 on success. Every SA is validated (key lengths
 * match the algorithm, ICV length allowed, ESP has an algorithm, AH has auth
 * only, esn needs a window, window <= 4096 ...). A (spi, dst, proto) already
 * in list, or twice in the input, is an error too.
 *
 * Accepted, beyond the add lines and dumps Linux prints:
 *  - `ip xfrm state update`, kernel alias names (aes, des, des3_ede,
 *    cipher_null, md5, sha1, sha256, sha384, sha512), text keys as iproute2
 *    takes them (a word not starting with 0x is the key's bytes);
 *  - `replay-seq N` / `replay-seq-hi N` (add) and the dump's anti-replay
 *    contexts fill seq / seq_hi; `seq`, `replay-oseq*` are accepted, ignored;
 *  - `sel ... dev D`, `uid N` are accepted and ignored; ICMP `type`/`code`
 *    land in sel_sport/sel_dport as the kernel stores them.
 * Rejected with a message: modes other than transport/tunnel, encap other
 * than espinudp, comp/coa/ctx/mark/if_id/offload/output-mark/tfcpad.
 * HMAC keys must be the RFC length (md5 16, sha1 20, sha256 32, sha384 48,
 * sha512 64, xcbc 16 bytes). A zero time limit means none (RXSEC_LIMIT_INF),
 * as in Linux; packet/byte limits are taken as written.
 */
int rxsec_sa_parse_file(const char *path, struct rxsec_sa_list *list,
			struct rxsec_sa_parse_error *err);
int rxsec_sa_parse_string(const char *text, const char *name,
			  struct rxsec_sa_list *list,
			  struct rxsec_sa_parse_error *err);

/* "FILE:LINE: near 'TOKEN': MSG" */
void rxsec_sa_parse_error_format(const struct rxsec_sa_parse_error *err,
				 char *buf, unsigned int len);

void rxsec_sa_list_free(struct rxsec_sa_list *list);

#endif /* RXSEC_SA_PARSE_H */
