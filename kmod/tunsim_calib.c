// SPDX-License-Identifier: GPL-2.0
/*
 * tunsim_calib: measures, in the kernel it is loaded into, the per-packet and
 * per-batch costs that the tunsim model (docs/model.md) needs, and exports them
 * as one JSON document in the tunsim-calibration/1 format (docs/calibration.md)
 * at /sys/kernel/debug/tunsim_calib/result.json.
 *
 * All measurements run once, at load time, in a kthread bound to one CPU, and
 * are bounded by max_ms.  Every timed section runs with bottom halves disabled
 * (or preemption disabled for the memory-latency chase) and is kept short; the
 * thread reschedules between sections.  When the measurement is done the
 * netdev, NAPIs and buffers are freed; only the JSON text stays until unload.
 *
 * What is measured (all times with ktime_get_ns(), corrected for the cost of
 * reading the clock):
 *  - netif_receive_skb() per packet on a netdev the module owns, for batch
 *    sizes 1..batch_max, each batch inside one local_bh_disable() section as
 *    tun_rx_batched() does.  Frames carry EtherType 0x88B5 (local
 *    experimental), so the stack drops them as an unhandled protocol.  The same
 *    is measured for kfree_skb() alone (the drop), so that the receive part
 *    can be told apart.  Both with the path warm and with a working set of
 *    pollute_bytes written between batches (the sender's footprint).
 *  - napi_schedule() on an idle NAPI and the NET_RX softirq round trip that
 *    local_bh_enable() runs inline, with one and with two NAPIs scheduled.
 *  - alloc_skb() and the copy of the frame into it (copy_from_iter() through
 *    skb_copy_datagram_from_iter(), as tun_get_user() does) per frame size.
 *  - the latency of a dependent load over the polluting working set and over
 *    a 16 KiB set (the cost of refilling one line).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/skbuff.h>
#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/time.h>
#include <linux/sort.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/completion.h>
#include <linux/uio.h>
#include <linux/utsname.h>
#include <linux/version.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/cpumask.h>
#include <linux/bottom_half.h>
#include <linux/preempt.h>
#include <linux/delay.h>
#ifdef CONFIG_X86
#include <asm/processor.h>
#include <asm/tsc.h>
#include <asm/cpufeature.h>
#endif

#define CAL_VERSION "0.1.0"
#define CAL_BMAX 64		/* NAPI_POLL_WEIGHT: tun clamps rx_batched to it */
#define CAL_NSIZES 16
#define CAL_ETHERTYPE 0x88B5	/* IEEE 802 local experimental EtherType 1 */
#define CAL_RECV_FRAME 60	/* minimum Ethernet frame without FCS */
#define CAL_CHUNK_ORDER 4	/* polluting buffer is built of 64 KiB chunks */
#define CAL_CHUNK_BYTES (PAGE_SIZE << CAL_CHUNK_ORDER)
#define CAL_LINE 64		/* bytes touched per line; >= any x86 line size */
#define CAL_SMALL_BYTES (16 * 1024)
#define CAL_CHASE_LOADS 1024	/* dependent loads per timed chase section */
#define CAL_CLOCK_READS 16
#define CAL_JSON_BYTES (64 * 1024)

/* ---- module parameters (checked in cal_check_params) ---- */

static unsigned int iterations = 32;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "timed samples per batch size and series (1..10000, default 32)");

static unsigned int batch_max = 64;
module_param(batch_max, uint, 0444);
MODULE_PARM_DESC(batch_max, "largest batch size measured; all of 1..batch_max are (1..64, default 64)");

static unsigned long pollute_bytes = 4UL << 20;
module_param(pollute_bytes, ulong, 0444);
MODULE_PARM_DESC(pollute_bytes, "working set written between batches, 0 (no polluted series) or 64 KiB..64 MiB (default 4 MiB: above L2, within the LLC)");

static unsigned int frame_sizes[CAL_NSIZES] = { 60, 128, 256, 512, 1024, 1514, 4096, 9000 };
static unsigned int n_frame_sizes = 8;
module_param_array(frame_sizes, uint, &n_frame_sizes, 0444);
MODULE_PARM_DESC(frame_sizes, "frame sizes for skb allocation and copy, 2..16 values in 14..65535, at least two distinct");

static unsigned int alloc_batch = 16;
module_param(alloc_batch, uint, 0444);
MODULE_PARM_DESC(alloc_batch, "skbs allocated and filled per timed section (1..64, default 16)");

static unsigned int napi_iterations = 1000;
module_param(napi_iterations, uint, 0444);
MODULE_PARM_DESC(napi_iterations, "NAPI round trips timed per variant (1..100000, default 1000)");

static unsigned int max_ms = 20000;
module_param(max_ms, uint, 0444);
MODULE_PARM_DESC(max_ms, "bound on the whole measurement in ms; later phases are cut (100..600000, default 20000)");

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU to measure on, -1 = the CPU insmod runs on (default -1)");

/* ---- state ---- */

struct cal_stat {
	u64 med_ps, min_ps, mad_ps;	/* picoseconds */
	unsigned int n;
};

struct cal_series {
	u64 med_ps[CAL_BMAX];
	u64 min_ps[CAL_BMAX];
	unsigned int n;		/* batch sizes 1..n are complete */
};

struct cal_priv {
	struct napi_struct napi[2];
	u64 poll_t[2];
	unsigned int poll_seen[2];
};

struct cal {
	/* measurement resources, freed as soon as the measurement is over */
	struct net_device *dev;
	bool napi_added;
	void **chunks;
	unsigned int nchunks;
	unsigned long nlines;
	u8 *small;
	u8 *src;
	u64 *samples;		/* 6 arrays of samples_per */
	unsigned int samples_per;
	struct sk_buff *skbs[CAL_BMAX];
	int cpu;
	u64 deadline;
	u64 start_ns;
	bool truncated;
	bool abort;
	u32 rng;
	const char *cut_at;
	struct completion *done;	/* signalled by the thread when measured */
	u64 scratch[CAL_BMAX];

	/* results */
	u64 clock_ovh_ps;
	bool clock_done;

	bool chase_done;
	struct cal_stat chase_small, chase_large;

	bool napi_done;
	int napi_err;
	unsigned int napi_missed;
	struct cal_stat napi_sched, napi_entry, napi_exit, napi_rt1, napi_rt2;

	unsigned int sizes_done;
	int alloc_err;
	struct cal_stat alloc[CAL_NSIZES], copy[CAL_NSIZES];

	int batch_err;
	struct cal_series recv_warm, recv_pol, free_warm, free_pol;

	u64 elapsed_ns;
	unsigned int observations;
};

static struct dentry *cal_dir;
static struct debugfs_blob_wrapper cal_blob;
static char *cal_json;

/* ---- helpers ---- */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sorts v (destroys it) and fills median, minimum and median absolute deviation. */
static void cal_stat_of(u64 *v, unsigned int n, struct cal_stat *st)
{
	unsigned int i;
	u64 med;

	st->n = n;
	if (!n) {
		st->med_ps = st->min_ps = st->mad_ps = 0;
		return;
	}
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	st->min_ps = v[0];
	med = (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	st->med_ps = med;
	for (i = 0; i < n; i++)
		v[i] = v[i] > med ? v[i] - med : med - v[i];
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	st->mad_ps = (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Robust standard error of a median: 1.2533 * 1.4826 * MAD / sqrt(n). */
static u64 cal_stderr_ps(const struct cal_stat *st)
{
	unsigned long r;

	if (st->n < 2)
		return 0;
	r = int_sqrt(st->n * 1000000UL);	/* sqrt(n) * 1000 */
	return div64_u64(st->mad_ps * 1858ULL, r ? r : 1);
}

/* Time of an interval of dt_ns between two clock reads, minus one read. */
static u64 cal_net_ps(struct cal *c, u64 dt_ns, unsigned int extra_reads)
{
	u64 ps = dt_ns * 1000;
	u64 ovh = c->clock_ovh_ps * (1 + extra_reads);

	return ps > ovh ? ps - ovh : 0;
}

static bool cal_should_stop(struct cal *c, const char *where)
{
	if (c->abort || kthread_should_stop() || ktime_get_ns() > c->deadline) {
		if (!c->truncated)
			c->cut_at = where;
		c->truncated = true;
		return true;
	}
	return false;
}

static u32 cal_rand(struct cal *c)
{
	/* xorshift32: a fixed sequence is enough to defeat the prefetchers */
	u32 x = c->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x;
	return x;
}

static inline u8 *cal_line(struct cal *c, unsigned long i)
{
	unsigned long per = CAL_CHUNK_BYTES / CAL_LINE;

	return (u8 *)c->chunks[i / per] + (i % per) * CAL_LINE;
}

/* ---- parameters ---- */

static int cal_check_params(void)
{
	unsigned int i;
	bool distinct = false;

	if (iterations < 1 || iterations > 10000) {
		pr_err("iterations=%u out of range 1..10000\n", iterations);
		return -EINVAL;
	}
	if (batch_max < 1 || batch_max > CAL_BMAX) {
		pr_err("batch_max=%u out of range 1..%d\n", batch_max, CAL_BMAX);
		return -EINVAL;
	}
	if (pollute_bytes != 0 &&
	    (pollute_bytes < CAL_CHUNK_BYTES || pollute_bytes > (64UL << 20))) {
		pr_err("pollute_bytes=%lu must be 0 or within %lu..%lu\n",
		       pollute_bytes, (unsigned long)CAL_CHUNK_BYTES, 64UL << 20);
		return -EINVAL;
	}
	if (n_frame_sizes < 2 || n_frame_sizes > CAL_NSIZES) {
		pr_err("frame_sizes: %u values given, need 2..%d\n", n_frame_sizes, CAL_NSIZES);
		return -EINVAL;
	}
	for (i = 0; i < n_frame_sizes; i++) {
		if (frame_sizes[i] < ETH_HLEN || frame_sizes[i] > 65535) {
			pr_err("frame_sizes[%u]=%u out of range %d..65535\n", i, frame_sizes[i], ETH_HLEN);
			return -EINVAL;
		}
		if (frame_sizes[i] != frame_sizes[0])
			distinct = true;
	}
	if (!distinct) {
		pr_err("frame_sizes: need at least two distinct sizes to fit a per-byte cost\n");
		return -EINVAL;
	}
	if (alloc_batch < 1 || alloc_batch > CAL_BMAX) {
		pr_err("alloc_batch=%u out of range 1..%d\n", alloc_batch, CAL_BMAX);
		return -EINVAL;
	}
	if (napi_iterations < 1 || napi_iterations > 100000) {
		pr_err("napi_iterations=%u out of range 1..100000\n", napi_iterations);
		return -EINVAL;
	}
	if (max_ms < 100 || max_ms > 600000) {
		pr_err("max_ms=%u out of range 100..600000\n", max_ms);
		return -EINVAL;
	}
	if (cpu < -1 || cpu >= (int)nr_cpu_ids || (cpu >= 0 && !cpu_online(cpu))) {
		pr_err("cpu=%d is not -1 or an online CPU\n", cpu);
		return -EINVAL;
	}
	return 0;
}

/* ---- the netdev and its NAPIs ---- */

static netdev_tx_t cal_xmit(struct sk_buff *skb, struct net_device *dev)
{
	/* Nothing ever leaves: the device is never opened, and if something
	 * queued a frame anyway it is dropped here. */
	dev->stats.tx_dropped++;
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops cal_netdev_ops = {
	.ndo_start_xmit = cal_xmit,
};

static void cal_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &cal_netdev_ops;
	dev->flags |= IFF_NOARP;
	dev->flags &= ~IFF_MULTICAST;
}

static int cal_poll(struct napi_struct *napi, int budget)
{
	struct cal_priv *p = netdev_priv(napi->dev);
	int i = napi == &p->napi[0] ? 0 : 1;

	p->poll_t[i] = ktime_get_ns();
	p->poll_seen[i]++;
	napi_complete_done(napi, 0);
	return 0;
}

static int cal_dev_create(struct cal *c)
{
	struct cal_priv *p;
	int err;

	c->dev = alloc_netdev(sizeof(struct cal_priv), "tunsim_cal%d", NET_NAME_ENUM, cal_setup);
	if (!c->dev)
		return -ENOMEM;
	eth_hw_addr_random(c->dev);
	err = register_netdev(c->dev);
	if (err) {
		pr_err("register_netdev failed: %d\n", err);
		free_netdev(c->dev);
		c->dev = NULL;
		return err;
	}
	p = netdev_priv(c->dev);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	netif_napi_add(c->dev, &p->napi[0], cal_poll);
	netif_napi_add(c->dev, &p->napi[1], cal_poll);
#else
	netif_napi_add(c->dev, &p->napi[0], cal_poll, NAPI_POLL_WEIGHT);
	netif_napi_add(c->dev, &p->napi[1], cal_poll, NAPI_POLL_WEIGHT);
#endif
	napi_enable(&p->napi[0]);
	napi_enable(&p->napi[1]);
	c->napi_added = true;
	return 0;
}

static void cal_dev_destroy(struct cal *c)
{
	struct cal_priv *p;

	if (!c->dev)
		return;
	p = netdev_priv(c->dev);
	if (c->napi_added) {
		napi_disable(&p->napi[0]);
		napi_disable(&p->napi[1]);
		netif_napi_del(&p->napi[0]);
		netif_napi_del(&p->napi[1]);
		c->napi_added = false;
	}
	unregister_netdev(c->dev);
	free_netdev(c->dev);
	c->dev = NULL;
}

/* ---- buffers ---- */

/* Builds a single random cycle through n lines (Sattolo's algorithm) so that a
 * chase visits every line once per lap in an order no prefetcher predicts. */
static int cal_build_cycle(struct cal *c, unsigned long n, u8 *(*line)(struct cal *, unsigned long))
{
	u32 *perm;
	unsigned long i;

	perm = kvmalloc_array(n, sizeof(*perm), GFP_KERNEL);
	if (!perm)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		unsigned long j = cal_rand(c) % i;
		u32 t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
		if (!(i & 0xffff))
			cond_resched();
	}
	for (i = 0; i < n; i++)
		*(u8 **)line(c, i) = line(c, perm[i]);
	kvfree(perm);
	return 0;
}

static u8 *cal_small_line(struct cal *c, unsigned long i)
{
	return c->small + i * CAL_LINE;
}

static int cal_buffers_alloc(struct cal *c)
{
	unsigned int i, maxsize = 0;
	int err;

	for (i = 0; i < n_frame_sizes; i++)
		maxsize = max(maxsize, frame_sizes[i]);
	c->src = kvmalloc(maxsize, GFP_KERNEL);
	if (!c->src)
		return -ENOMEM;
	memset(c->src, 0x5a, maxsize);

	c->samples_per = max(iterations, napi_iterations);
	c->samples = kvmalloc_array(6 * (size_t)c->samples_per, sizeof(u64), GFP_KERNEL);
	if (!c->samples)
		return -ENOMEM;

	c->small = kmalloc(CAL_SMALL_BYTES, GFP_KERNEL);
	if (!c->small)
		return -ENOMEM;
	err = cal_build_cycle(c, CAL_SMALL_BYTES / CAL_LINE, cal_small_line);
	if (err)
		return err;

	if (!pollute_bytes)
		return 0;
	c->nchunks = DIV_ROUND_UP(pollute_bytes, CAL_CHUNK_BYTES);
	c->chunks = kcalloc(c->nchunks, sizeof(*c->chunks), GFP_KERNEL);
	if (!c->chunks)
		return -ENOMEM;
	/* Chunks from the page allocator live in the direct map, which uses
	 * large pages: the chase then measures cache misses, not TLB misses. */
	for (i = 0; i < c->nchunks; i++) {
		struct page *pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, CAL_CHUNK_ORDER);

		if (!pg)
			return -ENOMEM;
		c->chunks[i] = page_address(pg);
		memset(c->chunks[i], 0, CAL_CHUNK_BYTES);
		cond_resched();
	}
	c->nlines = (unsigned long)c->nchunks * (CAL_CHUNK_BYTES / CAL_LINE);
	return cal_build_cycle(c, c->nlines, cal_line);
}

static void cal_buffers_free(struct cal *c)
{
	unsigned int i;

	if (c->chunks) {
		for (i = 0; i < c->nchunks; i++)
			if (c->chunks[i])
				free_pages((unsigned long)c->chunks[i], CAL_CHUNK_ORDER);
		kfree(c->chunks);
		c->chunks = NULL;
	}
	kfree(c->small);
	c->small = NULL;
	kvfree(c->samples);
	c->samples = NULL;
	kvfree(c->src);
	c->src = NULL;
}

/* Writes one byte in every line of the polluting working set, as a sender
 * copying frames dirties its buffers.  The chase pointer at offset 0 is kept. */
static void cal_pollute(struct cal *c)
{
	unsigned long i;

	for (i = 0; i < c->nlines; i++) {
		u8 *l = cal_line(c, i);

		WRITE_ONCE(l[CAL_LINE - 1], READ_ONCE(l[CAL_LINE - 1]) + 1);
	}
}

/* ---- phases ---- */

static void cal_measure_clock(struct cal *c)
{
	u64 *v = c->samples;
	unsigned int it, k, n = 1000;

	if (n > c->samples_per)
		n = c->samples_per;
	for (it = 0; it < n; it++) {
		u64 t0, t1;

		local_bh_disable();
		t0 = ktime_get_ns();
		for (k = 1; k < CAL_CLOCK_READS; k++)
			t1 = ktime_get_ns();
		t1 = ktime_get_ns();
		local_bh_enable();
		v[it] = div_u64((t1 - t0) * 1000, CAL_CLOCK_READS);
	}
	{
		struct cal_stat st;

		cal_stat_of(v, n, &st);
		c->clock_ovh_ps = st.med_ps;
	}
	c->clock_done = true;
}

static u8 *cal_chase(u8 *p, unsigned int loads)
{
	while (loads--)
		p = READ_ONCE(*(u8 **)p);
	return p;
}

static void cal_measure_chase(struct cal *c)
{
	u64 *vs = c->samples, *vl = c->samples + c->samples_per;
	unsigned int it;
	u8 *ps = c->small, *pl;

	if (!pollute_bytes)
		return;
	pl = cal_line(c, 0);
	ps = cal_chase(ps, CAL_SMALL_BYTES / CAL_LINE);	/* warm the small set */
	for (it = 0; it < iterations; it++) {
		u64 t0, t1, t2, t3;

		if (cal_should_stop(c, "chase"))
			return;
		preempt_disable();
		t0 = ktime_get_ns();
		ps = cal_chase(ps, CAL_CHASE_LOADS);
		t1 = ktime_get_ns();
		preempt_enable();
		preempt_disable();
		t2 = ktime_get_ns();
		pl = cal_chase(pl, CAL_CHASE_LOADS);
		t3 = ktime_get_ns();
		preempt_enable();
		vs[it] = div_u64(cal_net_ps(c, t1 - t0, 0), CAL_CHASE_LOADS);
		vl[it] = div_u64(cal_net_ps(c, t3 - t2, 0), CAL_CHASE_LOADS);
		cond_resched();
	}
	/* keep the chases from being optimised away */
	if (ps == NULL || pl == NULL)
		pr_info("chase ended on a NULL line\n");
	cal_stat_of(vs, iterations, &c->chase_small);
	cal_stat_of(vl, iterations, &c->chase_large);
	c->chase_done = true;
}

/* Waits (sleeping) until every scheduled NAPI has polled; false on timeout. */
static bool cal_napi_wait(struct cal_priv *p, unsigned int n)
{
	unsigned int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (READ_ONCE(p->poll_seen[0]) && (n < 2 || READ_ONCE(p->poll_seen[1])))
			return true;
		usleep_range(100, 200);
	}
	return false;
}

static void cal_measure_napi(struct cal *c)
{
	struct cal_priv *p = netdev_priv(c->dev);
	u64 *sched = c->samples, *entry = sched + c->samples_per;
	u64 *exitv = entry + c->samples_per, *rt1 = exitv + c->samples_per;
	u64 *rt2 = rt1 + c->samples_per;
	unsigned int it, n1 = 0, n2 = 0, tries = 0;

	while (n1 < napi_iterations || n2 < napi_iterations) {
		bool two = n1 >= napi_iterations || (n2 < n1);
		u64 t0, t1, t2, tend;

		if (cal_should_stop(c, "napi"))
			return;
		if (++tries > 4 * napi_iterations + 100) {
			pr_err("napi: too many round trips where the poll did not run inline\n");
			c->napi_err = -EAGAIN;
			return;
		}
		p->poll_seen[0] = p->poll_seen[1] = 0;
		local_bh_disable();
		t0 = ktime_get_ns();
		napi_schedule(&p->napi[0]);
		t1 = ktime_get_ns();
		if (two)
			napi_schedule(&p->napi[1]);
		t2 = ktime_get_ns();
		local_bh_enable();	/* runs NET_RX inline: net_rx_action -> cal_poll */
		tend = ktime_get_ns();
		if (!p->poll_seen[0] || (two && !p->poll_seen[1])) {
			/* The softirq was deferred (ksoftirqd): not the inline round
			 * trip being measured.  Let it finish and discard the sample. */
			c->napi_missed++;
			if (!cal_napi_wait(p, two ? 2 : 1)) {
				pr_err("napi: poll never ran\n");
				c->napi_err = -ETIMEDOUT;
				return;
			}
			continue;
		}
		if (!two) {
			sched[n1] = cal_net_ps(c, t1 - t0, 0);
			entry[n1] = cal_net_ps(c, p->poll_t[0] - t2, 0);
			exitv[n1] = cal_net_ps(c, tend - p->poll_t[0], 0);
			/* t1..t2 is an empty interval: one more clock read */
			rt1[n1] = cal_net_ps(c, tend - t1, 2);
			n1++;
		} else {
			/* second napi_schedule plus the round trip with two polls,
			 * minus the two clock reads inside it and the poll's reads */
			rt2[n2] = cal_net_ps(c, tend - t1, 3);
			n2++;
		}
		if (!(tries & 15))
			cond_resched();
	}
	it = n1;
	cal_stat_of(sched, it, &c->napi_sched);
	cal_stat_of(entry, it, &c->napi_entry);
	cal_stat_of(exitv, it, &c->napi_exit);
	cal_stat_of(rt1, it, &c->napi_rt1);
	cal_stat_of(rt2, n2, &c->napi_rt2);
	c->observations += n1 + n2;
	c->napi_done = true;
}

static void cal_measure_alloc(struct cal *c)
{
	u64 *va = c->samples, *vc = c->samples + c->samples_per;
	unsigned int s, it, i, k = alloc_batch;

	for (s = 0; s < n_frame_sizes; s++) {
		unsigned int len = frame_sizes[s];
		unsigned int truesize = NET_SKB_PAD + NET_IP_ALIGN + len;

		for (it = 0; it <= iterations; it++) {	/* iteration 0 warms up */
			u64 t0, t1, t2;
			bool failed = false;

			if (cal_should_stop(c, "skb_alloc"))
				return;
			local_bh_disable();
			t0 = ktime_get_ns();
			for (i = 0; i < k; i++)
				c->skbs[i] = alloc_skb(truesize, GFP_ATOMIC | __GFP_NOWARN);
			t1 = ktime_get_ns();
			for (i = 0; i < k; i++) {
				struct kvec kv = { .iov_base = c->src, .iov_len = len };
				struct iov_iter from;

				if (!c->skbs[i]) {
					failed = true;
					continue;
				}
				skb_reserve(c->skbs[i], NET_SKB_PAD + NET_IP_ALIGN);
				skb_put(c->skbs[i], len);
				iov_iter_kvec(&from, WRITE, &kv, 1, len);
				if (skb_copy_datagram_from_iter(c->skbs[i], 0, &from, len))
					failed = true;
			}
			t2 = ktime_get_ns();
			local_bh_enable();
			for (i = 0; i < k; i++) {
				kfree_skb(c->skbs[i]);
				c->skbs[i] = NULL;
			}
			if (failed) {
				pr_err("skb_alloc: allocating or filling %u skbs of %u bytes failed\n", k, len);
				c->alloc_err = -ENOMEM;
				return;
			}
			if (it) {
				va[it - 1] = div_u64(cal_net_ps(c, t1 - t0, 0), k);
				vc[it - 1] = div_u64(cal_net_ps(c, t2 - t1, 0), k);
			}
			cond_resched();
		}
		cal_stat_of(va, iterations, &c->alloc[s]);
		cal_stat_of(vc, iterations, &c->copy[s]);
		c->observations += iterations;
		c->sizes_done = s + 1;
	}
}

static int cal_prepare(struct cal *c, unsigned int b)
{
	unsigned int i;

	for (i = 0; i < b; i++) {
		struct sk_buff *skb = alloc_skb(NET_SKB_PAD + NET_IP_ALIGN + CAL_RECV_FRAME, GFP_KERNEL);
		struct ethhdr *eth;

		if (!skb) {
			while (i--) {
				kfree_skb(c->skbs[i]);
				c->skbs[i] = NULL;
			}
			return -ENOMEM;
		}
		skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
		eth = skb_put_zero(skb, CAL_RECV_FRAME);
		ether_addr_copy(eth->h_dest, c->dev->dev_addr);
		eth_zero_addr(eth->h_source);
		eth->h_source[0] = 0x02;	/* locally administered */
		eth->h_proto = htons(CAL_ETHERTYPE);
		skb->protocol = eth_type_trans(skb, c->dev);
		c->skbs[i] = skb;
	}
	return 0;
}

/* One timed batch of b packets: netif_receive_skb() each (recv) or
 * kfree_skb() each, in one bh-disabled section as tun_rx_batched() does.
 * Returns the per-packet time in ps, or U64_MAX on allocation failure. */
static u64 cal_batch(struct cal *c, unsigned int b, bool recv, bool pollute)
{
	unsigned int i;
	u64 t0, t1;

	if (pollute)
		cal_pollute(c);
	if (cal_prepare(c, b))
		return U64_MAX;
	local_bh_disable();
	t0 = ktime_get_ns();
	if (recv) {
		for (i = 0; i < b; i++)
			netif_receive_skb(c->skbs[i]);
	} else {
		for (i = 0; i < b; i++)
			kfree_skb(c->skbs[i]);
	}
	t1 = ktime_get_ns();
	local_bh_enable();
	for (i = 0; i < b; i++)
		c->skbs[i] = NULL;
	return div_u64(cal_net_ps(c, t1 - t0, 0), b);
}

static int cal_measure_series(struct cal *c, unsigned int b, bool recv, bool pollute,
			      struct cal_series *out)
{
	u64 *v = c->samples;
	struct cal_stat st;
	unsigned int it;

	if (!pollute && cal_batch(c, b, recv, false) == U64_MAX)	/* warm-up */
		return -ENOMEM;
	for (it = 0; it < iterations; it++) {
		if (cal_should_stop(c, recv ? "netif_receive_skb" : "kfree_skb"))
			return -ETIME;
		v[it] = cal_batch(c, b, recv, pollute);
		if (v[it] == U64_MAX)
			return -ENOMEM;
		cond_resched();
	}
	cal_stat_of(v, iterations, &st);
	out->med_ps[b - 1] = st.med_ps;
	out->min_ps[b - 1] = st.min_ps;
	c->observations += iterations;
	return 0;
}

static void cal_measure_batches(struct cal *c)
{
	unsigned int b;
	int err;

	for (b = 1; b <= batch_max; b++) {
		/* the four series of one batch size together, so that a cut by
		 * max_ms leaves them all complete up to the same size */
		err = cal_measure_series(c, b, true, false, &c->recv_warm);
		if (!err && pollute_bytes)
			err = cal_measure_series(c, b, true, true, &c->recv_pol);
		if (!err)
			err = cal_measure_series(c, b, false, false, &c->free_warm);
		if (!err && pollute_bytes)
			err = cal_measure_series(c, b, false, true, &c->free_pol);
		if (err) {
			if (err != -ETIME) {
				pr_err("batches: allocating %u skbs failed\n", b);
				c->batch_err = err;
			}
			return;
		}
		c->recv_warm.n = c->free_warm.n = b;
		if (pollute_bytes)
			c->recv_pol.n = c->free_pol.n = b;
	}
}

static int cal_thread(void *data)
{
	struct cal *c = data;

	c->start_ns = ktime_get_ns();
	c->deadline = c->start_ns + (u64)max_ms * NSEC_PER_MSEC;
	cal_measure_clock(c);
	cal_measure_chase(c);
	cal_measure_napi(c);
	cal_measure_alloc(c);
	cal_measure_batches(c);
	c->elapsed_ns = ktime_get_ns() - c->start_ns;
	complete(c->done);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int cal_run(struct cal *c)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct task_struct *t;

	/* The thread signals `done` and then idles until kthread_stop(), so
	 * that it never runs module code after this function returns. */
	c->done = &done;
	t = kthread_create(cal_thread, c, "tunsim_calib/%d", c->cpu);
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, c->cpu);
	wake_up_process(t);
	if (wait_for_completion_killable(&done)) {
		/* insmod was killed: cut the measurement short, then wait for it */
		WRITE_ONCE(c->abort, true);
		wait_for_completion(&done);
	}
	kthread_stop(t);
	c->done = NULL;
	return 0;
}

/* ---- JSON ---- */

struct jbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static __printf(2, 3) void jp(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->p + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->cap - j->len) {
		j->overflow = true;
		return;
	}
	j->len += n;
}

static void jstr(struct jbuf *j, const char *s)
{
	jp(j, "\"");
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			jp(j, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			jp(j, "\\u%04x", ch);
		else
			jp(j, "%c", ch);
	}
	jp(j, "\"");
}

/* picoseconds printed as nanoseconds with three decimals */
static void jns(struct jbuf *j, u64 ps)
{
	jp(j, "%llu.%03llu", (unsigned long long)div_u64(ps, 1000),
	   (unsigned long long)(ps % 1000));
}

static void jsns(struct jbuf *j, s64 ps)
{
	if (ps < 0) {
		jp(j, "-");
		jns(j, (u64)(-ps));
	} else {
		jns(j, (u64)ps);
	}
}

static void jstat(struct jbuf *j, const char *name, const struct cal_stat *st)
{
	jp(j, "\"%s\": {\"median_ns\": ", name);
	jns(j, st->med_ps);
	jp(j, ", \"min_ns\": ");
	jns(j, st->min_ps);
	jp(j, ", \"mad_ns\": ");
	jns(j, st->mad_ps);
	jp(j, ", \"samples\": %u}", st->n);
}

static void jarray(struct jbuf *j, const char *name, const u64 *v, unsigned int n)
{
	unsigned int i;

	jp(j, "\"%s\": [", name);
	for (i = 0; i < n; i++) {
		if (i)
			jp(j, ", ");
		jns(j, v[i]);
	}
	jp(j, "]");
}

static void jseries(struct jbuf *j, const char *name, const struct cal_series *w,
		    const struct cal_series *pol)
{
	unsigned int i;

	jp(j, "\"%s\": {\"frame_bytes\": %d, \"batch\": [", name, CAL_RECV_FRAME);
	for (i = 0; i < w->n; i++)
		jp(j, "%s%u", i ? ", " : "", i + 1);
	jp(j, "],\n      ");
	jarray(j, "warm_median_ns", w->med_ps, w->n);
	jp(j, ",\n      ");
	jarray(j, "warm_min_ns", w->min_ps, w->n);
	if (pollute_bytes) {
		jp(j, ",\n      ");
		jarray(j, "polluted_median_ns", pol->med_ps, pol->n);
		jp(j, ",\n      ");
		jarray(j, "polluted_min_ns", pol->min_ps, pol->n);
	}
	jp(j, "}");
}

struct jparam {
	const char *key;
	const char *unit;
	s64 value_milli;	/* value * 1000 */
	s64 stderr_milli;	/* < 0: none */
};

/* Median over the upper half of the batch sizes (b >= n/2) of a - b per size:
 * the warm large-batch per-packet cost. */
static s64 cal_large_batch_ps(const struct cal_series *a, const struct cal_series *sub,
			      u64 *scratch, struct cal_stat *st)
{
	unsigned int lo = a->n / 2, i, m = 0;
	s64 base;

	/* shift by the smallest difference so that the values sort as u64 */
	s64 shift = 0;

	for (i = lo; i < a->n; i++) {
		s64 d = (s64)a->med_ps[i] - (sub ? (s64)sub->med_ps[i] : 0);

		if (d < shift)
			shift = d;
	}
	for (i = lo; i < a->n; i++)
		scratch[m++] = (u64)((s64)a->med_ps[i] - (sub ? (s64)sub->med_ps[i] : 0) - shift);
	cal_stat_of(scratch, m, st);
	base = (s64)st->med_ps + shift;
	st->med_ps = base > 0 ? base : 0;
	return base;
}

static void cal_format(struct cal *c, struct jbuf *j)
{
	struct jparam params[16];
	const char *unident[16];	/* at most 12 of either are used */
	unsigned int np = 0, nu = 0, i;
	struct timespec64 now;
	struct tm tm;
	unsigned long cpu_khz_v = 0, tsc_khz_v = 0;
	bool hyper = false;
	const char *model = NULL;
	s64 penalty_ps = 0;
	u64 *scratch = c->scratch;

#ifdef CONFIG_X86
	cpu_khz_v = cpu_khz;
	tsc_khz_v = tsc_khz;
	hyper = boot_cpu_has(X86_FEATURE_HYPERVISOR);
	model = boot_cpu_data.x86_model_id;
#endif

	/* --- parameters the module can set directly --- */
	if (c->recv_warm.n >= 2 && c->free_warm.n == c->recv_warm.n) {
		struct cal_stat st;
		s64 v = cal_large_batch_ps(&c->recv_warm, &c->free_warm, scratch, &st);

		if (v > 0)
			params[np++] = (struct jparam){ "costs.netif_receive_skb_ns", "ns", v,
							(s64)cal_stderr_ps(&st) };
		else
			unident[nu++] = "costs.netif_receive_skb_ns";
		v = cal_large_batch_ps(&c->free_warm, NULL, scratch, &st);
		if (v > 0)
			params[np++] = (struct jparam){ "costs.stack_drop_ns", "ns", v,
							(s64)cal_stderr_ps(&st) };
		else
			unident[nu++] = "costs.stack_drop_ns";
	} else {
		unident[nu++] = "costs.netif_receive_skb_ns";
		unident[nu++] = "costs.stack_drop_ns";
	}

	if (c->sizes_done >= 2) {
		/* least-squares line copy(len) = a + slope * len over frame sizes */
		s64 mx = 0, my = 0, sxx = 0, sxy = 0, slope_fs;
		unsigned int n = c->sizes_done, m = 0;
		u64 asum = 0;

		for (i = 0; i < n; i++) {
			mx += frame_sizes[i];
			my += c->copy[i].med_ps;
		}
		mx = div_s64(mx, n);
		my = div_s64(my, n);
		for (i = 0; i < n; i++) {
			s64 dx = (s64)frame_sizes[i] - mx, dy = (s64)c->copy[i].med_ps - my;

			sxx += dx * dx;
			sxy += dx * dy;
		}
		/* slope in femtoseconds per byte = ns/byte * 1e6 */
		slope_fs = sxx ? div64_s64(sxy * 1000, sxx) : 0;
		if (slope_fs > 0) {
			s64 rss = 0, se = 0;

			for (i = 0; i < n; i++) {
				s64 pred = my + div_s64(slope_fs * ((s64)frame_sizes[i] - mx), 1000);
				s64 r = (s64)c->copy[i].med_ps - pred;

				rss += div_s64(r * r, 1000);	/* ps^2 / 1000 */
			}
			if (n > 2 && sxx) {
				/* stderr(slope) = sqrt(rss / (n-2) / sxx); rss * 1000 is
				 * in ps^2, the result in fs/byte (x1e6 of ps^2/byte^2) */
				u64 var = div64_u64((u64)rss * 1000ULL, n - 2);

				se = int_sqrt64(mul_u64_u64_div_u64(var, 1000000ULL, (u64)sxx));
			}
			/* copy_ns_per_byte is carried in fs/byte (1e-6 ns/byte) */
			params[np++] = (struct jparam){ "costs.copy_ns_per_byte", "ns/byte",
							slope_fs, n > 2 ? se : -1 };
		} else {
			unident[nu++] = "costs.copy_ns_per_byte";
		}
		/* skb allocation: mean of the per-size medians for frames up to
		 * 2048 bytes (beyond, the data comes from larger kmalloc classes
		 * or the page allocator, which tun's typical frames do not use) */
		for (i = 0; i < n; i++)
			if (frame_sizes[i] <= 2048) {
				asum += c->alloc[i].med_ps;
				m++;
			}
		if (!m) {
			for (i = 0; i < n; i++)
				asum += c->alloc[i].med_ps;
			m = n;
		}
		params[np++] = (struct jparam){ "costs.skb_alloc_ns", "ns", (s64)div_u64(asum, m), -1 };
	} else {
		unident[nu++] = "costs.copy_ns_per_byte";
		unident[nu++] = "costs.skb_alloc_ns";
	}

	if (c->napi_done) {
		s64 poll = (s64)c->napi_rt2.med_ps - (s64)c->napi_rt1.med_ps - (s64)c->napi_sched.med_ps;
		s64 soft = (s64)c->napi_rt1.med_ps - (poll > 0 ? poll : 0);

		params[np++] = (struct jparam){ "costs.napi_schedule_ns", "ns",
						(s64)c->napi_sched.med_ps,
						(s64)cal_stderr_ps(&c->napi_sched) };
		if (poll > 0)
			params[np++] = (struct jparam){ "costs.napi_poll_ns", "ns", poll, -1 };
		else
			unident[nu++] = "costs.napi_poll_ns";
		if (soft > 0)
			params[np++] = (struct jparam){ "costs.softirq_ns", "ns", soft, -1 };
		else
			unident[nu++] = "costs.softirq_ns";
	} else {
		unident[nu++] = "costs.napi_schedule_ns";
		unident[nu++] = "costs.napi_poll_ns";
		unident[nu++] = "costs.softirq_ns";
	}

	/* cpu_khz is the nominal (TSC-calibrated) clock: ns costs do not
	 * depend on it; it sets the hosts' speed. */
	if (cpu_khz_v)
		params[np++] = (struct jparam){ "cpus.hz", "Hz", (s64)cpu_khz_v * 1000000, -1 };
	else
		unident[nu++] = "cpus.hz";
	/* The refill penalty (chase over the polluting set minus over 16 KiB,
	 * in measurements.miss_latency) is not a parameter: the cache model's
	 * latencies come from the machine calibration.  Footprints need the
	 * least-squares fit across batch sizes that `tunsim calibrate --kmod`
	 * does on the measurements below. */
	if (c->chase_done)
		penalty_ps = (s64)c->chase_large.med_ps - (s64)c->chase_small.med_ps;
	unident[nu++] = "cache.footprints.netif_receive_skb.icache_bytes";
	unident[nu++] = "cache.footprints.stack_drop.icache_bytes";

	ktime_get_real_ts64(&now);
	time64_to_tm(now.tv_sec, 0, &tm);

	jp(j, "{\n  \"format\": \"tunsim-calibration/1\",\n  \"name\": ");
	jstr(j, utsname()->nodename);
	jp(j, ",\n  \"provenance\": {\"source\": \"kmod\", \"inputs\": [], \"kernel\": ");
	jstr(j, utsname()->release);
	jp(j, ", \"cpu_model\": ");
	if (model && model[0])
		jstr(j, model);
	else
		jp(j, "null");
	jp(j, ", \"hz\": %d, \"date\": \"%04ld-%02d-%02dT%02d:%02d:%02dZ\", \"tool\": \"tunsim_calib kmod %s\"},\n",
	   HZ, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	   CAL_VERSION);

	jp(j, "  \"parameters\": {");
	for (i = 0; i < np; i++) {
		/* copy_ns_per_byte is held in 1e-6 ns, the others in 1e-3 */
		bool micro = !strcmp(params[i].unit, "ns/byte");
		u64 div = micro ? 1000000 : 1000;
		s64 v = params[i].value_milli;

		jp(j, "%s\n    \"%s\": {\"value\": %s%llu.%0*llu", i ? "," : "", params[i].key,
		   v < 0 ? "-" : "", (unsigned long long)div64_u64(abs(v), div), micro ? 6 : 3,
		   (unsigned long long)(abs(v) % div));
		if (params[i].stderr_milli >= 0)
			jp(j, ", \"stderr\": %llu.%0*llu",
			   (unsigned long long)div64_u64(params[i].stderr_milli, div), micro ? 6 : 3,
			   (unsigned long long)(params[i].stderr_milli % div));
		jp(j, ", \"unit\": \"%s\"}", params[i].unit);
	}
	jp(j, "\n  },\n  \"unidentified\": [");
	for (i = 0; i < nu; i++)
		jp(j, "%s\"%s\"", i ? ", " : "", unident[i]);
	jp(j, "],\n  \"fit\": {\"method\": \"medians\", \"observations\": %u, \"note\": "
	   "\"direct estimates; run tunsim calibrate --kmod on this file for the cache fit\"},\n",
	   c->observations);

	jp(j, "  \"measurements\": {\n    \"clock\": \"ktime_get_ns\", \"clock_overhead_ns\": ");
	jns(j, c->clock_ovh_ps);
	jp(j, ", \"cpu\": %d, \"cpu_khz\": %lu, \"tsc_khz\": %lu, \"hypervisor\": %s,\n",
	   c->cpu, cpu_khz_v, tsc_khz_v, hyper ? "true" : "false");
	jp(j, "    \"line_bytes\": %d, \"iterations\": %u, \"batch_max\": %u, \"pollute_bytes\": %lu, "
	   "\"alloc_batch\": %u, \"napi_iterations\": %u, \"max_ms\": %u,\n",
	   cache_line_size(), iterations, batch_max, pollute_bytes, alloc_batch, napi_iterations,
	   max_ms);
	jp(j, "    \"elapsed_ms\": %llu, \"truncated\": %s, \"truncated_in\": ",
	   (unsigned long long)div_u64(c->elapsed_ns, NSEC_PER_MSEC), c->truncated ? "true" : "false");
	if (c->truncated)
		jstr(j, c->cut_at ? c->cut_at : "?");
	else
		jp(j, "null");
	jp(j, ",\n    \"errors\": {\"napi\": %d, \"skb_alloc\": %d, \"batches\": %d},\n",
	   c->napi_err, c->alloc_err, c->batch_err);

	jp(j, "    ");
	jseries(j, "netif_receive_skb", &c->recv_warm, &c->recv_pol);
	jp(j, ",\n    ");
	jseries(j, "kfree_skb", &c->free_warm, &c->free_pol);

	jp(j, ",\n    \"napi\": {\"complete\": %s, \"missed\": %u, ", c->napi_done ? "true" : "false",
	   c->napi_missed);
	jstat(j, "schedule", &c->napi_sched);
	jp(j, ",\n      ");
	jstat(j, "schedule_to_poll", &c->napi_entry);
	jp(j, ",\n      ");
	jstat(j, "poll_to_bh_enabled", &c->napi_exit);
	jp(j, ",\n      ");
	jstat(j, "round_trip_1", &c->napi_rt1);
	jp(j, ",\n      ");
	jstat(j, "schedule_and_round_trip_2", &c->napi_rt2);
	jp(j, "},\n");

	jp(j, "    \"skb_alloc\": {\"alloc_batch\": %u, \"frame_bytes\": [", alloc_batch);
	for (i = 0; i < c->sizes_done; i++)
		jp(j, "%s%u", i ? ", " : "", frame_sizes[i]);
	jp(j, "],\n      \"alloc_median_ns\": [");
	for (i = 0; i < c->sizes_done; i++) {
		jp(j, "%s", i ? ", " : "");
		jns(j, c->alloc[i].med_ps);
	}
	jp(j, "],\n      \"alloc_min_ns\": [");
	for (i = 0; i < c->sizes_done; i++) {
		jp(j, "%s", i ? ", " : "");
		jns(j, c->alloc[i].min_ps);
	}
	jp(j, "],\n      \"copy_median_ns\": [");
	for (i = 0; i < c->sizes_done; i++) {
		jp(j, "%s", i ? ", " : "");
		jns(j, c->copy[i].med_ps);
	}
	jp(j, "],\n      \"copy_min_ns\": [");
	for (i = 0; i < c->sizes_done; i++) {
		jp(j, "%s", i ? ", " : "");
		jns(j, c->copy[i].min_ps);
	}
	jp(j, "]},\n");

	jp(j, "    \"miss_latency\": {\"complete\": %s, \"loads_per_sample\": %d, \"small_bytes\": %d, "
	   "\"large_bytes\": %lu,\n      ", c->chase_done ? "true" : "false", CAL_CHASE_LOADS,
	   CAL_SMALL_BYTES, pollute_bytes);
	jstat(j, "small", &c->chase_small);
	jp(j, ",\n      ");
	jstat(j, "large", &c->chase_large);
	jp(j, ",\n      \"penalty_ns\": ");
	jsns(j, penalty_ps);
	jp(j, "}\n  }\n}\n");
}

/* ---- module ---- */

static void cal_free(struct cal *c)
{
	if (!c)
		return;
	cal_dev_destroy(c);
	cal_buffers_free(c);
	kfree(c);
}

static int __init cal_init(void)
{
	struct cal *c;
	struct jbuf j;
	int err;

	err = cal_check_params();
	if (err)
		return err;

	cal_dir = debugfs_create_dir("tunsim_calib", NULL);
	if (IS_ERR_OR_NULL(cal_dir)) {
		pr_err("debugfs unavailable (error %ld): needs CONFIG_DEBUG_FS and no debugfs=off on the kernel command line\n",
		       IS_ERR(cal_dir) ? PTR_ERR(cal_dir) : 0L);
		cal_dir = NULL;
		return -ENODEV;
	}

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	cal_json = kvmalloc(CAL_JSON_BYTES, GFP_KERNEL);
	if (!c || !cal_json) {
		err = -ENOMEM;
		goto fail;
	}
	c->rng = 0x2545f491;
	c->cpu = cpu >= 0 ? cpu : raw_smp_processor_id();

	err = cal_buffers_alloc(c);
	if (err) {
		pr_err("cannot allocate buffers (pollute_bytes=%lu): %d\n", pollute_bytes, err);
		goto fail;
	}
	err = cal_dev_create(c);
	if (err)
		goto fail;

	pr_info("measuring on CPU %d (iterations=%u batch_max=%u pollute_bytes=%lu max_ms=%u)\n",
		c->cpu, iterations, batch_max, pollute_bytes, max_ms);
	err = cal_run(c);
	if (err) {
		pr_err("cannot start the measuring thread: %d\n", err);
		goto fail;
	}
	/* the measurement is over: release the device and buffers now */
	cal_dev_destroy(c);
	cal_buffers_free(c);

	j = (struct jbuf){ .p = cal_json, .cap = CAL_JSON_BYTES };
	cal_format(c, &j);
	if (j.overflow) {
		pr_err("result does not fit in %d bytes\n", CAL_JSON_BYTES);
		err = -ENOSPC;
		goto fail;
	}
	cal_blob.data = cal_json;
	cal_blob.size = j.len;
	if (IS_ERR_OR_NULL(debugfs_create_blob("result.json", 0400, cal_dir, &cal_blob))) {
		pr_err("cannot create debugfs file result.json\n");
		err = -ENODEV;
		goto fail;
	}
	pr_info("done in %llu ms%s; %zu bytes at tunsim_calib/result.json in debugfs\n",
		(unsigned long long)div_u64(c->elapsed_ns, NSEC_PER_MSEC),
		c->truncated ? " (cut by max_ms)" : "", j.len);
	cal_free(c);
	return 0;

fail:
	cal_free(c);
	kvfree(cal_json);
	cal_json = NULL;
	debugfs_remove_recursive(cal_dir);
	cal_dir = NULL;
	return err;
}

static void __exit cal_exit(void)
{
	debugfs_remove_recursive(cal_dir);
	kvfree(cal_json);
}

module_init(cal_init);
module_exit(cal_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("tunsim");
MODULE_DESCRIPTION("Measures tun/tap receive-path costs for the tunsim model");
MODULE_VERSION(CAL_VERSION);
