/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rxsec-crypto-bench: what IPsec-MB alone costs for the decryptions in a
 * benchmark pcap, in TSC cycles per packet.  scripts/bench.sh adds this to
 * the I/O cost (testpmd io forwarding of the same frames) to get the floor a
 * receive path on one core cannot beat, and prints rxsec's cycles next to it.
 *
 * Only AES-GCM tunnel or transport ESP over IPv4 without ESN (the benchmark's
 * traffic): ICV 16 bytes, IV 8 bytes, AAD = SPI || sequence number
 * (RFC 4106 section 5), nonce = salt || IV (RFC 4106 section 4).  Jobs go
 * through the burst API (IMB_GET_NEXT_BURST / IMB_SUBMIT_BURST, one burst of
 * jobs per packet burst) or, with --api direct, one IMB_AES128_GCM_DEC call
 * per packet (GCM is not multi-buffer in IPsec-MB, so this skips the job
 * manager's overhead); out of place so the same buffers decrypt again on
 * every pass, and every tag is compared with the packet's ICV like a receiver
 * must: a single mismatch makes the tool fail, so a wrong key file cannot
 * produce a flattering number.
 *
 * --api vaes measures rxsec's own short-packet GCM (drivers/crypto/gcm_vaes.c,
 * four packets at a time, in place) for comparison: packets it does not take
 * (more than 112 bytes of ciphertext) go to the direct call. In place, a
 * pass turns ciphertext into plaintext and the next one back (counter mode),
 * so tags are checked on every other pass; the work is the same on both.
 *
 * usage: rxsec-crypto-bench --pcap FILE --keys FILE [--burst N] [--seconds S]
 *                           [--api burst|direct|vaes]
 *   keys file: one "SPI KEYHEX" line per SA, KEYHEX = 16-byte key + 4-byte salt.
 * Prints one line of key=value pairs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <intel-ipsec-mb.h>
#include <pcap/pcap.h>

#include "gcm_vaes.h"

#define BENCH_MAX_BURST 256
#define ESP_HDR_LEN 8
#define GCM_IV_LEN 8
#define GCM_ICV_LEN 16
#define GCM_SALT_LEN 4
#define GCM_KEY_LEN 16

struct bench_sa {
	uint32_t spi;
	uint8_t salt[GCM_SALT_LEN];
	struct gcm_key_data key __attribute__((aligned(64)));
	struct rxsec_gcm_vaes_key vkey;
};

struct bench_pkt {
	const struct bench_sa *sa;
	uint8_t *esp;		/* ESP header: SPI, sequence number, IV, ... */
	uint8_t *plain;		/* out-of-place output */
	uint32_t ct_len;	/* ciphertext length (payload + trailer) */
	uint8_t nonce[12] __attribute__((aligned(16)));
	uint8_t tag[GCM_ICV_LEN];
};

struct bench_opts {
	const char *pcap;
	const char *keys;
	unsigned int burst;
	double seconds;
	int direct;
	int vaes;
};

static int
parse_hex(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

/* One "SPI KEYHEX" line into sa; -1 with a reason in why. */
static int
parse_key_line(char *line, struct bench_sa *sa, uint8_t *raw, const char **why)
{
	char *spi = strtok(line, " \t\r\n"), *hex = strtok(NULL, " \t\r\n"), *end;
	unsigned long v;

	if (spi == NULL || hex == NULL || strtok(NULL, " \t\r\n") != NULL) {
		*why = "want \"SPI KEYHEX\"";
		return -1;
	}
	errno = 0;
	v = strtoul(spi, &end, 0);
	if (*end != '\0' || errno != 0 || v > UINT32_MAX) {
		*why = "the SPI is not a 32-bit number";
		return -1;
	}
	if (parse_hex(hex, raw, GCM_KEY_LEN + GCM_SALT_LEN) != 0) {
		*why = "KEYHEX is not 20 bytes in hex (16 key + 4 salt)";
		return -1;
	}
	sa->spi = (uint32_t)v;
	return 0;
}

static void
key_schedules(IMB_MGR *mgr, struct bench_sa *sa, const uint8_t *raw)
{
	memcpy(sa->salt, raw + GCM_KEY_LEN, GCM_SALT_LEN);
	IMB_AES128_GCM_PRE(mgr, raw, &sa->key);
	if (rxsec_gcm_vaes_cpu_ok()) {
		uint8_t enc[16 * 15] __attribute__((aligned(16))), dec[16 * 15]
			__attribute__((aligned(16)));

		IMB_AES_KEYEXP_128(mgr, raw, enc, dec);
		rxsec_gcm_vaes_key_init(&sa->vkey, enc, 10, sa->salt, GCM_ICV_LEN, false);
	}
}

static struct bench_sa *
load_keys(const char *path, IMB_MGR *mgr, unsigned int *n_sa)
{
	struct bench_sa *sas = NULL;
	unsigned int n = 0, cap = 0, line_no = 0;
	char line[256];
	uint8_t raw[GCM_KEY_LEN + GCM_SALT_LEN];
	const char *why = NULL;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	while (why == NULL && fgets(line, sizeof(line), f) != NULL) {
		line_no++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			why = "line too long";
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			sas = realloc(sas, cap * sizeof(*sas));
			if (sas == NULL)
				abort();
		}
		if (parse_key_line(line, &sas[n], raw, &why) == 0)
			key_schedules(mgr, &sas[n++], raw);
	}
	fclose(f);
	if (why != NULL)
		fprintf(stderr, "%s:%u: %s\n", path, line_no, why);
	else if (n == 0)
		fprintf(stderr, "%s: no keys\n", path);
	if (why != NULL || n == 0) {
		free(sas);
		return NULL;
	}
	*n_sa = n;
	return sas;
}

static const struct bench_sa *
find_sa(const struct bench_sa *sas, unsigned int n, uint32_t spi)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (sas[i].spi == spi)
			return &sas[i];
	return NULL;
}

/* Frame -> ESP packet description; -1 if it is not IPv4 ESP. */
static int
parse_frame(const uint8_t *frame, uint32_t caplen, struct bench_pkt *p,
	    const struct bench_sa *sas, unsigned int n_sa)
{
	uint32_t ihl, tot, spi, esp_len;

	if (caplen < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00)
		return -1;
	ihl = (frame[14] & 0x0f) * 4u;
	tot = (uint32_t)frame[16] << 8 | frame[17];
	if (frame[14 + 9] != 50 || tot > caplen - 14 || tot < ihl)
		return -1;
	esp_len = tot - ihl;
	if (esp_len < ESP_HDR_LEN + GCM_IV_LEN + GCM_ICV_LEN + 2)
		return -1;
	memcpy(&spi, frame + 14 + ihl, 4);
	p->sa = find_sa(sas, n_sa, __builtin_bswap32(spi));
	if (p->sa == NULL)
		return -1;
	p->esp = malloc(esp_len);
	p->plain = malloc(esp_len);
	if (p->esp == NULL || p->plain == NULL)
		abort();
	memcpy(p->esp, frame + 14 + ihl, esp_len);
	p->ct_len = esp_len - ESP_HDR_LEN - GCM_IV_LEN - GCM_ICV_LEN;
	/* RFC 4106 section 4: nonce = 4-byte salt from the key || 8-byte IV */
	memcpy(p->nonce, p->sa->salt, GCM_SALT_LEN);
	memcpy(p->nonce + GCM_SALT_LEN, p->esp + ESP_HDR_LEN, GCM_IV_LEN);
	return 0;
}

static struct bench_pkt *
load_pcap(const char *path, const struct bench_sa *sas, unsigned int n_sa,
	  unsigned int *n_pkt)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *data;
	struct bench_pkt *pkts = NULL;
	unsigned int n = 0, cap = 0, skipped = 0;
	pcap_t *pc = pcap_open_offline(path, errbuf);

	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return NULL;
	}
	while (pcap_next_ex(pc, &hdr, &data) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			pkts = realloc(pkts, cap * sizeof(*pkts));
			if (pkts == NULL)
				abort();
		}
		memset(&pkts[n], 0, sizeof(pkts[n]));
		if (parse_frame(data, hdr->caplen, &pkts[n], sas, n_sa) == 0)
			n++;
		else
			skipped++;
	}
	pcap_close(pc);
	if (skipped != 0)
		fprintf(stderr, "%s: %u frames are not ESP of a known SA\n",
			path, skipped);
	*n_pkt = n;
	return pkts;
}

static void
fill_job(IMB_JOB *job, struct bench_pkt *p)
{
	job->cipher_mode = IMB_CIPHER_GCM;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->key_len_in_bytes = IMB_KEY_128_BYTES;
	job->enc_keys = &p->sa->key;
	job->dec_keys = &p->sa->key;
	job->src = p->esp;
	job->dst = p->plain + ESP_HDR_LEN + GCM_IV_LEN;
	job->cipher_start_src_offset_in_bytes = ESP_HDR_LEN + GCM_IV_LEN;
	job->msg_len_to_cipher_in_bytes = p->ct_len;
	job->hash_start_src_offset_in_bytes = ESP_HDR_LEN + GCM_IV_LEN;
	job->msg_len_to_hash_in_bytes = p->ct_len;
	job->iv = p->nonce;
	job->iv_len_in_bytes = 12;
	/* RFC 4106 section 5: AAD = SPI || 32-bit sequence number */
	job->u.GCM.aad = p->esp;
	job->u.GCM.aad_len_in_bytes = ESP_HDR_LEN;
	job->auth_tag_output = p->tag;
	job->auth_tag_output_len_in_bytes = GCM_ICV_LEN;
	job->user_data = p;
}

static unsigned int
check_jobs(IMB_JOB **jobs, unsigned int n)
{
	unsigned int i, bad = 0;
	const struct bench_pkt *p;

	for (i = 0; i < n; i++) {
		p = jobs[i]->user_data;
		if (jobs[i]->status != IMB_STATUS_COMPLETED ||
		    memcmp(p->tag, p->esp + ESP_HDR_LEN + GCM_IV_LEN + p->ct_len,
			   GCM_ICV_LEN) != 0)
			bad++;
	}
	return bad;
}

/* Decrypt pkts[0..n) once, in bursts; returns the number of failed ICVs. */
static unsigned int
decrypt_pass(IMB_MGR *mgr, struct bench_pkt *pkts, unsigned int n,
	     unsigned int burst)
{
	IMB_JOB *jobs[BENCH_MAX_BURST];
	unsigned int i, k, todo, got, done, bad = 0;

	for (i = 0; i < n; i += todo) {
		todo = n - i < burst ? n - i : burst;
		got = IMB_GET_NEXT_BURST(mgr, todo, jobs);
		if (got < todo) {
			done = IMB_FLUSH_BURST(mgr, BENCH_MAX_BURST, jobs);
			bad += check_jobs(jobs, done);
			got = IMB_GET_NEXT_BURST(mgr, todo, jobs);
			todo = got;
		}
		for (k = 0; k < todo; k++)
			fill_job(jobs[k], &pkts[i + k]);
		done = IMB_SUBMIT_BURST(mgr, todo, jobs);
		if (done == 0 && imb_get_errno(mgr) != 0) {
			fprintf(stderr, "submit_burst: %s\n",
				imb_get_strerror(imb_get_errno(mgr)));
			exit(1);
		}
		bad += check_jobs(jobs, done);
	}
	done = IMB_FLUSH_BURST(mgr, BENCH_MAX_BURST, jobs);
	bad += check_jobs(jobs, done);
	return bad;
}

/* The same with the direct GCM API; ctx lives on the stack like a receiver's. */
static unsigned int
decrypt_pass_direct(IMB_MGR *mgr, struct bench_pkt *pkts, unsigned int n)
{
	struct gcm_context_data ctx;
	struct bench_pkt *p;
	unsigned int i, bad = 0;

	for (i = 0; i < n; i++) {
		p = &pkts[i];
		IMB_AES128_GCM_DEC(mgr, &p->sa->key, &ctx,
				   p->plain + ESP_HDR_LEN + GCM_IV_LEN,
				   p->esp + ESP_HDR_LEN + GCM_IV_LEN, p->ct_len,
				   p->nonce, p->esp, ESP_HDR_LEN,
				   p->tag, GCM_ICV_LEN);
		if (memcmp(p->tag, p->esp + ESP_HDR_LEN + GCM_IV_LEN + p->ct_len,
			   GCM_ICV_LEN) != 0)
			bad++;
	}
	return bad;
}

/* One group through rxsec's short GCM; the failed tags when check is set. */
static unsigned int
vaes_group(const struct rxsec_gcm_vaes_key *const *key, struct rxsec_crypto_op *ops,
	   unsigned int g, bool check)
{
	struct rxsec_crypto_op *op[RXSEC_GCM_VAES_GROUP];
	unsigned int i, bad = 0;

	for (i = 0; i < g; i++)
		op[i] = &ops[i];
	rxsec_gcm_vaes_decrypt(key, op, g);
	for (i = 0; i < g; i++)
		bad += ops[i].result != RXSEC_CRYPTO_OK && check;
	return bad;
}

/* rxsec's short GCM in place, in groups as the driver forms them; the
 * buffers hold ciphertext when check is set (see the top of the file). */
static unsigned int
decrypt_pass_vaes(IMB_MGR *mgr, struct bench_pkt *pkts, unsigned int n, bool check)
{
	const struct rxsec_gcm_vaes_key *key[RXSEC_GCM_VAES_GROUP];
	struct rxsec_crypto_op ops[RXSEC_GCM_VAES_GROUP];
	unsigned int i, g = 0, bad = 0;

	for (i = 0; i < n; i++) {
		struct bench_pkt *p = &pkts[i];

		if (p->ct_len > RXSEC_GCM_VAES_MAX_CT) {
			bad += decrypt_pass_direct(mgr, p, 1);
			continue;
		}
		key[g] = &p->sa->vkey;
		ops[g].data = p->esp;
		ops[g].len = ESP_HDR_LEN + GCM_IV_LEN + p->ct_len + GCM_ICV_LEN;
		ops[g].seq_hi = 0;
		if (++g == RXSEC_GCM_VAES_GROUP) {
			bad += vaes_group(key, ops, g, check);
			g = 0;
		}
	}
	if (g != 0)
		bad += vaes_group(key, ops, g, check);
	return bad;
}

static unsigned int
pass(IMB_MGR *mgr, struct bench_pkt *pkts, unsigned int n,
     const struct bench_opts *o)
{
	static unsigned int nb_pass;

	if (o->vaes)
		return decrypt_pass_vaes(mgr, pkts, n, nb_pass++ % 2 == 0);
	if (o->direct)
		return decrypt_pass_direct(mgr, pkts, n);
	return decrypt_pass(mgr, pkts, n, o->burst);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
tsc_hz(void)
{
	double t0 = now_s(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do
		t1 = now_s();
	while (t1 - t0 < 0.2);
	c1 = __rdtsc();
	return (double)(c1 - c0) / (t1 - t0);
}

static const char *
arch_name(IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_SSE: return "sse";
	case IMB_ARCH_AVX: return "avx";
	case IMB_ARCH_AVX2: return "avx2";
	case IMB_ARCH_AVX512: return "avx512";
	default: return "other";
	}
}

/* A whole-string number in [lo, hi]; else names the option and returns -1. */
static int
opt_number(const char *name, const char *text, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !(*v >= lo && *v <= hi)) {
		fprintf(stderr, "--%s %s: want a number from %g to %g\n", name, text, lo, hi);
		return -1;
	}
	return 0;
}

static int
parse_api(const char *text, struct bench_opts *o)
{
	o->direct = strcmp(text, "direct") == 0;
	o->vaes = strcmp(text, "vaes") == 0;
	if (!o->direct && !o->vaes && strcmp(text, "burst") != 0) {
		fprintf(stderr, "--api %s: want burst, direct or vaes\n", text);
		return -1;
	}
	if (o->vaes && !rxsec_gcm_vaes_cpu_ok()) {
		fprintf(stderr, "--api vaes: this CPU lacks AVX-512 VAES/VPCLMULQDQ\n");
		return -1;
	}
	return 0;
}

/* 0: run; 1: --help; -1: a wrong option, already named. */
static int
parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "pcap", required_argument, NULL, 'p' },
		{ "keys", required_argument, NULL, 'k' },
		{ "burst", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' },
		{ "api", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	o->burst = 32;
	o->seconds = 1.0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pcap = optarg; break;
		case 'k': o->keys = optarg; break;
		case 'b':
			if (opt_number("burst", optarg, 1, BENCH_MAX_BURST, &v) != 0)
				return -1;
			if (v != (unsigned int)v) {
				fprintf(stderr, "--burst %s: want a whole number\n", optarg);
				return -1;
			}
			o->burst = (unsigned int)v;
			break;
		case 's':
			if (opt_number("seconds", optarg, 0.001, 3600, &v) != 0)
				return -1;
			o->seconds = v;
			break;
		case 'a':
			if (parse_api(optarg, o) != 0)
				return -1;
			break;
		case 'h': return 1;
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument\n", argv[optind]);
		return -1;
	}
	if (o->pcap == NULL || o->keys == NULL) {
		fprintf(stderr, "--pcap and --keys are both needed\n");
		return -1;
	}
	return 0;
}

static void
free_pkts(struct bench_pkt *pkts, unsigned int n_pkt)
{
	for (unsigned int i = 0; pkts != NULL && i < n_pkt; i++) {
		free(pkts[i].esp);
		free(pkts[i].plain);
	}
	free(pkts);
}

/* Time passes over the traffic; 0 when every ICV verified. */
static int
measure(IMB_MGR *mgr, IMB_ARCH arch, struct bench_pkt *pkts, unsigned int n_pkt,
	unsigned int n_sa, const struct bench_opts *o)
{
	unsigned int i, bad, passes = 0;
	uint64_t c0, cycles, bytes = 0;
	double t0, hz;

	for (i = 0; i < n_pkt; i++)
		bytes += pkts[i].ct_len;
	/* warm-up pass; also proves keys and traffic match */
	bad = pass(mgr, pkts, n_pkt, o);
	if (bad != 0) {
		fprintf(stderr, "%u of %u ICVs did not verify\n", bad, n_pkt);
		return 1;
	}
	hz = tsc_hz();
	t0 = now_s();
	c0 = __rdtsc();
	do {
		bad += pass(mgr, pkts, n_pkt, o);
		passes++;
	} while (now_s() - t0 < o->seconds);
	cycles = __rdtsc() - c0;
	if (bad != 0) {
		fprintf(stderr, "%u ICVs did not verify\n", bad);
		return 1;
	}
	printf("pkts=%u sas=%u passes=%u api=%s burst=%u arch=%s imb=%s "
	       "avg_ct_bytes=%.1f tsc_hz=%.0f cycles_per_pkt=%.1f mpps=%.3f\n",
	       n_pkt, n_sa, passes, o->vaes ? "vaes" : o->direct ? "direct" : "burst", o->burst,
	       arch_name(arch), imb_get_version_str(),
	       (double)bytes / n_pkt, hz,
	       (double)cycles / ((double)passes * n_pkt),
	       hz / ((double)cycles / ((double)passes * n_pkt)) / 1e6);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts o = { 0 };
	struct bench_sa *sas = NULL;
	struct bench_pkt *pkts = NULL;
	unsigned int n_sa = 0, n_pkt = 0;
	int ret;
	IMB_ARCH arch;
	IMB_MGR *mgr;

	ret = parse_args(argc, argv, &o);
	if (ret != 0) {
		fprintf(ret > 0 ? stdout : stderr, "usage: %s --pcap FILE --keys FILE "
			"[--burst N] [--seconds S] [--api burst|direct|vaes]\n",
			argv[0]);
		return ret > 0 ? 0 : 2;
	}
	ret = 1;
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL)
		return 1;
	init_mb_mgr_auto(mgr, &arch);
	sas = load_keys(o.keys, mgr, &n_sa);
	if (sas != NULL)
		pkts = load_pcap(o.pcap, sas, n_sa, &n_pkt);
	if (pkts != NULL && n_pkt != 0)
		ret = measure(mgr, arch, pkts, n_pkt, n_sa, &o);
	else if (sas != NULL && pkts != NULL)
		fprintf(stderr, "%s: no ESP packet of a known SA\n", o.pcap);
	free_pkts(pkts, n_pkt);
	free(sas);
	free_mb_mgr(mgr);
	return ret;
}
