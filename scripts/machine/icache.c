/* icache: instruction-fetch cost per 64-byte line of code against code size.
 *
 * Generates x86-64 machine code into an anonymous mapping (2 MiB pages with
 * MADV_HUGEPAGE, as the kernel's text is mapped) and executes it, timing many
 * short samples.  Two layouts, each a cycle over all the code's lines:
 *
 *   jump:  the lines are visited in a random cyclic order (Sattolo, fixed
 *          seed); each line holds `dec rcx; jz exit; jmp next_line` (14
 *          bytes, the rest int3).  Every line is reached by a taken jump to an
 *          unpredictable address, so the next-line prefetcher cannot help: the
 *          curve is the full cost of fetching a line from wherever it lives
 *          (plus the branch-target-buffer misses of as many jumps).
 *   seq:   the same three instructions per line, but each line jumps to
 *          the next one in memory (the last back to the first): sequential
 *          fetch, so the next-line prefetcher hides part of each miss, with
 *          the same instruction count as `jump`.  (A first version filled
 *          the lines with long NOPs; decoding 9 instructions per line made
 *          each sample depend on what the host ran on the sibling
 *          hyperthread, 0.42-0.60 ns per line at 4 KiB, and the rule refused
 *          it.)
 *
 * Kernel code lies between the two: runs of sequential lines inside a
 * function, jumps between functions.  A sample executes about TARGET_US
 * (100) microseconds of lines, estimated from one walk of the cycle after
 * the warm-up, and at least 1024 lines; while a whole walk of the cycle
 * takes at most 5 * TARGET_US it executes at least that walk, so that at a
 * cache's edge every sample sees the same mix of hits and misses.  Samples
 * stay far shorter than a scheduler slice (~3 ms), so a sample during which
 * the thread was preempted is several times slower, not a few percent.
 * `dec rcx` counts the lines, and a sample starts at the line after the
 * previous sample's last.  It is timed with CLOCK_MONOTONIC (the minimum of
 * 1000 back-to-back reads subtracted); the sample is ns per
 * line.  Each point's value is the 10th percentile of SAMPLES samples,
 * trusted by rule "icache" of robust.h; a refused point is sampled again, up
 * to ATTEMPTS times in all, and stays refused if every attempt was.  Warm-up:
 * max(2 traversals, 2^18 lines), at most 2^22 lines.
 *
 * usage: icache [--cpu N] [--layout jump|seq] [--min-bytes B] [--max-bytes B]
 *               [--per-octave K] [--samples S] [--target-us T] [--attempts A]
 *               [--jumps-per-line J]
 *   --jumps-per-line J: J more taken jumps at the start of each line
 *   (codegen.h, 0-16): J + 1 branch sites a line, so that the branch-target
 *   buffers fill at 1 / (J + 1) of the code size that fills them with J = 0,
 *   while the L1i and L2 edges stay where they are.
 * prints one JSON object: {"what": "icache_<layout>", "unit": "ns per line",
 *   "points": [{"bytes", "lines", "ns_per_line": {trusted, value, ...}}]}
 * exit: 0 every point trusted; 4 at least one refused (reasons on stderr and
 * in the points); 3 cannot run (no executable memory, CPU); 2 usage.
 * Build: cc -O2 -o icache icache.c -lm */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "robust.h"

#include "codegen.h"

#define LINE CG_LINE

static void usage(void) {
  fprintf(stderr,
          "usage: icache [--cpu N] [--layout jump|seq] [--min-bytes B] [--max-bytes B] [--per-octave K] "
          "[--samples S] [--target-us T] [--attempts A] [--jumps-per-line J]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  long cpu = -1, min_b = 4096, max_b = 16L << 20, per_oct = 4, nsamples = 60, target_us = 100, min_lines = 1024,
       attempts = 3;
  int seq = 0;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &cpu)) usage(); }
    else if (!strcmp(a, "--min-bytes")) { if (rb_parse_long(v, 2 * LINE, 1L << 30, &min_b)) usage(); }
    else if (!strcmp(a, "--max-bytes")) { if (rb_parse_long(v, 2 * LINE, 1L << 30, &max_b)) usage(); }
    else if (!strcmp(a, "--per-octave")) { if (rb_parse_long(v, 1, 64, &per_oct)) usage(); }
    else if (!strcmp(a, "--samples")) { if (rb_parse_long(v, 1, 100000, &nsamples)) usage(); }
    else if (!strcmp(a, "--target-us")) { if (rb_parse_long(v, 1, 1000000, &target_us)) usage(); }
    else if (!strcmp(a, "--attempts")) { if (rb_parse_long(v, 1, 100, &attempts)) usage(); }
    else if (!strcmp(a, "--jumps-per-line")) {
      long j;
      if (rb_parse_long(v, 0, 16, &j)) usage();
      cg_extra_jumps = (int)j;
    }
    else if (!strcmp(a, "--layout")) {
      if (!strcmp(v, "jump")) seq = 0;
      else if (!strcmp(v, "seq")) seq = 1;
      else usage();
    } else usage();
    i++;
  }
  if (min_b > max_b) usage();
  if (rb_pin_cpu("icache", cpu)) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("icache");
  /* One line for the entry, then the code's lines. */
  cg_code cg;
  int mr = cg_map(&cg, (size_t)max_b);
  if (mr == -1) {
    fprintf(stderr, "icache: cannot map %ld bytes\n", max_b);
    return RB_EXIT_ENV;
  }
  if (mr == -2) {
    fprintf(stderr, "icache: the kernel refuses executable anonymous memory (mprotect PROT_EXEC)\n");
    return RB_EXIT_ENV;
  }
  long long hb = cg_huge_bytes(cg.code);
  double* s = malloc((size_t)nsamples * sizeof *s);
  if (!s) return RB_EXIT_ENV;
  double ov = rb_clock_overhead_ns();

  printf("{\"what\": \"icache_%s\", \"unit\": \"ns per line\", \"layout\": \"%s\", \"method\": \"%s\", "
         "\"huge_page_bytes\": %lld, \"target_us_per_sample\": %ld, \"samples_per_point\": %ld, \"per_octave\": %ld, "
         "\"attempts_max\": %ld, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"branch_sites_per_line\": %d, \"points\": [",
         seq ? "seq" : "jump", seq ? "seq" : "jump",
         seq ? "64-byte lines visited in address order, each dec rcx; jz exit; jmp next; value = p10 of samples"
             : "64-byte lines visited in a random cyclic order, each dec rcx; jz exit; jmp next; value = p10 of "
               "samples",
         hb, target_us, nsamples, per_oct, attempts, cpu, ov, cg_extra_jumps + 1);
  int refused = 0, npts = 0;
  double prev = 0;
  for (int k = 0;; ++k) {
    double w = (double)min_b * pow(2.0, (double)k / per_oct);
    if (w > (double)max_b * (1 + 1e-9)) break;
    size_t lines = (size_t)(w / LINE);
    if (lines < 2 || (double)lines * LINE <= prev) continue;
    prev = (double)lines * LINE;
    if (cg_build(&cg, lines, seq)) return RB_EXIT_ENV;
    /* cg.pos: the line the next run starts at (the one after the last line
     * the previous run executed), so the walk goes round the whole cycle. */
    long warm = (long)(2 * lines);
    if (warm < (1L << 18)) warm = 1L << 18;
    if (warm > (1L << 22)) warm = 1L << 22;
    cg_walk(&cg, warm, seq);
    /* Lines per sample: about TARGET_US of work, and at least the whole
     * cycle while that takes at most 5 * TARGET_US (see the header). */
    double t0 = rb_now_ns();
    ((cg_entry_fn)(void*)cg.code)((long)lines, cg.code + LINE + cg.pos * LINE);
    double est = (rb_now_ns() - t0 - ov) / lines; /* ns per line, one walk */
    if (!(est > 0.01)) est = 0.01;
    long n_line = (long)(target_us * 1000 / est);
    if ((double)lines * est <= 5 * target_us * 1000 && n_line < (long)lines) n_line = (long)lines;
    if (n_line < min_lines) n_line = min_lines;
    rb_stats st;
    int attempt;
    for (attempt = 1; attempt <= attempts; ++attempt) {
      for (long i = 0; i < nsamples; ++i) {
        double a = rb_now_ns();
        ((cg_entry_fn)(void*)cg.code)(n_line, cg.code + LINE + cg.pos * LINE);
        double b = rb_now_ns();
        s[i] = (b - a - ov) / n_line;
        cg_walk_skip(&cg, n_line, seq);
      }
      if (rb_evaluate(s, (int)nsamples, rule, &st)) break;
      fprintf(stderr, "icache %s: %zu bytes: attempt %d of %ld refused: %s\n", seq ? "seq" : "jump", lines * LINE,
              attempt, attempts, st.why);
    }
    if (!st.trusted) refused++;
    if (attempt > attempts) attempt = (int)attempts;
    printf("%s\n  {\"bytes\": %zu, \"lines\": %zu, \"lines_per_sample\": %ld, \"attempts\": %d, "
           "\"ns_per_line\": {",
           npts ? "," : "", lines * LINE, lines, n_line, attempt);
    rb_json_members(stdout, &st, rule);
    printf("}}");
    fflush(stdout);
    npts++;
  }
  printf("\n]}\n");
  return refused ? RB_EXIT_REFUSED : RB_EXIT_OK;
}
