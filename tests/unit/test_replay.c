/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the anti-replay window and ESN helpers (lib/replay.h,
 * lib/esn_reverify.h):
 *  1. window edges for sizes 32..4096 (RFC 4303 3.4.3): the lowest sequence
 *     inside the window passes, one below is below_window, a repeat is seen;
 *  2. the RFC 6479 bitmap against a plain reference model over long random
 *     runs (reordering, jumps, repeats), for every size;
 *  3. window 0 disables the check; sequence 0 without ESN is refused;
 *  4. ESN high-bit inference (RFC 4303 A2.1) on both sides of 2^32, and the
 *     64-bit window across the boundary;
 *  5. the re-verification candidate near a boundary.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esn_reverify.h"
#include "replay.h"

static unsigned int n_pass, n_fail;

static bool
check(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (!ok) {
		printf("FAIL - ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("   [test_replay.c:%d]\n", line);
		n_fail++;
	} else {
		n_pass++;
	}
	return ok;
}

#define CHECK(cond, ...) check((cond), __LINE__, __VA_ARGS__)

static const uint32_t windows[] = { 32, 33, 63, 64, 65, 100, 128, 512, 1000, 1024,
				    2048, 3000, 4095, 4096 };

/* Accept seq: check then update, as the transport does after the ICV passed. */
static enum rxsec_replay_verdict
accept(struct rxsec_replay *r, uint64_t seq)
{
	enum rxsec_replay_verdict v = rxsec_replay_check(r, seq);

	if (v == RXSEC_REPLAY_OK)
		rxsec_replay_update(r, seq);
	return v;
}

static void
test_edges(uint32_t w, bool esn, uint64_t base)
{
	struct rxsec_replay r;
	uint64_t t = base + 3ull * w;

	rxsec_replay_init(&r, w, esn, base);
	CHECK(accept(&r, t) == RXSEC_REPLAY_OK, "w %u: top %llu accepted", w,
	      (unsigned long long)t);
	CHECK(rxsec_replay_top(&r) == t, "w %u: top published", w);
	CHECK(rxsec_replay_check(&r, t - w + 1) == RXSEC_REPLAY_OK,
	      "w %u: lowest in-window sequence passes", w);
	CHECK(rxsec_replay_check(&r, t - w) == RXSEC_REPLAY_BELOW_WINDOW,
	      "w %u: one below the window is below_window", w);
	CHECK(accept(&r, t - w + 1) == RXSEC_REPLAY_OK, "w %u: window bottom accepted", w);
	CHECK(rxsec_replay_check(&r, t - w + 1) == RXSEC_REPLAY_SEEN, "w %u: bottom repeat", w);
	CHECK(rxsec_replay_check(&r, t) == RXSEC_REPLAY_SEEN, "w %u: top repeat", w);
	CHECK(accept(&r, t + 1) == RXSEC_REPLAY_OK, "w %u: top + 1", w);
	/* The bottom just slid out. */
	CHECK(rxsec_replay_check(&r, t - w + 1) == RXSEC_REPLAY_BELOW_WINDOW,
	      "w %u: slid below after the top moved by 1", w);
	/* A jump beyond the whole bitmap clears it: old bits must not alias. */
	CHECK(accept(&r, t + 1 + 64ull * 1024) == RXSEC_REPLAY_OK, "w %u: far jump", w);
	for (uint64_t s = t + 2 + 64ull * 1024 - w; s < t + 1 + 64ull * 1024; s++)
		if (!CHECK(rxsec_replay_check(&r, s) == RXSEC_REPLAY_OK,
			   "w %u: fresh window after jump, seq %llu", w, (unsigned long long)s))
			break;
}

/* Reference: the set of accepted sequences, kept whole. */
static void
test_model(uint32_t w, unsigned int seed)
{
	enum { SPAN = 1 << 18 };
	static uint8_t seen[SPAN];
	struct rxsec_replay r;
	uint64_t top = 0;
	unsigned int bad = 0;

	memset(seen, 0, sizeof(seen));
	srand(seed);
	rxsec_replay_init(&r, w, false, 0);
	for (int i = 0; i < 200000 && top < SPAN - 8ull * w; i++) {
		int64_t d = (int64_t)(rand() % (4 * w)) - (int64_t)(2 * w) + (rand() % 8 == 0 ? w : 0);
		int64_t s = (int64_t)top + d;
		enum rxsec_replay_verdict want, got;

		if (s <= 0)
			s = 1;
		if (s >= SPAN)
			continue;
		if ((uint64_t)s > top)
			want = RXSEC_REPLAY_OK;
		else if ((uint64_t)s + w <= top)
			want = RXSEC_REPLAY_BELOW_WINDOW;
		else
			want = seen[s] ? RXSEC_REPLAY_SEEN : RXSEC_REPLAY_OK;
		got = accept(&r, (uint64_t)s);
		if (got != want && bad++ < 5)
			CHECK(false, "w %u: seq %lld top %llu: got %d want %d", w, (long long)s,
			      (unsigned long long)top, got, want);
		if (want == RXSEC_REPLAY_OK) {
			seen[s] = 1;
			if ((uint64_t)s > top)
				top = (uint64_t)s;
		}
	}
	CHECK(bad == 0, "w %u: bitmap equals the reference model", w);
}

static void
test_disabled_and_zero(void)
{
	struct rxsec_replay r;

	rxsec_replay_init(&r, 0, false, 0);
	CHECK(accept(&r, 5) == RXSEC_REPLAY_OK, "w 0: first");
	CHECK(accept(&r, 5) == RXSEC_REPLAY_OK, "w 0: repeat passes (disabled)");
	CHECK(accept(&r, 1) == RXSEC_REPLAY_OK, "w 0: old passes (disabled)");
	CHECK(rxsec_replay_top(&r) == 5, "w 0: top still published for ESN");
	rxsec_replay_init(&r, 64, false, 0);
	CHECK(rxsec_replay_check(&r, 0) == RXSEC_REPLAY_SEQ_ZERO, "seq 0 refused");
	rxsec_replay_init(&r, 64, true, 0xffffffffull);
	CHECK(rxsec_replay_check(&r, 1ull << 32) == RXSEC_REPLAY_OK,
	      "ESN: low bits 0 in subspace 1 allowed");
}

static void
test_esn_infer(void)
{
	const uint64_t b = 1ull << 32;

	for (unsigned int k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		uint32_t w = windows[k];
		uint64_t top = b - 10;		/* window inside subspace 0 */

		CHECK(rxsec_esn_infer_hi(top, w, (uint32_t)(b - 5)) == 0, "w %u: ahead, same", w);
		CHECK(rxsec_esn_infer_hi(top, w, 3) == 1, "w %u: wrapped ahead -> 1", w);
		CHECK(rxsec_esn_infer_hi(top, w, (uint32_t)(top - w + 1)) == 0,
		      "w %u: window bottom -> 0", w);
		top = b + 5;			/* window straddles 2^32 */
		CHECK(rxsec_esn_infer_hi(top, w, (uint32_t)(b - 2)) == 0,
		      "w %u: late packet before the boundary -> 0", w);
		CHECK(rxsec_esn_infer_hi(top, w, 2) == 1, "w %u: after the boundary -> 1", w);
		CHECK(rxsec_esn_infer_hi(top, w, 1000000) == 1, "w %u: far ahead -> 1", w);
		CHECK(rxsec_esn_infer_hi(5, w, (uint32_t)(b - 2)) == 0,
		      "w %u: no subspace below 0", w);
		top = 7 * b + (b - 1);
		CHECK(rxsec_esn_infer_hi(top, w, 0) == 8, "w %u: 7:ffffffff then 0 -> 8", w);
	}
}

/* A 64-bit window across 2^32, with reordering inside it (span 22 < 32). */
static void
test_esn_window(uint32_t w)
{
	const uint64_t b = 1ull << 32;
	struct rxsec_replay r;

	rxsec_replay_init(&r, w, true, b - 12);
	for (uint64_t s = b - 11; s < b + 12; s += 2)
		CHECK(accept(&r, s) == RXSEC_REPLAY_OK, "w %u: odd %llu", w, (unsigned long long)s);
	for (uint64_t s = b - 10; s < b + 12; s += 2) {
		uint32_t lo = (uint32_t)s;
		uint64_t seq = (uint64_t)rxsec_esn_infer_hi(rxsec_replay_top(&r), w, lo) << 32 | lo;

		CHECK(seq == s, "w %u: reordered %llu inferred", w, (unsigned long long)s);
		CHECK(accept(&r, seq) == RXSEC_REPLAY_OK, "w %u: even %llu", w,
		      (unsigned long long)s);
	}
	CHECK(accept(&r, b) == RXSEC_REPLAY_SEEN, "w %u: 2^32 replayed", w);
	CHECK(accept(&r, b - 1) == RXSEC_REPLAY_SEEN, "w %u: 2^32-1 replayed", w);
}

static void
test_alt_hi(void)
{
	const uint64_t b = 1ull << 32;
	uint32_t alt = 0;

	CHECK(rxsec_esn_alt_hi(b - 3, 0, 5, &alt) && alt == 1,
	      "lagging top: just after the boundary, try the next subspace");
	CHECK(rxsec_esn_alt_hi(b + 3, 1, (uint32_t)(b - 5), &alt) && alt == 0,
	      "late packet before the boundary: try the previous subspace");
	CHECK(rxsec_esn_alt_hi(b + 3, 2, 7, &alt) && alt == 1,
	      "inferred ahead: try the current subspace");
	CHECK(!rxsec_esn_alt_hi(b + 3, 1, 1u << 31, &alt), "mid-subspace: no candidate");
	CHECK(!rxsec_esn_alt_hi(5, 0, UINT32_MAX - 1, &alt) || alt == 1,
	      "no subspace below 0");
	CHECK(rxsec_esn_near_boundary(0) && rxsec_esn_near_boundary(UINT32_MAX) &&
	      !rxsec_esn_near_boundary(1u << 31), "near-boundary predicate");
}

int
main(void)
{
	for (unsigned int k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		test_edges(windows[k], false, 0);
		test_edges(windows[k], true, (1ull << 32) - 2ull * windows[k]);
		test_model(windows[k], 1000 + k);
		test_esn_window(windows[k]);
	}
	test_disabled_and_zero();
	test_esn_infer();
	test_alt_hi();
	printf("%u passed, %u failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
