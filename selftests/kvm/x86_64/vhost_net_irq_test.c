// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_net_irq_test
 *
 * Interrupts from vhost-net, end to end: a real /dev/vhost-net on a tap
 * device serves a split virtqueue pair (RX, TX) that the guest drives as a
 * virtio-net driver would.  The guest kicks through KVM_IOEVENTFD; vhost
 * signals each queue's call eventfd, which KVM_IRQFD turns into an MSI to
 * the vCPU.  The host is the network peer, with an IPv4 address on the tap
 * (no ARP, no IPv6, so that the host stack sends nothing of its own): the
 * guest's RX frames are UDP datagrams that a host socket sends to the
 * guest's address through the tap, and its TX frames are UDP datagrams,
 * built by the guest, that the host socket receives.
 *
 * The guest changes its notification suppression before each step and
 * asserts, after each step, that the number of interrupts it has taken is
 * exactly what virtio's rules predict:
 *
 *  - without VIRTIO_RING_F_EVENT_IDX, an interrupt per used-ring update
 *    iff VRING_AVAIL_F_NO_INTERRUPT is clear (the test suppresses every
 *    batch of several buffers, whose number of used-ring updates is
 *    vhost's choice, and lets single buffers through or not);
 *  - with VIRTIO_RING_F_EVENT_IDX, an interrupt iff the used index moves
 *    past used_event: for a single buffer at used index u, iff used_event
 *    is u; for a batch of n buffers, exactly one if used_event is one of
 *    u .. u + n - 1, whatever vhost's batching, none otherwise.  The first
 *    update after the ring is set up always interrupts (vhost has no
 *    previous index to compare with), so each ring starts with one.
 *
 * After each step the host flushes vhost's worker (VHOST_SET_LOG_FD, like
 * any vhost device ioctl, waits for queued work), so that vhost has made
 * the step's notification decision, and KVM, which injects an MSI irqfd
 * synchronously from the eventfd signal, has set the vector in the vCPU's
 * IRR, before the guest checks its count and changes the suppression for
 * the next step.  Without that, a used-index update read by the guest
 * before vhost read the flags would make the count a race.
 *
 * Sub-tests: TX and RX, without and with VIRTIO_RING_F_EVENT_IDX, each on
 * a fresh vhost-net device and tap.  The guest measures the latency from
 * its kick to the interrupt for the steps that interrupt.
 */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "apic.h"

#define QSZ			16
#define BUF_SIZE		2048
#define HDR_LEN			sizeof(struct virtio_net_hdr)
#define FRAME_MAGIC		0x6b766d73u
#define HOST_IP			0x0ac90001u	/* 10.201.0.1 */
#define GUEST_IP		0x0ac90002u	/* 10.201.0.2 */
#define NETMASK			0xffffff00u
#define HOST_PORT		7001
#define GUEST_PORT		7002
#define MAX_BATCH		6
#define DEFAULT_STEPS		300

#define RING_GPA		0x80000000ull
#define RING_SLOT		10
#define RING_PAGES		32

enum { RX, TX, NR_QUEUES };	/* vhost-net's queue indexes */

static const char * const qname[] = { [RX] = "RX", [TX] = "TX" };

#define KICK_PORT(q)		(0x6000 + 4 * (q))
#define QUEUE_VECTOR(q)		(0x70 + (q))
#define QUEUE_GSI(q)		(40 + (q))

#define TIMEOUT_S		10

/* Guest-physical (= guest-virtual) layout of the ring memslot. */
#define DESC_GPA(q)		(RING_GPA + (3 * (q) + 0) * PAGE_SIZE)
#define AVAIL_GPA(q)		(RING_GPA + (3 * (q) + 1) * PAGE_SIZE)
#define USED_GPA(q)		(RING_GPA + (3 * (q) + 2) * PAGE_SIZE)
#define BUF_GPA(q, slot)	(RING_GPA + (8 + 8 * (q)) * PAGE_SIZE + (slot) * BUF_SIZE)

struct avail_ring {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSZ];
	uint16_t used_event;
};

struct used_ring {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[QSZ];
	uint16_t avail_event;
};

struct payload {
	uint32_t magic;
	uint64_t seq;
} __packed;

/* An Ethernet frame with an IPv4 UDP datagram; multi-byte fields big-endian. */
struct test_frame {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
	uint8_t ver_ihl, tos;
	uint16_t tot_len, id, frag;
	uint8_t ttl, proto;
	uint16_t csum;
	uint32_t saddr, daddr;
	uint16_t sport, dport, len, ucsum;
	struct payload data;
} __packed;

#define FRAME_LEN		sizeof(struct test_frame)
#define IP_LEN			(FRAME_LEN - 2 * ETH_ALEN - 2)

/* Host commands, through ucalls: (cmd, queue or sequence number, ...). */
enum { CMD_PHASE, CMD_RX_SEND, CMD_STEP_END, CMD_RESULT };

struct phase {
	bool done;
	bool event_idx;
	uint32_t steps;
	uint32_t seed;
};

struct result {
	uint64_t interrupts, predicted, steps, buffers;
	uint64_t lat_sum, lat_max, lat_n;	/* TSC cycles */
};

/* Guest memory shared with the host. */
static struct phase phase;
static uint8_t host_mac[ETH_ALEN];
static struct result results[NR_QUEUES];
static uint64_t irq_count[NR_QUEUES];
static uint64_t irq_tsc[NR_QUEUES];

static void guest_irq_handler(struct ex_regs *regs)
{
	int q = regs->vector - QUEUE_VECTOR(0);

	WRITE_ONCE(irq_tsc[q], rdtsc());
	WRITE_ONCE(irq_count[q], irq_count[q] + 1);
	xapic_write_reg(APIC_EOI, 0);
}

struct gq {
	int q;
	struct vring_desc *desc;
	struct avail_ring *avail;
	struct used_ring *used;
	uint16_t avail_idx, used_idx;
	uint64_t seq;
};

enum step_kind {
	SINGLE_ON,	/* 1 buffer, interrupt wanted */
	SINGLE_OFF,	/* 1 buffer, flag set / used_event already passed */
	SINGLE_LATER,	/* EVENT_IDX: 1 buffer, used_event further on */
	BATCH_OFF,	/* n buffers, no interrupt wanted */
	BATCH_ONE,	/* EVENT_IDX: n buffers, used_event within them */
	NR_KINDS,
};

static const char * const kind_name[] = {
	[SINGLE_ON] = "single, interrupt on",
	[SINGLE_OFF] = "single, interrupt off",
	[SINGLE_LATER] = "single, used_event later",
	[BATCH_OFF] = "batch, interrupt off",
	[BATCH_ONE] = "batch, used_event inside",
};

static uint32_t guest_rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void kick(int q)
{
	asm volatile("outw %w0, %w1" : : "a"(0), "d"((uint16_t)KICK_PORT(q)) : "memory");
}

static uint16_t be16(uint16_t x)
{
	return __builtin_bswap16(x);
}

static uint32_t be32(uint32_t x)
{
	return __builtin_bswap32(x);
}

static void fill_frame(void *p, uint64_t seq)
{
	struct test_frame *f = p;
	uint16_t *w = (void *)&f->ver_ihl;
	uint32_t sum = 0;
	int i;

	memset(p, 0, FRAME_LEN);
	memcpy(f->dst, host_mac, ETH_ALEN);
	f->src[0] = 0x02;
	f->src[5] = 0x02;
	f->type = be16(ETH_P_IP);
	f->ver_ihl = 0x45;
	f->tot_len = be16(IP_LEN);
	f->id = be16(seq);
	f->ttl = 64;
	f->proto = 17;
	f->saddr = be32(GUEST_IP);
	f->daddr = be32(HOST_IP);
	for (i = 0; i < 10; i++)
		sum += be16(w[i]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f->csum = be16(~sum);
	f->sport = be16(GUEST_PORT);
	f->dport = be16(HOST_PORT);
	f->len = be16(IP_LEN - 20);
	f->data.magic = FRAME_MAGIC;
	f->data.seq = seq;
}

/* Post n buffers; TX buffers carry a zero virtio-net header and a frame. */
static void post(struct gq *g, int n)
{
	int j;

	for (j = 0; j < n; j++) {
		uint16_t slot = g->avail_idx % QSZ;
		struct vring_desc *d = &g->desc[slot];

		d->addr = BUF_GPA(g->q, slot);
		d->next = 0;
		if (g->q == TX) {
			memset((void *)d->addr, 0, HDR_LEN);
			fill_frame((void *)(d->addr + HDR_LEN), g->seq + j);
			d->len = HDR_LEN + FRAME_LEN;
			d->flags = 0;
		} else {
			d->len = BUF_SIZE;
			d->flags = VRING_DESC_F_WRITE;
		}
		g->avail->ring[slot] = slot;
		g->avail_idx++;
	}
	/* The ring entries before the index: x86 keeps the stores' order. */
	barrier();
	WRITE_ONCE(g->avail->idx, g->avail_idx);
}

static void wait_used(struct gq *g)
{
	uint64_t t0 = rdtsc(), timeout = TIMEOUT_S * guest_tsc_khz * 1000;

	while (READ_ONCE(g->used->idx) != g->avail_idx) {
		__GUEST_ASSERT(rdtsc() - t0 < timeout,
			       "%s: used idx %u after %d s, %u buffers posted",
			       qname[g->q], READ_ONCE(g->used->idx), TIMEOUT_S, g->avail_idx);
		cpu_relax();
	}
}

/* RX: the used entries are the buffers, in order, each with its frame. */
static void check_rx(struct gq *g, uint16_t first, int n)
{
	int j;

	for (j = 0; j < n; j++) {
		struct vring_used_elem *e = &g->used->ring[(uint16_t)(first + j) % QSZ];
		uint16_t slot = (uint16_t)(first + j) % QSZ;
		struct test_frame *f = (void *)(BUF_GPA(RX, slot) + HDR_LEN);

		__GUEST_ASSERT(e->id == slot && e->len == HDR_LEN + FRAME_LEN,
			       "RX used entry %u: id %u len %u, want id %u len %lu",
			       first + j, e->id, e->len, slot, HDR_LEN + FRAME_LEN);
		__GUEST_ASSERT(f->type == be16(ETH_P_IP) && f->proto == 17 &&
			       f->dport == be16(GUEST_PORT) && f->data.magic == FRAME_MAGIC &&
			       f->data.seq == g->seq + j,
			       "RX buffer %u: ethertype 0x%x proto %u port %u magic 0x%x seq %lu, want the test's datagram %lu",
			       first + j, be16(f->type), f->proto, be16(f->dport), f->data.magic,
			       f->data.seq, g->seq + j);
	}
}

/* One step: choose suppression, post, complete; returns interrupts due. */
static uint64_t run_step(struct gq *g, enum step_kind k, int n)
{
	uint16_t u = g->avail_idx;	/* used idx before the step */
	uint64_t t0, due = 0;

	if (!phase.event_idx) {
		g->avail->flags = (k == SINGLE_ON) ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
		due = k == SINGLE_ON;
	} else {
		switch (k) {
		case SINGLE_ON:
			g->avail->used_event = u;
			due = 1;
			break;
		case SINGLE_OFF:
		case BATCH_OFF:
			g->avail->used_event = u - 1;
			break;
		case SINGLE_LATER:
			g->avail->used_event = u + 1 + n;
			break;
		case BATCH_ONE:
			g->avail->used_event = u + n - 1;
			due = 1;
			break;
		default:
			GUEST_FAIL("unknown step kind %d", k);
		}
	}
	if (k == SINGLE_ON || k == SINGLE_OFF || k == SINGLE_LATER)
		n = 1;

	post(g, n);
	t0 = rdtsc();
	kick(g->q);
	if (g->q == RX)
		GUEST_SYNC3(CMD_RX_SEND, g->seq, n);
	wait_used(g);
	if (g->q == RX)
		check_rx(g, u, n);
	/* The host receives TX frames and flushes vhost's worker. */
	GUEST_SYNC4(CMD_STEP_END, g->q, g->seq, n);
	g->seq += n;
	results[g->q].buffers += n;
	return due ? t0 : 0;
}

static void run_queue(int q)
{
	struct gq g = {
		.q = q,
		.desc = (void *)DESC_GPA(q),
		.avail = (void *)AVAIL_GPA(q),
		.used = (void *)USED_GPA(q),
		.seq = 1,
	};
	struct result *r = &results[q];
	uint32_t seed = phase.seed + q, i;
	uint64_t t0, t, timeout = TIMEOUT_S * guest_tsc_khz * 1000;
	enum step_kind k;
	int n;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < phase.steps; i++) {
		/* First a single interrupting step: vhost always signals it. */
		do {
			k = i ? guest_rnd(&seed) % NR_KINDS : SINGLE_ON;
		} while (!phase.event_idx && (k == SINGLE_LATER || k == BATCH_ONE));
		n = 2 + guest_rnd(&seed) % (MAX_BATCH - 1);

		t0 = run_step(&g, k, n);
		if (t0)
			r->predicted++;
		r->steps++;

		t = rdtsc();
		while (READ_ONCE(irq_count[q]) < r->predicted) {
			__GUEST_ASSERT(rdtsc() - t < timeout,
				       "%s step %u (%s): %lu interrupts after %d s, virtio's rules predict %lu",
				       qname[q], i, kind_name[k], READ_ONCE(irq_count[q]),
				       TIMEOUT_S, r->predicted);
			cpu_relax();
		}
		__GUEST_ASSERT(READ_ONCE(irq_count[q]) == r->predicted,
			       "%s step %u (%s, used idx %u, flags 0x%x, used_event %u): %lu interrupts, virtio's rules predict %lu",
			       qname[q], i, kind_name[k], g.avail_idx, g.avail->flags,
			       g.avail->used_event, READ_ONCE(irq_count[q]), r->predicted);
		if (t0) {
			t = READ_ONCE(irq_tsc[q]) - t0;
			r->lat_sum += t;
			r->lat_max = t > r->lat_max ? t : r->lat_max;
			r->lat_n++;
		}
	}
	r->interrupts = READ_ONCE(irq_count[q]);
	GUEST_SYNC3(CMD_RESULT, q, 0);
}

static void guest_code(void)
{
	xapic_enable();
	asm volatile("sti");
	for (;;) {
		GUEST_SYNC3(CMD_PHASE, 0, 0);
		if (READ_ONCE(phase.done))
			break;
		WRITE_ONCE(irq_count[TX], 0);
		WRITE_ONCE(irq_count[RX], 0);
		run_queue(TX);
		run_queue(RX);
	}
	GUEST_DONE();
}

/* Host side. */
static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
static int vhost_fd = -1, tap_fd = -1, udp_fd = -1;
static int kick_fd[NR_QUEUES], call_fd[NR_QUEUES];
static char ifname[IFNAMSIZ];

static void vhost_ioctl(unsigned long cmd, const char *name, void *arg)
{
	int r = ioctl(vhost_fd, cmd, arg);

	TEST_ASSERT(!r, "%s failed: %d errno %d (%s)", name, r, errno, strerror(errno));
}

#define VHOST_IOCTL(cmd, arg)	vhost_ioctl(cmd, #cmd, arg)

static void skip_if(bool cond, const char *why)
{
	if (cond)
		ksft_exit_skip("%s (errno %d, %s)\n", why, errno, strerror(errno));
}

static void set_inet(int s, unsigned long cmd, const char *name, uint32_t addr)
{
	struct ifreq ifr = {};
	struct sockaddr_in *sin = (void *)&ifr.ifr_addr;

	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	TEST_ASSERT(!ioctl(s, cmd, &ifr), "%s on %s failed, errno %d", name, ifname, errno);
}

/*
 * A tap device, up, with the host's address, no ARP and no IPv6, so that
 * the host stack sends nothing through it but the test's datagrams; and the
 * host's UDP socket on it.
 */
static void open_tap(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	char path[128];
	int s, fd;

	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	skip_if(tap_fd < 0, "cannot open /dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", "kvmst%d");
	skip_if(ioctl(tap_fd, TUNSETIFF, &ifr) < 0,
		"no permission to create a tap device (TUNSETIFF, CAP_NET_ADMIN)");
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		TEST_ASSERT(write(fd, "1", 1) == 1, "cannot write %s", path);
		close(fd);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	skip_if(s < 0, "no IPv4 sockets in this kernel");
	set_inet(s, SIOCSIFADDR, "SIOCSIFADDR", HOST_IP);
	set_inet(s, SIOCSIFNETMASK, "SIOCSIFNETMASK", NETMASK);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	TEST_ASSERT(!ioctl(s, SIOCGIFHWADDR, &ifr), "SIOCGIFHWADDR %s failed, errno %d",
		    ifname, errno);
	if (vm)
		memcpy(addr_gva2hva(vm, (vm_vaddr_t)host_mac), ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	TEST_ASSERT(!ioctl(s, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS %s failed, errno %d",
		    ifname, errno);
	ifr.ifr_flags |= IFF_UP | IFF_NOARP;
	TEST_ASSERT(!ioctl(s, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS %s failed, errno %d",
		    ifname, errno);
	close(s);

	udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(udp_fd >= 0, "socket(AF_INET, SOCK_DGRAM) failed, errno %d", errno);
	sin.sin_addr.s_addr = htonl(HOST_IP);
	sin.sin_port = htons(HOST_PORT);
	TEST_ASSERT(!bind(udp_fd, (void *)&sin, sizeof(sin)),
		    "bind(10.201.0.1:%d) failed, errno %d", HOST_PORT, errno);
}

static void close_devices(void)
{
	int q;

	for (q = 0; q < NR_QUEUES; q++) {
		if (call_fd[q] > 0) {
			kvm_deassign_irqfd(vm, QUEUE_GSI(q), call_fd[q]);
			close(call_fd[q]);
		}
		if (kick_fd[q] > 0) {
			struct kvm_ioeventfd io = {
				.addr = KICK_PORT(q), .len = 2, .fd = kick_fd[q],
				.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN,
			};

			vm_ioctl(vm, KVM_IOEVENTFD, &io);
			close(kick_fd[q]);
		}
		call_fd[q] = 0;
		kick_fd[q] = 0;
	}
	if (vhost_fd >= 0)
		close(vhost_fd);
	if (udp_fd >= 0)
		close(udp_fd);
	if (tap_fd >= 0)
		close(tap_fd);
	vhost_fd = -1;
	udp_fd = -1;
	tap_fd = -1;
}

/* A fresh vhost-net device on a fresh tap, rings empty, features set. */
static void setup_vhost(bool event_idx)
{
	struct vhost_memory *mem = calloc(1, sizeof(*mem) + sizeof(mem->regions[0]));
	uint64_t features, avail;
	int q;

	memset(addr_gpa2hva(vm, RING_GPA), 0, RING_PAGES * PAGE_SIZE);
	open_tap();
	vhost_fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(vhost_fd >= 0, "cannot open /dev/vhost-net, errno %d", errno);

	VHOST_IOCTL(VHOST_SET_OWNER, NULL);
	VHOST_IOCTL(VHOST_GET_FEATURES, &avail);
	features = BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR);
	if (event_idx)
		features |= BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	TEST_ASSERT((avail & features) == features,
		    "vhost-net offers features 0x%lx, the test needs 0x%lx", avail, features);
	VHOST_IOCTL(VHOST_SET_FEATURES, &features);

	TEST_ASSERT(mem, "no memory");
	mem->nregions = 1;
	mem->regions[0].guest_phys_addr = RING_GPA;
	mem->regions[0].memory_size = RING_PAGES * PAGE_SIZE;
	mem->regions[0].userspace_addr = (uint64_t)addr_gpa2hva(vm, RING_GPA);
	VHOST_IOCTL(VHOST_SET_MEM_TABLE, mem);
	free(mem);

	for (q = 0; q < NR_QUEUES; q++) {
		struct vhost_vring_state num = { .index = q, .num = QSZ };
		struct vhost_vring_state base = { .index = q, .num = 0 };
		struct vhost_vring_addr addr = {
			.index = q,
			.desc_user_addr = (uint64_t)addr_gpa2hva(vm, DESC_GPA(q)),
			.avail_user_addr = (uint64_t)addr_gpa2hva(vm, AVAIL_GPA(q)),
			.used_user_addr = (uint64_t)addr_gpa2hva(vm, USED_GPA(q)),
		};
		struct vhost_vring_file kick, call, backend = { .index = q, .fd = tap_fd };
		struct kvm_ioeventfd io = {
			.addr = KICK_PORT(q), .len = 2, .flags = KVM_IOEVENTFD_FLAG_PIO,
		};

		kick_fd[q] = kvm_new_eventfd();
		call_fd[q] = kvm_new_eventfd();
		io.fd = kick_fd[q];
		vm_ioctl(vm, KVM_IOEVENTFD, &io);
		kvm_assign_irqfd(vm, QUEUE_GSI(q), call_fd[q]);
		kick = (struct vhost_vring_file){ .index = q, .fd = kick_fd[q] };
		call = (struct vhost_vring_file){ .index = q, .fd = call_fd[q] };

		VHOST_IOCTL(VHOST_SET_VRING_NUM, &num);
		VHOST_IOCTL(VHOST_SET_VRING_BASE, &base);
		VHOST_IOCTL(VHOST_SET_VRING_ADDR, &addr);
		VHOST_IOCTL(VHOST_SET_VRING_KICK, &kick);
		VHOST_IOCTL(VHOST_SET_VRING_CALL, &call);
		VHOST_IOCTL(VHOST_NET_SET_BACKEND, &backend);
	}
}

/* RX: datagrams seq .. seq + n - 1 to the guest, out through the tap. */
static void send_frames(uint64_t seq, uint64_t n)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(GUEST_PORT),
		.sin_addr.s_addr = htonl(GUEST_IP),
	};
	struct payload data = { .magic = FRAME_MAGIC };
	uint64_t i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		data.seq = seq + i;
		r = sendto(udp_fd, &data, sizeof(data), 0, (void *)&to, sizeof(to));
		TEST_ASSERT(r == sizeof(data),
			    "sendto(10.201.0.2) of RX datagram %lu: %ld, errno %d",
			    seq + i, r, errno);
	}
}

/* TX: receive the guest's datagrams seq .. seq + n - 1, in order. */
static void recv_frames(uint64_t seq, uint64_t n)
{
	struct pollfd pfd = { .fd = udp_fd, .events = POLLIN };
	struct payload data;
	struct sockaddr_in from;
	socklen_t len;
	uint64_t i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		TEST_ASSERT(poll(&pfd, 1, TIMEOUT_S * 1000) == 1,
			    "TX datagram %lu did not reach the host within %d s", seq + i,
			    TIMEOUT_S);
		len = sizeof(from);
		r = recvfrom(udp_fd, &data, sizeof(data), 0, (void *)&from, &len);
		TEST_ASSERT(r == sizeof(data) && data.magic == FRAME_MAGIC &&
			    data.seq == seq + i && from.sin_addr.s_addr == htonl(GUEST_IP),
			    "TX datagram: %ld bytes from 0x%x, magic 0x%x, seq %lu; want %lu bytes from 10.201.0.2, datagram %lu",
			    r, ntohl(from.sin_addr.s_addr), data.magic, data.seq, sizeof(data),
			    seq + i);
	}
}

static void flush_vhost(void)
{
	int fd = VHOST_FILE_UNBIND;

	/* A vhost device ioctl: vhost-net flushes its worker after it. */
	VHOST_IOCTL(VHOST_SET_LOG_FD, &fd);
}

static void report(int q, bool event_idx)
{
	struct result *r = addr_gva2hva(vm, (vm_vaddr_t)&results[q]);

	TEST_ASSERT(r->interrupts == r->predicted,
		    "%s%s: %lu interrupts, virtio's rules predict %lu",
		    qname[q], event_idx ? " with EVENT_IDX" : "", r->interrupts, r->predicted);
	ksft_print_msg("%s %s EVENT_IDX: %lu steps, %lu buffers, %lu interrupts as predicted\n",
		       qname[q], event_idx ? "with" : "without", r->steps, r->buffers,
		       r->interrupts);
	if (r->lat_n)
		ksft_print_msg("  %s to interrupt: avg %lu us, max %lu us\n",
			       q == TX ? "kick" : "kick and host send",
			       r->lat_sum / r->lat_n * 1000 / guest_tsc_khz,
			       r->lat_max * 1000 / guest_tsc_khz);
	ksft_test_result_pass("%s, %s VIRTIO_RING_F_EVENT_IDX\n", qname[q],
			      event_idx ? "with" : "without");
}

static void help(const char *name, int status)
{
	printf("usage: %s [-n steps per queue and sub-test (default %d)] [-s seed]\n",
	       name, DEFAULT_STEPS);
	exit(status);
}

int main(int argc, char *argv[])
{
	struct phase *p;
	struct ucall uc;
	int opt, ph = 0, q;
	uint32_t steps = DEFAULT_STEPS, seed = time(NULL);

	while ((opt = getopt(argc, argv, "hn:s:")) != -1) {
		switch (opt) {
		case 'n':
			steps = atoi_positive("Steps", optarg);
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
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IOEVENTFD));
	q = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	skip_if(q < 0, "cannot open /dev/vhost-net");
	close(q);
	/* The skips for the tap, before anything else. */
	open_tap();
	close_devices();
	ksft_set_plan(4);
	ksft_print_msg("seed %u\n", seed);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, RING_GPA, RING_SLOT,
				    RING_PAGES, 0);
	virt_map(vm, RING_GPA, RING_GPA, RING_PAGES);
	for (q = 0; q < NR_QUEUES; q++)
		vm_install_exception_handler(vm, QUEUE_VECTOR(q), guest_irq_handler);

	{
		struct kvm_irq_routing *routing = kvm_gsi_routing_create();

		for (q = 0; q < NR_QUEUES; q++)
			kvm_gsi_routing_msi_add(routing, QUEUE_GSI(q), 0xfee00000u,
						QUEUE_VECTOR(q));
		kvm_gsi_routing_write(vm, routing);
	}

	p = addr_gva2hva(vm, (vm_vaddr_t)&phase);
	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_DONE:
			goto done;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
		switch (uc.args[0]) {
		case CMD_PHASE:
			close_devices();
			if (ph == 2) {
				p->done = true;
				break;
			}
			p->event_idx = ph++ == 1;
			p->steps = steps;
			p->seed = seed;
			setup_vhost(p->event_idx);
			ksft_print_msg("vhost-net on %s, features: VHOST_NET_F_VIRTIO_NET_HDR%s\n",
				       ifname, p->event_idx ? " VIRTIO_RING_F_EVENT_IDX" : "");
			break;
		case CMD_RX_SEND:
			send_frames(uc.args[1], uc.args[2]);
			break;
		case CMD_STEP_END:
			if (uc.args[1] == TX)
				recv_frames(uc.args[2], uc.args[3]);
			flush_vhost();
			break;
		case CMD_RESULT:
			report(uc.args[1], p->event_idx);
			break;
		}
	}
done:
	close_devices();
	kvm_vm_free(vm);
	ksft_finished();
}
