/* chase: data-cache load latency against working-set size, by a dependent
 * pointer chase.
 *
 * For each working-set size W (from --min-bytes to --max-bytes, --per-octave
 * points per doubling, each a whole number of 64-byte lines), the first W
 * bytes of one buffer are made into a single random cycle over all W/64
 * lines (Sattolo's algorithm, fixed seed: the same layout every run): the
 * first 8 bytes of each line point to the next line of the cycle.  Following
 * the pointers makes every load depend on the previous one, and the random
 * order defeats the hardware prefetchers, so the time per load is the
 * load-to-use latency of wherever the line lives: L1d, L2, LLC or memory.
 * After a warm-up of two traversals (at most 2^21 loads: a set that large
 * outgrows every cache, there is nothing left to warm), SAMPLES samples of
 * LOADS loads each are timed with CLOCK_MONOTONIC (its own overhead, the
 * minimum of 1000 back-to-back reads, subtracted); a sample is ns per load.
 * Each point's value is the 10th percentile, trusted by rule "chase" of
 * robust.h; a refused point is sampled again, up to ATTEMPTS times in all,
 * and stays refused if every attempt was.  A sample covers only part of a
 * large cycle, but a random part: its miss count is a binomial draw, which
 * over 4096 loads varies by a few percent at most.
 *
 * The buffer is one anonymous mapping with MADV_HUGEPAGE (--pages 2m, the
 * default; 4k: MADV_NOHUGEPAGE): with 2 MiB pages the chase measures the
 * caches, not the TLB, as the kernel's own data does (the direct map uses
 * 2 MiB / 1 GiB pages).  The bytes actually backed by huge pages are read
 * from /proc/self/smaps and reported.  Physically contiguous 2 MiB pages also
 * spread the lines evenly over the sets of physically indexed caches.
 *
 * usage: chase [--cpu N] [--min-bytes B] [--max-bytes B] [--per-octave K]
 *              [--samples S] [--loads N] [--pages 2m|4k] [--attempts A]
 * prints one JSON object: {"what": "data_chase", "unit": "ns per load",
 *   "pages", "huge_page_bytes", "clock_overhead_ns", "points": [{"bytes",
 *   "lines", "ns_per_load": {trusted, value, min, p1, p10, ...}}, ...]}
 * exit: 0 every point trusted; 4 at least one point refused (all points are
 * still printed, each refused one with its reason; the reasons on stderr);
 * 3 cannot run (mmap, CPU); 2 usage.
 * Build: cc -O2 -o chase chase.c */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "robust.h"

#define LINE 64
#define HUGE (2UL << 20)

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void) { return rb_xorshift64s(&rng_state); }

void* volatile sink;

/* n loads, n a multiple of 16. */
__attribute__((noinline)) static void* run_chase(void* p, long n) {
  void** q = (void**)p;
  for (long i = 0; i < n; i += 16) {
    q = (void**)*q; q = (void**)*q; q = (void**)*q; q = (void**)*q;
    q = (void**)*q; q = (void**)*q; q = (void**)*q; q = (void**)*q;
    q = (void**)*q; q = (void**)*q; q = (void**)*q; q = (void**)*q;
    q = (void**)*q; q = (void**)*q; q = (void**)*q; q = (void**)*q;
  }
  return q;
}

/* Bytes of the mapping at addr backed by huge pages, from /proc/self/smaps. */
static long long huge_bytes(void* addr) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[512];
  int in = 0;
  long long kb = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ') && line[0] != ' ') {
      in = a <= (unsigned long)addr && (unsigned long)addr < b;
      continue;
    }
    if (in && sscanf(line, "AnonHugePages: %lld kB", &kb) == 1) break;
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

static void usage(void) {
  fprintf(stderr,
          "usage: chase [--cpu N] [--min-bytes B] [--max-bytes B] [--per-octave K] [--samples S] [--loads N] "
          "[--pages 2m|4k] [--attempts A]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  long cpu = -1, min_b = 4096, max_b = 256L << 20, per_oct = 4, nsamples = 60, loads = 4096, attempts = 3;
  int huge = 1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &cpu)) usage(); }
    else if (!strcmp(a, "--min-bytes")) { if (rb_parse_long(v, 1024, 1L << 40, &min_b)) usage(); }
    else if (!strcmp(a, "--max-bytes")) { if (rb_parse_long(v, 1024, 1L << 40, &max_b)) usage(); }
    else if (!strcmp(a, "--per-octave")) { if (rb_parse_long(v, 1, 64, &per_oct)) usage(); }
    else if (!strcmp(a, "--samples")) { if (rb_parse_long(v, 1, 100000, &nsamples)) usage(); }
    else if (!strcmp(a, "--loads")) { if (rb_parse_long(v, 16, 1L << 30, &loads)) usage(); }
    else if (!strcmp(a, "--attempts")) { if (rb_parse_long(v, 1, 100, &attempts)) usage(); }
    else if (!strcmp(a, "--pages")) {
      if (!strcmp(v, "2m")) huge = 1;
      else if (!strcmp(v, "4k")) huge = 0;
      else usage();
    } else usage();
    i++;
  }
  if (min_b > max_b) usage();
  loads = (loads + 15) / 16 * 16;
  if (rb_pin_cpu("chase", cpu)) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("chase");
  size_t len = ((size_t)max_b + HUGE - 1) / HUGE * HUGE;
  char* raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    fprintf(stderr, "chase: cannot map %zu bytes\n", len + HUGE);
    return RB_EXIT_ENV;
  }
  char* buf = (char*)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
  madvise(buf, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  memset(buf, 1, len);
  long long hb = huge_bytes(buf);
  size_t maxlines = (size_t)max_b / LINE;
  uint32_t* order = malloc(maxlines * sizeof *order);
  double* s = malloc((size_t)nsamples * sizeof *s);
  if (!order || !s) return RB_EXIT_ENV;

  double ov = rb_clock_overhead_ns();

  printf("{\"what\": \"data_chase\", \"unit\": \"ns per load\", \"method\": \"dependent loads over a random cyclic "
         "permutation of the working set's 64-byte lines; value = p10 of samples\", \"pages\": \"%s\", "
         "\"huge_page_bytes\": %lld, \"buffer_bytes\": %zu, \"loads_per_sample\": %ld, \"samples_per_point\": %ld, "
         "\"per_octave\": %ld, \"attempts_max\": %ld, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"points\": [",
         huge ? "2m" : "4k", hb, len, loads, nsamples, per_oct, attempts, cpu, ov);
  int refused = 0, npts = 0;
  double prev = 0;
  for (int k = 0;; ++k) {
    double w = (double)min_b * pow(2.0, (double)k / per_oct);
    if (w > (double)max_b * (1 + 1e-9)) break;
    size_t lines = (size_t)(w / LINE);
    if (lines < 2 || (double)lines * LINE <= prev) continue;
    prev = (double)lines * LINE;
    /* Sattolo: a single cycle through all lines. */
    for (size_t i = 0; i < lines; ++i) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; --i) {
      size_t j = rng() % i;
      uint32_t t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    /* order[] as a cycle: line i -> line order[i]. */
    for (size_t i = 0; i < lines; ++i) *(void**)(buf + (size_t)i * LINE) = buf + (size_t)order[i] * LINE;
    void* p = buf;
    long warm = (long)(2 * lines);
    if (warm > (1L << 21)) warm = 1L << 21;
    p = run_chase(p, (warm + 15) / 16 * 16);
    rb_stats st;
    int attempt;
    for (attempt = 1; attempt <= attempts; ++attempt) {
      for (long i = 0; i < nsamples; ++i) {
        double a = rb_now_ns();
        p = run_chase(p, loads);
        double b = rb_now_ns();
        s[i] = (b - a - ov) / loads;
      }
      if (rb_evaluate(s, (int)nsamples, rule, &st)) break;
      fprintf(stderr, "chase: %zu bytes: attempt %d of %ld refused: %s\n", lines * LINE, attempt, attempts, st.why);
    }
    sink = p;
    if (!st.trusted) refused++;
    if (attempt > attempts) attempt = (int)attempts;
    printf("%s\n  {\"bytes\": %zu, \"lines\": %zu, \"attempts\": %d, \"ns_per_load\": {", npts ? "," : "",
           lines * LINE, lines, attempt);
    rb_json_members(stdout, &st, rule);
    printf("}}");
    fflush(stdout);
    npts++;
  }
  printf("\n]}\n");
  return refused ? RB_EXIT_REFUSED : RB_EXIT_OK;
}
