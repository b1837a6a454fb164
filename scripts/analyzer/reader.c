// SPDX-License-Identifier: GPL-2.0
/*
 * Reading trace.dat through libtracecmd: open the file, resolve the events
 * irqpath uses and the offsets of their fields once from the file's own
 * event formats, then iterate the records in timestamp order and hand the
 * chain engine one normalised struct ev per record it uses.
 *
 * A field the format lacks is read as its default; an event that lacks a
 * field the engine cannot do without is ignored, with a warning.  Records
 * too short for the fields their format announces are counted and skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <trace-cmd.h>

#include "irqpath.h"

#define NR_FIELDS	5
#define MAX_TEPS	8
#define MAX_HANDLES	32
#define MAX_GUESTS	32

/*
 * What irqpath reads from each event: the fields for ev.a .. ev.d (a '|'
 * separates alternative names across kernel versions; a leading '?' marks
 * a field that may be absent and then reads as 0, a leading '!' one that
 * reads as -1; a bare '?' is a placeholder).
 */
struct spec {
	const char *system;
	const char *name;
	enum ev_type type;
	const char *field[NR_FIELDS];
};

static const struct spec specs[] = {
	{ "vhost", "vhost_notify", EV_VHOST_NOTIFY, { "signal", "?reason", "?vq", "?dev" } },
	{ "vhost", "vhost_signal", EV_VHOST_SIGNAL, { "outcome", "?vq", "?dev" } },
	{ "vfio_pci", "vfio_pci_msi_handler", EV_VFIO_MSI, { "?irq", "?vector" } },
	{ "intel_iommu", "irte_posted", EV_IRTE_POSTED, { "?irq", "?vector" } },
	{ "kvm", "kvm_pi_irte_update", EV_PI_IRTE_UPDATE, { "?vcpu_id", "?gvec", "?set", "?host_irq" } },
	{ "kvm", "kvm_irqfd_inject", EV_IRQFD_INJECT, { "gsi", "stage", "ret" } },
	{ "kvm", "kvm_msi_set_irq", EV_MSI_SET_IRQ, { "address", "data" } },
	{ "kvm", "kvm_set_irq", EV_SET_IRQ, { "gsi", "level" } },
	{ "kvm", "kvm_ioapic_set_irq", EV_IOAPIC_SET_IRQ, { "e", "?pin", "?coalesced" } },
	{ "kvm", "kvm_apic_ipi", EV_APIC_IPI, { "icr_low", "dest_id" } },
	{ "kvm", "kvm_apic_timer_expired", EV_TIMER_EXPIRED, { "vcpu_id", "?mode", "outcome", "?late_ns" } },
	{ "kvm", "kvm_apic_accept_irq", EV_ACCEPT_IRQ, { "apicid", "vec", "dm", "?coalesced", "?tm" } },
	{ "kvm", "kvm_apicv_accept_irq", EV_APICV_ACCEPT_IRQ, { "apicid", "vec", "dm", "?", "?tm" } },
	{ "kvm", "kvm_pi_post", EV_PI_POST, { "vcpu_id", "vector", "outcome" } },
	{ "kvm", "kvm_pi_wakeup", EV_PI_WAKEUP, { "vcpu_id", "cpu" } },
	{ "kvm", "kvm_vcpu_wakeup", EV_VCPU_WAKEUP, { "?ns", "?waited", "?valid" } },
	{ "kvm", "kvm_vcpu_sched", EV_VCPU_SCHED, { "vcpu_id", "sched_in", "preempted", "?blocking" } },
	{ "kvm", "kvm_inj_virq", EV_INJ_VIRQ, { "vector|irq", "?reinjected", "?soft" } },
	{ "kvm", "kvm_entry", EV_ENTRY, { "vcpu_id" } },
	{ "kvm", "kvm_exit", EV_EXIT, { "!vcpu_id" } },
	{ "kvm", "kvm_eoi", EV_EOI, { "apicid", "vector" } },
	{ "sched", "sched_switch", EV_SCHED_SWITCH, { "prev_pid", "prev_state", "next_pid" } },
	{ "sched", "sched_wakeup", EV_SCHED_WAKEUP, { "pid", "?target_cpu" } },
};

const char *event_type_name(enum ev_type t)
{
	static char buf[EV_NR][48];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(specs); i++)
		if (specs[i].type == t) {
			if (!buf[t][0])
				snprintf(buf[t], sizeof(buf[t]), "%s:%s", specs[i].system,
					 specs[i].name);
			return buf[t];
		}
	return "?";
}

struct fdesc {
	int off, size;		/* size 0: absent, reads as @absent */
	bool is_signed;
	s64 absent;
};

struct dec {
	enum ev_type type;
	struct fdesc f[NR_FIELDS];
};

struct teptab {
	struct tep_handle *tep;
	struct dec *dec;	/* by event id */
	int max_id;
	struct fdesc pid;
};

struct reader {
	struct analysis *an;
	struct progress *pg;
	struct teptab tt[MAX_TEPS];
	int ntt;
	struct teptab *last;
	struct tep_handle *last_tep;
	struct tep_handle *main_tep;
	u64 bad_records;
	u64 t0;
	double done;		/* fraction of the CPU data read; < 0: unknown */
	bool warned[ARRAY_SIZE(specs)];
};

/*
 * Exported by libtracecmd.so.1 but declared only in trace-cmd's private
 * header: the size of a CPU's (uncompressed) data, used for the progress
 * bar only; when it says nothing useful the bar shows activity instead.
 */
off64_t tracecmd_get_cpu_file_size(struct tracecmd_input *handle, int cpu);

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

const char *reader_comm(struct analysis *an, int pid)
{
	struct reader *rd = an->reader;

	if (!rd || !rd->main_tep || !tep_is_pid_registered(rd->main_tep, pid))
		return NULL;
	return tep_data_comm_from_pid(rd->main_tep, pid);
}

static bool field_desc(struct tep_event *ev, const char *names, struct fdesc *fd)
{
	char buf[64];
	const char *p = names;

	fd->absent = *p == '!' ? -1 : 0;
	if (*p == '?' || *p == '!')
		p++;
	while (*p) {
		size_t n = strcspn(p, "|");
		struct tep_format_field *f;

		if (n >= sizeof(buf))
			return false;
		memcpy(buf, p, n);
		buf[n] = '\0';
		f = tep_find_any_field(ev, buf);
		if (f && (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8 ||
			  (f->flags & TEP_FIELD_IS_ARRAY))) {
			fd->off = f->offset;
			fd->size = f->size;
			fd->is_signed = f->flags & TEP_FIELD_IS_SIGNED;
			return true;
		}
		p += n;
		if (*p == '|')
			p++;
	}
	fd->size = 0;
	return false;
}

static struct teptab *teptab_for(struct reader *rd, struct tep_handle *tep)
{
	struct analysis *an = rd->an;
	struct tep_format_field *pidf = NULL;
	struct teptab *t;
	unsigned int i, k;

	if (tep == rd->last_tep)
		return rd->last;
	for (i = 0; i < (unsigned int)rd->ntt; i++)
		if (rd->tt[i].tep == tep)
			goto found;
	if (rd->ntt == MAX_TEPS)
		return NULL;
	t = &rd->tt[rd->ntt];
	memset(t, 0, sizeof(*t));
	t->tep = tep;
	t->max_id = -1;
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		struct tep_event *e = tep_find_event_by_name(tep, specs[i].system, specs[i].name);

		if (e && e->id > t->max_id)
			t->max_id = e->id;
	}
	t->dec = calloc((size_t)t->max_id + 1, sizeof(*t->dec));
	if (!t->dec && t->max_id >= 0)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		const struct spec *s = &specs[i];
		struct tep_event *e = tep_find_event_by_name(tep, s->system, s->name);
		struct dec d;
		bool ok = true;

		if (!e || e->id < 0)
			continue;
		memset(&d, 0, sizeof(d));
		d.type = s->type;
		for (k = 0; k < NR_FIELDS && s->field[k]; k++)
			if (!field_desc(e, s->field[k], &d.f[k]) && s->field[k][0] != '?' &&
			    s->field[k][0] != '!') {
				if (!rd->warned[i])
					fprintf(stderr,
						"irqpath: %s: event %s:%s has no field '%s': event ignored\n",
						an->file, s->system, s->name, s->field[k]);
				rd->warned[i] = true;
				ok = false;
			}
		if (!ok)
			continue;
		if (!pidf)
			pidf = tep_find_common_field(e, "common_pid");
		t->dec[e->id] = d;
		an->have[s->type] = true;
	}
	if (pidf && pidf->size == 4) {
		t->pid.off = pidf->offset;
		t->pid.size = 4;
		t->pid.is_signed = true;
	}
	i = (unsigned int)rd->ntt++;
found:
	rd->last_tep = tep;
	rd->last = &rd->tt[i];
	return rd->last;
}

static inline bool read_field(const struct tep_record *rec, const struct fdesc *fd, s64 *out)
{
	const u8 *p = (const u8 *)rec->data + fd->off;

	if (!fd->size) {
		*out = fd->absent;
		return true;
	}
	if (fd->off < 0 || fd->off + fd->size > rec->size)
		return false;
	switch (fd->size) {
	case 1:
		*out = fd->is_signed ? (s64)*(const int8_t *)p : (s64)*p;
		break;
	case 2: {
		u16 v;

		memcpy(&v, p, 2);
		*out = fd->is_signed ? (s64)(int16_t)v : (s64)v;
		break;
	}
	case 4: {
		u32 v;

		memcpy(&v, p, 4);
		*out = fd->is_signed ? (s64)(int32_t)v : (s64)v;
		break;
	}
	default: {
		u64 v;

		memcpy(&v, p, 8);
		*out = (s64)v;
		break;
	}
	}
	return true;
}

static void progress(struct reader *rd, u64 ts, bool final)
{
	struct analysis *an = rd->an;
	static const char spin[] = "|/-\\";
	u64 now = now_ns(), el;
	char bar[21];
	unsigned int i, fill;

	if (!final && now - rd->pg->last_update_ns < 100000000ull)
		return;
	rd->pg->last_update_ns = now;
	el = now - rd->t0;
	if (final)
		rd->done = 1.0;
	if (rd->done >= 0) {
		fill = (unsigned int)(rd->done * 20 + 0.5);
		for (i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
	} else {
		/* Size unknown (several buffers): a block moving with the work. */
		fill = (unsigned int)((an->events >> 16) % 20);
		for (i = 0; i < 20; i++)
			bar[i] = i == fill ? '#' : '.';
	}
	bar[20] = '\0';
	fprintf(stderr, "\r%c [%s] %3.0f%% %s: %llu events, %.3f s of trace, %.1f M events/s ",
		final ? ' ' : spin[(now / 100000000ull) % 4], bar,
		rd->done >= 0 ? rd->done * 100 : 0.0, an->file,
		(unsigned long long)an->events, (double)(ts - an->first_ts) / 1e9,
		el ? (double)an->events * 1e3 / (double)el : 0.0);
	if (final)
		fputc('\n', stderr);
}

static int on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct reader *rd = data;
	struct analysis *an = rd->an;
	struct teptab *t = teptab_for(rd, tracecmd_get_tep(h));
	const struct dec *d;
	struct ev ev;
	s64 pid;
	int id, k;

	if (!an->events++)
		an->first_ts = rec->ts;
	if (rec->ts > an->last_ts)
		an->last_ts = rec->ts;
	if (cpu + 1 > an->nr_cpus)
		an->nr_cpus = cpu + 1;
	if (rd->pg->enabled && !(an->events & 0xffff))
		progress(rd, rec->ts, false);
	if (!t || rec->size < 2)
		return 0;
	id = tep_data_type(t->tep, rec);
	if (id < 0 || id > t->max_id)
		return 0;
	d = &t->dec[id];
	if (d->type == EV_NONE)
		return 0;
	if (t->pid.size) {
		if (!read_field(rec, &t->pid, &pid))
			goto bad;
	} else {
		pid = tep_data_pid(t->tep, rec);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = d->type;
	ev.cpu = cpu;
	ev.pid = (int)pid;
	ev.ts = rec->ts;
	for (k = 0; k < NR_FIELDS; k++)
		if (!read_field(rec, &d->f[k], &ev.v[k]))
			goto bad;
	an->used++;
	engine_event(an, &ev);
	return 0;
bad:
	rd->bad_records++;
	return 0;
}

/*
 * Open @file and load its data section.  When tracecmd_init_data() fails
 * on a corrupt file, libtracecmd 1.3's tracecmd_close() dereferences the
 * half-initialised CPU data and crashes (found by the fuzz target): such a
 * handle is deliberately not closed; the process reports the error and
 * ends, losing only that memory.
 */
static struct tracecmd_input *open_data(const char *file, bool *corrupt)
{
	struct tracecmd_input *h = tracecmd_open_head(file, TRACECMD_FL_LOAD_NO_PLUGINS);

	*corrupt = false;
	if (h && tracecmd_init_data(h) < 0) {
		*corrupt = true;
		return NULL;
	}
	return h;
}

/*
 * libtraceevent 1.7 dereferences NULL inside tep_parse_event() on some
 * malformed event formats in a file's headers (found by the fuzz target),
 * so a corrupt file could kill irqpath with SIGSEGV before it can say
 * anything.  Parse the headers once in a child first: if the child dies of
 * a signal, the file is reported as unreadable.  Returns the signal, or 0.
 * The fuzz target skips this: there the crash is the finding.
 */
static int headers_crash_libraries(const char *file)
{
#ifdef IRQPATH_FUZZ
	return 0;
#else
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 0;	/* no child: parse in-process, as before */
	if (pid == 0) {
		bool corrupt;

		/* Deliberately not closed: the child exits at once. */
		open_data(file, &corrupt);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
#endif
}

static void teptab_reset(struct reader *rd)
{
	int i;

	for (i = 0; i < rd->ntt; i++)
		free(rd->tt[i].dec);
	rd->ntt = 0;
	rd->last = NULL;
	rd->last_tep = NULL;
}

/*
 * Read the top buffer CPU by CPU (tracecmd_read_cpu_first/read_data),
 * merging by timestamp.  libtracecmd keeps every decompressed chunk of a
 * compressed file (and every mapped page of an uncompressed one) until the
 * handle is closed, so its memory would grow with the file: after each
 * RECYCLE_BYTES of records the handle is closed and the file opened again,
 * each CPU resuming at its next record's offset (tracecmd_read_at).  Memory
 * stays bounded whatever the size of the recording.
 */
#define RECYCLE_BYTES	(16u << 20)

/* IRQPATH_RECYCLE_KB overrides the threshold (tests exercise the recycling). */
static u64 recycle_bytes(void)
{
	const char *env = getenv("IRQPATH_RECYCLE_KB");
	long kb = env ? strtol(env, NULL, 10) : 0;

	return kb > 0 ? (u64)kb << 10 : RECYCLE_BYTES;
}

/* How much of the CPU data the records read so far cover; -1: unknown. */
static double read_fraction(int ncpus, const unsigned long long *first,
			    const unsigned long long *at, const long long *size)
{
	double done = 0, total = 0;
	int cpu;

	for (cpu = 0; cpu < ncpus; cpu++) {
		if (size[cpu] <= 0)
			continue;
		total += (double)size[cpu];
		if (at[cpu] > first[cpu])
			done += (double)(at[cpu] - first[cpu]);
	}
	if (total <= 0)
		return -1;
	return done / total > 1 ? 1 : done / total;
}

static int read_top(struct reader *rd, struct tracecmd_input **hp)
{
	struct analysis *an = rd->an;
	struct tracecmd_input *h = *hp;
	struct tep_record **cur;
	unsigned long long *next, *first, *at;
	long long *size;
	u64 bytes = 0, recycle = recycle_bytes(), n = 0;
	int ncpus, cpu, c, best, ret = -1;
	bool corrupt;

	ncpus = tep_get_cpus(tracecmd_get_tep(h));
	if (ncpus <= 0)
		return 0;
	cur = calloc((size_t)ncpus, sizeof(*cur));
	next = calloc((size_t)ncpus, sizeof(*next));
	first = calloc((size_t)ncpus, sizeof(*first));
	at = calloc((size_t)ncpus, sizeof(*at));
	size = calloc((size_t)ncpus, sizeof(*size));
	if (!cur || !next || !first || !at || !size)
		goto out;
	for (cpu = 0; cpu < ncpus; cpu++) {
		cur[cpu] = tracecmd_read_cpu_first(h, cpu);
		first[cpu] = at[cpu] = cur[cpu] ? cur[cpu]->offset : 0;
		size[cpu] = cur[cpu] && rd->pg->enabled ? tracecmd_get_cpu_file_size(h, cpu) : 0;
	}
	for (;;) {
		best = -1;
		for (cpu = 0; cpu < ncpus; cpu++)
			if (cur[cpu] && (best < 0 || cur[cpu]->ts < cur[best]->ts))
				best = cpu;
		if (best < 0)
			break;
		at[best] = cur[best]->offset;
		if (rd->pg->enabled && !(++n & 0xffff))
			rd->done = read_fraction(ncpus, first, at, size);
		on_record(h, cur[best], best, rd);
		bytes += (u64)cur[best]->size + 8;
		tracecmd_free_record(cur[best]);
		cur[best] = tracecmd_read_data(h, best);
		if (bytes < recycle)
			continue;
		/* Recycle the handle: remember where each CPU goes on. */
		bytes = 0;
		for (cpu = 0; cpu < ncpus; cpu++) {
			next[cpu] = cur[cpu] ? cur[cpu]->offset : 0;
			tracecmd_free_record(cur[cpu]);
			cur[cpu] = NULL;
		}
		teptab_reset(rd);
		tracecmd_close(h);
		*hp = h = open_data(an->file, &corrupt);
		if (!h) {
			fprintf(stderr, "irqpath: %s: cannot open the file again\n", an->file);
			goto out;
		}
		rd->main_tep = tracecmd_get_tep(h);
		if (!teptab_for(rd, rd->main_tep))
			goto out;
		for (cpu = 0; cpu < ncpus; cpu++) {
			if (!next[cpu])
				continue;
			cur[cpu] = tracecmd_read_at(h, next[cpu], &c);
			if (cur[cpu] && c != cpu) {
				tracecmd_free_record(cur[cpu]);
				cur[cpu] = NULL;
			}
			if (!cur[cpu]) {
				fprintf(stderr, "irqpath: %s: cannot resume CPU %d at offset %llu\n",
					an->file, cpu, next[cpu]);
				goto out;
			}
		}
	}
	ret = 0;
out:
	if (cur)
		for (cpu = 0; cpu < ncpus; cpu++)
			tracecmd_free_record(cur[cpu]);
	free(cur);
	free(next);
	free(first);
	free(at);
	free(size);
	return ret;
}

static const char *const needed_upstream[] = {
	"kvm:kvm_entry", "kvm:kvm_apic_accept_irq", "kvm:kvm_inj_virq",
	"kvm:kvm_msi_set_irq", "kvm:kvm_vcpu_wakeup", "sched:sched_switch",
};

int read_trace(struct analysis *an, struct progress *pg)
{
	struct tracecmd_input *handles[MAX_HANDLES];
	struct reader rd;
	struct stat st;
	int nh = 1, i, n, fd, ret = -1;
	const int *guest_pid[MAX_GUESTS];
	int guest_nvcpu[MAX_GUESTS];
	int nguests = 0;
	bool corrupt;
	int sig;
	size_t len = 0;
	char missing[256] = "";

	memset(&rd, 0, sizeof(rd));
	rd.an = an;
	rd.pg = pg;
	rd.done = -1;
	an->reader = &rd;

	fd = open(an->file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "irqpath: %s: %s\n", an->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "irqpath: %s: %s\n", an->file,
			S_ISREG(st.st_mode) ? "empty file, not a trace-cmd recording" :
					      "not a regular file");
		goto out;
	}
	sig = headers_crash_libraries(an->file);
	if (sig) {
		fprintf(stderr, "irqpath: %s: malformed trace-cmd headers: libtracecmd/libtraceevent died of signal %d parsing them\n",
			an->file, sig);
		goto out;
	}
	handles[0] = open_data(an->file, &corrupt);
	if (!handles[0]) {
		if (corrupt)
			fprintf(stderr, "irqpath: %s: trace-cmd data file with a corrupt or truncated data section\n",
				an->file);
		else
			fprintf(stderr,
				"irqpath: %s: not a trace-cmd data file (wrong magic, unsupported version, or truncated headers)\n",
				an->file);
		goto out;
	}
	rd.main_tep = tracecmd_get_tep(handles[0]);
	n = tracecmd_buffer_instances(handles[0]);
	for (i = 0; i < n && nh < MAX_HANDLES; i++) {
		const char *name = tracecmd_buffer_instance_name(handles[0], i);
		struct tracecmd_input *ih = tracecmd_buffer_instance_handle(handles[0], i);
		const char *gname = NULL;
		const int *cpu_pid = NULL;
		int nvcpu = 0;
		int w = 0;

		if (!ih)
			continue;
		if (!tracecmd_get_guest_cpumap(handles[0], tracecmd_get_traceid(ih),
					       &gname, &nvcpu, &cpu_pid)) {
			/*
			 * A guest's own buffer: guest pids, guest time.  Its vCPU
			 * threads' host pids make one VM (engine_guest_vcpus).
			 */
			w = snprintf(an->buffers_note + len, sizeof(an->buffers_note) - len,
				     "%sguest buffer '%s' (%d vCPUs) not analysed, its vCPU threads form VM %d",
				     len ? "; " : "", name ? name : "?", nvcpu, nguests);
			if (nguests < MAX_GUESTS && cpu_pid && nvcpu > 0) {
				guest_pid[nguests] = cpu_pid;
				guest_nvcpu[nguests++] = nvcpu;
			}
			tracecmd_close(ih);
		} else {
			handles[nh++] = ih;
			w = snprintf(an->buffers_note + len, sizeof(an->buffers_note) - len,
				     "%shost instance '%s' merged", len ? "; " : "",
				     name ? name : "?");
		}
		if (w > 0 && (size_t)w < sizeof(an->buffers_note) - len)
			len += (size_t)w;
	}
	for (i = 0; i < nh; i++)
		if (!teptab_for(&rd, tracecmd_get_tep(handles[i]))) {
			fprintf(stderr, "irqpath: %s: out of memory\n", an->file);
			goto close;
		}
	for (i = 0; i < EV_NR; i++)
		if (an->have[i])
			break;
	if (i == EV_NR) {
		fprintf(stderr,
			"irqpath: %s: the recording has none of the events irqpath uses (see 'irqpath events'; record with 'irqpath record')\n",
			an->file);
		goto close;
	}
	for (i = 0; i < (int)ARRAY_SIZE(needed_upstream); i++) {
		const char *full = needed_upstream[i], *colon = strchr(full, ':');
		struct tep_event *e;
		char sys[16];

		memcpy(sys, full, (size_t)(colon - full));
		sys[colon - full] = '\0';
		e = tep_find_event_by_name(rd.main_tep, sys, colon + 1);
		if (!e && strlen(missing) + strlen(full) + 3 < sizeof(missing)) {
			if (*missing)
				strcat(missing, ", ");
			strcat(missing, full);
		}
	}
	if (*missing)
		fprintf(stderr, "irqpath: %s: warning: not recorded: %s (chains stop before the hops they mark)\n",
			an->file, missing);

	an->eng = engine_new(an);
	if (!an->eng) {
		fprintf(stderr, "irqpath: %s: out of memory\n", an->file);
		goto close;
	}
	for (i = 0; i < nguests; i++)
		engine_guest_vcpus(an, guest_nvcpu[i], guest_pid[i]);
	rd.t0 = now_ns();
	if (nh == 1)
		ret = read_top(&rd, &handles[0]);
	else
		ret = tracecmd_iterate_events_multi(handles, nh, on_record, &rd);
	if (ret < 0) {
		fprintf(stderr, "irqpath: %s: error while reading the records\n", an->file);
		goto close;
	}
	engine_finish(an);
	if (pg->enabled)
		progress(&rd, an->last_ts, true);
	if (rd.bad_records)
		fprintf(stderr, "irqpath: %s: warning: %llu records shorter than their format, skipped\n",
			an->file, (unsigned long long)rd.bad_records);
	ret = 0;
close:
	for (i = nh - 1; i >= 0; i--)
		if (handles[i])
			tracecmd_close(handles[i]);
out:
	for (i = 0; i < rd.ntt; i++)
		free(rd.tt[i].dec);
	an->reader = NULL;
	return ret;
}
