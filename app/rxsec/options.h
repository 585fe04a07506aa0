/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec's own command line (after EAL's `--`), spec section 6.
 */
#ifndef RXSEC_OPTIONS_H
#define RXSEC_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define RXSEC_SA_FILES_MAX	64

enum rxsec_offload_version {
	RXSEC_OFFLOAD_V1 = 1,
	RXSEC_OFFLOAD_V2 = 2,
};

/* --sa-placement: which transport stage owns an SA's window. */
enum rxsec_sa_placement {
	RXSEC_PLACE_AUTO = 0,	/* receiver when each engine has a local stage */
	RXSEC_PLACE_SLOT,	/* by slot, fixed when the SA is added */
	RXSEC_PLACE_RECEIVER,	/* the lcore's stage of the engine that first receives it */
};

struct rxsec_options {
	const char *sa_files[RXSEC_SA_FILES_MAX];
	unsigned int nb_sa_files;
	enum rxsec_offload_version offload;
	bool offload_off;		/* --no-offload: indicate everything unprocessed */
	bool no_ipv4_options;		/* capabilities narrowed by the user */
	bool no_ipv6_ext;
	bool no_udp_esp;
	uint32_t alg_mask;		/* --offload-algs: bit per cipher|auth name; 0 = all */
	const char *offload_algs;
	const char *verdicts;
	uint64_t idle_exit_ms;		/* 0 = run until a signal */
	uint32_t stats_period_s;	/* 0 = only at exit */
	unsigned int workers;		/* 0 = choose from the lcores */
	unsigned int transports;	/* 0 = choose */
	enum rxsec_sa_placement sa_placement;
	int64_t replay_window;		/* -1 = from each SA */
	uint32_t max_sa;
	const char *control;		/* control socket path, or NULL */
	bool no_thp;			/* --no-thp: EAL memory even without hugepages */
	bool stage_cycles;		/* --stage-cycles: count cycles by stage */
	int wire_port;			/* DPDK port id, -1 = the first */
	int out_port;			/* -1 = the first other port, else the wire */
	uint16_t mtu;			/* 0 = the ports' default */
	uint32_t frag_flows;		/* datagrams in reassembly at once; 0 = off */
	uint32_t frag_timeout_ms;
};

/* Parse argv (rxsec's part only). 0 = run, 1 = --help printed, -1 = error printed. */
int rxsec_options_parse(int argc, char **argv, struct rxsec_options *o);

void rxsec_options_usage(const char *prog);

#endif /* RXSEC_OPTIONS_H */
