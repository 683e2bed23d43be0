/* clock: the CPU's core clock and its TSC frequency, measured.
 *
 * core clock: a chain of dependent 64-bit register adds (`add $1, %rax`,
 *   each waits for the previous one: one add per cycle on every x86-64 core
 *   of the last 15 years) is timed with CLOCK_MONOTONIC in SAMPLES samples of
 *   ADDS adds; a sample is ns per add = ns per cycle.  The value is the 10th
 *   percentile (rule "clock" of robust.h): the clock the core ran at while
 *   undisturbed; the median says how steady it was.  In a VM this is the
 *   physical core's clock as the guest sees it.
 * TSC: rdtsc against CLOCK_MONOTONIC over INTERVAL_MS, each end read as the
 *   pair (mono between two rdtsc) with the smallest rdtsc gap out of 100, so
 *   the error is that gap over the interval (reported).
 *
 * usage: clock [--cpu N] [--samples S] [--adds N] [--interval-ms T]
 * prints one JSON object: {"what": "clock", "core": {"ghz", "ghz_p50",
 *   "ns_per_cycle": {trusted, value, ...}}, "tsc": {"mhz", "error_ppm"}}
 * exit: 0 trusted; 4 the core clock samples were refused; 3 cannot run
 * (not x86-64, CPU); 2 usage.
 * Build: cc -O2 -o clock clock.c */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "robust.h"

#if defined(__x86_64__)
/* n iterations of 100 dependent adds. */
__attribute__((noinline)) static uint64_t add_chain(long n) {
  uint64_t x = 0;
  for (long i = 0; i < n; ++i) {
    __asm__ volatile(
        ".rept 100\n\t"
        "add $1, %0\n\t"
        ".endr"
        : "+r"(x));
  }
  return x;
}

/* rdtsc, mono, rdtsc with the smallest rdtsc gap out of 100 tries. */
static void paired(double* mono, double* tsc, double* gap) {
  *gap = 1e30;
  for (int i = 0; i < 100; ++i) {
    uint64_t a = __rdtsc();
    double m = rb_now_ns();
    uint64_t b = __rdtsc();
    if ((double)(b - a) < *gap) {
      *gap = (double)(b - a);
      *mono = m;
      *tsc = (double)a + (double)(b - a) / 2;
    }
  }
}
#endif

static void usage(void) {
  fprintf(stderr, "usage: clock [--cpu N] [--samples S] [--adds N] [--interval-ms T]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  long cpu = -1, nsamples = 200, adds = 100000, interval_ms = 200;
  const rb_long_opt opts[] = {{"--cpu", 0, CPU_SETSIZE - 1, &cpu},
                              {"--samples", 1, 1000000, &nsamples},
                              {"--adds", 100, 1L << 34, &adds},
                              {"--interval-ms", 1, 100000, &interval_ms}};
  if (rb_parse_long_opts(argc, argv, opts, sizeof opts / sizeof opts[0])) usage();
#if !defined(__x86_64__)
  fprintf(stderr, "clock: needs x86-64 (rdtsc and the add chain are x86-64 code)\n");
  return RB_EXIT_ENV;
#else
  if (rb_pin_cpu("clock", cpu)) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("clock");
  long iters = (adds + 99) / 100;
  double ov = rb_clock_overhead_ns();
  double* s = malloc((size_t)nsamples * sizeof *s);
  if (!s) return RB_EXIT_ENV;
  add_chain(iters * 20); /* warm-up: let the core reach its clock */
  for (long i = 0; i < nsamples; ++i) {
    double a = rb_now_ns();
    add_chain(iters);
    double b = rb_now_ns();
    s[i] = (b - a - ov) / (iters * 100.0);
  }
  rb_stats st;
  rb_evaluate(s, (int)nsamples, rule, &st);

  double m0, t0, g0, m1, t1, g1;
  paired(&m0, &t0, &g0);
  struct timespec sl = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
  nanosleep(&sl, NULL);
  paired(&m1, &t1, &g1);
  double tsc_mhz = (t1 - t0) / (m1 - m0) * 1e3;
  double err_ppm = (g0 + g1) / (t1 - t0) * 1e6;

  printf("{\"what\": \"clock\", \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"core\": {\"method\": \"dependent "
         "register adds, 1 per cycle; value = p10 of ns per add\", \"adds_per_sample\": %ld, \"ghz\": ",
         cpu, ov, iters * 100);
  rb_jnum(stdout, st.value > 0 ? 1 / st.value : -1.0 / 0.0);
  printf(", \"ghz_p50\": ");
  rb_jnum(stdout, st.p50 > 0 ? 1 / st.p50 : -1.0 / 0.0);
  printf(", \"ns_per_cycle\": {");
  rb_json_members(stdout, &st, rule);
  printf("}}, \"tsc\": {\"method\": \"rdtsc against CLOCK_MONOTONIC over %ld ms\", \"mhz\": ", interval_ms);
  rb_jnum(stdout, tsc_mhz);
  printf(", \"error_ppm\": ");
  rb_jnum(stdout, err_ppm);
  printf("}}\n");
  if (!st.trusted) {
    fprintf(stderr, "clock: refused: %s\n", st.why);
    return RB_EXIT_REFUSED;
  }
  return RB_EXIT_OK;
#endif
}
