/* pairgaps.c: the gaps of two CPUs at once, with their times (scripts/calibrate-machine
 * part "stall"; docs/calibration.md, "Stolen time").
 *
 *   pairgaps --cpu-a A --cpu-b B [--seconds S] [--threshold-ns T]
 *
 * stall.c's loop on two CPUs at once: one thread pinned to each reads
 * CLOCK_MONOTONIC in a tight loop for S seconds (default 5, at most 60) from
 * a start both share; two consecutive reads more than T ns apart (default
 * 1000) are a gap, and getrusage(RUSAGE_THREAD) after it says whether
 * another task of this kernel ran meanwhile (ru_nivcsw moved).  Prints one
 * line per gap, "I START_NS LENGTH_NS SWITCHED": I is 0 for CPU A and 1 for
 * CPU B, START_NS from the shared start, SWITCHED 1 when another task ran;
 * then scripts/machine/stall_pairs.py pairs the two CPUs' losses window by
 * window (cpus.stall.partner).  The record of 2026-12-07 11:53
 * (results/reference/machine/stall-2026-12-07/pairgaps.c, the first form
 * of this program) gave the shipped default.  Exit 2 usage, 3 cannot pin or
 * allocate.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "robust.h"

#define MAX_GAPS 1000000

typedef struct {
  long cpu;
  int n, err;
  double *at, *len;
  char* sw;
} gaps;

static double t0, duration, threshold;

static void* spin(void* v) {
  gaps* g = v;
  if (rb_pin_cpu("pairgaps", g->cpu)) {
    g->err = 1;
    return NULL;
  }
  long seen = rb_nivcsw();
  double last = rb_now_ns();
  while (last < t0) last = rb_now_ns();
  for (;;) {
    double t = rb_now_ns();
    if (t - last > threshold && g->n < MAX_GAPS) {
      long n = rb_nivcsw();
      g->at[g->n] = last - t0;
      g->len[g->n] = t - last;
      g->sw[g->n] = n != seen;
      seen = n;
      g->n++;
      t = rb_now_ns();  // the check's own time is not a gap
    }
    last = t;
    if (t - t0 >= duration) break;
  }
  return NULL;
}

int main(int argc, char** argv) {
  long a = -1, b = -1, seconds = 5, thr = 1000;
  const rb_long_opt opts[] = {{"--cpu-a", 0, 4095, &a},
                              {"--cpu-b", 0, 4095, &b},
                              {"--seconds", 1, 60, &seconds},
                              {"--threshold-ns", 100, 100000, &thr}};
  if (rb_parse_long_opts(argc, argv, opts, sizeof opts / sizeof *opts) || a < 0 || b < 0 || a == b) {
    fprintf(stderr, "usage: pairgaps --cpu-a A --cpu-b B [--seconds S] [--threshold-ns T] (two different CPUs)\n");
    return RB_EXIT_USAGE;
  }
  duration = seconds * 1e9;
  threshold = (double)thr;
  gaps g[2] = {{.cpu = a}, {.cpu = b}};
  for (int i = 0; i < 2; i++) {
    g[i].at = malloc(MAX_GAPS * sizeof(double));
    g[i].len = malloc(MAX_GAPS * sizeof(double));
    g[i].sw = malloc(MAX_GAPS);
    if (!g[i].at || !g[i].len || !g[i].sw) {
      fprintf(stderr, "pairgaps: cannot allocate the gap records\n");
      return RB_EXIT_ENV;
    }
  }
  t0 = rb_now_ns() + 2e8;  // both threads pinned and spinning before it
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&th[i], NULL, spin, &g[i])) {
      fprintf(stderr, "pairgaps: cannot start a thread\n");
      return RB_EXIT_ENV;
    }
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  if (g[0].err || g[1].err) return RB_EXIT_ENV;
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < g[i].n; k++) printf("%d %.0f %.0f %d\n", i, g[i].at[k], g[i].len[k], g[i].sw[k]);
  if (fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, "pairgaps: cannot write the record\n");
    return RB_EXIT_ENV;
  }
  for (int i = 0; i < 2; i++) free(g[i].at), free(g[i].len), free(g[i].sw);
  return RB_EXIT_OK;
}
