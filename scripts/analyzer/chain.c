// SPDX-License-Identifier: GPL-2.0
/*
 * The chain engine: per-path state machines that stitch the events of one
 * interrupt into a chain
 *
 *   source -> injection -> vCPU kick/wake/sched-in -> delivering VM-entry -> EOI
 *
 * Events arrive in timestamp order (tracecmd_iterate_events merges the
 * CPUs).  All state lives in bounded tables; when one is full the oldest
 * entry is dropped and counted, so memory depends on the chains in flight,
 * never on the size of the trace.
 *
 * Keys: a vCPU is its thread's pid (the task that runs KVM_RUN); its
 * vcpu_id comes from kvm_entry/kvm_exit/kvm_vcpu_sched in that thread.
 * The kernel's apicid fields (kvm_apic_accept_irq, kvm_eoi) are the
 * target's vcpu_id.  A VM is a group of vCPU threads: a recording has no
 * tgid, so vCPU threads are grouped by pid proximity (threads of one VMM
 * are created together) under the rule that one VM has each vcpu_id once;
 * a task that is not a vCPU (I/O thread, vhost worker "vhost-<owner pid>")
 * belongs to the VM whose vCPU pids are nearest.  With one VM in the trace,
 * which is the common case, this is exact.
 */
#include <stdlib.h>
#include <string.h>

#include "irqpath.h"

#define NR_SLOTS	4096	/* source slots, by task pid (direct mapped) */
#define MAX_VCPUS	4096
#define VCPU_HASH	8192
#define MAX_VMS		256
#define VM_PID_WINDOW	256
#define NR_PENDING	32	/* chains pending on one vCPU */
#define POOL_SIZE	65536	/* chains in flight, all vCPUs */
#define NR_DEFERRED	256	/* irqfd injections deferred to the workqueue */
#define SLOT_CHAINS	8
#define NR_ORPHANS	64	/* chains for a vCPU whose thread is not known yet */
#define SLOT_REUSE_NS	2000000	/* one source's injections into several vCPUs */

const char *const path_name[P_NR] = {
	"vhost", "user", "vfio", "timer", "ipi",
};

const char *const path_title[P_NR] = {
	"P1 vhost -> irqfd",
	"P2 userspace backend (irqfd / KVM_SIGNAL_MSI)",
	"P3 VFIO (host MSI -> irqfd)",
	"P4 LAPIC timer",
	"P5 IPI",
};

/* "wake": kvm_vcpu_wakeup, kvm_pi_wakeup, sched_wakeup, or a preempted vCPU's sched-in */
const char *const hop_name[H_NR] = {
	"source->inject", "inject->wake", "wake->entry", "inject->entry",
	"entry->eoi", "source->entry",
};

const char *const inc_name[INC_NR] = {
	"trace ended, vCPU never entered after the injection",
	"trace ended before the injection",
	"superseded before injection",
	"target vCPU unknown",
	"source without a LAPIC injection (no call eventfd, Xen event channel)",
	"evicted (table full)",
};

const char *const inc_key[INC_NR] = {
	"trace_end_not_entered", "trace_end_not_injected", "superseded",
	"no_target", "no_injection", "evicted",
};

enum vstate { VS_UNKNOWN, VS_RUNNING, VS_PREEMPTED, VS_BLOCKED };

struct chain {
	u64 id;			/* 0: free */
	u8 path;
	bool posted;		/* APICv/posted: delivered by the next entry */
	bool virq;		/* kvm_inj_virq for the vector seen */
	bool delivered;
	s8 wait_kind;		/* -1: not waiting */
	int vector;
	int vcpu;		/* index into e->vcpu, -1 unresolved */
	int target_id;		/* the target's vcpu_id while unresolved */
	int src_cpu, src_pid, inj_cpu, kick_cpu, entry_cpu;
	u64 t_src, t_inj, t_kick, t_entry, wait_start;
	u32 next_free;
};

struct slot {
	int pid;		/* 0: empty */
	u8 path;
	bool injected;
	bool ioapic;		/* raised an I/O APIC pin: delivery may come later elsewhere */
	bool irqfd_seen;
	int cpu;
	int vector;
	u64 ts;
	u8 nchains;
	u32 chain[SLOT_CHAINS];
	u64 chain_id[SLOT_CHAINS];
};

struct vcpu {
	int pid;
	int vm;
	int vcpu_id;
	int cpu;
	enum vstate state;
	bool in_guest;
	u64 off_ts;
	u64 entry_ts;
	u64 entries;
	u64 chains;
	u32 timer_chain;	/* +1; 0 none: a timer expiry awaiting injection */
	u64 timer_chain_id;
	u8 npending;
	u32 pending[NR_PENDING];
	u32 eoi_wait[256];	/* +1; delivered chain awaiting EOI, per vector */
};

struct vm {
	int min_pid, max_pid;
	int nvcpus;
};

struct deferred {
	int gsi;
	u8 path;
	u64 ts;
	int cpu, pid;
};

/* An I/O APIC pin raised without delivery in the raising task, by vector. */
struct ioapic_wait {
	u64 ts;
	int cpu, pid;
	u8 path;
};

struct engine {
	struct ioapic_wait ioapic[256];
	u32 orphan[NR_ORPHANS];
	u64 orphan_id[NR_ORPHANS];
	unsigned int norphans;
	struct slot slot[NR_SLOTS];
	struct vcpu *vcpu;
	int nvcpus;
	int vhash[VCPU_HASH];		/* pid -> vcpu index + 1 */
	struct vm vm[MAX_VMS];
	int nvms;
	struct chain *pool;		/* calloc: untouched entries cost no memory */
	u32 pool_used;			/* entries ever handed out */
	u32 free_head;			/* +1 */
	u64 in_flight;
	u64 next_id;
	struct deferred deferred[NR_DEFERRED];
	unsigned int ndeferred;
};

static inline bool pass(struct analysis *an, enum path p, int vcpu_id, int vector)
{
	return filter_match(&an->filter, p, vcpu_id, vector);
}

bool filter_match(const struct filter *f, enum path p, int vcpu_id, int vector)
{
	if (f->path >= 0 && (int)p != f->path)
		return false;
	if (f->vcpu >= 0 && vcpu_id >= 0 && vcpu_id != f->vcpu)
		return false;
	if (f->vector >= 0 && vector >= 0 && vector != f->vector)
		return false;
	return true;
}

struct engine *engine_new(struct analysis *an)
{
	struct engine *e = calloc(1, sizeof(*e));

	(void)an;
	if (!e)
		return NULL;
	e->pool = calloc(POOL_SIZE, sizeof(*e->pool));
	e->vcpu = calloc(MAX_VCPUS, sizeof(*e->vcpu));
	if (!e->pool || !e->vcpu) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	free(e->pool);
	free(e->vcpu);
	free(e);
}

int engine_vm_count(const struct engine *e)
{
	return e->nvms;
}

int engine_vcpu_count(const struct engine *e)
{
	return e->nvcpus;
}

void engine_for_each_vcpu(const struct engine *e, vcpu_cb cb, void *priv)
{
	int i;

	for (i = 0; i < e->nvcpus; i++)
		cb(priv, e->vcpu[i].vm, e->vcpu[i].vcpu_id, e->vcpu[i].pid,
		   e->vcpu[i].entries, e->vcpu[i].chains);
}

/* ------------------------------------------------------------------ */
/* Chains                                                              */

static struct chain *chain_alloc(struct analysis *an)
{
	struct engine *e = an->eng;
	struct chain *c;

	if (e->free_head) {
		c = &e->pool[e->free_head - 1];
		e->free_head = c->next_free;
	} else if (e->pool_used < POOL_SIZE) {
		c = &e->pool[e->pool_used++];
	} else {
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->id = ++e->next_id;
	c->wait_kind = -1;
	c->vcpu = -1;
	c->target_id = -1;
	c->vector = -1;
	if (++e->in_flight > an->chains_in_flight_max)
		an->chains_in_flight_max = e->in_flight;
	return c;
}

static u32 chain_idx(struct engine *e, struct chain *c)
{
	return (u32)(c - e->pool);
}

static void chain_free(struct engine *e, struct chain *c)
{
	c->id = 0;
	c->next_free = e->free_head;
	e->free_head = chain_idx(e, c) + 1;
	e->in_flight--;
}

static int chain_vcpu_id(struct engine *e, const struct chain *c)
{
	return c->vcpu >= 0 ? e->vcpu[c->vcpu].vcpu_id : c->target_id;
}

/* A chain leaves the engine: Perfetto gets it, its memory is freed. */
static void chain_emit(struct analysis *an, struct chain *c, u64 t_eoi)
{
	struct engine *e = an->eng;
	struct chain_done d;

	if (an->pf && pass(an, c->path, chain_vcpu_id(e, c), c->vector)) {
		memset(&d, 0, sizeof(d));
		d.id = c->id;
		d.path = c->path;
		d.vector = c->vector;
		d.vm = c->vcpu >= 0 ? e->vcpu[c->vcpu].vm : -1;
		d.vcpu_id = chain_vcpu_id(e, c);
		d.vcpu_pid = c->vcpu >= 0 ? e->vcpu[c->vcpu].pid : -1;
		d.src_cpu = c->src_cpu;
		d.src_pid = c->src_pid;
		d.inj_cpu = c->inj_cpu;
		d.kick_cpu = c->kick_cpu;
		d.entry_cpu = c->entry_cpu;
		d.t.src = c->t_src;
		d.t.inj = c->t_inj;
		d.t.kick = c->t_kick;
		d.t.entry = c->t_entry;
		d.t.eoi = t_eoi;
		d.delivered = c->delivered;
		d.eoi = t_eoi != 0;
		perfetto_chain(an->pf, an->pf_file_idx, &d);
	}
	chain_free(e, c);
}

static void chain_incomplete(struct analysis *an, struct chain *c, enum incomplete why)
{
	if (pass(an, c->path, chain_vcpu_id(an->eng, c), c->vector))
		an->ps[c->path].incomplete[why]++;
	chain_emit(an, c, 0);
}

/* A chain that is not a separate interrupt after all (merged, coalesced). */
static void chain_coalesced(struct analysis *an, struct chain *c)
{
	struct engine *e = an->eng;

	if (pass(an, c->path, chain_vcpu_id(e, c), c->vector)) {
		an->ps[c->path].coalesced++;
		an->ps[c->path].chains--;
	}
	if (c->vcpu >= 0)
		e->vcpu[c->vcpu].chains--;
	chain_free(e, c);
}

static struct chain *chain_get(struct engine *e, u32 idx, u64 id)
{
	struct chain *c;

	if (idx >= POOL_SIZE)
		return NULL;
	c = &e->pool[idx];
	return c->id && c->id == id ? c : NULL;
}

/* ------------------------------------------------------------------ */
/* vCPUs and VMs                                                       */

static struct vcpu *vcpu_by_pid(struct engine *e, int pid)
{
	unsigned int h = ((unsigned int)pid * 2654435761u) % VCPU_HASH;
	unsigned int n;

	for (n = 0; n < VCPU_HASH; n++, h = (h + 1) % VCPU_HASH) {
		int i = e->vhash[h];

		if (!i)
			return NULL;
		if (e->vcpu[i - 1].pid == pid)
			return &e->vcpu[i - 1];
	}
	return NULL;
}

static bool vm_has_id(struct engine *e, int vm, int vcpu_id)
{
	int i;

	for (i = 0; i < e->nvcpus; i++)
		if (e->vcpu[i].vm == vm && e->vcpu[i].vcpu_id == vcpu_id)
			return true;
	return false;
}

static int pid_distance(const struct vm *vm, int pid)
{
	if (pid < vm->min_pid)
		return vm->min_pid - pid;
	if (pid > vm->max_pid)
		return pid - vm->max_pid;
	return 0;
}

static int vm_for_new_vcpu(struct engine *e, int pid, int vcpu_id)
{
	int i, best = -1, bestd = VM_PID_WINDOW + 1;

	for (i = 0; i < e->nvms; i++) {
		int d = pid_distance(&e->vm[i], pid);

		if (d < bestd && !vm_has_id(e, i, vcpu_id)) {
			best = i;
			bestd = d;
		}
	}
	if (best < 0) {
		if (e->nvms == MAX_VMS)
			return MAX_VMS - 1;	/* lumped: documented limit */
		best = e->nvms++;
		e->vm[best].min_pid = pid;
		e->vm[best].max_pid = pid;
	}
	if (pid < e->vm[best].min_pid)
		e->vm[best].min_pid = pid;
	if (pid > e->vm[best].max_pid)
		e->vm[best].max_pid = pid;
	e->vm[best].nvcpus++;
	return best;
}

static void pending_add(struct analysis *an, struct vcpu *v, struct chain *c);

/*
 * Chains injected into a vcpu_id whose thread had not shown itself yet (the
 * start of a recording or of a cut): the first thread that runs that
 * vcpu_id takes them.
 */
static void adopt_orphans(struct analysis *an, struct vcpu *v)
{
	struct engine *e = an->eng;
	unsigned int i;

	for (i = 0; i < e->norphans;) {
		struct chain *c = chain_get(e, e->orphan[i], e->orphan_id[i]);

		if (c && c->target_id != v->vcpu_id) {
			i++;
			continue;
		}
		if (c) {
			c->vcpu = (int)(v - e->vcpu);
			v->chains++;
			if (c->t_inj) {
				pending_add(an, v, c);
			} else if (!v->timer_chain) {
				/* A timer expiry waiting for its injection. */
				v->timer_chain = chain_idx(e, c) + 1;
				v->timer_chain_id = c->id;
			} else {
				chain_incomplete(an, c, INC_SUPERSEDED);
			}
		}
		e->orphan[i] = e->orphan[e->norphans - 1];
		e->orphan_id[i] = e->orphan_id[--e->norphans];
	}
}

static void add_orphan(struct analysis *an, struct chain *c, int vcpu_id)
{
	struct engine *e = an->eng;

	c->target_id = vcpu_id;
	if (e->norphans == NR_ORPHANS) {
		struct chain *old = chain_get(e, e->orphan[0], e->orphan_id[0]);

		if (old)
			chain_incomplete(an, old, INC_NO_TARGET);
		e->orphan[0] = e->orphan[--e->norphans];
		e->orphan_id[0] = e->orphan_id[e->norphans];
	}
	e->orphan[e->norphans] = chain_idx(e, c);
	e->orphan_id[e->norphans++] = c->id;
}

/* The vCPU thread @pid runs vcpu_id @id: find or create it. */
static struct vcpu *vcpu_create(struct analysis *an, int pid, int id, int cpu, int vm)
{
	struct engine *e = an->eng;
	struct vcpu *v;
	unsigned int h;

	if (pid <= 0 || e->nvcpus == MAX_VCPUS)
		return NULL;
	v = &e->vcpu[e->nvcpus];
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	v->vcpu_id = id;
	v->cpu = cpu;
	v->state = VS_RUNNING;
	v->vm = vm >= 0 ? vm : vm_for_new_vcpu(e, pid, id);
	h = ((unsigned int)pid * 2654435761u) % VCPU_HASH;
	while (e->vhash[h])
		h = (h + 1) % VCPU_HASH;
	e->vhash[h] = ++e->nvcpus;
	adopt_orphans(an, v);
	return v;
}

static struct vcpu *vcpu_get(struct analysis *an, int pid, int id, int cpu)
{
	struct vcpu *v = vcpu_by_pid(an->eng, pid);

	return v ? v : vcpu_create(an, pid, id, cpu, -1);
}

/*
 * A trace-cmd agent recording names each guest's vCPU threads (host pids):
 * those make one VM per guest, exactly, before any event is read.
 */
void engine_guest_vcpus(struct analysis *an, int nvcpus, const int *host_pid)
{
	struct engine *e = an->eng;
	struct vm *vm;
	int i, idx;

	if (e->nvms == MAX_VMS)
		return;
	idx = e->nvms++;
	vm = &e->vm[idx];
	vm->min_pid = INT32_MAX;
	vm->max_pid = 0;
	for (i = 0; i < nvcpus; i++) {
		if (host_pid[i] <= 0 || vcpu_by_pid(e, host_pid[i]))
			continue;
		if (!vcpu_create(an, host_pid[i], i, -1, idx))
			break;
		vm->nvcpus++;
		if (host_pid[i] < vm->min_pid)
			vm->min_pid = host_pid[i];
		if (host_pid[i] > vm->max_pid)
			vm->max_pid = host_pid[i];
	}
	if (!vm->nvcpus)
		vm->min_pid = vm->max_pid = 0;
}

static int vm_of_task(struct analysis *an, int pid)
{
	struct engine *e = an->eng;
	struct vcpu *v = vcpu_by_pid(e, pid);
	int i, best = 0, bestd = -1;
	const char *comm;
	int owner;

	if (v)
		return v->vm;
	if (e->nvms <= 1)
		return 0;
	/* vhost workers are named after their owner: "vhost-<pid>". */
	comm = reader_comm(an, pid);
	if (comm && sscanf(comm, "vhost-%d", &owner) == 1)
		pid = owner;
	for (i = 0; i < e->nvms; i++) {
		int d = pid_distance(&e->vm[i], pid);

		if (bestd < 0 || d < bestd) {
			best = i;
			bestd = d;
		}
	}
	return best;
}

static struct vcpu *vcpu_in_vm(struct engine *e, int vm, int vcpu_id)
{
	int i;

	for (i = 0; i < e->nvcpus; i++)
		if (e->vcpu[i].vm == vm && e->vcpu[i].vcpu_id == vcpu_id)
			return &e->vcpu[i];
	return NULL;
}

/* A vcpu_id seen outside its thread (timer, PI wakeup): prefer the one on @cpu. */
static struct vcpu *vcpu_by_id_on_cpu(struct engine *e, int vcpu_id, int cpu)
{
	struct vcpu *any = NULL;
	int i;

	for (i = 0; i < e->nvcpus; i++) {
		if (e->vcpu[i].vcpu_id != vcpu_id)
			continue;
		if (e->vcpu[i].cpu == cpu)
			return &e->vcpu[i];
		if (!any)
			any = &e->vcpu[i];
	}
	return any;
}

static bool task_is_vhost(struct analysis *an, int pid)
{
	const char *comm = reader_comm(an, pid);

	return comm && !strncmp(comm, "vhost-", 6);
}

/* Remove pending chain @i of @v (order kept: oldest first). */
static void pending_del(struct vcpu *v, unsigned int i)
{
	memmove(&v->pending[i], &v->pending[i + 1],
		(v->npending - i - 1) * sizeof(v->pending[0]));
	v->npending--;
}

static void pending_add(struct analysis *an, struct vcpu *v, struct chain *c)
{
	struct engine *e = an->eng;

	if (v->npending == NR_PENDING) {
		chain_incomplete(an, &e->pool[v->pending[0]], INC_EVICTED);
		pending_del(v, 0);
	}
	v->pending[v->npending++] = chain_idx(e, c);
}

/* ------------------------------------------------------------------ */
/* Source slots                                                        */

static struct slot *slot_of(struct engine *e, int pid)
{
	struct slot *s = &e->slot[((unsigned int)pid * 2654435761u) % NR_SLOTS];

	return s->pid == pid ? s : NULL;
}

static struct slot *slot_open(struct analysis *an, const struct ev *ev, enum path p)
{
	struct engine *e = an->eng;
	struct slot *s = &e->slot[((unsigned int)ev->pid * 2654435761u) % NR_SLOTS];

	if (s->pid && s->pid != ev->pid)
		an->evicted_slots++;
	else if (s->pid && !s->injected && !s->ioapic && pass(an, s->path, -1, s->vector))
		an->ps[s->path].incomplete[INC_SUPERSEDED]++;
	memset(s, 0, sizeof(*s));
	s->pid = ev->pid;
	s->path = p;
	s->cpu = ev->cpu;
	s->ts = ev->ts;
	s->vector = -1;
	if (pass(an, p, -1, -1))
		an->ps[p].sources++;
	return s;
}

static void slot_close(struct slot *s)
{
	s->pid = 0;
}

/* ------------------------------------------------------------------ */
/* Hops                                                                */

/*
 * The vCPU thread runs again.  For a chain that waited on it, this is the
 * kick hop when nothing woke it first (it was preempted, not blocked).
 */
static void sched_in(struct analysis *an, struct vcpu *v, u64 ts, int cpu)
{
	struct engine *e = an->eng;
	unsigned int i;

	for (i = 0; i < v->npending; i++) {
		struct chain *c = &e->pool[v->pending[i]];

		if (c->wait_kind < 0)
			continue;
		if (!c->t_kick) {
			c->t_kick = ts;
			c->kick_cpu = cpu;
		}
		if (pass(an, c->path, v->vcpu_id, c->vector)) {
			an->ps[c->path].wait_n[c->wait_kind]++;
			an->ps[c->path].wait_ns[c->wait_kind] += ts - c->wait_start;
		}
		c->wait_kind = -1;
	}
	v->state = VS_RUNNING;
}

static void sched_out(struct vcpu *v, enum vstate st, u64 ts)
{
	v->state = st;
	v->off_ts = ts;
	v->in_guest = false;
}

static void kick(struct analysis *an, struct vcpu *v, const struct ev *ev)
{
	struct engine *e = an->eng;
	unsigned int i;

	for (i = 0; i < v->npending; i++) {
		struct chain *c = &e->pool[v->pending[i]];

		if (!c->t_kick && c->t_inj) {
			c->t_kick = ev->ts;
			c->kick_cpu = ev->cpu;
		}
	}
}

static void hop(struct analysis *an, struct chain *c, enum hop h, u64 from, u64 to)
{
	if (from && to >= from)
		hist_add(&an->ps[c->path].hop[h], to - from);
}

static void deliver(struct analysis *an, struct vcpu *v, struct chain *c,
		    const struct ev *ev)
{
	struct engine *e = an->eng;
	u32 old;

	c->t_entry = ev->ts;
	c->entry_cpu = ev->cpu;
	c->delivered = true;
	if (pass(an, c->path, v->vcpu_id, c->vector)) {
		struct path_stats *ps = &an->ps[c->path];

		ps->delivered++;
		hop(an, c, H_SRC_INJ, c->t_src, c->t_inj);
		if (c->t_kick && c->t_kick <= c->t_entry) {
			hop(an, c, H_INJ_KICK, c->t_inj, c->t_kick);
			hop(an, c, H_KICK_ENTRY, c->t_kick, c->t_entry);
		}
		hop(an, c, H_INJ_ENTRY, c->t_inj, c->t_entry);
		hop(an, c, H_TOTAL, c->t_src, c->t_entry);
	}
	if (c->vector < 0 || c->vector > 255) {
		chain_emit(an, c, 0);
		return;
	}
	/* An older chain of the vector still awaiting EOI ends without one. */
	old = v->eoi_wait[c->vector];
	if (old)
		chain_emit(an, &e->pool[old - 1], 0);
	v->eoi_wait[c->vector] = chain_idx(e, c) + 1;
}

/* ------------------------------------------------------------------ */
/* Event handlers                                                      */

static enum path path_of_task(struct analysis *an, int pid)
{
	return task_is_vhost(an, pid) ? P_VHOST : P_USER;
}

static struct chain *new_chain(struct analysis *an, enum path p, struct vcpu *v,
			       int vector, u64 t_src, int src_cpu, int src_pid,
			       const struct ev *ev)
{
	struct chain *c = chain_alloc(an);

	if (!c) {
		if (pass(an, p, v ? v->vcpu_id : -1, vector))
			an->ps[p].incomplete[INC_EVICTED]++;
		return NULL;
	}
	c->path = p;
	c->vector = vector;
	c->t_src = t_src;
	c->src_cpu = src_cpu;
	c->src_pid = src_pid;
	if (ev) {
		c->t_inj = ev->ts;
		c->inj_cpu = ev->cpu;
	}
	if (pass(an, p, v ? v->vcpu_id : -1, vector))
		an->ps[p].chains++;
	if (v) {
		c->vcpu = (int)(v - an->eng->vcpu);
		v->chains++;
	}
	return c;
}

/* The target is not running: the chain waits for it to be scheduled in. */
static void start_wait(struct vcpu *v, struct chain *c, u64 ts)
{
	if (v->state == VS_PREEMPTED || v->state == VS_BLOCKED) {
		c->wait_kind = v->state == VS_PREEMPTED ? W_PREEMPTED : W_BLOCKED;
		c->wait_start = ts;
	}
}

static void on_accept_irq(struct analysis *an, const struct ev *ev, bool apicv)
{
	struct engine *e = an->eng;
	int vcpu_id = (int)ev->a, vector = (int)(ev->b & 0xff);
	int dm = (int)((ev->c >> 8) & 7);
	struct slot *s = slot_of(e, ev->pid);
	struct vcpu *self = vcpu_by_pid(e, ev->pid);
	struct vcpu *v;
	struct chain *c;
	enum path p;
	unsigned int i;
	u64 t_src;
	int src_cpu;

	if (dm != 0 && dm != 1)		/* NMI, INIT, SIPI, ExtINT: no vector to follow */
		return;
	v = vcpu_in_vm(e, vm_of_task(an, ev->pid), vcpu_id);
	if (apicv && v) {
		/* Follows kvm_apic_accept_irq of the same interrupt: mark it posted. */
		for (i = v->npending; i-- > 0;) {
			c = &e->pool[v->pending[i]];
			if (c->vector == vector && c->t_inj == ev->ts) {
				c->posted = true;
				return;
			}
			if (c->vector == vector && !c->delivered && c->inj_cpu == ev->cpu &&
			    c->src_pid == ev->pid) {
				c->posted = true;
				return;
			}
		}
	}

	/* The LAPIC timer of the target, waiting for its injection. */
	if (v && v->timer_chain && !(s && !s->injected)) {
		c = chain_get(e, v->timer_chain - 1, v->timer_chain_id);
		v->timer_chain = 0;
		if (c) {
			c->vector = vector;
			c->t_inj = ev->ts;
			c->inj_cpu = ev->cpu;
			c->posted |= apicv;
			goto pending;
		}
	}

	if (s && s->ioapic && s->vector == vector)
		e->ioapic[vector].ts = 0;	/* delivered by the raising task itself */
	if (s && (!s->injected || ev->ts - s->ts <= SLOT_REUSE_NS)) {
		/* Its source, or the same source reaching one more vCPU. */
		p = (enum path)s->path;
		t_src = s->ts;
		src_cpu = s->cpu;
	} else if (e->ioapic[vector].ts) {
		/* A pin raised earlier (remote IRR was set), delivered at EOI or later. */
		struct ioapic_wait *w = &e->ioapic[vector];

		p = (enum path)w->path;
		t_src = w->ts;
		src_cpu = w->cpu;
		w->ts = 0;
		s = NULL;
	} else if (self && ev->e) {
		/* Level-triggered without a traced source: an I/O APIC pin (P2). */
		p = P_USER;
		t_src = ev->ts;
		src_cpu = ev->cpu;
		if (pass(an, p, vcpu_id, vector))
			an->ps[p].sources++;
	} else if (self) {
		/*
		 * A vCPU interrupting without a traced source: a self-IPI, or,
		 * on a kernel without kvm_apic_timer_expired, its LAPIC timer.
		 */
		p = (self == v && !an->have[EV_TIMER_EXPIRED]) ? P_TIMER : P_IPI;
		t_src = ev->ts;
		src_cpu = ev->cpu;
		if (pass(an, p, vcpu_id, vector))
			an->ps[p].sources++;
	} else {
		p = path_of_task(an, ev->pid);
		s = slot_open(an, ev, p);
		t_src = ev->ts;
		src_cpu = ev->cpu;
	}
	if (!v) {
		an->unknown_target++;
		if (s)
			s->injected = true;
		c = new_chain(an, p, NULL, vector, t_src, src_cpu, s ? s->pid : ev->pid, ev);
		if (!c)
			return;
		c->posted = apicv;
		add_orphan(an, c, vcpu_id);
		return;
	}
	/* The vector is already pending in the target's IRR: merged. */
	for (i = 0; i < v->npending; i++) {
		c = &e->pool[v->pending[i]];
		if (c->vector == vector && !c->delivered && c->t_inj) {
			if (pass(an, p, vcpu_id, vector))
				an->ps[p].coalesced++;
			if (s)
				s->injected = true;
			return;
		}
	}
	c = new_chain(an, p, v, vector, t_src, src_cpu, s ? s->pid : ev->pid, ev);
	if (!c)
		return;
	c->posted = apicv;
	if (s) {
		s->injected = true;
		if (s->nchains < SLOT_CHAINS) {
			s->chain[s->nchains] = chain_idx(e, c);
			s->chain_id[s->nchains++] = c->id;
		}
	}
pending:
	start_wait(v, c, ev->ts);
	pending_add(an, v, c);
}

static void on_irqfd_inject(struct analysis *an, const struct ev *ev)
{
	struct engine *e = an->eng;
	struct slot *s = slot_of(e, ev->pid);
	int gsi = (int)ev->a, stage = (int)ev->b, ret = (int)ev->c;
	enum path p = s ? (enum path)s->path : path_of_task(an, ev->pid);
	struct deferred *d;
	unsigned int i;

	switch (stage) {
	case 1:		/* deferred to the workqueue: remember the source */
		d = &e->deferred[e->ndeferred++ % NR_DEFERRED];
		d->gsi = gsi;
		d->path = (u8)p;
		d->ts = s && !s->injected ? s->ts : ev->ts;
		d->cpu = ev->cpu;
		d->pid = ev->pid;
		if (!s || s->injected)
			if (pass(an, p, -1, -1))
				an->ps[p].sources++;
		if (s)
			slot_close(s);
		return;
	case 2:		/* the work item runs; its injection follows */
		for (i = 0; i < NR_DEFERRED && i < e->ndeferred; i++) {
			d = &e->deferred[(e->ndeferred - 1 - i) % NR_DEFERRED];
			if (d->gsi == gsi && d->ts) {
				s = slot_open(an, ev, (enum path)d->path);
				an->ps[d->path].sources -= pass(an, (enum path)d->path, -1, -1);
				s->ts = d->ts;
				s->cpu = d->cpu;
				d->ts = 0;
				return;
			}
		}
		slot_open(an, ev, path_of_task(an, ev->pid));
		return;
	default:	/* fast: the injection (if any) was traced just before */
		break;
	}
	if (s && s->injected && !s->irqfd_seen) {
		s->irqfd_seen = true;
		if (ret == 0 && pass(an, p, -1, s->vector))
			an->ps[p].coalesced++;
		return;
	}
	if (!s || s->injected)
		s = slot_open(an, ev, p);
	if (ret == 0) {
		/* Nothing accepted the interrupt: coalesced, no chain. */
		if (pass(an, p, -1, -1))
			an->ps[p].coalesced++;
	} else if (pass(an, p, -1, -1)) {
		/*
		 * Injected, but no LAPIC acceptance came before it in this
		 * context: not a LAPIC interrupt (a Xen event channel), or
		 * kvm_apic_accept_irq was not recorded.
		 */
		an->ps[p].incomplete[INC_NO_INJECTION]++;
	}
	slot_close(s);
}

static void on_timer(struct analysis *an, const struct ev *ev)
{
	struct engine *e = an->eng;
	struct vcpu *self = vcpu_by_pid(e, ev->pid);
	int vcpu_id = (int)ev->a, outcome = (int)ev->c;
	struct vcpu *v;
	struct chain *c;

	if (pass(an, P_TIMER, vcpu_id, -1))
		an->ps[P_TIMER].sources++;
	if (outcome == 0) {	/* coalesced: the previous expiry is still pending */
		if (pass(an, P_TIMER, vcpu_id, -1))
			an->ps[P_TIMER].coalesced++;
		return;
	}
	v = self && self->vcpu_id == vcpu_id ? self : vcpu_by_id_on_cpu(e, vcpu_id, ev->cpu);
	if (!v) {
		/* Its thread has not shown up yet: it takes the chain when it does. */
		c = new_chain(an, P_TIMER, NULL, -1, ev->ts, ev->cpu, ev->pid, NULL);
		if (c) {
			c->posted = outcome == 2;
			add_orphan(an, c, vcpu_id);
		}
		return;
	}
	if (v->timer_chain) {
		c = chain_get(e, v->timer_chain - 1, v->timer_chain_id);
		if (c)
			chain_incomplete(an, c, INC_SUPERSEDED);
	}
	c = new_chain(an, P_TIMER, v, -1, ev->ts, ev->cpu, ev->pid, NULL);
	if (!c)
		return;
	c->posted = outcome == 2;
	v->timer_chain = chain_idx(e, c) + 1;
	v->timer_chain_id = c->id;
}

static void on_pi_post(struct analysis *an, const struct ev *ev)
{
	struct engine *e = an->eng;
	struct slot *s = slot_of(e, ev->pid);
	int vector = (int)ev->b, outcome = (int)ev->c;
	struct chain *c = NULL;
	struct vcpu *v;
	int i;

	if (s)
		for (i = s->nchains; i-- > 0 && !c;) {
			c = chain_get(e, s->chain[i], s->chain_id[i]);
			if (c && c->vector != vector)
				c = NULL;
		}
	if (!c) {
		struct vcpu *self = vcpu_by_pid(e, ev->pid);

		v = vcpu_in_vm(e, vm_of_task(an, ev->pid), (int)ev->a);
		if (v && self == v && v->npending) {
			c = &e->pool[v->pending[v->npending - 1]];
			if (c->vector != vector || c->delivered)
				c = NULL;
		}
	}
	if (!c)
		return;
	v = &e->vcpu[c->vcpu];
	if (outcome >= 3) {	/* coalesced_pir / coalesced_on */
		for (i = 0; i < v->npending; i++)
			if (&e->pool[v->pending[i]] == c) {
				pending_del(v, (unsigned int)i);
				break;
			}
		chain_coalesced(an, c);
		return;
	}
	c->posted = true;
	if (outcome == 1 && !c->t_kick) {	/* wake: the blocked vCPU is woken */
		c->t_kick = ev->ts;
		c->kick_cpu = ev->cpu;
	}
}

static void on_entry(struct analysis *an, struct vcpu *v, const struct ev *ev)
{
	struct engine *e = an->eng;
	unsigned int i;

	v->entries++;
	v->cpu = ev->cpu;
	if (v->state != VS_RUNNING)
		sched_in(an, v, ev->ts, ev->cpu);
	v->in_guest = true;
	v->entry_ts = ev->ts;
	if (v->timer_chain) {
		struct chain *c = chain_get(e, v->timer_chain - 1, v->timer_chain_id);

		/* Posted timer interrupt: delivered by this entry, no accept_irq traced. */
		if (c && c->posted && ev->ts > c->t_src) {
			v->timer_chain = 0;
			c->t_inj = c->t_src;
			c->inj_cpu = c->src_cpu;
			deliver(an, v, c, ev);
		} else if (!c) {
			v->timer_chain = 0;
		}
	}
	for (i = 0; i < v->npending;) {
		struct chain *c = &e->pool[v->pending[i]];

		if (c->t_inj && (c->virq || c->posted || !an->have[EV_INJ_VIRQ])) {
			pending_del(v, i);
			deliver(an, v, c, ev);
			continue;
		}
		i++;
	}
}

static void on_eoi(struct analysis *an, struct vcpu *v, int vector, u64 ts)
{
	struct engine *e = an->eng;
	struct chain *c;
	u32 idx;

	if (vector < 0 || vector > 255)
		return;
	idx = v->eoi_wait[vector];
	if (!idx)
		return;
	v->eoi_wait[vector] = 0;
	c = &e->pool[idx - 1];
	if (pass(an, c->path, v->vcpu_id, vector)) {
		an->ps[c->path].eoi++;
		hop(an, c, H_ENTRY_EOI, c->t_entry, ts);
	}
	chain_emit(an, c, ts);
}

void engine_event(struct analysis *an, const struct ev *ev)
{
	struct engine *e = an->eng;
	struct vcpu *v;
	struct slot *s;
	unsigned int i;
	enum path p;

	switch (ev->type) {
	case EV_VHOST_NOTIFY:
		if (!ev->a) {
			if (pass(an, P_VHOST, -1, -1))
				an->ps[P_VHOST].suppressed++;
			return;
		}
		slot_open(an, ev, P_VHOST);
		return;
	case EV_VHOST_SIGNAL:
		s = slot_of(e, ev->pid);
		if (ev->a == 2) {	/* suppressed: vhost_notify counted it already */
			if (!an->have[EV_VHOST_NOTIFY] && pass(an, P_VHOST, -1, -1))
				an->ps[P_VHOST].suppressed++;
			if (s && s->path == P_VHOST && !s->injected)
				slot_close(s);
			return;
		}
		if (ev->a == 1) {	/* wanted, but no call eventfd to signal */
			if (!s || s->path != P_VHOST || s->injected)
				s = slot_open(an, ev, P_VHOST);
			if (pass(an, P_VHOST, -1, -1))
				an->ps[P_VHOST].incomplete[INC_NO_INJECTION]++;
			slot_close(s);
			return;
		}
		/*
		 * Signalled.  The injection runs inside eventfd_signal(): traced
		 * before this event it already belongs to vhost_notify's source.
		 */
		if (s && s->path == P_VHOST &&
		    (!s->injected || ev->ts - s->ts <= SLOT_REUSE_NS))
			return;
		slot_open(an, ev, P_VHOST);
		return;
	case EV_VFIO_MSI:
		slot_open(an, ev, P_VFIO);
		return;
	case EV_IRTE_POSTED:
		an->irte_posted++;
		return;
	case EV_PI_IRTE_UPDATE:
		an->pi_irte_updates++;
		return;
	case EV_IRQFD_INJECT:
		on_irqfd_inject(an, ev);
		return;
	case EV_MSI_SET_IRQ:
	case EV_SET_IRQ:
		if (ev->type == EV_SET_IRQ && !ev->b)
			return;		/* de-assert */
		s = slot_of(e, ev->pid);
		if (!s || s->injected)
			s = slot_open(an, ev, path_of_task(an, ev->pid));
		if (ev->type == EV_MSI_SET_IRQ)
			s->vector = (int)(ev->b & 0xff);
		return;
	case EV_IOAPIC_SET_IRQ:
		s = slot_of(e, ev->pid);
		if (!s || s->injected)
			return;
		p = (enum path)s->path;
		s->vector = (int)(ev->a & 0xff);
		if (ev->c) {	/* the pin's IRR was already set: coalesced */
			if (pass(an, p, -1, s->vector))
				an->ps[p].coalesced++;
			slot_close(s);
			return;
		}
		s->ioapic = true;
		e->ioapic[s->vector].ts = s->ts;
		e->ioapic[s->vector].cpu = s->cpu;
		e->ioapic[s->vector].pid = s->pid;
		e->ioapic[s->vector].path = s->path;
		return;
	case EV_APIC_IPI:
		s = slot_open(an, ev, P_IPI);
		s->vector = (int)(ev->a & 0xff);
		return;
	case EV_TIMER_EXPIRED:
		on_timer(an, ev);
		return;
	case EV_ACCEPT_IRQ:
		if (ev->d) {	/* older kernels: "coalesced" flag */
			s = slot_of(e, ev->pid);
			p = s ? (enum path)s->path : path_of_task(an, ev->pid);
			if (pass(an, p, (int)ev->a, (int)(ev->b & 0xff)))
				an->ps[p].coalesced++;
			return;
		}
		on_accept_irq(an, ev, false);
		return;
	case EV_APICV_ACCEPT_IRQ:
		on_accept_irq(an, ev, true);
		return;
	case EV_PI_POST:
		on_pi_post(an, ev);
		return;
	case EV_PI_WAKEUP:
		v = vcpu_by_id_on_cpu(e, (int)ev->a, (int)ev->b);
		if (v)
			kick(an, v, ev);
		return;
	case EV_VCPU_WAKEUP:
		v = vcpu_by_pid(e, ev->pid);
		if (v)
			kick(an, v, ev);
		return;
	case EV_SCHED_WAKEUP:
		v = vcpu_by_pid(e, (int)ev->a);
		if (v)
			kick(an, v, ev);
		return;
	case EV_VCPU_SCHED:
		v = vcpu_get(an, ev->pid, (int)ev->a, ev->cpu);
		if (!v)
			return;
		if (ev->b) {
			v->cpu = ev->cpu;
			sched_in(an, v, ev->ts, ev->cpu);
		} else {
			sched_out(v, ev->c ? VS_PREEMPTED : VS_BLOCKED, ev->ts);
		}
		return;
	case EV_SCHED_SWITCH:
		/*
		 * prev_state 0 (R) or R+ (preempted): runnable.  kvm_vcpu_sched,
		 * from the preempt notifier, comes after and refines it.
		 */
		v = vcpu_by_pid(e, (int)ev->a);
		if (v)
			sched_out(v, (ev->b & 0xff) == 0 ? VS_PREEMPTED : VS_BLOCKED, ev->ts);
		v = vcpu_by_pid(e, (int)ev->c);
		if (v) {
			v->cpu = ev->cpu;
			sched_in(an, v, ev->ts, ev->cpu);
		}
		return;
	case EV_INJ_VIRQ:
		v = vcpu_by_pid(e, ev->pid);
		if (!v || ev->c)	/* soft (INTn) injections are not interrupts */
			return;
		for (i = 0; i < v->npending; i++) {
			struct chain *c = &e->pool[v->pending[i]];

			if (c->vector == (int)ev->a && c->t_inj)
				c->virq = true;
		}
		return;
	case EV_ENTRY:
		v = vcpu_get(an, ev->pid, (int)ev->a, ev->cpu);
		if (v)
			on_entry(an, v, ev);
		return;
	case EV_EXIT:
		v = vcpu_by_pid(e, ev->pid);
		if (!v && ev->a >= 0)
			v = vcpu_get(an, ev->pid, (int)ev->a, ev->cpu);
		if (!v)
			return;
		if (v->in_guest && an->pf && pass(an, P_NR, v->vcpu_id, -1))
			perfetto_guest_slice(an->pf, an->pf_file_idx, v->vm, v->pid,
					     v->vcpu_id, v->entry_ts, ev->ts);
		v->in_guest = false;
		return;
	case EV_EOI:
		v = vcpu_by_pid(e, ev->pid);
		if (v)
			on_eoi(an, v, (int)ev->b, ev->ts);
		return;
	default:
		return;
	}
}

/* The trace ended: what is still in flight is incomplete (or awaited EOI). */
void engine_finish(struct analysis *an)
{
	struct engine *e = an->eng;
	int i;
	unsigned int j;

	for (i = 0; i < NR_SLOTS; i++) {
		struct slot *s = &e->slot[i];

		if (s->pid && !s->injected && !s->ioapic && pass(an, s->path, -1, s->vector))
			an->ps[s->path].incomplete[INC_TRACE_END_NOT_INJECTED]++;
		s->pid = 0;
	}
	for (i = 0; i < 256; i++)
		if (e->ioapic[i].ts && pass(an, e->ioapic[i].path, -1, i))
			an->ps[e->ioapic[i].path].incomplete[INC_TRACE_END_NOT_INJECTED]++;
	for (j = 0; j < e->norphans; j++) {
		struct chain *c = chain_get(e, e->orphan[j], e->orphan_id[j]);

		if (c)
			chain_incomplete(an, c, INC_NO_TARGET);
	}
	e->norphans = 0;
	for (i = 0; i < e->nvcpus; i++) {
		struct vcpu *v = &e->vcpu[i];
		struct chain *c;

		if (v->timer_chain) {
			c = chain_get(e, v->timer_chain - 1, v->timer_chain_id);
			if (c)
				chain_incomplete(an, c, INC_TRACE_END_NOT_INJECTED);
			v->timer_chain = 0;
		}
		for (j = 0; j < v->npending; j++) {
			c = &e->pool[v->pending[j]];
			if (c->wait_kind >= 0 && pass(an, c->path, v->vcpu_id, c->vector)) {
				an->ps[c->path].wait_n[c->wait_kind]++;
				an->ps[c->path].wait_ns[c->wait_kind] += an->last_ts - c->wait_start;
			}
			chain_incomplete(an, c, INC_TRACE_END_NOT_ENTERED);
		}
		v->npending = 0;
		for (j = 0; j < 256; j++)
			if (v->eoi_wait[j]) {
				chain_emit(an, &e->pool[v->eoi_wait[j] - 1], 0);
				v->eoi_wait[j] = 0;
			}
	}
}
