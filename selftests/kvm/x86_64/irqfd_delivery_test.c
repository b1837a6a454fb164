// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqfd_delivery_test
 *
 * The interrupt path of a userspace device model: host threads interrupt
 * halted vCPUs through KVM_IRQFD on MSI routes, through KVM_SIGNAL_MSI, and
 * through a resampling irqfd on a level-triggered IOAPIC pin, all at once.
 * Every interrupt must arrive exactly once, with its vector, on the vCPU
 * its route names:
 *
 *  - each sender waits until the guest has counted its interrupt before it
 *    sends the next one, so nothing may be coalesced and received == sent
 *    must hold exactly, per vector;
 *  - the guest counts per (receiving APIC ID, vector): a count on any other
 *    vCPU than the route's is a misdelivery;
 *  - a resampling irqfd's resamplefd must fire once per interrupt, after the
 *    guest's EOI, i.e. after the guest counted it;
 *  - KVM_SIGNAL_MSI must report delivery to exactly one vCPU.
 *
 * The vCPUs halt with interrupts enabled between interrupts, so each one is
 * also a blocked-vCPU wakeup.
 */
#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define NR_VCPUS		2
#define DEFAULT_NR_IRQS		2000

/* One vector per (source, target vCPU); the wake vector ends the test. */
#define IRQFD_MSI_VECTOR(v)	(0xa0 + (v))
#define SIGNAL_MSI_VECTOR(v)	(0xb0 + (v))
#define LEVEL_VECTOR		0xc0
#define WAKE_VECTOR		0xd0

/* GSIs: MSI irqfds above the IOAPIC's pins, the level irqfd on pin 10. */
#define IRQFD_MSI_GSI(v)	(32 + (v))
#define LEVEL_PIN		10
#define LEVEL_TARGET		1

#define IOAPIC_GPA		0xfec00000ull
#define IOAPIC_IOWIN		0x10
#define IOAPIC_REDTBL_LO(pin)	(0x10 + 2 * (pin))
#define IOAPIC_REDTBL_HI(pin)	(0x11 + 2 * (pin))
#define IOAPIC_LEVEL_TRIGGER	BIT(15)

/* Seconds a sender waits for the guest to count one interrupt. */
#define ARRIVAL_TIMEOUT_S	10

/*
 * Guest memory shared with the host, accessed with READ_ONCE/WRITE_ONCE on
 * both sides.  Each received[] row is written only by its own vCPU.
 */
static uint64_t received[NR_VCPUS][256];
static uint64_t stray_apic_id;	/* handler ran on an unknown APIC ID */
static uint64_t halts[NR_VCPUS];	/* iterations of the halt loop */
static uint64_t wakes[NR_VCPUS];	/* wake vectors handled */
static bool vcpu_ready[NR_VCPUS];
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t apic_id = GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));

	uint8_t vector = regs->vector;

	if (apic_id < NR_VCPUS)
		WRITE_ONCE(received[apic_id][vector], received[apic_id][vector] + 1);
	else
		WRITE_ONCE(stray_apic_id, stray_apic_id + 1);
	xapic_write_reg(APIC_EOI, 0);
}

/*
 * The wake vector ends the test from the handler itself.  Leaving the halt
 * loop below is not enough: if an interrupt is ever taken with the saved RIP
 * still on the HLT (as QEMU's TCG does to a nested guest), every later
 * interrupt returns to that HLT and the loop's test is never reached.
 */
static void guest_wake_handler(struct ex_regs *regs)
{
	uint32_t apic_id = GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));

	if (apic_id < NR_VCPUS)
		WRITE_ONCE(wakes[apic_id], wakes[apic_id] + 1);
	xapic_write_reg(APIC_EOI, 0);
	if (READ_ONCE(test_done))
		GUEST_DONE();
}

static void ioapic_write(uint32_t reg, uint32_t val)
{
	WRITE_ONCE(*(uint32_t *)IOAPIC_GPA, reg);
	WRITE_ONCE(*(uint32_t *)(IOAPIC_GPA + IOAPIC_IOWIN), val);
}

static void guest_code(uint32_t idx)
{
	xapic_enable();
	GUEST_ASSERT_EQ(GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)), idx);

	if (idx == LEVEL_TARGET) {
		/* Fixed, physical destination, level-triggered, unmasked. */
		ioapic_write(IOAPIC_REDTBL_HI(LEVEL_PIN), LEVEL_TARGET << 24);
		ioapic_write(IOAPIC_REDTBL_LO(LEVEL_PIN),
			     LEVEL_VECTOR | IOAPIC_LEVEL_TRIGGER);
	}
	WRITE_ONCE(vcpu_ready[idx], true);

	/*
	 * Halt with interrupts enabled until told to stop.  The host keeps
	 * sending WAKE_VECTOR after setting test_done until the vCPU exits.
	 */
	while (!READ_ONCE(test_done)) {
		WRITE_ONCE(halts[idx], halts[idx] + 1);
		asm volatile("sti; hlt; cli" ::: "memory");
	}
	GUEST_DONE();
}

struct test {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	uint64_t (*rx)[256];	/* host view of received[][] */
	uint64_t nr_irqs;
	const char *phase;	/* what main() waits for, for the watchdog */
};

enum source { SRC_IRQFD_MSI, SRC_SIGNAL_MSI, SRC_LEVEL };

static const char * const source_name[] = {
	[SRC_IRQFD_MSI] = "KVM_IRQFD (MSI route)",
	[SRC_SIGNAL_MSI] = "KVM_SIGNAL_MSI",
	[SRC_LEVEL] = "KVM_IRQFD resample (IOAPIC level)",
};

struct sender {
	pthread_t thread;
	struct test *t;
	enum source src;
	uint32_t target;
	uint8_t vector;
	int eventfd;
	int resamplefd;
	/* Results: nanoseconds from send to the host seeing the guest's count. */
	uint64_t sent, resamples, lat_sum_ns, lat_max_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct kvm_msi msi_to(uint32_t apic_id, uint8_t vector)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000u | (apic_id << 12),
		.data = vector,
	};

	return msi;
}

/* Wait until the guest has counted @want interrupts of @s's vector. */
static void wait_arrival(struct sender *s, uint64_t want)
{
	uint64_t *count = &s->t->rx[s->target][s->vector];
	uint64_t start = now_ns(), lat;

	while (READ_ONCE(*count) < want) {
		TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
			    "%s: vCPU %u vector 0x%x: interrupt %lu lost: received %lu after %d s",
			    source_name[s->src], s->target, s->vector, want,
			    READ_ONCE(*count), ARRIVAL_TIMEOUT_S);
		sched_yield();
	}
	lat = now_ns() - start;
	s->lat_sum_ns += lat;
	if (lat > s->lat_max_ns)
		s->lat_max_ns = lat;
}

/* Wait for the resamplefd of level interrupt @nr, and count it. */
static void wait_resample(struct sender *s, uint64_t nr)
{
	struct pollfd pfd = { .fd = s->resamplefd, .events = POLLIN };
	int r = poll(&pfd, 1, ARRIVAL_TIMEOUT_S * 1000);

	TEST_ASSERT(r == 1,
		    "level interrupt %lu: no resample within %d s (poll %d); guest count %lu",
		    nr, ARRIVAL_TIMEOUT_S, r, READ_ONCE(s->t->rx[s->target][s->vector]));
	s->resamples += kvm_eventfd_read(s->resamplefd);
}

static void *sender_fn(void *arg)
{
	struct sender *s = arg;
	struct kvm_msi msi = msi_to(s->target, s->vector);
	uint64_t i;
	int r;

	for (i = 1; i <= s->t->nr_irqs; i++) {
		switch (s->src) {
		case SRC_IRQFD_MSI:
			kvm_eventfd_signal(s->eventfd);
			wait_arrival(s, i);
			break;
		case SRC_SIGNAL_MSI:
			r = __vm_ioctl(s->t->vm, KVM_SIGNAL_MSI, &msi);
			TEST_ASSERT(r == 1,
				    "KVM_SIGNAL_MSI #%lu to vCPU %u returned %d, wanted delivery to 1 vCPU",
				    i, s->target, r);
			wait_arrival(s, i);
			break;
		case SRC_LEVEL:
			kvm_eventfd_signal(s->eventfd);
			/* The resample follows the guest's EOI... */
			wait_resample(s, i);
			/* ...which follows the guest's count. */
			TEST_ASSERT(READ_ONCE(s->t->rx[s->target][s->vector]) == i,
				    "resamplefd fired for level interrupt %lu before the guest counted it (count %lu)",
				    i, READ_ONCE(s->t->rx[s->target][s->vector]));
			wait_arrival(s, i);
			break;
		}
		WRITE_ONCE(s->sent, i);
	}
	return NULL;
}

static void *vcpu_fn(void *arg)
{
	vcpu_run_expect_done(arg);
	return NULL;
}

static void setup_routes(struct test *t, struct sender *senders, int n)
{
	struct kvm_irq_routing *routing = kvm_gsi_routing_create();
	struct kvm_irq_routing_entry *e;
	int i;

	/* KVM_SET_GSI_ROUTING replaces the table: route the level pin too. */
	e = &routing->entries[routing->nr++];
	e->gsi = LEVEL_PIN;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	e->u.irqchip.pin = LEVEL_PIN;

	for (i = 0; i < NR_VCPUS; i++) {
		struct kvm_msi msi = msi_to(i, IRQFD_MSI_VECTOR(i));

		kvm_gsi_routing_msi_add(routing, IRQFD_MSI_GSI(i),
					msi.address_lo, msi.data);
	}
	kvm_gsi_routing_write(t->vm, routing);

	for (i = 0; i < n; i++) {
		struct sender *s = &senders[i];

		if (s->src == SRC_IRQFD_MSI) {
			s->eventfd = kvm_new_eventfd();
			kvm_assign_irqfd(t->vm, IRQFD_MSI_GSI(s->target), s->eventfd);
		} else if (s->src == SRC_LEVEL) {
			s->eventfd = kvm_new_eventfd();
			s->resamplefd = kvm_new_eventfd();
			kvm_assign_irqfd_resample(t->vm, LEVEL_PIN, s->eventfd,
						  s->resamplefd);
		}
	}
}

static int last_wake_ret[NR_VCPUS];
static struct sender *watched;
static int nr_watched;
static struct test *watched_test;

/*
 * Every wait of the test is bounded, but a wait inside the kernel (an ioctl
 * that does not return, a vCPU that never exits) is not: if no sender makes
 * progress for a while, print where everyone is and fail.
 */
static void *watchdog_fn(void *arg)
{
	uint64_t last = -1ull, total;
	int i, idle = 0;

	for (;;) {
		sleep(1);
		total = 0;
		for (i = 0; i < nr_watched; i++)
			total += READ_ONCE(watched[i].sent);
		idle = total == last ? idle + 1 : 0;
		last = total;
		if (idle < 3 * ARRIVAL_TIMEOUT_S)
			continue;
		for (i = 0; i < nr_watched; i++)
			pr_info("%-34s -> vCPU %u: sent %lu, guest counted %lu\n",
				source_name[watched[i].src], watched[i].target,
				READ_ONCE(watched[i].sent),
				READ_ONCE(watched_test->rx[watched[i].target][watched[i].vector]));
		for (i = 0; i < NR_VCPUS; i++) {
			uint64_t *h = addr_gva2hva(watched_test->vm, (vm_vaddr_t)&halts[i]);
			uint64_t *w = addr_gva2hva(watched_test->vm, (vm_vaddr_t)&wakes[i]);

			pr_info("vCPU %d: %lu halts, %lu wakes handled, last KVM_SIGNAL_MSI %d\n",
				i, READ_ONCE(*h), READ_ONCE(*w), last_wake_ret[i]);
		}
		TEST_FAIL("no progress for %d s while %s", idle,
			  READ_ONCE(watched_test->phase));
	}
	return NULL;
}

/*
 * KVM counts irqfd injections by the form they took: MSI irqfds inject from
 * the eventfd wakeup (irqfd_inject_fast), the resampling irqfd on an IOAPIC
 * pin through the irqfd workqueue (irqfd_inject_deferred); nothing else in
 * this VM signals an irqfd.  An MSI can also be deferred when KVM cannot
 * resolve its destination in atomic context, so the check is on the sum
 * and on a lower bound for each form.  The counters are plain increments,
 * shared by the senders on different pCPUs, so KVM may lose one to a
 * concurrent update: allow 1 % below the exact figure, never above it.
 */
static void check_irqfd_stats(struct test *t, struct sender *senders, int n)
{
	uint64_t fast, deferred, msi = 0, level = 0, total;
	int i;

	if (!__vm_get_stat(t->vm, "irqfd_inject_fast", &fast, 1) ||
	    !__vm_get_stat(t->vm, "irqfd_inject_deferred", &deferred, 1)) {
		pr_info("irqfd stats: absent, this kernel does not count irqfd injections\n");
		return;
	}
	for (i = 0; i < n; i++) {
		if (senders[i].src == SRC_IRQFD_MSI)
			msi += senders[i].sent;
		else if (senders[i].src == SRC_LEVEL)
			level += senders[i].sent;
	}
	total = msi + level;
	pr_info("irqfd stats: irqfd_inject_fast %lu, irqfd_inject_deferred %lu; signalled %lu MSI, %lu level\n",
		fast, deferred, msi, level);
	TEST_ASSERT(fast + deferred <= total && fast + deferred >= total - total / 100,
		    "irqfd stats: fast %lu + deferred %lu, but %lu irqfd signals were sent",
		    fast, deferred, total);
	TEST_ASSERT(deferred >= level - level / 100,
		    "irqfd stats: %lu deferred, but %lu signals of the level irqfd",
		    deferred, level);
}

static void help(const char *name)
{
	printf("usage: %s [-n interrupts per source and vCPU (default %d)]\n",
	       name, DEFAULT_NR_IRQS);
	exit(KSFT_SKIP);
}

int main(int argc, char *argv[])
{
	struct sender senders[2 * NR_VCPUS + 1] = {};
	pthread_t vcpu_threads[NR_VCPUS], watchdog;
	bool joined[NR_VCPUS] = {};
	struct test t = { .nr_irqs = DEFAULT_NR_IRQS };
	int nr_senders = 0, i, v, opt;
	struct kvm_msi wake;
	bool running;

	while ((opt = getopt(argc, argv, "hn:")) != -1) {
		switch (opt) {
		case 'n':
			t.nr_irqs = atoi_positive("Interrupts per source", optarg);
			break;
		default:
			help(argv[0]);
		}
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD_RESAMPLE));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));

	t.vm = vm_create_with_vcpus(NR_VCPUS, guest_code, t.vcpus);
	virt_pg_map(t.vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	virt_pg_map(t.vm, IOAPIC_GPA, IOAPIC_GPA);
	for (v = 0; v < NR_VCPUS; v++) {
		vcpu_args_set(t.vcpus[v], 1, v);
		vm_install_exception_handler(t.vm, IRQFD_MSI_VECTOR(v), guest_irq_handler);
		vm_install_exception_handler(t.vm, SIGNAL_MSI_VECTOR(v), guest_irq_handler);
	}
	vm_install_exception_handler(t.vm, LEVEL_VECTOR, guest_irq_handler);
	vm_install_exception_handler(t.vm, WAKE_VECTOR, guest_wake_handler);
	t.rx = addr_gva2hva(t.vm, (vm_vaddr_t)&received[0][0]);

	for (v = 0; v < NR_VCPUS; v++) {
		senders[nr_senders++] = (struct sender){ .src = SRC_IRQFD_MSI, .target = v,
			.vector = IRQFD_MSI_VECTOR(v) };
		senders[nr_senders++] = (struct sender){ .src = SRC_SIGNAL_MSI, .target = v,
			.vector = SIGNAL_MSI_VECTOR(v) };
	}
	senders[nr_senders++] = (struct sender){ .src = SRC_LEVEL, .target = LEVEL_TARGET,
		.vector = LEVEL_VECTOR };
	setup_routes(&t, senders, nr_senders);

	for (v = 0; v < NR_VCPUS; v++)
		pthread_create(&vcpu_threads[v], NULL, vcpu_fn, t.vcpus[v]);
	for (v = 0; v < NR_VCPUS; v++) {
		bool *ready = addr_gva2hva(t.vm, (vm_vaddr_t)&vcpu_ready[v]);
		uint64_t start = now_ns();

		while (!READ_ONCE(*ready)) {
			TEST_ASSERT(now_ns() - start < ARRIVAL_TIMEOUT_S * 1000000000ull,
				    "vCPU %d did not come up", v);
			sched_yield();
		}
	}

	watched = senders;
	nr_watched = nr_senders;
	watched_test = &t;
	WRITE_ONCE(t.phase, "sending");
	pthread_create(&watchdog, NULL, watchdog_fn, NULL);
	for (i = 0; i < nr_senders; i++) {
		senders[i].t = &t;
		pthread_create(&senders[i].thread, NULL, sender_fn, &senders[i]);
	}
	for (i = 0; i < nr_senders; i++)
		pthread_join(senders[i].thread, NULL);
	WRITE_ONCE(t.phase, "stopping the vCPUs");

	/* Stop the vCPUs: keep waking them until each has seen the flag. */
	WRITE_ONCE(*(bool *)addr_gva2hva(t.vm, (vm_vaddr_t)&test_done), true);
	do {
		running = false;
		for (v = 0; v < NR_VCPUS; v++) {
			if (joined[v])
				continue;
			joined[v] = !pthread_tryjoin_np(vcpu_threads[v], NULL);
			if (!joined[v]) {
				running = true;
				wake = msi_to(v, WAKE_VECTOR);
				last_wake_ret[v] = __vm_ioctl(t.vm, KVM_SIGNAL_MSI, &wake);
			}
		}
		if (running)
			usleep(1000);
	} while (running);
	pthread_cancel(watchdog);
	pthread_join(watchdog, NULL);

	/* Exactly once, right vector, right vCPU. */
	for (i = 0; i < nr_senders; i++) {
		struct sender *s = &senders[i];
		uint64_t got = READ_ONCE(t.rx[s->target][s->vector]);

		TEST_ASSERT(s->sent == t.nr_irqs && got == s->sent,
			    "%s: vCPU %u vector 0x%x: sent %lu, received %lu",
			    source_name[s->src], s->target, s->vector, s->sent, got);
		if (s->src == SRC_LEVEL)
			TEST_ASSERT(s->resamples == s->sent,
				    "level interrupts: sent %lu, resamplefd counted %lu",
				    s->sent, s->resamples);
		pr_info("%-34s -> vCPU %u vector 0x%x: sent %lu, received %lu, wait for arrival avg %lu us, max %lu us\n",
			source_name[s->src], s->target, s->vector, s->sent, got,
			s->lat_sum_ns / s->sent / 1000, s->lat_max_ns / 1000);
	}
	for (v = 0; v < NR_VCPUS; v++) {
		for (i = 0; i < 256; i++) {
			bool expected = i == IRQFD_MSI_VECTOR(v) || i == SIGNAL_MSI_VECTOR(v) ||
					(i == LEVEL_VECTOR && v == LEVEL_TARGET);

			TEST_ASSERT(expected || !t.rx[v][i],
				    "vCPU %d received %lu interrupt(s) of vector 0x%x, routed elsewhere or never sent",
				    v, t.rx[v][i], i);
		}
	}
	TEST_ASSERT(!READ_ONCE(*(uint64_t *)addr_gva2hva(t.vm, (vm_vaddr_t)&stray_apic_id)),
		    "interrupts handled on an unknown APIC ID");
	check_irqfd_stats(&t, senders, nr_senders);

	for (i = 0; i < nr_senders; i++) {
		if (senders[i].eventfd) {
			uint32_t gsi = senders[i].src == SRC_LEVEL ? LEVEL_PIN :
				       IRQFD_MSI_GSI(senders[i].target);

			kvm_deassign_irqfd(t.vm, gsi, senders[i].eventfd);
			close(senders[i].eventfd);
		}
		if (senders[i].resamplefd)
			close(senders[i].resamplefd);
	}
	kvm_vm_free(t.vm);
	return 0;
}
