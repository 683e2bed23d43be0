/* One-way cache-line transfer time between two CPUs: two threads pinned to
 * CPU A and CPU B take turns incrementing one shared counter, so every
 * increment needs the line from the other core's cache.  Prints the median
 * over 5 rounds, in ns.  Used by scripts/capture-trace to record what the
 * model's costs.cacheline_transfer_ns should be on this machine.
 *   linexfer CPU_A CPU_B */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) atomic_long turn;
static long rounds_n = 500000;
static int cpu_b;

static int pin(int c) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(c, &s);
  return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void* other(void* arg) {
  (void)arg;
  if (pin(cpu_b)) return (void*)1;
  for (long i = 1; i < 2 * rounds_n; i += 2) {
    while (atomic_load_explicit(&turn, memory_order_acquire) != i) {
    }
    atomic_store_explicit(&turn, i + 1, memory_order_release);
  }
  return NULL;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: linexfer CPU_A CPU_B\n");
    return 2;
  }
  int cpu_a = atoi(argv[1]);
  cpu_b = atoi(argv[2]);
  if (pin(cpu_a)) {
    fprintf(stderr, "linexfer: cannot run on CPU %d\n", cpu_a);
    return 1;
  }
  double r[5];
  for (int k = 0; k < 5; ++k) {
    atomic_store(&turn, 0);
    pthread_t t;
    struct timespec a, b;
    pthread_create(&t, NULL, other, NULL);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < 2 * rounds_n; i += 2) {
      while (atomic_load_explicit(&turn, memory_order_acquire) != i) {
      }
      atomic_store_explicit(&turn, i + 1, memory_order_release);
    }
    void* ret;
    pthread_join(t, &ret);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (ret) {
      fprintf(stderr, "linexfer: cannot run on CPU %d\n", cpu_b);
      return 1;
    }
    r[k] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (2.0 * rounds_n);
  }
  qsort(r, 5, sizeof r[0], cmp);
  printf("%.1f\n", r[2]);
  return 0;
}
