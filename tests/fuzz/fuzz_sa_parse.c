/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target: an SA file (lib/sa_parse*.c, sa_lex.c, sa_values.c), then
 * what rxsec does with the SAs it accepts: each goes into an SA table
 * (sa_build.c, the crypto driver's key set-up) and out again. Invariants:
 * a refused file names a line and says why, nothing is appended, and every
 * accepted SA either builds or is refused with a reason.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "fuzz.h"
#include "rxsec_crypto.h"
#include "sa_parse.h"
#include "sa_table.h"

#define TABLE_SAS	64

static struct rxsec_sa_table sat;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rxsec_fuzz_eal_init(NULL);
	if (rxsec_sa_table_create(&sat, "fuzz_sa", TABLE_SAS, (int)rte_socket_id(),
				  &rxsec_crypto_ipsec_mb) != 0)
		abort();
	return 0;
}

/* Every accepted SA through the table, then the table emptied. */
static void
build_all(const struct rxsec_sa_list *list)
{
	int ids[TABLE_SAS];
	unsigned int n = 0;
	char why[256];

	for (unsigned int i = 0; i < list->n && n < TABLE_SAS; i++) {
		int id = rxsec_sa_table_add(&sat, &list->sa[i], why, sizeof(why));

		FUZZ_ASSERT(id >= 0 || why[0] != '\0', "SA %u refused without a reason", i);
		if (id >= 0)
			ids[n++] = id;
	}
	FUZZ_ASSERT(sat.count == n, "table holds %u SAs, %u added", sat.count, n);
	for (unsigned int i = 0; i < n; i++) {
		struct rxsec_sa *sa = rxsec_sa_table_remove(&sat, (uint32_t)ids[i]);

		FUZZ_ASSERT(sa != NULL, "SA id %d not in the table", ids[i]);
	}
	/* no reader registered: every removed SA is free at once */
	rxsec_sa_table_reclaim(&sat);
	FUZZ_ASSERT(sat.count == 0 && sat.nb_pending == 0, "%u SAs left, %u pending",
		    sat.count, sat.nb_pending);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rxsec_sa_list list = {0};
	struct rxsec_sa_parse_error err;
	char *text = malloc(size + 1);
	char msg[512];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';	/* the parser reads C strings: a NUL ends the file */
	memset(&err, 0, sizeof(err));
	if (rxsec_sa_parse_string(text, "fuzz", &list, &err) != 0) {
		FUZZ_ASSERT(list.n == 0, "refused, yet %u SAs appended", list.n);
		FUZZ_ASSERT(err.line >= 1 && err.msg[0] != '\0', "refused at line %u: '%s'",
			    err.line, err.msg);
		rxsec_sa_parse_error_format(&err, msg, sizeof(msg));
	} else {
		build_all(&list);
	}
	rxsec_sa_list_free(&list);
	free(text);
	return 0;
}
