/* remotermw: what an atomic read-modify-write costs on a cache line that
 * another CPU wrote last and has since left alone: the uncontended move of a
 * line, as when an skb built on one CPU is freed on another a few
 * microseconds later (sock_wfree's refcount_sub on sk_wmem_alloc, SLUB's
 * __slab_free cmpxchg on the slab page, Linux 6.18 net/core/sock.c and
 * mm/slub.c).  scripts/linexfer measures the other case, a line both CPUs
 * keep writing (a ping-pong handoff).  With --interval NS, A does not leave
 * the lines alone: it stores to each of them again every NS ns until B has
 * timed its passes, so B's operations meet a line the other CPU is busy
 * writing (the two-writer chain of docs/validation.md: CPU 1 freeing into
 * lines CPU 0 writes for its next frame); B's local pass then runs on lines
 * of its own that A never touches.
 *
 * Two threads pinned to CPU A and CPU B.  Each round:
 *   A  writes one word in each of LINES lines (they are now modified in A's
 *      cache), then stores the round number in a flag line and spins on
 *      another flag line, touching the data lines no more;
 *   B  sees the flag, then times LINES `lock xadd`s, one per data line (a
 *      locked instruction waits for the one before it, so the times add up):
 *      the remote pass; then the same LINES `lock xadd`s again, now on lines
 *      B owns: the local pass; then it answers on the second flag line.
 * A sample is (remote passes - local passes) / (ROUNDS * LINES) over ROUNDS
 * rounds (16 by default: one pass of one line is a few clock quanta of
 * CLOCK_MONOTONIC, whose 10 ns steps alone made single-round differences
 * zero or negative where the move is cheap, vCPUs on one CCD): what the move
 * adds to one atomic operation (LINES 1, the default: the move itself; more
 * lines show how far independent moves overlap).  The value is the 10th percentile of the samples under
 * rule "remotermw" of robust.h, with the spread; the local pass's own 10th
 * percentile is reported as local_rmw_ns.
 *
 * With --after read, A reads the lines instead of writing them: B wrote them
 * last (its owned-line pass of the round before), so A's loads leave B's
 * copies owned and A's shared, and B's locked operation must first
 * invalidate A's copy: the price of writing a line another CPU has read
 * since (a socket line tun_get_user reads, then sock_wfree's CPU writes;
 * struct file's first line, whose f_op and private_data every write()
 * reads, then fdget_pos's file_ref_get).  Not with --interval.
 *
 * With --then-work N, each of B's locked operations (both passes) is
 * followed by N steps of register-only work (a dependent chain of
 * multiply-adds; no load or store), as kernel code goes on after a locked
 * operation with work that does not need its line.  Both passes do the same
 * work, so the value is what the move (or, with --after read, the
 * invalidation) adds that the core does not hide behind that work.
 *
 * usage: remotermw [--samples N] [--rounds R] [--lines L] [--interval NS] [--after write|read]
 *                  [--then-work N] [--max-seconds S] CPU_A CPU_B
 * prints one JSON object on one line:
 *   {"what": "remote_rmw", "unit": "ns", "value_ns": 61.2 (null when refused),
 *    "cpus": [A, B], "lines": L, "interval_ns": NS (0: A leaves the lines), "after": "write" or "read",
 *    "then_work": N,
 *    "local_rmw_ns": ..., "value": ..., "min": ..., ...}
 * exit: 0 trusted; 4 refused (reason on stderr and in "refused");
 *       3 cannot run (CPU missing or not allowed); 2 usage.
 * Build: cc -O2 -pthread -o remotermw remotermw.c */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust.h"

#define MAX_LINES 64
/* The data lines, one per 4 KiB page at a different offset in each page,
 * visited in a shuffled order (line[] below), so that no hardware prefetcher
 * brings the next line along with the first: each line's move is its own. */
#define PAGE 4096
static _Alignas(PAGE) char arena[MAX_LINES * PAGE];
static long* line[MAX_LINES];
/* B's own lines, the same layout in pages of their own: its local pass with
 * --interval, where A keeps writing the data lines. */
static _Alignas(PAGE) char own_arena[MAX_LINES * PAGE];
static long* own_line[MAX_LINES];
static _Alignas(64) atomic_long go;
static _Alignas(64) atomic_long done;
static _Alignas(64) atomic_int stop_flag;
static long nlines = 1, nsamples = 2000, rounds = 16, max_s = 5, interval_ns = 0, then_work = 0;
static int after_read = 0; /* --after read: A reads the lines B wrote last */
static double* remote_s; /* per sample: the move's premium per operation */
static double* local_s;  /* per sample: the owned line's operation */
static atomic_int taken;

static inline void rmw_pass(long** lines) {
  for (long l = 0; l < nlines; ++l) {
    __atomic_fetch_add(lines[l], 1, __ATOMIC_SEQ_CST);
    /* --then-work: register-only work the operation's result does not feed. */
    unsigned long x = (unsigned long)l;
    for (long i = 0; i < then_work; ++i) {
      x = x * 6364136223846793005UL + 1442695040888963407UL;
      __asm__ volatile("" : "+r"(x));
    }
  }
}

/* B: the timed side. */
static void* partner(void* arg) {
  double ov = *(double*)arg;
  double sum_remote = 0, sum_local = 0;
  long in_sample = 0;
  for (long want = 1;; ++want) {
    while (atomic_load_explicit(&go, memory_order_acquire) != want)
      if (atomic_load_explicit(&stop_flag, memory_order_relaxed)) return NULL;
    double a = rb_now_ns();
    rmw_pass(line);
    double b = rb_now_ns();
    rmw_pass(interval_ns ? own_line : line);
    double c = rb_now_ns();
    int k = atomic_load_explicit(&taken, memory_order_relaxed);
    if (want > 1000 && k < nsamples) { /* the first 1000 rounds warm up */
      sum_remote += b - a - ov;
      sum_local += c - b - ov;
      if (++in_sample == rounds) {
        remote_s[k] = (sum_remote - sum_local) / (double)(rounds * nlines);
        local_s[k] = sum_local / (double)(rounds * nlines);
        sum_remote = sum_local = 0;
        in_sample = 0;
        atomic_store_explicit(&taken, k + 1, memory_order_relaxed);
      }
    }
    atomic_store_explicit(&done, want, memory_order_release);
  }
}

int main(int argc, char** argv) {
  long cpus[2];
  static const char usage[] =
      "[--samples N] [--rounds R] [--lines L] [--interval NS] [--after write|read] [--then-work N] [--max-seconds S] "
      "CPU_A CPU_B";
  /* --interval, --after and --then-work are this program's own options: taken out before the shared ones. */
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
      if (rb_parse_long(argv[++i], 0, 1000000, &interval_ns)) {
        fprintf(stderr, "usage: remotermw %s\n", usage);
        return RB_EXIT_USAGE;
      }
    } else if (!strcmp(argv[i], "--then-work") && i + 1 < argc) {
      if (rb_parse_long(argv[++i], 0, 100000, &then_work)) {
        fprintf(stderr, "usage: remotermw %s\n", usage);
        return RB_EXIT_USAGE;
      }
    } else if (!strcmp(argv[i], "--after") && i + 1 < argc) {
      ++i;
      if (!strcmp(argv[i], "read")) {
        after_read = 1;
      } else if (strcmp(argv[i], "write")) {
        fprintf(stderr, "usage: remotermw %s\n", usage);
        return RB_EXIT_USAGE;
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  int st0 = rb_parse_pair(kept, argv, "remotermw", usage, &nsamples, &rounds, &nlines, 1, MAX_LINES, &max_s, cpus);
  if (st0) return st0;
  if (after_read && interval_ns) {
    fprintf(stderr, "usage: remotermw %s (--after read takes no --interval)\n", usage);
    return RB_EXIT_USAGE;
  }
  /* Page p = a fixed shuffle of 0..nlines-1 (a multiplicative step prime to
   * MAX_LINES), line l at offset 64 * ((7 * l) % 64) in it. */
  for (long l = 0; l < nlines; ++l) {
    size_t off = (size_t)((l * 37 + 11) % MAX_LINES) * PAGE + 64 * (size_t)((7 * l) % 64);
    line[l] = (long*)(arena + off);
    own_line[l] = (long*)(own_arena + off);
  }
  remote_s = malloc((size_t)nsamples * sizeof *remote_s);
  local_s = malloc((size_t)nsamples * sizeof *local_s);
  if (!remote_s || !local_s) return RB_EXIT_ENV;
  if (rb_pin_cpu("remotermw", cpus[0])) return RB_EXIT_ENV;
  double ov = rb_clock_overhead_ns(); /* on CPU A, as the partner's own clock reads */
  static rb_partner start;
  pthread_t t;
  int st1 = rb_start_partner("remotermw", -1 /* pinned above */, cpus[1], &start, partner, &ov, &t);
  if (st1) return st1;
  double deadline = rb_now_ns() + max_s * 1e9;
  for (long r = 1; atomic_load(&taken) < nsamples && rb_now_ns() < deadline; ++r) {
    if (after_read) {
      /* Shared here, owned by B, which wrote them last (its owned-line pass). */
      for (long l = 0; l < nlines; ++l) (void)*(volatile long*)line[l];
    } else {
      for (long l = 0; l < nlines; ++l) *line[l] = r; /* modified in A's cache */
    }
    atomic_store_explicit(&go, r, memory_order_release);
    if (interval_ns) {
      /* Busy with the lines: a store to each again every interval_ns. */
      double next = rb_now_ns() + (double)interval_ns;
      while (atomic_load_explicit(&done, memory_order_acquire) != r) {
        if (rb_now_ns() < next) continue;
        for (long l = 0; l < nlines; ++l) __atomic_store_n(line[l], r, __ATOMIC_RELAXED);
        next += (double)interval_ns;
      }
    } else {
      while (atomic_load_explicit(&done, memory_order_acquire) != r) {
      }
    }
  }
  atomic_store(&stop_flag, 1);
  pthread_join(t, NULL);

  int n = atomic_load(&taken);
  const rb_rule* rule = rb_rule_named("remotermw");
  rb_stats st, loc;
  rb_evaluate(remote_s, n, rule, &st);
  rb_evaluate(local_s, n, rb_rule_named("atomics"), &loc);
  printf("{\"what\": \"remote_rmw\", \"unit\": \"ns\", \"value_ns\": ");
  rb_jnum(stdout, st.trusted ? st.value : -1.0 / 0.0); /* null unless trusted */
  printf(", \"cpus\": [%ld, %ld], \"lines\": %ld, \"interval_ns\": %ld, \"after\": \"%s\", \"then_work\": %ld, "
         "\"samples_requested\": %ld, \"clock_overhead_ns\": %.1f, \"local_rmw_ns\": ",
         cpus[0], cpus[1], nlines, interval_ns, after_read ? "read" : "write", then_work, nsamples, ov);
  rb_jnum(stdout, loc.value);
  printf(", ");
  rb_json_members(stdout, &st, rule);
  printf("}\n");
  free(remote_s);
  free(local_s);
  if (!st.trusted) {
    fprintf(stderr, "remotermw: refused: %s\n", st.why);
    return RB_EXIT_REFUSED;
  }
  return RB_EXIT_OK;
}
