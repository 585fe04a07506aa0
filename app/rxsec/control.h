/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control plane's view of a running rxsec: the SA table (with its
 * writers' lock) and the stages' counters. The control socket (rxsec-ctl)
 * and the telemetry endpoints both read through it. The socket's protocol
 * is in control_proto.h.
 */
#ifndef RXSEC_CONTROL_H
#define RXSEC_CONTROL_H

#include <stdint.h>
#include <rte_spinlock.h>

#include "control_proto.h"
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

/* Serve what is ready, never waiting on a client: up to 8 at once, each
 * with 5 s to send its request and 5 s to read the reply. */
void rxsec_control_poll(struct rxsec_control *c);

void rxsec_control_close(struct rxsec_control *c);

/* Reclaim deleted SAs, check lifetimes, serve c (may be NULL). */
void rxsec_control_housekeeping(struct rxsec_control_ctx *ctx, struct rxsec_control *c);

#endif /* RXSEC_CONTROL_H */
