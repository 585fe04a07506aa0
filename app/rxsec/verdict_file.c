/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "verdict_file.h"

#define STREAM_BUF	(1 << 20)

/* Where a line of a part is: 16 bytes a line rather than the line, so the
 * record of a long run is merged without holding it in memory. The part
 * (fewer than 256) shares a word with the offset (below 2^56 bytes). */
#define LINE_PART_BITS	8
struct line {
	uint64_t n;
	uint64_t at;		/* offset << LINE_PART_BITS | part */
};
_Static_assert(RXSEC_TRANSPORT_MAX <= 1 << LINE_PART_BITS, "a part id must fit");

/* A name that does not fit would be cut short, and two parts would share it. */
static int
part_name(char *buf, size_t len, const char *path, unsigned int i)
{
	int n = snprintf(buf, len, "%s.part%u", path, i);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static FILE *
open_stream(const char *name)
{
	FILE *f = fopen(name, "w");

	if (f == NULL) {
		fprintf(stderr, "rxsec: --verdicts: cannot create '%s': %s\n", name,
			strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, STREAM_BUF);
	return f;
}

static void
remove_parts(struct rxsec_verdict_files *v)
{
	char name[PATH_MAX];

	for (unsigned int i = 0; i < v->nb; i++)
		if (part_name(name, sizeof(name), v->path, i) == 0)
			remove(name);
}

/* After a failed open: nothing is left for close to merge or complain about. */
static void
discard_parts(struct rxsec_verdict_files *v)
{
	for (unsigned int i = 0; i < v->nb; i++)
		fclose(v->f[i]);
	remove_parts(v);
	if (v->out != NULL)
		fclose(v->out);
	memset(v, 0, sizeof(*v));
}

/*
 * With several transports the final file is opened now too, though it is
 * written only at exit: a path that cannot be written (no such directory,
 * a directory) is refused before the run, not found out after it.
 */
int
rxsec_verdict_files_open(struct rxsec_verdict_files *v, const char *path, unsigned int nb)
{
	char name[PATH_MAX];
	FILE *f;

	memset(v, 0, sizeof(*v));
	if (path == NULL)
		return 0;
	v->path = path;
	f = open_stream(path);
	if (f == NULL)
		return -1;
	if (nb == 1) {
		v->f[0] = f;
		v->nb = 1;
		return 0;
	}
	v->out = f;
	for (unsigned int i = 0; i < nb; i++) {
		if (part_name(name, sizeof(name), path, i) != 0) {
			fprintf(stderr, "rxsec: --verdicts: '%s.part%u': %s\n", path, i,
				strerror(errno));
			discard_parts(v);
			return -1;
		}
		v->f[i] = open_stream(name);
		if (v->f[i] == NULL) {
			discard_parts(v);
			return -1;
		}
		v->nb = i + 1;
	}
	return 0;
}

FILE *
rxsec_verdict_files_get(struct rxsec_verdict_files *v, unsigned int i)
{
	return i < v->nb ? v->f[i] : NULL;
}

bool
rxsec_verdict_files_failed(struct rxsec_verdict_files *v)
{
	for (unsigned int i = 0; i < v->nb; i++)
		if (v->f[i] != NULL && ferror(v->f[i]))
			return true;
	return false;
}

static int
by_n(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

static int
add_line(struct line **lines, size_t *nb, size_t *cap, const struct line *l)
{
	if (*nb == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 4096;
		struct line *grown = realloc(*lines, grown_cap * sizeof(**lines));

		if (grown == NULL)
			return -1;
		*lines = grown;
		*cap = grown_cap;
	}
	(*lines)[(*nb)++] = *l;
	return 0;
}

/* A line cut short by a failed write (already reported) sorts last. */
static int
index_part(FILE *f, uint32_t part, struct line **lines, size_t *nb, size_t *cap)
{
	struct line l;
	uint64_t off = 0;
	char *buf = NULL;
	size_t blen = 0;
	ssize_t len;
	int ret = 0;

	while (ret == 0 && (len = getline(&buf, &blen, f)) > 0) {
		if (sscanf(buf, "{\"n\":%" SCNu64, &l.n) != 1)
			l.n = UINT64_MAX;
		l.at = off << LINE_PART_BITS | part;
		ret = add_line(lines, nb, cap, &l);
		off += (uint64_t)len;
	}
	if (ferror(f))
		ret = -1;
	free(buf);
	return ret;
}

/* Lines of one part are nearly in order: the seeks mostly stay in stdio's buffer. */
static int
write_sorted(FILE *out, FILE **parts, const struct line *lines, size_t nb)
{
	char *buf = NULL;
	size_t blen = 0;
	int ret = 0;

	for (size_t i = 0; i < nb && ret == 0; i++) {
		FILE *f = parts[lines[i].at & ((1u << LINE_PART_BITS) - 1)];

		if (fseeko(f, (off_t)(lines[i].at >> LINE_PART_BITS), SEEK_SET) != 0 || getline(&buf, &blen, f) < 0 ||
		    fputs(buf, out) == EOF)
			ret = -1;
	}
	free(buf);
	return ret;
}

/* Index every part, sort by "n", write the final file. Runs once, at exit. */
static int
merge_parts(struct rxsec_verdict_files *v)
{
	FILE *parts[RXSEC_TRANSPORT_MAX] = {0};
	struct line *lines = NULL;
	size_t nb = 0, cap = 0;
	char name[PATH_MAX];
	int ret = 0;

	for (unsigned int i = 0; i < v->nb && ret == 0; i++) {
		ret = part_name(name, sizeof(name), v->path, i);
		if (ret == 0 && (parts[i] = fopen(name, "r")) == NULL)
			ret = -1;
		if (ret == 0)
			ret = index_part(parts[i], i, &lines, &nb, &cap);
	}
	if (ret == 0) {
		if (nb != 0)	/* qsort's base must not be NULL */
			qsort(lines, nb, sizeof(*lines), by_n);
		ret = write_sorted(v->out, parts, lines, nb);
	}
	free(lines);
	for (unsigned int i = 0; i < v->nb; i++)
		if (parts[i] != NULL)
			fclose(parts[i]);
	return ret;
}

int
rxsec_verdict_files_close(struct rxsec_verdict_files *v)
{
	int ret = 0, err = 0;

	errno = 0;
	for (unsigned int i = 0; i < v->nb; i++)
		if (v->f[i] != NULL && fclose(v->f[i]) != 0 && ret == 0) {
			ret = -1;
			err = errno;
		}
	if (ret == 0 && v->out != NULL && merge_parts(v) != 0) {
		ret = -1;
		err = errno ? errno : EIO;	/* a part cut short under us */
	}
	if (v->out != NULL && fclose(v->out) != 0 && ret == 0) {
		ret = -1;
		err = errno;
	}
	/* the parts go only once the final file is whole: a failed merge keeps them */
	if (ret == 0 && v->out != NULL)
		remove_parts(v);
	if (ret != 0)
		fprintf(stderr, "rxsec: --verdicts: cannot write '%s': %s%s%s%s\n", v->path,
			strerror(err), v->out != NULL ? " (the parts '" : "",
			v->out != NULL ? v->path : "", v->out != NULL ? ".partN' are kept)" : "");
	memset(v, 0, sizeof(*v));
	return ret;
}
