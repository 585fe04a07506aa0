/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec: the IPsec receive-offload dataplane daemon. Sets up ports, SAs and
 * stages, places engine and transport stages on lcores, runs until a
 * signal or --idle-exit, then drains, reports and checks every mbuf came back.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "capability.h"
#include "control.h"
#include "eal_args.h"
#include "eal_exit.h"
#include "engine.h"
#include "options.h"
#include "pkt_meta.h"
#include "ports.h"
#include "report.h"
#include "rxsec_crypto.h"
#include "rxsec_result.h"
#include "sa_parse.h"
#include "sa_sync.h"
#include "sa_table.h"
#include "telemetry.h"
#include "thp_heap.h"
#include "transport.h"
#include "verdict_file.h"

#define STAGES_PER_LCORE_MAX	(64 + RXSEC_TRANSPORT_MAX)
#define RING_SIZE		1024

struct lcore_plan {
	struct rxsec_engine *eng[STAGES_PER_LCORE_MAX];
	struct rxsec_transport *tr[STAGES_PER_LCORE_MAX];
	unsigned int nb_eng, nb_tr;
	bool used;
};

static struct {
	struct rxsec_options opt;
	struct rxsec_ports ports;
	struct rxsec_thp_heap thp;
	int socket;			/* hot data: EAL's socket or the THP heap */
	int sa_socket;			/* the same, unless the SA table is too large for it */
	struct rxsec_sa_table sat;
	rte_spinlock_t sat_lock;
	struct rxsec_caps caps;
	const struct rxsec_crypto_driver *drv;
	struct rxsec_engine *eng[64];
	struct rxsec_transport *tr[RXSEC_TRANSPORT_MAX];
	struct rte_ring *rings[RXSEC_TRANSPORT_MAX];	/* the transports', by id */
	unsigned int nb_eng, nb_tr;
	struct lcore_plan plan[RTE_MAX_LCORE];
	struct rxsec_verdict_files vf;
	struct rxsec_control_ctx ctl_ctx;
	struct rxsec_control *ctl;
	uint64_t next_n;
	volatile int rx_stop;		/* engines stop receiving */
	volatile int signalled;
	volatile sig_atomic_t reload;	/* SIGHUP: read the SA files again */
	bool verdicts_failed;		/* stopped: the record is no longer whole */
	unsigned int engines_done;	/* engines that stopped receiving */
} g;

static void
on_signal(int sig)
{
	g.signalled = sig;
	g.rx_stop = 1;
}

static void
on_hangup(int sig)
{
	(void)sig;
	g.reload = 1;
}

/* --frag-flows is the total over the transport stages, each reassembling
 * what the engines hash to it: a stage's table is its share, rounded up,
 * so the mbufs fragments may hold stay what one table of that size holds. */
static uint32_t
frag_flows_per_stage(void)
{
	return rxsec_reassembly_stage_flows(g.opt.frag_flows, g.opt.transports);
}

/*
 * Without hugepages, mbufs, SAs, rings and stages go on a heap of
 * transparent huge pages (see thp_heap.c) sized for all of them; nothing
 * there is touched before it is used, so the size costs address space only.
 */
static void
choose_memory(void)
{
	size_t pool = rxsec_ports_pool_bytes(&g.ports, g.opt.workers, g.opt.transports);
	/* an SA, its hash entry and its slot, generously */
	size_t sas = (size_t)g.opt.max_sa * (sizeof(struct rxsec_sa) + 6 * RTE_CACHE_LINE_SIZE);
	size_t rest = 32u << 20;	/* rings, stages, rte_hash's fixed parts */
	bool sas_fit = pool + sas + rest <= (size_t)RXSEC_THP_HEAP_PAGES_MAX << 21;

	g.socket = (int)rte_socket_id();
	g.sa_socket = g.socket;
	if (g.opt.no_thp || !rxsec_thp_heap_wanted())
		return;
	if (rxsec_thp_heap_create(&g.thp, pool + rest + (sas_fit ? sas : 0)) < 0)
		return;
	g.socket = g.thp.socket;
	if (sas_fit)
		g.sa_socket = g.thp.socket;
	printf("rxsec: no hugepages: mbufs%s on a transparent huge page heap "
	       "(%zu MiB of address space; --no-thp for EAL memory)\n",
	       sas_fit ? " and SAs" : "", g.thp.len >> 20);
}

/* Every --sa file into list, --replay-window applied; a parse error is
 * printed and nothing kept. */
static int
read_sa_files(struct rxsec_sa_list *list)
{
	struct rxsec_sa_parse_error err;
	char msg[512];

	for (unsigned int i = 0; i < g.opt.nb_sa_files; i++) {
		if (rxsec_sa_parse_file(g.opt.sa_files[i], list, &err) != 0) {
			rxsec_sa_parse_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "rxsec: bad SA file: %s\n", msg);
			rxsec_sa_list_free(list);
			return -1;
		}
	}
	for (unsigned int i = 0; i < list->n && g.opt.replay_window >= 0; i++)
		list->sa[i].replay_window = (uint32_t)g.opt.replay_window;
	return 0;
}

static int
load_sas(void)
{
	struct rxsec_sa_list list = {0};
	char msg[512];
	int ret = 0;

	if (read_sa_files(&list) != 0)
		return -1;
	for (unsigned int i = 0; i < list.n && ret == 0; i++) {
		struct rxsec_sa_config *c = &list.sa[i];
		int id;

		id = rxsec_sa_table_add(&g.sat, c, msg, sizeof(msg));
		if (id < 0) {
			fprintf(stderr, "rxsec: bad SA: %s\n", msg);
			ret = -1;
			break;
		}
		g.sat.slot[id]->offload = rxsec_caps_sa_offloadable(&g.caps, c);
	}
	if (ret == 0)
		printf("rxsec: %u SAs loaded from %u file(s)\n", list.n, g.opt.nb_sa_files);
	rxsec_sa_list_free(&list);
	return ret;
}

/* SIGHUP: the SA files read again. A file that does not parse, or holds
 * one SA twice, changes nothing; the SAs keep running as they were. */
static void
reload_sas(void)
{
	struct rxsec_sa_list list = {0};
	struct rxsec_sa_sync_counts n;
	char msg[512];
	int ret;

	g.reload = 0;
	printf("rxsec: SIGHUP: reading the SA files again\n");
	fflush(stdout);		/* before any error on stderr */
	if (read_sa_files(&list) != 0) {
		fprintf(stderr, "rxsec: SIGHUP: SAs unchanged\n");
		return;
	}
	rte_spinlock_lock(&g.sat_lock);
	ret = rxsec_sa_table_sync(&g.sat, &list, &n, msg, sizeof(msg));
	rte_spinlock_unlock(&g.sat_lock);
	rxsec_sa_list_free(&list);
	if (ret != 0)
		fprintf(stderr, "rxsec: SIGHUP: %s: SAs unchanged\n", msg);
	else
		printf("rxsec: SIGHUP: %u SAs kept, %u added, %u replaced, %u deleted, "
		       "%u failed\n", n.kept, n.added, n.replaced, n.deleted, n.failed);
	fflush(stdout);
}

/* A typo in a driver setting must not quietly run another code path. */
static int
check_driver_env(void)
{
	char why[160];

	if (g.drv->check_env(why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "rxsec: %s\n", why);
	return -1;
}

static int
setup_caps(void)
{
	char err[128];

	rxsec_caps_init(&g.caps, g.opt.offload);
	if (g.opt.no_ipv4_options)
		g.caps.excluded_flags |= RXSEC_PKT_F_IPV4_OPTS;
	if (g.opt.no_ipv6_ext)
		g.caps.excluded_flags |= RXSEC_PKT_F_IPV6_EXT;
	if (g.opt.no_udp_esp)
		g.caps.excluded_flags |= RXSEC_PKT_F_UDP_ENCAP;
	if (g.opt.offload_algs != NULL &&
	    rxsec_caps_restrict_algs(&g.caps, g.opt.offload_algs, err, sizeof(err)) != 0) {
		fprintf(stderr, "rxsec: --offload-algs: %s\n", err);
		return -1;
	}
	return 0;
}

/* Defaults: one lcore runs everything. With more lcores and queues, an
 * engine and a transport stage on each lcore (as many as the queues allow):
 * an SA takes the stage of the lcore that receives it, so with RSS keeping
 * it on one queue its packets never cross lcores. With one RX queue, one
 * transport and as many workers as the other lcores allow. */
static void
choose_stage_counts(void)
{
	unsigned int lcores = rte_lcore_count();
	unsigned int rxq = rxsec_ports_max_rxq(&g.ports), txq = rxsec_ports_max_txq(&g.ports);
	unsigned int n = RTE_MIN(RTE_MIN(lcores, (unsigned int)RXSEC_TRANSPORT_MAX),
				 RTE_MIN(rxq, txq));

	if (g.opt.workers == 0 && g.opt.transports == 0 && n > 1) {
		g.opt.workers = n;
		g.opt.transports = n;
		return;
	}
	if (g.opt.transports == 0)
		g.opt.transports = 1;
	if (g.opt.workers == 0) {
		unsigned int w = lcores > g.opt.transports ? lcores - g.opt.transports : 1;
		uint16_t maxq = rxsec_ports_max_rxq(&g.ports);

		g.opt.workers = w < maxq ? w : maxq;
		if (g.opt.workers == 0)
			g.opt.workers = 1;
	}
}

/* An engine's wait for ring room: its lcore's transport stages, one burst
 * each (rxsec_engine.ring_full_wait). */
static void
drain_local_transports(void *arg)
{
	const struct lcore_plan *p = arg;

	for (unsigned int i = 0; i < p->nb_tr; i++)
		rxsec_transport_poll(p->tr[i]);
}

/* Stages in order W0..WN-1, T0..TM-1 over the worker lcores, the main lcore
 * last, wrapping around when there are more stages than lcores. */
static void
place_stages(void)
{
	unsigned int slots[RTE_MAX_LCORE], nb = 0, s = 0;
	unsigned int lc;

	RTE_LCORE_FOREACH_WORKER(lc)
		slots[nb++] = lc;
	slots[nb++] = rte_get_main_lcore();
	for (unsigned int i = 0; i < g.nb_eng; i++, s++) {
		struct lcore_plan *p = &g.plan[slots[s % nb]];

		p->eng[p->nb_eng++] = g.eng[i];
		p->used = true;
		g.eng[i]->home_ring = RXSEC_ENGINE_NO_HOME;
	}
	for (unsigned int i = 0; i < g.nb_tr; i++, s++) {
		struct lcore_plan *p = &g.plan[slots[s % nb]];

		p->tr[p->nb_tr++] = g.tr[i];
		p->used = true;
	}
	for (unsigned int i = 0; i < nb; i++) {
		struct lcore_plan *p = &g.plan[slots[i]];

		for (unsigned int j = 0; p->nb_tr != 0 && j < p->nb_eng; j++) {
			p->eng[j]->ring_full_wait = drain_local_transports;
			p->eng[j]->ring_full_arg = p;
			p->eng[j]->home_ring = p->tr[j % p->nb_tr]->id;
		}
		if (p->used)
			printf("rxsec: lcore %u: %u engine(s), %u transport(s)\n",
			       slots[i], p->nb_eng, p->nb_tr);
	}
}

/* Fragments carry no SPI: the engines hash each datagram's fragments to
 * one transport, and every transport reassembles in its own table, its
 * share of --frag-flows (see frag_flows_per_stage). */
static int
create_reassembly(void)
{
	uint32_t flows = frag_flows_per_stage();

	if (flows == 0)
		return 0;
	for (unsigned int i = 0; i < g.nb_tr; i++)
		if (rxsec_reassembly_init(&g.tr[i]->reasm, flows, g.opt.frag_timeout_ms,
					  g.ports.big, g.socket, &g.tr[i]->stats.frag) != 0) {
			fprintf(stderr, "rxsec: cannot create a reassembly table for --frag-flows "
				"%u (%u per transport stage)\n", g.opt.frag_flows, flows);
			return -1;
		}
	return 0;
}

static int
create_stages(void)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int flags;

	g.nb_tr = g.opt.transports;
	g.nb_eng = g.opt.workers;
	/* Every transport may hand a reassembled datagram to another's ring:
	 * with several, each ring has several producers. */
	flags = RING_F_SC_DEQ | (g.nb_eng == 1 && g.nb_tr == 1 ? RING_F_SP_ENQ : 0);
	for (unsigned int i = 0; i < g.nb_tr; i++) {
		struct rxsec_transport *t = rte_zmalloc_socket("rxsec_tr", sizeof(*t),
							       RTE_CACHE_LINE_SIZE, g.socket);

		if (t == NULL) {
			fprintf(stderr, "rxsec: cannot allocate transport stage %u (give EAL "
				"more memory with -m)\n", i);
			return -1;
		}
		snprintf(name, sizeof(name), "rxsec_tr%u", i);
		t->id = (uint16_t)i;
		t->ring = rte_ring_create(name, RING_SIZE, g.socket, flags);
		t->tx_port = g.ports.out;
		t->tx_queue = (uint16_t)i;
		t->sat = &g.sat;
		t->sat_lock = &g.sat_lock;
		t->drv = g.drv;
		t->cctx = g.drv->lcore_create();
		t->verdicts = rxsec_verdict_files_get(&g.vf, i);
		t->stage_cycles = g.opt.stage_cycles;
		t->rings = g.rings;
		t->nb_rings = (uint16_t)g.nb_tr;
		g.rings[i] = t->ring;
		g.tr[i] = t;
		if (t->ring == NULL || t->cctx == NULL) {
			fprintf(stderr, "rxsec: cannot create transport stage %u\n", i);
			return -1;
		}
	}
	if (create_reassembly() != 0)
		return -1;
	for (unsigned int i = 0; i < g.nb_eng; i++) {
		struct rxsec_engine *e = rte_zmalloc_socket("rxsec_eng", sizeof(*e),
							    RTE_CACHE_LINE_SIZE, g.socket);

		if (e == NULL) {
			fprintf(stderr, "rxsec: cannot allocate worker %u (give EAL more memory "
				"with -m)\n", i);
			return -1;
		}
		e->port = g.ports.wire;
		e->queue = (uint16_t)i;
		e->offload = !g.opt.offload_off;
		e->excluded_flags = g.caps.excluded_flags;
		e->stage_cycles = g.opt.stage_cycles;
		e->nb_rings = (uint16_t)g.nb_tr;
		e->ring_reserve = rxsec_engine_ring_reserve(g.nb_tr, RING_SIZE);
		for (unsigned int t = 0; t < g.nb_tr; t++)
			e->ring[t] = g.tr[t]->ring;
		e->sat = &g.sat;
		e->big_pool = g.ports.big;
		e->drv = g.drv;
		e->cctx = g.drv->lcore_create();
		e->next_n = &g.next_n;
		e->cache_handle = RXSEC_SA_NONE;
		g.eng[i] = e;
		if (e->cctx == NULL) {
			fprintf(stderr, "rxsec: cannot create crypto context for worker %u\n", i);
			return -1;
		}
	}
	return 0;
}

/*
 * Each SA's window has one writer: the transport stage it is given. By
 * receiver, an SA whose queue RSS keeps it on stays on that lcore; that
 * needs a stage beside every engine, and with more stages than engines
 * some would get nothing: auto then spreads by slot.
 */
static int
assign_sa_stages(void)
{
	enum rxsec_sa_placement how = g.opt.sa_placement;
	bool local = true;
	uint32_t nested;

	for (unsigned int i = 0; i < g.nb_eng; i++)
		local &= g.eng[i]->home_ring != RXSEC_ENGINE_NO_HOME;
	if (how == RXSEC_PLACE_RECEIVER && !local && g.nb_tr > 1) {
		fprintf(stderr, "rxsec: --sa-placement receiver needs a transport stage on "
			"every engine's lcore (%u worker(s), %u transport(s) on %u lcore(s))\n",
			g.nb_eng, g.nb_tr, rte_lcore_count());
		return -1;
	}
	if (how == RXSEC_PLACE_AUTO)
		how = local && g.nb_tr <= g.nb_eng ? RXSEC_PLACE_RECEIVER : RXSEC_PLACE_SLOT;
	g.sat.claim_on_rx = how == RXSEC_PLACE_RECEIVER && g.nb_tr > 1;
	nested = rxsec_sa_table_assign_transports(&g.sat, g.nb_tr);
	if (g.sat.claim_on_rx)
		printf("rxsec: each SA takes the transport stage of the lcore that first "
		       "receives it\n");
	if (nested != 0)
		printf("rxsec: %u of %u SAs may be nested in one another: they share "
		       "transport stage 0, the one writer of their windows\n",
		       nested, g.sat.count);
	return 0;
}

static bool
rings_empty(const struct lcore_plan *p)
{
	for (unsigned int i = 0; i < p->nb_tr; i++)
		if (!rte_ring_empty(p->tr[i]->ring))
			return false;
	return true;
}

static void housekeeping(void);

/* Engines until rx_stop; transports until every engine stopped and the rings
 * are empty. A transport drains its ring each round so an engine sharing its
 * lcore never waits on a full ring. */
static int
lcore_main(void *arg)
{
	struct lcore_plan *p = arg;
	bool is_main = rte_lcore_id() == rte_get_main_lcore();
	bool engines_stopped = p->nb_eng == 0;
	unsigned int lcore = rte_lcore_id();
	uint64_t last_hk = 0, hk_period = rte_get_tsc_hz() / 1000;

	for (;;) {
		/* No SA pointer is held between iterations (RCU QSBR). */
		rxsec_sa_table_quiescent(&g.sat, lcore);
		if (!engines_stopped) {
			if (g.rx_stop) {
				engines_stopped = true;
				__atomic_add_fetch(&g.engines_done, p->nb_eng, __ATOMIC_RELEASE);
			} else {
				for (unsigned int i = 0; i < p->nb_eng; i++)
					rxsec_engine_poll(p->eng[i]);
			}
		}
		/* Drain up to a whole ring, not forever: under full load the
		 * loop must still come round to quiescent reports and housekeeping. */
		for (unsigned int i = 0; i < p->nb_tr; i++)
			for (unsigned int b = 0; b < RING_SIZE / RXSEC_BURST_MAX &&
			     rxsec_transport_poll(p->tr[i]) == RXSEC_BURST_MAX; b++)
				;
		/* About once a millisecond, whatever the load: one TSC read per
		 * round (a round may take milliseconds when a ring is full). */
		if (is_main && rte_rdtsc() - last_hk >= hk_period) {
			housekeeping();
			last_hk = rte_rdtsc();
		}
		if (engines_stopped &&
		    __atomic_load_n(&g.engines_done, __ATOMIC_ACQUIRE) == g.nb_eng &&
		    rings_empty(p))
			break;
		if (p->nb_eng == 0 && p->nb_tr == 0) {
			if (is_main)
				housekeeping();
			if (g.rx_stop)
				break;
			rte_delay_us_sleep(1000);
		}
	}
	rte_rcu_qsbr_thread_offline(g.sat.qsbr, lcore);
	return 0;
}

/* --idle-exit: the workers' receive counters, seen still for that long.
 * Read here, about once a millisecond, so that the workers read no clock
 * per burst for it. */
static void
idle_check(uint64_t now, uint64_t hz)
{
	static uint64_t last_rx, moved_tsc;
	uint64_t rx = 0;

	for (unsigned int i = 0; i < g.nb_eng; i++)
		rx += __atomic_load_n(&g.eng[i]->stats.rx, __ATOMIC_RELAXED);
	if (rx != last_rx || moved_tsc == 0) {
		last_rx = rx;
		moved_tsc = now;
	}
	if ((now - moved_tsc) * 1000 / hz >= g.opt.idle_exit_ms)
		g.rx_stop = 1;
}

static void
housekeeping(void)
{
	static uint64_t last_stats;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (g.opt.idle_exit_ms && !g.rx_stop)
		idle_check(now, hz);
	if (g.reload && !g.rx_stop)
		reload_sas();
	/* Every packet has a verdict line or rxsec stops: a reader of a pipe
	 * that went away (SIGPIPE is ignored) or a full disk ends the run. */
	if (!g.verdicts_failed && rxsec_verdict_files_failed(&g.vf)) {
		g.verdicts_failed = true;
		g.rx_stop = 1;
		fprintf(stderr, "rxsec: --verdicts: writing '%s' failed: stopping\n",
			g.opt.verdicts);
	}
	if (g.opt.stats_period_s && now - last_stats >= g.opt.stats_period_s * hz) {
		if (last_stats != 0) {
			rxsec_report(g.eng, g.nb_eng, g.tr, g.nb_tr, &g.sat);
			fflush(stdout);
		}
		last_stats = now;
	}
	rxsec_control_housekeeping(&g.ctl_ctx, g.ctl);
}

/* Control socket and telemetry read the stages through one context. */
static int
setup_control(void)
{
	g.ctl_ctx = (struct rxsec_control_ctx){
		.sat = &g.sat, .lock = &g.sat_lock, .replay_window = g.opt.replay_window,
		.eng = g.eng, .nb_eng = g.nb_eng, .tr = g.tr, .nb_tr = g.nb_tr,
	};
	if (rxsec_telemetry_register(&g.ctl_ctx) != 0)
		fprintf(stderr, "rxsec: telemetry endpoints not registered\n");
	if (g.opt.control == NULL)
		return 0;
	g.ctl = rxsec_control_open(g.opt.control, &g.ctl_ctx);
	if (g.ctl == NULL)
		return -1;
	printf("rxsec: control socket %s\n", g.opt.control);
	return 0;
}

/* A transport may hand a reassembled datagram to another transport's ring
 * after that transport found its ring empty and stopped: with every lcore
 * done, whatever is left is handled here. */
static void
drain_rings(void)
{
	bool again = true;

	while (again) {
		again = false;
		for (unsigned int i = 0; i < g.nb_tr; i++)
			again |= rxsec_transport_poll(g.tr[i]) != 0;
	}
}

static int
run(void)
{
	unsigned int lc;

	RTE_LCORE_FOREACH(lc)
		if (rxsec_sa_table_reader_register(&g.sat, lc) != 0)
			return -1;
	RTE_LCORE_FOREACH_WORKER(lc)
		rte_eal_remote_launch(lcore_main, &g.plan[lc], lc);
	lcore_main(&g.plan[rte_get_main_lcore()]);
	rte_eal_mp_wait_lcore();
	drain_rings();
	return 0;
}

/* Also after create_stages() failed part way: stages not made are NULL. */
static void
free_stages(void)
{
	for (unsigned int i = 0; i < g.nb_eng; i++) {
		if (g.eng[i] == NULL)
			continue;
		if (g.eng[i]->cctx)
			g.drv->lcore_free(g.eng[i]->cctx);
		rte_free(g.eng[i]);
	}
	for (unsigned int i = 0; i < g.nb_tr; i++) {
		if (g.tr[i] == NULL)
			continue;
		rxsec_transport_flush_fragments(g.tr[i]);
		if (g.tr[i]->cctx)
			g.drv->lcore_free(g.tr[i]->cctx);
		rte_ring_free(g.tr[i]->ring);
		rte_free(g.tr[i]);
	}
}

/* Spec: nothing lost silently. After the ports closed, every mbuf is home. */
static int
check_mbufs(void)
{
	struct rte_mempool *pools[] = { g.ports.pool, g.ports.big };
	unsigned int size = 0, avail = 0;

	for (unsigned int i = 0; i < RTE_DIM(pools); i++)
		if (pools[i] != NULL) {
			size += pools[i]->size;
			avail += rte_mempool_avail_count(pools[i]);
		}
	if (avail != size) {
		printf("mbufs: %u of %u returned to pool\n", avail, size);
		fprintf(stderr, "rxsec: mbuf leak: %u mbufs not returned\n", size - avail);
		return -1;
	}
	printf("mbufs: all %u returned to pool\n", size);
	return 0;
}

/* Exit status (README): 0 ran and stopped; 1 failed while running or
 * stopping (the verdict record); 2 refused to start: a bad option, SA file,
 * path, port, or not enough memory or queues for what was asked; 3 an mbuf
 * did not come home. */
int
main(int argc, char **argv)
{
	int eal_args, ret, rc = 0;

	if (rxsec_eal_args_check(argc, argv) != 0)
		return 2;
	eal_args = rte_eal_init(argc, argv);
	if (eal_args < 0) {
		fprintf(stderr, "rxsec: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argv[eal_args] = argv[0];
	ret = rxsec_options_parse(argc - eal_args, argv + eal_args, &g.opt);
	if (ret != 0) {
		rxsec_eal_exit();
		return ret > 0 ? 0 : 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hangup);
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe is a write error, seen */
	rte_spinlock_init(&g.sat_lock);
	g.drv = &rxsec_crypto_ipsec_mb;
	if (check_driver_env() != 0) {
		rc = 2;
		goto out_eal;
	}

	if (rxsec_result_register() != 0) {
		fprintf(stderr, "rxsec: cannot register mbuf dynfields: %s\n", rte_strerror(rte_errno));
		rc = 2;
		goto out_eal;
	}
	if (rxsec_ports_pick(&g.ports, g.opt.wire_port, g.opt.out_port, g.opt.mtu) != 0) {
		rc = 2;
		goto out_eal;
	}
	choose_stage_counts();
	g.ports.held_mbufs = g.opt.transports *
		rxsec_reassembly_mbufs_max(frag_flows_per_stage());
	choose_memory();
	if (setup_caps() != 0) {
		rc = 2;
		goto out_thp;
	}
	ret = rxsec_sa_table_create(&g.sat, "rxsec_sa", g.opt.max_sa, g.sa_socket, g.drv);
	if (ret != 0) {
		fprintf(stderr, "rxsec: cannot create an SA table for --max-sa %u: %s%s\n",
			g.opt.max_sa, strerror(-ret),
			ret == -ENOMEM ? " (give EAL more memory with -m, or a smaller --max-sa)" : "");
		rc = 2;
		goto out_thp;
	}
	g.sat.caps = &g.caps;
	g.sat.nb_transports = g.opt.transports;
	if (load_sas() != 0) {
		rc = 2;
		goto out_sat;
	}
	if (rxsec_verdict_files_open(&g.vf, g.opt.verdicts, g.opt.transports) != 0 ||
	    rxsec_ports_init(&g.ports, g.opt.workers, g.opt.transports, g.socket) != 0 ||
	    create_stages() != 0) {
		rc = 2;
		goto out_stages;
	}
	place_stages();
	if (assign_sa_stages() != 0 || setup_control() != 0) {
		rc = 2;
		goto out_stages;
	}
	printf("rxsec: offload v%u, %u worker(s), %u transport(s), wire port %u, delivery port %u",
	       g.opt.offload, g.nb_eng, g.nb_tr, g.ports.wire, g.ports.out);
	if (g.opt.mtu != 0)
		printf(", MTU %u%s", g.opt.mtu, g.ports.wire_rx_big ? " (large RX buffers)" : "");
	printf("\n");
	fflush(stdout);

	if (run() != 0) {
		fprintf(stderr, "rxsec: cannot register the lcores as SA table readers\n");
		rc = 2;
		goto out_stages;
	}

	if (g.signalled)
		printf("rxsec: stopped by signal %d\n", g.signalled);
	for (unsigned int i = 0; i < g.nb_tr; i++)
		rxsec_transport_flush_fragments(g.tr[i]);
	rxsec_report(g.eng, g.nb_eng, g.tr, g.nb_tr, &g.sat);
	rxsec_ports_print_stats(&g.ports);
out_stages:
	/* telemetry's thread may be serving a client: not from freed stages */
	rxsec_telemetry_unregister();
	rxsec_control_close(g.ctl);
	/* a failed write may leave nothing for the close to fail on */
	if (rxsec_verdict_files_close(&g.vf) != 0 || g.verdicts_failed)
		rc = rc ? rc : 1;
	if (g.ports.pool != NULL)
		rxsec_ports_close(&g.ports);
	free_stages();
	if (g.ports.pool != NULL) {
		if ((rc == 0 || g.verdicts_failed) && check_mbufs() != 0)
			rc = 3;
		rte_mempool_free(g.ports.pool);
		rte_mempool_free(g.ports.big);
	}
out_sat:
	rxsec_sa_table_free(&g.sat);
out_thp:
	rxsec_thp_heap_destroy(&g.thp);
out_eal:
	fflush(stdout);
	rxsec_eal_exit();
	return rc;
}
