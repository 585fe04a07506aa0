/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA files read again while rxsec runs (SIGHUP): the table brought in line.
 */
#ifndef RXSEC_SA_SYNC_H
#define RXSEC_SA_SYNC_H

#include "sa_parse.h"
#include "sa_table.h"

struct rxsec_sa_sync_counts {
	unsigned int kept;	/* unchanged: window and counters go on */
	unsigned int added;
	unsigned int replaced;	/* settings changed: a new SA, a new window */
	unsigned int deleted;
	unsigned int failed;	/* could not be added (reason logged); a replaced
				 * SA that failed is gone */
};

/*
 * Make the table's SAs that came from files (not over the control socket)
 * those of l, which holds each key once (the parser refuses a second one).
 * The caller holds the table's writer lock and has applied --replay-window
 * to l. Returns -1 (err says why), with nothing changed, when it cannot
 * start.
 */
int rxsec_sa_table_sync(struct rxsec_sa_table *t, const struct rxsec_sa_list *l,
			struct rxsec_sa_sync_counts *n, char *err, size_t errlen);

#endif /* RXSEC_SA_SYNC_H */
