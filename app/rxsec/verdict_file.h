/* SPDX-License-Identifier: BSD-3-Clause
 *
 * --verdicts FILE: one JSON line per received packet, in receive order. Each
 * transport stage writes its own stream; with several, the streams are
 * merged by packet number when rxsec stops.
 */
#ifndef RXSEC_VERDICT_FILE_H
#define RXSEC_VERDICT_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

struct rxsec_verdict_files {
	const char *path;
	unsigned int nb;
	FILE *f[RXSEC_TRANSPORT_MAX];
	FILE *out;		/* several transports: the file the parts merge into */
};

/* path NULL: no verdicts. -1 with one message if a file cannot be created;
 * nothing is left open or created but path itself. */
int rxsec_verdict_files_open(struct rxsec_verdict_files *v, const char *path, unsigned int nb);

/* The stream of transport stage i, or NULL. */
FILE *rxsec_verdict_files_get(struct rxsec_verdict_files *v, unsigned int i);

/* Has a write to any stream failed (a reader that went away, a full disk)? */
bool rxsec_verdict_files_failed(struct rxsec_verdict_files *v);

/* Flush, merge and close; -1 with a message on an I/O error (a failed
 * merge keeps the parts). */
int rxsec_verdict_files_close(struct rxsec_verdict_files *v);

#endif /* RXSEC_VERDICT_FILE_H */
