/* SPDX-License-Identifier: BSD-3-Clause
 *
 * CHECK for the single-file unit tests that count checks and failures and
 * print each failure with its function, line and condition.
 */
#ifndef RXSEC_UNIT_CHECK_H
#define RXSEC_UNIT_CHECK_H

#include <stdio.h>

static int fails, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		fails++;						\
		printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#endif /* RXSEC_UNIT_CHECK_H */
