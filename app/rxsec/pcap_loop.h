/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RXSEC_PCAP_LOOP_H
#define RXSEC_PCAP_LOOP_H

/* 0 if every net_pcap --vdev with infinite_rx=1 has a packet in each of its
 * rx_pcap files; else -1 with the vdev and file named on stderr. */
int rxsec_pcap_loops_check(void);

#endif /* RXSEC_PCAP_LOOP_H */
