/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control plane's view of a running rxsec: the SA table (with its
 * writers' lock) and the stages' counters. The control socket (rxsec-ctl)
 * and the telemetry endpoints both read through it.
 *
 * Control socket protocol: one request per connection, text, ended by the
 * client closing its sending side; one JSON object back, then close.
 *   add\n<ip xfrm state lines>            add SAs (same syntax as --sa files)
 *   del spi N dst ADDR [proto esp|ah] [pair]   delete (pair: and its outbound SA)
 *   update-esn spi N dst ADDR [proto P] hi N   NDIS UPDATE_SA: window top high bits
 *   list                                  every SA, live and deleted
 *   stats [spi N dst ADDR [proto P]]      totals, or one SA's counters
 */
#ifndef RXSEC_CONTROL_H
#define RXSEC_CONTROL_H

#include <stdint.h>
#include <rte_spinlock.h>

#include "engine.h"
#include "sa_table.h"
#include "transport.h"

struct rxsec_control_ctx {
	struct rxsec_sa_table *sat;
	rte_spinlock_t *lock;		/* SA table writers */
	int64_t replay_window;		/* --replay-window, -1 = from the SA */
	struct rxsec_engine *const *eng;
	unsigned int nb_eng;
	struct rxsec_transport *const *tr;
	unsigned int nb_tr;
	uint64_t soft_expired;		/* expire events (lifetime scan) */
	uint64_t hard_expired;
};

/* Sums over all stages. */
void rxsec_control_totals(const struct rxsec_control_ctx *ctx,
			  struct rxsec_engine_stats *es,
			  struct rxsec_transport_stats *ts);

struct rxsec_control;

/* Listen on a unix stream socket at path (replacing a stale one). */
struct rxsec_control *rxsec_control_open(const char *path, struct rxsec_control_ctx *ctx);

/* Serve what is ready, never blocking on a slow client's request. */
void rxsec_control_poll(struct rxsec_control *c);

void rxsec_control_close(struct rxsec_control *c);

/* Reclaim deleted SAs, check lifetimes, serve c (may be NULL). */
void rxsec_control_housekeeping(struct rxsec_control_ctx *ctx, struct rxsec_control *c);

#endif /* RXSEC_CONTROL_H */
