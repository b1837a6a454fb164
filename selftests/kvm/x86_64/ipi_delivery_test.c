// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipi_delivery_test
 *
 * IPIs between the vCPUs of a guest, in xAPIC and in x2APIC mode, with
 * fixed delivery to a physical destination and with lowest-priority
 * delivery to a logical destination, to a target vCPU in each of three
 * states:
 *
 *  - running: spinning in the guest with interrupts enabled;
 *  - halted: in HLT with interrupts enabled (sti; hlt);
 *  - preempted: spinning like a running one, but its host thread shares a
 *    CPU with a busy host thread, so that it is often scheduled out when
 *    an IPI comes.
 *
 * The sender sends one IPI at a time and waits for the target's handler to
 * count it before it sends the next, so nothing can be coalesced: each IPI
 * must arrive exactly once, on the target (by its APIC ID) and with the
 * vector of its delivery mode.  The handler records the TSC at its entry;
 * the host prints the send-to-handler latency per APIC mode, delivery mode
 * and target state.
 *
 * The target's state changes are announced with a separate vector, which
 * the sender resends until the target acknowledges the change: under QEMU's
 * TCG a nested guest's interrupt is sometimes delivered with the saved RIP
 * still on the HLT, so the target halts again without looking at its state.
 * The handler detects such an interrupt by its saved RIP and counts it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#ifndef APIC_LDR
#define APIC_LDR		0xd0
#endif
#ifndef APIC_DFR
#define APIC_DFR		0xe0
#endif
#define APIC_DFR_FLAT		0xffffffffu

#define SENDER_ID		0
#define TARGET_ID		1
#define NR_VCPUS		2

#define FIXED_VECTOR		0xa0
#define LOWEST_VECTOR		0xa1
#define NUDGE_VECTOR		0xd0	/* state changes, and the end */

#define MAX_IPIS		2000
#define DEFAULT_NR_IPIS		200

/* The sender gives up on one IPI after this long. */
#define IPI_TIMEOUT_MS		5000
/* The sender resends a nudge that was not acknowledged after this long. */
#define NUDGE_RETRY_MS		10
/* How long the sender waits for a halted target to come back to its HLT. */
#define REHALT_WAIT_MS		20
/*
 * Preempted target: the sender waits a random time up to this long before
 * each IPI, so that the IPIs fall at random points of the host's time
 * slices rather than all just after the target was scheduled in.
 */
#define PREEMPT_GAP_US		4000
/* The host fails the test when the IPIs stop moving for this long... */
#define HOST_STALL_S		10
/* ...or when one APIC mode takes longer than this. */
#define HOST_TIMEOUT_S		25

enum target_state { TARGET_RUNNING, TARGET_HALTED, TARGET_PREEMPTED, NR_STATES };
enum delivery { DELIVERY_FIXED, DELIVERY_LOWEST, NR_DELIVERIES };

#define NR_PHASES		(NR_DELIVERIES * NR_STATES)
#define PHASE_DELIVERY(p)	((p) / NR_STATES)
#define PHASE_STATE(p)		((p) % NR_STATES)

static const char * const state_name[] = {
	[TARGET_RUNNING] = "running",
	[TARGET_HALTED] = "halted",
	[TARGET_PREEMPTED] = "preempted",
};

static const char * const delivery_name[] = {
	[DELIVERY_FIXED] = "fixed/physical",
	[DELIVERY_LOWEST] = "lowest-priority/logical",
};

/* Guest memory shared by both vCPUs and the host. */
static bool is_x2apic;
static uint32_t nr_ipis;
static bool phase_enabled[NR_PHASES];
static uint32_t target_ldr;		/* published by the target */
static bool target_ready;
static uint32_t cmd;			/* phase << 8 | halt, from the sender */
static uint32_t cmd_ack;		/* last cmd the target acted on */
static uint32_t cur_phase;
static uint64_t send_tsc;
static uint64_t received[NR_PHASES];
static int64_t latency[NR_PHASES][MAX_IPIS];
static uint64_t on_hlt[NR_PHASES];	/* delivered with the saved RIP on HLT */
static uint64_t rehalt_timeouts[NR_PHASES];
static uint64_t misrouted;		/* IPI vector handled by the sender */
static uint64_t wrong_vector;		/* the other delivery mode's vector */
static uint64_t halts;			/* target: HLTs entered */
static uint64_t nudges_sent;
static uint64_t nudges_handled;
static bool test_done;

static void apic_enable(void)
{
	if (is_x2apic)
		x2apic_enable();
	else
		xapic_enable();
}

static uint32_t apic_read(unsigned int reg)
{
	return is_x2apic ? x2apic_read_reg(reg) : xapic_read_reg(reg);
}

static void apic_write(unsigned int reg, uint32_t val)
{
	if (is_x2apic)
		x2apic_write_reg(reg, val);
	else
		xapic_write_reg(reg, val);
}

static uint32_t apic_id(void)
{
	return is_x2apic ? apic_read(APIC_ID) : GET_APIC_ID_FIELD(apic_read(APIC_ID));
}

/* The write to ICR (low) sends: note the TSC just before it. */
static void send_ipi(uint32_t dest, uint32_t icr)
{
	if (is_x2apic) {
		WRITE_ONCE(send_tsc, rdtsc());
		x2apic_write_reg(APIC_ICR, (uint64_t)dest << 32 | icr);
	} else {
		xapic_write_reg(APIC_ICR2, SET_APIC_DEST_FIELD(dest));
		WRITE_ONCE(send_tsc, rdtsc());
		xapic_write_reg(APIC_ICR, icr);
	}
}

static uint8_t phase_vector(uint32_t p)
{
	return PHASE_DELIVERY(p) == DELIVERY_FIXED ? FIXED_VECTOR : LOWEST_VECTOR;
}

static void guest_ipi_handler(struct ex_regs *regs)
{
	uint64_t now = rdtsc();
	uint32_t p = READ_ONCE(cur_phase);
	uint64_t n;

	if (apic_id() != TARGET_ID) {
		WRITE_ONCE(misrouted, misrouted + 1);
	} else if (regs->vector != phase_vector(p)) {
		WRITE_ONCE(wrong_vector, wrong_vector + 1);
	} else {
		n = received[p];
		if (n < MAX_IPIS)
			latency[p][n] = now - READ_ONCE(send_tsc);
		if (regs->rip == READ_ONCE(guest_hlt_rip))
			on_hlt[p]++;
		WRITE_ONCE(received[p], n + 1);
	}
	apic_write(APIC_EOI, 0);
}

/* The sender's nudges, and the host's at the end. */
static void guest_nudge_handler(struct ex_regs *regs)
{
	WRITE_ONCE(nudges_handled, nudges_handled + 1);
	apic_write(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

static void target_code(void)
{
	uint32_t c;

	if (!is_x2apic) {
		/* Flat logical model, one bit per APIC ID. */
		xapic_write_reg(APIC_DFR, APIC_DFR_FLAT);
		xapic_write_reg(APIC_LDR, BIT(TARGET_ID) << 24);
	}
	/* x2APIC: the LDR is read-only, made from the APIC ID. */
	WRITE_ONCE(target_ldr, is_x2apic ? apic_read(APIC_LDR) :
				       apic_read(APIC_LDR) >> 24);
	WRITE_ONCE(target_ready, true);

	for (;;) {
		c = READ_ONCE(cmd);
		WRITE_ONCE(cmd_ack, c);
		if (c & 1) {
			WRITE_ONCE(halts, halts + 1);
			guest_sti_hlt();
			continue;
		}
		asm volatile("sti" ::: "memory");
		while (READ_ONCE(cmd) == c)
			cpu_relax();
		asm volatile("cli" ::: "memory");
	}
}

static uint64_t ms_to_tsc(uint64_t ms)
{
	return guest_tsc_khz * ms;
}

/* Tell the target about @c and wait until it acted on it. */
static void sender_set_cmd(uint32_t c, uint32_t target_dest)
{
	uint64_t start = rdtsc(), sent;

	/* A spinning target sees it by itself, a halted one needs a nudge. */
	WRITE_ONCE(cmd, c);
	for (;;) {
		sent = rdtsc();
		while (READ_ONCE(cmd_ack) != c && rdtsc() - sent < ms_to_tsc(NUDGE_RETRY_MS))
			cpu_relax();
		if (READ_ONCE(cmd_ack) == c)
			break;
		send_ipi(target_dest, APIC_DEST_PHYSICAL | APIC_DM_FIXED | NUDGE_VECTOR);
		WRITE_ONCE(nudges_sent, nudges_sent + 1);
		__GUEST_ASSERT(rdtsc() - start < ms_to_tsc(IPI_TIMEOUT_MS),
			       "target did not take command 0x%x in %d ms (acked 0x%x, %lu nudges)",
			       c, IPI_TIMEOUT_MS, READ_ONCE(cmd_ack), nudges_sent);
	}
}

static void run_phase(uint32_t p, uint32_t ldr)
{
	bool halted = PHASE_STATE(p) == TARGET_HALTED;
	bool fixed = PHASE_DELIVERY(p) == DELIVERY_FIXED;
	uint32_t dest = fixed ? TARGET_ID : ldr;
	uint32_t icr = fixed ? APIC_DEST_PHYSICAL | APIC_DM_FIXED :
			       APIC_DEST_LOGICAL | APIC_DM_LOWEST;
	uint64_t i, start, last_halts, gap;

	WRITE_ONCE(cur_phase, p);
	last_halts = READ_ONCE(halts);
	sender_set_cmd(p << 8 | halted, TARGET_ID);

	for (i = 1; i <= nr_ipis; i++) {
		if (halted) {
			/*
			 * Let the target come back to its HLT: it counts each
			 * pass of its loop, the first after taking the command.
			 */
			start = rdtsc();
			while (READ_ONCE(halts) == last_halts &&
			       rdtsc() - start < ms_to_tsc(REHALT_WAIT_MS))
				cpu_relax();
			if (READ_ONCE(halts) == last_halts)
				rehalt_timeouts[p]++;
			last_halts = READ_ONCE(halts);
			start = rdtsc();
			while (rdtsc() - start < ms_to_tsc(1) / 5)
				cpu_relax();
		} else if (PHASE_STATE(p) == TARGET_PREEMPTED) {
			gap = guest_random_u64(&guest_rng) % (ms_to_tsc(PREEMPT_GAP_US) / 1000);
			start = rdtsc();
			while (rdtsc() - start < gap)
				cpu_relax();
		}

		send_ipi(dest, icr | phase_vector(p));

		start = rdtsc();
		while (READ_ONCE(received[p]) < i) {
			__GUEST_ASSERT(rdtsc() - start < ms_to_tsc(IPI_TIMEOUT_MS),
				       "%s IPI %lu to a %s target not handled in %d ms: received %lu, misrouted %lu, wrong vector %lu",
				       delivery_name[PHASE_DELIVERY(p)], i,
				       state_name[PHASE_STATE(p)], IPI_TIMEOUT_MS,
				       READ_ONCE(received[p]), READ_ONCE(misrouted),
				       READ_ONCE(wrong_vector));
			cpu_relax();
		}
	}

	/* Nothing more may come. */
	start = rdtsc();
	while (rdtsc() - start < ms_to_tsc(2))
		cpu_relax();
	__GUEST_ASSERT(READ_ONCE(received[p]) == nr_ipis,
		       "%s IPIs to a %s target: sent %u, received %lu",
		       delivery_name[PHASE_DELIVERY(p)], state_name[PHASE_STATE(p)],
		       nr_ipis, READ_ONCE(received[p]));
}

static void sender_code(void)
{
	uint32_t p, ldr;

	while (!READ_ONCE(target_ready))
		cpu_relax();
	ldr = READ_ONCE(target_ldr);
	if (!is_x2apic) {
		xapic_write_reg(APIC_DFR, APIC_DFR_FLAT);
		xapic_write_reg(APIC_LDR, BIT(SENDER_ID) << 24);
	}

	for (p = 0; p < NR_PHASES; p++) {
		if (!phase_enabled[p])
			continue;
		/* The host sets up the target's CPU for the phase. */
		GUEST_SYNC(p);
		run_phase(p, ldr);
	}
	GUEST_SYNC(NR_PHASES);
	WRITE_ONCE(test_done, true);
	GUEST_DONE();
}

static void guest_code(uint32_t idx)
{
	apic_enable();
	GUEST_ASSERT_EQ(apic_id(), idx);
	if (idx == TARGET_ID)
		target_code();
	else
		sender_code();
}

struct test {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS];
	pid_t target_tid;
	int cpus[2];		/* sender's CPU, target's CPU when preempted */
	bool busy;
	pthread_t busy_thread;
	long nivcsw[NR_PHASES];	/* target thread's involuntary switches */
	bool done[NR_VCPUS];
};

static cpu_set_t all_cpus;

static void *busy_fn(void *arg)
{
	struct test *t = arg;

	while (READ_ONCE(t->busy))
		;
	return NULL;
}

static void pin(pthread_t thread, int cpu)
{
	cpu_set_t set;
	int r;

	CPU_ZERO(&set);
	if (cpu < 0)
		set = all_cpus;
	else
		CPU_SET(cpu, &set);
	r = pthread_setaffinity_np(thread, sizeof(set), &set);
	TEST_ASSERT(!r, "pthread_setaffinity_np(CPU %d) failed: %d", cpu, r);
}

static long target_nivcsw(struct test *t)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", t->target_tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static struct test *the_test;

/* The sender's phase p begins (p < NR_PHASES) or all are done. */
static void host_phase(struct test *t, uint32_t p)
{
	static long nivcsw_start;
	static int last = -1;

	if (last >= 0) {
		t->nivcsw[last] = target_nivcsw(t) - nivcsw_start;
		if (t->busy) {
			WRITE_ONCE(t->busy, false);
			pthread_join(t->busy_thread, NULL);
			pin(t->threads[TARGET_ID], -1);
			pin(t->threads[SENDER_ID], -1);
		}
	}
	last = p < NR_PHASES ? p : -1;
	if (p >= NR_PHASES)
		return;

	if (PHASE_STATE(p) == TARGET_PREEMPTED) {
		/* Sender alone on one CPU, the target shares another. */
		pin(t->threads[SENDER_ID], t->cpus[0]);
		pin(t->threads[TARGET_ID], t->cpus[1]);
		t->busy = true;
		pthread_create(&t->busy_thread, NULL, busy_fn, t);
		pin(t->busy_thread, t->cpus[1]);
	}
	nivcsw_start = target_nivcsw(t);
}

static void *vcpu_fn(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct test *t = the_test;
	struct ucall uc;

	if (vcpu->id == TARGET_ID)
		WRITE_ONCE(t->target_tid, gettid());
	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(vcpu->id == SENDER_ID, "sync from the target");
			host_phase(t, uc.args[1]);
			break;
		case UCALL_DONE:
			WRITE_ONCE(t->done[vcpu->id], true);
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
		}
	}
}

/* Host pointers to the guest's variables. */
static uint64_t *u64_of(struct test *t, uint64_t *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static int64_t *s64_of(struct test *t, int64_t *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static bool *bool_of(struct test *t, bool *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static uint32_t *u32_of(struct test *t, uint32_t *gva)
{
	return addr_gva2hva(t->vm, (vm_vaddr_t)gva);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint64_t total_received(struct test *t)
{
	uint64_t sum = 0;
	int p;

	for (p = 0; p < NR_PHASES; p++)
		sum += READ_ONCE(*u64_of(t, &received[p]));
	return sum;
}

static int cmp_s64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t tsc_to_ns(int64_t cycles)
{
	return cycles * 1000000 / (int64_t)guest_tsc_khz;
}

static void print_latency(const char *what, const int64_t *samples, uint64_t n)
{
	int64_t *s = malloc(n * sizeof(*s));

	TEST_ASSERT(s && n, "no samples for %s", what);
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_s64);
	ksft_print_msg("%s: latency over %lu IPIs (ns): min %ld p50 %ld p99 %ld max %ld\n",
		       what, n, tsc_to_ns(s[0]), tsc_to_ns(s[(n - 1) / 2]),
		       tsc_to_ns(s[(n * 99 + 99) / 100 - 1]), tsc_to_ns(s[n - 1]));
	free(s);
}

static void test_apic_mode(bool x2apic, uint32_t nr, bool preempt_ok)
{
	const char *mode = x2apic ? "x2APIC" : "xAPIC";
	struct test t = { .cpus = { -1, -1 } };
	uint64_t start = now_ms(), last = 0, last_change = start, n;
	struct kvm_msi nudge = {
		.address_lo = APIC_DEFAULT_GPA | TARGET_ID << 12,
		.data = NUDGE_VECTOR,
	};
	char what[96];
	int v, p, cpu, nr_cpus = 0;

	for (cpu = 0; cpu < CPU_SETSIZE && nr_cpus < 2; cpu++)
		if (CPU_ISSET(cpu, &all_cpus))
			t.cpus[nr_cpus++] = cpu;

	t.vm = vm_create_with_vcpus(NR_VCPUS, guest_code, t.vcpus);
	if (!x2apic)
		virt_pg_map(t.vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	for (v = 0; v < NR_VCPUS; v++)
		vcpu_args_set(t.vcpus[v], 1, v);
	vm_install_exception_handler(t.vm, FIXED_VECTOR, guest_ipi_handler);
	vm_install_exception_handler(t.vm, LOWEST_VECTOR, guest_ipi_handler);
	vm_install_exception_handler(t.vm, NUDGE_VECTOR, guest_nudge_handler);
	is_x2apic = x2apic;
	sync_global_to_guest(t.vm, is_x2apic);
	nr_ipis = nr;
	sync_global_to_guest(t.vm, nr_ipis);
	for (p = 0; p < NR_PHASES; p++)
		*bool_of(&t, &phase_enabled[p]) =
			PHASE_STATE(p) != TARGET_PREEMPTED || preempt_ok;

	the_test = &t;
	for (v = 0; v < NR_VCPUS; v++)
		pthread_create(&t.threads[v], NULL, vcpu_fn, t.vcpus[v]);

	/* Wait for the sender, failing if the IPIs stop moving. */
	while (!READ_ONCE(t.done[SENDER_ID])) {
		usleep(10000);
		n = total_received(&t);
		if (n != last) {
			last = n;
			last_change = now_ms();
		}
		TEST_ASSERT(now_ms() - last_change < HOST_STALL_S * 1000,
			    "%s: no IPI handled for %d s: %lu in all, phase %u, cmd 0x%x acked 0x%x, %lu target HLTs, nudges %lu sent %lu handled",
			    mode, HOST_STALL_S, n, *u32_of(&t, &cur_phase),
			    *u32_of(&t, &cmd), *u32_of(&t, &cmd_ack),
			    *u64_of(&t, &halts), *u64_of(&t, &nudges_sent),
			    *u64_of(&t, &nudges_handled));
		TEST_ASSERT(now_ms() - start < HOST_TIMEOUT_S * 1000,
			    "%s: not done after %d s: %lu IPIs handled in all, phase %u",
			    mode, HOST_TIMEOUT_S, n, *u32_of(&t, &cur_phase));
	}
	pthread_join(t.threads[SENDER_ID], NULL);

	/* The target may be in HLT: nudge it until it has seen test_done. */
	for (n = 0; !READ_ONCE(t.done[TARGET_ID]); n++) {
		TEST_ASSERT(__vm_ioctl(t.vm, KVM_SIGNAL_MSI, &nudge) == 1,
			    "final nudge to the target not delivered");
		TEST_ASSERT(n < 10000, "%s: target still running after %lu nudges", mode, n);
		usleep(1000);
	}
	pthread_join(t.threads[TARGET_ID], NULL);

	TEST_ASSERT(!*u64_of(&t, &misrouted),
		    "%s: %lu IPIs handled by the sender, not the target",
		    mode, *u64_of(&t, &misrouted));
	TEST_ASSERT(!*u64_of(&t, &wrong_vector),
		    "%s: %lu IPIs handled with the other delivery mode's vector",
		    mode, *u64_of(&t, &wrong_vector));

	for (p = 0; p < NR_PHASES; p++) {
		uint64_t got = *u64_of(&t, &received[p]);

		snprintf(what, sizeof(what), "%s %s IPI -> %s target", mode,
			 delivery_name[PHASE_DELIVERY(p)], state_name[PHASE_STATE(p)]);
		if (!*bool_of(&t, &phase_enabled[p])) {
			ksft_test_result_skip("%s: needs 2 host CPUs, %d usable\n",
					      what, CPU_COUNT(&all_cpus));
			continue;
		}
		TEST_ASSERT(got == nr, "%s: sent %u, received %lu", what, nr, got);
		print_latency(what, s64_of(&t, latency[p]), got);
		if (PHASE_STATE(p) == TARGET_HALTED)
			ksft_print_msg("%s: %lu delivered onto HLT, %lu not back in HLT in %d ms\n",
				       what, *u64_of(&t, &on_hlt[p]),
				       *u64_of(&t, &rehalt_timeouts[p]), REHALT_WAIT_MS);
		ksft_print_msg("%s: target thread involuntarily switched out %ld times\n",
			       what, t.nivcsw[p]);
		ksft_test_result_pass("%s: %u IPIs, each exactly once, right vCPU and vector\n",
				      what, nr);
	}
	ksft_print_msg("%s: nudges: %lu for state changes + %lu at the end, %lu handled\n",
		       mode, *u64_of(&t, &nudges_sent), n, *u64_of(&t, &nudges_handled));
	kvm_vm_free(t.vm);
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-n IPIs per case (default %d, at most %d)]\n",
	       name, DEFAULT_NR_IPIS, MAX_IPIS);
}

int main(int argc, char *argv[])
{
	uint32_t nr = DEFAULT_NR_IPIS;
	bool preempt_ok;
	int opt;

	while ((opt = getopt(argc, argv, "hn:")) != -1) {
		switch (opt) {
		case 'n':
			nr = atoi_positive("IPIs per case", optarg);
			break;
		case 'h':
			help(argv[0]);
			exit(KSFT_PASS);
		default:
			help(argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc || nr > MAX_IPIS) {
		help(argv[0]);
		exit(KSFT_FAIL);
	}

	ksft_print_header();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_X2APIC));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	TEST_ASSERT(!sched_getaffinity(0, sizeof(all_cpus), &all_cpus),
		    "sched_getaffinity failed");
	preempt_ok = CPU_COUNT(&all_cpus) >= 2;
	ksft_set_plan(2 * NR_PHASES);

	test_apic_mode(false, nr, preempt_ok);
	test_apic_mode(true, nr, preempt_ok);

	ksft_finished();
}
