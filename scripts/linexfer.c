/* linexfer: one-way cache-line transfer time between two CPUs.
 *
 * Two threads pinned to CPU A and CPU B take turns incrementing one shared
 * counter (its own 64-byte line): each side spins until the counter has the
 * value it waits for, then stores the next one, so every handoff moves the
 * line from the other core's cache (a read of a line modified on the other
 * core, then the upgrade that invalidates the other copy).  Measured as many
 * short samples: each sample times ROUNDS round trips (2 one-way transfers
 * each) with CLOCK_MONOTONIC on the A side; the sample is ns per one-way
 * transfer.  The reported value is the 10th percentile of the samples, and it
 * is reported only when scripts/machine/robust.h's rule "linexfer" trusts the
 * samples (the fastest 10% agree within 25% of the 1st percentile): a
 * preempted partner inflates a sample to microseconds, and on a busy machine
 * most samples are inflated.  The old version of this tool reported the
 * median of 5 rounds of 500000 round trips and measured 1.7-9.2 us instead
 * of ~60 ns on a loaded machine; now such a machine gets a refusal.
 *
 * --lines N: each handoff also carries N payload lines (0..64, default 0), as
 * a producer hands a consumer a buffer it just wrote (an skb built on one CPU
 * and received on another): before storing the counter, the sender writes
 * one word in each of its N lines; after seeing it, the receiver reads the N
 * lines (independent loads, which the core may overlap) and then writes its
 * own N lines for the way back, which the first side read last.  The sample
 * is still ns per one-way handoff, so value(N) - value(0) is what moving N
 * written lines adds to a handoff (docs/calibration.md, "Cache-line
 * transfer").
 *
 * usage: linexfer [--samples N] [--rounds R] [--max-seconds S] [--lines N] CPU_A CPU_B
 * prints one JSON object on one line on stdout:
 *   {"what": "line_transfer", "unit": "ns", "value_ns": 50.6 (null when refused),
 *    "cpus": [A, B], "rounds_per_sample": R, "samples_requested": N,
 *    "trusted": true, "value": 50.6, "min": ..., "p1": ..., "p10": ..., ..., "samples": N, ...}
 * exit: 0 trusted; 4 refused (the reason on stderr and in "refused");
 *       3 cannot run (CPU missing or not allowed); 2 usage.
 * scripts/capture-trace records "value" in its sidecar as line_transfer_ns
 * only when trusted (costs.cacheline_transfer_ns, see docs/calibration.md).
 * Build: cc -O2 -pthread -o linexfer linexfer.c (robust.h is found beside it
 * in machine/). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine/robust.h"

static _Alignas(64) atomic_long turn;
static _Alignas(64) atomic_int stop_flag;
/* Payload lines: [0] written by A for B, [1] written by B for A. */
#define MAX_LINES 64
static _Alignas(64) struct {
  long v;
  char pad[64 - sizeof(long)];
} payload[2][MAX_LINES];
static long nlines;
static volatile long sink;

/* The receiver's reads of the other side's lines, then its own writes. */
static inline long carry(int mine, long value) {
  long sum = 0;
  for (long l = 0; l < nlines; ++l) sum += payload[1 - mine][l].v;
  for (long l = 0; l < nlines; ++l) payload[mine][l].v = value;
  return sum;
}

/* The B side: answers odd values with the next even one until stopped. */
static void* partner(void* arg) {
  (void)arg;
  long want = 1, sum = 0;
  for (;;) {
    while (atomic_load_explicit(&turn, memory_order_acquire) != want)
      if (atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        sink = sum;
        return NULL;
      }
    sum += carry(1, want);
    atomic_store_explicit(&turn, want + 1, memory_order_release);
    want += 2;
  }
}

int main(int argc, char** argv) {
  long nsamples = 2000, rounds = 100, max_s = 5, cpus[2];
  int st0 = rb_parse_pair(argc, argv, "linexfer", "[--samples N] [--rounds R] [--max-seconds S] [--lines N] CPU_A CPU_B",
                          &nsamples, &rounds, &nlines, 0, MAX_LINES, &max_s, cpus);
  if (st0) return st0;
  const rb_rule* rule = rb_rule_named("linexfer");
  static rb_partner start;
  pthread_t t;
  int st1 = rb_start_partner("linexfer", cpus[0], cpus[1], &start, partner, NULL, &t);
  if (st1) return st1;
  double* s = malloc((size_t)nsamples * sizeof *s);
  if (!s) return RB_EXIT_ENV;
  long i = 0, sum = 0;
  /* Warm-up: both threads spinning, the line bouncing. */
  for (long r = 0; r < 10000; ++r, i += 2) {
    while (atomic_load_explicit(&turn, memory_order_acquire) != i) {
    }
    sum += carry(0, i);
    atomic_store_explicit(&turn, i + 1, memory_order_release);
  }
  double deadline = rb_now_ns() + max_s * 1e9;
  int n = 0;
  while (n < nsamples) {
    double a = rb_now_ns();
    for (long r = 0; r < rounds; ++r, i += 2) {
      while (atomic_load_explicit(&turn, memory_order_acquire) != i) {
      }
      sum += carry(0, i);
      atomic_store_explicit(&turn, i + 1, memory_order_release);
    }
    double b = rb_now_ns();
    s[n++] = (b - a) / (2.0 * rounds);
    if (b > deadline) break;
  }
  /* Let the partner see its last value, then stop it. */
  while (atomic_load_explicit(&turn, memory_order_acquire) != i) {
  }
  atomic_store(&stop_flag, 1);
  pthread_join(t, NULL);
  sink += sum;

  rb_stats st;
  rb_evaluate(s, n, rule, &st);
  printf("{\"what\": \"line_transfer\", \"unit\": \"ns\", \"value_ns\": ");
  rb_jnum(stdout, st.trusted ? st.value : -1.0 / 0.0); /* null unless trusted */
  printf(", \"cpus\": [%ld, %ld], \"lines\": %ld, \"rounds_per_sample\": %ld, \"samples_requested\": %ld, ", cpus[0],
         cpus[1], nlines, rounds, nsamples);
  rb_json_members(stdout, &st, rule);
  printf("}\n");
  free(s);
  if (!st.trusted) {
    fprintf(stderr, "linexfer: refused: %s\n", st.why);
    return RB_EXIT_REFUSED;
  }
  return RB_EXIT_OK;
}
