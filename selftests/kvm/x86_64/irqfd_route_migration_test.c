// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqfd_route_migration_test
 *
 * MSI irqfds whose GSI routes are rewritten under them.  Host "sender"
 * threads signal one irqfd each while a "mover" thread rewrites the GSI
 * routing table (KVM_SET_GSI_ROUTING) over and over: each sender's route
 * moves between vCPUs, through forms that KVM cannot deliver with a single
 * vCPU target (logical multicast, lowest priority among several vCPUs,
 * physical broadcast), and is now and then removed and restored.
 *
 * The delivery contract this test checks:
 *
 *  1. Each table the mover writes is a route "generation" g, and the mover
 *     logs, for every g, each sender's route form and destination set
 *     D(s, g).  A signal sent while generation c was the last one
 *     committed (its KVM_SET_GSI_ROUTING had returned) is delivered with
 *     exactly one generation g, c <= g <= h, where h is the last
 *     generation started when the host observes the delivery: a route
 *     named at some time between send and delivery.
 *  2. It arrives exactly once on each vCPU of D(s, g) for fixed delivery
 *     (a unicast is the 1-vCPU case, a physical broadcast is every vCPU),
 *     and on exactly one vCPU of D(s, g) for lowest-priority delivery;
 *     never on any other vCPU.
 *  3. While a sender's GSI has no route, KVM drops its signals: they are
 *     never delivered, neither then nor after the route is restored.  The
 *     test sends a fixed number of signals in each removal window and then
 *     deassigns and reassigns the irqfd, which flushes any injection KVM
 *     had deferred to its workqueue; only then is the route restored.  So
 *     the number of signals dropped by design is known exactly.
 *
 * How the test knows which generation delivered an interrupt: the vector
 * is part of the route, and generation g routes sender s to vector
 * base(s) + g % NR_TAGS.  The mover never starts a generation NR_TAGS or
 * more ahead of the oldest generation an in-flight signal may still use, so
 * the tag names g uniquely.  Each sender has one signal in flight at a
 * time: it publishes a sequence number in guest memory, signals, and waits
 * until the guest's handler has recorded that sequence number on every
 * vCPU of the route's destination set, so no interrupt can be coalesced
 * with another.  The guest counts every interrupt per (vCPU, vector); the
 * host counts what each attributed delivery should have added, and the two
 * tables must be equal, entry by entry, at the end of each sub-test.
 *
 * Sub-tests: unicast routes only (every signal on KVM's fast path); every
 * form (broadcast is injected from KVM's workqueue); every form plus
 * removal and restoration of the routes.
 */
#include <pthread.h>
#include <time.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define MAX_VCPUS		4
#define DEFAULT_VCPUS		4
#define MAX_SENDERS		4
#define DEFAULT_SENDERS		3
#define DEFAULT_NR_IRQS		500

#define NR_TAGS			8
#define VECTOR_BASE		0x40
#define SENDER_VECTOR(s, tag)	(VECTOR_BASE + (s) * NR_TAGS + (tag))
#define WAKE_VECTOR		0xf0
#define SENDER_GSI(s)		(32 + (s))

/* Signals sent per sender into each window in which its route is removed. */
#define DROP_SIGNALS		3
/*
 * The senders together send at most SIGNALS_PER_GEN signals per sender and
 * generation, so that routes move under the signals however fast the host
 * sends and however slow KVM_SET_GSI_ROUTING is.
 */
#define SIGNALS_PER_GEN		2
/* Every REMOVE_EVERY-th generation of the last sub-test removes the routes. */
#define REMOVE_EVERY		8
/* Sequence numbers published while a route is removed: never delivered. */
#define DROP_SEQ		BIT_ULL(62)

#define APIC_LDR		0xd0
#define APIC_DFR		0xe0
#define APIC_DFR_FLAT		0xffffffffu

#define MSI_ADDR_BASE		0xfee00000u
#define MSI_ADDR_DEST(d)	((uint32_t)(d) << 12)
#define MSI_ADDR_LOGICAL	BIT(2)
#define MSI_ADDR_REDIR_HINT	BIT(3)
#define PHYS_BROADCAST		0xff

#define ARRIVAL_TIMEOUT_S	10
#define WATCHDOG_IDLE_S		30
/* The log keeps the last GEN_RING generations; the window is < NR_TAGS. */
#define GEN_RING		64
#define GEN(g)			(&gens[(g) % GEN_RING])

/* Guest memory shared with the host. */
struct arrival {
	uint64_t seq;		/* sequence number of the last arrival */
	uint64_t vector;	/* its vector */
};

static struct arrival last_arrival[MAX_VCPUS][MAX_SENDERS];
static uint64_t host_seq[MAX_SENDERS];	/* written by the host only */
static uint64_t received[MAX_VCPUS][256];
static uint64_t duplicates[MAX_VCPUS][MAX_SENDERS];
static uint64_t strays;			/* unknown APIC ID or vector */
static uint64_t halts[MAX_VCPUS];
static bool vcpu_ready[MAX_VCPUS];
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t id = GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));
	uint32_t vector = regs->vector;
	uint32_t s = (vector - VECTOR_BASE) / NR_TAGS;
	uint64_t seq;

	if (id >= MAX_VCPUS || s >= MAX_SENDERS) {
		WRITE_ONCE(strays, strays + 1);
		xapic_write_reg(APIC_EOI, 0);
		return;
	}
	seq = READ_ONCE(host_seq[s]);
	if (READ_ONCE(last_arrival[id][s].seq) == seq)
		WRITE_ONCE(duplicates[id][s], duplicates[id][s] + 1);
	/* The host reads seq first, then vector: x86 keeps the stores' order. */
	WRITE_ONCE(last_arrival[id][s].vector, vector);
	WRITE_ONCE(last_arrival[id][s].seq, seq);
	WRITE_ONCE(received[id][vector], received[id][vector] + 1);
	xapic_write_reg(APIC_EOI, 0);
}

/*
 * The test ends from the wake vector's handler, not from the halt loop: an
 * interrupt that returns onto the HLT (QEMU's TCG does that to nested
 * guests now and then) would keep the loop from ever testing the flag.
 */
static void guest_wake_handler(struct ex_regs *regs)
{
	xapic_write_reg(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

static void guest_code(uint32_t idx)
{
	xapic_enable();
	GUEST_ASSERT_EQ(GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)), idx);
	/* Flat logical mode, one bit per vCPU, so that MSIs can multicast. */
	xapic_write_reg(APIC_DFR, APIC_DFR_FLAT);
	xapic_write_reg(APIC_LDR, BIT(idx) << 24);
	xapic_write_reg(APIC_TASKPRI, 0);
	WRITE_ONCE(vcpu_ready[idx], true);

	while (!READ_ONCE(test_done)) {
		WRITE_ONCE(halts[idx], halts[idx] + 1);
		asm volatile("sti; hlt; cli" ::: "memory");
	}
	GUEST_DONE();
}

enum form { UNICAST, MULTICAST, LOWPRI, BROADCAST, REMOVED, NR_FORMS };

static const char * const form_name[] = {
	[UNICAST] = "physical unicast",
	[MULTICAST] = "logical multicast",
	[LOWPRI] = "lowest priority",
	[BROADCAST] = "physical broadcast",
	[REMOVED] = "removed",
};

struct route {
	uint8_t form;
	uint8_t mask;		/* destination vCPUs */
};

struct generation {
	struct route route[MAX_SENDERS];
};

/* Configuration and state shared by all threads. */
static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[MAX_VCPUS];
static int nr_vcpus = DEFAULT_VCPUS, nr_senders = DEFAULT_SENDERS;
static uint64_t nr_irqs = DEFAULT_NR_IRQS;
static uint32_t seed;

/* Host views of the guest's variables. */
static struct arrival (*g_arrival)[MAX_SENDERS];
static uint64_t *g_seq;
static uint64_t (*g_received)[256];
static uint64_t (*g_dups)[MAX_SENDERS];

/* What the guest must have counted, built from the attributed deliveries. */
static uint64_t expected[MAX_VCPUS][256];

/*
 * The route-generation log and the flow control between the senders and
 * the mover, under gen_lock.  A sender's window_lo is the last committed
 * generation when it sent the signal it waits for, or -1 when idle.
 */
static struct generation *gens;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gen_cond = PTHREAD_COND_INITIALIZER;
static int64_t gen_started, gen_committed;
static int64_t window_lo[MAX_SENDERS];
static int gen_signals;		/* signals sent since gen_started began */

/* Removal windows, under gen_lock. */
enum phase { RUN, PARK, DROP };
static enum phase phase;
static bool parked[MAX_SENDERS], dropped_done[MAX_SENDERS], finished[MAX_SENDERS];

struct subtest {
	const char *name;
	uint8_t forms;		/* bitmap of enum form a route may take */
	bool remove;
};

static const struct subtest subtests[] = {
	{ "unicast routes moving between vCPUs", BIT(UNICAST), false },
	{ "unicast, multicast, lowest-priority and broadcast routes",
	  BIT(UNICAST) | BIT(MULTICAST) | BIT(LOWPRI) | BIT(BROADCAST), false },
	{ "all forms, routes removed and restored",
	  BIT(UNICAST) | BIT(MULTICAST) | BIT(LOWPRI) | BIT(BROADCAST), true },
};

static const struct subtest *cur;
static bool senders_done;

struct sender {
	pthread_t thread;
	int id;
	int eventfd;
	uint64_t seq;		/* last sequence number sent */
	uint64_t delivered, dropped, crossed;
	uint64_t lat_sum_ns[NR_FORMS], lat_max_ns[NR_FORMS], nr_form[NR_FORMS];
	uint64_t progress;	/* for the watchdog */
};

static struct sender senders[MAX_SENDERS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t rnd(void)
{
	/* A small LCG, so that a seed reproduces the same route sequence. */
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static uint8_t all_vcpus(void)
{
	return BIT(nr_vcpus) - 1;
}

/* A set of at least two vCPUs. */
static uint8_t random_multi_mask(void)
{
	uint8_t mask;

	do {
		mask = rnd() & all_vcpus();
	} while (__builtin_popcount(mask) < 2);
	return mask;
}

static struct route random_route(uint8_t forms)
{
	struct route r;

	do {
		/* Unicast half of the time, the other forms share the rest. */
		r.form = rnd() % 2 ? UNICAST : 1 + rnd() % (NR_FORMS - 2);
	} while (!(forms & BIT(r.form)));

	switch (r.form) {
	case UNICAST:
		r.mask = BIT(rnd() % nr_vcpus);
		break;
	case MULTICAST:
	case LOWPRI:
		r.mask = random_multi_mask();
		break;
	default:
		r.mask = all_vcpus();
		break;
	}
	return r;
}

static void add_msi_route(struct kvm_irq_routing *routing, int s,
			  struct route r, int64_t g)
{
	uint32_t addr = MSI_ADDR_BASE, data = SENDER_VECTOR(s, g % NR_TAGS);

	switch (r.form) {
	case UNICAST:
		addr |= MSI_ADDR_DEST(__builtin_ctz(r.mask));
		break;
	case MULTICAST:
		addr |= MSI_ADDR_DEST(r.mask) | MSI_ADDR_LOGICAL;
		break;
	case LOWPRI:
		addr |= MSI_ADDR_DEST(r.mask) | MSI_ADDR_LOGICAL | MSI_ADDR_REDIR_HINT;
		data |= APIC_DM_LOWEST;
		break;
	case BROADCAST:
		addr |= MSI_ADDR_DEST(PHYS_BROADCAST);
		break;
	}
	kvm_gsi_routing_msi_add(routing, SENDER_GSI(s), addr, data);
}

/* Write generation g's table; the caller has logged it in gens[g]. */
static void write_routes(int64_t g)
{
	struct kvm_irq_routing *routing = kvm_gsi_routing_create();
	int s;

	for (s = 0; s < nr_senders; s++)
		if (GEN(g)->route[s].form != REMOVED)
			add_msi_route(routing, s, GEN(g)->route[s], g);
	kvm_gsi_routing_write(vm, routing);
}

/* Start generation g (gen_lock held), write it, commit it. */
static void next_generation(bool removed)
{
	int64_t g = gen_started + 1;
	int s;

	for (s = 0; s < nr_senders; s++)
		GEN(g)->route[s] = removed ? (struct route){ REMOVED, 0 } :
					     random_route(cur->forms);
	WRITE_ONCE(gen_started, g);
	gen_signals = 0;
	pthread_cond_broadcast(&gen_cond);
	pthread_mutex_unlock(&gen_lock);

	write_routes(g);

	pthread_mutex_lock(&gen_lock);
	WRITE_ONCE(gen_committed, g);
	pthread_cond_broadcast(&gen_cond);
}

static bool all_senders(bool *flags)
{
	int s;

	for (s = 0; s < nr_senders; s++)
		if (!flags[s] && !finished[s])
			return false;
	return true;
}

/*
 * A removal window: park every sender between two signals, remove the
 * routes, let each sender signal DROP_SIGNALS times and flush its irqfd,
 * restore the routes with a new generation.
 */
static void remove_and_restore(void)
{
	memset(parked, 0, sizeof(parked));
	memset(dropped_done, 0, sizeof(dropped_done));
	phase = PARK;
	pthread_cond_broadcast(&gen_cond);
	while (!all_senders(parked))
		pthread_cond_wait(&gen_cond, &gen_lock);

	next_generation(true);

	phase = DROP;
	pthread_cond_broadcast(&gen_cond);
	while (!all_senders(dropped_done))
		pthread_cond_wait(&gen_cond, &gen_lock);

	next_generation(false);
	phase = RUN;
	pthread_cond_broadcast(&gen_cond);
}

static bool window_full(int64_t next)
{
	int s;

	for (s = 0; s < nr_senders; s++)
		if (window_lo[s] >= 0 && next - window_lo[s] >= NR_TAGS)
			return true;
	return false;
}

static void *mover_fn(void *arg)
{
	pthread_mutex_lock(&gen_lock);
	while (!senders_done) {
		while (window_full(gen_started + 1) && !senders_done)
			pthread_cond_wait(&gen_cond, &gen_lock);
		if (senders_done)
			break;
		if (cur->remove && (gen_started + 1) % REMOVE_EVERY == 0)
			remove_and_restore();
		else
			next_generation(false);
	}
	pthread_mutex_unlock(&gen_lock);
	return NULL;
}

/* The vCPUs that have recorded sequence number seq of sender s. */
static uint8_t arrived(int s, uint64_t seq)
{
	uint8_t mask = 0;
	int v;

	for (v = 0; v < nr_vcpus; v++)
		if (READ_ONCE(g_arrival[v][s].seq) == seq)
			mask |= BIT(v);
	return mask;
}

static void fail_delivery(struct sender *sd, const char *why, int64_t lo, int64_t hi,
			  uint8_t got)
{
	int64_t g;
	int v;

	for (g = lo; g <= hi; g++)
		pr_info("  generation %ld (tag %ld): %s to vCPU mask 0x%x\n", g, g % NR_TAGS,
			form_name[GEN(g)->route[sd->id].form], GEN(g)->route[sd->id].mask);
	for (v = 0; v < nr_vcpus; v++)
		pr_info("  vCPU %d: last seq %lu vector 0x%lx\n", v,
			READ_ONCE(g_arrival[v][sd->id].seq),
			READ_ONCE(g_arrival[v][sd->id].vector));
	TEST_FAIL("sender %d, signal %lu: %s; arrived on vCPU mask 0x%x, generations %ld..%ld",
		  sd->id, sd->seq, why, got, lo, hi);
}

/*
 * Wait until signal seq of sender sd has arrived everywhere the generation
 * that delivered it says it must, check that and account for it.
 */
static void wait_delivery(struct sender *sd, int64_t lo, uint64_t t0)
{
	const uint64_t deadline = t0 + ARRIVAL_TIMEOUT_S * 1000000000ull;
	int s = sd->id;
	struct route r;
	uint8_t got, want;
	uint64_t vector, lat;
	int64_t hi, g;
	int v, first;

	for (;;) {
		got = arrived(s, sd->seq);
		if (got)
			break;
		if (now_ns() > deadline) {
			pthread_mutex_lock(&gen_lock);
			hi = gen_started;
			pthread_mutex_unlock(&gen_lock);
			fail_delivery(sd, "lost: no arrival within the timeout", lo, hi, 0);
		}
		sched_yield();
	}

	/* The first arrival's vector names the generation. */
	first = __builtin_ctz(got);
	vector = READ_ONCE(g_arrival[first][s].vector);
	pthread_mutex_lock(&gen_lock);
	hi = gen_started;
	pthread_mutex_unlock(&gen_lock);
	if (vector < SENDER_VECTOR(s, 0) || vector >= SENDER_VECTOR(s, NR_TAGS))
		fail_delivery(sd, "arrived with another sender's vector", lo, hi, got);
	for (g = lo; g <= hi; g++)
		if (g % NR_TAGS == vector - SENDER_VECTOR(s, 0))
			break;
	if (g > hi)
		fail_delivery(sd, "vector names no generation between send and delivery",
			      lo, hi, got);
	r = GEN(g)->route[s];
	if (r.form == REMOVED)
		fail_delivery(sd, "delivered with a removed route", lo, hi, got);

	/* Lowest priority: one vCPU of the set; otherwise the whole set. */
	for (;;) {
		got = arrived(s, sd->seq);
		if (got & ~r.mask)
			fail_delivery(sd, "arrived on a vCPU outside the route's destinations",
				      g, g, got);
		want = r.form == LOWPRI ? got : r.mask;
		if (r.form == LOWPRI && __builtin_popcount(got) > 1)
			fail_delivery(sd, "lowest-priority interrupt arrived on several vCPUs",
				      g, g, got);
		if (got == want)
			break;
		if (now_ns() > deadline)
			fail_delivery(sd, "not delivered to every destination within the timeout",
				      g, g, got);
		sched_yield();
	}
	lat = now_ns() - t0;

	for (v = 0; v < nr_vcpus; v++) {
		if (!(got & BIT(v)))
			continue;
		TEST_ASSERT(READ_ONCE(g_arrival[v][s].vector) == vector,
			    "sender %d signal %lu: vector 0x%lx on vCPU %d, 0x%lx on vCPU %d",
			    s, sd->seq, READ_ONCE(g_arrival[v][s].vector), v, vector, first);
		expected[v][vector]++;
		sd->delivered++;
	}
	sd->crossed += g != lo;
	sd->nr_form[r.form]++;
	sd->lat_sum_ns[r.form] += lat;
	if (lat > sd->lat_max_ns[r.form])
		sd->lat_max_ns[r.form] = lat;
}

/* Signal DROP_SIGNALS times with no route, then flush the irqfd. */
static void drop_signals(struct sender *sd)
{
	int i;

	WRITE_ONCE(g_seq[sd->id], DROP_SEQ | sd->seq);
	for (i = 0; i < DROP_SIGNALS; i++)
		kvm_eventfd_signal(sd->eventfd);
	/* Deassigning waits for any injection deferred to KVM's workqueue. */
	kvm_deassign_irqfd(vm, SENDER_GSI(sd->id), sd->eventfd);
	kvm_assign_irqfd(vm, SENDER_GSI(sd->id), sd->eventfd);
	sd->dropped += DROP_SIGNALS;
}

/*
 * Wait until the sender may send its next signal: not in a removal window
 * (take part in it instead), and the generation's budget not spent.
 * Returns the generation committed at send time.
 */
static int64_t start_signal(struct sender *sd)
{
	int64_t lo;

	pthread_mutex_lock(&gen_lock);
	for (;;) {
		if (phase == PARK) {
			parked[sd->id] = true;
			pthread_cond_broadcast(&gen_cond);
			while (phase == PARK)
				pthread_cond_wait(&gen_cond, &gen_lock);
		}
		if (phase == DROP) {
			pthread_mutex_unlock(&gen_lock);
			drop_signals(sd);
			pthread_mutex_lock(&gen_lock);
			dropped_done[sd->id] = true;
			pthread_cond_broadcast(&gen_cond);
			while (phase == DROP)
				pthread_cond_wait(&gen_cond, &gen_lock);
			continue;
		}
		if (phase == RUN && gen_signals < SIGNALS_PER_GEN * nr_senders)
			break;
		pthread_cond_wait(&gen_cond, &gen_lock);
	}
	gen_signals++;
	lo = gen_committed;
	window_lo[sd->id] = lo;
	pthread_mutex_unlock(&gen_lock);
	return lo;
}

static void *sender_fn(void *arg)
{
	struct sender *sd = arg;
	uint64_t i, t0;
	int64_t lo;

	for (i = 0; i < nr_irqs; i++) {
		lo = start_signal(sd);
		sd->seq++;
		WRITE_ONCE(g_seq[sd->id], sd->seq);
		t0 = now_ns();
		kvm_eventfd_signal(sd->eventfd);
		wait_delivery(sd, lo, t0);

		pthread_mutex_lock(&gen_lock);
		window_lo[sd->id] = -1;
		pthread_cond_broadcast(&gen_cond);
		pthread_mutex_unlock(&gen_lock);
		WRITE_ONCE(sd->progress, sd->progress + 1);
	}

	pthread_mutex_lock(&gen_lock);
	finished[sd->id] = true;
	pthread_cond_broadcast(&gen_cond);
	pthread_mutex_unlock(&gen_lock);
	return NULL;
}

/* If nothing moves for WATCHDOG_IDLE_S, say where everyone is and fail. */
static void *watchdog_fn(void *arg)
{
	uint64_t last = -1ull, total;
	int s, v, idle = 0;

	for (;;) {
		sleep(1);
		total = 0;
		for (s = 0; s < nr_senders; s++)
			total += READ_ONCE(senders[s].progress);
		idle = total == last ? idle + 1 : 0;
		last = total;
		if (idle < WATCHDOG_IDLE_S)
			continue;
		for (s = 0; s < nr_senders; s++)
			pr_info("sender %d: %lu signals done, seq %lu, window from generation %ld\n",
				s, READ_ONCE(senders[s].progress), READ_ONCE(senders[s].seq),
				READ_ONCE(window_lo[s]));
		for (v = 0; v < nr_vcpus; v++)
			pr_info("vCPU %d: %lu halts\n", v,
				READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&halts[v])));
		TEST_FAIL("no progress for %d s; generation %ld started, %ld committed, phase %d",
			  idle, READ_ONCE(gen_started), READ_ONCE(gen_committed), phase);
	}
	return NULL;
}

static void *vcpu_fn(void *arg)
{
	vcpu_run_expect_done(arg);
	return NULL;
}

static void check_counts(const char *when)
{
	int v, i, s;

	for (v = 0; v < nr_vcpus; v++) {
		for (i = 0; i < 256; i++)
			TEST_ASSERT(READ_ONCE(g_received[v][i]) == expected[v][i],
				    "%s: vCPU %d vector 0x%x: guest counted %lu interrupts, the route log accounts for %lu",
				    when, v, i, READ_ONCE(g_received[v][i]), expected[v][i]);
		for (s = 0; s < nr_senders; s++)
			TEST_ASSERT(!READ_ONCE(g_dups[v][s]),
				    "%s: vCPU %d got %lu duplicate interrupt(s) from sender %d",
				    when, v, READ_ONCE(g_dups[v][s]), s);
	}
	TEST_ASSERT(!READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&strays)),
		    "%s: interrupts on an unknown APIC ID or vector", when);
}

static bool vm_stat(const char *name, uint64_t *val)
{
	*val = -1ull;
	__vm_get_stat(vm, name, val, 1);
	return *val != -1ull;
}

static void print_latency(int s, int f, struct sender *sd)
{
	ksft_print_msg("  sender %d, %-18s: %4lu signals, arrival avg %lu us, max %lu us\n",
		       s, form_name[f], sd->nr_form[f], sd->lat_sum_ns[f] / sd->nr_form[f] / 1000,
		       sd->lat_max_ns[f] / 1000);
}

static void run_subtest(int nr)
{
	uint64_t fast0 = 0, deferred0 = 0, fast, deferred, t0, sent = 0,
		 delivered = 0, dropped = 0, crossed = 0;
	bool have_stats;
	pthread_t mover;
	int s, f;

	cur = &subtests[nr];
	ksft_print_msg("sub-test %d: %s: %d senders x %lu signals, %d vCPUs\n",
		       nr + 1, cur->name, nr_senders, nr_irqs, nr_vcpus);
	have_stats = vm_stat("irqfd_inject_fast", &fast0) &&
		     vm_stat("irqfd_inject_deferred", &deferred0);

	/* Generation 0 of each sub-test: the first table, nothing in flight. */
	memset(gens, 0, sizeof(*gens) * GEN_RING);
	gen_started = -1;
	gen_committed = -1;
	pthread_mutex_lock(&gen_lock);
	next_generation(false);
	phase = RUN;
	senders_done = false;
	memset(finished, 0, sizeof(finished));
	pthread_mutex_unlock(&gen_lock);

	for (s = 0; s < nr_senders; s++) {
		struct sender *sd = &senders[s];

		memset(sd->lat_sum_ns, 0, sizeof(sd->lat_sum_ns));
		memset(sd->lat_max_ns, 0, sizeof(sd->lat_max_ns));
		memset(sd->nr_form, 0, sizeof(sd->nr_form));
		sd->delivered = 0;
		sd->dropped = 0;
		sd->crossed = 0;
		window_lo[s] = -1;
	}

	t0 = now_ns();
	pthread_create(&mover, NULL, mover_fn, NULL);
	for (s = 0; s < nr_senders; s++)
		pthread_create(&senders[s].thread, NULL, sender_fn, &senders[s]);
	for (s = 0; s < nr_senders; s++)
		pthread_join(senders[s].thread, NULL);
	pthread_mutex_lock(&gen_lock);
	senders_done = true;
	pthread_cond_broadcast(&gen_cond);
	pthread_mutex_unlock(&gen_lock);
	pthread_join(mover, NULL);

	check_counts(cur->name);

	for (s = 0; s < nr_senders; s++) {
		struct sender *sd = &senders[s];

		sent += nr_irqs + sd->dropped;
		delivered += sd->delivered;
		dropped += sd->dropped;
		crossed += sd->crossed;
		for (f = 0; f < REMOVED; f++) {
			if (!sd->nr_form[f])
				continue;
			print_latency(s, f, &senders[s]);
		}
	}
	ksft_print_msg("  %lu signals: %lu interrupts delivered, %lu dropped by design\n",
		       sent, delivered, dropped);
	ksft_print_msg("  %lu delivered by a newer generation than the one committed at send\n",
		       crossed);
	ksft_print_msg("  %ld routing updates in %lu ms\n", gen_started + 1,
		       (now_ns() - t0) / 1000000);

	if (have_stats && vm_stat("irqfd_inject_fast", &fast) &&
	    vm_stat("irqfd_inject_deferred", &deferred)) {
		ksft_print_msg("  irqfd_inject_fast +%lu, irqfd_inject_deferred +%lu\n",
			       fast - fast0, deferred - deferred0);
		fast -= fast0;
		deferred -= deferred0;
		/*
		 * Each signal is injected once, fast or deferred; only the
		 * signals sent in a row with no route may share a deferred
		 * injection.  Unicast routes always take the fast path.
		 */
		TEST_ASSERT(fast + deferred <= sent && fast + deferred >= sent - dropped,
			    "%s: irqfd_inject_fast +%lu, irqfd_inject_deferred +%lu, for %lu signals of which %lu without a route",
			    cur->name, fast, deferred, sent, dropped);
		if (cur->forms == BIT(UNICAST))
			TEST_ASSERT(fast == sent && !deferred,
				    "%s: %lu signals on unicast routes, irqfd_inject_fast +%lu, irqfd_inject_deferred +%lu",
				    cur->name, sent, fast, deferred);
	} else {
		ksft_print_msg("  %s: not in this kernel, not checked\n",
			       "irqfd_inject_fast/irqfd_inject_deferred");
	}
	ksft_test_result_pass("%s\n", cur->name);
}

static void stop_vcpus(pthread_t *threads)
{
	bool joined[MAX_VCPUS] = {}, running;
	struct kvm_msi wake = { .data = WAKE_VECTOR };
	uint64_t start = now_ns();
	int v;

	WRITE_ONCE(*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&test_done), true);
	do {
		running = false;
		for (v = 0; v < nr_vcpus; v++) {
			if (joined[v])
				continue;
			joined[v] = !pthread_tryjoin_np(threads[v], NULL);
			if (joined[v])
				continue;
			running = true;
			wake.address_lo = MSI_ADDR_BASE | MSI_ADDR_DEST(v);
			__vm_ioctl(vm, KVM_SIGNAL_MSI, &wake);
		}
		TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "vCPUs did not stop");
		if (running)
			usleep(1000);
	} while (running);
}

static void help(const char *name, int status)
{
	printf("usage: %s [-v vCPUs (2-%d, default %d)] [-t sender threads (1-%d, default %d)]\n"
	       "          [-n signals per sender and sub-test (default %d)] [-s seed]\n",
	       name, MAX_VCPUS, DEFAULT_VCPUS, MAX_SENDERS, DEFAULT_SENDERS,
	       DEFAULT_NR_IRQS);
	exit(status);
}

int main(int argc, char *argv[])
{
	pthread_t vcpu_threads[MAX_VCPUS], watchdog;
	int opt, v, s, i;

	seed = time(NULL);
	while ((opt = getopt(argc, argv, "hv:t:n:s:")) != -1) {
		switch (opt) {
		case 'v':
			nr_vcpus = atoi_positive("vCPUs", optarg);
			if (nr_vcpus < 2 || nr_vcpus > MAX_VCPUS)
				help(argv[0], KSFT_FAIL);
			break;
		case 't':
			nr_senders = atoi_positive("Sender threads", optarg);
			if (nr_senders > MAX_SENDERS)
				help(argv[0], KSFT_FAIL);
			break;
		case 'n':
			nr_irqs = atoi_positive("Signals per sender", optarg);
			break;
		case 's':
			seed = atoi_non_negative("Seed", optarg);
			break;
		case 'h':
			help(argv[0], KSFT_PASS);
			break;
		default:
			help(argv[0], KSFT_FAIL);
		}
	}
	if (optind != argc)
		help(argv[0], KSFT_FAIL);

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQ_ROUTING));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	ksft_set_plan(ARRAY_SIZE(subtests));
	ksft_print_msg("seed %u (-s to repeat the route sequence)\n", seed);

	gens = calloc(GEN_RING, sizeof(*gens));
	TEST_ASSERT(gens, "no memory for the generation log");

	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	for (v = 0; v < nr_vcpus; v++)
		vcpu_args_set(vcpus[v], 1, v);
	for (s = 0; s < MAX_SENDERS; s++)
		for (i = 0; i < NR_TAGS; i++)
			vm_install_exception_handler(vm, SENDER_VECTOR(s, i), guest_irq_handler);
	vm_install_exception_handler(vm, WAKE_VECTOR, guest_wake_handler);
	g_arrival = addr_gva2hva(vm, (vm_vaddr_t)&last_arrival[0][0]);
	g_seq = addr_gva2hva(vm, (vm_vaddr_t)&host_seq[0]);
	g_received = addr_gva2hva(vm, (vm_vaddr_t)&received[0][0]);
	g_dups = addr_gva2hva(vm, (vm_vaddr_t)&duplicates[0][0]);

	for (s = 0; s < nr_senders; s++) {
		senders[s].id = s;
		senders[s].eventfd = kvm_new_eventfd();
	}
	/* An irqfd needs a route for its GSI before it can be assigned. */
	pthread_mutex_lock(&gen_lock);
	cur = &subtests[0];
	gen_started = -1;
	next_generation(false);
	pthread_mutex_unlock(&gen_lock);
	for (s = 0; s < nr_senders; s++)
		kvm_assign_irqfd(vm, SENDER_GSI(s), senders[s].eventfd);

	for (v = 0; v < nr_vcpus; v++)
		pthread_create(&vcpu_threads[v], NULL, vcpu_fn, vcpus[v]);
	for (v = 0; v < nr_vcpus; v++) {
		bool *ready = addr_gva2hva(vm, (vm_vaddr_t)&vcpu_ready[v]);
		uint64_t start = now_ns();

		while (!READ_ONCE(*ready)) {
			TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
				    "vCPU %d did not come up", v);
			sched_yield();
		}
	}
	pthread_create(&watchdog, NULL, watchdog_fn, NULL);

	for (i = 0; i < ARRAY_SIZE(subtests); i++)
		run_subtest(i);

	stop_vcpus(vcpu_threads);
	pthread_cancel(watchdog);
	pthread_join(watchdog, NULL);
	check_counts("after stopping the vCPUs");

	for (s = 0; s < nr_senders; s++) {
		kvm_deassign_irqfd(vm, SENDER_GSI(s), senders[s].eventfd);
		close(senders[s].eventfd);
	}
	free(gens);
	kvm_vm_free(vm);
	ksft_finished();
}
