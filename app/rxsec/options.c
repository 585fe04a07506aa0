/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "flatten.h"
#include "options.h"
#include "replay.h"

/* Reassembly: a few hundred datagrams in flight suit a link whose
 * fragments arrive within milliseconds; each may hold 8 mbufs. Linux
 * waits 30 s (ipfrag_time), which lets a flood of lone fragments keep
 * mbufs for long: rxsec waits 2 s unless told otherwise. */
#define RXSEC_FRAG_FLOWS_DEFAULT	256
#define RXSEC_FRAG_FLOWS_MAX		16384
#define RXSEC_FRAG_TIMEOUT_DEFAULT	2000
#define RXSEC_FRAG_TIMEOUT_MAX		60000

/* The longest frame rxsec flattens, less Ethernet and two VLAN headers. */
#define RXSEC_MTU_MAX	(RXSEC_FRAME_MAX - RTE_ETHER_HDR_LEN - 2 * RTE_VLAN_HLEN)

enum {
	OPT_SA = 256,
	OPT_OFFLOAD,
	OPT_NO_OFFLOAD,
	OPT_NO_IPV4_OPTIONS,
	OPT_NO_IPV6_EXT,
	OPT_NO_UDP_ESP,
	OPT_OFFLOAD_ALGS,
	OPT_VERDICTS,
	OPT_IDLE_EXIT,
	OPT_STATS_PERIOD,
	OPT_WORKERS,
	OPT_TRANSPORTS,
	OPT_SA_PLACEMENT,
	OPT_REPLAY_WINDOW,
	OPT_MAX_SA,
	OPT_CONTROL,
	OPT_NO_THP,
	OPT_STAGE_CYCLES,
	OPT_WIRE_PORT,
	OPT_OUT_PORT,
	OPT_MTU,
	OPT_FRAG_FLOWS,
	OPT_FRAG_TIMEOUT,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "sa", required_argument, NULL, OPT_SA },
	{ "offload", required_argument, NULL, OPT_OFFLOAD },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "no-offload-ipv4-options", no_argument, NULL, OPT_NO_IPV4_OPTIONS },
	{ "no-offload-ipv6-ext", no_argument, NULL, OPT_NO_IPV6_EXT },
	{ "no-offload-udp-esp", no_argument, NULL, OPT_NO_UDP_ESP },
	{ "offload-algs", required_argument, NULL, OPT_OFFLOAD_ALGS },
	{ "verdicts", required_argument, NULL, OPT_VERDICTS },
	{ "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "transports", required_argument, NULL, OPT_TRANSPORTS },
	{ "sa-placement", required_argument, NULL, OPT_SA_PLACEMENT },
	{ "replay-window", required_argument, NULL, OPT_REPLAY_WINDOW },
	{ "max-sa", required_argument, NULL, OPT_MAX_SA },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "no-thp", no_argument, NULL, OPT_NO_THP },
	{ "stage-cycles", no_argument, NULL, OPT_STAGE_CYCLES },
	{ "wire-port", required_argument, NULL, OPT_WIRE_PORT },
	{ "out-port", required_argument, NULL, OPT_OUT_PORT },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "frag-flows", required_argument, NULL, OPT_FRAG_FLOWS },
	{ "frag-timeout", required_argument, NULL, OPT_FRAG_TIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void
rxsec_options_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- --sa FILE [--sa FILE ...] [options]\n"
	       "\n"
	       "IPsec receive-path offload dataplane. The first port is the wire;\n"
	       "delivered packets leave on the next one if present, else on the wire.\n"
	       "\n"
	       "  --sa FILE              SAs in `ip xfrm state` syntax (add lines or dump); repeatable\n"
	       "  --offload v1|v2        advertised IPsec offload version (default v2)\n"
	       "  --no-offload           offload off on the port: every packet indicated unprocessed\n"
	       "  --no-offload-ipv4-options, --no-offload-ipv6-ext, --no-offload-udp-esp\n"
	       "                         narrow the capabilities; such packets go to the software path\n"
	       "  --offload-algs LIST    comma-separated algorithms the engine offloads\n"
	       "                         (e.g. rfc4106(gcm(aes)),hmac(sha256)); others: software path\n"
	       "  --verdicts FILE        write one JSON line per received packet\n"
	       "  --idle-exit MS         stop after MS ms without received packets, once drained\n"
	       "  --stats-period S       print counters every S seconds\n"
	       "  --workers N            engine (RX + crypto) stages, one RX queue each\n"
	       "  --transports M         transport stages (replay window, decap, TX)\n"
	       "  --sa-placement auto|slot|receiver\n"
	       "                         the transport stage owning an SA: by slot, or that of\n"
	       "                         the lcore whose engine first receives it (auto: receiver\n"
	       "                         when every engine's lcore runs a stage and there are no\n"
	       "                         more stages than engines, else slot)\n"
	       "  --replay-window N      override every SA's replay window (0..%u, 0 = off)\n"
	       "  --max-sa N             SA table capacity (default 4096)\n"
	       "  --wire-port P          DPDK port id that receives the traffic (default: the first)\n"
	       "  --out-port P           DPDK port id delivered packets leave on (default: the\n"
	       "                         first other port, else the wire port)\n"
	       "  --mtu N                set both ports' MTU (%u..%u); frames longer than 2 KiB\n"
	       "                         are received as chains and flattened (RX scatter)\n"
	       "  --frag-flows N         fragmented ESP/AH datagrams reassembled at once\n"
	       "                         (0..%u, default %u; 0 = drop fragments as `fragment`)\n"
	       "  --frag-timeout MS      give up on an incomplete datagram after MS ms\n"
	       "                         (1..%u, default %u)\n"
	       "  --control PATH         control socket for rxsec-ctl\n"
	       "  --no-thp               without hugepages, keep mbufs and SAs in EAL's 4 KiB pages\n"
	       "                         (default: a heap of transparent huge pages)\n"
	       "  --stage-cycles         at exit, the TSC cycles per packet each stage took\n"
	       "                         (receive, classify, SA lookup, crypto, checks, enqueue,\n"
	       "                         transport, transmit); a few TSC reads per burst\n"
	       "  --help                 this text\n"
	       "\n"
	       "Exit status: 0 ran and stopped; 1 writing --verdicts failed; 2 refused to start\n"
	       "(bad option, SA file, path, port, or too little memory); 3 an mbuf was lost.\n",
	       prog, RXSEC_REPLAY_WINDOW_MAX, RTE_ETHER_MIN_MTU, RXSEC_MTU_MAX,
	       RXSEC_FRAG_FLOWS_MAX, RXSEC_FRAG_FLOWS_DEFAULT, RXSEC_FRAG_TIMEOUT_MAX,
	       RXSEC_FRAG_TIMEOUT_DEFAULT);
}

static int
parse_placement(const char *s, enum rxsec_sa_placement *out)
{
	static const char *const names[] = {
		[RXSEC_PLACE_AUTO] = "auto",
		[RXSEC_PLACE_SLOT] = "slot",
		[RXSEC_PLACE_RECEIVER] = "receiver",
	};

	for (unsigned int i = 0; i < RTE_DIM(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum rxsec_sa_placement)i;
			return 0;
		}
	fprintf(stderr, "rxsec: --sa-placement '%s': want auto, slot or receiver\n", s);
	return -1;
}

static int
parse_range(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "rxsec: --%s: expected a whole number from %" PRIu64 " to %" PRIu64
		", got '%s'\n", opt, min, max, s);
	return -1;
}

static int
parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	return parse_range(opt, s, 0, max, out);
}

static int
parse_offload(const char *s, struct rxsec_options *o)
{
	if (strcmp(s, "v1") == 0)
		o->offload = RXSEC_OFFLOAD_V1;
	else if (strcmp(s, "v2") == 0)
		o->offload = RXSEC_OFFLOAD_V2;
	else {
		fprintf(stderr, "rxsec: --offload: expected v1 or v2, got '%s'\n", s);
		return -1;
	}
	return 0;
}

int
rxsec_options_parse(int argc, char **argv, struct rxsec_options *o)
{
	uint64_t v = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->offload = RXSEC_OFFLOAD_V2;
	o->replay_window = -1;
	o->max_sa = 4096;
	o->wire_port = -1;
	o->out_port = -1;
	o->frag_flows = RXSEC_FRAG_FLOWS_DEFAULT;
	o->frag_timeout_ms = RXSEC_FRAG_TIMEOUT_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_SA:
			if (o->nb_sa_files == RXSEC_SA_FILES_MAX) {
				fprintf(stderr, "rxsec: --sa: at most %d files\n", RXSEC_SA_FILES_MAX);
				return -1;
			}
			o->sa_files[o->nb_sa_files++] = optarg;
			break;
		case OPT_OFFLOAD:
			if (parse_offload(optarg, o) != 0)
				return -1;
			break;
		case OPT_NO_OFFLOAD:
			o->offload_off = true;
			break;
		case OPT_NO_IPV4_OPTIONS:
			o->no_ipv4_options = true;
			break;
		case OPT_NO_IPV6_EXT:
			o->no_ipv6_ext = true;
			break;
		case OPT_NO_UDP_ESP:
			o->no_udp_esp = true;
			break;
		case OPT_OFFLOAD_ALGS:
			o->offload_algs = optarg;
			break;
		case OPT_VERDICTS:
			o->verdicts = optarg;
			break;
		case OPT_IDLE_EXIT:
			if (parse_u64("idle-exit", optarg, 86400000ull, &v) != 0)
				return -1;
			o->idle_exit_ms = v;
			break;
		case OPT_STATS_PERIOD:
			if (parse_u64("stats-period", optarg, 86400, &v) != 0)
				return -1;
			o->stats_period_s = (uint32_t)v;
			break;
		case OPT_WORKERS:
			if (parse_range("workers", optarg, 1, 64, &v) != 0)
				return -1;
			o->workers = (unsigned int)v;
			break;
		case OPT_TRANSPORTS:
			if (parse_range("transports", optarg, 1, 16, &v) != 0)
				return -1;
			o->transports = (unsigned int)v;
			break;
		case OPT_SA_PLACEMENT:
			if (parse_placement(optarg, &o->sa_placement) != 0)
				return -1;
			break;
		case OPT_REPLAY_WINDOW:
			if (parse_u64("replay-window", optarg, RXSEC_REPLAY_WINDOW_MAX, &v) != 0)
				return -1;
			o->replay_window = (int64_t)v;
			break;
		case OPT_MAX_SA:
			if (parse_range("max-sa", optarg, 1, 1u << 20, &v) != 0)
				return -1;
			o->max_sa = (uint32_t)v;
			break;
		case OPT_WIRE_PORT:
			if (parse_u64("wire-port", optarg, RTE_MAX_ETHPORTS - 1, &v) != 0)
				return -1;
			o->wire_port = (int)v;
			break;
		case OPT_OUT_PORT:
			if (parse_u64("out-port", optarg, RTE_MAX_ETHPORTS - 1, &v) != 0)
				return -1;
			o->out_port = (int)v;
			break;
		case OPT_MTU:
			if (parse_range("mtu", optarg, RTE_ETHER_MIN_MTU, RXSEC_MTU_MAX, &v) != 0)
				return -1;
			o->mtu = (uint16_t)v;
			break;
		case OPT_FRAG_FLOWS:
			if (parse_u64("frag-flows", optarg, RXSEC_FRAG_FLOWS_MAX, &v) != 0)
				return -1;
			o->frag_flows = (uint32_t)v;
			break;
		case OPT_FRAG_TIMEOUT:
			if (parse_range("frag-timeout", optarg, 1, RXSEC_FRAG_TIMEOUT_MAX, &v) != 0)
				return -1;
			o->frag_timeout_ms = (uint32_t)v;
			break;
		case OPT_NO_THP:
			o->no_thp = true;
			break;
		case OPT_STAGE_CYCLES:
			o->stage_cycles = true;
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_HELP:
			rxsec_options_usage(argv[0]);
			return 1;
		case ':':
			fprintf(stderr, "rxsec: %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "rxsec: unknown option '-%c' (try --help)\n", optopt);
			else
				fprintf(stderr, "rxsec: unknown or incomplete option '%s' (try --help)\n",
					argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rxsec: unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	/* Without SA files, SAs can only arrive over the control socket. */
	if (o->nb_sa_files == 0 && o->control == NULL) {
		fprintf(stderr, "rxsec: no SA file given: use --sa FILE or --control PATH (try --help)\n");
		return -1;
	}
	return 0;
}
