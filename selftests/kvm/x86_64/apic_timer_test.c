// SPDX-License-Identifier: GPL-2.0-only
/*
 * apic_timer_test
 *
 * The LAPIC timer of a halted vCPU, in each of its modes: one-shot,
 * periodic and, when the vCPU's CPUID has it, TSC-deadline.  The guest arms
 * the timer, halts with interrupts enabled and counts the timer interrupts
 * in its handler, where it also measures how late each one is on the TSC:
 *
 *  - one-shot and TSC-deadline: one interrupt per arming, exactly; the
 *    timer must be disarmed once it fired (TMCCT or the deadline MSR reads
 *    0), and a TSC-deadline interrupt must never come before its deadline;
 *  - periodic: the guest stops the timer from the handler of the N-th
 *    interrupt and then waits three more periods: exactly N interrupts must
 *    have arrived, plus one if an expiry was already latched in the IRR
 *    when the timer was stopped (the guest reads the IRR to know).
 *
 * Lateness is the TSC at the handler's entry minus the deadline.  For
 * TSC-deadline that is the deadline the guest wrote.  One-shot and periodic
 * timers count on the APIC bus clock from some moment during the write to
 * TMICT, so their deadlines are taken from the TSC just before that write:
 * an upper bound, which includes the write (its cost is printed too).
 *
 * The host prints the lateness distribution of each mode and, when the
 * kernel has them, checks the timer_expired_sw and timer_expired_hv vCPU
 * stats against the interrupts the guest counted (their sum counts every
 * expiry, so it may not be lower); without them that check is skipped.
 * An SVM host has no hardware timer for its guests: timer_expired_hv must
 * stay 0 there.
 *
 * A host watchdog wakes the vCPU with its own vector when it sits in HLT
 * although the timer interrupt it waits for was counted: under QEMU's TCG
 * a nested guest's interrupt is sometimes delivered with the saved RIP
 * still on the HLT, so the vCPU halts again after the handler and, with no
 * other interrupt to come, would never see that its count is complete.
 * Those wake-ups are counted apart from the timer interrupts and printed.
 * A timer interrupt that never comes gets no help: the guest's wait (as
 * the host sees it) times out and the test fails.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define TIMER_VECTOR		0xec
#define WATCHDOG_VECTOR		0xed

#define APIC_TDCR_DIV_1		0xb
#define APIC_BUS_NS_DEFAULT	1	/* KVM's default APIC bus: 1 GHz */

#define MAX_IRQS		5000
#define DEFAULT_NR_IRQS		500
#define DEFAULT_PERIOD_US	200
#define DEFAULT_NR_PERIODIC	100
#define DEFAULT_PERIODIC_US	2000

/* The guest gives up on one interrupt after this long. */
#define GUEST_TIMEOUT_MS	5000
/* The host kicks the guest when no timer interrupt came for this long. */
#define WATCHDOG_MS		50
/* ...and fails the test when one mode takes longer than this. */
#define HOST_TIMEOUT_S		15

enum timer_mode { MODE_ONESHOT, MODE_PERIODIC, MODE_TSCDEADLINE, NR_MODES };

static const char * const mode_name[] = {
	[MODE_ONESHOT] = "one-shot",
	[MODE_PERIODIC] = "periodic",
	[MODE_TSCDEADLINE] = "TSC-deadline",
};

/* Guest state, also read by the host. */
static uint32_t mode;
static uint64_t period_tsc;
static uint64_t deadline;	/* one-shot, TSC-deadline: TSC of the expiry */
static uint64_t t0;		/* periodic: TSC just before arming */
static uint64_t nr_target;	/* periodic: stop after this many */
static int64_t lateness[MAX_IRQS];
static int64_t arm_cost[MAX_IRQS];	/* TSC across the arming write */
static uint64_t nr_irqs;	/* timer interrupts handled */
static uint64_t nr_early;	/* ...before their deadline */
static uint64_t nr_on_hlt;	/* delivered with the saved RIP on the HLT */
static uint64_t nr_latched;	/* periodic: pending in the IRR at the stop */
static uint64_t nr_watchdog;	/* watchdog interrupts handled */
static uint64_t wait_want;	/* the count the guest waits for */

static void guest_timer_handler(struct ex_regs *regs)
{
	uint64_t now = rdtsc();
	uint64_t n = nr_irqs + 1;
	int64_t late;

	if (mode == MODE_PERIODIC) {
		/* The n-th period ends no earlier than this. */
		late = now - (t0 + n * period_tsc);
		if (n == nr_target) {
			x2apic_write_reg(APIC_LVTT, APIC_LVT_MASKED |
					 APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
			x2apic_write_reg(APIC_TMICT, 0);
			if (x2apic_read_reg(APIC_IRR + (TIMER_VECTOR / 32) * 0x10) &
			    BIT(TIMER_VECTOR % 32))
				nr_latched++;
		}
	} else {
		late = now - deadline;
	}
	if (late < 0)
		nr_early++;
	if (n <= MAX_IRQS)
		lateness[n - 1] = late;
	if (regs->rip == READ_ONCE(guest_hlt_rip))
		nr_on_hlt++;
	WRITE_ONCE(nr_irqs, n);
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_watchdog_handler(struct ex_regs *regs)
{
	WRITE_ONCE(nr_watchdog, nr_watchdog + 1);
	x2apic_write_reg(APIC_EOI, 0);
}

/* Halt until @want timer interrupts have been handled. */
static void guest_wait_irqs(uint64_t want)
{
	uint64_t timeout = guest_tsc_khz * GUEST_TIMEOUT_MS;
	uint64_t start = rdtsc();

	WRITE_ONCE(wait_want, want);
	while (READ_ONCE(nr_irqs) < want) {
		__GUEST_ASSERT(rdtsc() - start < timeout,
			       "%s timer: interrupt %lu did not come within %d ms (%lu handled, %lu watchdog wake-ups)",
			       mode_name[mode], want, GUEST_TIMEOUT_MS,
			       READ_ONCE(nr_irqs), READ_ONCE(nr_watchdog));
		guest_sti_hlt();
	}
}

static void guest_code(uint32_t nr, uint64_t period_ns)
{
	uint64_t end, i;

	x2apic_enable();
	period_tsc = guest_tsc_khz * period_ns / 1000000;
	GUEST_ASSERT(period_tsc);
	x2apic_write_reg(APIC_TDCR, APIC_TDCR_DIV_1);

	switch (mode) {
	case MODE_ONESHOT:
		x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
		for (i = 1; i <= nr; i++) {
			/*
			 * The timer starts during the TMICT write, after this
			 * read: it cannot expire before @deadline.
			 */
			WRITE_ONCE(deadline, rdtsc() + period_tsc);
			x2apic_write_reg(APIC_TMICT, period_ns / APIC_BUS_NS_DEFAULT);
			arm_cost[i - 1] = rdtsc() - (deadline - period_tsc);
			guest_wait_irqs(i);
			__GUEST_ASSERT(!x2apic_read_reg(APIC_TMCCT),
				       "one-shot timer still counting after interrupt %lu: TMCCT %lu",
				       i, x2apic_read_reg(APIC_TMCCT));
		}
		break;
	case MODE_PERIODIC:
		WRITE_ONCE(nr_target, nr);
		x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
		t0 = rdtsc();
		x2apic_write_reg(APIC_TMICT, period_ns / APIC_BUS_NS_DEFAULT);
		arm_cost[0] = rdtsc() - t0;
		guest_wait_irqs(nr);
		break;
	case MODE_TSCDEADLINE:
		GUEST_ASSERT(this_cpu_has(X86_FEATURE_TSC_DEADLINE_TIMER));
		x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE | TIMER_VECTOR);
		for (i = 1; i <= nr; i++) {
			WRITE_ONCE(deadline, rdtsc() + period_tsc);
			wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
			guest_wait_irqs(i);
			__GUEST_ASSERT(!rdmsr(MSR_IA32_TSC_DEADLINE),
				       "TSC-deadline timer still armed after interrupt %lu: 0x%lx",
				       i, rdmsr(MSR_IA32_TSC_DEADLINE));
		}
		break;
	}

	/* Any interrupt in the next three periods is one too many. */
	end = rdtsc() + 3 * period_tsc;
	asm volatile("sti" ::: "memory");
	while (rdtsc() < end)
		cpu_relax();
	asm volatile("cli" ::: "memory");
	GUEST_DONE();
}

struct run {
	enum timer_mode m;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	bool done;
	uint64_t kicks;		/* watchdog interrupts sent */
};

static void *vcpu_thread(void *arg)
{
	struct run *r = arg;

	vcpu_run_expect_done(r->vcpu);
	WRITE_ONCE(r->done, true);
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint64_t guest_u64(struct kvm_vm *vm, uint64_t *gva)
{
	return READ_ONCE(*(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)gva));
}

/*
 * Run the vCPU to completion, waking it with WATCHDOG_VECTOR when its timer
 * count did not move for WATCHDOG_MS although it already has the count it
 * waits for: it took the interrupt and halted again.  A missing interrupt
 * is not helped, so that it fails the test.
 */
static void run_watched(struct run *r)
{
	struct kvm_msi kick = {
		.address_lo = APIC_DEFAULT_GPA,	/* physical, APIC ID 0 */
		.data = WATCHDOG_VECTOR,
	};
	uint64_t start = now_ms(), last_change = start, last = 0, n;
	pthread_t thread;
	int ret;

	pthread_create(&thread, NULL, vcpu_thread, r);
	while (!READ_ONCE(r->done)) {
		usleep(5000);
		n = guest_u64(r->vm, &nr_irqs);
		if (n != last) {
			last = n;
			last_change = now_ms();
		} else if (now_ms() - last_change >= WATCHDOG_MS &&
			   guest_u64(r->vm, &wait_want) &&
			   n >= guest_u64(r->vm, &wait_want) &&
			   guest_u64(r->vm, &nr_watchdog) == r->kicks) {
			/* One at a time, so that none is merged into another. */
			ret = __vm_ioctl(r->vm, KVM_SIGNAL_MSI, &kick);
			TEST_ASSERT(ret == 1, "watchdog KVM_SIGNAL_MSI returned %d", ret);
			r->kicks++;
			last_change = now_ms();
		}
		TEST_ASSERT(n >= guest_u64(r->vm, &wait_want) ||
			    now_ms() - last_change < GUEST_TIMEOUT_MS,
			    "%s timer: interrupt %lu did not come in %d ms, the guest waits for it (%lu handled)",
			    mode_name[r->m], guest_u64(r->vm, &wait_want), GUEST_TIMEOUT_MS, n);
		TEST_ASSERT(now_ms() - start < HOST_TIMEOUT_S * 1000ull,
			    "%s timer: vCPU still running after %d s: %lu interrupts handled, %lu watchdog kicks",
			    mode_name[r->m],
			    HOST_TIMEOUT_S, n, r->kicks);
	}
	pthread_join(thread, NULL);
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

/* Print min/p50/p99/max of @n TSC deltas, in ns. */
static void print_stats(const char *what, const char *name, const char *unit,
			int64_t *samples, uint64_t n)
{
	int64_t *s = malloc(n * sizeof(*s));

	TEST_ASSERT(s && n, "no samples for %s", what);
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_s64);
	ksft_print_msg("%s: %s over %lu %s (ns): min %ld p50 %ld p99 %ld max %ld\n",
		       what, name, n, unit, tsc_to_ns(s[0]), tsc_to_ns(s[(n - 1) / 2]),
		       tsc_to_ns(s[(n * 99 + 99) / 100 - 1]), tsc_to_ns(s[n - 1]));
	free(s);
}

/*
 * Periodic: @lat[k] is the (k+1)-th interrupt's TSC minus (t0 + (k+1) * P).
 * Expiries merged into a still-pending interrupt show as periods that
 * ended, after the arming write and before the last interrupt, in excess
 * of the interrupts: that bounds their number below.
 */
static void print_periodic(int64_t *lat, int64_t arm_cost, uint64_t irqs,
			   uint64_t period_us)
{
	int64_t period_tsc = guest_tsc_khz * period_us / 1000;
	int64_t last = lat[irqs - 1] + irqs * period_tsc;	/* t_N - t0 */
	int64_t merged = (last - arm_cost) / period_tsc - irqs;

	ksft_print_msg("periodic: TMICT write %ld ns (in the lateness); >= %ld expiries merged\n",
		       tsc_to_ns(arm_cost), merged > 0 ? merged : 0);
}

/* The vCPU's timer_expired_{sw,hv} stats against the interrupts counted. */
static void check_timer_stats(struct kvm_vcpu *vcpu, enum timer_mode m,
			      uint64_t irqs)
{
	uint64_t sw = 0, hv = 0;
	bool has_sw = __vcpu_get_stat(vcpu, "timer_expired_sw", &sw, 1);
	bool has_hv = __vcpu_get_stat(vcpu, "timer_expired_hv", &hv, 1);
	const char *note = "";

	if (!has_sw || !has_hv) {
		ksft_test_result_skip("%s timer: %s stat not present, kernel lacks irqpath stats\n",
				      mode_name[m],
				      has_sw ? "timer_expired_hv" :
				      has_hv ? "timer_expired_sw" : "timer_expired_sw/hv");
		return;
	}

	TEST_ASSERT(sw + hv >= irqs,
		    "%s timer: timer_expired_sw %lu + timer_expired_hv %lu < %lu interrupts handled",
		    mode_name[m], sw, hv, irqs);
	if (kvm_cpu_has(X86_FEATURE_SVM))
		TEST_ASSERT(!hv,
			    "%s timer: timer_expired_hv %lu on an SVM host, which has no hardware timer for guests",
			    mode_name[m], hv);
	if (kvm_cpu_has(X86_FEATURE_SVM))
		note = " (SVM: only the software timer exists)";
	ksft_print_msg("%s timer: timer_expired_sw %lu, timer_expired_hv %lu: %s moved%s\n",
		       mode_name[m], sw, hv,
		       sw && hv ? "both" : hv ? "hv (VMX preemption timer)" : "sw (hrtimer)",
		       note);
	ksft_test_result_pass("%s timer: timer_expired stats cover the %lu interrupts\n",
			      mode_name[m], irqs);
}

static void test_mode(enum timer_mode m, uint32_t nr, uint64_t period_us)
{
	struct run r = { .m = m };
	uint64_t irqs, early, latched, on_hlt, watchdog;
	int64_t *lat, *cost;

	if (m == MODE_TSCDEADLINE && !kvm_has_cap(KVM_CAP_TSC_DEADLINE_TIMER)) {
		ksft_test_result_skip("TSC-deadline timer: no KVM_CAP_TSC_DEADLINE_TIMER\n");
		ksft_test_result_skip("TSC-deadline timer: stats not checked\n");
		return;
	}

	r.vm = vm_create_with_one_vcpu(&r.vcpu, guest_code);
	if (m == MODE_TSCDEADLINE)
		vcpu_set_cpuid_feature(r.vcpu, X86_FEATURE_TSC_DEADLINE_TIMER);
	vm_install_exception_handler(r.vm, TIMER_VECTOR, guest_timer_handler);
	vm_install_exception_handler(r.vm, WATCHDOG_VECTOR, guest_watchdog_handler);
	mode = m;
	sync_global_to_guest(r.vm, mode);
	vcpu_args_set(r.vcpu, 2, nr, period_us * 1000);

	run_watched(&r);

	irqs = guest_u64(r.vm, &nr_irqs);
	early = guest_u64(r.vm, &nr_early);
	latched = guest_u64(r.vm, &nr_latched);
	on_hlt = guest_u64(r.vm, &nr_on_hlt);
	watchdog = guest_u64(r.vm, &nr_watchdog);
	lat = addr_gva2hva(r.vm, (vm_vaddr_t)lateness);
	cost = addr_gva2hva(r.vm, (vm_vaddr_t)arm_cost);

	TEST_ASSERT(irqs == nr + latched,
		    "%s timer: %lu interrupts handled, wanted exactly %u%s",
		    mode_name[m], irqs, nr,
		    latched ? " + 1 latched in the IRR when the timer was stopped" : "");
	if (m == MODE_TSCDEADLINE)
		TEST_ASSERT(!early,
			    "TSC-deadline timer: %lu of %lu interrupts came before their deadline",
			    early, irqs);

	print_stats(mode_name[m], "lateness", "interrupts", lat, irqs);
	if (m == MODE_ONESHOT)
		print_stats(mode_name[m], "TMICT write (counted in the lateness)",
			    "armings", cost, irqs);
	if (m == MODE_PERIODIC)
		print_periodic(lat, cost[0], irqs, period_us);
	ksft_print_msg("%s timer: %lu interrupts at %lu us; early %lu, latched at the stop %lu\n",
		       mode_name[m], irqs, period_us, early, latched);
	ksft_print_msg("%s timer: delivered onto HLT %lu, watchdog wake-ups %lu (of %lu sent)\n",
		       mode_name[m], on_hlt, watchdog, r.kicks);
	ksft_test_result_pass("%s timer: %lu interrupts, each exactly once\n",
			      mode_name[m], irqs);

	check_timer_stats(r.vcpu, m, irqs);
	kvm_vm_free(r.vm);
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-n count] [-p us] [-N count] [-P us]\n"
	       "  -n: one-shot and TSC-deadline interrupts (default %d, at most %d)\n"
	       "  -p: their timeout in us (default %d)\n"
	       "  -N: periodic interrupts (default %d, at most %d)\n"
	       "  -P: the period in us (default %d)\n",
	       name, DEFAULT_NR_IRQS, MAX_IRQS, DEFAULT_PERIOD_US,
	       DEFAULT_NR_PERIODIC, MAX_IRQS - 1, DEFAULT_PERIODIC_US);
}

int main(int argc, char *argv[])
{
	uint32_t nr = DEFAULT_NR_IRQS, nr_periodic = DEFAULT_NR_PERIODIC;
	uint64_t period_us = DEFAULT_PERIOD_US, periodic_us = DEFAULT_PERIODIC_US;
	int opt;

	while ((opt = getopt(argc, argv, "hn:p:N:P:")) != -1) {
		switch (opt) {
		case 'n':
			nr = atoi_positive("Interrupts", optarg);
			break;
		case 'p':
			period_us = atoi_positive("Timeout (us)", optarg);
			break;
		case 'N':
			nr_periodic = atoi_positive("Periodic interrupts", optarg);
			break;
		case 'P':
			periodic_us = atoi_positive("Period (us)", optarg);
			break;
		case 'h':
			help(argv[0]);
			exit(KSFT_PASS);
		default:
			help(argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc || nr > MAX_IRQS || nr_periodic >= MAX_IRQS) {
		help(argv[0]);
		exit(KSFT_FAIL);
	}

	ksft_print_header();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_X2APIC));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	ksft_set_plan(2 * NR_MODES);

	test_mode(MODE_ONESHOT, nr, period_us);
	test_mode(MODE_PERIODIC, nr_periodic, periodic_us);
	test_mode(MODE_TSCDEADLINE, nr, period_us);

	ksft_finished();
}
