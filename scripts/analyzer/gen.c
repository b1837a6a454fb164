// SPDX-License-Identifier: GPL-2.0
/*
 * irqpath-gen - build a large trace.dat for `make bench` by replaying a real
 * recording N times back to back.
 *
 *   irqpath-gen [-n COPIES] [-t TIMER_RECORDS] [-z COMPRESSION] [-V FILE_VERSION] IN.dat OUT.dat
 *
 * The records of IN are read through libtracecmd (tracecmd_iterate_events)
 * and kept in memory; each copy k is shifted by k * (span of IN + 1 ms).
 * Each CPU's records are written as kernel ring-buffer pages (the page
 * header and event header layout that the file's own header_page/
 * header_event describe: 64-bit timestamp, 8-byte commit, 5-bit type_len +
 * 27-bit time delta, time-extend events for longer deltas) into one
 * temporary file per CPU, the format in which trace-cmd record itself
 * hands the kernel's pages to libtracecmd.  The output file is then made
 * by libtracecmd's output API: tracecmd_copy() copies IN's headers (event
 * formats, kallsyms, printk formats, cmdlines) and
 * tracecmd_append_cpu_data() adds the per-CPU data, compressed as asked.
 *
 * Those functions (and tracecmd_page_size()) are exported by libtracecmd.so.1 but declared only
 * in trace-cmd's private header, so they are declared here with their
 * 3.1 prototypes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trace-cmd.h>

struct tracecmd_output;
/* libtracecmd 1.3 (trace-cmd 3.1), lib/trace-cmd/include/private/trace-cmd-private.h */
enum { GEN_TRACECMD_FILE_CMD_LINES = 7 };
struct tracecmd_output *tracecmd_copy(struct tracecmd_input *ihandle, const char *file,
				      int state, int file_version, const char *compression);
int tracecmd_append_cpu_data(struct tracecmd_output *handle, int cpus,
			     char * const *cpu_data_files);
void tracecmd_output_close(struct tracecmd_output *handle);
int tracecmd_page_size(struct tracecmd_input *handle);

#define MAX_CPUS	256
#define TS_BITS		27
#define TYPE_EXTEND	30
#define MAX_SMALL	(28 * 4)

struct rec {
	uint64_t ts;
	uint32_t off;		/* into data[] */
	uint16_t size;
	uint16_t cpu;
};

struct src {
	struct rec *rec;
	size_t nrec, arec;
	unsigned char *data;
	size_t ndata, adata;
	int ncpus;
	uint64_t first, last;
};

struct page_writer {
	FILE *f;
	unsigned char *page;
	unsigned int used;	/* bytes of data after the header */
	uint64_t last_ts;
	bool open;
	uint64_t pages;
};

static unsigned int page_size, hdr_size;

static int collect(struct tracecmd_input *h, struct tep_record *r, int cpu, void *data)
{
	struct src *s = data;
	struct rec *x;

	(void)h;
	if (cpu < 0 || cpu >= MAX_CPUS || r->size <= 0 || r->size > 65535)
		return 0;
	if (s->nrec == s->arec) {
		s->arec = s->arec ? 2 * s->arec : 65536;
		s->rec = realloc(s->rec, s->arec * sizeof(*s->rec));
		if (!s->rec)
			return -1;
	}
	while (s->ndata + (size_t)r->size + 4 > s->adata) {
		s->adata = s->adata ? 2 * s->adata : 1 << 22;
		s->data = realloc(s->data, s->adata);
		if (!s->data)
			return -1;
	}
	x = &s->rec[s->nrec++];
	x->ts = r->ts;
	x->off = (uint32_t)s->ndata;
	x->size = (uint16_t)((r->size + 3) & ~3);
	x->cpu = (uint16_t)cpu;
	memset(s->data + s->ndata, 0, x->size);
	memcpy(s->data + s->ndata, r->data, (size_t)r->size);
	s->ndata += x->size;
	if (!s->first || r->ts < s->first)
		s->first = r->ts;
	if (r->ts > s->last)
		s->last = r->ts;
	if (cpu + 1 > s->ncpus)
		s->ncpus = cpu + 1;
	return 0;
}

static int page_flush(struct page_writer *w)
{
	uint64_t commit = w->used;

	if (!w->open)
		return 0;
	memcpy(w->page + 8, &commit, 8);
	memset(w->page + hdr_size + w->used, 0, page_size - hdr_size - w->used);
	if (fwrite(w->page, page_size, 1, w->f) != 1)
		return -1;
	w->open = false;
	w->pages++;
	return 0;
}

static void put32(struct page_writer *w, uint32_t v)
{
	memcpy(w->page + hdr_size + w->used, &v, 4);
	w->used += 4;
}

/* Append one event: header (+ time extend) + payload, opening pages as needed. */
static int page_add(struct page_writer *w, uint64_t ts, const unsigned char *data, unsigned int size)
{
	unsigned int need = 4 + size + (size > MAX_SMALL ? 4 : 0);
	uint64_t delta;

	if (w->open) {
		delta = ts - w->last_ts;
		if (delta >> TS_BITS)
			need += 8;
		if (hdr_size + w->used + need > page_size && page_flush(w))
			return -1;
	}
	if (!w->open) {
		memset(w->page, 0, hdr_size);
		memcpy(w->page, &ts, 8);
		w->used = 0;
		w->last_ts = ts;
		w->open = true;
		if (hdr_size + 4 + size + 4 > page_size)
			return -1;
	}
	delta = ts - w->last_ts;
	if (delta >> TS_BITS) {
		put32(w, TYPE_EXTEND | (uint32_t)(delta & ((1u << TS_BITS) - 1)) << 5);
		put32(w, (uint32_t)(delta >> TS_BITS));
		delta = 0;
	}
	if (size <= MAX_SMALL) {
		put32(w, (size / 4) | (uint32_t)delta << 5);
	} else {
		put32(w, 0 | (uint32_t)delta << 5);
		put32(w, size + 4);
	}
	memcpy(w->page + hdr_size + w->used, data, size);
	w->used += size;
	w->last_ts = ts;
	return 0;
}

/* Append one record with @size bytes of payload, as collect() does. */
static int add_rec(struct src *s, uint64_t ts, int cpu, const unsigned char *data, unsigned int size)
{
	struct tep_record r;

	memset(&r, 0, sizeof(r));
	r.ts = ts;
	r.size = (int)size;
	r.data = (void *)data;
	return collect(NULL, &r, cpu, s);
}

static void put_field(unsigned char *buf, struct tep_format_field *f, uint64_t v)
{
	if (f && f->size > 0 && f->size <= 8)
		memcpy(buf + f->offset, &v, (size_t)f->size);	/* little endian */
}

/*
 * -t N: N kvm_apic_timer_expired records, made with the recording's own
 * format of the event (the lab has no selftest that lets the LAPIC timer
 * fire): every mode and outcome in turn, hv alternating, for the vCPU, in
 * the task and on the CPU of the recording's first kvm_entry, 1 us apart
 * from its start.
 */
static int add_timer_records(struct src *s, struct tep_handle *tep, unsigned int n)
{
	static const uint64_t modes[] = { 0, 0x20000, 0x40000 };
	struct tep_event *te = tep_find_event_by_name(tep, "kvm", "kvm_apic_timer_expired");
	struct tep_event *entry = tep_find_event_by_name(tep, "kvm", "kvm_entry");
	struct tep_format_field **fields, *pidf;
	unsigned char buf[256];
	unsigned int size = 0, i, k;
	struct tep_format_field *idf = tep_find_field(entry ? entry : te, "vcpu_id");
	int cpu = 0, pid = 0, vcpu_id = 0;
	size_t j;

	if (!te || !entry) {
		fprintf(stderr, "irqpath-gen: the recording has no kvm_apic_timer_expired/kvm_entry format\n");
		return -1;
	}
	fields = tep_event_fields(te);
	for (k = 0; fields && fields[k]; k++)
		if ((unsigned int)(fields[k]->offset + fields[k]->size) > size)
			size = (unsigned int)(fields[k]->offset + fields[k]->size);
	free(fields);
	pidf = tep_find_common_field(te, "common_pid");
	if (!size || size > sizeof(buf) || !pidf)
		return -1;
	for (j = 0; j < s->nrec; j++) {
		uint16_t type;

		memcpy(&type, s->data + s->rec[j].off, 2);
		if (type == entry->id) {
			cpu = s->rec[j].cpu;
			memcpy(&pid, s->data + s->rec[j].off + pidf->offset, 4);
			if (idf && idf->size == 4)
				memcpy(&vcpu_id, s->data + s->rec[j].off + idf->offset, 4);
			break;
		}
	}
	for (i = 0; i < n; i++) {
		memset(buf, 0, sizeof(buf));
		put_field(buf, tep_find_common_field(te, "common_type"), (uint64_t)te->id);
		put_field(buf, pidf, (uint64_t)(uint32_t)pid);
		put_field(buf, tep_find_field(te, "vcpu_id"), (uint64_t)(uint32_t)vcpu_id);
		put_field(buf, tep_find_field(te, "mode"), modes[i % 3]);
		put_field(buf, tep_find_field(te, "late_ns"), (uint64_t)(int64_t)(1000 * (int64_t)i - 500));
		put_field(buf, tep_find_field(te, "outcome"), i % 4);
		put_field(buf, tep_find_field(te, "hv"), i % 2);
		if (add_rec(s, s->first + 1000 * (i + 1), cpu, buf, size))
			return -1;
	}
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void usage(void)
{
	fprintf(stderr, "usage: irqpath-gen [-n COPIES] [-t TIMER_RECORDS] [-z none|zstd|zlib|any] [-V 6|7] IN.dat OUT.dat\n");
}

int main(int argc, char **argv)
{
	struct page_writer w[MAX_CPUS];
	char *files[MAX_CPUS] = { NULL };
	const char *compr = "any";
	struct tracecmd_input *ih;
	struct tracecmd_output *oh;
	struct tep_handle *tep;
	struct src s;
	char tmpl[64];
	uint64_t span, k, n = 64, events = 0;
	unsigned int timers = 0;
	int c, version = 7, i, ret = 1;
	size_t j;

	while ((c = getopt(argc, argv, "n:t:z:V:")) != -1) {
		switch (c) {
		case 't':
			timers = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'z':
			compr = optarg;
			break;
		case 'V':
			version = atoi(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !n) {
		usage();
		return 2;
	}
	memset(&s, 0, sizeof(s));
	memset(w, 0, sizeof(w));
	ih = tracecmd_open(argv[optind], TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!ih) {
		fprintf(stderr, "irqpath-gen: %s: cannot open\n", argv[optind]);
		return 1;
	}
	tep = tracecmd_get_tep(ih);
	page_size = (unsigned int)tracecmd_page_size(ih);
	hdr_size = 8 + (unsigned int)tep_get_header_page_size(tep);
	if (tep_get_long_size(tep) != 8 || hdr_size != 16 || page_size < 1024 || tep_is_file_bigendian(tep)) {
		fprintf(stderr, "irqpath-gen: only 64-bit little-endian recordings (page %u, header %u)\n",
			page_size, hdr_size);
		goto out;
	}
	if (tracecmd_iterate_events(ih, NULL, 0, collect, &s) < 0 || !s.nrec) {
		fprintf(stderr, "irqpath-gen: %s: no records\n", argv[optind]);
		goto out;
	}
	if (timers) {
		if (add_timer_records(&s, tep, timers))
			goto out;
		/* Records stay in time order (the offset breaks ties: read order). */
		qsort(s.rec, s.nrec, sizeof(*s.rec), rec_cmp);
	}
	span = s.last - s.first + 1000000;
	for (i = 0; i < s.ncpus; i++) {
		snprintf(tmpl, sizeof(tmpl), "/tmp/irqpath-gen-cpu%d-XXXXXX", i);
		files[i] = strdup(tmpl);
		w[i].page = malloc(page_size);
		if (!files[i] || !w[i].page)
			goto out;
		c = mkstemp(files[i]);
		w[i].f = c < 0 ? NULL : fdopen(c, "w");
		if (!w[i].f) {
			fprintf(stderr, "irqpath-gen: %s: %s\n", files[i], strerror(errno));
			goto out;
		}
	}
	for (k = 0; k < n; k++)
		for (j = 0; j < s.nrec; j++) {
			const struct rec *r = &s.rec[j];

			if (page_add(&w[r->cpu], r->ts + k * span, s.data + r->off, r->size)) {
				fprintf(stderr, "irqpath-gen: write error\n");
				goto out;
			}
			events++;
		}
	for (i = 0; i < s.ncpus; i++)
		if (page_flush(&w[i]) || fclose(w[i].f)) {
			w[i].f = NULL;
			fprintf(stderr, "irqpath-gen: write error\n");
			goto out;
		} else {
			w[i].f = NULL;
		}
	oh = tracecmd_copy(ih, argv[optind + 1], GEN_TRACECMD_FILE_CMD_LINES, version,
			   strcmp(compr, "none") ? compr : NULL);
	if (!oh) {
		fprintf(stderr, "irqpath-gen: %s: cannot write headers\n", argv[optind + 1]);
		goto out;
	}
	if (tracecmd_append_cpu_data(oh, s.ncpus, files) < 0) {
		fprintf(stderr, "irqpath-gen: %s: cannot write data\n", argv[optind + 1]);
		tracecmd_output_close(oh);
		goto out;
	}
	tracecmd_output_close(oh);
	printf("%s: %llu events (%llu copies of %zu), %d CPUs, version %d, compression %s\n",
	       argv[optind + 1], (unsigned long long)events, (unsigned long long)n, s.nrec,
	       s.ncpus, version, compr);
	ret = 0;
out:
	for (i = 0; i < s.ncpus; i++) {
		if (w[i].f)
			fclose(w[i].f);
		if (files[i]) {
			unlink(files[i]);
			free(files[i]);
		}
		free(w[i].page);
	}
	free(s.rec);
	free(s.data);
	tracecmd_close(ih);
	return ret;
}
