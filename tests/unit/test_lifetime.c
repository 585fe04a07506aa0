/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SA time lifetimes (lib/lifetime.c) on a real SA table, with the test's own
 * clock: soft and hard limits seen within one sweep of the limit when the
 * housekeeping calls come a millisecond apart, and at the first call after a
 * long pause however far the sweep's cursor is from the SA (a housekeeping
 * loop slowed down by load used to need 32 calls for one round); a hard
 * limit deletes the SA and its outbound pair; soft is reported once. Limits
 * of 2^63 seconds (whose count of TSC cycles does not fit 64 bits) never
 * expire.
 */
#include <stdio.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "eal_exit.h"
#include "lifetime.h"
#include "rxsec_crypto.h"
#include "sa_parse.h"
#include "sa_table.h"
#include "unit_check.h"

#define CAPACITY 4096

static const char sa_text[] =
	"ip xfrm state add src 192.0.2.10 dst 192.0.2.20 proto esp spi 0x5201 reqid 11 "
	"mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128 "
	"limit time-soft 1 limit time-hard 2\n"
	"ip xfrm state add src 192.0.2.20 dst 192.0.2.10 proto esp spi 0x5202 reqid 11 "
	"mode tunnel aead 'rfc4106(gcm(aes))' 0x1102030405060708090a0b0c0d0e0f1011121314 128\n"
	"ip xfrm state add src 192.0.2.10 dst 192.0.2.30 proto esp spi 0x5203 reqid 12 "
	"mode tunnel aead 'rfc4106(gcm(aes))' 0x2102030405060708090a0b0c0d0e0f1011121314 128 "
	"limit time-soft 9223372036854775808 limit time-hard 9223372036854775808 "
	"limit time-use-soft 9223372036854775808 limit time-use-hard 9223372036854775808\n";
#define SAS	3

/* Calls one millisecond apart from *now until an event or `until`. */
static void
tick_until(struct rxsec_sa_table *t, uint64_t *now, uint64_t until,
	   struct rxsec_lifetime_events *ev)
{
	uint64_t ms = rte_get_timer_hz() / 1000;

	while (*now < until && ev->soft_expired == 0 && ev->hard_expired == 0) {
		*now += ms;
		rxsec_lifetime_scan(t, *now, ev);
	}
}

static void
test_time_limits(struct rxsec_sa_table *t, struct rxsec_sa *in)
{
	uint64_t hz = rte_get_timer_hz(), ms = hz / 1000, sweep = RXSEC_LIFETIME_SWEEP_MS * ms;
	uint64_t base = in->add_time, now = base + hz / 2;
	struct rxsec_lifetime_events ev = {0};

	rxsec_lifetime_scan(t, now, &ev);
	tick_until(t, &now, now + 3 * ms, &ev);
	CHECK(ev.soft_expired == 0 && ev.hard_expired == 0 && t->count == SAS,
	      "nothing expires in the first half second");
	CHECK(t->life_cursor > in->id + 1, "cursor past the SAs (%u)", t->life_cursor);

	/* a long pause: the next call checks every slot */
	now = base + hz + ms;
	rxsec_lifetime_scan(t, now, &ev);
	CHECK(ev.soft_expired == 1 && in->soft_expired && ev.hard_expired == 0,
	      "soft limit seen at the first call after a pause (%u)", ev.soft_expired);

	ev = (struct rxsec_lifetime_events){0};
	tick_until(t, &now, base + 2 * hz - ms, &ev);
	CHECK(ev.soft_expired == 0 && ev.hard_expired == 0 && t->count == SAS,
	      "soft reported once, no hard before 2 s");
	tick_until(t, &now, base + 2 * hz + sweep + 2 * ms, &ev);
	CHECK(ev.hard_expired == 1 && ev.deleted == 2 && t->count == SAS - 2,
	      "hard limit deletes the pair (%u hard, %u deleted, %u left)",
	      ev.hard_expired, ev.deleted, t->count);
	CHECK(now - base >= 2 * hz && now - base <= 2 * hz + sweep + ms,
	      "within one sweep of the limit at 1 ms calls (%.1f ms late)",
	      (double)(now - base - 2 * hz) / (double)ms);
}

/* Added and used at the same time as the others; a minute later still
 * there, neither limit reported. */
static void
test_huge_limits(struct rxsec_sa_table *t, unsigned int slot, uint64_t base)
{
	struct rxsec_lifetime_events ev = {0};
	uint64_t now = base + 60 * rte_get_timer_hz();
	const struct rxsec_sa *sa;

	rxsec_lifetime_scan(t, now, &ev);
	sa = t->slot[slot];
	CHECK(sa != NULL && ev.soft_expired == 0 && ev.hard_expired == 0 &&
	      !sa->soft_expired && !sa->hard_expired && t->count == SAS - 2,
	      "limits of 2^63 s do not expire (%u soft, %u hard, %u left)",
	      ev.soft_expired, ev.hard_expired, t->count);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-pci", "--log-level=error",
			"--file-prefix", prefix, "-l", "0" };
	struct rxsec_sa_parse_error err;
	struct rxsec_sa_list list = {0};
	struct rxsec_sa_table t;
	char why[256];
	int id[SAS];

	(void)argc;
	snprintf(prefix, sizeof(prefix), "life%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0 ||
	    rxsec_sa_table_create(&t, "t_sa", CAPACITY, SOCKET_ID_ANY,
				  &rxsec_crypto_ipsec_mb) != 0) {
		printf("FAIL: EAL init or SA table\n");
		rxsec_eal_exit();
		return 1;
	}
	if (rxsec_sa_parse_string(sa_text, "life", &list, &err) != 0 || list.n != SAS) {
		rxsec_sa_parse_error_format(&err, why, sizeof(why));
		printf("FAIL: SA text: %s\n", why);
		rxsec_sa_table_free(&t);
		rxsec_eal_exit();
		return 1;
	}
	for (unsigned int i = 0; i < SAS; i++) {
		id[i] = rxsec_sa_table_add(&t, &list.sa[i], why, sizeof(why));
		CHECK(id[i] >= 0, "SA %u added (%s)", i, why);
	}
	if (id[0] >= 0 && id[1] >= 0 && id[2] >= 0) {
		uint64_t base = t.slot[id[0]]->add_time;

		/* in use from the start: its time-use limits run too */
		t.slot[id[2]]->life_packets = 1;
		test_time_limits(&t, t.slot[id[0]]);
		test_huge_limits(&t, (unsigned int)id[2], base);
	}
	rxsec_sa_table_reclaim(&t);
	rxsec_sa_table_free(&t);
	rxsec_sa_list_free(&list);
	printf("lifetime: %d checks, %d failed\n", checks, fails);
	rxsec_eal_exit();
	return fails ? 1 : 0;
}
