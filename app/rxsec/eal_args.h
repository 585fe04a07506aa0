/* SPDX-License-Identifier: BSD-3-Clause
 *
 * EAL's part of rxsec's command line, looked at before rte_eal_init().
 */
#ifndef RXSEC_EAL_ARGS_H
#define RXSEC_EAL_ARGS_H

/* 0, or -1 after one "rxsec: ..." line saying what this build cannot do
 * that EAL's options (before "--") ask for. */
int rxsec_eal_args_check(int argc, char **argv);

#endif /* RXSEC_EAL_ARGS_H */
