/* SPDX-License-Identifier: BSD-3-Clause
 *
 * --verdicts with several transport stages (app/rxsec/verdict_file.c): the
 * parts merge into one file in receive order, with packet numbers past
 * 2^32 (a run of about seven minutes at 10 Mpps) and unparsable lines last.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_check.h"
#include "verdict_file.h"

#define LINE_FMT	"{\"n\":%" PRIu64 ",\"part\":%u}\n"

static void
write_line(struct rxsec_verdict_files *v, unsigned int part, uint64_t n)
{
	fprintf(rxsec_verdict_files_get(v, part), LINE_FMT, n, part);
}

/* Three parts, each nearly in order, around the 32-bit boundary. */
static void
test_merge_past_2_32(const char *path)
{
	static const struct {
		uint64_t n;
		unsigned int part;
	} in[] = {
		{ 4294967290ull, 0 }, { 4294967296ull, 0 }, { 4294967295ull, 0 },
		{ 8589934593ull, 0 }, { 4294967291ull, 1 }, { 4294967297ull, 1 },
		{ 4294967294ull, 2 }, { 4294967292ull, 2 }, { 4294967293ull, 1 },
		{ 18446744073709551614ull, 2 },
	};
	static const uint64_t want[] = {
		4294967290ull, 4294967291ull, 4294967292ull, 4294967293ull, 4294967294ull,
		4294967295ull, 4294967296ull, 4294967297ull, 8589934593ull,
		18446744073709551614ull,
	};
	struct rxsec_verdict_files v;
	char line[128], expect[128];
	unsigned int i = 0;
	FILE *f;

	CHECK(rxsec_verdict_files_open(&v, path, 3) == 0, "open %s", path);
	for (unsigned int k = 0; k < RTE_DIM(in); k++)
		write_line(&v, in[k].part, in[k].n);
	fputs("cut short by a failed write", rxsec_verdict_files_get(&v, 1));
	CHECK(rxsec_verdict_files_close(&v) == 0, "close");
	f = fopen(path, "r");
	CHECK(f != NULL, "merged file");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (i < RTE_DIM(want)) {
			unsigned int part = 0;

			for (unsigned int k = 0; k < RTE_DIM(in); k++)
				if (in[k].n == want[i])
					part = in[k].part;
			snprintf(expect, sizeof(expect), LINE_FMT, want[i], part);
			CHECK(strcmp(line, expect) == 0, "line %u: %s, want %s", i, line, expect);
		} else {
			CHECK(i == RTE_DIM(want) && strcmp(line, "cut short by a failed write") == 0,
			      "line %u: %s", i, line);
		}
		i++;
	}
	CHECK(i == RTE_DIM(want) + 1, "%u lines", i);
	fclose(f);
	for (unsigned int k = 0; k < 3; k++) {
		snprintf(line, sizeof(line), "%s.part%u", path, k);
		CHECK(access(line, F_OK) != 0, "%s left behind", line);
	}
}

int
main(void)
{
	char dir[] = "/tmp/rxsec-verdict-XXXXXX", path[64];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/verdicts.jsonl", dir);
	test_merge_past_2_32(path);
	remove(path);
	rmdir(dir);
	printf("%d checks, %d failed\n", checks, fails);
	return fails != 0;
}
