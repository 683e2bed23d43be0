/* skbwalk: what a CPU pays to read a batch of skbs that have left its L2,
 * walked as a NAPI poll walks them, against the same walk with them hot.
 *
 * N skb-like pairs: a 256-byte head (skbuff_head_cache's object size on 6.18,
 * SLAB_HWCACHE_ALIGN) whose first 8 bytes link the next head, and a 576-byte
 * data object (skbuff_small_head: a 60-byte frame's head).  A walk follows
 * the links and reads 6 lines of each pair, the lines a linear skb's receive
 * touches (models/stack netif_receive_skb_core, cache.skb_bytes 320 plus the
 * frame's first line): the head's 4 and the data object's frame line (at
 * NET_SKB_PAD, 64) and skb_shared_info's first line (at 576 - 320).  Each
 * object's loads depend only on its own head, so they overlap; the walk from
 * one head to the next is a dependent load, as the kernel's list walk is.
 * The order of the heads:
 *   slab     as a slab hands out fresh objects without randomisation,
 *            consecutive in memory;
 *   random   as with CONFIG_SLAB_FREELIST_RANDOM (init_cache_random_seq in
 *            /proc/kallsyms): each 16-object page in the order of one fixed
 *            random permutation, from a random start;
 *   shuffled one random permutation of all N.
 * A walk is preceded by writing --evict-bytes of another buffer, which
 * evicts the pairs (twice the L1d: to L2; twice the L2: to the LLC; the
 * default, 2 MiB, is beyond the L2 of the x86 servers to date and inside
 * their LLC); "hot" walks in slab order right after a walk, no eviction.  A sample times WALKS such walks one by one (the
 * evictions untimed, each timing's clock overhead subtracted): ns per pair.
 * With --writer-cpu M, a walk is preceded instead by a thread on CPU M
 * writing one byte in each of the 6 lines of every pair, in the walk's
 * order, which it then hands over (a store the walker waits for, untimed):
 * the lines are dirty in the other core's cache, as the lines of skbs that
 * tun_get_user built on the writer's CPU are when a NAPI poll on another CPU
 * (threaded NAPI, RPS, a second writer's NAPI) walks them.
 * The default N, 64, is a NAPI poll's weight, small enough that a hot walk
 * stays in L1d (64 x 832 bytes, 6 of them read).
 * The four orders' samples alternate (each order has pairs of its own).
 * Each order's value is the 10th percentile, trusted by rule "skbwalk" of
 * robust.h; when one is refused all are sampled again, up to ATTEMPTS times
 * in all.
 * Also printed: each order's value minus hot's, and per line (/6), the cost
 * of the batch's lines having left L2.
 *
 * usage: skbwalk [--cpu N] [--objects N] [--evict-bytes B | --writer-cpu M]
 *                [--samples S] [--walks K] [--attempts A]
 * prints one JSON object: {"what": "skb_walk", "unit": "ns per skb",
 *   "orders": {"hot": {trusted, value, ...}, "slab": ..., "random": ...,
 *   "shuffled": ...}, "over_hot_ns": {...}, "over_hot_ns_per_line": {...}}
 * exit: 0 every order trusted; 4 at least one refused (reasons on stderr and
 * in the JSON); 3 cannot run (mmap, CPU, thread); 2 usage.
 * Build: cc -O2 -pthread -o skbwalk skbwalk.c -lm */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "robust.h"

#define HEAD 256
#define DATA 576
#define PER_PAGE 16 /* skbuff_head_cache objects a 4 KiB slab (objs_per_slab) */
#define LINES 6
#define HUGE (2UL << 20)

struct head {
  struct head* next;
  char* data;
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void) { return rb_xorshift64s(&rng_state); }

static void shuffle(uint32_t* a, size_t n) {
  for (size_t i = n - 1; i > 0; --i) {
    size_t j = rng() % (i + 1);
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

volatile uint64_t sink;

/* One walk from `h`: the 6 lines of every pair; returns their byte sum. */
__attribute__((noinline)) static uint64_t walk(struct head* h) {
  uint64_t s = 0;
  for (; h; h = h->next) {
    const char* b = (const char*)h;
    s += (unsigned char)b[64] + (unsigned char)b[128] + (unsigned char)b[192];
    s += (unsigned char)h->data[64] + (unsigned char)h->data[DATA - 320];
  }
  return s;
}

__attribute__((noinline)) static void evict(char* e, size_t n) {
  for (size_t i = 0; i < n; i += 64) e[i]++;
}

/* --writer-cpu: the partner writes the pairs of order `req & 3` and hands
 * them over by storing `req` into `done`; req < 0 ends it. */
static _Alignas(64) atomic_long req;
static _Alignas(64) atomic_long done;
static struct head* wfirst[4];

static void* writer(void* arg) {
  (void)arg;
  long seen = 0;
  for (;;) {
    long r;
    while ((r = atomic_load_explicit(&req, memory_order_acquire)) == seen) __builtin_ia32_pause();
    if (r < 0) return NULL;
    for (struct head* h = wfirst[r & 3]; h; h = h->next) {
      char* b = (char*)h; /* bytes 16, 64, 128, 192: past next and data */
      b[16]++;
      b[64]++;
      b[128]++;
      b[192]++;
      h->data[64]++;
      h->data[DATA - 320]++;
    }
    atomic_store_explicit(&done, r, memory_order_release);
    seen = r;
  }
}

static void* map_huge(size_t len) {
  len = (len + HUGE - 1) / HUGE * HUGE;
  char* raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  char* p = (char*)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
  madvise(p, len, MADV_HUGEPAGE); /* the kernel's direct map: caches measured, not the TLB */
  memset(p, 1, len);
  return p;
}

static void usage(void) {
  fprintf(stderr, "usage: skbwalk [--cpu N] [--objects N] [--evict-bytes B | --writer-cpu M] [--samples S] [--walks K] "
          "[--attempts A]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  long cpu = -1, wcpu = -1, n = 64, evict_b = 2L << 20, nsamples = 200, attempts = 3, walks = 16;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &cpu)) usage(); }
    else if (!strcmp(a, "--objects")) { if (rb_parse_long(v, PER_PAGE, 1L << 22, &n)) usage(); }
    else if (!strcmp(a, "--evict-bytes")) { if (rb_parse_long(v, 4096, 1L << 34, &evict_b)) usage(); }
    else if (!strcmp(a, "--samples")) { if (rb_parse_long(v, 1, 100000, &nsamples)) usage(); }
    else if (!strcmp(a, "--attempts")) { if (rb_parse_long(v, 1, 100, &attempts)) usage(); }
    else if (!strcmp(a, "--writer-cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &wcpu)) usage(); }
    else if (!strcmp(a, "--walks")) { if (rb_parse_long(v, 1, 100000, &walks)) usage(); }
    else usage();
    i++;
  }
  n = n / PER_PAGE * PER_PAGE;
  if (wcpu >= 0 && wcpu == cpu) {
    fprintf(stderr, "skbwalk: --writer-cpu %ld is the walking CPU: expected another one\n", wcpu);
    return RB_EXIT_USAGE;
  }
  if (rb_pin_cpu("skbwalk", cpu)) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("skbwalk");
  /* Each order its own pairs, so that the orders' samples can alternate:
   * a disturbance that lasts (the host core's other hyperthread filling the
   * L1d it shares) then weighs on all four alike. */
  char* heads = map_huge((size_t)(4 * n) * HEAD);
  char* data = map_huge((size_t)(4 * n) * DATA);
  char* ev = map_huge(wcpu >= 0 ? 4096 : (size_t)evict_b);
  uint32_t* order = malloc((size_t)n * sizeof *order);
  double* s = malloc((size_t)(4 * nsamples) * sizeof *s);
  if (!heads || !data || !ev || !order || !s) {
    fprintf(stderr, "skbwalk: cannot map %ld objects and %ld bytes to evict with\n", 4 * n, evict_b);
    return RB_EXIT_ENV;
  }
  double ov = rb_clock_overhead_ns();
  static const char* names[] = {"hot", "slab", "random", "shuffled"};
  struct head* first[4];
  for (int o = 0; o < 4; ++o) {
    for (long i = 0; i < n; ++i) order[i] = (uint32_t)i;
    if (o == 2) {
      uint32_t seq[PER_PAGE];
      for (uint32_t i = 0; i < PER_PAGE; ++i) seq[i] = i;
      shuffle(seq, PER_PAGE);
      for (long g = 0; g < n; g += PER_PAGE) {
        uint32_t start = (uint32_t)(rng() % PER_PAGE);
        for (uint32_t i = 0; i < PER_PAGE; ++i) order[g + i] = (uint32_t)g + seq[(start + i) % PER_PAGE];
      }
    } else if (o == 3) {
      shuffle(order, (size_t)n);
    }
    char* hb = heads + (size_t)(o * n) * HEAD;
    char* db = data + (size_t)(o * n) * DATA;
    for (long i = 0; i < n; ++i) {
      struct head* h = (struct head*)(hb + (size_t)order[i] * HEAD);
      h->next = i + 1 < n ? (struct head*)(hb + (size_t)order[i + 1] * HEAD) : NULL;
      h->data = db + (size_t)order[i] * DATA;
    }
    first[o] = (struct head*)(hb + (size_t)order[0] * HEAD);
  }
  pthread_t wt;
  rb_partner partner;
  long handoffs = 0;
  if (wcpu >= 0) {
    for (int o = 0; o < 4; ++o) wfirst[o] = first[o];
    if (rb_start_partner("skbwalk", cpu, wcpu, &partner, writer, NULL, &wt)) return RB_EXIT_ENV;
  }
  rb_stats st[4];
  int refused = 0;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    for (long i = 0; i < nsamples; ++i)
      for (int o = 0; o < 4; ++o) {
        double t = 0;
        for (long w = 0; w < walks; ++w) {
          if (o == 0)
            sink += walk(first[o]);
          else if (wcpu >= 0) {
            long r = (++handoffs << 2) | o;
            atomic_store_explicit(&req, r, memory_order_release);
            while (atomic_load_explicit(&done, memory_order_acquire) != r) __builtin_ia32_pause();
          } else
            evict(ev, (size_t)evict_b);
          double a = rb_now_ns();
          sink += walk(first[o]);
          double b = rb_now_ns();
          t += b - a - ov;
        }
        s[o * nsamples + i] = t / (double)(n * walks);
      }
    refused = 0;
    for (int o = 0; o < 4; ++o)
      if (!rb_evaluate(s + o * nsamples, (int)nsamples, rule, &st[o])) {
        refused++;
        fprintf(stderr, "skbwalk: %s: attempt %d of %ld refused: %s\n", names[o], attempt, attempts, st[o].why);
      }
    if (!refused) break;
  }
  if (wcpu >= 0) {
    atomic_store_explicit(&req, -1, memory_order_release);
    pthread_join(wt, NULL);
  }
  printf("{\"what\": \"skb_walk\", \"unit\": \"ns per skb\", \"method\": \"a linked walk of skb-like pairs (256-byte "
         "head, 576-byte data object), 6 lines read a pair, after %s (hot: none); value = p10 of samples\", "
         "\"objects\": %ld, \"lines_per_skb\": %d, \"evict_bytes\": %ld, \"writer_cpu\": %ld, \"samples\": %ld, "
         "\"walks_per_sample\": %ld, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"orders\": {",
         wcpu >= 0 ? "a thread on writer_cpu wrote them" : "writing evict_bytes of another buffer", n, LINES,
         wcpu >= 0 ? 0 : evict_b, wcpu, nsamples, walks, cpu, ov);
  for (int o = 0; o < 4; ++o) {
    printf("%s\"%s\": {", o ? ", " : "", names[o]);
    rb_json_members(stdout, &st[o], rule);
    printf("}");
  }
  printf("}, \"over_hot_ns\": {");
  for (int o = 1; o < 4; ++o) {
    int ok = st[0].trusted && st[o].trusted;
    if (ok)
      printf("%s\"%s\": %.2f", o > 1 ? ", " : "", names[o], st[o].value - st[0].value);
    else
      printf("%s\"%s\": null", o > 1 ? ", " : "", names[o]);
  }
  printf("}, \"over_hot_ns_per_line\": {");
  for (int o = 1; o < 4; ++o) {
    int ok = st[0].trusted && st[o].trusted;
    if (ok)
      printf("%s\"%s\": %.3f", o > 1 ? ", " : "", names[o], (st[o].value - st[0].value) / LINES);
    else
      printf("%s\"%s\": null", o > 1 ? ", " : "", names[o]);
  }
  printf("}}\n");
  return refused ? RB_EXIT_REFUSED : RB_EXIT_OK;
}
