/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec's log type for RTE_LOG(LEVEL, RXSEC, ...): control-path events only
 * (SA deletions, expiries, control requests), never per packet.
 */
#ifndef RXSEC_LOG_H
#define RXSEC_LOG_H

#include <rte_log.h>

#define RTE_LOGTYPE_RXSEC RTE_LOGTYPE_USER1

#endif /* RXSEC_LOG_H */
