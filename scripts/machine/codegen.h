/* codegen.h: generated x86-64 code that walks a cycle of 64-byte lines, for the
 * instruction-side microbenchmarks (icache.c, kcold.c).
 *
 * The code lives in an anonymous mapping aligned to 2 MiB (MADV_HUGEPAGE, as
 * the kernel's text is mapped).  Its first line is the entry trampoline
 * `mov rcx, rdi; jmp rsi` with the exit `ret` at offset 32; every other line
 * holds `dec rcx; jz exit; jmp next` (14 bytes, the rest int3).  Calling
 * entry(n, line) executes n lines from `line` on, following the cycle.
 *
 *   jump layout: the lines form one random cycle (Sattolo, fixed seed), so
 *                every line is reached by a taken jump to an unpredictable
 *                place and no prefetcher helps;
 *   seq layout:  each line jumps to the next one in memory (the last back to
 *                the first).
 *
 * cg_extra_jumps (default 0) puts that many more taken jumps at the start of
 * each line (`jmp +1` over an int3, 3 bytes each, at most 16): the same lines
 * with more branch sites, which tells the branch-target buffers' capacity
 * from the L1i's (kcold --jumps-per-line).
 */
#ifndef TUNSIM_CODEGEN_H
#define TUNSIM_CODEGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "robust.h"

#define CG_LINE 64
#define CG_HUGE (2UL << 20)
#define CG_EXIT_OFF 32

typedef void (*cg_entry_fn)(long n, void* start);

typedef struct {
  unsigned char* code; /* 2 MiB aligned; line 0 is the trampoline */
  size_t len;          /* bytes mapped from code on */
  uint32_t* order;     /* order[i]: the line executed after line i (0 = the first after the trampoline) */
  size_t lines;        /* lines in the current cycle */
  size_t pos;          /* the line the next walk starts at */
} cg_code;

static uint64_t cg_rng_state = 0x2545F4914F6CDD1DULL;
static int cg_extra_jumps = 0;
static inline uint64_t cg_rng(void) { return rb_xorshift64s(&cg_rng_state); }

static inline void cg_put32(unsigned char* p, int32_t v) { memcpy(p, &v, 4); }

/* Maps room for max_bytes of lines.  Returns 0, or -1 (mmap failed) or -2
 * (no executable anonymous memory). */
static inline int cg_map(cg_code* c, size_t max_bytes) {
  memset(c, 0, sizeof *c);
  size_t len = (max_bytes + CG_LINE + CG_HUGE - 1) / CG_HUGE * CG_HUGE;
  unsigned char* raw = mmap(NULL, len + CG_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return -1;
  c->code = (unsigned char*)(((uintptr_t)raw + CG_HUGE - 1) & ~(uintptr_t)(CG_HUGE - 1));
  c->len = len;
  madvise(c->code, len, MADV_HUGEPAGE);
  memset(c->code, 0xCC, len);
  if (mprotect(c->code, len, PROT_READ | PROT_EXEC)) return -2;
  c->order = (uint32_t*)malloc((max_bytes / CG_LINE + 1) * sizeof *c->order);
  return c->order ? 0 : -1;
}

/* `dec rcx; jz exit` at p (9 bytes). */
static inline unsigned char* cg_count_and_exit(unsigned char* code, unsigned char* p) {
  p[0] = 0x48, p[1] = 0xFF, p[2] = 0xC9;
  p[3] = 0x0F, p[4] = 0x84;
  cg_put32(p + 5, (int32_t)((code + CG_EXIT_OFF) - (p + 9)));
  return p + 9;
}

static inline unsigned char* cg_jmp_to(unsigned char* p, unsigned char* target) {
  p[0] = 0xE9;
  cg_put32(p + 1, (int32_t)(target - (p + 5)));
  return p + 5;
}

/* Writes a cycle of `lines` lines in the given layout.  Returns 0 or -2. */
static inline int cg_build(cg_code* c, size_t lines, int seq) {
  if (mprotect(c->code, c->len, PROT_READ | PROT_WRITE)) return -2;
  unsigned char* code = c->code;
  memset(code, 0xCC, CG_LINE);
  static const unsigned char tramp[] = {0x48, 0x89, 0xF9, 0xFF, 0xE6};
  memcpy(code, tramp, sizeof tramp);
  code[CG_EXIT_OFF] = 0xC3;
  unsigned char* first_line = code + CG_LINE;
  uint32_t* order = c->order;
  if (seq) {
    for (size_t i = 0; i < lines; ++i) order[i] = (uint32_t)((i + 1) % lines);
  } else {
    for (size_t i = 0; i < lines; ++i) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; --i) { /* Sattolo: one cycle */
      size_t j = cg_rng() % i;
      uint32_t t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
  for (size_t i = 0; i < lines; ++i) {
    unsigned char* l = first_line + i * CG_LINE;
    memset(l, 0xCC, CG_LINE);
    unsigned char* p = l;
    for (int k = 0; k < cg_extra_jumps && k < 16; ++k, p += 3) p[0] = 0xEB, p[1] = 0x01; /* jmp +1; int3 */
    p = cg_count_and_exit(code, p);
    cg_jmp_to(p, first_line + (size_t)order[i] * CG_LINE);
  }
  if (mprotect(c->code, c->len, PROT_READ | PROT_EXEC)) return -2;
  c->lines = lines;
  c->pos = 0;
  return 0;
}

/* Advances the position by n lines without executing them (after a timed
 * call of the entry made by the caller). */
static inline void cg_walk_skip(cg_code* c, long n, int seq) {
  if (seq)
    c->pos = (c->pos + (size_t)n) % c->lines;
  else
    for (long i = 0; i < n; ++i) c->pos = c->order[c->pos];
}

/* Executes n lines from the current position and advances it. */
static inline void cg_walk(cg_code* c, long n, int seq) {
  ((cg_entry_fn)(void*)c->code)(n, c->code + CG_LINE + c->pos * CG_LINE);
  cg_walk_skip(c, n, seq);
}

/* Bytes of the mapping at addr backed by huge pages (/proc/self/smaps), -1 if unknown. */
static inline long long cg_huge_bytes(void* addr) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[512];
  int in = 0;
  long long kb = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (line[0] != ' ' && sscanf(line, "%lx-%lx ", &a, &b) == 2) {
      in = a <= (unsigned long)addr && (unsigned long)addr < b;
      continue;
    }
    if (in && sscanf(line, "AnonHugePages: %lld kB", &kb) == 1) break;
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

#endif
