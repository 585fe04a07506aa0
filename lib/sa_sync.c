/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Bring a running SA table in line with SA files read again (SIGHUP): an
 * SA the files no longer hold is deleted, a new one added, one whose
 * settings changed replaced; one they hold unchanged keeps its window and
 * counters. SAs added over the control socket are not the files' and stay.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "log.h"
#include "sa.h"
#include "sa_sync.h"

/* Everything but the starting sequence state and the origin: a dump read
 * again carries a later window, which is no reason to restart the SA.
 * Both configs start zeroed (rxsec_sa_config_init) and are copied whole,
 * so their padding compares equal too. */
static bool
config_same(const struct rxsec_sa_config *a, const struct rxsec_sa_config *b)
{
	return memcmp(a, b, offsetof(struct rxsec_sa_config, seq)) == 0;
}

static void
sa_drop(struct rxsec_sa_table *t, struct rxsec_sa *sa, const char *why)
{
	RTE_LOG(NOTICE, RXSEC, "SA files: %s SA spi 0x%08x\n", why, sa->spi);
	sa->deleted = 1;
	rxsec_sa_table_remove(t, sa->id);
}

int
rxsec_sa_table_sync(struct rxsec_sa_table *t, const struct rxsec_sa_list *l,
		    struct rxsec_sa_sync_counts *n, char *err, size_t errlen)
{
	bool *keep = calloc(t->capacity, sizeof(*keep));	/* by slot: the files' SAs */
	char why[512];

	if (keep == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(n, 0, sizeof(*n));
	for (unsigned int i = 0; i < l->n; i++) {
		const struct rxsec_sa_config *c = &l->sa[i];
		struct rxsec_sa_key k;
		struct rxsec_sa *sa;
		bool replacing = false;
		int id;

		rxsec_sa_key_from_config(&k, c);
		sa = rxsec_sa_table_find(t, &k);
		if (sa != NULL && !sa->by_control) {
			if (config_same(c, &sa->cfg)) {
				keep[sa->id] = true;
				n->kept++;
				continue;
			}
			sa_drop(t, sa, "replacing");
			replacing = true;
		}
		id = rxsec_sa_table_add(t, c, why, sizeof(why));
		if (id < 0) {
			RTE_LOG(ERR, RXSEC, "SA files: %s\n", why);
			n->failed++;
			continue;
		}
		keep[id] = true;
		if (replacing)
			n->replaced++;
		else
			n->added++;
	}
	/* what the files no longer hold */
	for (uint32_t id = 0; id < t->capacity; id++) {
		struct rxsec_sa *sa = t->slot[id];

		if (sa != NULL && !sa->by_control && !keep[id]) {
			sa_drop(t, sa, "deleting");
			n->deleted++;
		}
	}
	free(keep);
	return 0;
}
