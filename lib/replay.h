/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Anti-replay window (RFC 4303 3.4.3) as an RFC 6479 bitmap of 64-bit
 * buckets, and ESN high-bit inference (RFC 4303 appendix A2.1).
 * The check is separate from the update: the update runs only after the
 * packet passed its integrity check. One writer per window (its transport
 * stage); `top` is published so engines can infer ESN high bits.
 */
#ifndef RXSEC_REPLAY_H
#define RXSEC_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define RXSEC_REPLAY_WINDOW_MAX	4096u

/* Worst case: 4096-bit window + one spare bucket, rounded to a power of two. */
#define RXSEC_REPLAY_BUCKETS_MAX 128u

enum rxsec_replay_verdict {
	RXSEC_REPLAY_OK = 0,
	RXSEC_REPLAY_SEQ_ZERO,
	RXSEC_REPLAY_BELOW_WINDOW,
	RXSEC_REPLAY_SEEN,
};

struct rxsec_replay {
	uint64_t top;		/* highest sequence accepted (64-bit with ESN) */
	uint32_t window;	/* W in packets; 0 = no check */
	uint32_t bucket_mask;	/* bucket count - 1 */
	bool esn;
	uint64_t bitmap[RXSEC_REPLAY_BUCKETS_MAX];
};

/* Window sizes above RXSEC_REPLAY_WINDOW_MAX are clamped by the caller. */
static inline void
rxsec_replay_init(struct rxsec_replay *r, uint32_t window, bool esn, uint64_t top)
{
	uint32_t nb = (window + 63) / 64 + 1;	/* RFC 6479: one spare bucket */
	uint32_t pow2 = 1;

	while (pow2 < nb)
		pow2 <<= 1;
	r->top = top;
	r->window = window;
	r->bucket_mask = pow2 - 1;
	r->esn = esn;
	for (uint32_t i = 0; i < RXSEC_REPLAY_BUCKETS_MAX; i++)
		r->bitmap[i] = 0;
}

/* Highest sequence seen; what the transport publishes for ESN inference. */
static inline uint64_t
rxsec_replay_top(const struct rxsec_replay *r)
{
	return __atomic_load_n(&r->top, __ATOMIC_RELAXED);
}

/*
 * RFC 4303 A2.1: reconstruct the high 32 bits of a sequence number from the
 * window top T and size W, given the 32 low bits received.
 */
static inline uint32_t
rxsec_esn_infer_hi(uint64_t top, uint32_t window, uint32_t seq_lo)
{
	uint32_t tl = (uint32_t)top;
	uint32_t th = (uint32_t)(top >> 32);
	uint32_t bottom;

	if (window == 0)
		window = 1;
	bottom = tl - window + 1;	/* mod 2^32 */
	if (tl >= window - 1) {
		/* Window inside one subspace: below it means the next subspace. */
		return seq_lo >= bottom ? th : th + 1;
	}
	/* Window straddles the subspace boundary (none below subspace 0). */
	return seq_lo >= bottom && th != 0 ? th - 1 : th;
}

/* RFC 4303 3.4.3 check, before or after crypto; does not modify the window. */
static inline enum rxsec_replay_verdict
rxsec_replay_check(const struct rxsec_replay *r, uint64_t seq)
{
	if (r->window == 0)
		return RXSEC_REPLAY_OK;
	if (seq == 0 || (!r->esn && (uint32_t)seq == 0))
		return RXSEC_REPLAY_SEQ_ZERO;
	if (seq > r->top)
		return RXSEC_REPLAY_OK;
	if (seq + r->window <= r->top)
		return RXSEC_REPLAY_BELOW_WINDOW;
	if (r->bitmap[(seq >> 6) & r->bucket_mask] & (1ull << (seq & 63)))
		return RXSEC_REPLAY_SEEN;
	return RXSEC_REPLAY_OK;
}

/* RFC 6479 update: only after a successful integrity check and replay check. */
static inline void
rxsec_replay_update(struct rxsec_replay *r, uint64_t seq)
{
	if (r->window == 0) {
		if (seq > r->top)
			__atomic_store_n(&r->top, seq, __ATOMIC_RELAXED);
		return;
	}
	if (seq > r->top) {
		uint64_t from = r->top >> 6, to = seq >> 6;
		uint64_t n = to - from;

		/* Clear the buckets the window slides over, at most all of them. */
		if (n > r->bucket_mask + 1ull)
			n = r->bucket_mask + 1ull;
		for (uint64_t i = 1; i <= n; i++)
			r->bitmap[(from + i) & r->bucket_mask] = 0;
		__atomic_store_n(&r->top, seq, __ATOMIC_RELAXED);
	}
	r->bitmap[(seq >> 6) & r->bucket_mask] |= 1ull << (seq & 63);
}

#endif /* RXSEC_REPLAY_H */
