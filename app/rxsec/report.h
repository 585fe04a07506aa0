/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RXSEC_REPORT_H
#define RXSEC_REPORT_H

#include "engine.h"
#include "sa_table.h"
#include "transport.h"

/* Counters per stage, per reason and per SA, on stdout. */
void rxsec_report(struct rxsec_engine *const *eng, unsigned int nb_eng,
		  struct rxsec_transport *const *tr, unsigned int nb_tr,
		  const struct rxsec_sa_table *sat);

#endif /* RXSEC_REPORT_H */
