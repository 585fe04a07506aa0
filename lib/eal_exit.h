/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shutting EAL down without leaving its runtime directory behind.
 */
#ifndef RXSEC_EAL_EXIT_H
#define RXSEC_EAL_EXIT_H

/*
 * rte_eal_cleanup(), then, in a primary process, remove the runtime
 * directory (/var/run/dpdk/PREFIX: ~6 MB of fbarray files without
 * hugepages) that EAL leaves behind; a test suite starting DPDK programs a
 * few hundred times filled the disk. For programs without secondaries.
 */
void rxsec_eal_exit(void);

#endif /* RXSEC_EAL_EXIT_H */
