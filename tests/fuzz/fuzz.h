/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the fuzz targets share: libFuzzer's two entry points, and EAL
 * started once per process without hugepages or files on disk.
 */
#ifndef RXSEC_FUZZ_H
#define RXSEC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* EAL on lcore 0 with `vdev` (NULL: none), quiet, its runtime directory
 * removed at exit; the process exits with a message if it cannot start. */
void rxsec_fuzz_eal_init(const char *vdev);

/* A broken invariant: say which and abort, so the fuzzer keeps the input. */
#define FUZZ_ASSERT(c, ...) do {						\
	if (!(c))							\
		rxsec_fuzz_fail(__FILE__, __LINE__, #c, __VA_ARGS__);	\
} while (0)

void rxsec_fuzz_fail(const char *file, int line, const char *cond,
		     const char *fmt, ...) __attribute__((noreturn, format(printf, 4, 5)));

#endif /* RXSEC_FUZZ_H */
