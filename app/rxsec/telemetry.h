/* SPDX-License-Identifier: BSD-3-Clause
 *
 * DPDK telemetry endpoints (read with dpdk-telemetry.py, socket
 * /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2):
 *   /rxsec/stats              totals: engine, transport, every drop reason, SA table
 *   /rxsec/sa/list            live SAs as "0xSPI proto dst"
 *   /rxsec/sa/stats,SPI[,DST][,esp|ah]
 *                             one SA's counters (SPI hex or decimal; without
 *                             a protocol, ESP before AH)
 * The callbacks run on EAL's telemetry thread; they take the SA table
 * writers' lock so no SA is reclaimed while they read it.
 */
#ifndef RXSEC_TELEMETRY_H
#define RXSEC_TELEMETRY_H

#include "control.h"

int rxsec_telemetry_register(struct rxsec_control_ctx *ctx);
/* Before the stages are freed: the endpoints answer -ENODEV from then on
 * (DPDK 22.11 cannot remove them); waits for a call in progress. */
void rxsec_telemetry_unregister(void);

#endif /* RXSEC_TELEMETRY_H */
