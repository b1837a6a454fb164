/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqpath - stitch KVM interrupt delivery events into per-interrupt chains.
 *
 * Shared types of the analyzer: the normalised event the reader hands to
 * the chain engine, the chain engine's state and statistics, and the
 * writers' entry points.
 */
#ifndef IRQPATH_H
#define IRQPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;
typedef int64_t s64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef int8_t s8;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Histogram: log-linear, fixed memory (hist.c).                        */

#define HIST_SUB_BITS	4
#define HIST_SUB	(1u << HIST_SUB_BITS)		/* 16 buckets per octave */
#define HIST_BUCKETS	((64 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)

struct hist {
	u64 count;
	u64 sum;
	u64 min;
	u64 max;
	u32 bucket[HIST_BUCKETS];
};

void hist_add(struct hist *h, u64 v);
u64 hist_quantile(const struct hist *h, double q);
u64 hist_bucket_low(unsigned int idx);
u64 hist_bucket_high(unsigned int idx);

/* ------------------------------------------------------------------ */
/* Paths, hops, incomplete reasons.                                    */

enum path {
	P_VHOST,	/* 1: vhost_notify/vhost_signal -> irqfd */
	P_USER,		/* 2: userspace backend: irqfd / KVM_SIGNAL_MSI */
	P_VFIO,		/* 3: vfio_pci_msi_handler -> irqfd */
	P_TIMER,	/* 4: LAPIC timer */
	P_IPI,		/* 5: IPI between vCPUs */
	P_NR,
};

extern const char *const path_name[P_NR];
extern const char *const path_title[P_NR];

enum hop {
	H_SRC_INJ,	/* source -> injection (accept_irq / pi_post) */
	H_INJ_KICK,	/* injection -> vCPU woken (wakeup / pi_wakeup / sched_wakeup) */
	H_KICK_ENTRY,	/* vCPU woken -> delivering VM-entry */
	H_INJ_ENTRY,	/* injection -> delivering VM-entry */
	H_ENTRY_EOI,	/* delivering VM-entry -> guest EOI */
	H_TOTAL,	/* source -> delivering VM-entry */
	H_NR,
};

extern const char *const hop_name[H_NR];

enum incomplete {
	INC_TRACE_END_NOT_ENTERED,	/* trace ended, vCPU never entered */
	INC_TRACE_END_NOT_INJECTED,	/* trace ended between source and injection */
	INC_SUPERSEDED,		/* same vector injected again before delivery */
	INC_NO_TARGET,		/* injection to a vCPU never seen in the trace */
	INC_NO_INJECTION,	/* source with no injection (next source came first) */
	INC_EVICTED,		/* bounded tables full: chain dropped */
	INC_NR,
};

extern const char *const inc_name[INC_NR];
extern const char *const inc_key[INC_NR];

enum wait_kind { W_PREEMPTED, W_BLOCKED, W_NR };

struct path_stats {
	u64 chains;		/* chains started (one per injected vCPU) */
	u64 delivered;		/* reached the delivering VM-entry */
	u64 eoi;		/* ... and the guest's EOI was seen */
	u64 suppressed;		/* vhost_notify signal=0, vhost_signal suppressed */
	u64 coalesced;		/* accept_irq coalesced, irqfd ret 0, pi_post coalesced_*, timer coalesced */
	u64 sources;		/* source events seen */
	u64 wait_n[W_NR];	/* chains that waited on a preempted/blocked vCPU */
	u64 wait_ns[W_NR];	/* total time they waited */
	u64 incomplete[INC_NR];
	struct hist hop[H_NR];
};

/* ------------------------------------------------------------------ */
/* Normalised events (reader.c -> chain.c).                            */

enum ev_type {
	EV_NONE,
	EV_VHOST_NOTIFY,
	EV_VHOST_SIGNAL,
	EV_VFIO_MSI,
	EV_IRTE_POSTED,
	EV_PI_IRTE_UPDATE,
	EV_IRQFD_INJECT,
	EV_MSI_SET_IRQ,
	EV_SET_IRQ,
	EV_IOAPIC_SET_IRQ,
	EV_APIC_IPI,
	EV_TIMER_EXPIRED,
	EV_ACCEPT_IRQ,
	EV_APICV_ACCEPT_IRQ,
	EV_PI_POST,
	EV_PI_WAKEUP,
	EV_VCPU_WAKEUP,
	EV_VCPU_SCHED,
	EV_INJ_VIRQ,
	EV_ENTRY,
	EV_EXIT,
	EV_EOI,
	EV_SCHED_SWITCH,
	EV_SCHED_WAKEUP,
	EV_NR,
};

struct ev {
	enum ev_type type;
	int cpu;
	int pid;		/* common_pid: the task the event ran in */
	u64 ts;
	/* Event-specific, see reader.c for which event fills which. */
	union {
		struct {
			s64 a, b, c, d, e;
		};
		s64 v[5];
	};
};

/* ------------------------------------------------------------------ */
/* Options and the analysis state.                                     */

struct filter {
	int path;		/* -1: all, else enum path */
	int vcpu;		/* -1: all, else vCPU id */
	int vector;		/* -1: all */
};

struct chain_hop_ts {
	u64 src, inj, kick, entry, eoi;
};

/* A finished chain, as handed to the Perfetto writer. */
struct chain_done {
	u64 id;
	enum path path;
	int vector;
	int vm;
	int vcpu_id;
	int vcpu_pid;
	int src_cpu, src_pid, inj_cpu, kick_cpu, entry_cpu;
	struct chain_hop_ts t;
	bool delivered, eoi;
};

struct perfetto;

struct analysis {
	const char *file;
	struct filter filter;
	struct perfetto *pf;
	unsigned int pf_file_idx;

	/* what the file held */
	u64 events;		/* records read */
	u64 used;		/* records the engine consumed */
	u64 first_ts, last_ts;
	int nr_cpus;
	bool have[EV_NR];	/* which event types the file's format has */
	char buffers_note[512];

	struct path_stats ps[P_NR];
	u64 irte_posted;	/* VT-d IRTEs switched to posted mode */
	u64 pi_irte_updates;
	u64 chains_in_flight_max;
	u64 evicted_slots;	/* source slots overwritten */
	u64 unknown_target;	/* accept_irq for a vCPU not (yet) seen */

	struct engine *eng;
	void *reader;		/* reader.c's state while reading */
};

/* chain.c */
struct engine *engine_new(struct analysis *an);
void engine_free(struct engine *e);
void engine_event(struct analysis *an, const struct ev *ev);
void engine_finish(struct analysis *an);
void engine_guest_vcpus(struct analysis *an, int nvcpus, const int *host_pid);
int engine_vm_count(const struct engine *e);
int engine_vcpu_count(const struct engine *e);
typedef void (*vcpu_cb)(void *priv, int vm, int vcpu_id, int pid, u64 entries,
			u64 chains);
void engine_for_each_vcpu(const struct engine *e, vcpu_cb cb, void *priv);
bool filter_match(const struct filter *f, enum path p, int vcpu_id, int vector);

/* reader.c */
struct progress {
	bool enabled;
	u64 last_update_ns;
};
int read_trace(struct analysis *an, struct progress *pg);
const char *reader_comm(struct analysis *an, int pid);
const char *event_type_name(enum ev_type t);

/* report.c */
void report_text(FILE *f, struct analysis *an);
void report_json_begin(FILE *f);
void report_json_file(FILE *f, struct analysis *an, bool first);
void report_json_end(FILE *f);

/* perfetto.c */
struct perfetto *perfetto_open(const char *path);
int perfetto_close(struct perfetto *pf);
void perfetto_file(struct perfetto *pf, unsigned int idx, const char *name);
void perfetto_chain(struct perfetto *pf, unsigned int file_idx,
		    const struct chain_done *c);
void perfetto_guest_slice(struct perfetto *pf, unsigned int file_idx, int vm,
			  int vcpu_pid, int vcpu_id, u64 entry, u64 exit);

/* svg.c */
int svg_write(const char *path, struct analysis **an, int n);

/* events.c */
struct wanted_event {
	const char *system;
	const char *name;
	bool upstream;		/* in an unmodified 6.12 kernel */
	const char *why;
};
extern const struct wanted_event wanted_events[];
extern const unsigned int nr_wanted_events;

#endif /* IRQPATH_H */
