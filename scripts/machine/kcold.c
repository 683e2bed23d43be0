/* kcold: what the kernel's per-packet path costs when other code or data ran
 * since its previous run: the cache misses the simulator's cache model
 * charges, measured on the kernel's own code.
 *
 * A frame of 60 bytes (EtherType 0x88B5, broadcast: nobody listens to it, so
 * __netif_receive_skb_core drops it) is written to a plain tap this program
 * creates (run it inside a private network namespace).  Each sample is
 *
 *     write()            untimed: the whole path is now in the caches
 *     pollute(P, D)      execute P bytes of generated code (codegen.h, one
 *                        walk of a cycle of P/64 lines) and load D bytes of
 *                        data (one dependent chase over D/64 lines in random
 *                        order)
 *     t0; write(); t1    timed (CLOCK_MONOTONIC, its overhead subtracted)
 *
 * so that the timed write finds in L1i, the op cache, the branch predictors
 * and L1d/L2 whatever P and D left of its lines.  P = D = 0 is the warm
 * path.  The points are sampled round-robin, one sample of each per round,
 * so that a change of the host's state during the run shifts every point
 * alike and the differences to the warm point stay comparable.  Each point's
 * value is the 10th percentile of its samples (rule "kcold" of robust.h).
 *
 * The difference cold - warm is the cost of refetching what the polluter
 * evicted: for P between the L1i size and the L2 size, the instruction lines
 * of the path (and its branch-predictor state) come back from L2; for D
 * between L1d and L2, its data lines.  tunsim's cache model, given the
 * path's footprints, predicts these differences (tests/machine; the
 * calibration fits the per-line costs to them: docs/calibration.md).
 *
 * usage: kcold --dev NAME [--cpu N] [--rounds R] [--code B,B,...] [--data B,B,...]
 *              [--layout jump|seq] [--jumps-per-line J] [--napi]
 *   --jumps-per-line J: J more taken jumps in each line of the code polluter
 *   (codegen.h), 0-16: the same lines with J + 1 branch sites each, so that
 *   a curve over code sizes tells whether the kernel path's cost comes from
 *   its evicted instruction lines or its evicted branch-target entries.
 *   --napi: the tap is IFF_NAPI (Linux 4.15): the write goes through
 *   napi_schedule, the NET_RX softirq at local_bh_enable, tun_napi_poll and
 *   napi_gro_receive before the same drop; kernel paths the plain tap does
 *   not run, whose lines the cache model's set concentration counts.
 *   --code / --data: the polluter sizes, bytes (0 allowed); points are
 *   (0,0), (P,0) for each code size and (0,D) for each data size.
 * prints one JSON object: {"what": "kcold", "unit": "ns per write()", "points":
 *   [{"code_bytes", "data_bytes", "write_ns": {stats}, "minus_warm_ns"}]}
 * exit: 0 every point trusted; 4 at least one refused; 3 cannot run (no tap,
 * CPU, executable memory); 2 usage.
 * Build: cc -O2 -o kcold kcold.c -lm */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codegen.h"
#include "robust.h"

#define MAX_POINTS 64

static void usage(void) {
  fprintf(stderr,
          "usage: kcold --dev NAME [--cpu N] [--rounds R] [--code B,B,...] [--data B,B,...] [--layout jump|seq] [--jumps-per-line J] [--napi]\n");
  exit(RB_EXIT_USAGE);
}

static int parse_list(const char* s, long* out, int max) {
  int n = 0;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", s);
  for (char* tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    if (n >= max || rb_parse_long(tok, 0, 1L << 30, &out[n])) return -1;
    out[n] = out[n] / CG_LINE * CG_LINE;
    n++;
  }
  return n;
}

static int open_tap(const char* name, int napi) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "kcold: cannot open /dev/net/tun: %s\n", strerror(errno));
    exit(RB_EXIT_ENV);
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (napi ? IFF_NAPI : 0);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "kcold: TUNSETIFF %s failed: %s\n", name, strerror(errno));
    exit(RB_EXIT_ENV);
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    fprintf(stderr, "kcold: cannot read the flags of %s: %s\n", name, strerror(errno));
    exit(RB_EXIT_ENV);
  }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
    fprintf(stderr, "kcold: cannot bring %s up: %s\n", name, strerror(errno));
    exit(RB_EXIT_ENV);
  }
  close(s);
  return fd;
}

/* One dependent chase over `lines` data lines in random order, built once at
 * the largest size; a chase over fewer lines uses a cycle of its own. */
typedef struct {
  void** base;
  size_t lines;
} chase_t;

static int chase_build(chase_t* c, size_t lines) {
  size_t bytes = (lines * CG_LINE + CG_HUGE - 1) / CG_HUGE * CG_HUGE;
  if (!bytes) bytes = CG_HUGE;
  unsigned char* raw = mmap(NULL, bytes + CG_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return -1;
  unsigned char* b = (unsigned char*)(((uintptr_t)raw + CG_HUGE - 1) & ~(uintptr_t)(CG_HUGE - 1));
  madvise(b, bytes, MADV_HUGEPAGE);
  c->base = (void**)b;
  c->lines = lines;
  if (!lines) return 0;
  uint32_t* perm = malloc(lines * sizeof *perm);
  if (!perm) return -1;
  for (size_t i = 0; i < lines; ++i) perm[i] = (uint32_t)i;
  for (size_t i = lines - 1; i > 0; --i) {
    size_t j = cg_rng() % i;
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (size_t i = 0; i < lines; ++i)
    *(void**)(b + (size_t)i * CG_LINE) = b + (size_t)perm[i] * CG_LINE;
  free(perm);
  return 0;
}

static void* volatile chase_sink;
static void chase_walk(const chase_t* c) {
  void* p = c->base;
  for (size_t i = 0; i < c->lines; ++i) p = *(void**)p;
  chase_sink = p;
}

int main(int argc, char** argv) {
  const char* dev = NULL;
  long cpu = -1, rounds = 4000;
  long code_sz[MAX_POINTS], data_sz[MAX_POINTS];
  int ncode = 0, ndata = 0, seq = 0, napi = 0;
  {
    const char* dc = "8192,16384,24576,32768,40960,49152,65536,98304,131072,262144";
    const char* dd = "16384,32768,49152,65536,98304,131072,262144";
    ncode = parse_list(dc, code_sz, MAX_POINTS);
    ndata = parse_list(dd, data_sz, MAX_POINTS);
  }
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--napi")) {
      napi = 1;
      continue;
    }
    if (!v) usage();
    if (!strcmp(a, "--dev")) dev = v;
    else if (!strcmp(a, "--jumps-per-line")) {
      long j;
      if (rb_parse_long(v, 0, 16, &j)) usage();
      cg_extra_jumps = (int)j;
    }
    else if (!strcmp(a, "--cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &cpu)) usage(); }
    else if (!strcmp(a, "--rounds")) { if (rb_parse_long(v, 1, 10000000, &rounds)) usage(); }
    else if (!strcmp(a, "--code")) { if ((ncode = parse_list(v, code_sz, MAX_POINTS / 2)) < 0) usage(); }
    else if (!strcmp(a, "--data")) { if ((ndata = parse_list(v, data_sz, MAX_POINTS / 2)) < 0) usage(); }
    else if (!strcmp(a, "--layout")) {
      if (!strcmp(v, "jump")) seq = 0;
      else if (!strcmp(v, "seq")) seq = 1;
      else usage();
    } else usage();
    i++;
  }
  if (!dev) usage();
  if (rb_pin_cpu("kcold", cpu)) return RB_EXIT_ENV;
  /* Points: warm, then code-only, then data-only. */
  int np = 0;
  long pc[MAX_POINTS + 1], pd[MAX_POINTS + 1];
  pc[np] = 0, pd[np] = 0, np++;
  for (int i = 0; i < ncode; ++i)
    if (code_sz[i] > 0) pc[np] = code_sz[i], pd[np] = 0, np++;
  for (int i = 0; i < ndata; ++i)
    if (data_sz[i] > 0) pc[np] = 0, pd[np] = data_sz[i], np++;
  long max_code = CG_LINE * 2, max_data = 0;
  for (int i = 0; i < np; ++i) {
    if (pc[i] > max_code) max_code = pc[i];
    if (pd[i] > max_data) max_data = pd[i];
  }
  /* One code mapping and one data mapping per point (each point its own cycle). */
  cg_code* code = calloc((size_t)np, sizeof *code);
  chase_t* data = calloc((size_t)np, sizeof *data);
  if (!code || !data) return RB_EXIT_ENV;
  for (int i = 0; i < np; ++i) {
    if (pc[i] > 0) {
      int r = cg_map(&code[i], (size_t)pc[i]);
      if (r == 0) r = cg_build(&code[i], (size_t)pc[i] / CG_LINE, seq);
      if (r) {
        fprintf(stderr, "kcold: cannot map executable memory (%s)\n", r == -2 ? "PROT_EXEC refused" : "mmap");
        return RB_EXIT_ENV;
      }
    }
    if (pd[i] > 0 && chase_build(&data[i], (size_t)pd[i] / CG_LINE)) {
      fprintf(stderr, "kcold: cannot map %ld bytes of data\n", pd[i]);
      return RB_EXIT_ENV;
    }
  }
  int fd = open_tap(dev, napi);
  unsigned char frame[60];
  memset(frame, 0, sizeof frame);
  memset(frame, 0xff, 6);
  static const unsigned char src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  memcpy(frame + 6, src, 6);
  frame[12] = 0x88;
  frame[13] = 0xB5;
  double ov = rb_clock_overhead_ns();
  double* s = malloc((size_t)np * (size_t)rounds * sizeof *s);
  if (!s) return RB_EXIT_ENV;
  /* Warm-up: every polluter and the path run a few hundred times. */
  for (long r = -200; r < rounds; ++r) {
    for (int i = 0; i < np; ++i) {
      if (write(fd, frame, sizeof frame) != (ssize_t)sizeof frame) {
        fprintf(stderr, "kcold: write to %s failed: %s\n", dev, strerror(errno));
        return RB_EXIT_ENV;
      }
      if (pc[i] > 0) cg_walk(&code[i], (long)code[i].lines, seq);
      if (pd[i] > 0) chase_walk(&data[i]);
      double a = rb_now_ns();
      ssize_t w = write(fd, frame, sizeof frame);
      double b = rb_now_ns();
      if (w != (ssize_t)sizeof frame) {
        fprintf(stderr, "kcold: write to %s failed: %s\n", dev, strerror(errno));
        return RB_EXIT_ENV;
      }
      if (r >= 0) s[(size_t)i * (size_t)rounds + (size_t)r] = b - a - ov;
    }
  }
  const rb_rule* rule = rb_rule_named("kcold");
  rb_stats* st = calloc((size_t)np, sizeof *st);
  int refused = 0;
  for (int i = 0; i < np; ++i) {
    if (!rb_evaluate(s + (size_t)i * (size_t)rounds, (int)rounds, rule, &st[i])) {
      refused++;
      fprintf(stderr, "kcold: code %ld, data %ld bytes: refused: %s\n", pc[i], pd[i], st[i].why);
    }
  }
  printf("{\"what\": \"kcold\", \"unit\": \"ns per write()\", \"layout\": \"%s\", \"tap\": \"%s\", \"branch_sites_per_line\": %d, "
         "\"method\": \"write() of a 60-byte frame to a tap (dropped: EtherType 0x88B5), timed after an untimed write() and one walk of P bytes "
         "of generated code and a chase over D bytes of data; points sampled round-robin; value = p10\", "
         "\"rounds\": %ld, \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"code_huge_page_bytes\": %lld, \"points\": [",
         seq ? "seq" : "jump", napi ? "IFF_NAPI" : "plain", cg_extra_jumps + 1, rounds, cpu, ov, np > 1 && pc[1] > 0 ? cg_huge_bytes(code[1].code) : -1LL);
  for (int i = 0; i < np; ++i) {
    printf("%s\n  {\"code_bytes\": %ld, \"data_bytes\": %ld, \"minus_warm_ns\": %.2f, \"write_ns\": {", i ? "," : "",
           pc[i], pd[i], st[i].value - st[0].value);
    rb_json_members(stdout, &st[i], rule);
    printf("}}");
  }
  printf("\n]}\n");
  close(fd);
  return refused ? RB_EXIT_REFUSED : RB_EXIT_OK;
}
